"""The models on Spark (local[2]) give what they give on DuckDB, row for row, at the same lake
paths with the same columns and types, so the catalog and what reads it work on either engine's
output. One Spark session (4-5 s to start, tuned for small lakes below) and two Spark builds:
the scenario lake's and the sample lake's. They run as one xdist group, the first handed out:
the scenario's Spark build takes 37-45 s alone (quiet machine), the group about 2.7 minutes within
the whole suite, which keeps both cores busy throughout."""

from __future__ import annotations

import math

import duckdb
import pytest

from idbx.lake.store import PARTITION_FILE, Lake
from idbx.models import spark, writer
from idbx.models.runner import FAILED, SKIPPED
from idbx.models.state import BuildState
from tests.cli.test_cli import run
from tests.conftest import SAMPLE_PSEUDONYM_KEY, copy_lake
from tests.models import scenario, tiny_lake
from tests.models.test_checks import project_with

RA = "ra_2016_t1"


# For the tests' lakes of a few hundred rows, where a Spark build's time goes to the JVM compiling
# code and planning rather than to running it: the JIT's quick compiler only, no code generation
# at all (Spark interprets each operator and expression, the mode its own test suite checks gives
# the same results), no adaptive re-planning, two shuffle partitions instead of eight. The
# scenario's Spark build: 121 s of CPU with Spark's defaults, 72 s with the quick JIT and no
# whole-stage code generation, 55 s with no code generation or adaptive execution either (the
# machine's CPU over the session's start and the build); every model still runs on Spark.
SMALL_LAKE_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m"
SMALL_LAKE_CONFIG = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.shuffle.partitions": "2",
}


@pytest.fixture(scope="session")
def spark_session():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYSPARK_SUBMIT_ARGS", f"--driver-java-options '{SMALL_LAKE_JAVA_OPTIONS}' pyspark-shell")
        session = spark.spark_session("local[2]")
    for name, value in SMALL_LAKE_CONFIG.items():
        session.conf.set(name, value)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def spark_built(spark_session, tmp_path_factory: pytest.TempPathFactory):
    """The scenario lake built on Spark, and its build summary."""
    root = tmp_path_factory.mktemp("scenario-spark")
    lake = Lake(root / "lake")
    registry = scenario.write(lake, root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IDBX_PSEUDONYM_KEY", tiny_lake.KEY)
        summary = spark.build(lake, registry_path=registry, session=spark_session)
    return lake, summary


@pytest.fixture(scope="module")
def spark_built_sample(spark_session, landed_sample: Lake, tmp_path_factory: pytest.TempPathFactory):
    """The sample lake (`idbx sample`'s delivery and logs, ingested) built on Spark, and its summary."""
    lake = copy_lake(landed_sample, tmp_path_factory.mktemp("sample-spark"))
    return lake, spark.build(lake, key=SAMPLE_PSEUDONYM_KEY, session=spark_session)


def _same(left, right) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-9)
    if isinstance(left, (tuple, list)) and isinstance(right, (tuple, list)):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    return left == right


def _compared(on_duckdb: Lake, on_spark: Lake) -> dict[str, int]:
    """Every stored output of the two builds, sorted, the same row for row (floats within 1e-9
    relative), with the same columns and types: each output's name and rows."""
    compared = {}
    with duckdb.connect() as con:
        for layer in ("silver", "marts"):
            for folder in sorted(p for p in (on_duckdb.root / layer).iterdir() if p.is_dir()):
                other_folder = on_spark.root / layer / folder.name
                described = con.execute(f"DESCRIBE SELECT * FROM ({writer.output_scan(folder)})").fetchall()
                assert [
                    r[:2] for r in con.execute(f"DESCRIBE SELECT * FROM ({writer.output_scan(other_folder)})").fetchall()
                ] == [r[:2] for r in described], folder.name
                columns = ", ".join(f'"{r[0]}"' for r in described if r[0] != "computed_at")  # when each build ran
                duck = con.execute(f"SELECT {columns} FROM ({writer.output_scan(folder)}) ORDER BY ALL").fetchall()
                other = con.execute(f"SELECT {columns} FROM ({writer.output_scan(other_folder)}) ORDER BY ALL").fetchall()
                assert len(other) == len(duck) and _same(other, duck), folder.name
                compared[f"{layer}/{folder.name}"] = len(duck)
    return compared


