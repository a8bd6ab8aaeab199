"""Incremental builds: only the event days new log files hold are recomputed, late events land on
their own day, the per-learner models recompute only the learners those days hold, and the result
is the full refresh's."""

from __future__ import annotations

import shutil
import signal
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from idbx import stopping
from idbx.errors import Interrupted
from idbx.lake.store import Lake
from idbx.models.runner import BUILT, UNCHANGED, build
from tests.conftest import copy_lake
from tests.models import scenario, tiny_lake
from tests.models.scenario import ev, t

DAILY = "int__events__learner_course_day"
MERGED = ("int__enrollment__learner_states", "person_course")


def merged(keys: int) -> str:
    return f"recomputed {keys} [course_key, learner_key] value(s), kept the other rows"


def partition_times(lake: Lake) -> dict[str, int]:
    folder = lake.silver / DAILY
    return {p.parent.name: p.stat().st_mtime_ns for p in folder.glob("event_date=*/data.parquet")}


def snapshot(lake: Lake) -> dict[str, list[tuple]]:
    """Every silver and mart table, rows sorted, without the build's bookkeeping: the rows a merge
    kept keep the computed_at and data_through of the build that computed them."""
    tables = {}
    with duckdb.connect(str(lake.catalog_path), read_only=True) as con:
        for (name,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall():
            if (lake.silver / name).is_dir() or (lake.marts / name).is_dir():
                described = con.execute(f'SELECT column_name FROM (DESCRIBE "{name}")').fetchall()
                columns = [c for (c,) in described if c not in ("computed_at", "data_through")]
                select = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in columns)
                tables[name] = sorted(con.execute(f'SELECT {select} FROM "{name}"').fetchall(), key=repr)
    return tables


@pytest.fixture(scope="module")
def scenario_built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, Path]:
    """The scenario written and built once for the module (read-only: each test takes a copy)."""
    root = tmp_path_factory.mktemp("incremental-scenario")
    lake = Lake(root / "lake")
    registry = scenario.write(lake, root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IDBX_PSEUDONYM_KEY", tiny_lake.KEY)
        assert not build(lake, registry_path=registry).failed
    return lake, registry


@pytest.fixture
def scenario_lake(scenario_built: tuple[Lake, Path], tmp_path: Path) -> tuple[Lake, Path]:
    """A copy of the built scenario for the test to change (file times kept: the build's state
    recognises its event files by size and time, as in the lake it built)."""
    built, registry = scenario_built
    return copy_lake(built, tmp_path), registry


def full_refresh_copy(lake: Lake, registry: Path, where: Path) -> Lake:
    shutil.copytree(lake.root, where)
    copy = Lake(where)
    assert not build(copy, registry_path=registry, full_refresh=True).failed
    return copy


def course_files(lake: Lake, mart: str) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in (lake.marts / mart).glob("course_key=*/data.parquet")}


def test_a_merged_model_rewrites_only_the_courses_whose_keys_changed(scenario_lake, tmp_path):
    lake, registry = scenario_lake
    before = course_files(lake, "person_course")
    assert {"course_key=ra_2016_t1", "course_key=rc_2016_t1"} <= set(before)
    assert not (lake.marts / "person_course" / "data.parquet").exists()
    computed_at = tiny_lake.rows(lake, "SELECT DISTINCT computed_at FROM person_course WHERE course_key = 'rc_2016_t1'")
    tiny_lake.events(lake, date(2016, 7, 7), [ev(4, "play_video", t(7, 8, 0))])  # course A: ra_2016_t1
    summary = build(lake, registry_path=registry)
    assert summary.outcome("person_course").notes == [merged(1)]
    after = course_files(lake, "person_course")
    assert {name for name in after if after[name] != before.get(name)} == {"course_key=ra_2016_t1"}
    # The other courses' rows are as the first build wrote them, its computed_at included.
    assert tiny_lake.rows(lake, "SELECT DISTINCT computed_at FROM person_course WHERE course_key = 'rc_2016_t1'") == computed_at
    assert snapshot(lake) == snapshot(full_refresh_copy(lake, registry, tmp_path / "full"))


