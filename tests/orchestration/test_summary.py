"""The run summary artifacts, from outcomes alone: for a sync, totals, files, what was missing,
what failed; for build-and-publish, each step's result and failure."""

from pathlib import Path

from idbx.dashboard.site import SiteSummary
from idbx.errors import TransientS3Error
from idbx.ingest.outcomes import FAILED, INGESTED, UNCHANGED, FileOutcome, RunSummary
from idbx.models.runner import BuildSummary, ModelOutcome
from idbx.orchestration.summary import BuildAndPublishOutcome, FlowOutcome
from idbx.publish import CollectionOutcome, PublishSummary
from idbx.sync.outcomes import DOWNLOADED, MISSING, SyncedObject, SyncReport, failed_object


def outcome() -> FlowOutcome:
    sync = SyncReport(
        "events",
        objects=[
            SyncedObject("2016-07-01", DOWNLOADED, "s3://b/k1", Path("/lake/landing/b/k1"), 10),
            SyncedObject("2016-07-02", MISSING, "s3://b/p2", message="no tracking log for 2016-07-02 at s3://b/p2*"),
            failed_object(
                "2016-07-03", "s3://b/k3", TransientS3Error("s3://b/k3", "S3 answered SlowDown (HTTP 503) to every attempt")
            ),
        ],
        notes=["catching up on 3 days since 2016-06-30, the newest day in the lake"],
    )
    ingest = RunSummary(
        "events",
        files=[
            FileOutcome(
                "idbx-edx-events-2016-07-01.log.gz.gpg",
                INGESTED,
                "events",
                "bronze/events/log_date=2016-07-01",
                rows=300,
                rejects=5,
                late_events=7,
            ),
            FileOutcome("idbx-edx-events-2016-06-30.log.gz.gpg", UNCHANGED, "events", rows=100),
            FileOutcome(
                "idbx-edx-events-2016-06-29.log.gz.gpg",
                FAILED,
                "events",
                error="idbx-edx-events-2016-06-29.log.gz.gpg: truncated or corrupt encrypted file",
            ),
        ],
    )
    return FlowOutcome("sync-events: 2016-07-01 to 2016-07-03", sync, [ingest], ["fetch 2016-07-04: crashed"], seconds=4.25)


def test_totals_count_landed_files_only_and_every_failure_is_listed():
    result = outcome()
    assert result.totals() == {"ingested": 1, "unchanged": 1, "failed": 1, "rows": 300, "rejects": 5, "late_events": 7}
    assert result.failures == [
        "s3://b/k3: S3 answered SlowDown (HTTP 503) to every attempt",
        "idbx-edx-events-2016-06-29.log.gz.gpg: truncated or corrupt encrypted file",
        "fetch 2016-07-04: crashed",
    ]
    assert (
        result.failure_message() == "s3://b/k3: S3 answered SlowDown (HTTP 503) to every attempt (and 2 more: see the artifact)"
    )


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


def build_summary(*statuses: str) -> BuildSummary:
    models = [
        ModelOutcome(
            f"model_{n}",
            "marts",
            "table",
            status,
            rows=10 * n,
            seconds=0.5,
            error="idbx/sql/marts/model_2.sql: no column nevents" if status == "failed" else "",
        )
        for n, status in enumerate(statuses)
    ]
    return BuildSummary(models=models, seconds=2.0)


