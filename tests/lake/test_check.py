"""`idbx lake check`: a lake a crash left needing a re-run is reported, and a re-run clears it."""

import os
from datetime import date

import pytest

from idbx.ingest.course_data import ingest_package
from idbx.ingest.events import ingest_events
from idbx.lake.check import check_lake
from idbx.local.sample import sample_course_ids, write_event_log
from tests.conftest import copy_lake


@pytest.fixture
def lake(landed_sample, tmp_path):
    """The sample's delivery and logs, landed."""
    return copy_lake(landed_sample, tmp_path)


@pytest.fixture
def landed(lake, tmp_path):
    """And a log with dirty lines, landed."""
    log = write_event_log(None, tmp_path, sample_course_ids(2), 10, date(2016, 5, 1), 30, dirty=True)
    ingest_events([log], lake)
    return log


def kinds(lake) -> list[str]:
    return sorted(problem.kind for problem in check_lake(lake).problems)


def test_a_lake_as_ingestion_left_it_is_consistent(landed, lake):
    report = check_lake(lake)
    assert report.problems == []
    assert report.sources == len(list((lake.state / "manifest").glob("*.json"))) > 1
    assert report.files == len(list(lake.bronze.rglob("*.parquet")))


def test_a_part_published_but_not_recorded(landed, lake, tmp_path):
    """A run killed between a part's rename and its manifest write."""
    manifest = lake.state / "manifest" / f"events__{landed.name}.json"
    recorded_before = manifest.read_text()
    (tmp_path / "v2").mkdir()
    changed = write_event_log(None, tmp_path / "v2", sample_course_ids(2), 10, date(2016, 5, 1), 12, dirty=False)
    ingest_events([changed], lake)
    manifest.write_text(recorded_before)  # as if the run had died before recording the new version
    (problem,) = check_lake(lake).problems
    assert problem.kind == "unrecorded" and landed.name in problem.message and "re-run" in problem.message
    ingest_events([landed], lake)  # either version re-run makes lake and manifest agree again
    assert kinds(lake) == []


def test_a_recorded_part_that_is_missing(landed, lake):
    part = next((lake.bronze / "auth_user").rglob("*.parquet"))
    part.unlink()
    (problem,) = check_lake(lake).problems
    assert problem.kind == "missing" and lake.relative(part) in problem.message
    assert kinds(lake) == ["missing"]


def test_missing_parts_are_landed_again_by_a_re_run(landed, sample, gpg, lake):
    next((lake.bronze / "auth_user").rglob("*.parquet")).unlink()
    assert ingest_package([sample.package], lake, gpg).count("ingested") == 1
    assert kinds(lake) == []


def test_a_file_no_record_owns(landed, lake):
    part = next((lake.bronze / "events").rglob("*.parquet"))
    stray = part.with_name("copied by hand.parquet")
    stray.write_bytes(part.read_bytes())
    (problem,) = check_lake(lake).problems
    assert problem.kind == "stray" and "copied by hand.parquet" in problem.message


def test_a_file_whose_last_attempt_failed(landed, lake, tmp_path):
    broken = tmp_path / "broken" / landed.name
    broken.parent.mkdir()
    broken.write_bytes(landed.read_bytes()[:100])
    ingest_events([broken], lake)
    (problem,) = check_lake(lake).problems
    assert problem.kind == "failed" and landed.name in problem.message


def test_a_run_that_did_not_finish(landed, lake):
    pid = os.fork()
    if pid == 0:
        try:
            with lake.run("ingest package idbx-2016-07-11.zip") as run:
                run.plan(["course_data/2016-07-11/a.sql.gpg", "course_data/2016-07-11/b.sql.gpg"])
                run.done("course_data/2016-07-11/a.sql.gpg")
                (run.scratch / "decrypted.tsv").write_text("learner PII")
                os._exit(0)  # gone without unwinding, as after kill -9
        finally:
            os._exit(1)
    os.waitpid(pid, 0)
    report = check_lake(lake)
    assert sorted(p.kind for p in report.problems) == ["interrupted", "leftover"]
    interrupted = next(p for p in report.problems if p.kind == "interrupted")
    assert "ingest package idbx-2016-07-11.zip" in interrupted.message and "1 file(s) not processed" in interrupted.message
    assert "b.sql.gpg" in interrupted.message
    with lake.run("the next run"):
        pass
    assert kinds(lake) == ["interrupted"], "leftovers are swept; the unfinished work still needs its run"
    with lake.run("ingest package idbx-2016-07-11.zip, again") as run:  # a later run that does the rest
        run.plan(["course_data/2016-07-11/b.sql.gpg"])
        run.done("course_data/2016-07-11/b.sql.gpg")
    assert kinds(lake) == []