def test_models_built_side_by_side_give_what_one_at_a_time_gives(scenario_lake, tmp_path, monkeypatch):
    """A late day built incrementally on two lanes (the default), and the lake built again from
    nothing one model at a time: the same rows."""
    lake, registry = scenario_lake
    tiny_lake.events(
        lake, date(2016, 7, 7), [ev(2, "play_video", t(7, 8, 0)), ev(4, "problem_check", t(2, 20, 0), source="server")]
    )
    assert not build(lake, registry_path=registry).failed
    monkeypatch.setenv("IDBX_BUILD_LANES", "1")
    assert snapshot(lake) == snapshot(full_refresh_copy(lake, registry, tmp_path / "one-at-a-time"))


def test_a_merged_model_written_as_one_file_by_an_earlier_version_is_rewritten_per_course(scenario_lake):
    lake, registry = scenario_lake
    folder = lake.marts / "person_course"
    rows = tiny_lake.rows(lake, "SELECT * EXCLUDE (computed_at) FROM person_course ORDER BY ALL")
    with duckdb.connect() as con:  # the layout before: one data.parquet
        con.execute(f"COPY (SELECT * FROM read_parquet('{folder}/*/data.parquet')) TO '{folder}/data.parquet' (FORMAT parquet)")
    for leftover in [*folder.glob("course_key=*"), folder / "_schema.parquet"]:
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    summary = build(lake, registry_path=registry)
    assert summary.outcome("person_course").status == BUILT
    assert not (folder / "data.parquet").exists() and course_files(lake, "person_course")
    assert tiny_lake.rows(lake, "SELECT * EXCLUDE (computed_at) FROM person_course ORDER BY ALL") == rows


def test_a_late_event_updates_its_own_day_and_nothing_else(scenario_lake, tmp_path):
    lake, registry = scenario_lake
    before = partition_times(lake)
    assert build(lake, registry_path=registry).outcome(DAILY).status == UNCHANGED  # nothing new: nothing recomputed
    assert partition_times(lake) == before
    # The log of the 7th holds an event of the 7th and a late one of the 2nd (a mobile client).
    tiny_lake.events(
        lake,
        date(2016, 7, 7),
        [
            ev(4, "play_video", t(7, 8, 0)),
            ev(4, "problem_check", t(2, 20, 0), source="server"),
        ],
    )
    summary = build(lake, registry_path=registry)
    daily = summary.outcome(DAILY)
    assert daily.status == BUILT and daily.notes == [
        "recomputed 2 event day(s) of 1 learner(s): 2 partition(s) written, 0 removed"
    ]
    # Per log day: only the new file is counted.
    assert summary.outcome("int__lake__event_file_rows").notes == ["recomputed 1 log day(s): 1 partition(s) written, 0 removed"]
    after = partition_times(lake)
    assert {day for day in after if after[day] != before.get(day)} == {"event_date=2016-07-02", "event_date=2016-07-07"}
    got = tiny_lake.rows(
        lake,
        f"SELECT event_date, nproblem_check FROM {DAILY} WHERE learner_key = {tiny_lake.learner_key(4)} "
        "AND course_key = 'ra_2016_t1' ORDER BY 1",
    )
    assert got == [(date(2016, 7, 2), 1), (date(2016, 7, 3), 0), (date(2016, 7, 7), 0)]
    assert tiny_lake.rows(lake, "SELECT max(date) FROM activity_daily") == [(date(2016, 7, 7),)]
    # Per learner: only learner 4's rows of the 2nd and the 7th changed (not learner 1's or 5's of the
    # 2nd, recomputed with the day); no enrollment event changed.
    assert summary.outcome("int__enrollment__learner_states").notes == [merged(0)]
    assert summary.outcome("person_course").notes == [merged(1)]
    assert tiny_lake.rows(
        lake,
        f"SELECT nevents, nproblem_check, ndays_act FROM person_course WHERE learner_id = '{tiny_lake.pseudonym(4)}'"
        " AND course_key = 'ra_2016_t1'",
    ) == [(3, 1, 3)]
    # Incremental = full refresh, table by table.
    assert snapshot(lake) == snapshot(full_refresh_copy(lake, registry, tmp_path / "full"))


