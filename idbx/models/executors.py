"""One executor per materialization, on DuckDB: each carries out the planner's decision for one
model (idbx/models/planner.py), writes its output aside, checks it (idbx/models/checks.py) and
moves it into place, and records what it was built from.

* `table`: written whole when anything it reads changed;
* `partitions` (incremental by day): the days new, changed or removed log files hold, the model
  reading those days' events as its `events` view for this step only;
* `merge` (incremental by key): the keys whose rows changed in the keyed inputs, those inputs
  read filtered to the keys for this step only, written with the other rows of their courses (the
  output is kept one file per course; the other courses' files are not touched).

Models merged by key learn which keys changed from the models below them: each model whose
changed rows a merged model needs keeps their keys in a table of the build's database
(`changes`), which every lane reads.
"""

from __future__ import annotations

from pathlib import Path

from idbx.errors import ModelError
from idbx.lake import catalog
from idbx.lake.store import Lake
from idbx.models import checks, planner, settings, writer
from idbx.models.day_scope import NewEvents, of_days
from idbx.models.inputs import BuildInputs, digest
from idbx.models.outcome import BUILT, UNCHANGED, ModelOutcome
from idbx.models.planner import Step
from idbx.models.session import DuckSession
from idbx.models.state import BuildState, ModelState
from idbx.quoting import quote_ident


