"""The published documents, as DuckDB SQL over the marts (pure: text in, text out), and the one
step from an Arrow batch to the dicts pymongo sends.

Each document is a struct built in SQL, and its content hash is the md5 of that struct's JSON
(`to_json` writes keys in struct order and map entries in the marts' order, so equal content
gives equal text). Columns are taken from the marts as they are, so a column a colleague adds to
`person_course` reaches the learner documents without a change here; only the build's own
bookkeeping (`computed_at`, `definitions_version`) stays out of the hashes, so that rebuilding
unchanged marts publishes nothing.

Types: BSON has no date-only, decimal-as-Python or 128-bit integer values, so DATE becomes a
timestamp at midnight UTC, DECIMAL a double, HUGEINT/UBIGINT a double; TIME, INTERVAL, UUID
and the like become text.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from idbx.models.settings import MART_COLUMNS, UNPUBLISHED_COLUMNS
from idbx.privacy.pii import pii_spec
from idbx.quoting import quote_ident, sql_string

Schema = Sequence[tuple[str, str]]  # (column, DuckDB type) in mart order

MART_METADATA = tuple(MART_COLUMNS)  # computed_at, data_through, definitions_version
# The marts the documents read.
COURSE_REPORT = "course_report"
PERSON_COURSE = "person_course"
# Series of the `courses` documents: mart -> the columns that order its rows within a course.
SERIES = {
    "activity_daily": ("date",),
    "weekly_active": ("week_start", "label"),
    "enrollment_daily": ("date", "mode"),
}
# The outline of the `courses` documents: chapters in course order, with their subsections and reach.
OUTLINE = "chapter_funnel"
OUTLINE_FIELDS = (
    "block_id",
    "display_name",
    "learners",
    "learners_from_events",
    "learners_from_courseware",
    "share_of_previous",
    "share_of_first",
)
MARTS = (COURSE_REPORT, PERSON_COURSE, *SERIES, OUTLINE)
COURSE_COLUMNS = ("course_key", "course_id")
# Columns of course_report that describe the course rather than count anything.
COURSE_METADATA = ("course_id", "name", "sme", "start_date", "end_date", "registered", "passing_grade", "snapshot_date")
# person_course flags counted into a course's indicators.
LEARNER_FLAGS = ("viewed", "explored", "completed", "certified")

_TO_DOUBLE = ("DECIMAL", "HUGEINT", "UHUGEINT", "UBIGINT")
_TO_TEXT = ("TIME", "INTERVAL", "UUID", "BIT", "BLOB", "VARINT", "BIGNUM")


def bson_value(column: str, type_: str, table: str | None = None) -> str:
    """The column (of `table`, when given) as a value pymongo can encode (see the module docstring)."""
    ident = f"{table}.{quote_ident(column)}" if table else quote_ident(column)
    base = type_.split("(", 1)[0].strip().upper()
    if base == "DATE" or base in ("TIMESTAMP_NS", "TIMESTAMP_S", "TIMESTAMP_MS"):
        return f"CAST({ident} AS TIMESTAMP)"
    if base in _TO_DOUBLE:
        return f"CAST({ident} AS DOUBLE)"
    if base in _TO_TEXT:
        return f"CAST({ident} AS VARCHAR)"
    return ident


def _pack(fields: Sequence[tuple[str, str]]) -> str:
    """struct_pack of (name, SQL expression) pairs, in order."""
    return "struct_pack(" + ", ".join(f"{quote_ident(name)} := {expression}" for name, expression in fields) + ")"


def _hash(struct: str) -> str:
    return f"md5(to_json({struct}))"


def reports_select(source: str) -> str:
    """The `reports` documents, the predecessor's shape: `_id` (course key), `_hash`, `metadata`,
    `report` (its `created` is when the build computed the figures, outside the hash)."""
    metadata = _pack(
        [
            ("name", "name"),
            ("sme", "sme"),
            ("start_date", "CAST(start_date AS TIMESTAMP)"),
            ("end_date", "CAST(end_date AS TIMESTAMP)"),
        ]
    )
    report = _pack(
        [
            (
                "users",
                _pack(
                    [
                        ("total", "users_total"),
                        ("active", "users_active"),
                        (
                            "certificates",
                            _pack(
                                [
                                    ("failed", "certificates_failed"),
                                    ("approved", "certificates_approved"),
                                    ("certified", "certificates_certified"),
                                ]
                            ),
                        ),
                    ]
                ),
            ),
            ("gender", "gender"),
            ("education", "education"),
            ("countries", "countries"),
        ]
    )
    return (
        "SELECT course_key AS _id, "
        f"{_hash(_pack([('metadata', 'metadata'), ('report', 'report')]))} AS _hash, "
        "metadata, struct_insert(report, created := computed_at) AS report "
        f"FROM (SELECT course_key, computed_at, {metadata} AS metadata, {report} AS report FROM {source}) AS documents"
    )


def courses_select(sources: dict[str, str], schemas: dict[str, Schema]) -> str:
    """The `courses` documents: `_id` (course key), `_hash`, the course's metadata, `indicators`
    (course_report's counts and person_course's learners, viewed, explored, completed, certified),
    `demographics` (course_report's maps), one list per series mart (rows in date order), `outline`
    (the chapters in course order, each with its reach and its subsections', from chapter_funnel;
    empty without a course structure) and `data_through`. Every course any of these marts holds has one."""
    report_schema = [(c, t) for c, t in schemas[COURSE_REPORT] if c not in MART_METADATA and c != "course_key"]
    metadata = [(c, bson_value(c, t, "report")) for c, t in report_schema if c in COURSE_METADATA]
    maps = [(c, f"report.{quote_ident(c)}") for c, t in report_schema if c not in COURSE_METADATA and t.upper().startswith("MAP")]
    counts = [
        (c, f"report.{quote_ident(c)}") for c, t in report_schema if c not in COURSE_METADATA and not t.upper().startswith("MAP")
    ]
    counts += [("learners", "coalesce(learners.learners, 0)")] + [
        (flag, f"coalesce(learners.{flag}, 0)") for flag in LEARNER_FLAGS
    ]

    keys = " UNION ".join(f"SELECT course_key FROM {sources[mart]}" for mart in MARTS)
    ctes = [
        f"course_keys AS ({keys})",
        "learners AS (SELECT course_key, count(*) AS learners, "
        + ", ".join(f"count(*) FILTER (WHERE {quote_ident(flag)}) AS {flag}" for flag in LEARNER_FLAGS)
        + f" FROM {sources[PERSON_COURSE]} GROUP BY course_key)",
    ]
    series_fields = []
    for mart, order in SERIES.items():
        columns = [(c, bson_value(c, t)) for c, t in schemas[mart] if c not in COURSE_COLUMNS and c not in MART_METADATA]
        ordering = ", ".join(quote_ident(c) for c in order)
        ctes.append(
            f"{mart} AS (SELECT course_key, list({_pack(columns)} ORDER BY {ordering}) AS series "
            f"FROM {sources[mart]} GROUP BY course_key)"
        )
        series_fields.append((mart, f"coalesce({mart}.series, [])"))
    ctes += _outline_ctes(sources[OUTLINE])
    series_fields.append(("outline", "coalesce(outline.chapters, [])"))
    data_through = " UNION ALL ".join(f"SELECT max(data_through) AS day FROM {sources[mart]}" for mart in MARTS)
    course_id = (
        "coalesce(report.course_id, "
        + ", ".join(
            f"(SELECT min(course_id) FROM {sources[m]} AS s WHERE s.course_key = course_keys.course_key)"
            for m in (PERSON_COURSE, *SERIES)
        )
        + ")"
    )
    fields = (
        [("course_id", course_id)]
        + [(c, e) for c, e in metadata if c != "course_id"]
        + [("indicators", _pack(counts)), ("demographics", _pack(maps))]
        + series_fields
        + [("data_through", f"CAST((SELECT max(day) FROM ({data_through}) AS days) AS TIMESTAMP)")]
    )
    joins = " ".join(f"LEFT JOIN {mart} ON {mart}.course_key = course_keys.course_key" for mart in (*SERIES, "outline"))
    return (
        f"WITH {', '.join(ctes)} "
        f"SELECT _id, {_hash('document')} AS _hash, unnest(document) FROM ("
        f"SELECT course_keys.course_key AS _id, {_pack(fields)} AS document FROM course_keys "
        f"LEFT JOIN {sources[COURSE_REPORT]} AS report ON report.course_key = course_keys.course_key "
        f"LEFT JOIN learners ON learners.course_key = course_keys.course_key {joins}) AS documents"
    )


def _outline_ctes(source: str) -> list[str]:
    """`outline`: per course, its chapters in course order, each with its subsections in order."""

    def fields(extra: str, table: str) -> str:
        return _pack([(c, f"{table}.{quote_ident(c)}") for c in (*OUTLINE_FIELDS[:2], extra, *OUTLINE_FIELDS[2:])])

    return [
        f"outline_sequentials AS (SELECT course_key, chapter_index, list({fields('sequential_index', 'sequentials')} ORDER BY "
        "course_index) "
        f"AS sequentials FROM {source} AS sequentials WHERE block_type = 'sequential' GROUP BY course_key, chapter_index)",
        f"outline AS (SELECT chapters.course_key, list(struct_insert({fields('chapter_index', 'chapters')}, "
        "sequentials := coalesce(outline_sequentials.sequentials, [])) ORDER BY chapters.course_index) AS chapters "
        f"FROM {source} AS chapters LEFT JOIN outline_sequentials ON outline_sequentials.course_key = chapters.course_key "
        "AND outline_sequentials.chapter_index = chapters.chapter_index "
        "WHERE chapters.block_type = 'chapter' GROUP BY chapters.course_key)",
    ]


def learner_columns(schema: Schema) -> list[tuple[str, str]]:
    """person_course's columns that go into a learner document: all of them but the build's
    bookkeeping, the in-lake learner key (learner_id names the learner) and any column whose name
    is declared PII somewhere (none today: defence in depth)."""
    names = [c for c, _ in schema]
    pii = set(pii_spec(PERSON_COURSE, names).columns)
    return [(c, t) for c, t in schema if c not in UNPUBLISHED_COLUMNS and c not in pii]


def learners_select(source: str, schema: Schema) -> str:
    """One row per person_course row: `course_key`, `learner_id`, `_hash`, then the document's fields."""
    fields = [(c, bson_value(c, t)) for c, t in learner_columns(schema)]
    values = ", ".join(f"{expression} AS {quote_ident(name)}" for name, expression in fields)
    return f"SELECT {_hash(_pack(fields))} AS _hash, {values} FROM {source}"


def learner_sets_select(hashes: str) -> str:
    """Per course, the hash of its whole learner set (the md5 of its documents' hashes in learner
    order) and its size: equal hashes mean the course's learner documents are all unchanged."""
    return (
        "SELECT course_key, md5(string_agg(_hash, ',' ORDER BY learner_id)) AS learners_hash, count(*) AS learners_count "
        f"FROM {hashes} GROUP BY course_key"
    )


def learner_documents_select(documents: str, courses: str, publish: int) -> str:
    """The learner documents of the courses listed in `courses` (a one-column relation), with the
    `_id` of this publish's generation: `<course_key>:<learner_id>:<publish>`."""
    return (
        f"SELECT course_key || ':' || learner_id || ':' || {int(publish)} AS _id, * "
        f"FROM {documents} WHERE course_key IN (SELECT course_key FROM {courses})"
    )


def rows(batch: pa.RecordBatch) -> list[dict]:
    """An Arrow batch as dicts (maps as dicts), column by column: the fast way out of Arrow."""
    columns = [column.to_pylist(maps_as_pydicts="strict") for column in batch.columns]
    names = batch.schema.names
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def literal_list(values: Sequence[str]) -> str:
    """A one-column relation of text values, for `learner_documents_select`."""
    if not values:
        return "(SELECT CAST(NULL AS VARCHAR) AS course_key WHERE false)"
    return "(SELECT unnest([" + ", ".join(sql_string(v) for v in values) + "]) AS course_key)"