def test_a_late_event_recomputes_its_learner_of_the_day_and_keeps_the_other_rows(scenario_lake, tmp_path):
    """The 3rd holds events of learners 2, 4 and 5 in course A, and of courses B and C. A later log
    brings one more event of learner 4 in A on the 3rd and one of no course: the models by learner
    recompute learner 4's rows of the 3rd (in A and in no course), those by course A's and no
    course's; the other rows of the 3rd are kept as they were, and every table is the full
    refresh's."""
    lake, registry = scenario_lake
    others = (
        f"SELECT * FROM {DAILY} WHERE event_date = DATE '2016-07-03' "
        f"AND NOT (course_key = 'ra_2016_t1' AND learner_key = {tiny_lake.learner_key(4)}) ORDER BY ALL"
    )
    kept = tiny_lake.rows(lake, others)
    assert {row[0] for row in kept} == {"ra_2016_t1", "rb_2016_t1", "rc_2016_t1"}
    course_days = "SELECT * FROM int__events__course_day WHERE event_date = DATE '2016-07-03' AND course_key <> 'ra_2016_t1'"
    kept_courses = tiny_lake.rows(lake, course_days)
    assert len(kept_courses) == 2
    tiny_lake.events(lake, date(2016, 7, 8), [ev(4, "play_video", t(3, 19, 0)), ev(4, "seq_goto", t(3, 19, 5), course=None)])
    summary = build(lake, registry_path=registry)
    # learner 4 in course A and in no course; per course, A and no course
    assert summary.outcome(DAILY).notes == ["recomputed 1 event day(s) of 2 learner(s): 1 partition(s) written, 0 removed"]
    course_day = summary.outcome("int__events__course_day").notes
    assert course_day == ["recomputed 1 event day(s) of 2 course(s): 1 partition(s) written, 0 removed"]
    # the video model numbers every course's videos in one window: every course of the day again
    assert summary.outcome("int__events__learner_video_viewings_day").notes[0].startswith("recomputed 1 event day(s):")
    assert tiny_lake.rows(lake, others) == kept
    assert tiny_lake.rows(lake, course_days) == kept_courses
    assert tiny_lake.rows(
        lake,
        f"SELECT nplay_video FROM {DAILY} WHERE learner_key = {tiny_lake.learner_key(4)} AND event_date = DATE '2016-07-03'",
    ) == [(2,)]
    assert snapshot(lake) == snapshot(full_refresh_copy(lake, registry, tmp_path / "full"))


def test_replaced_and_removed_log_files(scenario_lake, tmp_path):
    lake, registry = scenario_lake
    # The 2nd is delivered again with one event fewer; the 6th disappears.
    tiny_lake.events(lake, date(2016, 7, 2), scenario.DAY_2[:1])
    shutil.rmtree(lake.partition_dir("events", log_date="2016-07-06"))
    summary = build(lake, registry_path=registry)
    assert summary.outcome(DAILY).notes == ["recomputed 2 event day(s): 1 partition(s) written, 1 removed"]
    assert summary.outcome("int__lake__event_file_rows").notes == ["recomputed 2 log day(s): 1 partition(s) written, 1 removed"]
    assert not (lake.silver / DAILY / "event_date=2016-07-06").exists()
    assert tiny_lake.rows(lake, "SELECT max(date) FROM activity_daily") == [(date(2016, 7, 3),)]
    assert snapshot(lake) == snapshot(full_refresh_copy(lake, registry, tmp_path / "full"))


def test_a_learner_whose_events_are_withdrawn_leaves_the_per_learner_tables(scenario_lake, tmp_path):
    """The log of the 3rd is delivered again without learner 6's only event (course C): person_course
    recomputes that learner alone and keeps the enrollment, with no activity."""
    lake, registry = scenario_lake
    learner = tiny_lake.pseudonym(6)
    assert tiny_lake.rows(lake, f"SELECT nevents FROM person_course WHERE learner_id = '{learner}'") == [(1,)]
    tiny_lake.events(lake, date(2016, 7, 3), [e for e in scenario.DAY_3 if e["user_id"] != 6])
    summary = build(lake, registry_path=registry)
    assert summary.outcome("person_course").notes == [merged(1)]
    assert tiny_lake.rows(lake, f"SELECT count(*) FROM {DAILY} WHERE learner_key = {tiny_lake.learner_key(6)}") == [(0,)]
    assert tiny_lake.rows(lake, f"SELECT enrolled, nevents, ndays_act FROM person_course WHERE learner_id = '{learner}'") == [
        (True, 0, 0)
    ]
    assert snapshot(lake) == snapshot(full_refresh_copy(lake, registry, tmp_path / "full"))


class Stopped(Exception):
    pass


