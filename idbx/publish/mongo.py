"""The MongoDB side of a publish (I/O): connecting, retrying, indexes, the publish lease and
state, and the writes, each as one idempotent operation that may be retried whole.

Only what a standalone `mongod` offers is used: single-document atomicity, bulk writes, unique
indexes. No transactions, no server-side JavaScript.

Errors reach people as one line (`PublishError`): the servers (never the URI, which may hold a
password), what was being done and why it failed. Transient errors (connection refused or lost,
a server shutting down or stepping down) are retried with exponential back-off, `attempts` times;
pymongo's retryable writes add one more try on replica sets. Anything else (wrong credentials, a
refused command, a document the server rejects) fails at once.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bson.errors import InvalidDocument
from pymongo import ASCENDING, DeleteMany, MongoClient, ReplaceOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import (
    BulkWriteError,
    ConfigurationError,
    ConnectionFailure,
    DuplicateKeyError,
    OperationFailure,
    PyMongoError,
)
from pymongo.write_concern import WriteConcern

from idbx.errors import IdbxError
from idbx.publish.settings import COURSES, LEARNERS, REPORTS, STATE, MongoSettings

T = TypeVar("T")

# Server error codes that mean "try again" (the retryable-writes specification's list): not
# primary / stepping down / shutting down, host unreachable, network timeout, socket exception.
TRANSIENT_CODES = frozenset({6, 7, 89, 91, 134, 189, 262, 9001, 10058, 10107, 11600, 11602, 13435, 13436})
DUPLICATE_KEY = 11000
AUTHENTICATION_FAILED = 18

LEASE_ID = "lease"
STATE_ID = "state"

# (collection, index name, keys, unique): what dashboards filter on (course, learner, dates).
INDEXES = (
    (LEARNERS, "course_publish_learner", [("course_key", ASCENDING), ("_publish", ASCENDING), ("learner_id", ASCENDING)], True),
    (LEARNERS, "learner", [("learner_id", ASCENDING)], False),
    (
        LEARNERS,
        "course_publish_last_event",
        [("course_key", ASCENDING), ("_publish", ASCENDING), ("last_event", ASCENDING)],
        False,
    ),
    (COURSES, "start_date", [("start_date", ASCENDING)], False),
    (REPORTS, "metadata_start_date", [("metadata.start_date", ASCENDING)], False),
)


class PublishError(IdbxError):
    """A publish could not be done; the collections are left consistent (docs/publishing.md)."""


@dataclass(frozen=True)
class Interrupted:
    """What an interrupted publish was doing, from the state document."""

    publish: int
    courses: list[str]
    removed: list[str]


def learners_query(database: Database, course_key: str) -> dict[str, Any] | None:
    """The filter that reads a course's current learner documents (readers' side of the protocol):
    the generation its `courses` document points to. None when the course is not published.
    Read the pointer, query, and if the pointer has moved meanwhile, query again: a publish
    deletes a course's previous generation only after moving the pointer."""
    course = database[COURSES].find_one({"_id": course_key}, {"learners_publish": 1})
    if course is None:
        return None
    return {"course_key": course_key, "_publish": course.get("learners_publish")}


