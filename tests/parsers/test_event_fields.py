"""The body fields kept beside each landed event: what each family of events gets, as text."""

from __future__ import annotations

from pathlib import Path

import duckdb

from idbx.ingest.events import ingest_events
from idbx.parsers.event_fields import DERIVED_EVENT_COLUMNS, EVENT_FIELDS_TYPE, VIDEO_EVENT_TYPES, with_event_fields
from idbx.quoting import sql_string

ROWS = [
    ("pause_video", "browser", '{"id": "v1", "currentTime": 12.5, "duration": 100}', "{}"),
    ("pause_video", "browser", '{"id": "v1", "currentTime": null}', "{}"),
    ("pause_video", "browser", '{"id": "v1"}', "{}"),
    ("edx.video.position.changed", "mobile", '{"module_id": "i4x://o/c/video/v2", "old_time": 3, "new_time": 9.5}', "{}"),
    (
        "problem_check",
        "server",
        '{"problem_id": "p", "success": "correct", "attempts": 2, "grade": 1, "max_grade": 1, '
        '"submission": {"a": {"answer": "x"}}}',
        '{"module": {"display_name": "Quiz 1"}}',
    ),
    ("problem_check", "browser", '"input_a=x"', "{}"),
    ("edx.forum.thread.voted", "server", '{"vote_value": "up", "undo_vote": false, "target_username": "bob"}', "{}"),
    ("edx.course.enrollment.activated", "server", '{"user_id": 5, "mode": "audit"}', "{}"),
    ("page_close", "browser", '""', "{}"),
]


def _landed(rows) -> str:
    """The rows as a relation of the columns the derivation reads."""
    values = ", ".join(f"({', '.join(sql_string(v) for v in row)})" for row in rows)
    typed = "event_type, event_source, CAST(event AS JSON) AS event, CAST(context AS JSON) AS context"
    return f"(SELECT {typed} FROM (VALUES {values}) AS v(event_type, event_source, event, context))"


def _derived(rows) -> list[tuple]:
    found = duckdb.sql(f"SELECT body_is_object, event_fields FROM ({with_event_fields(_landed(rows))})").fetchall()
    return [(is_object, {k: v for k, v in fields.items() if v is not None} if fields else None) for is_object, fields in found]


def test_each_family_gets_its_fields_as_text_and_the_others_none():
    assert _derived(ROWS) == [
        (True, {"id": "v1", "currentTime": "12.5", "duration": "100", "position_given": True}),
        (True, {"id": "v1", "position_given": True}),  # named, null: not "no position"
        (True, {"id": "v1", "position_given": False}),
        (True, {"module_id": "i4x://o/c/video/v2", "old_time": "3", "new_time": "9.5", "position_given": False}),
        (
            True,
            {
                "problem_id": "p",
                "success": "correct",
                "attempts": "2",
                "grade": "1",
                "max_grade": "1",
                "submission": '{"a":{"answer":"x"}}',
                "module_display_name": "Quiz 1",
            },
        ),
        (False, None),  # a browser problem_check is not a graded submission
        (True, {"vote_value": "up", "undo_vote": "false", "target_username": "bob"}),
        (True, {"user_id": "5", "mode": "audit"}),
        (False, None),
    ]


def test_derived_again_they_follow_the_body_not_what_was_there():
    edited = f"""(SELECT * REPLACE (CAST('{{"id": "v9"}}' AS JSON) AS event) FROM ({with_event_fields(_landed(ROWS[:1]))}))"""
    again = duckdb.sql(f"SELECT event_fields.id, event_fields.currentTime FROM ({with_event_fields(edited)})").fetchall()
    assert again == [("v9", None)]
    described = [name for name, *_ in duckdb.sql(f"DESCRIBE {with_event_fields(edited)}").fetchall()]
    assert described[-2:] == list(DERIVED_EVENT_COLUMNS) and len(described) == len(set(described))


def test_the_type_is_declared_as_duckdb_prints_it():
    """The catalog compares a view's columns by their printed types (a new day keeps the catalog)."""
    assert str(duckdb.sql(f"SELECT CAST(NULL AS {EVENT_FIELDS_TYPE})").types[0]) == EVENT_FIELDS_TYPE


def test_landed_events_carry_their_body_fields(lake, corpus: Path):
    """The corpus's video and problem logs, landed: each field equals the body's value at its path."""
    logs = [corpus / "events" / "video_timeline.log", corpus / "events" / "problem_response_tracking.log"]
    assert not ingest_events(logs, lake).failed
    events = f"read_parquet({sql_string(str(lake.bronze / 'events' / '**' / '*.parquet'))})"
    video = "(" + ", ".join(f"'{name}'" for name in VIDEO_EVENT_TYPES) + ")"
    counts = duckdb.sql(f"""SELECT
            count(*) FILTER (WHERE event_type IN {video}),
            count(*) FILTER (WHERE event_type IN {video}
                AND event_fields.id IS NOT DISTINCT FROM json_extract_string(event, '$.id')
                AND event_fields.currentTime IS NOT DISTINCT FROM json_extract_string(event, '$.currentTime')),
            count(*) FILTER (WHERE event_type = 'problem_check' AND event_source = 'server'),
            count(*) FILTER (WHERE event_type = 'problem_check' AND event_source = 'server'
                AND event_fields.problem_id = json_extract_string(event, '$.problem_id')
                AND event_fields.answers IS NOT DISTINCT FROM json_extract(event, '$.answers')),
            count(*) FILTER (WHERE event_fields IS NOT NULL AND NOT (event_type IN {video} OR event_type = 'problem_check'
                OR event_type LIKE 'edx.forum.%.voted' OR event_type LIKE 'edx.course.enrollment.%')),
            count(*) FILTER (WHERE body_is_object IS DISTINCT FROM (json_type(event) = 'OBJECT'))
        FROM {events}""").fetchall()[0]
    videos, videos_same, checks, checks_same, others, misjudged = counts
    assert videos > 10 and videos_same == videos
    assert checks > 0 and checks_same == checks
    assert others == 0 and misjudged == 0