def test_every_output_on_spark_equals_duckdb_s(spark_built, built_scenario):
    lake, summary = spark_built
    assert not summary.failed, [o.error for o in summary.failed]
    per_batch = {o.name for o in summary.models if spark.PER_BATCH_NOTE in o.notes}
    assert per_batch == {"stg__edx__events", "int__events__problem_responses"}
    # A view several models read is computed once (DuckDB over the events once, not once per
    # event model), in the build's scratch folder, which is gone after the build.
    stored_once = {o.name for o in summary.models if spark.STORED_ONCE_NOTE in o.notes}
    assert stored_once == {"stg__edx__events", "stg__edx__courseware_studentmodule", "stg__edx__course_blocks"}
    assert not list((lake.root / "_scratch").glob("**/stg__edx__events"))
    compared = _compared(built_scenario, lake)
    assert len(compared) >= 40 and sum(compared.values()) > 100
    # The partitioned outputs keep DuckDB's layout: one data.parquet per day, the column inside.
    days = sorted(p.name for p in (lake.silver / "int__events__learner_course_day").glob("event_date=*"))
    assert days == sorted(p.name for p in (built_scenario.silver / "int__events__learner_course_day").glob("event_date=*"))
    assert all((lake.silver / "int__events__learner_course_day" / day / PARTITION_FILE).exists() for day in days)


def test_every_mart_of_the_sample_on_spark_equals_duckdb_s(spark_built_sample, built_sample):
    lake, summary = spark_built_sample
    assert not summary.failed, [o.error for o in summary.failed]
    compared = _compared(built_sample, lake)
    marts = {name for name in compared if name.startswith("marts/")}
    assert marts == {f"marts/{p.name}" for p in built_sample.marts.iterdir() if p.is_dir()} and len(marts) >= 15
    # The sample's events reach the marts on both engines (not two empty builds agreeing).
    assert compared["marts/person_course"] > 50 and compared["marts/activity_daily"] > 0


def test_the_catalog_reads_spark_s_marts_and_the_summary_says_full_refresh(spark_built):
    lake, summary = spark_built
    ((gender, countries),) = tiny_lake.rows(lake, f"SELECT gender, countries FROM course_report WHERE course_key = '{RA}'")
    assert gender == {"f": 1, "m": 2}
    assert countries["MX"]["birth"] == {"1980": 1, "1990": 1}
    learner_ids = {row[0] for row in tiny_lake.rows(lake, "SELECT learner_id FROM person_course")}
    assert tiny_lake.pseudonym(1) in learner_ids  # the HMAC written for Spark is the definition's
    stored = [o for o in summary.models if o.status == "built"]
    assert stored and all(spark.FULL_REFRESH_NOTE in o.notes for o in stored)
    # The DuckDB build's records of them no longer hold: its next build recomputes them.
    assert not set(BuildState.load(lake).models) & {o.name for o in stored}


def test_spark_master_without_the_spark_engine_is_a_usage_error(tmp_path):
    done = run("build", "--lake", str(tmp_path / "lake"), "--spark-master", "local[1]")
    assert done.returncode == 2
    assert "--spark-master goes with --engine spark" in done.stderr


def test_a_failed_check_fails_the_model_on_spark_too(spark_session, tmp_path):
    """The DuckDB build's checks run on the files Spark wrote aside: nothing is moved into place."""
    lake = Lake(tmp_path / "lake")
    lake.root.mkdir()
    twice = "SELECT course_key, excluded FROM course_registry UNION ALL SELECT course_key, excluded FROM course_registry"
    summary = spark.build(
        lake, select=["zz_above"], session=spark_session, project=project_with(tmp_path, twice, "sql"), key=tiny_lake.KEY
    )
    checked = summary.outcome("zz_checked")
    assert checked.status == FAILED
    assert checked.error.startswith("idbx/sql/marts/zz_checked.sql: grain (course_key) not unique: 50 duplicate key(s), e.g. ")
    assert summary.outcome("zz_above").status == SKIPPED
    assert not (lake.marts / "zz_checked" / PARTITION_FILE).exists()


def test_a_spark_connect_url_is_refused_in_one_line_naming_what_is_missing(tmp_path):
    lake = tmp_path / "lake"
    done = run("build", "--lake", str(lake), "--engine", "spark", "--spark-master", "sc://localhost:15002")
    assert done.returncode == 2
    assert "sc://localhost:15002: Spark Connect is not supported" in done.stderr
    assert "mapInArrow" in done.stderr and "grpcio" in done.stderr and "Traceback" not in done.stderr
    assert not lake.exists()
