"""Tiny bronze datasets written straight to Parquet, so each test states its data in a few lines
and its expectations by hand."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import duckdb

from idbx.lake.store import Lake
from idbx.parsers.event_fields import with_event_fields
from idbx.parsers.naming import course_key_sql
from idbx.parsers.tables import LINEAGE_COLUMNS, TABLES
from idbx.parsers.tracking_log import LANDED_EVENT_COLUMNS
from idbx.quoting import quote_ident, sql_string

KEY = "tests-pseudonym-key-0123456789"


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (date, datetime)):
        return sql_string(value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat())
    if isinstance(value, dict):
        return sql_string(json.dumps(value))
    return sql_string(str(value))


def _write(path: Path, columns: dict[str, str], rows: list[dict], derive: Callable[[str], str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    unknown = {name for row in rows for name in row} - set(columns)
    assert not unknown, f"no such column: {unknown}"

    def select(row: dict) -> str:
        return "SELECT " + ", ".join(
            f"CAST({_literal(row.get(name))} AS {type_}) AS {quote_ident(name)}" for name, type_ in columns.items()
        )

    sql = " UNION ALL ".join(select(row) for row in rows) if rows else select({}) + " WHERE false"
    if derive:  # the columns ingestion derives, as it derives them
        sql = derive(f"({sql})")
    duckdb.execute(f"COPY ({sql}) TO {sql_string(str(path))} (FORMAT parquet)")
    return path


def course_key(course_id: str) -> str:
    return duckdb.execute(f"SELECT {course_key_sql(sql_string(course_id))}").fetchall()[0][0]


def table(lake: Lake, name: str, course_id: str, rows: list[dict], snapshot: date = date(2016, 7, 4)) -> Path:
    """bronze/<name>/snapshot_date=D/course=K/data.parquet with the table's declared columns."""
    key = course_key(course_id)
    columns = {c.name: c.type for c in TABLES[name].columns} | LINEAGE_COLUMNS
    filled = [
        {
            "course_id": course_id,
            **row,
            "course_key": key,
            "snapshot_date": snapshot,
            "source_file": f"{course_id.replace('/', '-')}-{name}.sql",
        }
        for row in rows
    ]
    if "course_id" in {c.name for c in TABLES[name].columns}:
        filled = [{**row, "course_id": row.get("course_id", course_id)} for row in filled]
    return _write(lake.partition_dir(name, snapshot_date=snapshot.isoformat(), course=key) / "data.parquet", columns, filled)


def events(lake: Lake, log_date: date, rows: list[dict], file_name: str = "data.parquet") -> Path:
    """bronze/events/log_date=D/<file_name>: events with `time` as a datetime (UTC) and whatever
    envelope fields the test names; course_key derived from course_id; lineage from the file's name
    (a second file of a day is a second source file)."""
    source = f"idbx-edx-events-{log_date}.log.gz" if file_name == "data.parquet" else file_name
    filled = []
    for number, row in enumerate(rows, start=1):
        row = {"event_source": "server", "line_number": number, "source_file": source, **row}
        if row.get("course_id"):
            row["course_key"] = course_key(row["course_id"])
        filled.append(row)
    path = lake.partition_dir("events", log_date=log_date.isoformat()) / file_name
    return _write(path, dict(LANDED_EVENT_COLUMNS), filled, with_event_fields)


def registry(path: Path, rows: list[str]) -> Path:
    """A registry CSV (rows as CSV lines after the header)."""
    path.write_text(
        "course_key,name,sme,start_date,end_date,excluded,passing_grade,notes\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    return path


def rows(lake: Lake, sql: str) -> list[tuple]:
    """Query the lake's catalog (the views analysts and the exports read)."""
    with duckdb.connect(str(lake.catalog_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def pseudonym(user_id: int, key: str = KEY) -> str:
    """The published learner id by the HMAC definition (its first 15 hex digits), computed in
    Python (not with the SQL under test)."""
    import hashlib
    import hmac

    return hmac.new(key.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()[:15]


def learner_key(user_id: int, key: str = KEY) -> int:
    """The in-lake learner key: the same 15 hex digits as a number."""
    return int(pseudonym(user_id, key), 16)
