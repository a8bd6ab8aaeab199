"""When a sync run starts build-and-publish: only as a deployment's run, only when the lake is ahead
of the last complete build and publish (whatever the run itself landed), and saying so when the
build-and-publish deployment is missing."""

from __future__ import annotations

import pytest

from idbx.ingest.outcomes import INGESTED, UNCHANGED, FileOutcome, RunSummary
from idbx.orchestration import runs
from idbx.orchestration.runs import start_build_and_publish
from idbx.orchestration.summary import FlowOutcome
from idbx.publish import publish
from idbx.sync.outcomes import SyncReport
from tests.conftest import copy_lake
from tests.publish.conftest import fast

# What prefect.runtime reads when a run is not started by a deployment (as in these tests).
DEPLOYMENT_ID_ENV = "PREFECT__RUNTIME__DEPLOYMENT__ID"


def outcome(status: str) -> FlowOutcome:
    landed = RunSummary("events", files=[FileOutcome("idbx-edx-events-2016-07-01.log.gz.gpg", status, "events", rows=300)])
    return FlowOutcome("sync-events: 2016-07-01", SyncReport("events"), [landed])


def test_a_run_outside_a_deployment_chains_nothing(monkeypatch):
    monkeypatch.delenv(DEPLOYMENT_ID_ENV, raising=False)
    synced = outcome(INGESTED)
    start_build_and_publish(synced, None)
    assert synced.notes == []


def test_a_deployment_run_with_nothing_new_and_the_marts_published_starts_no_build(
    monkeypatch, built_sample, mongo_uri, database, tmp_path
):
    lake = copy_lake(built_sample, tmp_path)
    publish(lake, fast(mongo_uri, database.name))
    monkeypatch.setenv(DEPLOYMENT_ID_ENV, "7f9c1a5e-0000-4000-8000-000000000000")
    synced = outcome(UNCHANGED)
    start_build_and_publish(synced, str(lake.root))
    note = "the marts and MongoDB hold everything the lake does: build-and-publish not started"
    assert synced.notes == [note]
    assert f"_{note}_" in synced.markdown()


@pytest.mark.usefixtures("prefect_api")
def test_a_deployment_run_that_landed_nothing_starts_the_build_the_lake_is_waiting_for(monkeypatch, landed_sample):
    """The run before it landed the files and was killed before it chained: this run finds them
    all in the lake (unchanged) and still starts build-and-publish (here: finds it not deployed)."""
    monkeypatch.setenv(DEPLOYMENT_ID_ENV, "7f9c1a5e-0000-4000-8000-000000000000")
    # A name of its own: the system test deploys the real one on the same server.
    monkeypatch.setattr(runs, "BUILD_AND_PUBLISH_DEPLOYMENT", "build-and-publish/never-deployed")
    synced = outcome(UNCHANGED)
    start_build_and_publish(synced, str(landed_sample.root))
    files = len(landed_sample.manifest_records())
    assert synced.notes == [
        f"{files} source files landed and no complete build yet, but build-and-publish/never-deployed "
        "is not deployed (prefect deploy --all): nothing was built or published"
    ]
    assert synced.failures == []