def test_a_build_stopped_between_an_aggregate_and_the_learners_recomputes_them_whole(scenario_lake, tmp_path):
    """Stopped after the day aggregates were rewritten and before the per-learner models were, the
    next build cannot know which learners changed: it recomputes those models whole."""
    lake, registry = scenario_lake
    tiny_lake.events(
        lake, date(2016, 7, 7), [ev(2, "play_video", t(7, 8, 0)), ev(4, "problem_check", t(2, 20, 0), source="server")]
    )

    def stop_after_the_aggregate(outcome):
        if outcome.name == DAILY:
            raise Stopped

    with pytest.raises(Stopped):
        build(lake, registry_path=registry, on_model=stop_after_the_aggregate)
    summary = build(lake, registry_path=registry)
    assert summary.outcome(DAILY).status == BUILT  # its state was not saved either: the same days again
    for name in MERGED:  # whole: no note, or why (one built before the stop was not sealed)
        notes = summary.outcome(name).notes
        assert summary.outcome(name).status == BUILT and all(note.startswith("recomputed whole: ") for note in notes), name
    assert snapshot(lake) == snapshot(full_refresh_copy(lake, registry, tmp_path / "full"))


def test_a_build_stopped_by_a_signal_keeps_the_models_it_built(scenario_lake, tmp_path):
    """SIGTERM while a build runs: no model starts after it, and what was built before is kept
    (the next build does not do it again)."""
    lake, registry = scenario_lake
    tiny_lake.events(lake, date(2016, 7, 7), [ev(2, "play_video", t(7, 8, 0))])

    def stop_after_the_aggregate(outcome):
        if outcome.name == DAILY:
            stopping.request_stop(signal.SIGTERM)

    seen = []
    try:
        with stopping.stop_on_signals(), pytest.raises(Interrupted):
            build(lake, registry_path=registry, on_model=lambda o: (seen.append(o.name), stop_after_the_aggregate(o)))
    finally:
        with stopping.stop_on_signals():  # the request is this test's only
            pass
    assert DAILY in seen and "person_course" not in seen
    summary = build(lake, registry_path=registry)
    assert summary.outcome(DAILY).status == UNCHANGED
    assert summary.outcome("person_course").status == BUILT
    assert snapshot(lake) == snapshot(full_refresh_copy(lake, registry, tmp_path / "full"))


def test_another_key_recomputes_every_day(scenario_lake, monkeypatch):
    lake, registry = scenario_lake
    monkeypatch.setenv("IDBX_PSEUDONYM_KEY", "another-key-of-enough-length")
    summary = build(lake, registry_path=registry, rekey=True)
    assert summary.outcome(DAILY).notes[0].startswith("recomputed every event day")
    ids = {row[0] for row in tiny_lake.rows(lake, "SELECT learner_id FROM person_course")}
    assert tiny_lake.pseudonym(1, "another-key-of-enough-length") in ids and tiny_lake.pseudonym(1) not in ids


def test_a_day_of_events_from_a_log_file_named_otherwise(scenario_lake, tmp_path):
    """Event files are read as `log_date=D/*.parquet`: one file per source file works too."""
    lake, registry = scenario_lake
    tiny_lake.events(
        lake, date(2016, 7, 3), [ev(2, "play_video", datetime(2016, 7, 3, 20, 0))], file_name="second-source.parquet"
    )
    summary = build(lake, registry_path=registry)
    assert summary.outcome(DAILY).notes == ["recomputed 1 event day(s) of 1 learner(s): 1 partition(s) written, 0 removed"]
    assert tiny_lake.rows(
        lake, f"SELECT nplay_video FROM {DAILY} WHERE learner_key = {tiny_lake.learner_key(2)} AND event_date = DATE '2016-07-03'"
    ) == [(1,)]
    assert snapshot(lake) == snapshot(full_refresh_copy(lake, registry, tmp_path / "full"))


# what of those days each recomputes: learners 4 and 2, course A, every course (one numbering of every video)
ENGAGEMENT_SCOPES = {
    "int__events__learner_engagement_day": " of 2 learner(s)",
    "int__events__forum_votes_received_day": " of 1 course(s)",
    "int__events__learner_video_viewings_day": "",
}
# day partitions written by the late log (the 2nd and the 7th; the vote is of the 2nd only)
ENGAGEMENT_DAYS = {
    "int__events__learner_engagement_day": 2,
    "int__events__forum_votes_received_day": 1,
    "int__events__learner_video_viewings_day": 2,
}


