"""The run summary artifact, from outcomes alone: totals, files, what was missing, what failed."""

from pathlib import Path

from idbx.errors import TransientS3Error
from idbx.ingest.outcomes import FAILED, INGESTED, UNCHANGED, FileOutcome, RunSummary
from idbx.orchestration.summary import FlowOutcome
from idbx.sync.outcomes import DOWNLOADED, MISSING, SyncedObject, SyncReport, failed_object


def outcome() -> FlowOutcome:
    sync = SyncReport("events", objects=[
        SyncedObject("2016-07-01", DOWNLOADED, "s3://b/k1", Path("/lake/landing/b/k1"), 10),
        SyncedObject("2016-07-02", MISSING, "s3://b/p2", message="no tracking log for 2016-07-02 at s3://b/p2*"),
        failed_object("2016-07-03", "s3://b/k3", TransientS3Error("s3://b/k3", "S3 answered SlowDown (HTTP 503) to every attempt")),
    ], notes=["catching up on 3 days since 2016-06-30, the newest day in the lake"])
    ingest = RunSummary("events", files=[
        FileOutcome("idbx-edx-events-2016-07-01.log.gz.gpg", INGESTED, "events", "bronze/events/log_date=2016-07-01",
                    rows=300, rejects=5, late_events=7),
        FileOutcome("idbx-edx-events-2016-06-30.log.gz.gpg", UNCHANGED, "events", rows=100),
        FileOutcome("idbx-edx-events-2016-06-29.log.gz.gpg", FAILED, "events",
                    error="idbx-edx-events-2016-06-29.log.gz.gpg: truncated or corrupt encrypted file"),
    ])
    return FlowOutcome("sync-events: 2016-07-01 to 2016-07-03", sync, [ingest], ["fetch 2016-07-04: crashed"], seconds=4.25)


def test_totals_count_landed_files_only_and_every_failure_is_listed():
    result = outcome()
    assert result.totals() == {"ingested": 1, "unchanged": 1, "failed": 1, "rows": 300, "rejects": 5, "late_events": 7}
    assert result.failures == [
        "s3://b/k3: S3 answered SlowDown (HTTP 503) to every attempt",
        "idbx-edx-events-2016-06-29.log.gz.gpg: truncated or corrupt encrypted file",
        "fetch 2016-07-04: crashed",
    ]
    assert result.failure_message() == "s3://b/k3: S3 answered SlowDown (HTTP 503) to every attempt (and 2 more: see the artifact)"


def test_markdown_shows_totals_files_missing_failures_and_notes():
    text = outcome().markdown()
    assert text.startswith("## sync-events: 2016-07-01 to 2016-07-03\n")
    assert "| 1 | 1 | 2 | 300 | 5 | 7 | 4.2 s |" in text  # one file and one object failed
    assert "From S3: 1 downloaded, 1 missing, 1 failed." in text
    assert "| idbx-edx-events-2016-07-01.log.gz.gpg | ingested | bronze/events/log_date=2016-07-01 | 300 | 5 | 7 |" in text
    assert "**Not in the bucket (yet)**: 1\n- no tracking log for 2016-07-02 at s3://b/p2*" in text
    assert "- idbx-edx-events-2016-06-29.log.gz.gpg: truncated or corrupt encrypted file" in text
    assert "_catching up on 3 days since 2016-06-30, the newest day in the lake_" in text


def test_a_quiet_run_says_so():
    quiet = FlowOutcome("sync-events: nothing to do", SyncReport("events", notes=["up to date"]))
    assert quiet.failures == [] and quiet.failure_message() == ""
    assert "From S3: nothing to fetch." in quiet.markdown() and "| file |" not in quiet.markdown()
