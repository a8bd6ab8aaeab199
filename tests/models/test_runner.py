"""`build`: what it does with whatever the lake holds, and how it fails."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from idbx.errors import ConfigError, ModelError, RegistryError
from idbx.ingest.outcomes import RunSummary, refresh_catalog
from idbx.lake import catalog
from idbx.lake.store import Lake
from idbx.models import planner, settings
from idbx.models.lanes import Lanes
from idbx.models.project import read_project
from idbx.models.runner import BUILT, FAILED, SKIPPED, UNCHANGED, VIEW, build
from idbx.models.schedule import build_side_by_side, chain_seconds
from idbx.models.state import BuildState, ModelState, build_lock
from tests.models import scenario, tiny_lake

A = scenario.A


def marts_in_catalog(lake: Lake) -> set[str]:
    return {row[0] for row in tiny_lake.rows(lake, "SELECT view_name FROM duckdb_views() WHERE NOT internal")}


def test_an_empty_lake_gives_empty_marts_with_their_columns(tmp_path):
    lake = Lake(tmp_path / "lake")
    lake.root.mkdir()
    summary = build(lake)
    assert not summary.failed
    assert {"course_blocks", "courseware_studentmodule", "events", "forum_posts", "student_courseenrollment"} <= set(
        summary.absent_sources
    )
    person_course = summary.outcome("person_course")
    assert person_course.rows == 0 and "empty: the lake holds no" in person_course.notes[0] and "events" in person_course.notes[0]
    views = marts_in_catalog(lake)
    assert {"course_report", "person_course", "weekly_active", "enrollment_daily", "int__events__learner_course_day"} <= views
    assert tiny_lake.rows(lake, "SELECT count(*) FROM weekly_active") == [(0,)]
    # The registry's runs are reported even with no data (the predecessor's report listed them all).
    assert tiny_lake.rows(lake, "SELECT count(*), sum(users_total) FROM course_report") == [(32, 0)]


def test_the_output_of_a_model_no_longer_in_the_project_is_removed_with_its_view(tmp_path):
    """A renamed model (here the video segments' former one) would otherwise stay in the catalog
    with its last rows."""
    lake = Lake(tmp_path / "lake")
    lake.root.mkdir()
    assert not build(lake).failed
    former = lake.silver / "int__events__learner_video_segment_day"
    (former / "event_date=2016-07-01").mkdir(parents=True)
    duckdb.sql(f"COPY (SELECT 1 AS segment) TO '{former / 'event_date=2016-07-01' / 'data.parquet'}' (FORMAT parquet)")
    catalog.refresh(lake)
    state = BuildState.load(lake)
    state.models["int__events__learner_video_segment_day"] = ModelState("as a former build left it")
    state.save(lake)
    assert "int__events__learner_video_segment_day" in marts_in_catalog(lake)
    summary = build(lake)
    assert summary.removed_outputs == ["int__events__learner_video_segment_day"]
    assert not former.exists() and (lake.silver / "int__events__learner_video_viewings_day").is_dir()
    assert "int__events__learner_video_segment_day" not in BuildState.load(lake).models
    assert "int__events__learner_video_segment_day" not in marts_in_catalog(lake)
    assert build(lake).removed_outputs == []


def test_tables_only_and_events_only(tmp_path):
    tables = Lake(tmp_path / "tables")
    tiny_lake.table(
        tables,
        "student_courseenrollment",
        A,
        [{"id": 1, "user_id": 1, "created": datetime(2016, 6, 1), "is_active": True, "mode": "audit"}],
    )
    assert not build(tables).failed
    assert tiny_lake.rows(tables, "SELECT count(*) FROM person_course") == [(1,)]
    assert tiny_lake.rows(tables, "SELECT count(*) FROM activity_daily") == [(0,)]

    events = Lake(tmp_path / "events")
    tiny_lake.events(events, date(2016, 7, 1), scenario.DAY_1)
    assert not build(events).failed
    assert tiny_lake.rows(events, "SELECT count(*) FROM person_course WHERE course_key = 'ra_2016_t1'") == [
        (4,)
    ]  # learners 1, 2, 3, 5
    assert (
        tiny_lake.rows(events, "SELECT users_total FROM course_report WHERE course_key = 'ra_2016_t1'") == []
    )  # not in the registry shipped


def broken_project(tmp_path: Path, sql: str) -> Path:
    root = tmp_path / "sql"
    shutil.copytree(settings.sql_root(), root)
    (root / "marts" / "zz_broken.sql").write_text(
        "/*\ndescription: broken\ngrain: [k]\nmaterialized: table\ncolumns:\n  k: k\n*/\n" + sql, encoding="utf-8"
    )
    (root / "marts" / "zz_above.sql").write_text(
        "/*\ndescription: reads the broken one\ngrain: [k]\nmaterialized: table\ncolumns:\n  k: k\n*/\nSELECT k FROM zz_broken",
        encoding="utf-8",
    )
    return root


@pytest.mark.parametrize(
    "sql, name",
    [
        ("SELECT course_key AS k FROM no_such_table", "no_such_table"),
        ("SELECT no_such_column AS k FROM person_course", "no_such_column"),
    ],
)
def test_a_model_reading_a_missing_table_or_column_fails_naming_both(tmp_path, sql, name):
    lake = Lake(tmp_path / "lake")
    lake.root.mkdir()
    summary = build(lake, project=read_project(broken_project(tmp_path, sql)))
    broken = summary.outcome("zz_broken")
    assert broken.status == FAILED
    assert broken.error.startswith("idbx/sql/marts/zz_broken.sql: ") and name in broken.error
    above = summary.outcome("zz_above")
    assert above.status == SKIPPED and above.notes == ["not built: zz_broken failed"]
    assert summary.outcome("person_course").status == BUILT  # the others are still built
    assert not (lake.marts / "zz_broken").exists()


def test_a_second_build_keeps_what_did_not_change_and_select_builds_what_is_asked(tmp_path):
    lake = Lake(tmp_path / "lake")
    registry = scenario.write(lake, tmp_path)
    build(lake, registry_path=registry)
    again = build(lake, registry_path=registry)
    assert {o.status for o in again.models} == {UNCHANGED, VIEW}
    assert again.outcome("person_course").rows == 7
    # A new snapshot of one table rebuilds what reads it, and only that.
    tiny_lake.table(lake, "user_id_map", A, [{"hash_id": "anon1", "id": 1, "username": "learner1"}], snapshot=date(2016, 7, 11))
    changed = build(lake, registry_path=registry)
    built = {o.name for o in changed.models if o.status == BUILT}
    assert {"stg__edx__user_id_map", "stg__edx__user_pseudonyms", "course_report", "person_course"} <= built
    assert "int__events__learner_course_day" not in built
    assert tiny_lake.rows(lake, "SELECT learner_key, anonymous_user_id FROM stg__edx__user_id_map") == [
        (tiny_lake.learner_key(1), "anon1")
    ]
    # --select: the model and what it reads, nothing else.
    selected = build(lake, registry_path=registry, select=["general_report"], full_refresh=True)
    assert "general_report" in {o.name for o in selected.models}
    assert "person_course" not in {o.name for o in selected.models}
    assert selected.outcome("course_report").status == BUILT


def test_the_catalog_is_refreshed_only_when_its_views_would_change(tmp_path):
    """A new day rewrites outputs behind the same views: the catalog, refreshed by the ingestion
    that landed the day, is kept and reads the new rows. A model whose columns change, a new
    output, or lake files newer than the catalog refresh it."""
    lake = Lake(tmp_path / "lake")
    registry = scenario.write(lake, tmp_path)
    build(lake, registry_path=registry)
    first = lake.catalog_path.stat().st_ino
    tiny_lake.events(lake, date(2016, 7, 7), [scenario.ev(4, "play_video", scenario.t(7, 8, 0))])
    assert build(lake, registry_path=registry).outcome("activity_daily").status == BUILT
    assert lake.catalog_path.stat().st_ino != first  # the new file is newer than the catalog
    refreshed = lake.catalog_path.stat().st_ino
    tiny_lake.events(lake, date(2016, 7, 8), [scenario.ev(4, "play_video", scenario.t(8, 8, 0))])
    # As `idbx ingest events` ends: the catalog already reads the day, so it is kept (and touched).
    refresh_catalog(lake, RunSummary("events"), unless_current=catalog.event_view_columns())
    kept = lake.catalog_path.stat()
    assert kept.st_ino == refreshed
    assert build(lake, registry_path=registry).outcome("activity_daily").status == BUILT
    assert (lake.catalog_path.stat().st_ino, lake.catalog_path.stat().st_mtime_ns) == (kept.st_ino, kept.st_mtime_ns)
    assert tiny_lake.rows(lake, "SELECT max(date) FROM activity_daily") == [(date(2016, 7, 8),)]
    # Another column in a mart: its view must be made again.
    root = tmp_path / "sql"
    shutil.copytree(settings.sql_root(), root)
    mart = root / "marts" / "course_countries.sql"
    mart.write_text(
        mart.read_text()
        .replace("  from_ip: ", "  from_ip_share: Share of learners located by IP.\n  from_ip: ")
        .replace(
            "count(*) FILTER (WHERE country_source = 'ip') AS from_ip",
            "count(*) FILTER (WHERE country_source = 'ip') / count(*) AS from_ip_share,\n"
            "    count(*) FILTER (WHERE country_source = 'ip') AS from_ip",
        ),
        encoding="utf-8",
    )
    assert build(lake, registry_path=registry, project=read_project(root)).outcome("course_countries").status == BUILT
    assert lake.catalog_path.stat().st_ino != kept.st_ino
    assert tiny_lake.rows(lake, "SELECT count(*) FROM course_countries WHERE from_ip_share IS NOT NULL")[0][0] > 0


def test_refused_before_anything_is_written(tmp_path, monkeypatch):
    lake = Lake(tmp_path / "lake")
    monkeypatch.delenv("IDBX_PSEUDONYM_KEY")
    with pytest.raises(ConfigError, match="IDBX_PSEUDONYM_KEY"):
        build(lake)
    with pytest.raises(ConfigError, match="too short"):
        build(lake, key="short")
    bad = tiny_lake.registry(tmp_path / "bad.csv", ["x_1,Name,,2016-02-01,2016-01-01,false,,"])
    with pytest.raises(RegistryError, match="end_date 2016-01-01 is before start_date"):
        build(lake, registry_path=bad, key=tiny_lake.KEY)
    monkeypatch.setenv("IDBX_BUILD_LANES", "0")
    with pytest.raises(ConfigError, match="IDBX_BUILD_LANES='0'"):
        build(lake, key=tiny_lake.KEY)
    assert not lake.root.exists()


def test_one_build_at_a_time(tmp_path):
    lake = Lake(tmp_path / "lake")
    lake.root.mkdir()
    with build_lock(lake), pytest.raises(ConfigError, match="another `idbx build` is running"):
        build(lake)


def test_a_corrupt_input_fails_its_models_and_leaves_their_outputs(tmp_path):
    lake = Lake(tmp_path / "lake")
    registry = scenario.write(lake, tmp_path)
    build(lake, registry_path=registry)
    before = (lake.marts / "course_report" / "data.parquet").read_bytes()
    # A later snapshot whose user ids are not numbers (a file written by something else than idbx).
    partition = lake.partition_dir("student_courseenrollment", snapshot_date="2016-07-11", course="ra_2016_t1")
    partition.mkdir(parents=True)
    duckdb.execute(
        f"COPY (SELECT 'x1' AS user_id, 'ra_2016_t1' AS course_key, DATE '2016-07-11' AS snapshot_date) "
        f"TO '{partition / 'data.parquet'}' (FORMAT parquet)"
    )
    summary = build(lake, registry_path=registry)
    assert summary.outcome("stg__edx__user_pseudonyms").status == FAILED
    assert summary.outcome("stg__edx__user_pseudonyms").error.startswith("idbx/sql/staging/stg__edx__user_pseudonyms.sql: ")
    assert "x1" in summary.outcome("stg__edx__user_pseudonyms").error
    assert summary.outcome("course_report").status == SKIPPED
    assert summary.outcome("int__events__learner_course_day").status == UNCHANGED
    assert (lake.marts / "course_report" / "data.parquet").read_bytes() == before
    assert not list(lake.root.glob("**/*.tmp-*"))


def test_another_pseudonym_key_is_refused_unless_rekey(tmp_path):
    lake = Lake(tmp_path / "lake")
    registry = scenario.write(lake, tmp_path)
    build(lake, registry_path=registry)
    before = set(tiny_lake.rows(lake, "SELECT DISTINCT learner_id FROM person_course"))
    marts_before = {path: path.stat().st_mtime_ns for path in lake.marts.rglob("*.parquet")}
    other = "another-key-of-32-characters-xx"
    with pytest.raises(
        ConfigError,
        match=r"was built with another IDBX_PSEUDONYM_KEY \(fingerprint \w+, this key's \w+\): "
        r"every learner_id would change; .* `idbx build --rekey`",
    ):
        build(lake, key=other, registry_path=registry)
    assert {path: path.stat().st_mtime_ns for path in lake.marts.rglob("*.parquet")} == marts_before
    summary = build(lake, key=other, rekey=True, registry_path=registry)
    assert not summary.failed and summary.rekeyed_learners == len(before) > 0
    after = set(tiny_lake.rows(lake, "SELECT DISTINCT learner_id FROM person_course"))
    assert len(after) == len(before) and not after & before
    again = build(lake, key=other, registry_path=registry)  # the new key is now the lake's
    assert again.rekeyed_learners is None and {o.status for o in again.models} <= {UNCHANGED, VIEW}


def _side_by_side(build_step, count: int = 2, on_model=None, seconds=None):
    project = read_project()
    plan = planner.plan_build(project, project.selection(None))
    with duckdb.connect() as con:
        return plan, build_side_by_side(plan, build_step, (duckdb.Error,), on_model, Lanes(con, []), count, seconds or {})


def test_a_free_lane_takes_the_ready_model_with_the_longest_chain_behind_it():
    started = []

    def build_step(step, outcome):
        started.append(step.name)
        outcome.status = BUILT

    # learner_engagement is last in plan order; timed long, it starts as soon as what it reads is
    # built, ahead of models before it in plan order that nothing long waits on
    plan, _ = _side_by_side(build_step, count=1, seconds={"learner_engagement": 100.0})
    order = [step.name for step in plan.steps]
    assert order.index("weekly_active") < order.index("learner_engagement")
    assert started.index("learner_engagement") < started.index("weekly_active")
    assert "learner_engagement" not in plan.upstream["weekly_active"]
    # what it reads starts first too: the longest chain runs through it
    assert started.index("int__engagement__learner_totals") < started.index("int__events__learner_block_day")
    # untimed, the steps start in plan order when one lane is free at a time and chains tie
    started.clear()
    _side_by_side(build_step, count=1)
    assert len(started) == len(order)


def test_chain_seconds_are_a_model_and_the_longest_line_reading_it():
    project = read_project()
    plan = planner.plan_build(project, project.selection(["learner_engagement"]))
    seconds = {step.name: 1.0 for step in plan.steps} | {"int__engagement__learner_totals": 5.0}
    chains = chain_seconds(plan, seconds)
    assert chains["learner_engagement"] == 1.0  # nothing chosen reads it
    assert chains["int__engagement__learner_totals"] == 6.0
    assert chains["int__events__learner_engagement_day"] >= 7.0  # read by the totals


def test_a_build_keeps_each_built_models_seconds_for_the_order_of_the_next(tmp_path):
    lake = Lake(tmp_path / "lake")
    registry = scenario.write(lake, tmp_path)
    summary = build(lake, registry_path=registry)
    seconds = BuildState.load(lake).seconds
    built = {outcome.name for outcome in summary.models if outcome.status == BUILT}
    assert built and built <= set(seconds)
    assert seconds["person_course"] == round(summary.outcome("person_course").seconds, 3)
    again = build(lake, registry_path=registry)
    assert {outcome.status for outcome in again.models} <= {UNCHANGED, VIEW}
    kept = BuildState.load(lake).seconds
    assert {name: kept[name] for name in built} == {name: seconds[name] for name in built}  # kept, not the no-work times


def test_models_side_by_side_start_once_what_they_read_is_built():
    spans: dict[str, tuple[float, float]] = {}
    lock = threading.Lock()

    def build_step(step, outcome):
        started = time.monotonic()
        time.sleep(0.002)
        outcome.status = BUILT
        with lock:
            spans[step.name] = (started, time.monotonic())

    plan, outcomes = _side_by_side(build_step)
    assert [outcome.name for outcome in outcomes] == [step.name for step in plan.steps]
    for step in plan.steps:
        for upstream in plan.upstream[step.name]:
            assert spans[upstream][1] <= spans[step.name][0], (upstream, step.name)
    at_once = max(sum(1 for start, end in spans.values() if start <= moment < end) for moment, _ in spans.values())
    assert at_once == 2  # two lanes, and never more


def test_a_model_failing_side_by_side_skips_what_reads_it_and_not_the_others():
    failing = "int__events__learner_course_day"
    called = set()

    def build_step(step, outcome):
        called.add(step.name)
        if step.name == failing:
            raise ModelError(step.model.label, "a check failed")
        outcome.status = BUILT

    plan, outcomes = _side_by_side(build_step)
    by_name = {outcome.name: outcome for outcome in outcomes}
    assert by_name[failing].status == FAILED
    readers = {step.name for step in plan.steps if failing in plan.upstream[step.name]}
    assert "person_course" in readers and not readers & called
    [note] = by_name["person_course"].notes
    assert note.startswith("not built: ") and failing in note
    assert called == {step.name for step in plan.steps} - readers
    assert by_name["int__events__course_day"].status == BUILT


def test_an_error_that_is_no_model_failure_ends_the_build_side_by_side():
    def build_step(step, outcome):
        if step.name == "int__events__course_day":
            raise KeyboardInterrupt
        outcome.status = BUILT

    with pytest.raises(KeyboardInterrupt):
        _side_by_side(build_step)


def test_a_lake_named_by_a_relative_path_gets_a_catalog_read_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lake = Lake(Path("lake"))
    assert lake.root == tmp_path / "lake"
    registry = scenario.write(lake, tmp_path)
    assert not build(lake, registry_path=registry).failed
    monkeypatch.chdir(tmp_path.parent)  # an analyst elsewhere: the views name the files by absolute path
    assert tiny_lake.rows(lake, "SELECT count(*) FROM person_course")[0][0] > 0
