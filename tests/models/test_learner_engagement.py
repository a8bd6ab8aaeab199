"""edX's learner engagement report on edX's forum fixture (../shared/corpus/events/
student_forum_activity.log, 2015-09-14, a Monday) and a log of our own for enrolment, problems,
videos, textbook and subsection pages: expected rows derived by hand from the files."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from idbx.exports.engagement import Intervals
from idbx.exports.writer import write_report
from idbx.ingest.course_data import ingest_package
from idbx.ingest.events import ingest_events
from idbx.lake.store import Lake
from idbx.models.runner import build
from tests.conftest import copy_lake
from tests.models import tiny_lake

COURSE = "course-v1:ForumX+1+1"
PAGE = "/courses/course-v1:ForumX+1+1/courseware/{}/"
# The fixture's users: honor 1, audit 2, verified 3, staff 4; ours: 5 enrolls after the first
# week, 6 never does anything but enrol.
NAMES = {1: "honor", 2: "audit", 3: "verified", 4: "staff", 5: "late", 6: "quiet"}


def _event(user_id: int, time: str, event_type: str, body: dict, source: str = "server") -> str:
    return json.dumps(
        {
            "username": NAMES[user_id],
            "event_type": event_type,
            "event_source": source,
            "time": time,
            "context": {"user_id": user_id, "course_id": COURSE},
            "event": json.dumps(body) if source == "browser" else body,
        }
    )


def _enrolment(user_id: int, time: str, action: str = "activated") -> str:
    return _event(user_id, time, f"edx.course.enrollment.{action}", {"user_id": user_id, "course_id": COURSE, "mode": "honor"})


OUR_LOG = [
    *(_enrolment(user, "2015-09-10T10:00:00+00:00") for user in (1, 2, 3, 4, 6)),
    _enrolment(5, "2015-09-21T08:00:00+00:00"),
    _enrolment(4, "2015-09-22T08:00:00+00:00", "deactivated"),
    # the week's last second and the next week's first
    _event(1, "2015-09-20T23:59:59+00:00", PAGE.format("ch1/seq1"), {"GET": {}, "POST": {}}),
    _event(1, "2015-09-21T00:00:00+00:00", PAGE.format("ch2/seq3"), {"GET": {}, "POST": {}}),
    # two checks of p1 (the second correct), one of p2; a browser check is not counted at all
    _event(2, "2015-09-15T10:00:00+00:00", "problem_check", {"problem_id": "p1", "success": "incorrect"}),
    _event(2, "2015-09-15T10:01:00+00:00", "problem_check", {"problem_id": "p1", "success": "correct"}),
    _event(2, "2015-09-16T10:00:00+00:00", "problem_check", {"problem_id": "p2", "success": "incorrect"}),
    _event(2, "2015-09-19T10:00:00+00:00", "problem_check", {"problem_id": "p3"}, source="browser"),
    # two videos (one played twice), a textbook page, two subsections (the later one is last)
    _event(3, "2015-09-17T10:00:00+00:00", "play_video", {"id": "v1", "currentTime": 0}, source="browser"),
    _event(3, "2015-09-17T10:05:00+00:00", "play_video", {"id": "v1", "currentTime": 9}, source="browser"),
    _event(3, "2015-09-17T10:09:00+00:00", "play_video", {"id": "v2", "currentTime": 0}, source="browser"),
    _event(3, "2015-09-17T11:00:00+00:00", "book", {"type": "gotopage", "old": 1, "new": 2}, source="browser"),
    _event(3, "2015-09-18T12:00:00+00:00", PAGE.format("ch1/seq2"), {"GET": {}, "POST": {}}),
    _event(3, "2015-09-18T09:00:00+00:00", PAGE.format("ch1/seq1"), {"GET": {}, "POST": {}}),
]


@pytest.fixture(scope="module")
def engagement_lake(corpus, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The fixture's and our log landed and built once for the module (read-only: a test that
    changes it takes a copy_lake)."""
    root = tmp_path_factory.mktemp("engagement")
    lake = Lake(root / "lake")
    ours = root / "ours.log"
    ours.write_text("\n".join(OUR_LOG) + "\n")
    assert not ingest_events([corpus / "events" / "student_forum_activity.log"], lake, log_date=date(2015, 9, 14)).failed
    assert not ingest_events([ours], lake, log_date=date(2015, 9, 22)).failed
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IDBX_PSEUDONYM_KEY", tiny_lake.KEY)
        assert not build(lake).failed
    return lake


def _report(lake, intervals: Intervals, **options) -> list[dict]:
    out = lake.root.parent / "engagement.csv"
    write_report(lake, "engagement", out, intervals=intervals, **options)
    return list(csv.DictReader(io.StringIO(out.read_text())))


