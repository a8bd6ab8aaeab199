"""The deployment as an operator runs it: a real Prefect server (SQLite), the repository's
prefect.yaml deployed with `prefect deploy --all`, a day reprocessed with `prefect deployment run
--param day=...`, and a process worker running it; then the run's state, artifact and partition;
then the build-and-publish run that the sync started, run by the worker: the documents it
published to the session's MongoDB-wire server, its exports and dashboard."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import duckdb

from idbx.local.services import prefect_env
from idbx.orchestration.runs import BUILD_AND_PUBLISH_DEPLOYMENT
from idbx.sync.upload import upload_as_delivered
from tests.conftest import SAMPLE_PSEUDONYM_KEY

REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))


def prefect(*args: str, env: dict[str, str], timeout: float = 120) -> str:
    """Run the prefect CLI in its own process group, stopped by pid if it outlives `timeout`."""
    process = subprocess.Popen([PREFECT, *args], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(f"prefect {' '.join(args)} still running after {timeout} s:\n{output}") from None
    assert process.returncode == 0, f"prefect {' '.join(args)} exited {process.returncode}:\n{output}"
    return output


def test_a_deployed_day_is_reprocessed_by_a_process_worker_then_built_and_published(prefect_api, s3, sample, mongo_uri, database,
                                                                                        tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter, FlowRunFilterDeploymentId

    upload_as_delivered(s3, sample.event_logs)
    lake = tmp_path / "lake"
    env = prefect_env(tmp_path / "prefect-home", prefect_api) | {
        "IDBX_LAKE": str(lake), "IDBX_GPG_KEY": str(sample.key_file), "IDBX_GPG_PASSPHRASE": sample.passphrase,
        "IDBX_PSEUDONYM_KEY": SAMPLE_PSEUDONYM_KEY, "IDBX_MONGO_URI": mongo_uri,
        "IDBX_MONGO_DB": database.name}
    prefect("work-pool", "create", "idbx", "--type", "process", "--overwrite", env=env)
    deployed = prefect("deploy", "--all", env=env)
    for name in ("sync-events/daily", "sync-course-data/weekly", "build-and-publish/after-sync"):
        assert f"Deployment '{name}' successfully created" in deployed
    started = prefect("deployment", "run", "sync-events/daily", "--param", "day=2016-07-02", env=env)
    flow_run_id = re.search(r"UUID: ([0-9a-f-]{36})", started)[1]
    prefect("worker", "start", "--pool", "idbx", "--run-once", env=env, timeout=240)

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
        deployment = client.read_deployment(run.deployment_id)
        schedules = {d.name: [s.schedule for s in d.schedules] for d in client.read_deployments()}
        [artifact] = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))
    assert run.state.is_completed(), run.state.message
    assert (deployment.name, run.parameters) == ("daily", {"day": "2016-07-02"})
    assert [(s.cron, s.timezone) for s in schedules["daily"]] == [("0 20 * * *", "UTC")]
    assert [(s.cron, s.timezone) for s in schedules["weekly"]] == [("0 20 * * 1", "UTC")]
    assert artifact.key == "sync-events" and artifact.data.startswith("## sync-events: 2016-07-02\n")
    assert "| idbx-edx-events-2016-07-02.log.gz.gpg | ingested | bronze/events/log_date=2016-07-02 | 601 | 5 | 8 |" in artifact.data
    partitions = sorted(p.name for p in (lake / "bronze" / "events").iterdir())
    assert partitions == ["log_date=2016-07-02"]
    rows = duckdb.sql(f"SELECT count(*) FROM read_parquet('{lake}/bronze/events/log_date=2016-07-02/*.parquet')").fetchall()
    assert rows == [(601,)]
    assert (lake / "landing" / s3.events_bucket / "idbx/edx/events/2016/idbx-edx-events-2016-07-02.log.gz.gpg").is_file()

    # The sync landed a new day: it started build-and-publish, which the worker runs next.
    with get_client(sync_client=True) as client:
        after_sync = client.read_deployment_by_name(BUILD_AND_PUBLISH_DEPLOYMENT)
        [build_run] = client.read_flow_runs(flow_run_filter=FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[after_sync.id])))
    assert f"_{BUILD_AND_PUBLISH_DEPLOYMENT} started: flow run {build_run.name}_" in artifact.data
    assert build_run.parameters == {}
    assert (after_sync.global_concurrency_limit.limit, after_sync.concurrency_options.collision_strategy) == (1, "ENQUEUE")
    prefect("worker", "start", "--pool", "idbx", "--run-once", env=env, timeout=240)
    with get_client(sync_client=True) as client:
        build_run = client.read_flow_run(build_run.id)
        [published] = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[build_run.id])))
    assert build_run.state.is_completed(), build_run.state.message
    assert published.key == "build-and-publish" and published.data.startswith(f"## build-and-publish: {lake}\n")
    learners = duckdb.sql(f"SELECT count(*) FROM read_parquet('{lake}/marts/person_course/*.parquet')").fetchall()[0][0]
    assert database.learners.count_documents({}) == learners > 0
    assert database.courses.count_documents({}) > 0
    assert (lake / "exports" / "person-course.csv").is_file() and (lake / "dashboard" / "index.html").is_file()