def test_engagement_and_video_models_take_late_and_withdrawn_events(scenario_lake, tmp_path):
    """A late log brings a viewing, a problem check, a forum vote and a subsection page of the 2nd
    and a viewing of the 7th; then that log is withdrawn. Each time only those days are
    recomputed, and every engagement and video table is the full refresh's."""
    lake, registry = scenario_lake
    video = {"id": "v1", "duration": 100}
    tiny_lake.events(
        lake,
        date(2016, 7, 7),
        [
            ev(4, "play_video", t(2, 20, 0), event={**video, "currentTime": 10}),
            ev(4, "pause_video", t(2, 20, 1), event={**video, "currentTime": 22}),
            ev(4, "problem_check", t(2, 20, 2), source="server", event={"problem_id": "p1", "success": "correct"}),
            ev(
                4,
                "edx.forum.thread.voted",
                t(2, 20, 3),
                source="server",
                event={"vote_value": "up", "target_username": "learner2"},
            ),
            ev(4, f"/courses/{scenario.A}/courseware/ch1/seq1/", t(2, 20, 4), source="server", event={"GET": {}}),
            ev(2, "play_video", t(7, 8, 0), event={**video, "currentTime": 0}),
            ev(2, "stop_video", t(7, 8, 2), event={**video, "currentTime": 100}),
        ],
    )
    summary = build(lake, registry_path=registry)
    for name, written in ENGAGEMENT_DAYS.items():
        scope = "2 event day(s)" + ENGAGEMENT_SCOPES[name]
        assert summary.outcome(name).notes == [f"recomputed {scope}: {written} partition(s) written, 0 removed"], name
    assert summary.outcome("int__engagement__learner_totals").notes == [merged(2)]  # learners 4 and 2 alone
    usage = summary.outcome("int__videos__segment_usage").notes  # merged by video: v1 alone
    assert usage == ["recomputed 1 [course_key, video_id] value(s), kept the other rows"]
    # learner 4: 10 -> 22 (segments 2-4); learner 2: 0 -> 100 (0-20; the end segment, of 95 s, is 19)
    assert tiny_lake.rows(lake, "SELECT duration, users_at_start, users_at_end, total_viewed_seconds FROM video_engagement") == [
        (100, 1, 1, (3 + 21) * 5)
    ]
    assert tiny_lake.rows(lake, "SELECT segment, num_users FROM video_segments WHERE segment BETWEEN 1 AND 5 ORDER BY 1") == [
        (1, 1),
        (2, 2),
        (3, 2),
        (4, 2),
        (5, 1),
    ]
    engaged = f"""SELECT learner_id, problems_attempted, problems_correct, videos_played, forum_upvotes_given,
                         forum_upvotes_received, last_subsection_viewed FROM learner_engagement
                  WHERE course_key = 'ra_2016_t1' AND learner_id IN ('{tiny_lake.pseudonym(2)}', '{tiny_lake.pseudonym(4)}')"""
    assert sorted(tiny_lake.rows(lake, engaged)) == sorted(
        [
            (tiny_lake.pseudonym(4), 1, 1, 1, 1, 0, f"/courses/{scenario.A}/courseware/ch1/seq1/"),
            (tiny_lake.pseudonym(2), 0, 0, 1, 0, 1, ""),
        ]
    )
    assert snapshot(lake) == snapshot(full_refresh_copy(lake, registry, tmp_path / "full"))
    shutil.rmtree(lake.partition_dir("events", log_date="2016-07-07"))
    summary = build(lake, registry_path=registry)
    # the 2nd keeps learner 5's enrolment event (a day of activity), nothing of video
    assert summary.outcome("int__events__learner_engagement_day").notes == [
        "recomputed 2 event day(s): 1 partition(s) written, 1 removed"
    ]
    assert summary.outcome("int__events__learner_video_viewings_day").notes == [
        "recomputed 2 event day(s): 0 partition(s) written, 2 removed"
    ]
    assert tiny_lake.rows(lake, "SELECT count(*) FROM video_segments") == [(0,)]
    assert snapshot(lake) == snapshot(full_refresh_copy(lake, registry, tmp_path / "full2"))