class MongoStore:
    """One publish's connection to the database."""

    def __init__(self, settings: MongoSettings, on_note: Callable[[str], None] | None = None):
        self.settings = settings
        self.on_note = on_note
        # The URI's own timeouts win over the settings' (pymongo lets keywords override the URI).
        timeouts = {
            option: settings.server_timeout_ms
            for option in ("serverSelectionTimeoutMS", "connectTimeoutMS")
            if option.lower() + "=" not in settings.uri.lower()
        }
        try:
            self.client: MongoClient = MongoClient(settings.uri, appname="idbx-publish", **timeouts)
        except (ConfigurationError, ValueError) as exc:
            raise PublishError(f"the MongoDB URI is not usable: {_first_line(exc)}") from None
        self.db = self.client[settings.database]
        self._lease_token: str | None = None
        self._lease_renewed = 0.0

    def close(self) -> None:
        self.client.close()

    # -- retries and error messages ---------------------------------------------------------------

    def call(self, doing: str, operation: Callable[[], T]) -> T:
        """Run `operation` (idempotent), retrying transient failures with exponential back-off."""
        delay = self.settings.backoff_seconds
        for attempt in range(1, self.settings.attempts + 1):
            try:
                return operation()
            except DuplicateKeyError:
                raise
            except PyMongoError as exc:
                if not _transient(exc) or attempt == self.settings.attempts:
                    raise self._error(doing, exc, attempt) from None
                if self.on_note:
                    self.on_note(
                        f"MongoDB at {self.settings.hosts} failed while {doing} ({_first_line(exc)}); "
                        f"attempt {attempt + 1} of {self.settings.attempts} in {delay:g} s"
                    )
            except InvalidDocument as exc:
                raise PublishError(f"{doing}: a document cannot be stored in MongoDB: {_first_line(exc)}") from None
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _error(self, doing: str, exc: PyMongoError, attempts: int) -> PublishError:
        where = f"MongoDB at {self.settings.hosts}"
        if isinstance(exc, OperationFailure) and exc.code == AUTHENTICATION_FAILED:
            return PublishError(
                f"{where} refused the credentials (authentication failed): check the user and password of IDBX_MONGO_URI"
            )
        if isinstance(exc, BulkWriteError):
            first = (exc.details.get("writeErrors") or [{}])[0]
            return PublishError(f"{where} refused {doing}: {first.get('errmsg', 'write error')} (code {first.get('code')})")
        if isinstance(exc, OperationFailure):
            details = exc.details or {}
            name = details.get("codeName") or "error"
            return PublishError(f"{where} refused {doing}: {details.get('errmsg') or _first_line(exc)} (code {exc.code} {name})")
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return PublishError(f"cannot reach {where} while {doing}{tries}: {_first_line(exc)}")

    # -- connection, indexes ------------------------------------------------------------------------

    def ping(self) -> None:
        self.call("connecting", lambda: self.client.admin.command("ping"))
        # Authentication and authorisation show on the first command against the database itself.
        self.call("reading the publish state", lambda: self.db[STATE].find_one({"_id": STATE_ID}))

    def ensure_indexes(self) -> None:
        """Create the indexes dashboards need; creating an existing index is a no-op."""
        for collection, name, keys, unique in INDEXES:
            create = partial(self.db[collection].create_index, keys, name=name, unique=unique)
            self.call(f"creating index {name} on {collection}", create)

    # -- the lease: one publish at a time per database ------------------------------------------

    @contextmanager
    def lease(self) -> Iterator[None]:
        """Hold the database's publish lease while publishing. A lease left by a process that has
        died on this machine is taken over at once; one from another machine when it expires."""
        token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        self._take_lease(token)
        _HELD.add(token)
        self._lease_token = token
        try:
            yield
        finally:
            _HELD.discard(token)
            self._lease_token = None
            # The server gone: the lease is found abandoned next time (see _abandoned).
            with suppress(PyMongoError):
                self.db[STATE].update_one({"_id": LEASE_ID, "holder": token}, {"$set": {"holder": None}})

    def _lease_document(self, token: str) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "holder": token,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "pid_started": _process_start(os.getpid()),
            "acquired_at": now,
            "expires_at": now + timedelta(seconds=self.settings.lease_seconds),
        }

    def _take_lease(self, token: str) -> None:
        state = self.db[STATE]
        now = datetime.now(UTC)
        free = {"_id": LEASE_ID, "$or": [{"holder": None}, {"expires_at": {"$lt": now}}]}
        try:
            self.call(
                "taking the publish lease", lambda: state.update_one(free, {"$set": self._lease_document(token)}, upsert=True)
            )
            self._lease_renewed = time.monotonic()
            return
        except DuplicateKeyError:
            pass
        current = self.call("reading the publish lease", lambda: state.find_one({"_id": LEASE_ID})) or {}
        if current.get("holder") and _abandoned(current):
            taken = self.call(
                "taking over an abandoned publish lease",
                lambda: state.update_one({"_id": LEASE_ID, "holder": current["holder"]}, {"$set": self._lease_document(token)}),
            )
            if taken.matched_count:
                self._lease_renewed = time.monotonic()
                return
            current = state.find_one({"_id": LEASE_ID}) or {}
        since = current.get("acquired_at")
        raise PublishError(
            f"another publish to {self.settings.database} is running (host {current.get('host')}, pid {current.get('pid')}, "
            f"since {since:%Y-%m-%d %H:%M:%S} UTC); try again when it ends"
            if since
            else f"another publish to {self.settings.database} is running; try again when it ends"
        )

    def renew_lease(self) -> None:
        """Extend the lease (at most every tenth of its length); fail if another publish took it."""
        if self._lease_token is None or time.monotonic() - self._lease_renewed < self.settings.lease_seconds / 10:
            return
        expires = datetime.now(UTC) + timedelta(seconds=self.settings.lease_seconds)
        token = self._lease_token
        result = self.call(
            "renewing the publish lease",
            lambda: self.db[STATE].update_one({"_id": LEASE_ID, "holder": token}, {"$set": {"expires_at": expires}}),
        )
        if not result.matched_count:
            raise PublishError("the publish lease expired and another publish took it over; this one stops here")
        self._lease_renewed = time.monotonic()

    # -- the state of publishes ---------------------------------------------------------------------

    def interrupted(self) -> Interrupted | None:
        state = self.call("reading the publish state", lambda: self.db[STATE].find_one({"_id": STATE_ID})) or {}
        running = state.get("in_progress")
        if not running:
            return None
        return Interrupted(running["publish"], list(running.get("courses", [])), list(running.get("removed", [])))

    def begin(self, courses: list[str], removed: list[str]) -> int:
        """Number this publish and record what it is about to change, so that a publish that dies
        is cleaned up by the next one (the lease makes the read-then-write safe)."""
        state = self.call("reading the publish state", lambda: self.db[STATE].find_one({"_id": STATE_ID})) or {}
        publish = int(state.get("counter", 0)) + 1
        running = {"publish": publish, "courses": courses, "removed": removed, "started_at": datetime.now(UTC)}
        self.call(
            "recording the publish",
            lambda: self.db[STATE].update_one(
                {"_id": STATE_ID}, {"$set": {"counter": publish, "in_progress": running}}, upsert=True
            ),
        )
        return publish

    def finish(self, publish: int | None, summary: dict[str, Any]) -> None:
        fields: dict[str, Any] = {"in_progress": None, "finished_at": datetime.now(UTC), "last_summary": summary}
        if publish is not None:
            fields["last_publish"] = publish
        self.call(
            "recording the end of the publish",
            lambda: self.db.get_collection(STATE, write_concern=WriteConcern(w=1, j=True)).update_one(
                {"_id": STATE_ID}, {"$set": fields}, upsert=True
            ),
        )

    def recover(self, interrupted: Interrupted) -> list[str]:
        """Undo what an interrupted publish left beside the published state: for each course it was
        changing, learner documents of any generation but the one the course points to; for each
        course it was removing, everything. Returns the courses cleaned."""
        cleaned = []
        for course in interrupted.courses:
            pointer = self.learners_pointer(course)
            stale = {"course_key": course} if pointer is None else {"course_key": course, "_publish": {"$ne": pointer}}
            if self.delete(LEARNERS, stale, f"cleaning up learner documents of {course}"):
                cleaned.append(course)
        if interrupted.removed:
            self.remove_courses(interrupted.removed)
            cleaned += interrupted.removed
        self.call("recording the clean-up", lambda: self.db[STATE].update_one({"_id": STATE_ID}, {"$set": {"in_progress": None}}))
        return sorted(set(cleaned))

    def learners_pointer(self, course: str) -> int | None:
        document = self.call(
            f"reading the course document of {course}",
            lambda: self.db[COURSES].find_one({"_id": course}, {"learners_publish": 1}),
        )
        return None if document is None else document.get("learners_publish")

    # -- reads and writes ---------------------------------------------------------------------------

    def published(self, collection: str, fields: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        """`_id` -> the given fields of every document of a small collection (reports, courses)."""
        projection = {field: 1 for field in fields}
        return self.call(
            f"reading the hashes of {collection}", lambda: {doc["_id"]: doc for doc in self.db[collection].find({}, projection)}
        )

    def insert(self, collection: str, documents: list[dict[str, Any]]) -> int:
        """Insert new documents. A retried batch finds some already there (same `_id`, same
        content): those count as written. Returns the documents in the batch."""

        def insert_batch() -> int:
            try:
                self.db[collection].insert_many(documents, ordered=False)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if exc.details.get("writeConcernErrors") or any(e.get("code") != DUPLICATE_KEY for e in errors):
                    raise
            return len(documents)

        return self.call(f"writing {collection} documents", insert_batch)

    def replace(self, collection: str, documents: list[dict[str, Any]], durable: bool = False) -> int:
        """Replace (or insert) whole documents by `_id`, each atomically, in order. `durable` asks
        the server to journal them before answering (the commit points of a publish)."""
        if not documents:
            return 0
        concern = WriteConcern(w=1, j=True) if durable else None
        target: Collection = self.db.get_collection(collection, write_concern=concern)
        operations = [ReplaceOne({"_id": document["_id"]}, document, upsert=True) for document in documents]
        self.call(f"writing {collection} documents", lambda: target.bulk_write(operations, ordered=True))
        return len(documents)

    def delete(self, collection: str, where: dict[str, Any], doing: str) -> int:
        result = self.call(doing, lambda: self.db[collection].bulk_write([DeleteMany(where)]))
        return result.deleted_count

    def remove_courses(self, courses: list[str]) -> dict[str, int]:
        """Remove courses no longer published: reports and courses documents first (readers stop
        seeing them), then their learner documents. Returns the documents deleted per collection."""
        deleted = {REPORTS: 0, COURSES: 0, LEARNERS: 0}
        for course in courses:
            deleted[REPORTS] += self.delete(REPORTS, {"_id": course}, f"removing the report of {course}")
            deleted[COURSES] += self.delete(COURSES, {"_id": course}, f"removing the course document of {course}")
        for course in courses:
            deleted[LEARNERS] += self.delete(LEARNERS, {"course_key": course}, f"removing the learners of {course}")
        return deleted


# Lease tokens held by publishes running in this process: a lease of this process that is not
# among them was left by a publish that has ended without releasing it (its server went away).
_HELD: set[str] = set()


def _abandoned(lease: dict[str, Any]) -> bool:
    """A lease taken on this machine by a process that is gone, or by this process for a publish
    that has ended."""
    if lease.get("host") != socket.gethostname():
        return False
    pid = lease.get("pid")
    if pid == os.getpid():
        return lease.get("holder") not in _HELD
    if not isinstance(pid, int):
        return False
    started = _process_start(pid)
    # Gone, a zombie its parent has not reaped yet (a publish killed a moment ago), or another
    # process that has since been given the same pid.
    return started is None or (lease.get("pid_started") is not None and started != lease["pid_started"])


def _process_start(pid: int) -> int | None:
    """When a live process started (clock ticks since boot, from /proc/PID/stat); None when there
    is no such process or it is a zombie."""
    if not Path("/proc/self/stat").exists():  # not Linux: alive or not is all that can be told
        return 0 if _exists(pid) else None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return None if fields[0] in ("Z", "X") else int(fields[19])


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _transient(exc: PyMongoError) -> bool:
    if isinstance(exc, ConnectionFailure):
        return True  # refused, reset, timed out, no server selectable
    if isinstance(exc, BulkWriteError):
        errors = exc.details.get("writeErrors", [])
        return bool(exc.details.get("writeConcernErrors")) or (
            bool(errors) and all(e.get("code") in TRANSIENT_CODES for e in errors)
        )
    if isinstance(exc, OperationFailure):
        return exc.code in TRANSIENT_CODES or exc.has_error_label("RetryableWriteError")
    return False


def _first_line(exc: BaseException) -> str:
    """The gist of a driver message: pymongo appends timeouts and topology descriptions."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    for tail in (" (configured timeouts", ", Timeout:", ", full error:"):
        text = text.split(tail, 1)[0]
    return text
