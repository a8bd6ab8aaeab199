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
from idbx.parsers import RAW_CLIP
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
        # The other tables of a research data package (columns as edX's exports and edx-platform's
        # models have them). Learner-written free text is PII like a profile's goals and bio.
        TableSchema(
            "student_languageproficiency",
            (_c("id", "BIGINT"), _c("user_profile_id", "BIGINT", **REQ), _c("code", **REQ)),
        ),
        TableSchema(
            "student_anonymoususerid",
            (_c("id", "BIGINT"), _c("user_id", "BIGINT", **REQ), _c("anonymous_user_id", **REQ), _c("course_id")),
        ),
        TableSchema(
            "student_courseaccessrole",
            (_c("id", "BIGINT"), _c("user_id", "BIGINT", **REQ), _c("org"), _c("course_id"), _c("role", **REQ)),
        ),
        TableSchema(
            "user_api_usercoursetag",
            (_c("id", "BIGINT"), _c("user_id", "BIGINT", **REQ), _c("key", **REQ), _c("course_id", **REQ), _c("value")),
        ),
        TableSchema(
            "verify_student_verificationstatus",
            (
                _c("id", "BIGINT"),
                _c("timestamp", "TIMESTAMP"),
                _c("status", **REQ),
                _c("course_id"),
                _c("checkpoint_location"),
                _c("user_id", "BIGINT", **REQ),
            ),
        ),
        TableSchema(
            "teams",
            (
                _c("id", "BIGINT", **REQ),
                _c("team_id", **REQ),
                _c("name"),
                _c("course_id", **REQ),
                _c("topic_id"),
                _c("date_created", "TIMESTAMP"),
                _c("description"),
                _c("country"),
                _c("language"),
                _c("discussion_topic_id"),
                _c("last_activity_at", "TIMESTAMP"),
                _c("team_size", "INTEGER"),
            ),
        ),
        TableSchema(
            "teams_membership",
            (
                _c("id", "BIGINT"),
                _c("user_id", "BIGINT", **REQ),
                _c("team_id", "BIGINT", **REQ),
                _c("date_joined", "TIMESTAMP"),
                _c("last_activity_at", "TIMESTAMP"),
            ),
        ),
        TableSchema(
            "course_groups_courseusergroup",
            (_c("id", "BIGINT", **REQ), _c("name", **REQ), _c("course_id", **REQ), _c("group_type")),
        ),
        TableSchema(
            "course_groups_cohortmembership",
            (_c("id", "BIGINT"), _c("course_user_group_id", "BIGINT", **REQ), _c("user_id", "BIGINT", **REQ), _c("course_id")),
        ),
        TableSchema(
            "grades_persistentcoursegrade",
            (
                _c("id", "BIGINT"),
                _c("user_id", "BIGINT", **REQ),
                _c("course_id", **REQ),
                _c("course_edited_timestamp", "TIMESTAMP"),
                _c("course_version"),
                _c("grading_policy_hash"),
                _c("percent_grade", "DOUBLE", **REQ),
                _c("letter_grade"),
                _c("passed_timestamp", "TIMESTAMP"),
                _c("created", "TIMESTAMP"),
                _c("modified", "TIMESTAMP"),
            ),
        ),
        TableSchema(
            "grades_persistentsubsectiongrade",
            (
                _c("id", "BIGINT"),
                _c("user_id", "BIGINT", **REQ),
                _c("course_id", **REQ),
                _c("usage_key", **REQ),
                _c("subtree_edited_timestamp", "TIMESTAMP"),
                _c("course_version"),
                _c("earned_all", "DOUBLE"),
                _c("possible_all", "DOUBLE"),
                _c("earned_graded", "DOUBLE"),
                _c("possible_graded", "DOUBLE"),
                _c("visible_blocks_hash"),
                _c("first_attempted", "TIMESTAMP"),
                _c("created", "TIMESTAMP"),
                _c("modified", "TIMESTAMP"),
            ),
        ),
        TableSchema(
            "wiki_article",
            (
                _c("id", "BIGINT", **REQ),
                _c("current_revision_id", "BIGINT"),
                _c("created", "TIMESTAMP"),
                _c("modified", "TIMESTAMP"),
                _c("owner_id", "BIGINT"),
                _c("group_id", "BIGINT"),
                _c("group_read", "BOOLEAN"),
                _c("group_write", "BOOLEAN"),
                _c("other_read", "BOOLEAN"),
                _c("other_write", "BOOLEAN"),
            ),
        ),
        TableSchema(
            "wiki_articlerevision",
            (
                _c("id", "BIGINT", **REQ),
                _c("revision_number", "INTEGER"),
                _c("user_message", **PII),
                _c("automatic_log"),
                _c("ip_address", **PII),
                _c("user_id", "BIGINT"),
                _c("modified", "TIMESTAMP"),
                _c("created", "TIMESTAMP"),
                _c("previous_revision_id", "BIGINT"),
                _c("deleted", "BOOLEAN"),
                _c("locked", "BOOLEAN"),
                _c("article_id", "BIGINT", **REQ),
                _c("content", **PII),
                _c("title"),
            ),
        ),
        # Made from the course structure JSON (or, without it, the course export's chapter list):
        # one row per block, see parsers/course_structure.py.
        TableSchema(
            "course_blocks",
            (
                _c("block_id", **REQ),
                _c("block_type"),
                _c("display_name"),
                _c("parent_id"),
                _c("position", "INTEGER"),
                _c("depth", "INTEGER"),
                _c("chapter_id"),
                _c("sequential_id"),
                _c("graded", "BOOLEAN"),
                _c("format"),
                _c("due", "TIMESTAMP"),
                _c("start", "TIMESTAMP"),
                _c("metadata", "JSON"),
            ),
        ),
        # Made from the forum's MongoDB dump: one row per thread or comment, see parsers/forum.py.
        TableSchema(
            "forum_posts",
            (
                _c("post_id", **REQ),
                _c("post_type"),
                _c("thread_id"),
                _c("parent_id"),
                _c("author_id", "BIGINT"),
                _c("author_username", **PII),
                _c("course_id"),
                _c("created_at", "TIMESTAMP"),
                _c("updated_at", "TIMESTAMP"),
                _c("title", **PII),
                _c("body", **PII),
                _c("votes_up", "INTEGER"),
                _c("votes_down", "INTEGER"),
                _c("comment_count", "INTEGER"),
                _c("anonymous", "BOOLEAN"),
                _c("anonymous_to_peers", "BOOLEAN"),
                _c("commentable_id"),
                _c("thread_type"),
                _c("endorsed", "BOOLEAN"),
                _c("closed", "BOOLEAN"),
                _c("pinned", "BOOLEAN"),
                _c("last_activity_at", "TIMESTAMP"),
                _c("line_number", "BIGINT"),
            ),
        ),
    )
}

