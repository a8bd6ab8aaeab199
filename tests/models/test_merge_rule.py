"""The merge_by rule checked from the SQL: a merged model whose rows of one key could depend on
other keys' rows is refused when the project is read, with the reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from idbx.errors import ModelError
from idbx.models import settings
from idbx.models.merge_rule import merge_rule_violation, rows_by_course_violation, rows_by_learner_violation
from idbx.models.project import parse_model, read_project

COLUMNS = ["course_key", "learner_id", "n"]


def model(name: str, sql: str, materialized: str = "table", merge_by: bool = False, columns=COLUMNS):
    listed = "".join(f"  {column}: the {column}\n" for column in columns)
    grain = "[course_key, learner_id]" if "learner_id" in columns else f"[{columns[0]}]"
    extra = "merge_by: [course_key, learner_id]\n" if merge_by else ""
    text = f"/*\ndescription: test\ngrain: {grain}\nmaterialized: {materialized}\n{extra}columns:\n{listed}*/\n{sql}"
    return parse_model(name, "marts", Path(f"{name}.sql"), text)


# Stored per-learner tables (read filtered to the keys), a per-course table and a source (read whole).
UPSTREAM = [
    model("daily", "SELECT course_key, learner_id, 1 AS n FROM events"),
    model("profiles", "SELECT course_key, learner_id, 1 AS n FROM auth_userprofile"),
    model("runs", "SELECT course_key FROM course_registry", columns=["course_key"]),
]


def violation(sql: str, *views) -> str | None:
    models = {m.name: m for m in [*UPSTREAM, *views, model("merged", sql, "incremental", merge_by=True)]}
    return merge_rule_violation(models, "merged")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT course_key, learner_id, count(*) AS n FROM daily GROUP BY course_key, learner_id",
        "SELECT course_key, learner_id, count(*) AS n FROM daily GROUP BY ALL",
        "SELECT course_key, learner_id, row_number() OVER (PARTITION BY course_key, learner_id ORDER BY n) AS n FROM daily",
        "SELECT course_key, learner_id, n FROM daily QUALIFY row_number() OVER by_learner = 1 "
        "WINDOW by_learner AS (PARTITION BY course_key, learner_id ORDER BY n)",
        # Two per-learner inputs joined on the key; a per-course table read whole.
        "SELECT coalesce(d.course_key, p.course_key) AS course_key, coalesce(d.learner_id, p.learner_id) AS learner_id, d.n "
        "FROM daily AS d FULL OUTER JOIN profiles AS p ON p.course_key = d.course_key AND p.learner_id = d.learner_id "
        "JOIN runs ON runs.course_key = coalesce(d.course_key, p.course_key)",
        "WITH a AS (SELECT DISTINCT course_key, learner_id FROM daily UNION ALL SELECT course_key, learner_id FROM profiles) "
        "SELECT course_key, learner_id, count(*) AS n FROM a GROUP BY 1, 2",
        # Whole inputs in a subquery of an expression, or per course.
        "SELECT course_key, learner_id, n FROM daily WHERE course_key IN (SELECT course_key FROM runs)",
        # A value mapped once per distinct value of the rows, joined back to them (a pseudonym lookup).
        "WITH ids AS (SELECT learner_id, upper(learner_id) AS shown FROM (SELECT DISTINCT learner_id FROM daily) AS l) "
        "SELECT d.course_key, d.learner_id, length(ids.shown) AS n FROM daily AS d JOIN ids ON ids.learner_id = d.learner_id",
        "WITH ids AS (SELECT DISTINCT learner_id FROM daily) "
        "SELECT d.course_key, d.learner_id, d.n FROM daily AS d LEFT JOIN ids AS i ON d.learner_id = i.learner_id",
    ],
)
def test_a_model_whose_keys_depend_on_their_own_rows_passes(sql):
    assert violation(sql) is None


@pytest.mark.parametrize(
    "sql, reason",
    [
        ("SELECT course_key, NULL AS learner_id, count(*) AS n FROM daily GROUP BY course_key", "GROUP BY without learner_id"),
        (
            "SELECT course_key, learner_id, count(*) OVER (PARTITION BY course_key) AS n FROM daily",
            "a window over keyed rows whose PARTITION BY lacks learner_id",
        ),
        ("SELECT 'x' AS course_key, learner_id, n FROM daily", "does not carry course_key"),
        (
            "WITH courses AS (SELECT DISTINCT course_key FROM daily WHERE n > 5) "
            "SELECT d.course_key, d.learner_id, 1 AS n FROM daily AS d JOIN courses AS c ON c.course_key = d.course_key",
            "in courses: a SELECT over keyed rows that does not carry learner_id",
        ),
        (  # a lookup of distinct values joined to other rows than those it was made from
            "WITH courses AS (SELECT DISTINCT course_key FROM daily) "
            "SELECT p.course_key, p.learner_id, 1 AS n FROM profiles AS p JOIN courses AS c ON c.course_key = p.course_key",
            "c is not joined back to daily on course_key",
        ),
        (
            "WITH ids AS (SELECT learner_id, random() AS r FROM (SELECT DISTINCT learner_id FROM daily) AS l) "
            "SELECT d.course_key, d.learner_id, i.r AS n FROM daily AS d JOIN ids AS i ON i.learner_id = d.learner_id",
            "in ids: l, a lookup of distinct values, read as the rows themselves",
        ),
        (
            "SELECT d.course_key, d.learner_id, p.n FROM daily AS d JOIN profiles AS p ON p.course_key = d.course_key",
            "p is joined to other keyed rows without equating learner_id",
        ),
        (
            "SELECT p.course_key, p.learner_id, 1 AS n FROM runs AS r LEFT JOIN profiles AS p ON p.course_key = r.course_key",
            "rows read whole are kept by an outer join",
        ),
        (
            "SELECT course_key, learner_id, n FROM daily UNION ALL SELECT course_key, NULL, 0 FROM runs",
            "a UNION of keyed rows and rows read whole",
        ),
        ("SELECT course_key, learner_id, n FROM daily LIMIT 10", "a LIMIT over keyed rows"),
        (
            "SELECT course_key, learner_id, (SELECT count(*) FROM profiles) AS n FROM daily",
            "a subquery in an expression reads keyed rows",
        ),
    ],
)
def test_a_model_whose_keys_could_read_other_keys_is_refused_with_the_reason(sql, reason):
    found = violation(sql)
    assert found and found.startswith("merge_by [course_key, learner_id] cannot be checked key by key: ")
    assert reason in found


def test_views_between_are_checked_too():
    grouped = model("totals", "SELECT course_key, learner_id, sum(n) AS n FROM daily GROUP BY ALL", "view")
    assert violation("SELECT course_key, learner_id, n FROM totals", grouped) is None
    by_course = model("totals", "SELECT course_key, learner_id, sum(n) OVER (PARTITION BY course_key) AS n FROM daily", "view")
    assert "in view totals: a window over keyed rows" in violation("SELECT course_key, learner_id, n FROM totals", by_course)


def test_the_shipped_merged_models_pass():
    project = read_project()
    merged = [name for name, m in project.models.items() if m.merge_by]
    assert {"person_course", "int__enrollment__learner_states", "int__problems__learner_parts"} <= set(merged)
    assert all(merge_rule_violation(project.models, name) is None for name in merged)


def test_a_project_with_a_model_that_breaks_the_rule_is_refused_naming_it(tmp_path):
    root = tmp_path / "sql"
    shutil.copytree(settings.sql_root(), root)
    mart = root / "marts" / "person_course.sql"
    # The README's own example of a wrong merged model: the courses of a per-learner table.
    mart.write_text(
        mart.read_text().replace(
            "SELECT DISTINCT course_key FROM stg__edx__forum_posts", "SELECT DISTINCT course_key FROM int__tables__learner_course"
        ),
        encoding="utf-8",
    )
    with pytest.raises(ModelError) as refused:
        read_project(root)
    assert str(refused.value) == (
        "idbx/sql/marts/person_course.sql: merge_by [course_key, learner_key] cannot be checked key by key: "
        "forum_dump_courses is not joined back to int__tables__learner_course on course_key"
    )


def test_a_rule_proven_before_is_checked_again_when_what_the_model_reads_changes(tmp_path):
    """The proof is kept with the parsed SQL; a staging view made a table (read by key, then)
    makes person_course's courses of the forum dump a per-course DISTINCT over keyed rows."""
    parsed: dict[str, list[str]] = {}
    root = tmp_path / "sql"
    shutil.copytree(settings.sql_root(), root)
    read_project(root, parsed=parsed)
    assert sum(1 for found in parsed.values() for ref in found if ref.startswith("merge_by proven ")) == 7
    assert "merge_by proven" not in " ".join(read_project(root, parsed=parsed).models["person_course"].refs)
    posts = root / "staging" / "stg__edx__forum_posts.sql"
    posts.write_text(posts.read_text().replace("materialized: view", "materialized: table"), encoding="utf-8")
    with pytest.raises(ModelError, match="person_course.sql: .*forum_dump_courses is not joined back to stg__edx__forum_posts"):
        read_project(root, parsed=parsed)


