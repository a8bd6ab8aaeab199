"""Writing an export: DuckDB writes the CSV (UTF-8, header, RFC 4180 quoting) aside, then it is
renamed into place, so a failed export never leaves a truncated file. `excel` starts the file
with a byte-order mark, which makes Excel read it as UTF-8 (accents intact)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from idbx.errors import IdbxError
from idbx.exports import engagement
from idbx.exports.reports import PII_COLUMNS, REPORTS
from idbx.lake.store import Lake
from idbx.models.settings import UNPUBLISHED_COLUMNS
from idbx.privacy import pseudonym
from idbx.quoting import quote_ident, sql_string

_BOM = "\ufeff".encode()
# Where the build-and-publish flow keeps the standard exports, inside the lake: one file per report.
EXPORTS_FOLDER = "exports"


def _people_sql() -> str:
    """Each learner's username, email and full name (the profile's, else first and last name) from
    the latest snapshot that holds them, keyed by learner_id; the pseudonym macro must be installed."""
    return (
        f"SELECT {pseudonym.ID_MACRO}({pseudonym.MACRO}(account.id)) AS learner_id, account.username, account.email, "
        "coalesce(nullif(trim(profile.name), ''), nullif(trim(concat_ws(' ', account.first_name, account.last_name)), '')) "
        "AS full_name "
        "FROM (SELECT * FROM auth_user QUALIFY row_number() OVER (PARTITION BY id ORDER BY snapshot_date DESC) = 1) AS account "
        "LEFT JOIN (SELECT * FROM auth_userprofile QUALIFY row_number() OVER (PARTITION BY user_id "
        "ORDER BY snapshot_date DESC) = 1) AS profile ON profile.user_id = account.id"
    )


def export_select(
    con: duckdb.DuckDBPyConnection,
    report_name: str,
    courses: list[str] | None = None,
    include_pii: bool = False,
    intervals: engagement.Intervals | None = None,
) -> str:
    report = REPORTS[report_name]
    known = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    if report.mart not in known:
        raise IdbxError(f"the lake has no {report.mart} mart yet: run `idbx build` first")
    if report.mart == engagement.MART:  # its learners named in place of learner_id, its intervals chosen
        return engagement.report_select(con, intervals or engagement.Intervals(), courses, _people_sql() if include_pii else None)
    if report.columns:
        columns = ", ".join(f"{expression} AS {quote_ident(header)}" for header, expression in report.columns)
    else:
        names = [row[0] for row in con.execute(f"DESCRIBE {quote_ident(report.mart)}").fetchall()]
        columns = ", ".join(quote_ident(name) for name in names if name not in UNPUBLISHED_COLUMNS)
    where = ""
    if courses:
        where = f" WHERE {report.course_column} IN ({', '.join(sql_string(c) for c in courses)})"
    source = quote_ident(report.mart)
    if include_pii:
        columns += ", " + ", ".join(f"people.{name}" for name in PII_COLUMNS)
        source = f"{source} LEFT JOIN ({_people_sql()}) AS people USING (learner_id)"
    return f"SELECT {columns} FROM {source}{where} ORDER BY {report.order_by}"


@contextmanager
def _mart_readable(report_name: str) -> Iterator[None]:
    """A mart that no longer reads as its export expects (columns dropped or retyped outside a
    build) is named in one line, not a DuckDB traceback."""
    try:
        yield
    except duckdb.Error as exc:
        mart = REPORTS[report_name].mart
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise IdbxError(
            f"{report_name}: the {mart} mart cannot be read as this export needs ({first}); "
            f"rebuild it: idbx build --select {mart}"
        ) from None


def write_report(
    lake: Lake,
    report_name: str,
    out: Path | None,
    excel: bool = False,
    courses: list[str] | None = None,
    include_pii: bool = False,
    key: str | None = None,
    intervals: engagement.Intervals | None = None,
) -> int:
    """Write the export to `out` (stdout when None); returns the number of rows. With
    `include_pii` (staff exports only) learners are also named, matched by the pseudonym key
    (`key`, else IDBX_PSEUDONYM_KEY), which must be the one the marts were built with.
    `intervals`: the engagement report's (default: the mart's whole range)."""
    if include_pii and not REPORTS[report_name].pii_allowed:
        allowed = ", ".join(name for name, report in REPORTS.items() if report.pii_allowed)
        raise IdbxError(f"--include-pii is for the staff exports only ({allowed}), not {report_name}")
    if not lake.catalog_path.exists():
        raise IdbxError(f"no catalog at {lake.catalog_path}: ingest and `idbx build` first")
    with duckdb.connect(str(lake.catalog_path), read_only=True) as con, _mart_readable(report_name):
        if include_pii:
            pseudonym.install(con, pseudonym.resolve_key(key))
        select = export_select(con, report_name, courses, include_pii, intervals)
        if include_pii:
            rows, named = con.execute(f"SELECT count(*), count(username) FROM ({select})").fetchall()[0]
            if rows and not named:
                raise IdbxError(
                    f"no learner of the export matches a user of the lake under {pseudonym.KEY_ENV}: "
                    "it is not the key the marts were built with (or the lake's user tables were scrubbed)"
                )
        if out is None:
            with tempfile.TemporaryDirectory(prefix="idbx-export-") as folder:
                csv = Path(folder) / "export.csv"
                rows = _copy_csv(con, select, csv)
                _copy_to(csv, sys.stdout.buffer, excel)
                sys.stdout.flush()
        elif not excel:
            with lake.writing(out) as tmp:
                rows = _copy_csv(con, select, tmp)
        else:
            with lake.writing(out) as tmp:
                plain = tmp.with_name(f"{tmp.name}.csv")  # DuckDB's CSV, before the byte-order mark
                try:
                    rows = _copy_csv(con, select, plain)
                    with open(tmp, "wb") as target:
                        _copy_to(plain, target, excel)
                finally:
                    plain.unlink(missing_ok=True)
    return rows


def _copy_csv(con: duckdb.DuckDBPyConnection, select: str, path: Path) -> int:
    return con.execute(f"COPY ({select}) TO {sql_string(str(path))} (FORMAT csv, HEADER true, DELIMITER ',')").fetchall()[0][0]


def write_standard_exports(lake: Lake, folder: Path | None = None) -> dict[Path, int]:
    """Every report, pseudonymous (no --include-pii), as `<name>.csv` in `folder` (default
    lake/exports/), each written aside and renamed into place; rows by file. For BI tools that
    read fixed paths: a reader opens each file's previous or new version, never a partial one."""
    folder = folder or lake.root / EXPORTS_FOLDER
    return {folder / f"{name}.csv": write_report(lake, name, folder / f"{name}.csv") for name in REPORTS}


def _copy_to(path: Path, target, excel: bool) -> None:
    if excel:
        target.write(_BOM)
    with open(path, "rb") as source:
        shutil.copyfileobj(source, target, 1 << 20)
