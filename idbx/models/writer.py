"""Writing model outputs (I/O), always aside then renamed into place: a reader or a crash sees the
old output or the new one, never a half-written file.

A table model is one `data.parquet`. A model partitioned by day is one `<column>=D/data.parquet`
per day, and a model merged by key one `course_key=K/data.parquet` per course (a build rewrites
the courses whose keys changed: a day's logs touch the courses running, not every course), each
partition replaced by its own rename, beside a zero-row `_schema.parquet` that keeps the model's
columns visible while it has no partition. A partition's folder name is its value URL-encoded
(`partition_folder`), whichever engine wrote it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, unquote

import duckdb

from idbx.lake import atomic, catalog
from idbx.lake.catalog import MODEL_SCHEMA_FILE
from idbx.lake.store import PARTITION_FILE, Lake
from idbx.quoting import quote_ident, sql_string

# zstd's fastest level: model outputs are rewritten at every build that changes them, and on their
# columns (ids, counts, dates) level 1 compresses as well as the default 3 for two thirds of the
# CPU (person_course, 600,000 rows: 35.6 MB either way, 1.0 CPU-s instead of 1.5).
COMPRESSION_LEVEL = 1
_OPTIONS = f"FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL {COMPRESSION_LEVEL}"


# Called with the files written aside, before any is moved into place (an exception keeps the old output).
StagedCheck = Callable[[list[str]], None]


def partition_folder(column: str, value: str) -> str:
    """The folder of one partition: `<column>=<value>`, the value URL-encoded as DuckDB writes it
    (a course key may hold `=`, `%` or letters beyond ASCII; a day is unchanged)."""
    return f"{column}={quote(value, safe='')}"


def partition_value(folder: Path) -> str:
    """The value a partition folder holds (the inverse of partition_folder, and of Spark's escaping)."""
    return unquote(folder.name.split("=", 1)[1])


def write_table(con: duckdb.DuckDBPyConnection, lake: Lake, select: str, folder: Path, check: StagedCheck | None = None) -> int:
    staged = lake.stage_partition(con.sql(select), folder, compression_level=COMPRESSION_LEVEL)
    try:
        rows = staged.rows
        if check:
            check([str(staged.tmp)])
        lake.move_into_place([staged])
    except BaseException:
        lake.discard([staged])
        raise
    remove_other_layout(folder, partitioned=False)
    return rows


def remove_other_layout(folder: Path, partitioned: bool) -> None:
    """After a model's output is written in its layout, what an earlier layout left (a merged model
    written as one file before it was kept per course), so that readers see one or the other."""
    if partitioned:
        atomic.remove(folder / PARTITION_FILE)
    else:
        for leftover in [*folder.glob("*=*"), folder / MODEL_SCHEMA_FILE]:
            atomic.remove(leftover)


def write_partitions(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    select: str,
    folder: Path,
    column: str,
    values: set[str] | None,
    check: StagedCheck | None = None,
) -> tuple[int, int]:
    """Replace the partitions of these `values` of `column` (days, or courses; every partition when
    None) with what `select` gives for them; values it gives nothing for lose their partition.
    Returns (partitions written, removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    work = lake.aside(folder)
    try:
        con.execute(
            f"COPY ({select}) TO {sql_string(str(work))} ({_OPTIONS}, "
            f"PARTITION_BY ({quote_ident(column)}), WRITE_PARTITION_COLUMNS true, FILENAME_PATTERN 'part_{{i}}')"
        )
        schema = folder / MODEL_SCHEMA_FILE
        staged_schema = work / MODEL_SCHEMA_FILE
        con.execute(f"COPY (SELECT * FROM ({select}) AS model LIMIT 0) TO {sql_string(str(staged_schema))} (FORMAT parquet)")
        produced = {}
        for partition in work.glob(f"{column}=*"):
            produced[partition_value(partition)] = sorted(partition.glob("*.parquet"))
        if values is not None and not set(produced) <= values:
            outside = sorted(set(produced) - values)[:5]
            raise RuntimeError(f"{folder.name}: wrote partitions outside the ones asked for: {outside}")
        if check:
            check([str(staged_schema)] + [str(file) for files in produced.values() for file in files])
        for value, files in produced.items():
            target = folder / partition_folder(column, value)
            target.mkdir(exist_ok=True)
            if len(files) > 1:
                merged = work / f"{target.name}.merged.parquet"
                listed = "[" + ", ".join(sql_string(str(f)) for f in files) + "]"
                con.execute(f"COPY (SELECT * FROM read_parquet({listed})) TO {sql_string(str(merged))} ({_OPTIONS})")
                files = [merged]
            atomic.rename_into_place(files[0], target / PARTITION_FILE)
        existing = {partition_value(p): p for p in folder.glob(f"{column}=*")}
        stale = [path for value, path in existing.items() if value not in produced and (values is None or value in values)]
        for path in stale:
            atomic.remove(path)
        atomic.rename_into_place(staged_schema, schema)
        if values is None:
            remove_other_layout(folder, partitioned=True)
    finally:
        atomic.remove(work)
    return len(produced), len(stale)


def output_scan(model_folder: Path) -> str:
    """SELECT over a model's output as written (as the catalog's view reads it)."""
    schema = model_folder / MODEL_SCHEMA_FILE
    return catalog.model_output_scan(model_folder) or f"SELECT * FROM read_parquet({sql_string(str(schema))})"


def partitions_scan(model_folder: Path, partition_by: str, values: set[str]) -> str:
    """SELECT over the partitions of these values (days, or courses) as they are now (none: no
    rows, the model's columns)."""
    paths = [model_folder / partition_folder(partition_by, value) / PARTITION_FILE for value in sorted(values)]
    files = [path for path in paths if path.exists()]
    if not files:
        return f"SELECT * FROM read_parquet({sql_string(str(model_folder / MODEL_SCHEMA_FILE))})"
    return f"SELECT * FROM read_parquet([{', '.join(sql_string(str(path)) for path in files)}], hive_partitioning = false)"


def output_exists(model_folder: Path, partition_by: str | None) -> bool:
    return (model_folder / (PARTITION_FILE if partition_by is None else MODEL_SCHEMA_FILE)).exists()


def output_rows(con: duckdb.DuckDBPyConnection, model_folder: Path) -> int:
    return con.execute(f"SELECT count(*) FROM ({output_scan(model_folder)})").fetchall()[0][0]
