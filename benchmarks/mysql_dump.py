"""Benchmark: a course table delivered as a MySQL dump (self-hosted Open edX) against the same rows as
edX's TSV, and against DuckDB reading that TSV.

Writes ROWS rows of `courseware_studentmodule` (JSON `state` with quotes, timestamps, NULLs) twice:
as edX's TSV and as a mysqldump file (extended INSERTs of 1,000 rows, one statement a line). Then,
each in its own process (wall time and peak RSS, see measure.py):
  dump      idbx ingest package on a folder holding the dump (its INSERT lines split in DuckDB,
            the rows re-written as TSV, then landed as a TSV is)
  tsv       idbx ingest package on a folder holding the TSV
  duckdb    DuckDB read_csv(TSV) -> COPY TO parquet (zstd)

    .venv/bin/python benchmarks/mysql_dump.py [--rows 100000] [--work DIR] [--inputs-only]

--inputs-only writes the two folders and stops: for timing the commands side by side with another
checkout (RESULTS.md shows how).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import duckdb
from measure import machine, timed

NAME = "IDBx-IDB1x-2T2014-courseware_studentmodule-prod-analytics.sql"
INSERT_ROWS = 1000

ROWS_SQL = """
SELECT i AS id, 'problem' AS module_type,
       'block-v1:IDBx+IDB1x+2T2014+type@problem+block@' || (i % 500) AS module_id, i % 20000 AS student_id,
       '{"attempts": ' || (i % 5) || ', "input_state": {"a": "it''s \\"x\\""}}' AS state,
       CASE WHEN i % 7 = 0 THEN NULL ELSE (i % 3)::DOUBLE END AS grade,
       TIMESTAMP '2016-01-01' + to_seconds(i) AS created, TIMESTAMP '2016-02-01' + to_seconds(i) AS modified,
       3.0 AS max_grade, 'na' AS done, 'course-v1:IDBx+IDB1x+2T2014' AS course_id
FROM range(1, $rows + 1) t(i)
"""

BASELINE = """
import duckdb, sys
con = duckdb.connect()
rows = f"read_csv('{sys.argv[1]}', delim='\\t', quote='', escape='', header=true, nullstr='NULL')"
con.execute(f"COPY (SELECT * FROM {rows}) TO '{sys.argv[2]}' (FORMAT parquet, COMPRESSION zstd)")
"""


def _mysql(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def write_inputs(work: Path, rows: int) -> tuple[Path, Path]:
    """The folder with the TSV and the folder with the dump."""
    tsv_dir, dump_dir = work / "tsv" / "IDBx-2016-08-01", work / "dump" / "IDBx-2016-08-01"
    tsv_dir.mkdir(parents=True)
    dump_dir.mkdir(parents=True)
    con = duckdb.connect()
    relation = con.sql(ROWS_SQL.replace("$rows", str(int(rows))))
    tsv = "FORMAT csv, DELIMITER '\\t', QUOTE '', ESCAPE '', HEADER true, NULLSTR 'NULL'"
    con.execute(f"COPY ({relation.sql_query()}) TO '{tsv_dir / NAME}' ({tsv})")
    columns = relation.columns
    with open(dump_dir / NAME, "w", encoding="utf-8") as out:
        out.write("CREATE TABLE `courseware_studentmodule` (" + ", ".join(f"`{c}` text" for c in columns) + ");\n")
        reader = relation.to_arrow_reader(INSERT_ROWS)
        for batch in reader:
            values = ",".join("(" + ",".join(_mysql(v) for v in row.values()) + ")" for row in batch.to_pylist())
            out.write(f"INSERT INTO `courseware_studentmodule` VALUES {values};\n")
    return tsv_dir, dump_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("benchmarks/work/mysql-dump"))
    parser.add_argument("--inputs-only", action="store_true", help="write the TSV and dump folders, then stop")
    args = parser.parse_args()
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    tsv_dir, dump_dir = write_inputs(work, args.rows)
    if args.inputs_only:
        print(f"{tsv_dir}\n{dump_dir}")
        return
    idbx = str(Path(sys.executable).with_name("idbx"))
    course = ["--course-id", "course-v1:IDBx+IDB1x+2T2014"]
    results = [
        (
            "duckdb read_csv(TSV)",
            *timed([sys.executable, "-P", "-c", BASELINE, str(tsv_dir / NAME), str(work / "baseline.parquet")]),
        ),
        (
            "idbx ingest package (TSV)",
            *timed([idbx, "ingest", "package", str(tsv_dir), "--lake", str(work / "lake-tsv"), *course]),
        ),
        (
            "idbx ingest package (dump)",
            *timed([idbx, "ingest", "package", str(dump_dir), "--lake", str(work / "lake-dump"), *course]),
        ),
    ]
    print(machine(), f"{args.rows:,} rows; dump {(dump_dir / NAME).stat().st_size / 1e6:,.0f} MB")
    for label, seconds, mb in results:
        print(f"{label:<28}: {seconds:7.2f} s  {args.rows / seconds:>10,.0f} rows/s  peak {mb:,.0f} MB")


if __name__ == "__main__":
    main()
