"""Faults against a real server: killed with SIGKILL mid-publish, a reader polling during a
publish, transient errors retried, refused commands and credentials, an unreachable server."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pymongo
import pytest

from idbx.local.services import free_port
from idbx.publish import PublishError, publish
from tests.conftest import copy_lake
from tests.publish import lakes
from tests.publish.conftest import assert_whole, failing_commands, fast

RA, RC = "ra_2016_t1", "rc_2016_t1"


@pytest.fixture(scope="module")
def bigger_lake(built_scenario, tmp_path_factory):
    """The scenario with each learner 200 times: a few thousand learner documents."""
    return lakes.with_more_learners(built_scenario, tmp_path_factory.mktemp("bigger"), copies=200)


def published_sets(db) -> dict[str, tuple[str, int]]:
    return {doc["_id"]: (doc["learners_hash"], doc["learners_count"]) for doc in db.courses.find()}


def test_server_killed_mid_publish_leaves_the_previous_state_and_the_next_publish_completes(
    mongo_server, built_scenario, bigger_lake, settings, database
):
    if mongo_server is None:
        pytest.skip("needs a server the test starts and kills itself (not IDBX_TEST_MONGO_URI)")
    publish(built_scenario, settings)
    before = published_sets(database)
    reports_before = list(database.reports.find())

    failure: list[BaseException] = []

    def run() -> None:
        try:
            publish(bigger_lake, settings)
        except BaseException as exc:  # noqa: BLE001  (handed to the test)
            failure.append(exc)

    publishing = threading.Thread(target=run)
    publishing.start()
    deadline = time.monotonic() + 60
    while database.learners.count_documents({"_publish": 2}) < 300:  # some of the new generation is written
        assert time.monotonic() < deadline and publishing.is_alive()
        time.sleep(0.05)
    mongo_server.kill()
    publishing.join(60)
    assert len(failure) == 1 and isinstance(failure[0], PublishError)
    message = str(failure[0])
    assert "\n" not in message and f"cannot reach MongoDB at 127.0.0.1:{mongo_server.port}" in message

    mongo_server.launch()  # same storage, same port
    assert published_sets(database) == before  # every course still on its previous learner set...
    for course in before:
        assert_whole(database, course)  # ... readable and whole
    assert list(database.reports.find()) == reports_before
    assert database.learners.count_documents({"_publish": 2}) > 0  # the interrupted generation's leftovers

    summary = publish(bigger_lake, settings)
    assert summary.recovered_courses  # cleaned up first
    assert summary.learners.written == 200 * sum(count for _, count in before.values())
    for course in before:
        assert_whole(database, course)
    assert database.learners.count_documents({}) == summary.learners.written  # no generation but the current one
    assert database["_idbx_publish"].find_one({"_id": "state"})["in_progress"] is None


def test_a_reader_polling_during_a_publish_never_sees_a_course_missing_or_half(built_scenario, bigger_lake, settings, database):
    publish(built_scenario, settings)
    courses = sorted(database.courses.distinct("_id"))
    reader_db = pymongo.MongoClient(settings.uri)[database.name]
    seen: list[int] = []
    problems: list[str] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            for course in courses:
                try:
                    document, _ = assert_whole(reader_db, course)
                    assert reader_db.reports.find_one({"_id": course}, {"_id": 1}) is not None, f"report of {course} missing"
                    seen.append(document["learners_publish"])
                except AssertionError as exc:
                    problems.append(str(exc))

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        summary = publish(bigger_lake, settings)
    finally:
        stop.set()
        reader.join()
    assert not problems, problems[:3]
    assert summary.publish == 2 and {1, 2} <= set(seen)  # it read both generations: it ran during the publish
    assert len(seen) > 2 * len(courses)


def test_transient_errors_are_retried(built_scenario, settings, database):
    notes: list[str] = []
    with failing_commands(database, 2, failCommands=["insert"], closeConnection=True):
        summary = publish(built_scenario, settings, on_note=notes.append)
    assert len(notes) == 2 and all("attempt" in note for note in notes)
    assert summary.learners.written == database.learners.count_documents({}) > 0
    assert_whole(database, RA)


def test_a_refused_command_fails_at_once_and_leaves_the_published_state(built_scenario, settings, database, tmp_path):
    publish(built_scenario, settings)
    before = published_sets(database)
    lake = copy_lake(built_scenario, tmp_path)
    lakes.rewrite_mart(lake, "person_course", "SELECT * REPLACE (nevents + 1 AS nevents) FROM mart")
    notes: list[str] = []
    with (
        failing_commands(database, 1, failCommands=["insert"], errorCode=13, errmsg="not authorized to insert"),
        pytest.raises(PublishError, match=r"refused writing learners documents: .* \(code 13 Unauthorized\)$") as raised,
    ):
        publish(lake, settings, on_note=notes.append)
    assert not notes and "\n" not in str(raised.value)
    assert published_sets(database) == before
    for course in before:
        assert_whole(database, course)
    assert publish(lake, settings).learner_courses == sorted(before)  # and the next one completes


def test_an_unreachable_server_is_one_line_after_the_retries(built_scenario):
    port = free_port()
    notes: list[str] = []
    settings = replace(fast(f"mongodb://127.0.0.1:{port}", "edx"), server_timeout_ms=200)
    with pytest.raises(PublishError) as raised:
        publish(built_scenario, settings, on_note=notes.append)
    assert str(raised.value).startswith(f"cannot reach MongoDB at 127.0.0.1:{port} while connecting after 3 attempts:")
    assert "Connection refused" in str(raised.value) and "\n" not in str(raised.value)
    assert len(notes) == 2
