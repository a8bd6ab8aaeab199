"""`idbx geoip`: which IP-to-country database answers, and what it says for given addresses."""

from __future__ import annotations

from typing import Annotated

import duckdb
import typer
from rich.markup import escape
from rich.table import Table

from idbx.cli.common import app, err, out, reported_errors
from idbx.privacy.geoip import country_by_ip, open_country_database


@app.command()
def geoip(
    addresses: Annotated[list[str] | None, typer.Argument(help="IPv4 or IPv6 addresses to look up.")] = None,
) -> None:
    """Check the country-by-IP database: IDBX_GEOIP_DB (.mmdb, or a first,last,country CSV) if set, else the pinned iptocc."""
    with reported_errors():
        database = open_country_database()
        err.print(escape(f"database: {database.description}"), highlight=False)
        if not addresses:
            return
        con = duckdb.connect()
        con.execute("CREATE TABLE asked AS SELECT unnest(?) AS ip", [addresses])
        found = dict(country_by_ip(con, "SELECT ip FROM asked", database).fetchall())
    table = Table("address", "country")
    for address in addresses:
        table.add_row(escape(address), found.get(address) or "unknown")
    out.print(table)