def test_build_and_publish_artifact_shows_every_step():
    published = PublishSummary(
        "edx",
        "db.example:27017",
        publish=7,
        seconds=1.5,
        reports=CollectionOutcome(3, 1, 0),
        courses=CollectionOutcome(4, 0, 0),
        learners=CollectionOutcome(250, 0, 120),
    )
    dashboard = SiteSummary(Path("/lake/dashboard"), Path("/lake/.dashboard-x"), "es", 5, 4, 6, 40, 2, 1, 30, 10**6, 3.0)
    done = BuildAndPublishOutcome(
        "build-and-publish: /lake",
        build_summary("built", "unchanged", "view"),
        {Path("/lake/exports/general.csv"): 4, Path("/lake/exports/masterfile.csv"): 300},
        published,
        dashboard,
        seconds=9.0,
    )
    assert done.built and done.failures == [] and done.failure_message() == ""
    text = done.markdown()
    assert text.startswith("## build-and-publish: /lake\n")
    assert "| build | 1 built, 1 unchanged, 1 view (2.0 s) |" in text
    assert "| CSV exports | 2 files, 304 rows in /lake/exports |" in text
    assert "| MongoDB | 257 documents written (publish 7) to database edx at db.example:27017 (1.5 s) |" in text
    assert "| dashboard | /lake/dashboard/index.html (6 pages, 40 charts, 3.0 s) |" in text
    assert "| model_0 | built | 0 | 0.50 |" in text and "| masterfile.csv | 300 |" in text
    assert "| learners | 250 | 0 | 120 |" in text and "**Failed**" not in text
    assert done.log_lines() == [
        "build-and-publish: /lake: build: 1 built, 1 unchanged, 1 view (2.0 s); CSV exports: 2 files, 304 rows in /lake/exports; "
        "MongoDB: 257 documents written (publish 7) to database edx at db.example:27017 (1.5 s); "
        "dashboard: /lake/dashboard/index.html (6 pages, 40 charts, 3.0 s); 9.0 s"
    ]


def test_a_failed_model_stops_the_steps_that_read_the_marts():
    failed = BuildAndPublishOutcome("build-and-publish: /lake", build_summary("built", "built", "failed", "skipped"))
    assert not failed.built
    assert failed.failures == ["build: idbx/sql/marts/model_2.sql: no column nevents"]
    text = failed.markdown()
    assert "| build | 2 built, 1 failed, 1 skipped (2.0 s) |" in text
    assert "| MongoDB | not run: the build failed |" in text and "| dashboard | not run: the build failed |" in text
    assert "**Failed**\n- build: idbx/sql/marts/model_2.sql: no column nevents" in text


def test_a_failed_step_after_the_build_is_listed_and_the_others_kept():
    outcome = BuildAndPublishOutcome(
        "build-and-publish: /lake",
        build_summary("unchanged"),
        {Path("/lake/exports/general.csv"): 4},
        errors=[
            "publish: cannot reach MongoDB at db.example:27017 while connecting after 5 attempts: refused",
            "dashboard: disk full",
        ],
    )
    assert outcome.built
    assert outcome.failure_message() == (
        "publish: cannot reach MongoDB at db.example:27017 while connecting after 5 attempts: refused "
        "(and 1 more: see the artifact)"
    )
    text = outcome.markdown()
    assert "| MongoDB | failed: nothing published, the collections are as they were |" in text
    assert "| dashboard | failed: the previous site is still in place |" in text
    assert "| CSV exports | 1 file, 4 rows in /lake/exports |" in text


def test_the_rejected_rows_of_files_that_landed_are_named():
    text = FlowOutcome(
        "sync-events: 2016-07-01",
        SyncReport("events"),
        [
            RunSummary(
                "events",
                files=[
                    FileOutcome(
                        "idbx-edx-events-2016-07-01.log.gz.gpg",
                        INGESTED,
                        "events",
                        rows=300,
                        rejects=7,
                        first_rejects=[(4, "malformed JSON"), (9, "unparseable time")],
                    ),
                    FileOutcome("idbx-edx-events-2016-07-02.log.gz.gpg", INGESTED, "events", rows=300),
                ],
            )
        ],
    ).markdown()
    assert (
        "**Rejected rows** (the files landed; every rejected row is in `event_rejects`)\n"
        "- idbx-edx-events-2016-07-01.log.gz.gpg: 7 of 307 lines rejected: line 4 (malformed JSON), "
        "line 9 (unparseable time) and 5 more\n"
    ) in text
    assert "2016-07-02.log.gz.gpg:" not in text


def test_the_rows_a_model_flags_are_listed_in_the_artifact():
    summary = build_summary("built", "built")
    summary.models[1].flag_lines = ["reconciliation: 2 file_rows check(s) differs (see the reconciliation mart)"]
    text = BuildAndPublishOutcome("build-and-publish: /lake", summary).markdown()
    assert "\n- reconciliation: 2 file_rows check(s) differs (see the reconciliation mart)" in text
