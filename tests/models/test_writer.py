"""The model writer's partitions by course: any course key survives the folder name."""

from __future__ import annotations

import duckdb

from idbx.lake.store import Lake
from idbx.models import writer

KEYS = ["ra_2016_t1", "x=y", "p%q", "é_2016", "a#b?c"]


def _rows(con: duckdb.DuckDBPyConnection, select: str) -> list[tuple]:
    return sorted(con.execute(select).fetchall())


def test_course_partitions_are_found_again_by_their_key_whatever_it_holds(tmp_path):
    lake = Lake(tmp_path / "lake")
    folder = lake.silver / "zz_merged"
    con = duckdb.connect()
    values = ", ".join(f"('{key}', {n})" for n, key in enumerate(KEYS))
    select = f"SELECT * FROM (VALUES {values}) AS rows(course_key, n)"
    assert writer.write_partitions(con, lake, select, folder, "course_key", None) == (len(KEYS), 0)
    assert {writer.partition_value(p) for p in folder.glob("course_key=*")} == set(KEYS)
    assert _rows(con, writer.output_scan(folder)) == sorted((key, n) for n, key in enumerate(KEYS))
    # Two courses rewritten (one of them now empty: its folder goes); the others untouched.
    untouched = (folder / writer.partition_folder("course_key", "ra_2016_t1") / "data.parquet").stat().st_mtime_ns
    written = writer.write_partitions(con, lake, "SELECT 'x=y' AS course_key, 10 AS n", folder, "course_key", {"x=y", "é_2016"})
    assert written == (1, 1)
    assert _rows(con, writer.partitions_scan(folder, "course_key", {"x=y", "p%q"})) == [("p%q", 2), ("x=y", 10)]
    assert _rows(con, writer.output_scan(folder)) == [("a#b?c", 4), ("p%q", 2), ("ra_2016_t1", 0), ("x=y", 10)]
    assert (folder / writer.partition_folder("course_key", "ra_2016_t1") / "data.parquet").stat().st_mtime_ns == untouched
