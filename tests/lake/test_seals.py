"""Files changed behind the engine's back (a forged mart, a rewritten bronze partition) are found
by `lake check`, refused by publish and the build, and put right by a build or a re-ingestion."""

from __future__ import annotations

import os
import re

import duckdb
import pytest

from idbx.ingest.course_data import ingest_package
from idbx.lake.check import check_lake
from idbx.models.runner import BUILT, FAILED, build
from idbx.publish import PublishError, publish
from idbx.publish.settings import MongoSettings
from tests.conftest import SAMPLE_PSEUDONYM_KEY, copy_lake


def forge(path, select: str) -> None:
    """What `COPY (...) TO` from an analyst's session did to a lake file."""
    duckdb.sql(f"COPY ({select}) TO '{path}' (FORMAT parquet)")


def problems(lake, kind: str) -> list[str]:
    return [problem.message for problem in check_lake(lake).problems if problem.kind == kind]


@pytest.fixture
def lake(built_sample, tmp_path):
    lake = copy_lake(built_sample, tmp_path)
    assert check_lake(lake).problems == []
    return lake


def test_a_forged_mart_is_found_refused_by_publish_and_rebuilt(lake):
    mart = sorted((lake.marts / "person_course").glob("course_key=*/data.parquet"))[0]  # one course's file
    name = re.escape(lake.relative(mart))
    true_rows = duckdb.sql(f"SELECT * FROM '{mart}' ORDER BY ALL").fetchall()
    forge(mart, f"SELECT * REPLACE ('forged' AS country) FROM '{mart}'")
    found = problems(lake, "tampered")
    assert len(found) == 1 and re.fullmatch(
        name + r": it holds [\d,]+ bytes, not the [\d,]+ written; "
        r"changed since `idbx build` wrote it: the next build recomputes person_course",
        found[0],
    )
    with pytest.raises(PublishError, match=rf"^not published: {name}: it holds .*; run `idbx build` first$"):
        publish(lake, MongoSettings.resolve("mongodb://127.0.0.1:9"))
    summary = build(lake, key=SAMPLE_PSEUDONYM_KEY)
    rebuilt = summary.outcome("person_course")
    assert rebuilt.status == BUILT and re.match(rf"recomputed whole: {name}: ", rebuilt.notes[0])
    assert duckdb.sql(f"SELECT count(*) FROM '{mart}'").fetchall()[0][0] == len(true_rows)
    assert duckdb.sql(f"SELECT count(*) FROM '{mart}' WHERE country = 'forged'").fetchall()[0][0] == 0
    assert check_lake(lake).problems == []


def test_a_file_added_to_a_model_output_is_found(lake):
    forge(lake.marts / "activity_daily" / "stray.parquet", "SELECT 1 AS x")
    found = problems(lake, "tampered")
    assert len(found) == 1 and found[0].startswith("marts/activity_daily/stray.parquet: not written by the build")


def test_a_rewritten_bronze_partition_is_found_refused_by_the_build_and_landed_again(lake, sample, gpg):
    partition = next((lake.bronze / "student_courseenrollment").rglob("data.parquet"))
    rel = partition.relative_to(lake.root).as_posix()
    forge(partition, f"SELECT * REPLACE ('forged' AS mode) FROM '{partition}'")  # its footer's source and version are gone too
    found = problems(lake, "tampered")
    assert len(found) == 1 and re.search(
        rf"{re.escape(rel)} \(it holds [\d,]+ bytes, not the [\d,]+ written\): changed since it was landed; "
        "re-run its ingestion$",
        found[0],
    )
    summary = build(lake, key=SAMPLE_PSEUDONYM_KEY)
    failed = [outcome for outcome in summary.models if outcome.status == FAILED]
    assert failed and all(f"{rel} changed since it was ingested" in outcome.error for outcome in failed), [
        o.error for o in failed
    ]
    assert summary.outcome("person_course").status == "skipped"
    assert not ingest_package([sample.package], lake, gpg).failed  # not "unchanged": its partition is landed again
    assert duckdb.sql(f"SELECT count(*) FROM '{partition}' WHERE mode = 'forged'").fetchall()[0][0] == 0
    assert check_lake(lake).problems == []
    assert not build(lake, key=SAMPLE_PSEUDONYM_KEY).failed


def test_same_size_and_time_but_other_content_is_found_by_the_digest(tmp_path):
    from idbx.lake.seals import Seal, broken

    path = tmp_path / "data.parquet"
    path.write_bytes(b"PAR1 rows of the engine PAR1")
    seal = Seal.of(path)
    info = path.stat()
    path.write_bytes(b"PAR1 rows of a forgery! PAR1")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert broken(path, seal, digest=False) is None  # what the build's stat sees
    assert broken(path, seal, digest=True) == "its content is not what was written"  # what lake check and publish see
    path.unlink()
    assert broken(path, seal, digest=False) == "it is gone"
