"""The deployment as an operator runs it: a real Prefect server (SQLite), the repository's
prefect.yaml deployed with `prefect deploy --all`, a day reprocessed with `prefect deployment run
--param day=...`, and a process worker running it; then the run's state, artifact and partition;
then the build-and-publish run that the sync started, run by the worker: the documents it
published to the session's MongoDB-wire server, its exports and dashboard. Then a sync whose
flow-run process is killed after its day landed and before it chained: the next sync starts
build-and-publish, and the one after that, with nothing new, does not."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from idbx.config import GpgSettings
from idbx.ingest.course_data import ingest_package
from idbx.ingest.events import ingest_events
from idbx.lake.store import Lake
from idbx.local.services import prefect_env
from idbx.models.runner import build
from idbx.orchestration.runs import BUILD_AND_PUBLISH_DEPLOYMENT
from idbx.publish import MongoSettings, publish
from idbx.sync.upload import upload_as_delivered
from tests.conftest import SAMPLE_PSEUDONYM_KEY

REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
# A sitecustomize that stops a flow-run process as it enters the sync's chaining step.
STOP_BEFORE_CHAINING = Path(__file__).with_name("stop_before_chaining")


def prefect(*args: str, env: dict[str, str], timeout: float = 120) -> str:
    """Run the prefect CLI in its own process group, stopped by pid if it outlives `timeout`."""
    process = subprocess.Popen(
        [PREFECT, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(f"prefect {' '.join(args)} still running after {timeout} s:\n{output}") from None
    assert process.returncode == 0, f"prefect {' '.join(args)} exited {process.returncode}:\n{output}"
    return output


@pytest.fixture(scope="module")
def deployed(prefect_server, tmp_path_factory) -> str:
    """The work pool made and prefect.yaml deployed, once for the module: `prefect deploy`'s output."""
    env = prefect_env(tmp_path_factory.mktemp("prefect-home"), f"{prefect_server.url}/api")
    prefect("work-pool", "create", "idbx", "--type", "process", "--overwrite", env=env)
    return prefect("deploy", "--all", env=env)


def worker_env(tmp_path: Path, api: str, lake: Path, sample, mongo_uri: str, database: str) -> dict[str, str]:
    return prefect_env(tmp_path / "prefect-home", api) | {
        "IDBX_LAKE": str(lake),
        "IDBX_GPG_KEY": str(sample.key_file),
        "IDBX_GPG_PASSPHRASE": sample.passphrase,
        "IDBX_PSEUDONYM_KEY": SAMPLE_PSEUDONYM_KEY,
        "IDBX_MONGO_URI": mongo_uri,
        "IDBX_MONGO_DB": database,
    }


def test_a_deployed_day_is_reprocessed_by_a_process_worker_then_built_and_published(
    deployed, prefect_api, s3, sample, mongo_uri, database, tmp_path
):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter, FlowRunFilterDeploymentId

    upload_as_delivered(s3, sample.event_logs)
    lake = tmp_path / "lake"
    env = worker_env(tmp_path, prefect_api, lake, sample, mongo_uri, database.name)
    for name in ("sync-events/daily", "sync-course-data/weekly", "build-and-publish/after-sync", "forget-learners/on-request"):
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
    assert (
        "| idbx-edx-events-2016-07-02.log.gz.gpg | ingested | bronze/events/log_date=2016-07-02 | 601 | 5 | 8 |" in artifact.data
    )
    partitions = sorted(p.name for p in (lake / "bronze" / "events").iterdir())
    assert partitions == ["log_date=2016-07-02"]
    rows = duckdb.sql(f"SELECT count(*) FROM read_parquet('{lake}/bronze/events/log_date=2016-07-02/*.parquet')").fetchall()
    assert rows == [(601,)]
    assert (lake / "landing" / s3.events_bucket / "idbx/edx/events/2016/idbx-edx-events-2016-07-02.log.gz.gpg").is_file()

    # The sync landed a new day: it started build-and-publish, which the worker runs next.
    with get_client(sync_client=True) as client:
        after_sync = client.read_deployment_by_name(BUILD_AND_PUBLISH_DEPLOYMENT)
        [build_run] = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[after_sync.id]))
        )
    assert (
        f"_1 source file landed and no complete build yet: {BUILD_AND_PUBLISH_DEPLOYMENT} started, flow run {build_run.name}_"
    ) in artifact.data
    assert build_run.parameters == {}
    assert (after_sync.global_concurrency_limit.limit, after_sync.concurrency_options.collision_strategy) == (1, "ENQUEUE")
    prefect("worker", "start", "--pool", "idbx", "--run-once", env=env, timeout=240)
    with get_client(sync_client=True) as client:
        build_run = client.read_flow_run(build_run.id)
        [published] = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[build_run.id]))
        )
    assert build_run.state.is_completed(), build_run.state.message
    assert published.key == "build-and-publish" and published.data.startswith(f"## build-and-publish: {lake}\n")
    learners = duckdb.sql(f"SELECT count(*) FROM read_parquet('{lake}/marts/person_course/*/data.parquet')").fetchall()[0][0]
    assert database.learners.count_documents({}) == learners > 0
    assert database.courses.count_documents({}) > 0
    assert (lake / "exports" / "person-course.csv").is_file() and (lake / "dashboard" / "index.html").is_file()


def sync_day(day: str, env: dict[str, str]) -> str:
    """`prefect deployment run 'sync-events/daily' --param day=…`: the flow run's id."""
    started = prefect("deployment", "run", "sync-events/daily", "--param", f"day={day}", env=env)
    return re.search(r"UUID: ([0-9a-f-]{36})", started)[1]


