"""`idbx catalog`: the analysts' catalog (lake/catalog.duckdb)."""

from __future__ import annotations

import typer
from rich.markup import escape

from idbx.cli.common import LakeOption, app, err, reported_errors
from idbx.config import lake_root
from idbx.lake import catalog
from idbx.lake.store import Lake

catalog_app = typer.Typer(help="The analysts' catalog (lake/catalog.duckdb).", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


@catalog_app.command("refresh")
def catalog_refresh(lake: LakeOption = None) -> None:
    """Rebuild lake/catalog.duckdb's views (after moving the lake, say)."""
    with reported_errors():
        chosen = Lake(lake_root(lake)).require()
        chosen.check_writable()
        path = catalog.refresh(chosen)
    err.print(escape(f"catalog rebuilt: {path}"))
