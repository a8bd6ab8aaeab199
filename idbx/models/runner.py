"""`idbx build`: the SQL models of `idbx/sql/` built in dependency order into the lake.

One DuckDB connection per build holds the lake's sources as views (the catalog's own SELECTs,
created the first time a model that reads them is built), the pseudonym macro, and a view per
model. A model to build is first bound as a view of its SQL (a missing table or column fails
there, naming the file, before anything is written), then:

* a model whose inputs and definitions did not change since it was built is left as it is;
* `table` models are written whole; `view` models exist only inside the build;
* `incremental` models partitioned by day (the event aggregates) are recomputed only for the days
  that new, changed or removed log files hold; a changed definition, a new key or
  `--full-refresh` recomputes every day;
* `incremental` models merged by key (the per-learner ones) are recomputed only for the keys
  (course and learner) whose rows changed in the models they read, read filtered to those keys,
  and merged with the rows they keep into a new output; when anything else they read changed, or
  what changed is not known by key, they are recomputed whole.

A model that fails is reported with its file and the message; the models that read it are
skipped; the others are still built. The catalog is refreshed when an output changed and its
views would change with it (a new output, other columns), or when lake files are newer than it.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from idbx import engine
from idbx.errors import CatalogError, ConfigError, IdbxError, ModelError
from idbx.lake import catalog, seals
from idbx.lake.store import PARTITION_FILE, Lake
from idbx.models import functions, incremental, settings, sources, writer
from idbx.models.project import Model, Project, read_project
from idbx.models.state import BuildState, EventFile, ModelState, build_lock, landed_sources, record_complete_build
from idbx.privacy import geoip, pseudonym
from idbx.quoting import quote_ident, sql_string
from idbx.registry import DEFAULT_PASSING_GRADE, load_registry

BUILT = "built"
UNCHANGED = "unchanged"
VIEW = "view"
FAILED = "failed"
SKIPPED = "skipped"


@dataclass
class ModelOutcome:
    name: str
    layer: str
    materialized: str
    status: str = SKIPPED
    rows: int | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of the whole process meanwhile (DuckDB's threads included)
    notes: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class BuildSummary:
    models: list[ModelOutcome] = field(default_factory=list)
    seconds: float = 0.0
    absent_sources: list[str] = field(default_factory=list)
    reconciliation: list[tuple[str, str, int]] = field(default_factory=list)  # check, status, rows (not ok)
    built_columns: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # outputs written: columns and types
    sources_modified: int = 0  # the latest modification (ns) of the lake files the build read
    catalog_error: str = ""
    rekeyed_learners: int | None = None  # learner ids of the previous person_course that a --rekey build replaced

    @property
    def failed(self) -> list[ModelOutcome]:
        return [outcome for outcome in self.models if outcome.status == FAILED]

    def outcome(self, name: str) -> ModelOutcome:
        return next(outcome for outcome in self.models if outcome.name == name)


ModelCallback = Callable[[ModelOutcome], None]


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
    registry = load_registry(registry_path)
    lake.require()
    with build_lock(lake):
        landed = landed_sources(lake.manifest_records())
        state = BuildState.load(lake)
        rekeyed = _check_key(lake, state, key_bytes, rekey)
        project = project or read_project(parsed=state.parsed)
        chosen = project.selection(select)
        if on_plan:
            on_plan(len(chosen))
        with lake.scratch() as scratch:
            sources.write_registry_seed(lake, registry)
            con = engine.connect(scratch, memory_limit=settings.memory_limit())
            try:
                summary = _Build(lake, con, project, state, key_bytes, full_refresh).run(chosen, on_model)
            finally:
                con.close()
    try:
        if not lake.catalog_path.exists() or (
            any(outcome.status == BUILT for outcome in summary.models)
            # Lake files newer than the catalog (an ingestion whose refresh failed), or views a
            # refresh would change: refresh; else the views read the rewritten files as they are.
            and (
                lake.catalog_path.stat().st_mtime_ns < summary.sources_modified
                or not catalog.is_current(lake, summary.built_columns)
            )
        ):
            catalog.refresh(lake)
    except CatalogError as exc:
        summary.catalog_error = f"the catalog could not be refreshed (it keeps its previous views): {exc}"
    if not select and not summary.failed and not summary.catalog_error:
        record_complete_build(lake, landed)
    summary.seconds = time.monotonic() - started
    summary.rekeyed_learners = rekeyed
    return summary


def _check_key(lake: Lake, state: BuildState, key: bytes, rekey: bool) -> int | None:
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
    previous = lake.marts / settings.LEARNER_MART / PARTITION_FILE
    if not previous.exists():
        return 0
    with duckdb.connect() as con:
        return con.execute("SELECT count(DISTINCT learner_id) FROM read_parquet(?)", [str(previous)]).fetchall()[0][0]


def build_in_order(
    project: Project,
    chosen: list[Model],
    build_model: Callable[[Model, ModelOutcome], None],
    failures: tuple[type[BaseException], ...],
    on_model: ModelCallback | None,
    on_failed: Callable[[str], object] = lambda name: None,
) -> list[ModelOutcome]:
    """Each model built in dependency order by `build_model` (either engine's), timed; a failure
    (a ModelError, or one of `failures`) is that model's one line, and the models reading it are
    skipped, not the others."""
    outcomes, broken = [], set()
    for model in chosen:
        outcome = ModelOutcome(model.name, model.layer, model.materialized)
        upstream_broken = sorted(project.upstream(model.name) & broken)
        if upstream_broken:
            outcome.notes.append(f"not built: {', '.join(upstream_broken)} failed")
            broken.add(model.name)
        else:
            started, cpu_started = time.monotonic(), time.process_time()
            try:
                build_model(model, outcome)
            except ModelError as exc:
                outcome.status, outcome.error = FAILED, str(exc)
            except failures as exc:
                outcome.status, outcome.error = FAILED, f"{model.label}: {_first_line(exc)}"
            if outcome.status == FAILED:
                broken.add(model.name)
                on_failed(model.name)
            outcome.seconds = time.monotonic() - started
            outcome.cpu_seconds = time.process_time() - cpu_started
        outcomes.append(outcome)
        if on_model:
            on_model(outcome)
    return outcomes


class _Build:
    def __init__(
        self, lake: Lake, con: duckdb.DuckDBPyConnection, project: Project, state: BuildState, key: bytes, full_refresh: bool
    ):
        self.lake = lake
        self.con = con
        self.project = project
        self.full_refresh = full_refresh
        self.key_fingerprint = pseudonym.key_fingerprint(key)
        self.computed_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        self.state = state
        self.source_views = sources.source_views(lake)
        self.output_fingerprints: dict[str, str] = {}
        self._source_stats: dict[str, dict] = {}
        self._events_now: dict[str, EventFile] | None = None
        pseudonym.install(con, key)
        self.country_database = geoip.install_country_lookup(con)
        # The registry's default passing grade, for the runs it does not list (macros are the
        # runner's constants as SQL; the fingerprints include them).
        con.execute(f"CREATE OR REPLACE TEMP MACRO default_passing_grade() AS {DEFAULT_PASSING_GRADE}")
        for statement in functions.duckdb_statements():
            con.execute(statement)
        self._defined_sources: set[str] = set()
        self._bound_views: set[str] = set()
        self._unreadable_sources: dict[str, str] = {}
        # Rows a model changed in this build, by key: model -> (key columns, temp table of their values).
        self.changes: dict[str, tuple[tuple[str, ...], str]] = {}
        # What the merged models were built from (their state is off the lake's while this build runs).
        self._merged_before: dict[str, ModelState] = {}
        self.built_columns: dict[str, list[tuple[str, str]]] = {}  # outputs written: columns and types
        self.output_seals = seals.read_output_seals(lake)
        self._bronze_seals: dict[str, seals.Seal] | None = None

    def _define_source(self, name: str) -> None:
        """Create a source's view (and those it reads) the first time a model needs it: binding a
        view reads its files' metadata, which a build that rebuilds little should not pay for."""
        if name in self._defined_sources or name in self._unreadable_sources:
            return
        select = self.source_views[name]
        for other in self.source_views:  # `FROM other` or `FROM "other"`: a view it reads
            if other != name and re.search(rf'FROM\s+"?{re.escape(other)}"?(?![\w"])', select):
                self._define_source(other)
        try:
            self.con.execute(f"CREATE OR REPLACE VIEW {quote_ident(name)} AS {select}")
            self._defined_sources.add(name)
        except duckdb.Error as exc:  # a corrupt bronze file: the models that read it fail, not the build
            self._unreadable_sources[name] = _first_line(exc)

    # -- the build ---------------------------------------------------------------------------

    def run(self, chosen: list[Model], on_model: ModelCallback | None) -> BuildSummary:
        summary = BuildSummary()
        # A build stopped after the rows a merged model reads were rewritten, and before the model
        # was, would leave it not knowing which keys changed: until this build ends, the lake's
        # state says these models must be recomputed whole.
        self._merged_before = {
            m.name: self.state.models.pop(m.name) for m in chosen if m.merge_by and m.name in self.state.models
        }
        if self._merged_before:
            self.state.save(self.lake)
        summary.models = build_in_order(
            self.project,
            chosen,
            self._build_model,
            (duckdb.Error, IdbxError, OSError),
            on_model,
            on_failed=lambda name: self.state.models.pop(name, None),
        )
        self.state.key_fingerprint = self.key_fingerprint
        # Seals first: a build stopped before the state is saved leaves outputs the next build
        # recomputes anyway, never outputs taken for tampered ones.
        seals.write_output_seals(
            self.lake, {name: files for name, files in self.output_seals.items() if name in self.project.models}
        )
        self.state.save(self.lake)
        summary.built_columns = self.built_columns
        summary.sources_modified = max((mtime for stats in self._source_stats.values() for _, mtime in stats.values()), default=0)
        every_source = set().union(*(self.project.sources(m.name) for m in chosen)) if chosen else set()
        summary.absent_sources = sorted(
            name
            for name in every_source
            if not name.endswith("_history") and name != settings.REGISTRY_SOURCE and not self._stats(name)
        )
        if any(o.name == "reconciliation" and o.status in (BUILT, UNCHANGED) for o in summary.models):
            summary.reconciliation = self.con.execute(
                "SELECT check_name, status, count(*) FROM reconciliation WHERE status <> 'ok' GROUP BY ALL ORDER BY ALL"
            ).fetchall()
        return summary

    def _bind(self, model: Model) -> None:
        """Define the model as a view of its SQL: DuckDB binds it, so an unknown table or column
        fails here, before anything is written."""
        for ref in sorted(model.refs - set(self.project.models)):
            if ref not in self.source_views:
                raise ModelError(model.label, f"reads {ref}, which is neither a model nor a lake table")
        # Sources it reads, directly or through views (a stored model is read from its output: the
        # sources behind it need no view, whose binding would read their files' metadata).
        for ref in [name for name in self._reads(model) if name not in self.project]:
            self._define_source(ref)
            if ref in self._unreadable_sources:
                raise ModelError(model.label, f"cannot read {ref}: {self._unreadable_sources[ref]}")
        for ref in sorted(model.refs & set(self.project.models)):
            upstream = self.project.models[ref]
            if upstream.materialized == settings.VIEW and ref not in self._bound_views:
                self._bind(upstream)
        if model.materialized == settings.VIEW:
            self._bound_views.add(model.name)
        try:
            self.con.execute(f"CREATE OR REPLACE VIEW {quote_ident(model.name)} AS {self._select(model, None)}")
        except duckdb.Error as exc:
            raise ModelError(model.label, _first_line(exc)) from None

    def _check_incremental_inputs(self, model: Model) -> None:
        """An incremental model may read only the events (through views): its days must depend on
        nothing but the events of those days."""
        tables = [name for name in self.project.upstream(model.name) if self.project.models[name].materialized != settings.VIEW]
        other_sources = self.project.sources(model.name) - {settings.EVENTS_SOURCE}
        if tables or other_sources:
            raise ModelError(
                model.label,
                "an incremental model may read only the events through views, not "
                f"{', '.join(sorted(tables + list(other_sources)))}",
            )

    def _mart_values(self, model: Model, data_through: date | None) -> str:
        return mart_values(self.project, model, self.computed_at, data_through)

    def _select(self, model: Model, data_through: date | None) -> str:
        return model_select(self.project, model, self.computed_at, data_through)

    def _build_model(self, model: Model, outcome: ModelOutcome) -> None:
        folder = self.lake.root / model.output_folder / model.name
        if model.materialized == settings.VIEW:  # bound when a model that reads it is built
            self.output_fingerprints[model.name] = self._fingerprint(model)
            outcome.status = VIEW
            return
        recorded = self.output_seals.get(model.name, {})
        changed = seals.changed_outputs(self.lake, folder, recorded, digest=False) if recorded else []
        if changed:  # not as this engine wrote it: recomputed whole, never called unchanged
            self.state.models.pop(model.name, None)
            self._merged_before.pop(model.name, None)
            outcome.notes.append(
                f"recomputed whole: {changed[0]}" + (f" (and {len(changed) - 1} more)" if len(changed) > 1 else "")
            )
        if model.merge_by:
            self._build_merged(model, folder, outcome)
        elif model.materialized == settings.INCREMENTAL:
            self._build_incremental(model, folder, outcome)
        else:
            fingerprint = self._fingerprint(model)
            previous = self.state.models.get(model.name)
            if self.full_refresh or not previous or previous.fingerprint != fingerprint or not writer.output_exists(folder, None):
                self._bind(model)
                select = self._select(model, self._data_through(model))
                outcome.rows = writer.write_table(self.con, self.lake, select, folder)
                outcome.status = BUILT
            else:
                outcome.status = UNCHANGED
                outcome.rows = previous.rows
            self.state.models[model.name] = ModelState(fingerprint)
            self.output_fingerprints[model.name] = fingerprint
            if any(set(model.grain) <= set(reader.merge_by) for reader in self._merge_readers(model.name)):
                # A table of one row per course (or coarser), read whole by a merged model: rebuilt
                # with the same rows, it must not make that model recompute everything
                # (int__courses__runs_with_events after a new day).
                kept = previous.content if outcome.status == UNCHANGED and previous else None
                self.state.models[model.name].content = kept or self._content_hash(model, folder)
                self.output_fingerprints[model.name] = self.state.models[model.name].content
        self.con.execute(f"CREATE OR REPLACE VIEW {quote_ident(model.name)} AS {writer.output_scan(folder, model.partition_by)}")
        if outcome.status == BUILT:
            self.built_columns[model.name] = [
                row[:2] for row in self.con.execute(f"DESCRIBE {quote_ident(model.name)}").fetchall()
            ]
        if outcome.rows is None:
            outcome.rows = writer.output_rows(self.con, folder, model.partition_by)
        self.state.models[model.name].rows = outcome.rows
        self.output_seals[model.name] = seals.reseal(self.lake, folder, recorded)
        if outcome.rows == 0:
            absent = sorted(s for s in self.project.sources(model.name) if not s.endswith("_history") and not self._stats(s))
            if absent:
                outcome.notes.append(f"empty: the lake holds no {', '.join(absent)}")

    def _build_incremental(self, model: Model, folder: Path, outcome: ModelOutcome) -> None:
        self._check_incremental_inputs(model)
        definition = self._fingerprint(model, events=False)
        now = self._event_files_now()
        previous = self.state.models.get(model.name)
        full = (
            self.full_refresh
            or not previous
            or previous.fingerprint != definition
            or not writer.output_exists(folder, model.partition_by)
        )
        days = None if full else incremental.affected_days(model.partition_by, previous.event_files, now)
        if days is None or days:
            # The events this run needs, as the `events` view the model reads, for this model only.
            files = list(now) if days is None else incremental.files_holding(model.partition_by, now, days)
            scan = catalog.events_select(catalog.events_scan([self.lake.root / rel for rel in files]))
            if days is not None and model.partition_by == settings.EVENT_DATE:
                listed = ", ".join(f"DATE '{day}'" for day in sorted(days))
                scan = f"SELECT * FROM ({scan}) AS events WHERE CAST(time AS DATE) IN ({listed})"
            self.con.execute(f"CREATE OR REPLACE VIEW {settings.EVENTS_SOURCE} AS {scan}")
            self._defined_sources.add(settings.EVENTS_SOURCE)
            key_columns = self._keys_wanted(model) if days is not None else ()
            try:
                self._bind(model)
                before = f"_before__{model.name}"
                if key_columns:  # the rows of these days before, to tell which rows changed
                    self.con.execute(
                        f"CREATE OR REPLACE TEMP TABLE {quote_ident(before)} AS "
                        f"{writer.partitions_scan(folder, model.partition_by, days)}"
                    )
                written, removed = writer.write_partitions(
                    self.con, self.lake, self._select(model, None), folder, model.partition_by, days
                )
                if key_columns:
                    after = writer.partitions_scan(folder, model.partition_by, days)
                    self._record_changes(
                        model,
                        key_columns,
                        f"(SELECT * FROM {quote_ident(before)} EXCEPT {after}) "
                        f"UNION ALL ({after} EXCEPT SELECT * FROM {quote_ident(before)})",
                    )
                    self.con.execute(f"DROP TABLE {quote_ident(before)}")
            finally:
                self.con.execute(f"DROP VIEW {settings.EVENTS_SOURCE}")
                self._defined_sources.discard(settings.EVENTS_SOURCE)
            outcome.status = BUILT
            what = "event" if model.partition_by == settings.EVENT_DATE else "log"
            scope = f"every {what} day" if days is None else f"{len(days)} {what} day(s)"
            outcome.notes.append(f"recomputed {scope}: {written} partition(s) written, {removed} removed")
        else:
            outcome.status = UNCHANGED
            outcome.rows = previous.rows
            if self._keys_wanted(model):  # new files with no events of any day: no rows changed
                self._record_changes(model, self._keys_wanted(model), writer.partitions_scan(folder, model.partition_by, set()))
        self.state.models[model.name] = ModelState(definition, dict(now))
        self.output_fingerprints[model.name] = _hash(definition, sources.stats_fingerprint(self._stats(settings.EVENTS_SOURCE)))

    # -- models merged by key ----------------------------------------------------------------

    def _reads(self, model: Model) -> list[str]:
        """What a model reads, views seen through: stored models and lake sources."""
        found: set[str] = set()
        for ref in model.refs:
            upstream = self.project.models.get(ref)
            found |= set(self._reads(upstream)) if upstream and upstream.materialized == settings.VIEW else {ref}
        return sorted(found)

    def _merge_readers(self, name: str) -> list[Model]:
        return [model for model in self.project.models.values() if model.merge_by and name in self._reads(model)]

    def _keyed(self, model: Model, ref: str) -> bool:
        """Whether merged `model` reads `ref` by key: a stored model with every merge_by column
        (read filtered to the keys recomputed, directly or through views; any other input is read
        whole)."""
        upstream = self.project.models.get(ref)
        return upstream is not None and upstream.materialized != settings.VIEW and set(model.merge_by) <= set(upstream.columns)

    def _keys_wanted(self, model: Model) -> tuple[str, ...]:
        """The columns by which the merged models reading `model` need to know which of its rows changed."""
        wanted = {
            column for reader in self._merge_readers(model.name) if self._keyed(reader, model.name) for column in reader.merge_by
        }
        return tuple(column for column in model.columns if column in wanted)

    def _record_changes(self, model: Model, columns: tuple[str, ...], rows: str) -> None:
        """Keep the keys of the rows (a SELECT) that this build changed in `model`, for the merged models."""
        table = f"_changed__{model.name}"
        listed = ", ".join(quote_ident(column) for column in columns)
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {quote_ident(table)} AS SELECT DISTINCT {listed} FROM ({rows}) AS changed"
        )
        self.changes[model.name] = (columns, table)

    def _build_merged(self, model: Model, folder: Path, outcome: ModelOutcome) -> None:
        views = sorted(
            name for name in self.project.upstream(model.name) if self.project.models[name].materialized == settings.VIEW
        )
        definition = _hash(*(self._fingerprint(self.project.models[name], inputs=False) for name in [model.name, *views]))
        inputs = {ref: self._input_fingerprint(ref) for ref in self._reads(model)}
        previous = self._merged_before.get(model.name)
        changed = [ref for ref, fingerprint in inputs.items() if previous is None or previous.inputs.get(ref) != fingerprint]
        by_key = (
            not self.full_refresh
            and previous is not None
            and previous.fingerprint == definition
            and writer.output_exists(folder, None)
            and all(self._keyed(model, ref) and set(model.merge_by) <= set(self.changes.get(ref, ((), ""))[0]) for ref in changed)
        )
        if by_key and not changed:
            outcome.status, outcome.rows = UNCHANGED, previous.rows
        elif by_key:
            keys = self._merge(model, folder, changed, outcome)
            outcome.status = BUILT
            outcome.notes.append(f"recomputed {keys:,} [{', '.join(model.merge_by)}] value(s), kept the other rows")
        else:
            self._bind(model)
            outcome.rows = writer.write_table(self.con, self.lake, self._select(model, self._data_through(model)), folder)
            outcome.status = BUILT
        self.state.models[model.name] = ModelState(definition, inputs=inputs)
        self.output_fingerprints[model.name] = _hash(definition, *inputs.values())

    def _merge(self, model: Model, folder: Path, changed: list[str], outcome: ModelOutcome) -> int:
        """Recompute the rows of the keys that changed upstream, from the keyed inputs' rows of
        those keys (each read once, into a temporary table, that the views in between read), and
        write them with the previous output's other rows (one atomic replace)."""
        keys = f"_changed__{model.name}"
        listed = ", ".join(quote_ident(column) for column in model.merge_by)
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {quote_ident(keys)} AS SELECT DISTINCT * FROM ("
            + " UNION ALL ".join(f"SELECT {listed} FROM {quote_ident(self.changes[ref][1])}" for ref in changed)
            + ") AS changed"
        )
        self.changes[model.name] = (model.merge_by, keys)
        same_key = " AND ".join(f"rows.{quote_ident(c)} IS NOT DISTINCT FROM keys.{quote_ident(c)}" for c in model.merge_by)
        keyed = [ref for ref in self._reads(model) if self._keyed(model, ref)]
        try:
            for ref in keyed:
                self.con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {quote_ident(f'_keyed__{ref}')} AS "
                    f"SELECT rows.* FROM ({self._output_scan(ref)}) AS rows SEMI JOIN {quote_ident(keys)} AS keys ON {same_key}"
                )
                self.con.execute(f"CREATE OR REPLACE VIEW {quote_ident(ref)} AS SELECT * FROM {quote_ident(f'_keyed__{ref}')}")
            self._bind(model)
            data_through = self._data_through(model)
            kept = writer.output_scan(folder, None)
            if model.is_mart:
                kept = f"SELECT * REPLACE ({self._mart_values(model, data_through)}) FROM ({kept})"
            merged = (
                f"SELECT * FROM ({self._select(model, data_through)}) AS recomputed UNION ALL BY NAME "
                f"SELECT rows.* FROM ({kept}) AS rows ANTI JOIN {quote_ident(keys)} AS keys ON {same_key}"
            )
            outcome.rows = writer.write_table(self.con, self.lake, merged, folder)
        finally:
            for ref in keyed:
                self.con.execute(f"CREATE OR REPLACE VIEW {quote_ident(ref)} AS {self._output_scan(ref)}")
                self.con.execute(f"DROP TABLE IF EXISTS {quote_ident(f'_keyed__{ref}')}")
        return self.con.execute(f"SELECT count(*) FROM {quote_ident(keys)}").fetchall()[0][0]

    def _output_scan(self, name: str) -> str:
        model = self.project.models[name]
        return writer.output_scan(self.lake.root / model.output_folder / name, model.partition_by)

    def _content_hash(self, model: Model, folder: Path) -> str:
        """A hash of a table's definition and rows (in any order): for small tables only."""
        (digest,) = self.con.execute(
            "SELECT md5(coalesce(string_agg(CAST(to_json(line) AS VARCHAR), chr(10) "
            "ORDER BY CAST(to_json(line) AS VARCHAR)), '')) "
            f"FROM ({writer.output_scan(folder, None)}) AS line"
        ).fetchall()[0]
        return _hash(self.project.definitions_hash(model.name), digest)

    # -- what a model was built from ---------------------------------------------------------

    def _fingerprint(self, model: Model, events: bool = True, inputs: bool = True) -> str:
        """Hash of everything a model's output depends on: definitions, key, inputs. Views are
        transparent (their own inputs count); `events=False` leaves the event files out, for
        incremental models, which track those file by file; `inputs=False` leaves every input out."""
        parts = [self.project.definitions_hash(model.name), self.key_fingerprint, str(DEFAULT_PASSING_GRADE)]
        if f"{settings.COUNTRY_FUNCTION}(" in model.sql:
            parts.append(self.country_database.fingerprint)
        for ref in sorted(model.refs) if inputs else ():
            if events or ref != settings.EVENTS_SOURCE:
                parts.append(self._input_fingerprint(ref, events))
        return _hash(*parts)

    def _input_fingerprint(self, ref: str, events: bool = True) -> str:
        if ref not in self.project:
            return sources.stats_fingerprint(self._sealed_stats(ref))
        upstream = self.project.models[ref]
        if upstream.materialized == settings.VIEW:
            return self._fingerprint(upstream, events)
        return self.output_fingerprints.get(ref, "not built")

    def _stats(self, source: str) -> dict:
        if source not in self._source_stats:
            self._source_stats[source] = sources.file_stats(self.lake, sources.source_files(self.lake, source))
        return self._source_stats[source]

    def _sealed_stats(self, source: str) -> dict:
        """A source's file stats, refused when a file is not as its ingestion wrote it: a model
        built from it would pass a forged or damaged partition on as the engine's own data."""
        stats = self._stats(source)
        if self._bronze_seals is None:
            self._bronze_seals = {name: seal for record in self.lake.manifest_records() for name, seal in record.sealed().items()}
        for rel, (size, mtime) in stats.items():
            seal = self._bronze_seals.get(rel)
            if seal and (seal.size, seal.mtime_ns) != (size, mtime):
                raise IdbxError(
                    f"{rel} changed since it was ingested (not the file its manifest record sealed); "
                    "ingest its source file again (`idbx lake check` names it)"
                )
        return stats

    def _event_files_now(self) -> dict[str, EventFile]:
        """Every event file with the days it holds: read from the files new since the last build."""
        if self._events_now is None:
            stats = self._sealed_stats(settings.EVENTS_SOURCE)
            known = self.state.known_event_dates()
            unknown = [rel for rel, (size, mtime) in stats.items() if (rel, size, mtime) not in known]
            scanned = sources.event_dates(self.con, self.lake, unknown)
            self._events_now = {
                rel: EventFile(size, mtime, scanned[rel] if rel in scanned else known[(rel, size, mtime)])
                for rel, (size, mtime) in stats.items()
            }
        return self._events_now

    def _data_through(self, model: Model) -> date | None:
        read = self.project.sources(model.name)
        candidates = [sources.latest_snapshot(self.lake, read)]
        if settings.EVENTS_SOURCE in read:
            days = [day for info in self._event_files_now().values() for day in info.dates]
            candidates.append(date.fromisoformat(max(days)) if days else None)
        found = [day for day in candidates if day]
        return max(found) if found else None


