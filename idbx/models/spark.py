"""`idbx build --engine spark`: the same SQL models run on Apache Spark, transpiled by sqlglot.

DuckDB stays the default engine; this one is for a lake larger than one machine. The lake's
sources become Spark temporary views with the columns and types the DuckDB build sees (bronze
Parquet read by Spark itself; the small JSON state, such as the ingest manifest, handed over
through Arrow), each model is carried from DuckDB's dialect to Spark SQL (idbx/models/spark_dialect.py), with the
functions the engines do not share defined once per engine (idbx/models/functions.py), and each
stored model is written to the same lake paths and layout as the DuckDB build writes, cast to the
types the DuckDB build gives, aside and then renamed into place. The catalog, exports,
publishing and the dashboard read either engine's output alike.

Every model is recomputed on Spark (a full refresh): the by-day partitions and the merge by key
are the DuckDB build's; the next DuckDB build recomputes the models this one wrote.

pyspark (the optional `idbx[spark]`) and Java 17 are needed only here, imported when a Spark
build starts.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import suppress
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from idbx.errors import ConfigError, IdbxError, ModelError
from idbx.lake import atomic, catalog, seals
from idbx.lake.catalog import MODEL_SCHEMA_FILE
from idbx.lake.store import PARTITION_FILE, Lake
from idbx.lake.upgrade import upgrade_event_files
from idbx.models import checks, functions, planner, runner, schedule, settings, sources, writer
from idbx.models.planner import Step
from idbx.models.project import Model, Project, read_project
from idbx.models.session import first_line, model_select
from idbx.models.spark_dialect import row_local_input, spark_sql, spark_type
from idbx.models.state import BuildState, build_lock, landed_sources
from idbx.privacy import pseudonym
from idbx.quoting import quote_ident, sql_string
from idbx.registry import load_registry

DEFAULT_MASTER = "local[2]"
MASTER_ENV = "IDBX_SPARK_MASTER"
PER_BATCH_NOTE = "run by DuckDB on Spark's workers, a batch of rows at a time (no Spark SQL for it)"
FULL_REFRESH_NOTE = "full refresh on Spark (by-day partitions and merge by key are the DuckDB build's)"
STORED_ONCE_NOTE = "a view read by several models: computed once, kept in the build's scratch folder until it ends"
_SESSION_CONFIG = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.log.level": "OFF",  # a failing model is reported by the build, in one line
    # DuckDB's TIMESTAMP has no time zone: Spark's TIMESTAMP_NTZ, written as plain microseconds.
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.compression.codec": "zstd",
    # Small shuffles on a small lake: a few partitions, adaptive execution splits larger ones.
    "spark.sql.shuffle.partitions": "8",
}


# -- the build ---------------------------------------------------------------------------------


def master_url(master: str | None = None) -> str:
    """`master`, else IDBX_SPARK_MASTER, else local[2]. A Spark Connect URL (sc://) is refused:
    the build runs DuckDB on Spark's workers through pyspark's classic API, and idbx[spark] has
    not Connect's client (docs/spark.md, "Spark Connect")."""
    master = master or os.environ.get(MASTER_ENV) or DEFAULT_MASTER
    if master.startswith("sc://"):
        raise ConfigError(
            f"{master}: Spark Connect is not supported: the build runs DuckDB on Spark's workers through pyspark's "
            "classic API (DataFrame._jdf.mapInArrow, which a Connect DataFrame lacks), and idbx[spark] does not install "
            "Connect's client (pyspark[connect]: grpcio, grpcio-status, googleapis-common-protos, pandas, zstandard); "
            "give a master URL instead (spark://host:7077, yarn, k8s://..., local[N])"
        )
    return master


def spark_session(master: str | None = None):
    """A Spark session on `master` (see master_url)."""
    master = master_url(master)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError("the Spark engine needs pyspark: install idbx[spark] (and Java 17)") from None
    builder = SparkSession.builder.master(master).appName("idbx build")
    if master.startswith("local"):  # the workers run this Python, where idbx and its pins are
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        # One JVM does all the work: it gets the build's memory budget (Spark's 1 GB default fails a 20M-event lake).
        builder = builder.config("spark.driver.memory", settings.memory_limit().replace("MB", "m"))
    for name, value in _SESSION_CONFIG.items():
        builder = builder.config(name, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # no Java, or a master that does not answer
        raise ConfigError(f"Spark could not start on {master} (is Java 17 installed?): {first_line(exc)}") from None
    return session


def build(
    lake: Lake,
    select: list[str] | None = None,
    registry_path: Path | None = None,
    key: str | None = None,
    master: str | None = None,
    session=None,
    on_model: runner.ModelCallback | None = None,
    on_plan=None,
    project: Project | None = None,
    rekey: bool = False,
) -> runner.BuildSummary:
    """Build the models (all, or the selected ones and what they read) on Spark, every one whole.
    Refused as the DuckDB build refuses (missing or other key without `rekey`, invalid registry,
    a model DuckDB cannot bind); a model with no Spark form fails alone, naming what it lacks, and
    the models that read it are not built."""
    started = time.monotonic()
    if session is None:
        master = master_url(master)  # refused before anything is read or written
    key_bytes = pseudonym.resolve_key(key)
    registry = load_registry(registry_path)
    lake.require()
    project = project or read_project()
    chosen = project.selection(select)
    with build_lock(lake):
        rekeyed = runner.check_key(lake, state := BuildState.load(lake), key_bytes, rekey)
        upgraded = upgrade_event_files(lake)
        landed = landed_sources(lake.manifest_records())
        removed = runner.remove_former_outputs(lake, project, state)
        sources.write_registry_seed(lake, registry)
        columns = runner.describe(lake, key, project)
        if on_plan:
            on_plan(len(chosen))
        spark = session or spark_session(master)
        with lake.scratch() as scratch:
            summary = _SparkBuild(lake, spark, project, key_bytes, columns, scratch).run(chosen, on_model)
        for outcome in summary.models:
            if outcome.status == runner.BUILT:  # the DuckDB build's record of it no longer holds
                state.models.pop(outcome.name, None)
        state.key_fingerprint = pseudonym.key_fingerprint(key_bytes)
        state.save(lake)
    try:
        catalog.refresh(lake)
    except IdbxError as exc:
        summary.catalog_error = runner.catalog_kept(exc)
    summary.upgraded_event_files = upgraded
    summary.removed_outputs = removed
    return runner.finish(lake, summary, select, landed, started, rekeyed)


class _SparkBuild:
    def __init__(self, lake: Lake, spark, project: Project, key: bytes, columns: dict[str, list[tuple[str, str]]], scratch: Path):
        self.lake = lake
        self.scratch = scratch
        self.spark = spark
        self.project = project
        self.columns = columns
        self.key = key
        self.computed_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        self.source_views = sources.source_views(lake)
        self.registered: set[str] = set()
        self.output_seals = seals.read_output_seals(lake)
        self._event_days_through: date | None | bool = False
        for statement in functions.spark_statements(key):
            spark.sql(statement)
        for name, returns in functions.DUCKDB_ON_SPARK.items():
            spark.udf.register(name, _duckdb_macro_on_spark(name, returns))
        self.duck = duckdb.connect()
        for name, select in self.source_views.items():
            # An unreadable source: the models that read it fail when it is registered.
            with suppress(duckdb.Error):
                self.duck.execute(f"CREATE OR REPLACE VIEW {quote_ident(name)} AS {select}")

    def run(self, chosen: list[Model], on_model) -> runner.BuildSummary:
        from pyspark.errors import PySparkException
        from sqlglot.errors import SqlglotError

        summary = runner.BuildSummary()
        self.shared_views = _shared_views(chosen)
        try:
            summary.models = schedule.build_in_order(
                planner.plan_build(self.project, chosen),
                self._build_model,
                (PySparkException, duckdb.Error, IdbxError, OSError, SqlglotError),
                on_model,
            )
            seals.write_output_seals(
                self.lake, {name: files for name, files in self.output_seals.items() if name in self.project.models}
            )
        finally:
            self.duck.close()
        return summary

    # -- sources -------------------------------------------------------------------------------

    def _register_source(self, name: str) -> None:
        """The source as a Spark view with the DuckDB view's columns and types, in its order."""
        if name in self.registered:
            return
        select = self.source_views[name]
        try:
            described = [row[:2] for row in self.duck.execute(f"DESCRIBE {quote_ident(name)}").fetchall()]
        except duckdb.Error as exc:
            raise IdbxError(f"cannot read {name}: {first_line(exc)}") from None
        files = sources.source_files(self.lake, name)
        reader = self.spark.read.option("mergeSchema", "true")
        if name == settings.EVENTS_SOURCE and files:  # log_date from the partition folders
            frame = reader.option("basePath", str(self.lake.bronze / "events")).parquet(*map(str, files))
        elif (
            (name.endswith("_history") or name == settings.REGISTRY_SOURCE)
            and files
            and all(f.suffix == ".parquet" for f in files)
        ):
            frame = reader.parquet(*map(str, files))
        elif "read_" not in select:  # a view over other sources (a table's latest snapshot)
            for other in self.source_views:
                if other != name and other in select:
                    self._register_source(other)
            frame = self.spark.sql(spark_sql(None, select))
        else:  # small state (the ingest manifest, the scrub log), or an empty typed view
            frame = self.spark.createDataFrame(self.duck.sql(f"SELECT * FROM {quote_ident(name)}").to_arrow_table())
        raw = f"_raw__{name}"
        frame.createOrReplaceTempView(raw)
        self.spark.sql(f"CREATE OR REPLACE TEMP VIEW {_ident(name)} AS {_typed(described, set(frame.columns), _ident(raw))}")
        self.registered.add(name)

    # -- models --------------------------------------------------------------------------------

    def _build_model(self, step: Step, outcome: runner.ModelOutcome) -> None:
        model = step.model
        for ref in sorted(model.refs):
            if ref not in self.project and ref not in self.source_views:
                raise ModelError(model.label, f"reads {ref}, which is neither a model nor a lake table")
            if ref not in self.project:
                self._register_source(ref)
        select = model_select(self.project, model, self.computed_at, self._data_through(model))
        try:
            frame = self.spark.sql(_typed(self.columns[model.name], None, f"({spark_sql(model, select)}) AS model"))
        except ModelError:
            source = row_local_input(model)
            if not source:
                raise
            frame = self._duckdb_per_batch(model, select, source)
            outcome.notes.append(PER_BATCH_NOTE)
        if model.materialized == settings.VIEW:
            if model.name in self.shared_views:
                frame = self._stored_once(model.name, frame)
                outcome.notes.append(STORED_ONCE_NOTE)
            frame.createOrReplaceTempView(model.name)
            outcome.status = runner.VIEW
            return
        folder = self.lake.root / model.output_folder / model.name
        check = self._staged_check(model, outcome)
        if model.output_partition:
            partition, schema = model.output_partition, self._schema_file(model)
            written, removed = _write_partitions(frame, self.lake, folder, partition, schema, check)
            outcome.notes.append(f"{written} partition(s) written, {removed} removed")
        else:
            _write_table(frame, self.lake, folder, check)
        outcome.status = runner.BUILT
        outcome.notes.append(FULL_REFRESH_NOTE)
        outcome.rows = writer.output_rows(self.duck, folder)
        if model.flags:
            scan = writer.output_scan(folder)
            outcome.flagged, outcome.flag_lines = checks.flag_rows(self.duck, model, scan)
        self.output_seals[model.name] = seals.reseal(self.lake, folder, self.output_seals.get(model.name, {}))
        self._read_back(model, folder)

    def _staged_check(self, model: Model, outcome: runner.ModelOutcome) -> writer.StagedCheck:
        """The DuckDB build's checks, by DuckDB, on the files Spark wrote aside."""

        def check(files: list[str]) -> None:
            outcome.check_cpu_seconds += checks.check_output(self.duck, model, checks.staged_scan(files))

        return check

    def _read_back(self, model: Model, folder: Path) -> None:
        """Models above read the output as written, as on DuckDB."""
        partition = model.output_partition
        files = sorted(folder.glob(f"{partition}=*/{PARTITION_FILE}")) if partition else [folder / PARTITION_FILE]
        if files:
            self.spark.read.parquet(*map(str, files)).createOrReplaceTempView(model.name)
        else:
            self.spark.sql(
                f"CREATE OR REPLACE TEMP VIEW {_ident(model.name)} AS "
                f"{_typed(self.columns[model.name], set(), '(SELECT 1) AS nothing WHERE false')}"
            )

    def _stored_once(self, name: str, frame):
        """A view several models read, computed once: Spark recomputes a view (for the events'
        staging view, DuckDB on every batch of the events) for every query that reads it."""
        folder = self.scratch / name
        frame.write.parquet(str(folder))
        return self.spark.read.schema(frame.schema).parquet(str(folder))

    def _schema_file(self, model: Model):
        """A writer of the zero-row `_schema.parquet` with the model's DuckDB columns (as DuckDB's writer leaves)."""
        empty = "SELECT " + ", ".join(f"CAST(NULL AS {type_}) AS {quote_ident(name)}" for name, type_ in self.columns[model.name])

        def write(path: Path) -> None:
            self.duck.execute(f"COPY ({empty} WHERE false) TO {sql_string(str(path))} (FORMAT parquet)")

        return write

    def _duckdb_per_batch(self, model: Model, select: str, source: str):
        """The model computed by DuckDB on each Arrow batch of its one input, on the workers."""
        columns = self.columns[model.name]
        schema = ", ".join(f"{_ident(name)} {spark_type(type_)}" for name, type_ in columns)
        typed = (
            "SELECT "
            + ", ".join(
                f"CAST({quote_ident(name)} AS {_arrow_friendly(type_)}) AS {quote_ident(name)}" for name, type_ in columns
            )
            + f" FROM ({select}) AS model"
        )
        key = self.key
        return _map_in_arrow(
            self.spark.table(_ident(source)), lambda batches: _run_per_batch(batches, source, typed, key), schema
        )

    def _data_through(self, model: Model) -> date | None:
        """As the DuckDB build: the latest snapshot the mart read, or its latest event day."""
        if not model.is_mart:
            return None
        read = self.project.sources(model.name)
        found = [sources.latest_snapshot(self.lake, read)]
        if settings.EVENTS_SOURCE in read:
            if self._event_days_through is False:
                self._register_source(settings.EVENTS_SOURCE)
                self._event_days_through = self.spark.sql("SELECT max(CAST(time AS DATE)) FROM events").collect()[0][0]
            found.append(self._event_days_through)
        days = [day for day in found if day]
        return max(days) if days else None


def _shared_views(chosen: list[Model]) -> set[str]:
    """The views more than one of the chosen models read, counting only the models a stored model
    reads through (a view no stored model reads, as the one `idbx report engagement` runs, is never
    computed in a build)."""
    read = {model.name for model in chosen if model.materialized != settings.VIEW}
    for model in reversed(chosen):  # readers come after what they read
        if model.name in read:
            read |= model.refs
    readers: dict[str, int] = {}
    for model in chosen:
        if model.name in read:
            for ref in model.refs:
                readers[ref] = readers.get(ref, 0) + 1
    return {model.name for model in chosen if model.materialized == settings.VIEW and readers.get(model.name, 0) > 1}


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _typed(columns: list[tuple[str, str]], present: set[str] | None, relation: str) -> str:
    """SELECT of `columns` (name, DuckDB type) from `relation`, cast to Spark's types; a column
    not `present` (None: all are) is NULL."""
    listed = ", ".join(
        f"CAST({_ident(name) if present is None or name in present else 'NULL'} AS {spark_type(type_)}) AS {_ident(name)}"
        for name, type_ in columns
    )
    return f"SELECT {listed} FROM {relation}"


def _write_table(frame, lake: Lake, folder: Path, check: writer.StagedCheck) -> None:
    """One data.parquet, as the DuckDB writer's: written aside by Spark, checked, renamed into place."""
    folder.mkdir(parents=True, exist_ok=True)
    work = lake.aside(folder)
    try:
        frame.coalesce(1).write.parquet(str(work))
        (part,) = sorted(work.glob("part-*.parquet"))
        check([str(part)])
        atomic.rename_into_place(part, folder / PARTITION_FILE)
        writer.remove_other_layout(folder, partitioned=False)
    finally:
        atomic.remove(work)


def _write_partitions(frame, lake: Lake, folder: Path, column: str, schema_file, check: writer.StagedCheck) -> tuple[int, int]:
    """`<column>=<value>/data.parquet` for every value (day, or course) the model gives, the column
    kept in the files and the folder named as DuckDB's writer names it (writer.partition_folder),
    beside `_schema.parquet`; values it no longer gives lose their partition."""
    folder.mkdir(parents=True, exist_ok=True)
    work = lake.aside(folder)
    part = "_partition"
    try:
        keyed = frame.withColumn(part, frame[column])
        keyed.repartition(part).write.partitionBy(part).parquet(str(work / "days"))
        produced = {}
        for day_folder in (work / "days").glob(f"{part}=*"):
            files = sorted(day_folder.glob("part-*.parquet"))
            if len(files) != 1:
                raise OSError(f"{folder.name}: Spark wrote {len(files)} files for {day_folder.name}")
            produced[writer.partition_value(day_folder)] = files[0]
        if produced:
            check([str(file) for file in produced.values()])
        for day, file in produced.items():
            target = folder / writer.partition_folder(column, day)
            target.mkdir(exist_ok=True)
            atomic.rename_into_place(file, target / PARTITION_FILE)
        stale = [path for path in folder.glob(f"{column}=*") if writer.partition_value(path) not in produced]
        for path in stale:
            atomic.remove(path)
        schema_file(work / MODEL_SCHEMA_FILE)
        atomic.rename_into_place(work / MODEL_SCHEMA_FILE, folder / MODEL_SCHEMA_FILE)
        writer.remove_other_layout(folder, partitioned=True)
    finally:
        atomic.remove(work)
    return len(produced), len(stale)


# -- DuckDB's macros on Spark's workers --------------------------------------------------------

_WORKER_CONNECTIONS: dict[bytes | None, duckdb.DuckDBPyConnection] = {}


def _worker_connection(key: bytes | None = None) -> duckdb.DuckDBPyConnection:
    """One DuckDB connection per Spark worker process, with the macros of the DuckDB build (the
    pseudonym's only when given the key)."""
    if key not in _WORKER_CONNECTIONS:
        from idbx.privacy import geoip

        con = duckdb.connect()
        geoip.install_country_lookup(con)
        for statement in functions.duckdb_statements():
            con.execute(statement)
        if key is not None:
            pseudonym.install(con, key)
        _WORKER_CONNECTIONS[key] = con
    return _WORKER_CONNECTIONS[key]


def _arrow_friendly(duckdb_type: str) -> str:
    """The DuckDB type whose Arrow form Spark reads as spark_type(duckdb_type)."""
    from sqlglot import exp

    return exp.DataType.build(spark_type(duckdb_type), dialect="spark").sql("duckdb")


def _map_in_arrow(frame, function, schema: str):
    """`frame.mapInArrow(function, schema)` without pandas: pyspark 4.3 (pinned) builds the
    function through pandas_udf, which requires pandas; the Arrow path it takes does not."""
    from pyspark.sql import DataFrame
    from pyspark.sql.udf import _create_udf
    from pyspark.util import PythonEvalType

    udf = _create_udf(function, returnType=schema, evalType=PythonEvalType.SQL_MAP_ARROW_ITER_UDF)
    column = udf(*[frame[name] for name in frame.columns])
    return DataFrame(frame._jdf.mapInArrow(column._jc, False, None), frame.sparkSession)


def _run_per_batch(batches, source: str, typed: str, key: bytes):
    con = _worker_connection(key)
    for batch in batches:
        con.register(source, pa.Table.from_batches([batch]))
        try:
            yield from con.sql(typed).to_arrow_table().to_batches()
        finally:
            con.unregister(source)


def _duckdb_macro_on_spark(name: str, returns: str):
    """A Spark Arrow function computing DuckDB's macro `name` of one text argument, a batch at a time."""
    from pyspark.sql.functions import arrow_udf

    def batch(values: pa.Array) -> pa.Array:
        con = _worker_connection()
        values_table = pa.table({"value": values})  # noqa: F841 (read by the query below)
        result = con.sql(f"SELECT {name}(value) FROM values_table").to_arrow_table()
        return result.column(0).combine_chunks()

    return arrow_udf(batch, returns)
