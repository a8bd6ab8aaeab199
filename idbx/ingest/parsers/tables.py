"""edX course table dumps (the "TSV dialect") into typed DuckDB relations.

The dialect: tab-separated, a header row, `NULL` for nulls, and the mysql client's batch escapes
(`\\\\`, `\\t`, `\\n`, `\\r`, `\\0`) inside values, so one line is always one row. DuckDB's CSV reader
splits and types the columns and records every row it cannot read (with its line number) in its
rejects tables; text columns are then unescaped in SQL.

Each table's columns are declared once, here: the MySQL dump reader and the lake's catalog use
the same declarations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from idbx.errors import SourceFormatError
from idbx.ingest.parsers import RAW_CLIP
from idbx.quoting import quote_ident, sql_string


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "VARCHAR"
    required: bool = False
    pii: bool = False
    empty_is_null: bool = False


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def pii_columns(self) -> list[str]:
        return [column.name for column in self.columns if column.pii]

    def column(self, name: str) -> Column | None:
        return next((column for column in self.columns if column.name == name), None)


def _c(name: str, type: str = "VARCHAR", **flags: bool) -> Column:
    return Column(name, type, **flags)


REQ = {"required": True}
PII = {"pii": True}

TABLES: dict[str, TableSchema] = {
    schema.name: schema
    for schema in (
        TableSchema(
            "auth_user",
            (
                _c("id", "BIGINT", **REQ),
                _c("username", required=True, pii=True),
                _c("first_name", **PII),
                _c("last_name", **PII),
                _c("email", required=True, pii=True),
                _c("password", **PII),
                _c("is_staff", "BOOLEAN"),
                _c("is_active", "BOOLEAN"),
                _c("is_superuser", "BOOLEAN"),
                _c("last_login", "TIMESTAMP"),
                _c("date_joined", "TIMESTAMP", **REQ),
                _c("status"),
                _c("email_key", **PII),
                _c("avatar_type"),
                _c("country"),
                _c("show_country", "BOOLEAN"),
                _c("date_of_birth", "DATE", **PII),
                _c("interesting_tags"),
                _c("ignored_tags"),
                _c("email_tag_filter_strategy", "INTEGER"),
                _c("display_tag_filter_strategy", "INTEGER"),
                _c("consecutive_days_visit_count", "INTEGER"),
            ),
        ),
        TableSchema(
            "auth_userprofile",
            (
                _c("id", "BIGINT", **REQ),
                _c("user_id", "BIGINT", **REQ),
                _c("name", **PII),
                _c("language"),
                _c("location", **PII),
                _c("meta", **PII),
                _c("courseware"),
                _c("gender", **REQ),
                _c("mailing_address", **PII),
                _c("year_of_birth", "INTEGER", required=True, empty_is_null=True),
                _c("level_of_education", **REQ),
                _c("goals", **PII),
                _c("allow_certificate", "BOOLEAN"),
                _c("country", **REQ),
                _c("city", **PII),
                _c("bio", **PII),
                _c("profile_image_uploaded_at", "TIMESTAMP"),
            ),
        ),
        TableSchema(
            "certificates_generatedcertificate",
            (
                _c("id", "BIGINT"),
                _c("user_id", "BIGINT", **REQ),
                _c("download_url", **PII),
                _c("grade", "DECIMAL(7,4)", required=True, empty_is_null=True),
                _c("course_id", **REQ),
                _c("key", **PII),
                _c("distinction", "BOOLEAN"),
                _c("status", **REQ),
                _c("verify_uuid", **PII),
                _c("download_uuid", **PII),
                _c("name", **PII),
                _c("created_date", "TIMESTAMP", **REQ),
                _c("modified_date", "TIMESTAMP"),
                _c("error_reason"),
                _c("mode", **REQ),
            ),
        ),
        TableSchema(
            "courseware_studentmodule",
            (
                _c("id", "BIGINT"),
                _c("module_type", **REQ),
                _c("module_id", **REQ),
                _c("student_id", "BIGINT", **REQ),
                _c("state"),
                _c("grade", "DOUBLE"),
                _c("created", "TIMESTAMP", **REQ),
                _c("modified", "TIMESTAMP", **REQ),
                _c("max_grade", "DOUBLE"),
                _c("done"),
                _c("course_id", **REQ),
            ),
        ),
        TableSchema(
            "student_courseenrollment",
            (
                _c("id", "BIGINT", **REQ),
                _c("user_id", "BIGINT", **REQ),
                _c("course_id", **REQ),
                _c("created", "TIMESTAMP", **REQ),
                _c("is_active", "BOOLEAN", **REQ),
                _c("mode", **REQ),
            ),
        ),
        TableSchema(
            "user_id_map",
            (
                _c("hash_id", **REQ),
                _c("id", "BIGINT", **REQ),
                _c("username", required=True, pii=True),
            ),
        ),
    )
}

# Columns every bronze course-table row carries besides the source columns.
LINEAGE_COLUMNS = {
    "course_id": "VARCHAR",
    "course_key": "VARCHAR",
    "snapshot_date": "DATE",
    "source_file": "VARCHAR",
}

_SENTINEL = "chr(65535)"
_DUMP_START = re.compile(rb"^\s*(--|/\*|CREATE\s|DROP\s|INSERT\s|SET\s|LOCK\s|USE\s)", re.IGNORECASE)


def unescape_sql(expr: str) -> str:
    """SQL undoing the mysql batch escapes in one left-to-right sense (`\\\\n` stays `\\n`)."""
    out = f"replace({expr}, '\\\\', {_SENTINEL})"
    for escaped, char in (("\\t", "chr(9)"), ("\\n", "chr(10)"), ("\\r", "chr(13)"), ("\\0", "chr(0)")):
        out = f"replace({out}, '{escaped}', {char})"
    out = f"replace({out}, {_SENTINEL}, '\\')"
    return f"CASE WHEN strpos({expr}, '\\') = 0 THEN {expr} ELSE {out} END"


@dataclass
class HeaderCheck:
    columns: list[str]
    extra: list[str] = field(default_factory=list)


def is_mysql_dump(path: Path) -> bool:
    """A MySQL dump starts with SQL (a comment or a statement); a TSV table starts with its header row."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    return bool(_DUMP_START.match(head))