class Executors:
    def __init__(self, lake: Lake, session: DuckSession, inputs: BuildInputs, state: BuildState, full_refresh: bool):
        self.lake = lake
        self.session = session
        self.con = session.con  # the calling lane's cursor (idbx/models/lanes.py)
        self.project = session.project
        self.inputs = inputs
        self.state = state
        self.full_refresh = full_refresh
        # Rows a model changed in this build, by key: model -> (key columns, table of their values).
        self.changes: dict[str, tuple[tuple[str, ...], str]] = {}
        # What the merged models were built from (their state is off the lake's while this build runs).
        self.merged_before: dict[str, ModelState] = {}
        self.new_events = NewEvents(lake)  # the courses and learners new event files hold

    def run(self, step: Step, folder: Path, outcome: ModelOutcome) -> None:
        {planner.TABLE: self.table, planner.PARTITIONS: self.partitions, planner.MERGE: self.merge}[step.executor](
            step, folder, outcome
        )

    def _check(self, step: Step, outcome: ModelOutcome, rows_of: str = "") -> writer.StagedCheck:
        """The checks of the staged files, on the rows `rows_of` keeps (a join on the staged rows
        as `rows`: a merge's recomputed keys, the other rows as an earlier build checked them)."""

        def check(files: list[str]) -> None:
            scan = checks.staged_scan(files)
            if rows_of:
                scan = f"SELECT rows.* FROM ({scan}) AS rows {rows_of}"
            outcome.check_cpu_seconds += checks.check_output(self.con, step.model, scan)

        return check

    # -- table -----------------------------------------------------------------------------------

    def table(self, step: Step, folder: Path, outcome: ModelOutcome) -> None:
        model = step.model
        fingerprint = self.inputs.fingerprint(model)
        previous = self.state.models.get(model.name)
        decision = planner.decide_table(
            self.full_refresh, previous.fingerprint if previous else None, fingerprint, writer.output_exists(folder, None)
        )
        if decision.recompute:
            self.session.bind(model)
            select = self.session.select(model, self.inputs.data_through(model))
            outcome.rows = writer.write_table(self.con, self.lake, select, folder, self._check(step, outcome))
            outcome.status = BUILT
        else:
            outcome.status, outcome.rows = UNCHANGED, previous.rows
        self.state.models[model.name] = ModelState(fingerprint)
        self.inputs.outputs[model.name] = fingerprint
        if step.content_hashed:
            # A table of one row per course (or coarser), read whole by a merged model: rebuilt
            # with the same rows, it must not make that model recompute everything
            # (int__courses__runs_with_events after a new day).
            kept = previous.content if outcome.status == UNCHANGED and previous else None
            self.state.models[model.name].content = kept or self.inputs.content_hash(model, folder)
            self.inputs.outputs[model.name] = self.state.models[model.name].content

    # -- partitions by day ---------------------------------------------------------------------

    def partitions(self, step: Step, folder: Path, outcome: ModelOutcome) -> None:
        model = step.model
        if step.refused:
            raise ModelError(model.label, step.refused)
        definition = self.inputs.fingerprint(model, events=False)
        now = self.inputs.event_files_now()
        previous = self.state.models.get(model.name)
        decision = planner.decide_days(
            model.partition_by,
            self.full_refresh,
            previous.fingerprint if previous else None,
            previous.event_files if previous else {},
            definition,
            writer.output_exists(folder, model.partition_by),
            now,
        )
        if decision.recompute:
            written, removed, of_what = self._write_days(step, folder, decision, outcome)
            outcome.status = BUILT
            what = "event" if model.partition_by == settings.EVENT_DATE else "log"
            scope = f"every {what} day" if decision.days is None else f"{len(decision.days)} {what} day(s){of_what}"
            outcome.notes.append(f"recomputed {scope}: {written} partition(s) written, {removed} removed")
        else:
            outcome.status, outcome.rows = UNCHANGED, previous.rows
            if step.keys_wanted:  # new files with no events of any day: no rows changed
                self._record_changes(model.name, step.keys_wanted, writer.partitions_scan(folder, model.partition_by, set()))
        self.state.models[model.name] = ModelState(definition, dict(now))
        self.inputs.outputs[model.name] = digest(definition, self.inputs.events_fingerprint())

    def _write_days(self, step: Step, folder: Path, decision: planner.Decision, outcome: ModelOutcome) -> tuple[int, int, str]:
        """The model over the events of the decided days (its `events` view for this step), written
        by day; the keys of the rows that changed kept when merged models need them. When new files
        are all that changed, a model whose rows are by course or by learner is recomputed for
        those the files hold, its other rows of the days kept as written (day_scope.py)."""
        model, days = step.model, decision.days
        scan = catalog.events_select(catalog.events_scan([self.lake.root / rel for rel in decision.files]))
        if days is not None and model.partition_by == settings.EVENT_DATE:
            scan = f"SELECT * FROM ({scan}) AS events WHERE {of_days(days)}"
        scope = self.new_events.scope(self.con, step, decision)
        if not scope.whole_days:
            scan = f"SELECT events.* FROM ({scan}) AS events {scope.events}"
        key_columns = step.keys_wanted if days is not None else ()
        before = f"_before__{model.name}"  # the rows of these days before, to tell which rows changed
        days_before = writer.partitions_scan(folder, model.partition_by, days) if days is not None else ""
        tables = {before: f"SELECT rows.* FROM ({days_before}) AS rows {scope.recomputed}"} if key_columns else {}
        with self.session.scoped_views({settings.EVENTS_SOURCE: scan}, tables):
            self.session.bind(model)
            select = self.session.select(model, None)
            if not scope.whole_days:
                select = (
                    f"SELECT * FROM ({select}) AS recomputed UNION ALL BY NAME "
                    f"SELECT rows.* FROM ({days_before}) AS rows {scope.kept}"
                )
            check = self._check(step, outcome)
            written, removed = writer.write_partitions(self.con, self.lake, select, folder, model.partition_by, days, check)
            if key_columns:
                after = (
                    f"SELECT rows.* FROM ({writer.partitions_scan(folder, model.partition_by, days)}) AS rows {scope.recomputed}"
                )
                self._record_changes(
                    model.name,
                    key_columns,
                    f"(SELECT * FROM {quote_ident(before)} EXCEPT {after}) "
                    f"UNION ALL ({after} EXCEPT SELECT * FROM {quote_ident(before)})",
                )
        return written, removed, scope.what

    def _record_changes(self, name: str, columns: tuple[str, ...], rows: str) -> None:
        """Keep the keys of the rows (a SELECT) that this build changed in model `name`, for the merged models."""
        table = f"_changed__{name}"
        listed = ", ".join(quote_ident(column) for column in columns)
        self.con.execute(
            f"CREATE OR REPLACE TABLE main.{quote_ident(table)} AS SELECT DISTINCT {listed} FROM ({rows}) AS changed"
        )
        self.changes[name] = (columns, table)

    # -- merge by key --------------------------------------------------------------------------

    def merge(self, step: Step, folder: Path, outcome: ModelOutcome) -> None:
        model = step.model
        definition = digest(
            *(self.inputs.fingerprint(self.project.models[name], inputs=False) for name in [model.name, *step.views_between])
        )
        inputs = {ref: self.inputs.input_fingerprint(ref) for ref in step.reads}
        previous = self.merged_before.get(model.name)
        decision = planner.decide_merge(
            step,
            self.full_refresh,
            previous.fingerprint if previous else None,
            previous.inputs if previous else {},
            definition,
            writer.output_exists(folder, model.output_partition),
            inputs,
            {ref: columns for ref, (columns, _) in list(self.changes.items())},  # other lanes add to it
        )
        if not decision.recompute:
            outcome.status, outcome.rows = UNCHANGED, previous.rows
        elif decision.keys_from is not None:
            keys = self._merge_keys(step, folder, decision.keys_from, outcome)
            outcome.status = BUILT
            outcome.notes.append(f"recomputed {keys:,} [{', '.join(model.merge_by)}] value(s), kept the other rows")
        else:
            self.session.bind(model)
            select = self.session.select(model, self.inputs.data_through(model))
            writer.write_partitions(self.con, self.lake, select, folder, model.output_partition, None, self._check(step, outcome))
            outcome.rows = writer.output_rows(self.con, folder)
            outcome.status = BUILT
        self.state.models[model.name] = ModelState(definition, inputs=inputs)
        self.inputs.outputs[model.name] = digest(definition, *inputs.values())

    def _merge_keys(self, step: Step, folder: Path, changed: tuple[str, ...], outcome: ModelOutcome) -> int:
        """Recompute the rows of the keys that changed upstream, from the keyed inputs' rows of
        those keys (each read once, into a temporary table, that the views in between read), and
        write them with the other rows of their courses, one atomic replace per course. The other
        rows keep what they were written with (a mart's computed_at and data_through included)."""
        model = step.model
        keys = f"_changed__{model.name}"
        listed = ", ".join(quote_ident(column) for column in model.merge_by)
        self.con.execute(
            f"CREATE OR REPLACE TABLE main.{quote_ident(keys)} AS SELECT DISTINCT * FROM ("
            + " UNION ALL ".join(f"SELECT {listed} FROM {quote_ident(self.changes[ref][1])}" for ref in changed)
            + ") AS changed"
        )
        self.changes[model.name] = (model.merge_by, keys)
        course = quote_ident(model.output_partition)
        courses = {value for (value,) in self.con.execute(f"SELECT DISTINCT {course} FROM {quote_ident(keys)}").fetchall()}
        same_key = " AND ".join(f"rows.{quote_ident(c)} IS NOT DISTINCT FROM keys.{quote_ident(c)}" for c in model.merge_by)
        of_keys = f"SEMI JOIN {quote_ident(keys)} AS keys ON {same_key}"
        tables = {f"_keyed__{ref}": f"SELECT rows.* FROM ({self._output_scan(ref)}) AS rows {of_keys}" for ref in step.keyed}
        views = {ref: f"SELECT * FROM {quote_ident(f'_keyed__{ref}')}" for ref in step.keyed}
        with self.session.scoped_views(views, tables):
            self.session.bind(model)
            kept = writer.partitions_scan(folder, model.output_partition, courses)
            merged = (
                f"SELECT * FROM ({self.session.select(model, self.inputs.data_through(model))}) AS recomputed "
                f"UNION ALL BY NAME SELECT rows.* FROM ({kept}) AS rows ANTI JOIN {quote_ident(keys)} AS keys ON {same_key}"
            )
            check = self._check(step, outcome, of_keys)  # the recomputed keys (the grain holds the key)
            writer.write_partitions(self.con, self.lake, merged, folder, model.output_partition, courses, check)
        outcome.rows = writer.output_rows(self.con, folder)
        return self.con.execute(f"SELECT count(*) FROM {quote_ident(keys)}").fetchall()[0][0]

    def _output_scan(self, name: str) -> str:
        model = self.project.models[name]
        return writer.output_scan(self.lake.root / model.output_folder / name)