def test_late_problem_and_courseware_events_update_the_content_marts(scenario_lake, tmp_path):
    """The log of the 7th holds learner 1's second, right submission of p1, a late right one of
    learner 2 (of the 2nd) and learner 2's visit to chapter ch2's subsection s2 (tests/models/content.py)."""
    lake, registry = scenario_lake
    right = {
        **scenario.P1_WRONG,
        "success": "correct",
        "grade": 1,
        "answers": {"p1_2_1": "choice_2"},
        "submission": {"p1_2_1": {**scenario.P1_WRONG["submission"]["p1_2_1"], "answer": "Azul", "correct": True}},
    }
    tiny_lake.events(
        lake,
        date(2016, 7, 7),
        [
            ev(1, "problem_check", t(7, 9, 0), source="server", event={**right, "attempts": 2}),
            ev(2, "problem_check", t(2, 21, 0), source="server", event=right),
            ev(
                2,
                f"/courses/{scenario.A}/xblock/{scenario.P1}/handler/xmodule_handler/problem_check",
                t(2, 21, 0),
                source="server",
            ),
            ev(2, f"/courses/{scenario.A}/courseware/ch2/s2/", t(7, 10, 0), source="server"),
            scenario.enrollment(8, "activated", t(7, 11, 0), "honor"),  # after the table's snapshot (the 4th)
            ev(
                3, "problem_check", t(7, 12, 0), source="server", event={"problem_id": scenario.P1, "success": "correct"}
            ),  # no parts
        ],
    )
    summary = build(lake, registry_path=registry)
    # learners 1, 2, 3 and 8 (an enrolment event: no rows of theirs) in course A
    for name in ("int__events__problem_responses", "int__events__learner_block_day"):
        notes = summary.outcome(name).notes
        assert notes == ["recomputed 2 event day(s) of 4 learner(s): 2 partition(s) written, 0 removed"], name
    # p1: learner 1 wrong then right (2 tries), learners 2 and 3 right at once (3's submission names no part:
    # an attempt all the same, but no answer to count).
    assert tiny_lake.rows(
        lake,
        "SELECT learners_attempted, attempts, learners_correct, first_attempt_correct_rate, "
        "mean_attempts_to_correct FROM problem_engagement",
    ) == [(3, 4, 3, 2 / 3, 4 / 3)]
    assert tiny_lake.rows(
        lake,
        "SELECT value_key, answer_value, correct, first_response_count, last_response_count "
        "FROM problem_answer_distribution ORDER BY 1",
    ) == [("choice_1", "Rojo", False, 1, 0), ("choice_2", "Azul", True, 1, 2)]
    # ch1 is now reached by learner 2 in the events too (p1's handler URL, late); ch2 by learner 1
    # (courseware) and now learner 2 (events); s2 by learner 2.
    assert tiny_lake.rows(
        lake,
        "SELECT display_name, learners, learners_from_events FROM chapter_funnel "
        "WHERE block_type = 'chapter' OR display_name = 'Tarea' ORDER BY course_index",
    ) == [("Intro", 3, 2), ("Semana 1", 2, 1), ("Tarea", 1, 1), ("Examen", 1, 0)]
    assert summary.outcome("int__content__learner_units").notes == [merged(1)]  # learner 2 alone
    assert summary.outcome("int__problems__learner_parts").notes == [merged(3)]  # learners 1, 2 and 3 submitted p1
    # Learner 8, enrolled by the events after the snapshot, joins the table's honor learner (learner 1).
    assert tiny_lake.rows(
        lake,
        "SELECT date, enrolled, source FROM enrollment_timeline WHERE course_key = 'ra_2016_t1' "
        "AND mode = 'honor' AND date >= DATE '2016-07-06' ORDER BY 1",
    ) == [(date(2016, 7, 6), 1, "table and events"), (date(2016, 7, 7), 2, "table and events")]
    assert snapshot(lake) == snapshot(full_refresh_copy(lake, registry, tmp_path / "full"))
    # The 7th withdrawn: back to the scenario's rows.
    shutil.rmtree(lake.partition_dir("events", log_date="2016-07-07"))
    build(lake, registry_path=registry)
    assert tiny_lake.rows(lake, "SELECT learners_attempted, attempts FROM problem_engagement") == [(1, 1)]
    assert snapshot(lake) == snapshot(full_refresh_copy(lake, registry, tmp_path / "full-after"))