def read_header(path: Path, source: str) -> list[str]:
    with open(path, "rb") as handle:
        line = handle.readline()
    if not line.strip():
        raise SourceFormatError(source, "empty file: no header row")
    return line.decode("utf-8", errors="replace").rstrip("\r\n").split("\t")


def check_header(schema: TableSchema, header: list[str], source: str) -> HeaderCheck:
    """Missing required columns are fatal; unknown columns are kept as text and reported."""
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise SourceFormatError(source, f"duplicate columns in header: {', '.join(duplicates)}")
    missing = [c.name for c in schema.columns if c.required and c.name not in header]
    if missing:
        raise SourceFormatError(
            source, f"missing required column(s) for {schema.name}: {', '.join(missing)} (header: {', '.join(header)})"
        )
    return HeaderCheck(
        columns=header,
        extra=[name for name in header if schema.column(name) is None],
    )


def _reader_type(column: Column | None) -> str:
    if column is None or column.empty_is_null:
        return "VARCHAR"
    return column.type


# DuckDB's default line limit (2 MB) reads fastest; a file with longer rows is read again with this.
LONG_LINE_LIMIT = 256 << 20


def read_table_sql(path: Path, schema: TableSchema, header: list[str], long_lines: bool = False) -> str:
    """The DuckDB read_csv call for one table dump; rows it cannot split or type go to its rejects."""
    types = ", ".join(f"{sql_string(name)}: {sql_string(_reader_type(schema.column(name)))}" for name in header)
    limit = f", max_line_size = {LONG_LINE_LIMIT}" if long_lines else ""
    return (
        f"read_csv({sql_string(str(path))}, delim = '\\t', quote = '', escape = '', header = true, "
        f"auto_detect = false, nullstr = 'NULL', columns = {{{types}}}, strict_mode = true, "
        f"store_rejects = true{limit})"
    )


def _typed_select(schema: TableSchema, header: list[str]) -> list[str]:
    selected = []
    for column in schema.columns:
        name = quote_ident(column.name)
        if column.name not in header:
            selected.append(f"CAST(NULL AS {column.type}) AS {name}")
        elif column.empty_is_null:
            selected.append(f"CAST(NULLIF({name}, '') AS {column.type}) AS {name}")
        elif column.type == "VARCHAR":
            selected.append(f"{unescape_sql(name)} AS {name}")
        else:
            selected.append(name)
    for extra in header:
        if schema.column(extra) is None:
            selected.append(f"{unescape_sql(quote_ident(extra))} AS {quote_ident(extra)}")
    return selected


def table_relation(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    schema: TableSchema,
    header: list[str],
    lineage: dict[str, object],
    long_lines: bool = False,
) -> duckdb.DuckDBPyRelation:
    """Typed rows of one table dump, declared columns first, then extra columns, then lineage."""
    selected = _typed_select(schema, header)
    for name, value in lineage.items():
        type_ = LINEAGE_COLUMNS[name]
        selected.append(f"CAST({sql_string(str(value))} AS {type_}) AS {quote_ident(name)}")
    return con.sql(f"SELECT {', '.join(selected)} FROM {read_table_sql(path, schema, header, long_lines)}")


def rejects_relation(con: duckdb.DuckDBPyConnection, source: str) -> duckdb.DuckDBPyRelation:
    """One row per rejected line of the last read, with DuckDB's reasons joined."""
    return con.sql(
        f"""
        SELECT {sql_string(source)} AS source_file,
               CAST(line AS BIGINT) AS line_number,
               string_agg(error_type || coalesce(' (' || column_name || ')', '') || ': ' || error_message, '; '
                          ORDER BY column_idx) AS reason,
               left(any_value(csv_line), {RAW_CLIP}) AS raw
        FROM reject_errors
        GROUP BY line
        ORDER BY line
        """
    )


def retry_reasons(con: duckdb.DuckDBPyConnection) -> tuple[int, bool]:
    """After a read: lines with invalid UTF-8 (to repair), and whether any line was over the size limit."""
    bad_utf8, too_long = con.execute(
        "SELECT count(DISTINCT line) FILTER (error_type = 'INVALID ENCODING'), "
        "count(*) FILTER (error_type = 'LINE SIZE OVER MAXIMUM') > 0 FROM reject_errors"
    ).fetchall()[0]
    return bad_utf8, too_long


def repair_utf8(source: Path, destination: Path) -> None:
    """Copy a file with invalid UTF-8 sequences replaced by U+FFFD, a block at a time."""
    with open(source, "rb") as src, open(destination, "wb") as dst:
        pending = b""
        while block := src.read(16 << 20):
            block = pending + block
            cut = block.rfind(b"\n") + 1
            pending, block = block[cut:], block[:cut]
            dst.write(block.decode("utf-8", errors="replace").encode("utf-8"))
        dst.write(pending.decode("utf-8", errors="replace").encode("utf-8"))
