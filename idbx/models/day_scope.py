"""Which rows of its event days a model partitioned by day recomputes when new log files are all
that changed: every row of those days, the rows of the courses the new files hold, or the rows of
the learners (of a course, on a day) they hold. The other rows of those days are kept as written.

A model is recomputed by course or by learner only when idbx/models/merge_rule.py shows from its
SQL that such rows depend on those events alone (`Step.rows_by`): a day's
late events belong to a few hundred learners of the courses running, and the day's other rows
need not be computed again. A file rewritten or removed took events no file now shows: whole days.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import duckdb

from idbx.lake import catalog
from idbx.lake.store import Lake
from idbx.models import settings
from idbx.models.planner import Decision, Step
from idbx.privacy import pseudonym
from idbx.quoting import quote_ident, sql_string

_COURSE = quote_ident(settings.MERGED_PARTITION)
_DAY = quote_ident(settings.EVENT_DATE)


@dataclass(frozen=True)
class DayScope:
    """SQL clauses, each to follow `FROM (...) AS events` or `FROM (...) AS rows`."""

    events: str  # the events read
    recomputed: str  # the model's rows recomputed from them
    kept: str  # the model's other rows of those days
    what: str  # for the build's note: " of 5 course(s)"

    @property
    def whole_days(self) -> bool:
        return not self.events


WHOLE_DAYS = DayScope("", "", "", "")


class NewEvents:
    """The courses and learners new event files hold on some days, found once per build and
    shared by the lanes (their learners are a table of the build's database)."""

    def __init__(self, lake: Lake):
        self.lake = lake
        self._found: dict[tuple, DayScope] = {}
        self._lock = threading.Lock()

    def scope(self, con: duckdb.DuckDBPyConnection, step: Step, decision: Decision) -> DayScope:
        if decision.days is None or decision.added is None or not step.rows_by:
            return WHOLE_DAYS
        found = (step.rows_by, decision.added, decision.days)
        with self._lock:
            if found not in self._found:
                scan = catalog.events_scan([self.lake.root / rel for rel in decision.added])
                new = f"SELECT * FROM {scan} WHERE {of_days(decision.days)}"
                by_learner = step.rows_by == settings.ROWS_BY_LEARNER
                self._found[found] = _by_learner(con, new, len(self._found)) if by_learner else _by_course(con, new)
            return self._found[found]


def of_days(days: frozenset[str]) -> str:
    """A predicate on the events: their own (UTC) day is one of these."""
    listed = ", ".join(f"DATE '{day}'" for day in sorted(days))
    return f"CAST(time AS DATE) IN ({listed})"


def _by_course(con: duckdb.DuckDBPyConnection, new: str) -> DayScope:
    courses = {course for (course,) in con.execute(f"SELECT DISTINCT {_COURSE} FROM ({new})").fetchall()}
    named = sorted(course for course in courses if course is not None)
    parts = [f"{_COURSE} IN ({', '.join(sql_string(course) for course in named)})"] if named else []
    if None in courses:  # events of no course
        parts.append(f"{_COURSE} IS NULL")
    of_courses = "(" + " OR ".join(parts) + ")" if parts else "false"
    return DayScope(
        f"WHERE {of_courses}", f"WHERE {of_courses}", f"WHERE NOT coalesce({of_courses}, false)", f" of {len(courses)} course(s)"
    )


def _by_learner(con: duckdb.DuckDBPyConnection, new: str, number: int) -> DayScope:
    learner, key = quote_ident(settings.EVENT_LEARNER), quote_ident(settings.LEARNER_KEY)
    learners, keys = f"main._new_learners_{number}", f"main._new_learner_keys_{number}"
    con.execute(
        f"CREATE OR REPLACE TABLE {learners} AS SELECT DISTINCT CAST(time AS DATE) AS {_DAY}, {_COURSE}, {learner} FROM ({new})"
    )
    con.execute(
        f"CREATE OR REPLACE TABLE {keys} AS SELECT DISTINCT {_DAY}, {_COURSE}, {pseudonym.MACRO}({learner}) AS {key} "
        f"FROM {learners}"
    )
    (count,) = con.execute(f"SELECT count(*) FROM (SELECT DISTINCT {_COURSE}, {learner} FROM {learners})").fetchall()[0]
    events = (
        f"SEMI JOIN {learners} AS new ON CAST(events.time AS DATE) = new.{_DAY} "
        f"AND events.{_COURSE} IS NOT DISTINCT FROM new.{_COURSE} AND events.{learner} IS NOT DISTINCT FROM new.{learner}"
    )
    rows = (
        f"{keys} AS new ON rows.{_DAY} = new.{_DAY} AND rows.{_COURSE} IS NOT DISTINCT FROM new.{_COURSE} "
        f"AND rows.{key} IS NOT DISTINCT FROM new.{key}"
    )
    return DayScope(events, f"SEMI JOIN {rows}", f"ANTI JOIN {rows}", f" of {count:,} learner(s)")