def test_event_models_whose_rows_of_a_course_depend_on_its_events_alone_are_told():
    parsed: dict[str, list[str]] = {}
    project = read_project(settings.sql_root(), parsed=parsed)
    by_day = {name for name, m in project.models.items() if m.partition_by == settings.EVENT_DATE}
    video = "int__events__learner_video_viewings_day"  # numbers every video of every course in one window
    assert set(project.rows_by) == by_day - {video} and len(project.rows_by) == 8
    assert "a window over keyed rows whose PARTITION BY lacks course_key" in rows_by_course_violation(project.models, video)
    # every model told by learner (5 yes), the others by course (3 yes, the video model no)
    by_learner = [ref for found in parsed.values() for ref in found if ref.startswith("rows by learner ")]
    assert len(by_learner) == 9 and sum(verdict.endswith(" no") for verdict in by_learner) == 4
    by_course = [ref for found in parsed.values() for ref in found if ref.startswith("rows by course ")]
    assert len(by_course) == 4 and sum(verdict.endswith(" no") for verdict in by_course) == 1
    # by learner: the per-learner ones (a course's day, its enrolment changes by the enrolled user
    # and the votes received are not)
    assert {name for name, rows_by in project.rows_by.items() if rows_by == settings.ROWS_BY_LEARNER} == {
        "int__events__learner_block_day",
        "int__events__learner_course_day",
        "int__events__learner_course_day_location",
        "int__events__learner_engagement_day",
        "int__events__problem_responses",
    }
    assert "GROUP BY without user_id" in rows_by_learner_violation(project.models, "int__events__course_day")
    again = read_project(settings.sql_root(), parsed=parsed)  # told again from what was remembered
    assert again.rows_by == project.rows_by
    assert not any("rows by " in ref for m in again.models.values() for ref in m.refs)


