"""The planner, without DuckDB or a lake: which models, by which executor, reading what by key,
and which days or keys a build recomputes, and why."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from idbx.models import planner
from idbx.models.project import read_project


def header(materialized: str = "table", grain: str = "[course_key, learner_id]", extra: str = "", columns=None) -> str:
    columns = columns or ["course_key", "learner_id", "n"]
    listed = "".join(f"  {column}: the {column}\n" for column in columns)
    return f"/*\ndescription: test\ngrain: {grain}\nmaterialized: {materialized}\n{extra}columns:\n{listed}*/\n"


def write(root: Path, layer: str, name: str, text: str) -> None:
    path = root / layer / f"{name}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def project(tmp_path):
    """events -> a daily aggregate -> a view over it -> a merged per-learner model, beside a
    per-course table the merged model reads whole."""
    day = ["course_key", "learner_id", "event_date", "n"]
    write(
        tmp_path,
        "staging",
        "stg_events",
        header("view", "[course_key]", columns=["course_key", "learner_id", "event_date"])
        + "SELECT course_key, learner_id, CAST(time AS DATE) AS event_date FROM events",
    )
    write(
        tmp_path,
        "intermediate",
        "int_day",
        header("incremental", "[course_key, learner_id, event_date]", "partition_by: event_date\n", day)
        + "SELECT course_key, learner_id, event_date, count(*) AS n FROM stg_events GROUP BY ALL",
    )
    write(
        tmp_path,
        "intermediate",
        "int_totals",
        header("view") + "SELECT course_key, learner_id, sum(n) AS n FROM int_day GROUP BY course_key, learner_id",
    )
    write(
        tmp_path,
        "intermediate",
        "int_runs",
        header("table", "[course_key]", columns=["course_key"]) + "SELECT DISTINCT course_key FROM course_registry",
    )
    write(
        tmp_path,
        "marts",
        "learners",
        header("incremental", extra="merge_by: [course_key, learner_id]\n")
        + "SELECT t.course_key, t.learner_id, t.n FROM int_totals AS t JOIN int_runs AS r ON r.course_key = t.course_key",
    )
    write(
        tmp_path,
        "intermediate",
        "int_bad_incremental",
        header("incremental", "[course_key, event_date]", "partition_by: event_date\n", ["course_key", "event_date"])
        + "SELECT course_key, event_date FROM int_runs, (SELECT DISTINCT event_date FROM stg_events)",
    )
    return read_project(tmp_path)


def test_the_plan_orders_the_models_and_says_how_each_is_made(project):
    plan = planner.plan_build(project, list(project.models.values()))
    steps = {step.name: step for step in plan.steps}
    assert [step.name for step in plan.steps] == list(project.models)
    assert {name: step.executor for name, step in steps.items()} == {
        "stg_events": planner.VIEW,
        "int_day": planner.PARTITIONS,
        "int_totals": planner.VIEW,
        "int_runs": planner.TABLE,
        "int_bad_incremental": planner.PARTITIONS,
        "learners": planner.MERGE,
    }
    learners = steps["learners"]
    assert learners.reads == ("int_day", "int_runs")  # the view seen through
    assert learners.keyed == ("int_day",)  # per learner: filtered to the keys; int_runs read whole
    assert learners.views_between == ("int_totals", "stg_events")  # every view below it: their definitions count
    # The daily aggregate must tell the merged model which of its rows changed, by these columns.
    assert steps["int_day"].keys_wanted == ("course_key", "learner_id")
    assert steps["int_runs"].keys_wanted == () and steps["int_runs"].content_hashed
    assert not steps["int_day"].refused
    assert (
        steps["int_bad_incremental"].refused
        == "an incremental model may read only the events through views, not course_registry, int_runs"
    )
    assert plan.merged == ["learners"]
    assert plan.upstream["learners"] == {"stg_events", "int_day", "int_totals", "int_runs"}


def test_a_selection_plans_only_what_it_reads(project):
    plan = planner.plan_build(project, project.selection(["int_totals"]))
    assert [step.name for step in plan.steps] == ["stg_events", "int_day", "int_totals"]


def test_a_table_is_kept_only_when_nothing_changed():
    assert planner.decide_table(False, "a", "a", True) == planner.Decision(False, "nothing it reads changed")
    assert planner.decide_table(True, "a", "a", True).why == "full refresh"
    assert planner.decide_table(False, None, "a", True).why == "not built before"
    assert planner.decide_table(False, "a", "b", True).why == "its definition or inputs changed"
    assert planner.decide_table(False, "a", "a", False).why == "its output is missing"


@dataclass
class File:  # as state.EventFile: what the planner reads of an event file
    size: int
    mtime_ns: int
    dates: dict[str, int]


DAY_1 = "events/log_date=2016-07-01/data.parquet"
DAY_7 = "events/log_date=2016-07-07/data.parquet"


def test_the_days_to_recompute_are_those_new_or_changed_files_hold():
    before = {DAY_1: File(10, 1, {"2016-07-01": 5})}
    # The log of the 7th holds a late event of the 2nd: both days, read from that file only.
    now = before | {DAY_7: File(20, 2, {"2016-07-07": 3, "2016-07-02": 1})}
    decision = planner.decide_days("event_date", False, "d", before, "d", True, now)
    assert decision.recompute and decision.days == {"2016-07-02", "2016-07-07"}
    assert decision.files == (DAY_7,)
    by_log_day = planner.decide_days("log_date", False, "d", before, "d", True, now)
    assert by_log_day.days == {"2016-07-07"}
    # Nothing new: kept; a new definition: every day, from every file.
    assert not planner.decide_days("event_date", False, "d", now, "d", True, now).recompute
    whole = planner.decide_days("event_date", False, "d", now, "other", True, now)
    assert whole.recompute and whole.days is None and set(whole.files) == {DAY_1, DAY_7}
    assert whole.why == "every day: its definition or inputs changed"
    # A file removed: the days it held.
    assert planner.decide_days("event_date", False, "d", now, "d", True, before).days == {"2016-07-02", "2016-07-07"}


def test_only_files_added_say_the_new_events_are_theirs():
    """By course (a model that proves it) only when new files are all that changed: a file
    rewritten or removed took events of courses no file now shows."""
    before = {DAY_1: File(10, 1, {"2016-07-01": 5})}
    now = before | {DAY_7: File(20, 2, {"2016-07-07": 3, "2016-07-02": 1})}
    assert planner.decide_days("event_date", False, "d", before, "d", True, now).added == (DAY_7,)
    rewritten = {DAY_1: File(11, 3, {"2016-07-01": 6}), DAY_7: now[DAY_7]}
    assert planner.decide_days("event_date", False, "d", before, "d", True, rewritten).added is None
    assert planner.decide_days("event_date", False, "d", now, "d", True, before).added is None  # the 7th removed


def test_a_merged_model_is_recomputed_by_key_only_when_every_change_is_known_by_key(project):
    step = {s.name: s for s in planner.plan_build(project, list(project.models.values())).steps}["learners"]
    before = {"int_day": "1", "int_runs": "r"}
    key = ("course_key", "learner_id")

    def decide(inputs, change_keys, previous="def", full_refresh=False):
        return planner.decide_merge(step, full_refresh, previous, before, "def", True, inputs, change_keys)

    assert decide(before, {}) == planner.Decision(False, "no input changed")
    by_key = decide({"int_day": "2", "int_runs": "r"}, {"int_day": key})
    assert by_key.recompute and by_key.keys_from == ("int_day",)
    # The keyed input changed but no model said which keys: whole.
    unknown = decide({"int_day": "2", "int_runs": "r"}, {})
    assert unknown.keys_from is None and unknown.why == "whole: int_day changed, not known by key"
    # An input read whole changed: whole.
    assert decide({"int_day": "1", "int_runs": "s"}, {"int_day": key}).why == "whole: int_runs changed, not known by key"
    assert decide(before, {}, previous=None).why == "whole: not built before"
    assert decide(before, {}, full_refresh=True).why == "whole: full refresh"


def test_the_planner_runs_without_duckdb():
    """Planning imports nothing that reads data: DuckDB is not loaded."""
    code = "import sys, idbx.models.planner; print('duckdb' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
