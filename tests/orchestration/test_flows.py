"""The flows run against the local Prefect server and S3 server: fan-out on a local Dask cluster
gives the same lake as the default runner; an unreadable file fails the run and says which; a
delivery lands course by course."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pytest

from flows.sync_course_data import sync_course_data
from flows.sync_events import sync_events
from idbx.lake.store import Lake
from idbx.orchestration.runners import DASK_ADDRESS_ENV, task_runner
from idbx.sync.upload import upload_as_delivered

pytestmark = pytest.mark.usefixtures("prefect_api")


def artifact(state) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]))
        )
    [markdown] = [a.data for a in found if a.type == "markdown"]
    return markdown


def lake_contents(root: Path) -> dict[str, object]:
    """Every data file (row count and an order-free digest of its rows), landing file (sha256) and
    manifest record (without times or absolute paths) of a lake, by path inside it."""
    lake = Lake(root)
    contents: dict[str, object] = {}
    con = duckdb.connect()
    for path in sorted(lake.bronze.rglob("*.parquet")):
        contents[lake.relative(path)] = con.execute(f"SELECT count(*), sum(hash(t)) FROM read_parquet('{path}') t").fetchall()
    for path in sorted(p for p in lake.landing.rglob("*") if p.is_file()):
        contents[lake.relative(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    for record in lake.manifest_records():
        contents[record.key] = (record.status, record.sha256, record.rows, record.rejects, record.partitions)
    return contents


def test_events_on_a_local_dask_cluster_give_the_same_lake_as_the_default_runner(s3, sample, gpg_env, tmp_path, monkeypatch):
    from distributed import LocalCluster
    from prefect_dask import DaskTaskRunner

    upload_as_delivered(s3, sample.event_logs)
    days = {"start": date(2016, 6, 30), "end": date(2016, 7, 3)}
    default = sync_events(**days, lake=str(tmp_path / "default"), return_state=True)
    assert default.is_completed(), default.message
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        monkeypatch.setenv(DASK_ADDRESS_ENV, cluster.scheduler_address)
        runner = task_runner()
        assert isinstance(runner, DaskTaskRunner) and runner.address == cluster.scheduler_address
        on_dask = sync_events.with_options(task_runner=runner)(**days, lake=str(tmp_path / "dask"), return_state=True)
        ran_on_dask = set(cluster.scheduler.task_prefixes)
    assert on_dask.is_completed(), on_dask.message
    assert {"fetch_event_day", "land_event_logs"} <= {prefix.replace("-", "_") for prefix in ran_on_dask}
    first, second = lake_contents(tmp_path / "default"), lake_contents(tmp_path / "dask")
    assert first == second
    assert sum(1 for path in first if path.startswith("bronze/events/log_date=")) == 3
    for state in (default, on_dask):
        markdown = artifact(state)
        assert "| 3 | 0 | 0 | 1,803 | 15 | 25 |" in markdown and "no tracking log for 2016-06-30" in markdown


def test_an_unreadable_log_fails_the_run_and_names_the_file(s3, sample, gpg_env, tmp_path):
    broken = tmp_path / "idbx-edx-events-2016-07-05.log.gz.gpg"
    broken.write_bytes(sample.event_logs[0].read_bytes()[:500])
    upload_as_delivered(s3, [sample.event_logs[0], broken])
    state = sync_events(start=date(2016, 7, 1), end=date(2016, 7, 5), lake=str(tmp_path / "lake"), return_state=True)
    assert state.is_failed()
    assert state.message.startswith("idbx-edx-events-2016-07-05.log.gz.gpg: ")
    markdown = artifact(state)
    assert "**Failed**\n- idbx-edx-events-2016-07-05.log.gz.gpg: " in markdown
    assert "| idbx-edx-events-2016-07-01.log.gz.gpg | ingested |" in markdown  # the other days still landed
    assert "no tracking log for 2016-07-03" in markdown
    assert not (tmp_path / "lake" / "bronze" / "events" / "log_date=2016-07-05").exists()


def test_a_delivery_lands_course_by_course_then_there_is_nothing_to_do(s3, sample, gpg_env, tmp_path):
    upload_as_delivered(s3, [sample.package])
    lake = str(tmp_path / "lake")
    first = sync_course_data(lake=lake, return_state=True)
    assert first.is_completed(), first.message
    markdown = artifact(first)
    assert markdown.startswith("## sync-course-data: delivery 2016-07-04")
    assert "| 30 | 0 | 0 |" in markdown and "Not handled yet" not in markdown, markdown  # 10 files a course
    courses = {p.name for p in (tmp_path / "lake" / "bronze" / "auth_user" / "snapshot_date=2016-07-04").iterdir()}
    assert courses == {"course=idb1x_2t2014", "course=idb4_1x_2015_t4", "course=idb6x_2016_t1"}
    again = sync_course_data(lake=lake, return_state=True)
    assert again.is_completed() and "From S3: 1 already synced." in artifact(again)
    assert "| 0 | 30 | 0 |" in artifact(again)


def test_a_delivery_with_tolerable_rejects_completes_and_one_over_the_rate_fails(s3, corpus, gpg_env, tmp_path, monkeypatch):
    """The corpus package's teams dump has two impossible dates in four rows: within the default
    IDBX_MAX_REJECT_RATE the run is Completed and its artifact names them; with 1% the teams file
    fails, and so does the run, naming it."""
    delivery = tmp_path / "idbx-2015-11-06.zip"
    with zipfile.ZipFile(delivery, "w") as archive:
        for path in sorted((corpus / "package" / "edX-DemoX-Demo_Course").iterdir()):
            archive.write(path, f"idbx-2015-11-06/{path.name}")
    upload_as_delivered(s3, [delivery])
    tolerated = sync_course_data(lake=str(tmp_path / "lake"), return_state=True)
    assert tolerated.is_completed(), tolerated.message
    markdown = artifact(tolerated)
    assert "| 15 | 0 | 0 | 49 | 2 |" in markdown, markdown
    assert (
        "**Rejected rows** (the files landed; every rejected row is in `table_rejects`)\n"
        "- edX-DemoX-Demo_Course-teams-acceptance.sql: 2 of 4 rows rejected: line 3 (CAST (last_activity_at)), "
        "line 4 (CAST (last_activity_at))"
    ) in markdown
    assert "**Failed**" not in markdown
    monkeypatch.setenv("IDBX_MAX_REJECT_RATE", "0.01")
    strict = sync_course_data(lake=str(tmp_path / "strict"), return_state=True)
    assert strict.is_failed()
    assert strict.message.startswith(
        "idbx-2015-11-06/edX-DemoX-Demo_Course-teams-acceptance.sql: 2 of 4 rows rejected (50.0%), over IDBX_MAX_REJECT_RATE=0.01"
    )
    markdown = artifact(strict)
    assert "| 14 | 0 | 1 | 47 | 0 |" in markdown and "**Rejected rows**" not in markdown, markdown
    assert "**Failed**\n- idbx-2015-11-06/edX-DemoX-Demo_Course-teams-acceptance.sql: 2 of 4 rows rejected" in markdown
    assert not list((tmp_path / "strict" / "bronze").glob("teams/**/*.parquet"))


def test_a_delivery_with_nothing_to_ingest_fails_the_run(s3, gpg_env, tmp_path):
    delivery = tmp_path / "idbx-2016-08-01.zip"
    with zipfile.ZipFile(delivery, "w") as archive:
        archive.writestr("idbx-2016-08-01/README.txt", "not a course data file\n")
    upload_as_delivered(s3, [delivery])
    state = sync_course_data(lake=str(tmp_path / "lake"), return_state=True)
    assert state.is_failed()
    assert state.message.startswith("idbx-2016-08-01.zip: nothing to ingest: none of its 1 file(s) (README.txt)"), state.message
    assert not (tmp_path / "lake" / "bronze").exists()