def mart_values(project: Project, model: Model, computed_at: datetime, data_through: date | None) -> str:
    """The columns the runner adds to a mart's rows, as SQL."""
    through = f"DATE '{data_through}'" if data_through else "CAST(NULL AS DATE)"
    version = f"{settings.DEFINITIONS_VERSION}.{project.definitions_hash(model.name)[:10]}"
    return f"TIMESTAMP '{computed_at}' AS computed_at, {through} AS data_through, {sql_string(version)} AS definitions_version"


def model_select(project: Project, model: Model, computed_at: datetime, data_through: date | None) -> str:
    """A model's SELECT as the build runs it (a mart with the columns the runner adds)."""
    if not model.is_mart:
        return model.sql
    return f"SELECT *, {mart_values(project, model, computed_at, data_through)} FROM ({model.sql}) AS model"


def _hash(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def describe(lake: Lake, key: str | None = None, project: Project | None = None) -> dict[str, list[tuple[str, str]]]:
    """Every model bound against the lake as it is, without building anything: its output
    columns and types in order (marts with the columns the build adds). Raises the first ModelError."""
    project = project or read_project()
    key_bytes = pseudonym.resolve_key(key)
    with duckdb.connect() as con:
        run = _Build(lake, con, project, BuildState(), key_bytes, full_refresh=False)
        columns = {}
        for model in project.models.values():
            run._bind(model)
            if model.is_mart:
                con.execute(f"CREATE OR REPLACE VIEW {quote_ident(model.name)} AS {run._select(model, None)}")
            columns[model.name] = [(row[0], row[1]) for row in con.execute(f"DESCRIBE {quote_ident(model.name)}").fetchall()]
            # Models above read it as an empty relation of these columns: binding stays shallow.
            empty = ", ".join(f"CAST(NULL AS {type_}) AS {quote_ident(name)}" for name, type_ in columns[model.name])
            con.execute(f"CREATE OR REPLACE VIEW {quote_ident(model.name)} AS SELECT {empty} WHERE false")
    return columns
