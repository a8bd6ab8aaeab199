"""`idbx query`: SQL over the analysts' catalog, as a table or CSV."""

from __future__ import annotations

import csv
import re
import sys
from typing import Annotated

import duckdb
import typer
from rich.table import Table

from idbx.cli.common import EXIT_USAGE, LakeOption, app, err, out, reported_errors, shown
from idbx.config import lake_root
from idbx.errors import CatalogError
from idbx.lake.store import Lake

_LOCK_HOLDER = re.compile(r"held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
# `EXPLAIN [ANALYZE]` before the statement it explains (which ANALYZE runs).
_EXPLAIN = re.compile(r"^\s*EXPLAIN(\s+ANALYZE)?\b", re.IGNORECASE)


def refuse_writes(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Only queries run: a read-only catalog still lets DuckDB write files (`COPY ... TO`, `EXPORT
    DATABASE`), install or load extensions and attach other databases, any of which could forge
    what the build and publish read. DuckDB's own parser tells each statement's type."""
    for statement in con.extract_statements(sql):
        kind = statement.type
        if kind == duckdb.StatementType.EXPLAIN:
            kind = con.extract_statements(_EXPLAIN.sub("", statement.query, count=1))[0].type
        if kind != duckdb.StatementType.SELECT:
            raise CatalogError(
                f"idbx query runs queries only (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN), not {kind.name}: "
                "it never writes files or changes the lake; for a CSV use `idbx query ... --csv > file.csv`"
            )


def open_catalog(lake: Lake) -> duckdb.DuckDBPyConnection:
    """The catalog, read-only: analysts' read-only sessions never block it; a session that opened
    it for writing does, and the error says which process and what to do."""
    path = lake.catalog_path
    if not path.exists():
        raise CatalogError(f"no catalog at {path}: ingest something first, or run `idbx catalog refresh`")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        holder = _LOCK_HOLDER.search(str(exc))
        if not holder:
            raise CatalogError(f"{path}: {str(exc).splitlines()[0]}") from None
        raise CatalogError(
            f"{path} is open for writing by PID {holder['pid']} ({holder['program'].rsplit('/', 1)[-1]}): close that "
            f"session, or open the catalog there read-only (`duckdb -readonly {path}`), and run the query again"
        ) from None


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL over the catalog views (auth_user, events, ...).")],
    lake: LakeOption = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV with a header instead of a table.")] = False,
    limit: Annotated[int, typer.Option(min=0, help="Rows shown in table mode (CSV prints all).")] = 50,
) -> None:
    """Run SQL against lake/catalog.duckdb (read-only). Values print as DuckDB prints them (ISO
    times, JSON text, NULL as NULL in tables and empty in CSV)."""
    if not sql.strip():
        err.print('[bold red]error:[/] no SQL given: idbx query "SELECT ..."', highlight=False)
        raise typer.Exit(EXIT_USAGE)
    with reported_errors(), open_catalog(Lake(lake_root(lake)).require()) as con:
        try:
            refuse_writes(con, sql)
            result = con.sql(sql)
            if result is None:
                return
            names = result.columns
            as_text = result.select("CAST(COLUMNS(*) AS VARCHAR)")
            if as_csv:
                writer = csv.writer(sys.stdout, lineterminator="\n")
                writer.writerow(names)
                for batch in as_text.to_arrow_reader(10_000):
                    writer.writerows(zip(*(column.to_pylist() for column in batch.columns), strict=True))
                return
            rows = as_text.limit(limit + 1).fetchall()
        except duckdb.Error as exc:
            err.print(f"[bold red]error:[/] {shown(exc)}", highlight=False)
            raise typer.Exit(1) from None
    table = Table(*(shown(name) for name in names))
    for row in rows[:limit]:
        table.add_row(*("NULL" if value is None else shown(value) for value in row))
    out.print(table)
    if len(rows) > limit:
        err.print(f"[dim](first {limit} rows; use --limit N or --csv for more)[/]")
