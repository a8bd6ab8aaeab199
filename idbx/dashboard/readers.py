"""What the dashboard reads from the lake (I/O): the marts, the rejects and the manifest, already
aggregated by DuckDB into the small tables the pages draw. Nothing per learner leaves DuckDB.

The marts are read straight from their Parquet files through the catalog's own view definitions
on an in-memory connection, so a dashboard never waits for (or blocks) `lake/catalog.duckdb`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb

from idbx.dashboard import settings
from idbx.errors import IdbxError
from idbx.lake.catalog import bronze_view_statements, model_view_statements
from idbx.lake.store import Lake
from idbx.parsers import reason_kind_sql
from idbx.parsers.naming import course_key_sql
from idbx.quoting import quote_ident

Rows = list[dict[str, Any]]

MARTS = (
    "course_report",
    "course_demographics",
    "person_course",
    "activity_daily",
    "weekly_active",
    "enrollment_timeline",
    "reconciliation",
    "chapter_funnel",
    "problem_engagement",
    "video_segments",
    "video_engagement",
)
_BRONZE_VIEWS = ("table_rejects", "event_rejects", "ingest_manifest")
_EVENT_RECORDS = "kind = 'events' AND status = 'ingested'"  # manifest records of tracking logs that landed


@dataclass
class BuildInfo:
    data_through: date | None
    computed_at: datetime | None
    definitions_version: str | None


@dataclass
class DashboardData:
    """Everything the pages show, aggregated: one list of rows per table, each row a dict."""

    build: BuildInfo
    courses: Rows  # course_report, one row per course run
    enrolled_by_course: Rows  # course_key, date, enrolled (all modes; enrollment_timeline: table, then events)
    enrolled_by_mode: Rows  # course_key, date, mode, enrolled
    daily_active: Rows  # course_key, date, learners
    weekly_active: Rows  # course_key, week_start, label, learners
    course_breakdowns: Rows  # course_key, breakdown, category, learners (profiles, as course_report counts them)
    programme_breakdowns: Rows  # breakdown, category, learners (distinct learners over every course)
    ip_countries: Rows | None  # course_key, category, learners; None when person_course has no country_by_ip
    funnel: Rows  # course_key, enrolled, viewed, explored, certified, retired (None before person_course had the flag)
    histograms: Rows  # course_key, measure (ndays | time), bin (index into the edges), learners
    reconciliation: Rows  # the latest check of each kind per course
    table_rejects: Rows  # snapshot_date, course_key, table_name, source_file, reason, rows
    event_rejects: Rows  # log_date, source_file, reason, rows
    late_events: Rows  # log_date, source_file, late_events, max_days_late
    log_days: list[date] = field(default_factory=list)
    video_retention: Rows = field(default_factory=list)  # course_key, video_id, users_at_start, segment, num_users
    chapter_funnel: Rows = field(
        default_factory=list
    )  # chapter_funnel: course_key, block_type, display_name, indexes, learners, shares
    problems: Rows = field(default_factory=list)  # problem_engagement, problems at least one learner attempted
    enrolment_sources: Rows = field(default_factory=list)  # course_key, first_date, snapshot_date (None: events only)


def read_dashboard_data(lake: Lake) -> DashboardData:
    try:
        with _connect(lake) as con:
            return _read(con)
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0]
        raise IdbxError(f"cannot read the marts of {lake.root} ({reason}): run `idbx build` again") from None


def _read(con: duckdb.DuckDBPyConnection) -> DashboardData:
    return DashboardData(
        build=BuildInfo(
            *con.execute("SELECT max(data_through), max(computed_at), max(definitions_version) FROM course_report").fetchone()
        ),
        courses=_rows(
            con,
            """
            SELECT course_key, course_id, name, sme, start_date, end_date, registered, snapshot_date,
                   users_total, users_active, certificates_approved, certificates_certified,
                   CASE WHEN users_total > 0 THEN certificates_approved / users_total END AS approval_rate
            FROM course_report
            ORDER BY start_date DESC NULLS LAST, course_key""",
        ),
        enrolled_by_course=_rows(
            con,
            """
            SELECT course_key, date, CAST(sum(enrolled) AS BIGINT) AS enrolled
            FROM enrollment_timeline GROUP BY course_key, date ORDER BY course_key, date""",
        ),
        enrolled_by_mode=_rows(
            con,
            """
            SELECT course_key, date, mode, enrolled FROM enrollment_timeline ORDER BY course_key, date, mode""",
        ),
        daily_active=_rows(
            con,
            """
            SELECT course_key, date, active_learners AS learners FROM activity_daily ORDER BY course_key, date""",
        ),
        weekly_active=_rows(
            con,
            """
            SELECT course_key, week_start, label, learners FROM weekly_active ORDER BY course_key, week_start, label""",
        ),
        course_breakdowns=_rows(
            con,
            """
            SELECT course_key, breakdown, category, learners FROM course_demographics
            WHERE breakdown IN ('country', 'gender', 'education')""",
        ),
        programme_breakdowns=_rows(
            con,
            " UNION ALL ".join(
                f"SELECT '{breakdown}' AS breakdown, {column} AS category, count(DISTINCT learner_key) AS learners "
                f"FROM person_course WHERE {column} IS NOT NULL GROUP BY {column}"
                for breakdown, column in (("country", "country"), ("gender", "gender"), ("education", "level_of_education"))
            ),
        ),
        ip_countries=_ip_countries(con),
        funnel=_rows(
            con,
            f"""
            SELECT course_key,
                   count(*) FILTER (WHERE enrolled) AS enrolled,
                   count(*) FILTER (WHERE viewed) AS viewed,
                   count(*) FILTER (WHERE explored) AS explored,
                   count(*) FILTER (WHERE certified) AS certified,
                   {_retired(con)} AS retired
            FROM person_course GROUP BY course_key""",
        ),
        histograms=_rows(
            con,
            f"""
            SELECT course_key, 'ndays' AS measure, {_bin("ndays_act", settings.NDAYS_EDGES)} AS bin, count(*) AS learners
            FROM person_course GROUP BY ALL
            UNION ALL
            SELECT course_key, 'time', {_bin("sum_dt / 60", settings.TIME_SPENT_MINUTES_EDGES)}, count(*)
            FROM person_course GROUP BY ALL""",
        ),
        reconciliation=_rows(
            con,
            """
            SELECT check_name, course_key, item, as_of, expected, found, difference, status
            FROM reconciliation
            WHERE course_key IS NOT NULL
            QUALIFY as_of IS NOT DISTINCT FROM max(as_of) OVER (PARTITION BY check_name, course_key)
            ORDER BY course_key, check_name, item""",
        ),
        table_rejects=_rows(
            con,
            f"""
            SELECT rejects.snapshot_date, rejects.course_key, rejects.table_name,
                   regexp_extract(rejects.source_file, '[^/]+$') AS source_file,
                   {reason_kind_sql("rejects.reason")} AS reason, count(*) AS rows
            FROM table_rejects AS rejects
            LEFT JOIN course_report AS course ON course.course_key = rejects.course_key
            WHERE rejects.snapshot_date = coalesce(course.snapshot_date, (SELECT max(snapshot_date) FROM course_report))
            GROUP BY ALL ORDER BY ALL""",
        ),
        event_rejects=_rows(
            con,
            f"""
            SELECT log_date, regexp_extract(source_file, '[^/]+$') AS source_file,
                   {reason_kind_sql("reason")} AS reason, count(*) AS rows
            FROM event_rejects GROUP BY ALL ORDER BY log_date DESC, source_file, reason""",
        ),
        late_events=_late_events(con),
        log_days=[
            day
            for (day,) in con.execute(f"""
            SELECT DISTINCT CAST(regexp_extract(partitions[1], 'log_date=([0-9-]+)', 1) AS DATE) AS day
            FROM ingest_manifest WHERE {_EVENT_RECORDS} ORDER BY day""").fetchall()
        ]
        if _has_manifest(con)
        else [],
        video_retention=_rows(
            con,
            f"""
            SELECT {course_key_sql("video.course_id")} AS course_key, video.video_id, video.users_at_start,
                   segments.segment, segments.num_users
            FROM video_segments AS segments
            JOIN video_engagement AS video ON video.course_id = segments.course_id AND video.video_id = segments.video_id
            ORDER BY course_key, video.video_id, segments.segment""",
        ),
        chapter_funnel=_rows(
            con,
            """
            SELECT course_key, block_type, display_name, course_index, chapter_index, learners, share_of_previous
            FROM chapter_funnel ORDER BY course_key, course_index""",
        ),
        problems=_rows(
            con,
            """
            SELECT course_key, url_name, display_name, chapter_index, chapter_name, source, learners_attempted, attempts,
                   learners_correct, correct_rate, first_attempt_correct_rate, mean_attempts_to_correct
            FROM problem_engagement WHERE learners_attempted > 0""",
        ),
        enrolment_sources=_rows(
            con,
            """
            SELECT course_key, min(date) AS first_date, max(snapshot_date) AS snapshot_date
            FROM enrollment_timeline GROUP BY course_key""",
        ),
    )


def _connect(lake: Lake) -> duckdb.DuckDBPyConnection:
    marts = model_view_statements(lake)
    missing = [name for name in MARTS if name not in marts]
    if missing:
        raise IdbxError(f"the lake at {lake.root} has no {', '.join(missing)} mart yet: run `idbx build` first")
    bronze = bronze_view_statements(lake)
    con = duckdb.connect()
    for name, select in [*((name, marts[name]) for name in MARTS), *((name, bronze[name]) for name in _BRONZE_VIEWS)]:
        con.execute(f"CREATE VIEW {quote_ident(name)} AS {select}")
    return con


def _rows(con: duckdb.DuckDBPyConnection, select: str) -> Rows:
    cursor = con.execute(select)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _bin(expression: str, edges: tuple[float, ...]) -> str:
    """The index of the [low, high) range of `edges` the value falls in (the last one has no end)."""
    cases = " ".join(f"WHEN {expression} < {high} THEN {index}" for index, high in enumerate(edges[1:]))
    return f"CASE {cases} ELSE {len(edges) - 1} END"


def _columns(con: duckdb.DuckDBPyConnection, view: str) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE {quote_ident(view)}").fetchall()}


def _ip_countries(con: duckdb.DuckDBPyConnection) -> Rows | None:
    """Learners per country of their events' IP addresses, when person_course has that column."""
    if "country_by_ip" not in _columns(con, "person_course"):
        return None
    return _rows(
        con,
        """
        SELECT course_key, country_by_ip AS category, count(*) AS learners
        FROM person_course WHERE country_by_ip IS NOT NULL GROUP BY ALL""",
    )


