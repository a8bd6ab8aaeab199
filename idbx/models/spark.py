"""`idbx build --engine spark`: the same SQL models run on Apache Spark, transpiled by sqlglot.

DuckDB stays the default engine; this one is for a lake larger than one machine. The lake's
sources become Spark temporary views with the columns and types the DuckDB build sees (bronze
Parquet read by Spark itself; the small JSON state, such as the ingest manifest, handed over
through Arrow), each model is carried from DuckDB's dialect to Spark SQL (`spark_sql`), with the
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
import shutil
import sys
import time
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from idbx.errors import ConfigError, IdbxError, ModelError
from idbx.lake import catalog, seals
from idbx.lake.catalog import MODEL_SCHEMA_FILE
from idbx.lake.store import PARTITION_FILE, TMP_MARKER, Lake
from idbx.models import functions, runner, settings, sources, writer
from idbx.models.project import Model, Project, read_project
from idbx.models.state import BuildState, build_lock, landed_sources, record_complete_build
from idbx.privacy import pseudonym
from idbx.quoting import quote_ident
from idbx.registry import load_registry

DEFAULT_MASTER = "local[2]"
MASTER_ENV = "IDBX_SPARK_MASTER"
FULL_REFRESH_NOTE = "full refresh on Spark (by-day partitions and merge by key are the DuckDB build's)"
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


# -- SQL: DuckDB's dialect to Spark's ----------------------------------------------------------

def spark_sql(model: Model | None, sql: str) -> str:
    """`sql` (DuckDB's dialect) as Spark SQL; ModelError naming the model's file for a construct
    that has no mapping: a function neither engine-neutral nor defined by the runner for Spark
    (idbx/models/functions.py), or one sqlglot cannot write for Spark."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel, UnsupportedError

    label = model.label if model else "SQL"
    tree = sqlglot.parse_one(sql, read="duckdb")
    unknown = sorted({f.name.lower() for f in tree.find_all(exp.Anonymous)} - functions.RUNNER_FUNCTIONS)
    if unknown:
        raise ModelError(label, f"calls {', '.join(unknown)}, which Spark lacks: define it for each engine in "
                                "idbx/models/functions.py, or write it in the portable subset (idbx/sql/README.md)")
    for cast in list(tree.find_all(exp.Cast)):  # CAST(MAP {} AS MAP(...)): Spark's empty map is map()
        if isinstance(cast.this, exp.ToMap) and not cast.this.this.expressions:
            cast.this.replace(exp.Anonymous(this="map", expressions=[]))
    _cast_inside_unnest(tree)
    for aggregate in list(tree.find_all(exp.ArrayAgg)):
        if isinstance(aggregate.this, exp.Order):
            replaced, replacement = _sorted_list(label, aggregate)
            replaced.replace(replacement)
    try:
        return tree.sql("spark", unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        raise ModelError(label, f"no Spark SQL for it: {str(exc).splitlines()[0]}") from None


def _sorted_list(label: str, aggregate):
    """`list(struct_pack(k := x, ...) ORDER BY x)` as `array_sort(collect_list(struct(x AS k, ...)),
    <by k>)`: Spark's collect_list has no order. Only that form (ascending by the struct's first
    field, NULLs last as DuckDB's default) has a mapping. Returns (node to replace, replacement)."""
    import sqlglot
    from sqlglot import exp

    order = aggregate.this
    value = order.this
    first = value.expressions[0] if isinstance(value, exp.Struct) and value.expressions else None
    keys = order.expressions
    if (
        first is None or len(keys) != 1 or keys[0].args.get("desc")
        or not isinstance(first, exp.PropertyEQ) or first.expression != keys[0].this
    ):
        raise ModelError(label, "list(... ORDER BY ...) carries over to Spark only as a list of structs ordered by "
                                "their first field, ascending")
    key = first.this.name
    collected = exp.ArrayAgg(this=value.copy())
    if isinstance(aggregate.parent, exp.Filter):  # FILTER (WHERE ...) belongs to the aggregate
        aggregate, collected = aggregate.parent, exp.Filter(this=collected, expression=aggregate.parent.expression.copy())
    left, right = f"l.{key}", f"r.{key}"
    sort = sqlglot.parse_one(
        f"array_sort(entries, (l, r) -> CASE WHEN {left} IS NULL AND {right} IS NULL THEN 0 WHEN {left} IS NULL THEN 1 "
        f"WHEN {right} IS NULL THEN -1 WHEN {left} < {right} THEN -1 WHEN {left} > {right} THEN 1 ELSE 0 END)", read="spark")
    next(column for column in sort.find_all(exp.Column) if column.name == "entries").replace(collected)
    return aggregate, sort


def _cast_inside_unnest(tree) -> None:
    """`CAST(unnest(list) AS T)` as `unnest(CAST(list AS T[]))`: Spark's explode cannot be nested in
    an expression."""
    from sqlglot import exp

    for cast in list(tree.find_all(exp.Cast)):
        if isinstance(cast.this, exp.Explode):
            array = exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[cast.to.copy()], nested=True)
            cast.replace(exp.Explode(this=exp.Cast(this=cast.this.this.copy(), to=array)))


def spark_type(duckdb_type: str) -> str:
    """Spark's type for a DuckDB type (JSON is text on Spark, as DuckDB writes it to Parquet)."""
    from sqlglot import exp

    built = exp.DataType.build(duckdb_type, dialect="duckdb")
    for node in built.find_all(exp.DataType):
        if node.this == exp.DataType.Type.JSON:
            node.set("this", exp.DataType.Type.TEXT)
    return built.sql("spark")


# -- the build ---------------------------------------------------------------------------------

def spark_session(master: str | None = None):
    """A Spark session on `master` (a master URL; default IDBX_SPARK_MASTER, else local[2])."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError("the Spark engine needs pyspark: install idbx[spark] (and Java 17)") from None
    master = master or os.environ.get(MASTER_ENV) or DEFAULT_MASTER
    if master.startswith("local"):  # the workers run this Python, where idbx and its pins are
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName("idbx build")
    for name, value in _SESSION_CONFIG.items():
        builder = builder.config(name, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # no Java, or a master that does not answer
        raise ConfigError(f"Spark could not start on {master} (is Java 17 installed?): {runner._first_line(exc)}") from None
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
    a model with no Spark mapping)."""
    started = time.monotonic()
    key_bytes = pseudonym.resolve_key(key)
    registry = load_registry(registry_path)
    lake.require()
    project = project or read_project()
    chosen = project.selection(select)
    for model in chosen:
        spark_sql(model, model.sql)  # a model with no Spark mapping is refused before Spark starts
    with build_lock(lake):
        landed = landed_sources(lake.manifest_records())
        state = BuildState.load(lake)
        rekeyed = runner._check_key(lake, state, key_bytes, rekey)
        sources.write_registry_seed(lake, registry)
        columns = runner.describe(lake, key, project)
        if on_plan:
            on_plan(len(chosen))
        spark = session or spark_session(master)
        summary = _SparkBuild(lake, spark, project, key_bytes, columns).run(chosen, on_model)
        for outcome in summary.models:
            if outcome.status == runner.BUILT:  # the DuckDB build's record of it no longer holds
                state.models.pop(outcome.name, None)
        state.key_fingerprint = pseudonym.key_fingerprint(key_bytes)
        state.save(lake)
    try:
        catalog.refresh(lake)
    except IdbxError as exc:
        summary.catalog_error = f"the catalog could not be refreshed (it keeps its previous views): {exc}"
    if not select and not summary.failed and not summary.catalog_error:
        record_complete_build(lake, landed)
    summary.seconds = time.monotonic() - started
    summary.rekeyed_learners = rekeyed
    return summary


class _SparkBuild:
    def __init__(self, lake: Lake, spark, project: Project, key: bytes, columns: dict[str, list[tuple[str, str]]]):
        self.lake = lake
        self.spark = spark
        self.project = project
        self.columns = columns
        self.computed_at = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
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
            try:
                self.duck.execute(f"CREATE OR REPLACE VIEW {quote_ident(name)} AS {select}")
            except duckdb.Error:
                pass  # an unreadable source: the models that read it fail when it is registered

    def run(self, chosen: list[Model], on_model) -> runner.BuildSummary:
        from pyspark.errors import PySparkException

        summary = runner.BuildSummary()
        broken: set[str] = set()
        try:
            for model in chosen:
                outcome = runner.ModelOutcome(model.name, model.layer, model.materialized)
                upstream_broken = sorted(self.project.upstream(model.name) & broken)
                if upstream_broken:
                    outcome.notes.append(f"not built: {', '.join(upstream_broken)} failed")
                    broken.add(model.name)
                else:
                    started, cpu_started = time.monotonic(), time.process_time()
                    try:
                        self._build_model(model, outcome)
                    except ModelError as exc:
                        outcome.status, outcome.error = runner.FAILED, str(exc)
                    except (PySparkException, duckdb.Error, IdbxError, OSError) as exc:
                        outcome.status, outcome.error = runner.FAILED, f"{model.label}: {runner._first_line(exc)}"
                    if outcome.status == runner.FAILED:
                        broken.add(model.name)
                    outcome.seconds = time.monotonic() - started
                    outcome.cpu_seconds = time.process_time() - cpu_started
                summary.models.append(outcome)
                if on_model:
                    on_model(outcome)
            seals.write_output_seals(self.lake, {name: files for name, files in self.output_seals.items() if name in self.project.models})
            reconciliation = self.lake.marts / "reconciliation" / PARTITION_FILE
            if any(o.name == "reconciliation" and o.status == runner.BUILT for o in summary.models):
                summary.reconciliation = self.duck.execute(
                    "SELECT check_name, status, count(*) FROM read_parquet(?) WHERE status <> 'ok' GROUP BY ALL ORDER BY ALL",
                    [str(reconciliation)],
                ).fetchall()
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
            raise IdbxError(f"cannot read {name}: {runner._first_line(exc)}") from None
        files = sources.source_files(self.lake, name)
        reader = self.spark.read.option("mergeSchema", "true")
        if name == settings.EVENTS_SOURCE and files:  # log_date from the partition folders
            frame = reader.option("basePath", str(self.lake.bronze / "events")).parquet(*map(str, files))
        elif (name.endswith("_history") or name == settings.REGISTRY_SOURCE) and files and all(f.suffix == ".parquet" for f in files):
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

    def _build_model(self, model: Model, outcome: runner.ModelOutcome) -> None:
        for ref in sorted(model.refs):
            if ref not in self.project and ref not in self.source_views:
                raise ModelError(model.label, f"reads {ref}, which is neither a model nor a lake table")
            if ref not in self.project:
                self._register_source(ref)
        select = spark_sql(model, runner.model_select(self.project, model, self.computed_at, self._data_through(model)))
        if model.materialized == settings.VIEW:
            self.spark.sql(f"CREATE OR REPLACE TEMP VIEW {_ident(model.name)} AS {select}")
            outcome.status = runner.VIEW
            return
        folder = self.lake.root / model.output_folder / model.name
        frame = self.spark.sql(_typed(self.columns[model.name], None, f"({select}) AS model"))
        if model.partition_by:
            written, removed = _write_partitions(frame, folder, model.partition_by)
            outcome.notes.append(f"{written} partition(s) written, {removed} removed")
        else:
            _write_table(frame, folder)
        outcome.status = runner.BUILT
        outcome.notes.append(FULL_REFRESH_NOTE)
        outcome.rows = writer.output_rows(self.duck, folder, model.partition_by)
        self.output_seals[model.name] = seals.reseal(self.lake, folder, self.output_seals.get(model.name, {}))
        # Models above read the output as written, as on DuckDB.
        files = sorted(folder.glob(f"{model.partition_by}=*/{PARTITION_FILE}")) if model.partition_by else [folder / PARTITION_FILE]
        output = self.spark.read.parquet(*map(str, files or [folder / MODEL_SCHEMA_FILE]))
        output.createOrReplaceTempView(model.name)

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


def _aside(folder: Path) -> Path:
    return folder.parent / f".{folder.name}{TMP_MARKER}{uuid.uuid4().hex}"


def _fsync_replace(source: Path, target: Path) -> None:
    with open(source, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(source, target)


def _write_table(frame, folder: Path) -> None:
    """One data.parquet, as the DuckDB writer's: written aside by Spark, renamed into place."""
    folder.mkdir(parents=True, exist_ok=True)
    work = _aside(folder)
    try:
        frame.coalesce(1).write.parquet(str(work))
        (part,) = sorted(work.glob("part-*.parquet"))
        _fsync_replace(part, folder / PARTITION_FILE)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_partitions(frame, folder: Path, column: str) -> tuple[int, int]:
    """`<column>=D/data.parquet` for every day the model gives, the column kept in the files (as
    DuckDB writes them), beside `_schema.parquet`; days it no longer gives lose their partition."""
    folder.mkdir(parents=True, exist_ok=True)
    work = _aside(folder)
    part = "_partition"
    try:
        keyed = frame.withColumn(part, frame[column])
        keyed.repartition(part).write.partitionBy(part).parquet(str(work / "days"))
        frame.limit(0).coalesce(1).write.parquet(str(work / "schema"))
        produced = {}
        for day_folder in (work / "days").glob(f"{part}=*"):
            files = sorted(day_folder.glob("part-*.parquet"))
            if len(files) != 1:
                raise OSError(f"{folder.name}: Spark wrote {len(files)} files for {day_folder.name}")
            produced[day_folder.name.split("=", 1)[1]] = files[0]
        for day, file in produced.items():
            target = folder / f"{column}={day}"
            target.mkdir(exist_ok=True)
            _fsync_replace(file, target / PARTITION_FILE)
        stale = [path for path in folder.glob(f"{column}=*") if path.name.split("=", 1)[1] not in produced]
        for path in stale:
            shutil.rmtree(path)
        (schema,) = sorted((work / "schema").glob("part-*.parquet"))
        _fsync_replace(schema, folder / MODEL_SCHEMA_FILE)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return len(produced), len(stale)


# -- DuckDB's macros on Spark's workers --------------------------------------------------------

_WORKER_CONNECTION: duckdb.DuckDBPyConnection | None = None


def _worker_connection() -> duckdb.DuckDBPyConnection:
    """One DuckDB connection per Spark worker process, with the IP macros and the country lookup."""
    global _WORKER_CONNECTION
    if _WORKER_CONNECTION is None:
        from idbx.privacy import geoip

        con = duckdb.connect()
        geoip.install_country_lookup(con)
        _WORKER_CONNECTION = con
    return _WORKER_CONNECTION


def _duckdb_macro_on_spark(name: str, returns: str):
    """A Spark Arrow function computing DuckDB's macro `name` of one text argument, a batch at a time."""
    from pyspark.sql.functions import arrow_udf

    def batch(values: pa.Array) -> pa.Array:
        con = _worker_connection()
        values_table = pa.table({"value": values})  # noqa: F841 (read by the query below)
        result = con.sql(f"SELECT {name}(value) FROM values_table").to_arrow_table()
        return result.column(0).combine_chunks()

    return arrow_udf(batch, returns)
