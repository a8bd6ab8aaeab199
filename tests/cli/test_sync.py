"""`idbx sync` as an operator runs it, against the local S3 server: fetch and land, missing days, bad options."""

import os

from idbx.sync.upload import upload_as_delivered
from tests.cli.test_cli import run


def test_sync_events_fetches_and_lands_a_day_and_reports_a_missing_one(s3, sample, tmp_path, gpg_env):
    upload_as_delivered(s3, sample.event_logs)
    lake = tmp_path / "lake"
    done = run(
        "sync", "events", "--start", "2016-06-30", "--end", "2016-07-01", "--lake", str(lake), "--ingest", env=os.environ.copy()
    )
    assert done.returncode == 0, done.stderr
    assert "missing 2016-06-30: no tracking log for 2016-06-30" in done.stderr
    assert "downloaded 2016-07-01" in done.stderr and "events: 1 downloaded, 1 missing" in done.stderr
    assert "ingested idbx-edx-events-2016-07-01.log.gz.gpg -> bronze/events/log_date=2016-07-01" in done.stderr
    assert list((lake / "bronze" / "events" / "log_date=2016-07-01").glob("*.parquet"))
    assert "testing" not in done.stderr  # no credential in the output
    bad = run("sync", "events", "--day", "2016-07-01", "--start", "2016-07-01", "--lake", str(lake))
    assert bad.returncode == 2 and "either a day" in bad.stderr


def test_sync_course_data_names_a_missing_delivery_and_exits_zero(s3, sample, tmp_path):
    upload_as_delivered(s3, [sample.package])
    done = run("sync", "course-data", "--delivery", "2016-07-11", "--lake", str(tmp_path / "lake"), env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    assert "no delivery of 2016-07-11" in done.stderr and "newest there: 2016-07-04" in done.stderr
