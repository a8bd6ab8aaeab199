"""`idbx query`: SQL over the analysts' catalog, as a table or CSV."""

from __future__ import annotations

import csv
import sys
from typing import Annotated

import duckdb
import typer
from rich.markup import escape
from rich.table import Table

from idbx.cli.common import LakeOption, app, err, out
from idbx.config import lake_root
from idbx.lake import Lake


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL over the catalog views (auth_user, events, ...).")],
    lake: LakeOption = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV with a header instead of a table.")] = False,
    limit: Annotated[int, typer.Option(help="Rows shown in table mode (CSV prints all).")] = 50,
) -> None:
    """Run SQL against lake/catalog.duckdb (read-only)."""
    path = Lake(lake_root(lake)).catalog_path
    if not path.exists():
        err.print(f"[bold red]error:[/] no catalog at {escape(str(path))}: ingest something first, or run `idbx catalog refresh`")
        raise typer.Exit(1)
    with duckdb.connect(str(path), read_only=True) as con:
        try:
            cursor = con.execute(sql)
        except duckdb.Error as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
            raise typer.Exit(1) from None
        names = [d[0] for d in cursor.description or []]
        if as_csv:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(names)
            while batch := cursor.fetchmany(10_000):
                writer.writerows(batch)
            return
        rows = cursor.fetchmany(limit + 1)
        table = Table(*names)
        for row in rows[:limit]:
            table.add_row(*("NULL" if v is None else escape(str(v)) for v in row))
        out.print(table)
        if len(rows) > limit:
            err.print(f"[dim](first {limit} rows; use --limit N or --csv for more)[/]")