def _retired(con: duckdb.DuckDBPyConnection) -> str:
    """Learners whose edX account was retired (counted in the figures above), when person_course has the flag."""
    return "count(*) FILTER (WHERE is_retired)" if "is_retired" in _columns(con, "person_course") else "CAST(NULL AS BIGINT)"


def _has_manifest(con: duckdb.DuckDBPyConnection) -> bool:
    return {"kind", "status", "partitions"} <= _columns(con, "ingest_manifest")


def _late_events(con: duckdb.DuckDBPyConnection) -> Rows:
    """Late events per tracking-log file, as the ingestion counted them (the manifest's details)."""
    if not _has_manifest(con) or "details" not in _columns(con, "ingest_manifest"):
        return []
    return _rows(
        con,
        f"""
        SELECT * FROM (
            SELECT CAST(regexp_extract(partitions[1], 'log_date=([0-9-]+)', 1) AS DATE) AS log_date,
                   regexp_extract(key, '[^/]+$') AS source_file,
                   coalesce(CAST(to_json(details) ->> 'late_events' AS BIGINT), 0) AS late_events,
                   CAST(to_json(details) ->> 'max_days_late' AS BIGINT) AS max_days_late
            FROM ingest_manifest WHERE {_EVENT_RECORDS})
        WHERE late_events > 0 ORDER BY log_date DESC, source_file""",
    )