@pytest.mark.parametrize(
    "sql, reason",
    [
        (  # a lookup of the rows another CTE carries whole (`s.*`) joined back to that CTE
            "WITH s AS (SELECT course_key, user_id, event_type FROM events), "
            "r AS (SELECT s.*, 1 AS one FROM s WHERE event_type = 'x'), "
            "l AS (SELECT DISTINCT user_id FROM s) SELECT r.course_key, r.one AS n FROM r JOIN l ON l.user_id = r.user_id",
            None,
        ),
        (  # ... grouped instead: its rows are no rows of s
            "WITH s AS (SELECT course_key, user_id FROM events), "
            "r AS (SELECT course_key, user_id, count(*) AS n FROM s GROUP BY ALL), "
            "l AS (SELECT DISTINCT user_id FROM s) SELECT r.course_key, r.n FROM r JOIN l ON l.user_id = r.user_id",
            "l is not joined back to s on user_id",
        ),
        (  # ... with the looked-up column named again
            "WITH s AS (SELECT course_key, user_id FROM events), r AS (SELECT s.* EXCLUDE (user_id), 7 AS user_id FROM s), "
            "l AS (SELECT DISTINCT user_id FROM s) SELECT r.course_key, 1 AS n FROM r JOIN l ON l.user_id = r.user_id",
            "l is not joined back to s on user_id",
        ),
        ("SELECT course_key, count(*) OVER () AS n FROM events", "a window over keyed rows whose PARTITION BY lacks course_key"),
        ("SELECT 'x' AS course_key, count(*) AS n FROM events GROUP BY 1", "GROUP BY without course_key"),
        (
            "WITH e AS (SELECT course_key, user_id FROM events), "
            "f AS (SELECT DISTINCT user_id FROM events WHERE event_type = 'x') "
            "SELECT e.course_key, e.user_id FROM e JOIN f ON f.user_id = e.user_id",
            "in f: a SELECT over keyed rows that does not carry course_key",
        ),
    ],
)
def test_an_event_model_is_by_course_when_its_rows_of_a_course_read_that_courses_events_alone(sql, reason):
    project = read_project()
    models = dict(project.models) | {"x": model("x", sql, columns=["course_key", "n"])}
    found = rows_by_course_violation(models, "x")
    if reason is None:
        assert found is None
    else:
        assert found and found.startswith("rows by course cannot be told from the SQL: ") and reason in found


LOOKUP = "pseudonyms AS (SELECT user_id, {image} AS learner_key FROM (SELECT DISTINCT user_id FROM days) AS ids)"
JOINED_BACK = (
    " SELECT days.course_key, pseudonyms.learner_key, days.n FROM days JOIN pseudonyms ON pseudonyms.user_id = days.user_id"
)


@pytest.mark.parametrize(
    "sql, reason",
    [
        (  # the learner's rows, named by the pseudonym of their user id
            "WITH days AS (SELECT course_key, user_id, count(*) AS n FROM events GROUP BY course_key, user_id), "
            + LOOKUP.format(image="learner_pseudonym(user_id)")
            + JOINED_BACK,
            None,
        ),
        (  # named by something else than the pseudonym of the user id
            "WITH days AS (SELECT course_key, user_id, count(*) AS n FROM events GROUP BY course_key, user_id), "
            + LOOKUP.format(image="learner_pseudonym(user_id + 1)")
            + JOINED_BACK,
            "does not carry user_id",
        ),
        (  # a course's rows: every learner's events
            "SELECT course_key, count(DISTINCT user_id) AS n FROM events GROUP BY course_key",
            "GROUP BY without user_id",
        ),
    ],
)
def test_an_event_model_is_by_learner_when_its_rows_name_the_learner_whose_events_they_count(sql, reason):
    project = read_project()
    models = dict(project.models) | {"x": model("x", sql, columns=["course_key", "learner_key", "n"])}
    found = rows_by_learner_violation(models, "x")
    assert found is None if reason is None else (found and reason in found)
