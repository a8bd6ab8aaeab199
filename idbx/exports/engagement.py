"""The learner engagement report over the intervals staff ask for (each day, each Monday-Sunday
week, or one range), with edX's definitions. The learner_engagement mart holds the whole range;
other intervals run the view model int__engagement__learner_intervals (the same report over any
intervals) with this module's intervals in place of int__engagement__intervals (temporary views in
the export's connection shadow the catalog's), over the stored per-learner-day aggregates, never
the raw events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from idbx.errors import IdbxError
from idbx.models import settings
from idbx.privacy import pseudonym
from idbx.quoting import quote_ident, sql_string

INTERVALS = ("daily", "weekly", "all")
MART = "learner_engagement"
OVER_INTERVALS = ("intermediate", "int__engagement__learner_intervals")
# The report's columns after the learner, in edX's order.
COUNTS = (
    "cohort",
    "days_active",
    "problems_attempted",
    "problem_attempts",
    "problems_correct",
    "videos_played",
    "forum_posts",
    "forum_responses",
    "forum_comments",
    "forum_upvotes_given",
    "forum_downvotes_given",
    "forum_upvotes_received",
    "forum_downvotes_received",
    "textbook_pages_viewed",
    "last_subsection_viewed",
)
# Stored inputs read only for the courses asked for, and the view models the report reads (views
# exist only inside a build: the export defines them again from their files).
_BY_COURSE = ("int__events__learner_engagement_day", "int__events__forum_votes_received_day", "int__enrollment__learner_spans")
_VIEW_MODELS = (
    ("intermediate", "int__engagement__learner_votes_received_day"),
    ("intermediate", "int__engagement__learner_day"),
    ("staging", "stg__edx__course_groups_cohortmembership"),
    ("intermediate", "int__engagement__enrolled_learners"),
)


@dataclass(frozen=True)
class Intervals:
    """daily: one interval per day; weekly: per Monday-Sunday week whose Sunday falls between
    start and end (its days before start left out); all: start to end. Default range: the days
    of the events."""

    interval: str = "all"
    start: date | None = None
    end: date | None = None

    @property
    def is_default(self) -> bool:
        return self == Intervals()


def _intervals_sql(intervals: Intervals, start: date, end: date) -> str:
    first, last = sql_string(start.isoformat()), sql_string(end.isoformat())
    if intervals.interval == "all":
        return f"SELECT DATE {last} AS end_date, DATE {first} AS first_day"
    days = f"SELECT CAST(day AS DATE) AS day FROM range(DATE {first}, DATE {last} + INTERVAL 1 DAY, INTERVAL 1 DAY) AS days(day)"
    if intervals.interval == "daily":
        return f"SELECT day AS end_date, day AS first_day FROM ({days})"
    return f"SELECT day AS end_date, greatest(day - 6, DATE {first}) AS first_day FROM ({days}) WHERE isodow(day) = 7"


def _event_range(con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
    first, last = con.execute("SELECT min(event_date), max(event_date) FROM int__events__course_day").fetchone()
    if first is None:
        raise IdbxError("the lake has no events: give --start and --end, or land tracking logs and `idbx build`")
    return first, last


def report_source(con: duckdb.DuckDBPyConnection, intervals: Intervals, courses: list[str] | None) -> str:
    """A relation with the learner_engagement mart's columns for these intervals and courses."""
    if intervals.interval not in INTERVALS:
        raise IdbxError(f"--interval must be one of {', '.join(INTERVALS)}, not {intervals.interval!r}")
    if intervals.is_default:
        return quote_ident(MART)
    start, end = intervals.start, intervals.end
    if start is None or end is None:
        first, last = _event_range(con)
        start, end = start or first, end or last
    if start > end:
        raise IdbxError(f"--start {start} is after --end {end}")
    if intervals.interval == "daily" and end - start > timedelta(days=3660):
        raise IdbxError("--interval daily covers at most ten years: narrow --start/--end")
    database = quote_ident(con.execute("SELECT current_database()").fetchone()[0])
    if courses:
        keys = ", ".join(sql_string(course) for course in courses)
        for name in _BY_COURSE:
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {quote_ident(name)} AS "
                f"SELECT * FROM {database}.main.{quote_ident(name)} WHERE course_key IN ({keys})"
            )
    con.execute(f"CREATE OR REPLACE TEMP VIEW int__engagement__intervals AS {_intervals_sql(intervals, start, end)}")
    for layer, name in _VIEW_MODELS:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(name)} AS {_model_sql(layer, name)}")
    over_intervals = _model_sql(*OVER_INTERVALS)
    return f"(SELECT {pseudonym.learner_id_sql(settings.LEARNER_KEY)} AS learner_id, * FROM ({over_intervals}))"


def _model_sql(layer: str, name: str) -> str:
    """A model's SELECT, what follows its header (parsing every model would cost the report a second)."""
    return (settings.sql_root() / layer / f"{name}.sql").read_text(encoding="utf-8").split("*/", 1)[1].strip()


def report_select(con: duckdb.DuckDBPyConnection, intervals: Intervals, courses: list[str] | None, people_sql: str | None) -> str:
    """The CSV's SELECT: course_id, end_date, the learner (learner_id, or username and email from
    `people_sql` when staff ask for them), then edX's counts."""
    learner = "engagement.learner_id"
    source = f"{report_source(con, intervals, courses)} AS engagement"
    if people_sql:
        learner = "people.username, people.email"
        source += f" LEFT JOIN ({people_sql}) AS people ON people.learner_id = engagement.learner_id"
    where = f" WHERE engagement.course_key IN ({', '.join(sql_string(c) for c in courses)})" if courses else ""
    counts = ", ".join(f"engagement.{name}" for name in COUNTS)
    return (
        f"SELECT engagement.course_id, engagement.end_date, {learner}, {counts} FROM {source}{where} "
        "ORDER BY engagement.course_key, engagement.end_date, engagement.learner_id"
    )
