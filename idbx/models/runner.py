"""`idbx build`: the SQL models of `idbx/sql/` built in dependency order into the lake, those
that do not read each other side by side (schedule.py, lanes.py).

The planner (planner.py) lays out the models and decides, without reading data, what each one
needs; one executor per materialization (executors.py) carries it out on the build's DuckDB
session (session.py: the lake's sources and the models as views, the pseudonym and model
functions as macros). A model to build is first bound as a view of its SQL (a missing table or
column fails there, naming the file, before anything is written), then:

* a model whose inputs and definitions did not change since it was built is left as it is;
* `table` models are written whole; `view` models exist only inside the build;
* `incremental` models partitioned by day (the event aggregates) are recomputed only for the days
  that new, changed or removed log files hold; a changed definition, a new key or
  `--full-refresh` recomputes every day;
* `incremental` models merged by key (the per-learner ones) are recomputed only for the keys
  (course and learner) whose rows changed in the models they read, read filtered to those keys,
  and merged with the rows they keep into a new output; when anything else they read changed, or
  what changed is not known by key, they are recomputed whole.

Each output is checked before it is moved into place (checks.py: its grain unique, its not_null
and accepted_values columns as declared). A model that fails, or fails a check, is reported with
its file and the message; the models that read it are skipped; the others are still built. The
catalog is refreshed when an output changed and its views would change with it (a new output,
other columns), or when lake files are newer than it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from idbx import engine
from idbx.errors import CatalogError, ConfigError, IdbxError, Interrupted
from idbx.lake import atomic, catalog, seals
from idbx.lake.store import Lake
from idbx.lake.upgrade import upgrade_event_files
from idbx.models import checks, planner, settings, sources, writer
from idbx.models.executors import Executors
from idbx.models.inputs import BuildInputs
from idbx.models.outcome import BUILT, FAILED, SKIPPED, UNCHANGED, VIEW, BuildSummary, ModelCallback, ModelOutcome
from idbx.models.planner import Step
from idbx.models.project import Model, Project, read_project
from idbx.models.schedule import build_side_by_side
from idbx.models.session import DuckSession
from idbx.models.state import BuildState, build_lock, landed_sources, record_complete_build
from idbx.privacy import pseudonym
from idbx.quoting import quote_ident
from idbx.registry import load_registry

__all__ = [
    "BUILT",
    "FAILED",
    "SKIPPED",
    "UNCHANGED",
    "VIEW",
    "BuildSummary",
    "ModelCallback",
    "ModelOutcome",
    "build",
    "describe",
]


def build(
    lake: Lake,
    select: list[str] | None = None,
    full_refresh: bool = False,
    registry_path: Path | None = None,
    key: str | None = None,
    on_model: ModelCallback | None = None,
    on_plan: Callable[[int], None] | None = None,
    project: Project | None = None,
    rekey: bool = False,
) -> BuildSummary:
    """Build the models (all, or the selected ones and what they read) and refresh the catalog.

    Refused before anything is written when the pseudonym key is missing or is not the one the
    lake was built with (unless `rekey`: every learner id is then rebuilt under the new key), the
    registry is invalid, a model file is malformed or a selected name is unknown.
    """
    started = time.monotonic()
    key_bytes = pseudonym.resolve_key(key)
    lanes = settings.build_lanes()
    registry = load_registry(registry_path)
    lake.require()
    with build_lock(lake):
        rekeyed = check_key(lake, state := BuildState.load(lake), key_bytes, rekey)
        upgraded = upgrade_event_files(lake)
        landed = landed_sources(lake.manifest_records())
        project = project or read_project(parsed=state.parsed)
        chosen = project.selection(select)
        if on_plan:
            on_plan(len(chosen))
        removed = remove_former_outputs(lake, project, state)
        with lake.scratch() as scratch:
            sources.write_registry_seed(lake, registry)
            con = engine.connect(scratch, memory_limit=settings.memory_limit())
            try:
                summary = _Build(lake, con, project, state, key_bytes, full_refresh).run(chosen, on_model, lanes)
            finally:
                con.close()
    summary.removed_outputs = removed
    try:
        if (
            not lake.catalog_path.exists()
            or removed
            or (
                any(outcome.status == BUILT for outcome in summary.models)
                # Lake files newer than the catalog (an ingestion whose refresh failed), or views a
                # refresh would change: refresh; else the views read the rewritten files as they are.
                and (
                    lake.catalog_path.stat().st_mtime_ns < summary.sources_modified
                    or not catalog.is_current(lake, summary.built_columns)
                )
            )
        ):
            catalog.refresh(lake)
    except CatalogError as exc:
        summary.catalog_error = catalog_kept(exc)
    summary.upgraded_event_files = upgraded
    return finish(lake, summary, select, landed, started, rekeyed)


def remove_former_outputs(lake: Lake, project: Project, state: BuildState) -> list[str]:
    """The outputs under silver/ and marts/ of models the project no longer stores there (renamed,
    removed, or made views), and their build state: the catalog would keep showing their last rows.
    Derived from bronze, so nothing is lost; returns their names."""
    stored = {(model.output_folder, name) for name, model in project.models.items() if model.materialized != settings.VIEW}
    removed = []
    for layer in sorted(set(settings.LAYER_OUTPUT.values())):
        folder = lake.root / layer
        if not folder.is_dir():
            continue
        for output in sorted(path for path in folder.iterdir() if path.is_dir() and not path.name.startswith(".")):
            if (layer, output.name) not in stored:
                atomic.remove(output)
                state.models.pop(output.name, None)
                removed.append(output.name)
    return removed


def catalog_kept(exc: Exception) -> str:
    return f"the catalog could not be refreshed (it keeps its previous views): {exc}"


def finish(lake: Lake, summary: BuildSummary, select, landed, started: float, rekeyed: int | None) -> BuildSummary:
    """Either engine's last step: a whole build that failed nowhere is recorded complete (what the
    chaining of sync and build reads), and the summary timed."""
    if not select and not summary.failed and not summary.catalog_error:
        record_complete_build(lake, landed)
    summary.seconds = time.monotonic() - started
    summary.rekeyed_learners = rekeyed
    return summary


def check_key(lake: Lake, state: BuildState, key: bytes, rekey: bool) -> int | None:
    """Another pseudonym key than the last build's would silently give every learner a new id
    (and the next publish would rewrite every learner document): refused unless `rekey`. Returns
    how many learner ids a rekey replaces, None when the key is the same."""
    fingerprint = pseudonym.key_fingerprint(key)
    if state.key_fingerprint in (None, fingerprint):
        return None
    if not rekey:
        raise ConfigError(
            f"{lake.root} was built with another {pseudonym.KEY_ENV} (fingerprint {state.key_fingerprint}, this key's "
            f"{fingerprint}): every learner_id would change; use the key it was built with, or rebuild every learner id "
            "under this one with `idbx build --rekey`"
        )
    previous = catalog.model_output_scan(lake.marts / settings.LEARNER_MART)
    if previous is None:
        return 0
    with duckdb.connect() as con:
        return con.execute(f"SELECT count(DISTINCT learner_id) FROM ({previous})").fetchall()[0][0]


class _Build:
    """A DuckDB build: the plan's steps run by the executors, then what every stored model shares
    (its output read by the models above, its seal, its row count and flags)."""

    def __init__(
        self, lake: Lake, con: duckdb.DuckDBPyConnection, project: Project, state: BuildState, key: bytes, full_refresh: bool
    ):
        self.lake = lake
        self.project = project
        self.state = state
        self.key_fingerprint = pseudonym.key_fingerprint(key)
        computed_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        self.session = DuckSession(lake, con, project, key, computed_at)
        self.inputs = BuildInputs(
            lake, self.session.con, project, state, self.key_fingerprint, self.session.country_database.fingerprint
        )
        self.executors = Executors(lake, self.session, self.inputs, state, full_refresh)
        self.built_columns: dict[str, list[tuple[str, str]]] = {}  # outputs written: columns and types
        self.output_seals = seals.read_output_seals(lake)

    def run(self, chosen: list[Model], on_model: ModelCallback | None, lanes: int) -> BuildSummary:
        plan = planner.plan_build(self.project, chosen)
        # A build stopped after the rows a merged model reads were rewritten, and before the model
        # was, would leave it not knowing which keys changed: until this build ends, the lake's
        # state says these models must be recomputed whole.
        self.executors.merged_before = {name: self.state.models.pop(name) for name in plan.merged if name in self.state.models}
        if self.executors.merged_before:
            self.state.save(self.lake)
        summary = BuildSummary()
        try:
            summary.models = build_side_by_side(
                plan,
                self._build_step,
                (duckdb.Error, IdbxError, OSError),
                lambda outcome: self._ended(outcome, on_model),
                self.session.con,
                lanes,
                dict(self.state.seconds),
                on_failed=lambda name: self.state.models.pop(name, None),
            )
        except Interrupted:
            self._record()  # a safe point: the models built are kept, the others are the next build's
            raise
        self.state.key_fingerprint = self.key_fingerprint
        self._record()
        summary.built_columns = self.built_columns
        summary.sources_modified = self.inputs.latest_modification()
        every_source = set().union(*(self.project.sources(m.name) for m in chosen)) if chosen else set()
        summary.absent_sources = sorted(
            name
            for name in every_source
            if not name.endswith("_history") and name != settings.REGISTRY_SOURCE and not self.inputs.stats(name)
        )
        return summary

    def _ended(self, outcome: ModelOutcome, on_model: ModelCallback | None) -> None:
        if outcome.status in (BUILT, VIEW):  # what the next build's lanes order by (kept: no work)
            self.state.seconds[outcome.name] = round(outcome.seconds, 3)
        if on_model:
            on_model(outcome)

    def _record(self) -> None:
        """Keep what the models built: their outputs' seals, then the build's state. Seals first:
        a build stopped before the state is saved leaves outputs the next build recomputes anyway,
        never outputs taken for tampered ones."""
        seals.write_output_seals(
            self.lake, {name: files for name, files in self.output_seals.items() if name in self.project.models}
        )
        self.state.save(self.lake)

    def _build_step(self, step: Step, outcome: ModelOutcome) -> None:
        model = step.model
        if step.executor == planner.VIEW:  # bound when a model that reads it is built
            self.inputs.outputs[model.name] = self.inputs.fingerprint(model)
            outcome.status = VIEW
            return
        folder = self.lake.root / model.output_folder / model.name
        recorded = self.output_seals.get(model.name, {})
        changed = seals.changed_outputs(self.lake, folder, recorded, digest=False) if recorded else []
        if changed:  # not as this engine wrote it: recomputed whole, never called unchanged
            self.state.models.pop(model.name, None)
            self.executors.merged_before.pop(model.name, None)
            outcome.notes.append(
                f"recomputed whole: {changed[0]}" + (f" (and {len(changed) - 1} more)" if len(changed) > 1 else "")
            )
        self.executors.run(step, folder, outcome)
        self._after_write(model, folder, recorded, outcome)

    def _after_write(self, model: Model, folder: Path, recorded: dict, outcome: ModelOutcome) -> None:
        scan = writer.output_scan(folder)
        self.session.read_output(model, scan)
        if outcome.status == BUILT:
            self.built_columns[model.name] = self.session.columns(model.name)
        if outcome.rows is None:
            outcome.rows = writer.output_rows(self.session.con, folder)
        self.state.models[model.name].rows = outcome.rows
        self.output_seals[model.name] = seals.reseal(self.lake, folder, recorded)
        if model.flags:
            outcome.flagged, outcome.flag_lines = checks.flag_rows(self.session.con, model, scan)
        if outcome.rows == 0:
            absent = self.inputs.absent_sources(model)
            if absent:
                outcome.notes.append(f"empty: the lake holds no {', '.join(absent)}")


def describe(lake: Lake, key: str | None = None, project: Project | None = None) -> dict[str, list[tuple[str, str]]]:
    """Every model bound against the lake as it is, without building anything: its output
    columns and types in order (marts with the columns the build adds). Raises the first ModelError."""
    project = project or read_project()
    key_bytes = pseudonym.resolve_key(key)
    with duckdb.connect() as con:
        session = DuckSession(lake, con, project, key_bytes, datetime.now(UTC).replace(tzinfo=None, microsecond=0))
        columns = {}
        for model in project.models.values():
            session.bind(model)
            columns[model.name] = session.columns(model.name)
            # Models above read it as an empty relation of these columns: binding stays shallow.
            empty = ", ".join(f"CAST(NULL AS {type_}) AS {quote_ident(name)}" for name, type_ in columns[model.name])
            session.read_output(model, f"SELECT {empty} WHERE false")
    return columns
