"""Publishing the scenario's marts (tests/models/scenario.py, counted by hand) to a real
MongoDB-wire server: the documents, the round trip, incremental publishes, indexes, the lease."""

from __future__ import annotations

import os
import socket
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from idbx.errors import IdbxError
from idbx.lake.store import Lake
from idbx.publish import PublishError, publish
from tests.conftest import copy_lake
from tests.publish import lakes
from tests.publish.conftest import assert_whole

RA, RC = "ra_2016_t1", "rc_2016_t1"
BOOKKEEPING = ("_id", "_hash", "_publish")


def marts(lake: Lake, sql: str) -> list[dict]:
    with duckdb.connect(str(lake.catalog_path), read_only=True) as con:
        result = con.execute(sql)
        names = [column[0] for column in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def as_datetime(value):
    return datetime(value.year, value.month, value.day) if isinstance(value, date) and not isinstance(value, datetime) else value


def test_reports_document_is_the_predecessors(built_scenario, settings, database):
    publish(built_scenario, settings)
    document = database.reports.find_one({"_id": RA})
    computed_at = marts(built_scenario, f"SELECT computed_at FROM course_report WHERE course_key = '{RA}'")[0]["computed_at"]
    assert document == {
        "_id": RA,
        "metadata": {"name": "Curso A", "sme": "SCL, SPH", "start_date": datetime(2016, 6, 1), "end_date": datetime(2016, 7, 31)},
        "report": {
            # 5 enrollment rows, 3 learners with courseware rows; certificates: 1 notpassing, 2 graded at or
            # above the course's 0.7 (0.9 and 0.7), 2 downloadable.
            "users": {"total": 5, "active": 3, "certificates": {"failed": 1, "approved": 2, "certified": 2}},
            "gender": {"f": 1, "m": 2},
            "education": {"b": 2, "m": 1},
            "countries": {
                "CO": {"total": 1, "gender": {}, "education": {}, "birth": {}},
                "MX": {"total": 2, "gender": {"f": 1, "m": 1}, "education": {"b": 1, "m": 1}, "birth": {"1980": 1, "1990": 1}},
            },
            "created": computed_at.replace(microsecond=computed_at.microsecond // 1000 * 1000),  # BSON keeps milliseconds
        },
        "_hash": document["_hash"],
        "_publish": 1,
    }
    # The predecessor's field order, which its dashboards' code may rely on.
    assert list(document) == ["_id", "_hash", "metadata", "report", "_publish"]
    assert list(document["report"]) == ["users", "gender", "education", "countries", "created"]
    assert list(document["metadata"]) == ["name", "sme", "start_date", "end_date"]
    # One report per course of the course_report mart (the excluded rb_2016_t1 has none).
    assert sorted(database.reports.distinct("_id")) == [RA, RC]


def test_round_trip(built_scenario, settings, database):
    summary = publish(built_scenario, settings)
    people = marts(
        built_scenario, "SELECT * EXCLUDE (computed_at, data_through, definitions_version, learner_key) FROM person_course"
    )
    assert summary.learners.written == len(people) > 0
    for course_key in (RA, RC):
        course, learners = assert_whole(database, course_key)
        expected = sorted((row for row in people if row["course_key"] == course_key), key=lambda row: row["learner_id"])
        got = sorted(
            ({k: v for k, v in doc.items() if k not in BOOKKEEPING} for doc in learners), key=lambda row: row["learner_id"]
        )
        assert got == expected
        for mart, order in (
            ("activity_daily", "date"),
            ("weekly_active", "week_start, label"),
            ("enrollment_daily", "date, mode"),
        ):
            rows = marts(
                built_scenario,
                f"SELECT * EXCLUDE (course_id, course_key, computed_at, data_through, definitions_version) "
                f"FROM {mart} WHERE course_key = '{course_key}' ORDER BY {order}",
            )
            assert course[mart] == [{k: as_datetime(v) for k, v in row.items()} for row in rows], (course_key, mart)
        report = marts(built_scenario, f"SELECT * FROM course_report WHERE course_key = '{course_key}'")[0]
        assert course["indicators"]["users_total"] == report["users_total"]
        assert course["indicators"]["learners"] == len(expected)
        assert course["indicators"]["viewed"] == sum(row["viewed"] for row in expected)
        assert course["demographics"]["countries"] == report["countries"]
        assert course["name"] == report["name"] and course["snapshot_date"] == as_datetime(report["snapshot_date"])
    assert database.learners.count_documents({}) == len(people)
    # No learner document names anyone: the pseudonymous id only.
    assert not set(database.learners.find_one()) & {"username", "email", "name", "ip", "user_id"}


def _operations(database) -> dict[str, int]:
    counters = database.client.admin.command("serverStatus")["opcounters"]
    return {name: counters[name] for name in ("insert", "update", "delete")}


def test_a_second_publish_writes_nothing(built_scenario, settings, database):
    first = publish(built_scenario, settings)
    assert first.written > 0 and first.publish == 1
    before = _operations(database)
    snapshot = {name: list(database[name].find()) for name in ("reports", "courses", "learners")}
    second = publish(built_scenario, settings)
    after = _operations(database)
    assert second.publish is None and second.written == 0
    assert (second.reports.unchanged, second.courses.unchanged, second.learners.unchanged) == (2, 2, first.learners.written)
    assert after["insert"] == before["insert"] and after["delete"] == before["delete"]
    assert after["update"] - before["update"] <= 3  # the lease taken and given back, the state's last run: no document
    assert {name: list(database[name].find()) for name in snapshot} == snapshot


def test_one_changed_course_rewrites_only_its_documents(built_scenario, settings, database, tmp_path):
    publish(built_scenario, settings)
    before = {(name, doc["_id"]): doc for name in ("reports", "courses") for doc in database[name].find()}
    ra_learners = sorted(doc["_id"] for doc in database.learners.find({"course_key": RA}))

    lake = copy_lake(built_scenario, tmp_path)
    lakes.rewrite_mart(
        lake,
        "person_course",
        f"SELECT * REPLACE (CASE WHEN course_key = '{RC}' THEN nevents + 1 ELSE nevents END AS nevents) FROM mart",
    )
    summary = publish(lake, settings)

    rc_learners = database.learners.count_documents({"course_key": RC})
    assert summary.learner_courses == [RC]
    assert (summary.learners.written, summary.learners.removed) == (rc_learners, rc_learners)
    assert (summary.reports.written, summary.courses.written) == (0, 1)  # RC's course document points to its new learners
    assert sorted(doc["_id"] for doc in database.learners.find({"course_key": RA})) == ra_learners
    assert [database.reports.find_one({"_id": key}) for key in (RA, RC)] == [before["reports", RA], before["reports", RC]]
    assert database.courses.find_one({"_id": RA}) == before["courses", RA]
    course, learners = assert_whole(database, RC)
    assert course["learners_publish"] == summary.publish == 2 and {doc["_publish"] for doc in learners} == {2}
    content = {k: v for k, v in course.items() if not k.startswith(("learners_", "_publish"))}
    assert content == {k: v for k, v in before["courses", RC].items() if not k.startswith(("learners_", "_publish"))}
    assert all(doc["nevents"] >= 1 for doc in learners)


def test_courses_gone_from_the_marts_are_removed(built_scenario, settings, database, tmp_path):
    publish(built_scenario, settings)
    lake = copy_lake(built_scenario, tmp_path)
    for mart in ("course_report", "person_course", "activity_daily", "weekly_active", "enrollment_daily"):
        lakes.rewrite_mart(lake, mart, f"SELECT * FROM mart WHERE course_key <> '{RC}'")
    summary = publish(lake, settings)
    assert summary.removed_courses == [RC]
    assert (summary.reports.removed, summary.courses.removed) == (1, 1)
    assert database.reports.find_one({"_id": RC}) is None and database.courses.find_one({"_id": RC}) is None
    assert database.learners.count_documents({"course_key": RC}) == 0
    assert_whole(database, RA)


def test_indexes_exist(built_scenario, settings, database):
    publish(built_scenario, settings)
    publish(built_scenario, settings)  # creating them again is a no-op
    learners = database.learners.index_information()
    assert learners["course_publish_learner"]["key"] == [("course_key", 1), ("_publish", 1), ("learner_id", 1)]
    assert learners["course_publish_learner"]["unique"]
    assert learners["learner"]["key"] == [("learner_id", 1)]
    assert learners["course_publish_last_event"]["key"] == [("course_key", 1), ("_publish", 1), ("last_event", 1)]
    assert database.courses.index_information()["start_date"]["key"] == [("start_date", 1)]
    assert database.reports.index_information()["metadata_start_date"]["key"] == [("metadata.start_date", 1)]


def test_a_running_publish_elsewhere_holds_the_lease(built_scenario, settings, database):
    now = datetime.now(UTC)
    database["_idbx_publish"].insert_one(
        {
            "_id": "lease",
            "holder": "other-host:1:x",
            "host": "other-host",
            "pid": 1,
            "acquired_at": now,
            "expires_at": now + timedelta(minutes=10),
        }
    )
    with pytest.raises(PublishError, match=r"another publish to \w+ is running \(host other-host, pid 1, since"):
        publish(built_scenario, settings)
    assert database.reports.count_documents({}) == 0


def test_a_lease_left_by_a_dead_process_here_is_taken_over(built_scenario, settings, database):
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    now = datetime.now(UTC)
    database["_idbx_publish"].insert_one(
        {
            "_id": "lease",
            "holder": f"{socket.gethostname()}:{dead}:x",
            "host": socket.gethostname(),
            "pid": dead,
            "acquired_at": now,
            "expires_at": now + timedelta(minutes=10),
        }
    )
    assert publish(built_scenario, settings).reports.written == 2
    assert database["_idbx_publish"].find_one({"_id": "lease"})["holder"] is None


def test_a_lake_without_marts_is_refused(tmp_path, settings):
    (tmp_path / "lake").mkdir()
    with pytest.raises(IdbxError, match="run `idbx build` first"):
        publish(Lake(tmp_path / "lake"), settings)


def test_a_lease_left_by_a_publish_killed_a_moment_ago_is_taken_over(built_scenario, settings, database):
    """A publish killed by SIGKILL stays a zombie until its parent reaps it: its pid still answers
    kill(pid, 0), yet it holds nothing."""
    zombie = os.fork()
    if zombie == 0:
        os._exit(0)
    try:
        while Path(f"/proc/{zombie}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            pass
        now = datetime.now(UTC)
        database["_idbx_publish"].insert_one(
            {
                "_id": "lease",
                "holder": f"{socket.gethostname()}:{zombie}:x",
                "host": socket.gethostname(),
                "pid": zombie,
                "acquired_at": now,
                "expires_at": now + timedelta(minutes=10),
            }
        )
        assert publish(built_scenario, settings).reports.written == 2
    finally:
        os.waitpid(zombie, 0)


def test_a_lease_whose_pid_was_given_to_another_process_is_taken_over(built_scenario, settings, database):
    now = datetime.now(UTC)
    parent = os.getppid()  # alive, but not the process that took the lease (it started at another time)
    database["_idbx_publish"].insert_one(
        {
            "_id": "lease",
            "holder": f"{socket.gethostname()}:{parent}:x",
            "host": socket.gethostname(),
            "pid": parent,
            "pid_started": 1,
            "acquired_at": now,
            "expires_at": now + timedelta(minutes=10),
        }
    )
    assert publish(built_scenario, settings).reports.written == 2


def test_a_live_publish_here_keeps_its_lease(built_scenario, settings, database):
    now = datetime.now(UTC)
    parent = os.getppid()
    started = int(Path(f"/proc/{parent}/stat").read_text().rsplit(")", 1)[1].split()[19])
    database["_idbx_publish"].insert_one(
        {
            "_id": "lease",
            "holder": f"{socket.gethostname()}:{parent}:x",
            "host": socket.gethostname(),
            "pid": parent,
            "pid_started": started,
            "acquired_at": now,
            "expires_at": now + timedelta(minutes=10),
        }
    )
    with pytest.raises(PublishError, match="another publish"):
        publish(built_scenario, settings)


def test_the_course_documents_carry_the_outline_with_each_chapters_reach(built_scenario, settings, database):
    """Course A's outline (tests/models/content.py) with the reach test_content derives by hand:
    ch1 3 learners (s1 2), ch2 1 (s2 none), ch3 1 (s3 none); course C has no structure."""
    publish(built_scenario, settings)
    outline = database.courses.find_one({"_id": RA})["outline"]
    assert [
        (
            c["display_name"],
            c["chapter_index"],
            c["learners"],
            c["learners_from_events"],
            c["learners_from_courseware"],
            c["share_of_previous"],
            c["share_of_first"],
        )
        for c in outline
    ] == [("Intro", 1, 3, 1, 3, None, 1.0), ("Semana 1", 2, 1, 0, 1, 1 / 3, 1 / 3), ("Examen", 3, 1, 0, 1, 1.0, 1 / 3)]
    assert [[(s["display_name"], s["sequential_index"], s["learners"]) for s in c["sequentials"]] for c in outline] == [
        [("Bienvenida", 1, 2)],
        [("Tarea", 2, 0)],
        [("Examen final", 3, 0)],
    ]
    assert outline[0]["block_id"] == "block-v1:IDBx+RA+2016_T1+type@chapter+block@ch1"
    assert database.courses.find_one({"_id": RC})["outline"] == []
