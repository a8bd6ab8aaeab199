"""`publish`: the marts into MongoDB's `reports`, `courses` and `learners`, incrementally and
safely for readers, on a standalone server (no transactions). The guarantee
(docs/publishing.md, "The guarantee"):

- `reports` and `courses` hold one document per course, each replaced atomically by `_id`
  (upsert); documents of courses no longer in the marts are deleted only after every write has
  succeeded. A reader never misses a course that was published before.
- A course's learner documents are a *generation* (`_publish`), written beside the current one;
  the course's `courses` document then points to it (`learners_publish`), in one atomic write,
  and only then is the previous generation deleted. A reader that filters on the pointer sees the
  old or the new learner set of a course, whole, never a mix.
- A publish that stops (server killed, connection lost, a refused command) leaves every course on
  the generation its pointer names; the state document records what it was changing, and the next
  publish deletes the leftovers before it starts.
- Incremental: every document carries the md5 of its content (`_hash`) and each course document
  the hash of its learner set (`learners_hash`). A publish reads those hashes only, and writes the
  reports and course documents whose hash changed and the learner sets of the courses whose set
  hash changed: nothing when nothing changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb

from idbx.lake.check import tampered_outputs
from idbx.lake.store import Lake
from idbx.models.state import last_complete_build
from idbx.publish import documents, marts
from idbx.publish.mongo import MongoStore, PublishError
from idbx.publish.published import record_publish
from idbx.publish.settings import COURSES, LEARNERS, REPORTS, MongoSettings

# (what, done, total): progress of the learner documents, for a progress bar.
ProgressCallback = Callable[[str, int, int], None]


@dataclass
class CollectionOutcome:
    """What a publish did to one collection."""

    written: int = 0  # documents inserted or replaced
    unchanged: int = 0  # documents whose content hash was already published
    removed: int = 0  # documents deleted (stale courses, superseded learner generations)


@dataclass
class PublishSummary:
    database: str
    hosts: str
    publish: int | None = None  # this publish's number; None when nothing had changed
    reports: CollectionOutcome = field(default_factory=CollectionOutcome)
    courses: CollectionOutcome = field(default_factory=CollectionOutcome)
    learners: CollectionOutcome = field(default_factory=CollectionOutcome)
    learner_courses: list[str] = field(default_factory=list)  # courses whose learner set was rewritten
    removed_courses: list[str] = field(default_factory=list)
    recovered_courses: list[str] = field(default_factory=list)  # cleaned up after an interrupted publish
    seconds: float = 0.0

    @property
    def collections(self) -> dict[str, CollectionOutcome]:
        return {REPORTS: self.reports, COURSES: self.courses, LEARNERS: self.learners}

    @property
    def written(self) -> int:
        return sum(outcome.written for outcome in self.collections.values())

    def as_record(self) -> dict[str, Any]:
        """The summary as stored in the state document and returned to flows."""
        return {name: asdict(outcome) for name, outcome in self.collections.items()} | {
            "publish": self.publish,
            "learner_courses": self.learner_courses,
            "removed_courses": self.removed_courses,
            "recovered_courses": self.recovered_courses,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _Plan:
    reports: list[str]  # reports documents to write
    courses: list[str]  # courses documents to write (content changed, or their learner set did)
    learner_courses: list[str]  # courses whose learner set is rewritten
    removed: list[str]  # courses published before and absent from the marts now
    pointers: dict[str, int | None]  # each published course's current learner generation


def publish(
    lake: Lake, settings: MongoSettings, on_progress: ProgressCallback | None = None, on_note: Callable[[str], None] | None = None
) -> PublishSummary:
    """Publish the lake's marts to MongoDB (the CLI's `idbx publish` and the flows call this).
    `on_note` hears of each transient failure that is about to be retried. Once done, the lake
    records which complete build it published (idbx.publish.published).

    Raises `PublishError` (one line, nothing half-published) or `IdbxError` for a lake without marts.
    """
    started = time.monotonic()
    summary = PublishSummary(settings.database, settings.hosts)
    lake.require()
    tampered = tampered_outputs(lake, layers=("marts",))
    if tampered:
        more = f" (and {len(tampered) - 1} more)" if len(tampered) > 1 else ""
        raise PublishError(f"not published: {tampered[0].message}{more}; run `idbx build` first")
    # Read before the marts are: a build ending in between makes this publish look older than
    # it is (the next sync publishes again, writing nothing), never newer.
    built = last_complete_build(lake)
    with lake.scratch() as scratch, marts.snapshot(lake, scratch) as (con, schemas):
        _hash_documents(con, schemas)
        store = MongoStore(settings, on_note)
        try:
            store.ping()
            with store.lease():
                store.ensure_indexes()
                interrupted = store.interrupted()
                if interrupted:
                    summary.recovered_courses = store.recover(interrupted)
                plan = _plan(con, store)
                summary.reports.unchanged = con.execute("SELECT count(*) FROM report_docs").fetchall()[0][0] - len(plan.reports)
                summary.courses.unchanged = con.execute("SELECT count(*) FROM course_docs").fetchall()[0][0] - len(plan.courses)
                unchanged_learners = con.execute(
                    "SELECT count(*) FROM learner_hashes WHERE course_key NOT IN (SELECT course_key FROM "
                    f"{documents.literal_list(plan.learner_courses)})"
                ).fetchall()[0][0]
                summary.learners.unchanged = unchanged_learners
                if plan.reports or plan.courses or plan.learner_courses or plan.removed:
                    _write(con, store, plan, summary, on_progress)
                summary.seconds = time.monotonic() - started
                store.finish(summary.publish, summary.as_record())
        finally:
            store.close()
    record_publish(lake, built[0].digest if built else None, settings.database, settings.hosts)
    summary.seconds = time.monotonic() - started
    return summary


def _hash_documents(con: duckdb.DuckDBPyConnection, schemas: dict[str, documents.Schema]) -> None:
    """Every document's content hash, and each course's learner-set hash, computed in DuckDB."""
    sources = {mart: marts.table(mart) for mart in documents.MARTS}
    con.execute(f"CREATE TEMP TABLE report_docs AS {documents.reports_select(sources[documents.COURSE_REPORT])}")
    con.execute(f"CREATE TEMP TABLE course_docs AS {documents.courses_select(sources, schemas)}")
    con.execute(
        "CREATE TEMP VIEW learner_docs AS "
        f"{documents.learners_select(sources[documents.PERSON_COURSE], schemas[documents.PERSON_COURSE])}"
    )
    con.execute("CREATE TEMP TABLE learner_hashes AS SELECT course_key, learner_id, _hash FROM learner_docs")
    con.execute(f"CREATE TEMP TABLE learner_sets AS {documents.learner_sets_select('learner_hashes')}")


def _plan(con: duckdb.DuckDBPyConnection, store: MongoStore) -> _Plan:
    """Compare the hashes with the published ones (read from MongoDB: `_id` and hashes only)."""
    published_reports = store.published(REPORTS, ("_hash",))
    published_courses = store.published(COURSES, ("_hash", "learners_hash", "learners_count", "learners_publish"))
    reports = {row[0]: row[1] for row in con.execute("SELECT _id, _hash FROM report_docs").fetchall()}
    courses = {
        row[0]: row[1:]
        for row in con.execute(
            "SELECT c._id, c._hash, s.learners_hash, coalesce(s.learners_count, 0) "
            "FROM course_docs AS c LEFT JOIN learner_sets AS s ON s.course_key = c._id"
        ).fetchall()
    }
    learner_courses = sorted(
        key
        for key, (_, learners_hash, learners_count) in courses.items()
        if key not in published_courses
        or (published_courses[key].get("learners_hash"), published_courses[key].get("learners_count", 0))
        != (learners_hash, learners_count)
    )
    changed_courses = sorted(
        key
        for key, (content_hash, _, _) in courses.items()
        if published_courses.get(key, {}).get("_hash") != content_hash or key in learner_courses
    )
    return _Plan(
        reports=sorted(
            key for key, content_hash in reports.items() if published_reports.get(key, {}).get("_hash") != content_hash
        ),
        courses=changed_courses,
        learner_courses=learner_courses,
        removed=sorted((set(published_reports) | set(published_courses)) - set(courses) - set(reports)),
        pointers={key: doc.get("learners_publish") for key, doc in published_courses.items()},
    )


def _write(
    con: duckdb.DuckDBPyConnection, store: MongoStore, plan: _Plan, summary: PublishSummary, on_progress: ProgressCallback | None
) -> None:
    """Learner generations first, then the reports, then the course documents that switch to them
    (the commit point of each course), then the deletions."""
    publish_id = store.begin(plan.learner_courses, plan.removed)
    summary.publish = publish_id
    summary.learner_courses = plan.learner_courses
    summary.removed_courses = plan.removed

    courses = documents.literal_list(plan.learner_courses)
    total = con.execute(f"SELECT count(*) FROM learner_hashes WHERE course_key IN (SELECT course_key FROM {courses})").fetchall()[
        0
    ][0]
    if on_progress:
        on_progress("learner documents", 0, total)
    reader = con.sql(documents.learner_documents_select("learner_docs", courses, publish_id)).to_arrow_reader(
        store.settings.batch_size
    )
    for batch in reader:
        rows = documents.rows(batch)
        for row in rows:
            row["_publish"] = publish_id
        summary.learners.written += store.insert(LEARNERS, rows)
        store.renew_lease()
        if on_progress:
            on_progress("learner documents", summary.learners.written, total)

    summary.reports.written = store.replace(REPORTS, _documents(con, "report_docs", plan.reports, publish_id))

    course_documents = _documents(
        con,
        "(SELECT c.*, s.learners_hash, coalesce(s.learners_count, 0) AS learners_count "
        "FROM course_docs AS c LEFT JOIN learner_sets AS s ON s.course_key = c._id)",
        plan.courses,
        publish_id,
    )
    for document in course_documents:
        key = document["_id"]
        document["learners_publish"] = publish_id if key in plan.learner_courses else plan.pointers.get(key)
    summary.courses.written = store.replace(COURSES, course_documents, durable=True)

    # The previous generation is the only other one (an interrupted publish's were cleaned up
    # first): deleting it by equality keeps to the (course_key, _publish) index.
    for course in plan.learner_courses:
        previous = plan.pointers.get(course)
        if previous is not None and previous != publish_id:
            summary.learners.removed += store.delete(
                LEARNERS, {"course_key": course, "_publish": previous}, f"deleting the previous learner documents of {course}"
            )
            store.renew_lease()
    if plan.removed:
        deleted = store.remove_courses(plan.removed)
        for name, outcome in summary.collections.items():
            outcome.removed += deleted[name]


def _documents(con: duckdb.DuckDBPyConnection, source: str, keys: list[str], publish_id: int) -> list[dict[str, Any]]:
    """The documents of `source` whose `_id` is listed (a course's worth each: small)."""
    if not keys:
        return []
    batch = (
        con.sql(f"SELECT * FROM {source} AS documents WHERE _id IN (SELECT course_key FROM {documents.literal_list(keys)})")
        .arrow()
        .read_all()
    )
    rows = [row for chunk in batch.to_batches() for row in documents.rows(chunk)]
    for row in rows:
        row["_publish"] = publish_id
    return rows