def run_once(env: dict[str, str]) -> None:
    prefect("worker", "start", "--pool", "idbx", "--run-once", env=env, timeout=240)


def read(flow_run_id):
    """The flow run, and its markdown artifact ('' when it made none)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
        found = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))
    return run, "".join(a.data for a in found if a.type == "markdown")


def build_and_publish_runs() -> dict[str, object]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterDeploymentId

    with get_client(sync_client=True) as client:
        after_sync = client.read_deployment_by_name(BUILD_AND_PUBLISH_DEPLOYMENT)
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[after_sync.id])))
    return {str(run.id): run for run in runs}


def events_of(day: str, lake: Lake, database) -> tuple[int, int]:
    """The events of `day` in the activity_daily mart, and in the published course documents."""
    (mart,) = duckdb.sql(
        f"SELECT coalesce(sum(events), 0) FROM read_parquet('{lake.marts}/activity_daily/**/*.parquet') WHERE date = DATE '{day}'"
    ).fetchall()[0]
    published = sum(
        row["events"]
        for course in database.courses.find({}, {"activity_daily": 1})
        for row in course["activity_daily"]
        if f"{row['date']:%Y-%m-%d}" == day
    )
    return int(mart), published


def stopped(pid: int) -> bool:
    """Whether the process is stopped (state T in /proc/<pid>/stat)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"
    except (FileNotFoundError, ValueError):
        return False


def test_a_sync_killed_before_it_chained_is_built_and_published_by_the_next_sync(
    deployed, prefect_api, s3, sample, mongo_uri, database, tmp_path
):
    upload_as_delivered(s3, sample.event_logs)
    lake = Lake(tmp_path / "lake")
    # The delivery and 2016-07-01 landed, built and published: MongoDB up to date with the lake.
    gpg = GpgSettings(key_file=sample.key_file, passphrase=sample.passphrase)
    ingest_package([sample.package], lake, gpg)
    [day_1, day_2] = [log for log in sample.event_logs if "2016-07-01" in log.name or "2016-07-02" in log.name]
    ingest_events([day_1], lake, gpg)
    assert not build(lake, key=SAMPLE_PSEUDONYM_KEY).failed
    first = publish(lake, MongoSettings(uri=mongo_uri, database=database.name)).publish
    stale = events_of("2016-07-02", lake, database)  # the few of 2016-07-02 that 2016-07-01's log holds
    assert stale[0] == stale[1]
    env = worker_env(tmp_path, prefect_api, lake.root, sample, mongo_uri, database.name)
    before = set(build_and_publish_runs())

    # The sync of 2016-07-02, its flow-run process stopped as it enters the chaining step, then
    # killed by the pid Prefect recorded for it.
    flag = tmp_path / "stop-before-chaining"
    flag.touch()
    crashed_id = sync_day("2016-07-02", env)
    worker = subprocess.Popen(
        [PREFECT, "worker", "start", "--pool", "idbx", "--run-once"],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        env=env | {"PYTHONPATH": str(STOP_BEFORE_CHAINING), "IDBX_TEST_STOP_BEFORE_CHAINING": str(flag)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        pid_file = tmp_path / "stop-before-chaining.pid"
        deadline = time.monotonic() + 240
        while not (pid_file.exists() and stopped(int(pid_file.read_text()))):
            assert worker.poll() is None and time.monotonic() < deadline, "the sync never reached its chaining step"
            time.sleep(0.2)
        pid = int(pid_file.read_text())
        assert read(crashed_id)[0].infrastructure_pid == str(pid)
        [record] = [r for r in lake.manifest_records() if r.key.endswith(day_2.name)]
        assert record.status == "ingested"
        os.kill(pid, signal.SIGKILL)
        output, _ = worker.communicate(timeout=120)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.communicate()
    crashed, _ = read(crashed_id)
    assert crashed.state.is_crashed(), (crashed.state, output)
    assert set(build_and_publish_runs()) == before
    assert events_of("2016-07-02", lake, database) == stale

    # The same sync again: the day is in the lake (nothing lands), and the lake is ahead of the marts.
    flag.unlink()
    rerun_id = sync_day("2016-07-02", env)
    run_once(env)
    rerun, markdown = read(rerun_id)
    assert rerun.state.is_completed(), rerun.state.message
    assert "| 0 | 1 | 0 |" in markdown
    [chained] = [run for run_id, run in build_and_publish_runs().items() if run_id not in before]
    assert re.search(
        rf"_1 source file landed since the last complete build \([^)]+\), the first {re.escape(day_2.name)}: "
        rf"{re.escape(BUILD_AND_PUBLISH_DEPLOYMENT)} started, flow run {chained.name}_",
        markdown,
    ), markdown
    run_once(env)
    chained, _ = read(chained.id)
    assert chained.state.is_completed(), chained.state.message
    built, published = events_of("2016-07-02", lake, database)
    assert built == published > stale[0]
    state = database["_idbx_publish"].find_one({"_id": "state"})
    assert state["last_publish"] > first and isinstance(state["finished_at"], datetime)

    # Nothing new and everything published: the next sync starts nothing.
    again_id = sync_day("2016-07-02", env)
    run_once(env)
    again, markdown = read(again_id)
    assert again.state.is_completed(), again.state.message
    assert "_the marts and MongoDB hold everything the lake does: build-and-publish not started_" in markdown
    assert set(build_and_publish_runs()) == before | {str(chained.id)}
