"""Video engagement on edX's own video fixture (../shared/corpus/events/video_timeline.log), with
edX's video-timeline definitions: expected rows derived by hand from the file."""

from __future__ import annotations

import json
from datetime import date

from idbx.ingest.events import ingest_events
from idbx.models.runner import build
from tests.models import tiny_lake

DEMO = "edX/DemoX/Demo_Course"
FIRST = "i4x-edX-DemoX-video-3cb54a11efae4ccc8a0aade24d14b255"
SECOND = "i4x-edX-DemoX-video-8c0028eb2a724f48a074bc184cd8635f"
MART = "* EXCLUDE (computed_at, data_through, definitions_version)"


def test_video_timeline_fixture(corpus, lake):
    assert not ingest_events([corpus / "events" / "video_timeline.log"], lake, log_date=date(2014, 5, 2)).failed
    assert not build(lake).failed
    # First video. User 1: play 0 -> seek from 14.23 (segments 0-2); play, starting at the seek's
    # 7.345 -> seek from 14.23 (1-2); play at 14, but the seek before went to 17: 17 -> pause 21.4
    # (3-4); play 21.4 -> pause 24.9 (4). User 2: 0 -> 9.9 (0-1). User 3: 15.3 -> 24.9 (3-4).
    # No play gives a duration: the final segment is the last watched (no sharp drop), 4, so the
    # duration is 5 * 5 - 1 = 24 and the end segment that of max(24 - 30, 22.8) = 4.
    # Second video: user 1, 10 -> 20 (2-4). Test_2014: 0 -> stop at 4 (0), duration 4.
    # Test_2015: 0 -> 4 with duration 444: end segment 421 // 5 = 84, which nobody reached.
    assert tiny_lake.rows(lake, f"SELECT {MART} FROM video_segments ORDER BY course_id, video_id, segment") == [
        ("course-v1:edX+DemoX+Test_2014", "0b9e39477cf34507a7a48f74be381fdd", 0, 1, 1),
        ("course-v1:edX+DemoX+Test_2015", "0b9e39477cf34507a7a48f74be381fdd1", 0, 1, 1),
        (DEMO, FIRST, 0, 2, 2),
        (DEMO, FIRST, 1, 2, 3),
        (DEMO, FIRST, 2, 1, 2),
        (DEMO, FIRST, 3, 2, 2),
        (DEMO, FIRST, 4, 2, 3),
        (DEMO, SECOND, 2, 1, 1),
        (DEMO, SECOND, 3, 1, 1),
        (DEMO, SECOND, 4, 1, 1),
    ]
    assert tiny_lake.rows(lake, f"SELECT {MART} FROM video_engagement ORDER BY course_id, video_id") == [
        ("course-v1:edX+DemoX+Test_2014", "0b9e39477cf34507a7a48f74be381fdd", 4, 5, 1, 1, 5),
        ("course-v1:edX+DemoX+Test_2015", "0b9e39477cf34507a7a48f74be381fdd1", 444, 5, 1, 0, 5),
        (DEMO, FIRST, 24, 5, 2, 2, 60),  # (2 + 3 + 2 + 2 + 3) views * 5 s
        (DEMO, SECOND, 24, 5, 0, 1, 15),
    ]
    columns = [row[0] for row in tiny_lake.rows(lake, "DESCRIBE video_engagement")]
    assert columns[:7] == [
        "course_id",
        "video_id",
        "duration",
        "segment_length",
        "users_at_start",
        "users_at_end",
        "total_viewed_seconds",
    ]


def _line(user_id: int, seconds: int, event_type: str, body: dict, source: str = "mobile") -> str:
    return json.dumps(
        {
            "username": f"user{user_id}",
            "event_type": event_type,
            "event_source": source,
            "time": f"2016-03-07T10:00:{seconds:02d}+00:00",
            "context": {"user_id": user_id, "course_id": "course-v1:IDBx+IDB6x+2016_T1"},
            "event": body if source != "browser" else json.dumps(body),
        }
    )


def test_mobile_names_and_the_players_quirks(lake, tmp_path):
    block = "block-v1:IDBx+IDB6x+2016_T1+type@video+block@abc123"
    log = tmp_path / "mobile.log"
    log.write_text(
        "\n".join(
            [
                # mobile: module_id and current_time, seek by new and old time, the viewing ended by a stop
                _line(1, 0, "edx.video.played", {"module_id": block, "current_time": 3.0, "duration": 60}),
                _line(
                    1, 5, "edx.video.position.changed", {"module_id": block, "old_time": 12.0, "new_time": 30.0, "duration": 60}
                ),
                _line(1, 6, "edx.video.played", {"module_id": block, "current_time": 12.0, "duration": 60}),
                _line(1, 9, "edx.video.stopped", {"module_id": block, "current_time": 36.0, "duration": 60}),
                # a viewing past the duration + 1 s is dropped; a pause without currentTime is at 0, before the start: dropped
                _line(2, 0, "play_video", {"id": "abc123", "currentTime": 50, "duration": 60}, "browser"),
                _line(2, 3, "pause_video", {"id": "abc123", "currentTime": 61.5, "duration": 60}, "browser"),
                _line(2, 4, "play_video", {"id": "abc123", "currentTime": 20, "duration": 60}, "browser"),
                _line(2, 5, "pause_video", {"id": "abc123", "duration": 60}, "browser"),
                # two plays in a row: the second begins the viewing; a huge position drops its event
                _line(3, 0, "play_video", {"id": "abc123", "currentTime": 0, "duration": 60}, "browser"),
                _line(3, 1, "play_video", {"id": "abc123", "currentTime": 55, "duration": 60}, "browser"),
                _line(3, 2, "pause_video", {"id": "abc123", "currentTime": 99999, "duration": 60}, "browser"),
                _line(3, 3, "pause_video", {"id": "abc123", "currentTime": 59.9, "duration": 60}, "browser"),
            ]
        )
        + "\n"
    )
    assert not ingest_events([log], lake, log_date=date(2016, 3, 7)).failed
    assert not build(lake).failed
    # user 1: 3 -> 12 (segments 0-2), then 30 (the seek's new time) -> 36 (6-7); user 3: 55 -> 59.9 (11)
    assert tiny_lake.rows(lake, "SELECT video_id, segment, num_users, num_views FROM video_segments ORDER BY segment") == [
        ("abc123", 0, 1, 1),
        ("abc123", 1, 1, 1),
        ("abc123", 2, 1, 1),
        ("abc123", 6, 1, 1),
        ("abc123", 7, 1, 1),
        ("abc123", 11, 1, 1),
    ]
    # duration 60: end segment of max(30, 57) = 11; total 6 views * 5 s
    assert tiny_lake.rows(lake, f"SELECT {MART} FROM video_engagement") == [
        ("course-v1:IDBx+IDB6x+2016_T1", "abc123", 60, 5, 1, 1, 30)
    ]
