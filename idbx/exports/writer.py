"""Writing an export: DuckDB writes the CSV (UTF-8, header, RFC 4180 quoting) aside, then it is
renamed into place, so a failed export never leaves a truncated file. `excel` starts the file
with a byte-order mark, which makes Excel read it as UTF-8 (accents intact)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import duckdb

from idbx.errors import IdbxError
from idbx.exports.reports import REPORTS
from idbx.lake import Lake
from idbx.quoting import quote_ident, sql_string

MART_METADATA = ("computed_at", "data_through", "definitions_version")
_BOM = "\ufeff".encode()


def export_select(con: duckdb.DuckDBPyConnection, report_name: str, courses: list[str] | None = None) -> str:
    report = REPORTS[report_name]
    known = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    if report.mart not in known:
        raise IdbxError(f"the lake has no {report.mart} mart yet: run `idbx build` first")
    if report.columns:
        columns = ", ".join(f"{expression} AS {quote_ident(header)}" for header, expression in report.columns)
    else:
        names = [row[0] for row in con.execute(f"DESCRIBE {quote_ident(report.mart)}").fetchall()]
        columns = ", ".join(quote_ident(name) for name in names if name not in MART_METADATA)
    where = ""
    if courses:
        where = f" WHERE {report.course_column} IN ({', '.join(sql_string(c) for c in courses)})"
    return f"SELECT {columns} FROM {quote_ident(report.mart)}{where} ORDER BY {report.order_by}"


def write_report(lake: Lake, report_name: str, out: Path | None, excel: bool = False, courses: list[str] | None = None) -> int:
    """Write the export to `out` (stdout when None); returns the number of rows."""
    if not lake.catalog_path.exists():
        raise IdbxError(f"no catalog at {lake.catalog_path}: ingest and `idbx build` first")
    with duckdb.connect(str(lake.catalog_path), read_only=True) as con:
        select = export_select(con, report_name, courses)
        folder = out.parent if out else Path(tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{out.name if out else 'export'}.tmp-{uuid.uuid4().hex}"
        try:
            rows = con.execute(f"COPY ({select}) TO {sql_string(str(tmp))} (FORMAT csv, HEADER true, DELIMITER ',')").fetchall()[0][0]
            if out is None:
                _copy_to(tmp, sys.stdout.buffer, excel)
                sys.stdout.flush()
            else:
                if excel:
                    bom = tmp.with_name(tmp.name + ".bom")
                    with open(bom, "wb") as target:
                        _copy_to(tmp, target, excel)
                    os.replace(bom, tmp)
                os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
    return rows


def _copy_to(path: Path, target, excel: bool) -> None:
    if excel:
        target.write(_BOM)
    with open(path, "rb") as source:
        shutil.copyfileobj(source, target, 1 << 20)
