"""Reading the marts a publish needs (I/O): copied, under the lake's build lock, into a private
DuckDB connection, so that a build finishing meanwhile cannot mix two builds into one publish and
the publish never holds the build up for longer than the copy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from idbx import engine
from idbx.errors import IdbxError
from idbx.lake.store import Lake
from idbx.models.state import build_lock
from idbx.publish.documents import MARTS, Schema
from idbx.quoting import quote_ident, sql_string


def table(mart: str) -> str:
    """The name of the copy of `mart` inside the publish's connection."""
    return quote_ident(f"mart_{mart}")


@contextmanager
def snapshot(lake: Lake, scratch: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict[str, Schema]]]:
    """A connection holding a copy of each mart the documents read, and their schemas."""
    if not lake.catalog_path.exists():
        raise IdbxError(f"no catalog at {lake.catalog_path}: ingest and run `idbx build` first")
    con = engine.connect(scratch)
    try:
        with build_lock(lake):
            con.execute(f"ATTACH {sql_string(str(lake.catalog_path))} AS lake (READ_ONLY)")
            views = {
                row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = 'lake'").fetchall()
            }
            missing = [mart for mart in MARTS if mart not in views]
            if missing:
                raise IdbxError(f"the lake has no {', '.join(missing)} mart yet: run `idbx build` first")
            for mart in MARTS:
                con.execute(f"CREATE TEMP TABLE {table(mart)} AS SELECT * FROM lake.{quote_ident(mart)}")
            con.execute("DETACH lake")
        schemas = {
            mart: [(name, type_) for name, type_, *_ in con.execute(f"DESCRIBE {table(mart)}").fetchall()] for mart in MARTS
        }
        yield con, schemas
    finally:
        con.close()
