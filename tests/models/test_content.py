"""Content engagement: the course outline (course_axis), the chapter funnel and problem
engagement, on a hand-made structure and on edX's own fixtures (../shared/corpus). Expected rows
are derived by hand from the files (see the comments), never with the SQL under test."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from idbx.ingest.course_data import ingest_package
from idbx.ingest.events import ingest_events
from idbx.models.runner import build
from tests.models import content, tiny_lake
from tests.models.content import block
from tests.models.scenario import A

AXIS = (
    "course_index, url_name, block_type, display_name, depth, chapter_index, chapter_name, sequential_index, "
    "graded, format, due, video_duration"
)


def land_structure(lake, tmp_path: Path, structure: dict, name: str = "IDBx-RA-2016_T1") -> None:
    folder = tmp_path / "idbx-2016-07-04"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}-course_structure-prod-analytics.json").write_text(json.dumps(structure), encoding="utf-8")
    summary = ingest_package([folder], lake, snapshot_date=date(2016, 7, 4))
    assert not summary.failed, [f.error for f in summary.failed]


def test_the_outline_walks_the_structure_in_course_order(lake, tmp_path):
    land_structure(lake, tmp_path, content.STRUCTURE)
    summary = build(lake, select=["course_axis"])
    assert not summary.failed, [o.error for o in summary.failed]
    due = datetime(2016, 7, 15, 23, 59)
    # The file lists p2 first and the course third; the walk gives the course, then each chapter
    # with what it holds. Below s2 (graded Homework, due the 15th) every block inherits its grading.
    assert tiny_lake.rows(lake, f"SELECT {AXIS} FROM course_axis ORDER BY course_index") == [
        (1, "course", "course", "Curso A", 0, None, None, None, False, None, None, None),
        (2, "ch1", "chapter", "Intro", 1, 1, "Intro", None, False, None, None, None),
        (3, "s1", "sequential", "Bienvenida", 2, 1, "Intro", 1, False, None, None, None),
        (4, "u1", "vertical", "Unidad 1", 3, 1, "Intro", 1, False, None, None, None),
        (5, "v1", "video", "Video 1", 4, 1, "Intro", 1, False, None, None, 120.0),
        (6, "p1", "problem", "Ejercicio 1", 4, 1, "Intro", 1, False, None, None, None),
        (7, "ch2", "chapter", "Semana 1", 1, 2, "Semana 1", None, False, None, None, None),
        (8, "s2", "sequential", "Tarea", 2, 2, "Semana 1", 2, True, "Homework", due, None),
        (9, "u2", "vertical", "Unidad 2", 3, 2, "Semana 1", 2, True, "Homework", due, None),
        (10, "p2", "problem", "Ejercicio 2", 4, 2, "Semana 1", 2, True, "Homework", due, None),
        (11, "ch3", "chapter", "Examen", 1, 3, "Examen", None, False, None, None, None),
        (12, "s3", "sequential", "Examen final", 2, 3, "Examen", 3, True, "Exam", None, None),
    ]
    assert tiny_lake.rows(lake, "SELECT DISTINCT course_key, course_id, snapshot_date FROM course_axis") == [
        ("ra_2016_t1", A, date(2016, 7, 4))
    ]
    assert tiny_lake.rows(lake, "SELECT block_id, parent_id FROM course_axis WHERE url_name = 'p2'") == [
        (block("problem", "p2"), block("vertical", "u2"))
    ]


def test_the_rows_of_the_scenario_outline_are_the_parsers(lake, tmp_path):
    """The hand-written course_blocks rows the scenario lands are what the parser makes of STRUCTURE."""
    land_structure(lake, tmp_path, content.STRUCTURE)
    got = tiny_lake.rows(
        lake,
        "SELECT block_id, block_type, display_name, parent_id, position, depth, chapter_id, "
        "sequential_id, graded, format, due FROM course_blocks ORDER BY block_id",
    )
    want = sorted(
        (
            r["block_id"],
            r["block_type"],
            r["display_name"],
            r["parent_id"],
            r["position"],
            r["depth"],
            r["chapter_id"],
            r["sequential_id"],
            r["graded"],
            r["format"],
            datetime.fromisoformat(r["due"]) if r["due"] else None,
        )
        for r in content.blocks_rows()
    )
    assert got == want


def test_problems_and_answers_of_edx_problem_response_fixture(corpus, lake):
    """problem_response_tracking.log: 25 server problem_check events of scooby (user 6) and velma
    (user 8) on two courses that have no structure in the lake (the DemoX package has one)."""
    ingest_package([corpus / "package" / "edX-DemoX-Demo_Course"], lake, snapshot_date=date(2015, 11, 9))
    ingest_events([corpus / "events" / "problem_response_tracking.log"], lake, log_date=date(2016, 9, 7))
    summary = build(lake)
    assert not summary.failed, [o.error for o in summary.failed]
    # The DemoX structure is a fragment: one chapter whose only child the file does not hold.
    assert tiny_lake.rows(lake, f"SELECT {AXIS} FROM course_axis") == [
        (
            1,
            "1414ffd5143b4b508f739b563ab468b7",
            "chapter",
            "About Exams and Certificates",
            1,
            1,
            "About Exams and Certificates",
            None,
            False,
            None,
            None,
            None,
        )
    ]
    # The courses of the log have no outline, and the build says so.
    assert tiny_lake.rows(
        lake, "SELECT course_key, found, status FROM reconciliation WHERE check_name = 'course_outline' ORDER BY course_key"
    ) == [
        ("demox_demo_course", 1, "ok"),
        ("dndv2101x_2016", 0, "no structure"),
        ("dxb101x_2016_t2", 0, "no structure"),
        ("prdemo1_2016", 0, "no structure"),
        ("prdemo2_2016", 0, "no structure"),
        ("vd101x_2016", 0, "no structure"),
    ]
    assert ("course_outline", "no structure", 5) in summary.reconciliation
    # Per problem, by hand from the events (in time order):
    # PRDemo1 d2069…: scooby Germany (09-06), Germany, Russia (09-07), Germany (09-08), never right; velma
    #   Indonesia, right at once: 2 learners, 5 submissions, 1 right, half at the first try, 1 to be right.
    # 9ddba…: scooby potato (right) then apple; velma pumpkin then potato (right): 1 and 2 tries.
    # 8ea31…: scooby two wrong; velma Co-ed then National Central University (right).
    # a0e57… (Reflections): graded 1 of 1 but success "incorrect" both times: nobody right.
    # a9cf3…: scooby wrong, velma right. 7cb70…: velma Brazil then Indonesia. 8313a…: velma Alaska, right.
    # PRDemo2: velma 9ddba right; 8ea31 two wrong; a0e57 once; scooby a9cf3 wrong once.
    assert tiny_lake.rows(
        lake,
        """SELECT course_key, url_name, display_name, source, learners_attempted, attempts, learners_correct,
                                          first_attempt_correct_rate, mean_attempts_to_correct, correct_rate, course_index
                                   FROM problem_engagement ORDER BY course_key, url_name""",
    ) == [
        ("prdemo1_2016", "7cb701dffe9841c3adea9f40134744f9", "Multiple Choice", "events", 1, 2, 1, 0.0, 2.0, 1.0, None),
        (
            "prdemo1_2016",
            "8313adf80369439292ccb5935a69e535",
            "Text Input with Hints and Feedback",
            "events",
            1,
            1,
            1,
            1.0,
            1.0,
            1.0,
            None,
        ),
        ("prdemo1_2016", "8ea3115a1a2f463397de20b231b8caeb", "Text Input", "events", 2, 4, 1, 0.0, 2.0, 0.5, None),
        (
            "prdemo1_2016",
            "9ddba291e7d549bc96128f3accd34e80",
            "Multiple Choice with Hints and Feedback",
            "events",
            2,
            4,
            2,
            0.5,
            1.5,
            1.0,
            None,
        ),
        ("prdemo1_2016", "a0e5785dcf05453b868b0e0692a2dd6b", "Reflections", "events", 2, 2, 0, 0.0, None, 0.0, None),
        (
            "prdemo1_2016",
            "a9cf3850b4b5467a9c9e7ec91b9b9c70",
            "Checkboxes with Hints and Feedback",
            "events",
            2,
            2,
            1,
            0.5,
            1.0,
            0.5,
            None,
        ),
        ("prdemo1_2016", "d2069c02adc347318bc6e022705f2346", "Multiple Choice", "events", 2, 5, 1, 0.5, 1.0, 0.5, None),
        ("prdemo2_2016", "8ea3115a1a2f463397de20b231b8caeb", "Text Input", "events", 1, 2, 0, 0.0, None, 0.0, None),
        (
            "prdemo2_2016",
            "9ddba291e7d549bc96128f3accd34e80",
            "Multiple Choice with Hints and Feedback",
            "events",
            1,
            1,
            1,
            1.0,
            1.0,
            1.0,
            None,
        ),
        ("prdemo2_2016", "a0e5785dcf05453b868b0e0692a2dd6b", "Reflections", "events", 1, 1, 0, 0.0, None, 0.0, None),
        (
            "prdemo2_2016",
            "a9cf3850b4b5467a9c9e7ec91b9b9c70",
            "Checkboxes with Hints and Feedback",
            "events",
            1,
            1,
            0,
            0.0,
            None,
            0.0,
            None,
        ),
    ]
    # Answer distribution (edX's): each learner's first and last submission per problem. Choices are
    # grouped by their ids and shown as text with the hint markup stripped; typed answers as typed;
    # the custom-response Reflections is left out, as edX leaves it.
    assert tiny_lake.rows(
        lake,
        """SELECT right(problem_id, 6), value_key, value_id, answer_value, correct, first_response_count,
                                          last_response_count, response_type
                                   FROM problem_answer_distribution
                                   WHERE course_key = 'prdemo1_2016' AND right(problem_id, 6) IN ('5f2346', 'b8caeb', 'd34e80')
                                   ORDER BY 1, 2""",
    ) == [
        ("5f2346", "choice_germany", "choice_germany", "Germany", False, 1, 1, "multiplechoiceresponse"),
        ("5f2346", "choice_indonesia", "choice_indonesia", "Indonesia", True, 1, 1, "multiplechoiceresponse"),
        ("b8caeb", "Co-ed", "", "Co-ed", False, 1, 0, "stringresponse"),
        ("b8caeb", "National Central University", "", "National Central University", True, 0, 1, "stringresponse"),
        ("b8caeb", "School of the People's Revolution", "", "School of the People's Revolution", False, 0, 1, "stringresponse"),
        ("b8caeb", "School of the Revolution", "", "School of the Revolution", False, 1, 0, "stringresponse"),
        (
            "d34e80",
            "choice_0",
            "choice_0",
            "apple An apple is the fertilized ovary that comes from an apple tree and contains seeds, meaning it is a fruit.",
            False,
            0,
            1,
            "multiplechoiceresponse",
        ),
        (
            "d34e80",
            "choice_1",
            "choice_1",
            "pumpkin A pumpkin is the fertilized ovary of a squash plant and contains seeds, meaning it is a fruit.",
            False,
            1,
            0,
            "multiplechoiceresponse",
        ),
        (
            "d34e80",
            "choice_2",
            "choice_2",
            "potato A potato is an edible part of a plant in tuber form and is a vegetable.",
            True,
            1,
            1,
            "multiplechoiceresponse",
        ),
    ]
    assert tiny_lake.rows(
        lake,
        "SELECT value_key, first_response_count, last_response_count FROM problem_answer_distribution "
        "WHERE course_key = 'prdemo2_2016' AND right(problem_id, 6) = '9b9c70'",
    ) == [("[choice_3]", 1, 1)]
    assert tiny_lake.rows(lake, "SELECT count(*) FROM problem_answer_distribution WHERE response_type = 'customresponse'") == [
        (0,)
    ]
    # One row per part of the 25 submissions (each of one part), under the pseudonyms of users 6 and 8.
    assert tiny_lake.rows(
        lake,
        "SELECT count(*) FROM int__events__problem_responses WHERE learner_key IN "
        f"({tiny_lake.learner_key(6)}, {tiny_lake.learner_key(8)})",
    ) == [(25,)]


FUNNEL = (
    "url_name, f.block_type, f.display_name, f.course_index, f.chapter_index, f.sequential_index, learners, "
    "learners_from_events, learners_from_courseware, share_of_previous, share_of_first"
)


def test_the_chapter_funnel_of_the_scenario(built_scenario):
    """Course A: courseware rows of learner 1 (chapters ch1, ch2, ch3 and problem p1), learner 2
    (ch1) and learner 3 (video v1, in ch1's s1); the event of learner 1 on p1's xblock handler URL, on
    the 1st (its submission is no courseware URL: the funnel reads URLs only)."""
    got = tiny_lake.rows(
        built_scenario,
        f"""SELECT {FUNNEL} FROM chapter_funnel AS f JOIN course_axis USING (course_key, block_id)
                                            WHERE course_key = 'ra_2016_t1' ORDER BY f.course_index""",
    )
    assert got == [
        ("ch1", "chapter", "Intro", 2, 1, None, 3, 1, 3, None, 1.0),
        ("s1", "sequential", "Bienvenida", 3, 1, 1, 2, 1, 2, None, 1.0),
        ("ch2", "chapter", "Semana 1", 7, 2, None, 1, 0, 1, 1 / 3, 1 / 3),
        ("s2", "sequential", "Tarea", 8, 2, 2, 0, 0, 0, 0.0, 0.0),
        ("ch3", "chapter", "Examen", 11, 3, None, 1, 0, 1, 1.0, 1 / 3),
        ("s3", "sequential", "Examen final", 12, 3, 3, 0, 0, 0, None, 0.0),  # after none: no share
    ]
    assert tiny_lake.rows(built_scenario, "SELECT DISTINCT course_key FROM chapter_funnel") == [
        ("ra_2016_t1",)
    ]  # C has no outline
    assert tiny_lake.rows(
        built_scenario,
        f"""SELECT event_date, block_type, url_name, events FROM int__events__learner_block_day
                                             WHERE learner_key = {tiny_lake.learner_key(1)}""",
    ) == [(date(2016, 7, 1), "problem", "p1", 1)]
    # p1: learner 1's one wrong submission, placed in the outline.
    assert tiny_lake.rows(
        built_scenario,
        """SELECT url_name, display_name, course_index, chapter_index, chapter_name, sequential_index,
                                                    graded, source, learners_attempted, attempts, learners_correct,
                                                    first_attempt_correct_rate, mean_attempts_to_correct
                                             FROM problem_engagement""",
    ) == [("p1", "Ejercicio 1", 6, 1, "Intro", 1, False, "events", 1, 1, 0, 0.0, None)]
