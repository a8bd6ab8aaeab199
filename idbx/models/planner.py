"""What a build does, decided without touching data (pure: no DuckDB, no lake).

`plan_build` lays the chosen models out in build order, each with the executor that makes it
(view, table, partitions by day, merge by key), what it reads with views seen through, which of
those a merged model reads filtered to its keys, and which key columns of its changed rows the
merged models above need. The `decide_*` functions then say, from what the last build recorded
and what the lake holds now, whether a model is kept, recomputed whole, or recomputed for some
event days or some keys, and why. The executors (idbx/models/executors.py) carry that out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from idbx.models import incremental, settings
from idbx.models.project import Model, Project

if TYPE_CHECKING:
    from idbx.models.state import EventFile

VIEW = "view"  # bound inside the build when a model reading it is built
TABLE = "table"  # one file, written whole
PARTITIONS = "partitions"  # one file per day, the days new log files hold recomputed
MERGE = "merge"  # one file, the keys whose input rows changed recomputed


@dataclass(frozen=True)
class Step:
    model: Model
    executor: str
    reads: tuple[str, ...]  # stored models and lake sources, views seen through
    keyed: tuple[str, ...] = ()  # merge: the inputs read filtered to the keys recomputed
    views_between: tuple[str, ...] = ()  # merge: the views it reads through, whose definitions it depends on
    keys_wanted: tuple[str, ...] = ()  # the columns by which merged readers need its changed rows
    content_hashed: bool = False  # a table read whole by a merged model: compared by its rows
    rows_by: str = ""  # partitions: the rows new files recompute of their days (project.rows_by), else whole days
    refused: str = ""  # why it cannot be built (the build fails it, naming this)

    @property
    def name(self) -> str:
        return self.model.name


@dataclass(frozen=True)
class BuildPlan:
    steps: tuple[Step, ...]
    upstream: dict[str, frozenset[str]] = field(default_factory=dict)  # every model each step reads

    @property
    def merged(self) -> list[str]:
        return [step.name for step in self.steps if step.executor == MERGE]


def plan_build(project: Project, chosen: list[Model]) -> BuildPlan:
    """The chosen models (in the project's dependency order) and how each is made."""
    steps = tuple(_step(project, model) for model in chosen)
    return BuildPlan(steps, {model.name: frozenset(project.upstream(model.name)) for model in chosen})


def reads(project: Project, model: Model) -> list[str]:
    """What a model reads, views seen through: stored models and lake sources."""
    found: set[str] = set()
    for ref in model.refs:
        upstream = project.models.get(ref)
        found |= set(reads(project, upstream)) if upstream and upstream.materialized == settings.VIEW else {ref}
    return sorted(found)


def is_keyed(project: Project, model: Model, ref: str) -> bool:
    """Whether merged `model` reads `ref` by key: a stored model with every merge_by column."""
    upstream = project.models.get(ref)
    return upstream is not None and upstream.materialized != settings.VIEW and set(model.merge_by) <= set(upstream.columns)


def _merge_readers(project: Project, name: str) -> list[Model]:
    return [model for model in project.models.values() if model.merge_by and name in reads(project, model)]


def _step(project: Project, model: Model) -> Step:
    read = tuple(reads(project, model))
    readers = _merge_readers(project, model.name)
    wanted = {column for reader in readers if is_keyed(project, reader, model.name) for column in reader.merge_by}
    keys_wanted = tuple(column for column in model.columns if column in wanted)
    if model.materialized == settings.VIEW:
        return Step(model, VIEW, read)
    if model.merge_by:
        views = tuple(sorted(name for name in project.upstream(model.name) if project.models[name].materialized == settings.VIEW))
        keyed = tuple(ref for ref in read if is_keyed(project, model, ref))
        return Step(model, MERGE, read, keyed=keyed, views_between=views, keys_wanted=keys_wanted)
    if model.materialized == settings.INCREMENTAL:
        return Step(
            model,
            PARTITIONS,
            read,
            keys_wanted=keys_wanted,
            rows_by=project.rows_by.get(model.name, ""),
            refused=_incremental_refusal(project, model),
        )
    content = any(set(model.grain) <= set(reader.merge_by) for reader in readers)
    return Step(model, TABLE, read, keys_wanted=keys_wanted, content_hashed=content)


def _incremental_refusal(project: Project, model: Model) -> str:
    """An incremental model may read only the events (through views): its days must depend on
    nothing but the events of those days."""
    tables = [name for name in project.upstream(model.name) if project.models[name].materialized != settings.VIEW]
    others = sorted(tables + list(project.sources(model.name) - {settings.EVENTS_SOURCE}))
    return f"an incremental model may read only the events through views, not {', '.join(others)}" if others else ""


# -- decisions, from what the last build left and what the lake holds now ----------------------


@dataclass(frozen=True)
class Decision:
    """Keep the output, or recompute it: whole (`days` and `keys_from` None), for some event
    days, or for the keys whose rows changed in `keys_from`."""

    recompute: bool
    why: str
    days: frozenset[str] | None = None
    files: tuple[str, ...] = ()  # partitions: the event files to read
    added: tuple[str, ...] | None = None  # partitions: the new files, when no other file changed
    keys_from: tuple[str, ...] | None = None  # merge: the inputs whose changed keys are recomputed


def _whole_because(full_refresh: bool, previous_fingerprint: str | None, fingerprint: str, output_exists: bool) -> str:
    if full_refresh:
        return "full refresh"
    if previous_fingerprint is None:
        return "not built before"
    if previous_fingerprint != fingerprint:
        return "its definition or inputs changed"
    if not output_exists:
        return "its output is missing"
    return ""


def decide_table(full_refresh: bool, previous_fingerprint: str | None, fingerprint: str, output_exists: bool) -> Decision:
    why = _whole_because(full_refresh, previous_fingerprint, fingerprint, output_exists)
    return Decision(True, why) if why else Decision(False, "nothing it reads changed")


def decide_days(
    partition_by: str,
    full_refresh: bool,
    previous_fingerprint: str | None,
    previous_files: dict[str, EventFile],
    definition: str,
    output_exists: bool,
    now: dict[str, EventFile],
) -> Decision:
    """Every day, the days new, changed or removed log files hold, or none."""
    why = _whole_because(full_refresh, previous_fingerprint, definition, output_exists)
    if why:
        return Decision(True, f"every day: {why}", files=tuple(now))
    days = incremental.affected_days(partition_by, previous_files, now)
    if not days:
        return Decision(False, "no log file new, changed or removed")
    files = incremental.files_holding(partition_by, now, days)
    return Decision(
        True,
        f"{len(days)} day(s) that new, changed or removed log files hold",
        frozenset(days),
        tuple(files),
        added=incremental.added_files(previous_files, now),
    )


def decide_merge(
    step: Step,
    full_refresh: bool,
    previous_fingerprint: str | None,
    previous_inputs: dict[str, str],
    definition: str,
    output_exists: bool,
    inputs: dict[str, str],
    change_keys: dict[str, tuple[str, ...]],
) -> Decision:
    """By key when every input that changed is keyed and says which keys changed (`change_keys`:
    the key columns each model's changed rows are known by in this build); else whole."""
    why = _whole_because(full_refresh, previous_fingerprint, definition, output_exists)
    if why:
        return Decision(True, f"whole: {why}")
    changed = tuple(ref for ref, fingerprint in inputs.items() if previous_inputs.get(ref) != fingerprint)
    if not changed:
        return Decision(False, "no input changed")
    merge_by = set(step.model.merge_by)
    unknown = [ref for ref in changed if ref not in step.keyed or not merge_by <= set(change_keys.get(ref, ()))]
    if unknown:
        return Decision(True, f"whole: {', '.join(unknown)} changed, not known by key")
    return Decision(True, f"by key: the keys whose rows changed in {', '.join(changed)}", keys_from=changed)