# Datasets made from other files than a table dump of that name.
DERIVED_DATASETS = ("course_blocks", "forum_posts")
# Names the lake and its catalog use for themselves: no table dump may land under them.
RESERVED_NAMES = frozenset(DERIVED_DATASETS) | {
    "events",
    "rejects",
    "event_types",
    "event_rejects",
    "table_rejects",
    "ingest_manifest",
    "scrub_log",
}


def reserved_name_problem(table: str) -> str | None:
    """Why a table dump cannot land under this name, if it cannot."""
    if table in RESERVED_NAMES or table.endswith("_history"):
        return f"'{table}' is a name the lake keeps for its own datasets and views; a table dump cannot land under it"
    return None


def untyped_schema(table: str, header: list[str]) -> TableSchema:
    """A table we have no declaration for: every column of its header, as text."""
    return TableSchema(table, tuple(Column(name) for name in header))


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


# A header row is a few hundred bytes; reading one is bounded whatever the file holds.
_HEADER_LIMIT = 1 << 20
_BOM = b"\xef\xbb\xbf"


def read_header(path: Path, source: str) -> list[str]:
    """The header row's column names (a UTF-8 BOM dropped); a file whose lines end in a lone CR
    is refused plainly (DuckDB would see one giant line)."""
    with open(path, "rb") as handle:
        line = handle.readline(_HEADER_LIMIT).removeprefix(_BOM)
    if not line.strip():
        raise SourceFormatError(source, "empty file: no header row")
    if b"\r" in line.rstrip(b"\r\n"):
        raise SourceFormatError(source, "lines end with CR (\\r) only, not \\n (old Mac line endings): convert the file first")
    if not line.endswith(b"\n") and len(line) == _HEADER_LIMIT:
        raise SourceFormatError(source, f"no header row: the first line is longer than {_HEADER_LIMIT >> 20} MB")
    return line.decode("utf-8", errors="replace").rstrip("\r\n").split("\t")


def _shown(names: list[str]) -> str:
    """Header fields as a message may show them: names some table declares, the others only
    counted, since a dump without its header row has a learner's row in their place."""
    known = {column.name for table in TABLES.values() for column in table.columns} | set(LINEAGE_COLUMNS)
    shown = [name for name in names if name in known]
    others = len(names) - len(shown)
    return ", ".join(shown + ([f"{others} other field(s)"] if others else [])) or "none"


def check_header(schema: TableSchema, header: list[str], source: str) -> HeaderCheck:
    """Missing required columns are fatal; unknown columns are kept as text and reported."""
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise SourceFormatError(source, f"duplicate columns in header: {_shown(duplicates)}")
    missing = [c.name for c in schema.columns if c.required and c.name not in header]
    if missing:
        raise SourceFormatError(
            source, f"missing required column(s) for {schema.name}: {', '.join(missing)} (header: {_shown(header)})"
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


def retry_reasons(con: duckdb.DuckDBPyConnection) -> tuple[int, bool, int]:
    """After a read: lines with invalid UTF-8 (to repair), whether any line was over the size
    limit, and how many lines were rejected."""
    bad_utf8, too_long, rejected = con.execute(
        "SELECT count(DISTINCT line) FILTER (error_type = 'INVALID ENCODING'), "
        "count(*) FILTER (error_type = 'LINE SIZE OVER MAXIMUM') > 0, count(DISTINCT line) FROM reject_errors"
    ).fetchall()[0]
    return bad_utf8, too_long, rejected


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
