"""The publish tests' settings and lake: the server is the session's (tests/conftest.py), each test
gets its own database; the lake is the hand-counted scenario of tests/models (built_scenario)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pymongo
import pytest

from idbx.publish import MongoSettings


@contextmanager
def failing_commands(db: pymongo.database.Database, times: int, **data: object) -> Iterator[None]:
    """The server's `failCommand` fail point armed for the next `times` commands it matches (`data`:
    failCommands, errorCode, closeConnection...), disarmed after the block; the test is skipped on a
    server without test commands."""
    admin = db.client.admin
    try:
        admin.command("configureFailPoint", "failCommand", mode={"times": times}, data=data)
    except pymongo.errors.OperationFailure:
        pytest.skip("the server does not enable test commands (configureFailPoint)")
    try:
        yield
    finally:
        admin.command("configureFailPoint", "failCommand", mode="off")


def fast(uri: str, database: str) -> MongoSettings:
    """Settings that give up quickly (the tests' servers are local)."""
    return MongoSettings(uri=uri, database=database, batch_size=200, attempts=3, backoff_seconds=0.05, server_timeout_ms=1500)


@pytest.fixture
def settings(mongo_uri: str, database: pymongo.database.Database) -> MongoSettings:
    return fast(mongo_uri, database.name)


def learner_set_hash(documents: list[dict]) -> str | None:
    """A course's learner-set hash recomputed from its documents (the definition, in Python)."""
    if not documents:
        return None
    import hashlib

    ordered = sorted((doc["learner_id"], doc["_hash"]) for doc in documents)
    return hashlib.md5(",".join(h for _, h in ordered).encode()).hexdigest()


def read_course(db: pymongo.database.Database, course_key: str) -> tuple[dict | None, list[dict]]:
    """What a reader following the protocol sees of a course: its `courses` document and the
    learner documents of the generation it points to (re-read when the pointer moved meanwhile)."""
    from idbx.publish import learners_query

    while True:
        query = learners_query(db, course_key)
        if query is None:
            return None, []
        learners = list(db.learners.find(query))
        course = db.courses.find_one({"_id": course_key})
        if course is not None and course.get("learners_publish") == query["_publish"]:
            return course, learners


def assert_whole(db: pymongo.database.Database, course_key: str) -> tuple[dict, list[dict]]:
    """The course is published and its learner set is exactly the one its document describes."""
    course, learners = read_course(db, course_key)
    assert course is not None, f"{course_key} is missing"
    assert len(learners) == course["learners_count"], course_key
    assert learner_set_hash(learners) == course["learners_hash"], course_key
    return course, learners