def _counts(row: dict) -> tuple:
    return tuple(
        row[name]
        for name in (
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
    )


ZEROS = ("0",) * 13 + ("",)


def test_weekly_report_of_the_fixture(engagement_lake):
    rows = _report(engagement_lake, Intervals("weekly", date(2015, 9, 14), date(2015, 9, 27)))
    by_learner = {(row["end_date"], row["learner_id"]): row for row in rows}
    week, next_week = "2015-09-20", "2015-09-27"
    pid = tiny_lake.pseudonym
    # Week ending Sunday 20: the learners enrolled at its end (not 5, who enrolls on the 21st).
    # honor: the forum day and the Sunday 23:59:59 page; a thread and a response; an up vote
    # undone (0); up votes received from staff and audit.
    assert _counts(by_learner[week, pid(1)]) == (
        "2",
        "0",
        "0",
        "0",
        "0",
        "1",
        "1",
        "0",
        "0",
        "0",
        "2",
        "0",
        "0",
        PAGE.format("ch1/seq1"),
    )
    # audit: 3 days (the browser check of the 19th counts for nothing); p1 twice, correct, p2 once;
    # a thread; three up votes given, one received from verified
    assert _counts(by_learner[week, pid(2)]) == ("3", "2", "3", "1", "0", "1", "0", "0", "3", "0", "1", "0", "0", "")
    # verified: 3 days; two videos; a comment; one up vote; a textbook page; seq2 viewed last
    assert _counts(by_learner[week, pid(3)]) == (
        "3",
        "0",
        "0",
        "0",
        "2",
        "0",
        "0",
        "1",
        "1",
        "0",
        "0",
        "0",
        "1",
        PAGE.format("ch1/seq2"),
    )
    # staff: two threads, an up vote given, two received (honor's was undone)
    assert _counts(by_learner[week, pid(4)]) == ("1", "0", "0", "0", "0", "2", "0", "0", "1", "0", "2", "0", "0", "")
    assert _counts(by_learner[week, pid(6)]) == ZEROS
    # The next week: staff unenrolled on the 22nd, 5 enrolled on the 21st (its enrolment event is its day).
    assert _counts(by_learner[next_week, pid(1)]) == ("1",) + ("0",) * 12 + (PAGE.format("ch2/seq3"),)
    assert _counts(by_learner[next_week, pid(5)]) == ("1",) + ("0",) * 12 + ("",)
    assert all(_counts(by_learner[next_week, pid(user)]) == ZEROS for user in (2, 3, 6))
    assert sorted(by_learner) == sorted(
        [(week, pid(u)) for u in (1, 2, 3, 4, 6)] + [(next_week, pid(u)) for u in (1, 2, 3, 5, 6)]
    )
    assert list(rows[0])[:5] == ["course_id", "end_date", "learner_id", "cohort", "days_active"]
    assert {row["course_id"] for row in rows} == {COURSE}


def test_daily_and_whole_range(engagement_lake):
    daily = _report(engagement_lake, Intervals("daily", date(2015, 9, 20), date(2015, 9, 21)), courses=["1_1"])
    honor = {row["end_date"]: _counts(row) for row in daily if row["learner_id"] == tiny_lake.pseudonym(1)}
    assert honor == {
        "2015-09-20": ("1",) + ("0",) * 12 + (PAGE.format("ch1/seq1"),),
        "2015-09-21": ("1",) + ("0",) * 12 + (PAGE.format("ch2/seq3"),),
    }
    assert len(daily) == 5 + 6  # enrolled at the end of the 20th: 1, 2, 3, 4, 6; of the 21st: 5 too (staff leaves on the 22nd)
    # The mart: the whole range, to the last day of the events (the 22nd: staff unenrolled)
    mart = tiny_lake.rows(
        engagement_lake,
        "SELECT learner_id, end_date, days_active, forum_upvotes_received FROM learner_engagement ORDER BY days_active, "
        "learner_id",
    )
    assert {row[0] for row in mart} == {tiny_lake.pseudonym(u) for u in (1, 2, 3, 5, 6)}
    assert {row[1] for row in mart} == {date(2015, 9, 22)}
    # honor: enrolment day, forum day, the 20th and the 21st
    assert (tiny_lake.pseudonym(1), date(2015, 9, 22), 4, 2) in mart
    # the report for the whole range is the mart
    whole = _report(engagement_lake, Intervals("all", date(2015, 9, 10), date(2015, 9, 22)))
    assert whole == _report(engagement_lake, Intervals())


def test_a_day_of_votes_received_only_is_a_day_active(engagement_lake, tmp_path, monkeypatch):
    """The mart takes the learner's own days from their whole-range totals, kept by learner, and
    adds the days on which they only received votes, as the report over the days counts them."""
    lake = copy_lake(engagement_lake, tmp_path)
    vote = tmp_path / "vote.log"
    body = {"vote_value": "up", "undo_vote": False, "target_username": "quiet"}
    vote.write_text(_event(4, "2015-09-23T10:00:00+00:00", "edx.forum.thread.voted", body) + "\n")
    assert not ingest_events([vote], lake, log_date=date(2015, 9, 23)).failed
    monkeypatch.setenv("IDBX_PSEUDONYM_KEY", tiny_lake.KEY)
    summary = build(lake)
    # the voter alone is recomputed (staff: not enrolled any more, so not in the mart)
    assert summary.outcome("int__engagement__learner_totals").notes == [
        "recomputed 1 [course_key, learner_key] value(s), kept the other rows"
    ]
    quiet = tiny_lake.rows(
        lake,
        "SELECT end_date, days_active, forum_upvotes_received FROM learner_engagement "
        f"WHERE learner_id = '{tiny_lake.pseudonym(6)}'",
    )
    assert quiet == [(date(2015, 9, 23), 2, 1)]  # the enrolment day and the vote's
    assert _report(lake, Intervals("all", date(2015, 9, 10), date(2015, 9, 23))) == _report(lake, Intervals())


def _idbx(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).with_name("idbx")), *args], capture_output=True, text=True, env=os.environ.copy()
    )


