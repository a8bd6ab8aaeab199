"""build-and-publish against the local Prefect server and the session's SecantusDB, on the landed
sample: the models built, the CSV exports, the documents and the dashboard, with the pseudonym key
from a Prefect Secret block; a refused publish fails the run in one line and leaves the published
collections as they were; a build that cannot start runs no later step."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import duckdb
import pymongo
import pytest

from flows.build_and_publish import build_and_publish
from idbx.config import GpgSettings
from idbx.ingest.course_data import ingest_package
from idbx.ingest.events import ingest_events
from idbx.lake.store import Lake
from tests.conftest import copy_lake
from tests.models import tiny_lake
from tests.orchestration.test_flows import artifact
from tests.publish.conftest import failing_commands

pytestmark = pytest.mark.usefixtures("prefect_api")

KEY = "build-and-publish-test-key-0123456789"
EXPORTS = ["active-users.csv", "engagement.csv", "enrollments.csv", "general.csv", "masterfile.csv", "person-course.csv"]


@dataclass
class FirstRun:
    lake: Lake
    database: pymongo.database.Database
    state: object


def mart_rows(lake: Lake, mart: str) -> int:
    with duckdb.connect(str(lake.catalog_path), read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM {mart}").fetchall()[0][0]


def contents(db: pymongo.database.Database) -> dict[str, list[dict]]:
    return {name: sorted(db[name].find(), key=lambda doc: doc["_id"]) for name in ("reports", "courses", "learners")}


@pytest.fixture(scope="module")
def first_run(prefect_server, mongo_uri, sample, tmp_path_factory):
    """The sample's delivery and its first two days of logs landed, then one run of the flow
    (the key only in a Secret block) publishing to a database of this module's own."""
    from prefect.blocks.system import Secret
    from prefect.settings import PREFECT_API_URL, temporary_settings

    lake = Lake(tmp_path_factory.mktemp("build-and-publish") / "lake")
    gpg = GpgSettings(key_file=sample.key_file, passphrase=sample.passphrase)
    ingest_package([sample.package], lake, gpg)
    ingest_events(sample.event_logs[:2], lake, gpg)
    client: pymongo.MongoClient = pymongo.MongoClient(mongo_uri)
    database = client[f"idbx_test_{uuid.uuid4().hex[:12]}"]
    block = f"pseudonym-key-{uuid.uuid4().hex[:8]}"
    with temporary_settings({PREFECT_API_URL: f"{prefect_server.url}/api"}), pytest.MonkeyPatch.context() as env:
        Secret(value=KEY).save(block)
        env.delenv("IDBX_PSEUDONYM_KEY", raising=False)
        env.setenv("IDBX_PSEUDONYM_KEY_BLOCK", block)
        env.setenv("IDBX_MONGO_URI", mongo_uri)
        env.setenv("IDBX_MONGO_DB", database.name)
        state = build_and_publish(lake=str(lake.root), return_state=True)
    try:
        yield FirstRun(lake, database, state)
    finally:
        client.drop_database(database.name)
        client.close()


def test_a_run_builds_exports_publishes_and_draws_the_dashboard(first_run):
    lake, db, state = first_run.lake, first_run.database, first_run.state
    assert state.is_completed(), state.message
    assert state.message == f"build-and-publish: {lake.root}"

    learners = mart_rows(lake, "person_course")
    assert db.learners.count_documents({}) == learners > 0
    assert db.reports.count_documents({}) == mart_rows(lake, "course_report") > 0
    # Learner ids are keyed by the Secret block's key (the environment had none).
    user_id = duckdb.sql(f"SELECT min(id) FROM read_parquet('{lake.bronze}/auth_user/*/*/*.parquet')").fetchall()[0][0]
    learner_id = tiny_lake.pseudonym(user_id, KEY)
    assert db.learners.count_documents({"learner_id": learner_id}) >= 1

    exports = lake.root / "exports"
    assert sorted(path.name for path in exports.iterdir()) == EXPORTS  # nothing written aside is left
    person_course = (exports / "person-course.csv").read_text().splitlines()
    assert len(person_course) == learners + 1 and person_course[0].startswith("course_id,course_key,learner_id,")
    general = (exports / "general.csv").read_text().splitlines()
    assert general[0].startswith("id,name,sme,start_date,end_date,total_users,")
    assert (lake.root / "dashboard").is_symlink() and "<html" in (lake.root / "dashboard" / "index.html").read_text()[:500]

    markdown = artifact(state)
    assert markdown.startswith(f"## build-and-publish: {lake.root}\n")
    assert re.search(r"\| build \| \d+ built, \d+ view \(", markdown)  # a first build: nothing unchanged, nothing failed
    assert "| CSV exports | 6 files, " in markdown and f"| person-course.csv | {learners:,} |" in markdown
    assert f"| learners | {learners:,} | 0 | 0 |" in markdown
    assert f"| dashboard | {lake.root}/dashboard/index.html (" in markdown
    assert KEY not in markdown and "**Failed**" not in markdown


def test_a_refused_publish_fails_the_run_in_one_line_and_leaves_the_collections(
    first_run, mongo_uri, sample, tmp_path, monkeypatch
):
    """A new day of logs changes the marts; the server refuses the first write of the publish."""
    db = first_run.database
    before = contents(db)
    lake = copy_lake(first_run.lake, tmp_path)
    ingest_events(sample.event_logs[2:], lake, GpgSettings(key_file=sample.key_file, passphrase=sample.passphrase))
    monkeypatch.setenv("IDBX_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("IDBX_MONGO_URI", mongo_uri)
    monkeypatch.setenv("IDBX_MONGO_DB", db.name)
    with failing_commands(db, 1, failCommands=["insert"], errorCode=13, errmsg="not authorized to insert"):
        state = build_and_publish(lake=str(lake.root), return_state=True)
    assert state.is_failed()
    assert state.message.startswith("publish: ") and "refused writing learners documents" in state.message
    assert state.message.endswith("(code 13 Unauthorized)") and "\n" not in state.message
    assert contents(db) == before
    markdown = artifact(state)
    assert "| MongoDB | failed: nothing published, the collections are as they were |" in markdown
    assert f"**Failed**\n- {state.message}" in markdown
    # The other steps ran on the new build.
    assert "| build | " in markdown and " built" in markdown.split("| build | ")[1].split("|")[0]
    assert len((lake.root / "exports" / "person-course.csv").read_text().splitlines()) == mart_rows(lake, "person_course") + 1
    assert (lake.root / "dashboard" / "index.html").is_file()


def test_a_build_that_cannot_start_runs_no_later_step(lake, monkeypatch):
    monkeypatch.delenv("IDBX_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("IDBX_PSEUDONYM_KEY_BLOCK", raising=False)
    monkeypatch.setenv("IDBX_MONGO_URI", "mongodb://127.0.0.1:9")  # never reached
    state = build_and_publish(lake=str(lake.root), return_state=True)
    assert state.is_failed()
    assert state.message.startswith("build: learner ids are keyed: set IDBX_PSEUDONYM_KEY")
    markdown = artifact(state)
    assert "| MongoDB | not run: the build failed |" in markdown and "| CSV exports | not run: the build failed |" in markdown
    assert not (lake.root / "exports").exists() and not (lake.root / "dashboard").exists()
