"""When a sync run starts build-and-publish: only as a deployment's run, only when something new
landed, and saying so when the build-and-publish deployment is missing."""

from __future__ import annotations

import pytest

from idbx.ingest.outcomes import INGESTED, UNCHANGED, FileOutcome, RunSummary
from idbx.orchestration import runs
from idbx.orchestration.runs import start_build_and_publish
from idbx.orchestration.summary import FlowOutcome
from idbx.sync.outcomes import SyncReport

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


def test_a_deployment_run_that_landed_nothing_new_starts_no_build(monkeypatch):
    monkeypatch.setenv(DEPLOYMENT_ID_ENV, "7f9c1a5e-0000-4000-8000-000000000000")
    synced = outcome(UNCHANGED)
    start_build_and_publish(synced, None)
    assert synced.notes == ["nothing new landed: build-and-publish not started"]
    assert "_nothing new landed: build-and-publish not started_" in synced.markdown()


@pytest.mark.usefixtures("prefect_api")
def test_a_missing_build_and_publish_deployment_is_a_note_not_a_failure(monkeypatch):
    monkeypatch.setenv(DEPLOYMENT_ID_ENV, "7f9c1a5e-0000-4000-8000-000000000000")
    # A name of its own: the system test deploys the real one on the same server.
    monkeypatch.setattr(runs, "BUILD_AND_PUBLISH_DEPLOYMENT", "build-and-publish/never-deployed")
    synced = outcome(INGESTED)
    start_build_and_publish(synced, "/lake")
    assert synced.notes == ["build-and-publish/never-deployed is not deployed (prefect deploy --all): nothing was built or published"]
    assert synced.failures == []