def test_cli_names_learners_only_when_asked(engagement_lake, tmp_path):
    engagement_lake = copy_lake(engagement_lake, tmp_path)
    # A self-hosted dump of the users and cohorts of every course, without an enrolment table: its
    # users go to the courses the enrolment events put them in.
    users = tmp_path / "forumx-2015-09-30"
    users.mkdir()
    (users / "edxapp.sql").write_text(
        "CREATE TABLE `auth_user` (`id` int(11), `username` varchar(30), `email` varchar(75), `date_joined` datetime);\n"
        "INSERT INTO `auth_user` VALUES "
        + ",".join(f"({user},'{name}','{name}@example.org','2015-01-01 00:00:00')" for user, name in NAMES.items())
        + ";\n"
        "CREATE TABLE `course_groups_courseusergroup` (`id` int(11), `name` varchar(255), `course_id` varchar(255), "
        "`group_type` varchar(20));\n"
        f"INSERT INTO `course_groups_courseusergroup` VALUES (1,'Grupo A','{COURSE}','cohort'),(2,'Grupo "
        f"B','{COURSE}','cohort');\n"
        "CREATE TABLE `course_groups_cohortmembership` (`id` int(11), `course_user_group_id` int(11), `user_id` int(11), "
        "`course_id` varchar(255));\n"
        f"INSERT INTO `course_groups_cohortmembership` VALUES (1,1,1,'{COURSE}'),(2,2,2,'{COURSE}'),(3,1,3,'{COURSE}');\n"
    )
    assert not ingest_package([users], engagement_lake, snapshot_date=date(2015, 9, 30)).failed
    assert not build(engagement_lake).failed
    plain, named = tmp_path / "plain.csv", tmp_path / "named.csv"
    common = (
        "report",
        "engagement",
        "--lake",
        str(engagement_lake.root),
        "--interval",
        "weekly",
        "--start",
        "2015-09-14",
        "--end",
        "2015-09-20",
        "--course",
        "1_1",
    )
    done = _idbx(*common, "--out", str(plain))
    assert done.returncode == 0, done.stderr
    text = plain.read_text()
    assert not any(name in text for name in NAMES.values()) and "@" not in text and "warning" not in done.stderr
    assert text.splitlines()[0].startswith("course_id,end_date,learner_id,cohort,days_active,")
    done = _idbx(*common, "--out", str(named), "--include-pii")
    assert done.returncode == 0, done.stderr
    assert "warning:" in done.stderr and "username, email" in done.stderr
    rows = list(csv.DictReader(named.open()))
    assert list(rows[0])[:6] == ["course_id", "end_date", "username", "email", "cohort", "days_active"]
    assert sorted((row["username"], row["email"], row["cohort"], row["days_active"]) for row in rows) == [
        ("audit", "audit@example.org", "Grupo B", "3"),
        ("honor", "honor@example.org", "Grupo A", "2"),
        ("quiet", "quiet@example.org", "", "0"),
        ("staff", "staff@example.org", "", "1"),
        ("verified", "verified@example.org", "Grupo A", "3"),
    ]
    # options for other reports, and a bad interval, are usage errors
    assert _idbx("report", "masterfile", "--lake", str(engagement_lake.root), "--interval", "daily").returncode == 2
    assert _idbx(*common[:4], "--interval", "monthly").returncode == 2
