"""Every mart against the hand-counted scenario (tests/models/scenario.py)."""

from __future__ import annotations

from datetime import date, datetime

from idbx.lake.store import Lake
from tests.models import tiny_lake
from tests.models.tiny_lake import pseudonym

RA, RC = "ra_2016_t1", "rc_2016_t1"


def q(lake: Lake, sql: str) -> list[tuple]:
    return tiny_lake.rows(lake, sql)


def test_course_report_counts_as_the_predecessor_meant(built_scenario):
    got = q(
        built_scenario,
        """SELECT course_key, registered, name, passing_grade, snapshot_date, users_total, enrollments_active,
                             users_active, certificates_failed, certificates_approved, certificates_certified, male, female,
                             countries_count
                      FROM course_report ORDER BY course_key""",
    )
    assert got == [
        # 5 enrollments (one unenrolled), 3 learners with courseware rows, certificates: 1 notpassing,
        # 2 at or above 0.7 (0.9 and exactly 0.7; 0.69 is not), 2 downloadable; genders m, f, '' (dropped), m.
        (RA, True, "Curso A", 0.7, date(2016, 7, 4), 5, 4, 3, 1, 2, 2, 2, 1, 2),
        # Not in the registry: reported, with empty metadata and the default passing grade; no certificates.
        (RC, False, None, 0.65, date(2016, 7, 4), 2, 2, 0, 0, 0, 0, 0, 0, 0),
    ]


def test_course_report_breakdowns_drop_empty_values(built_scenario):
    ((gender, education, countries),) = q(
        built_scenario, f"SELECT gender, education, countries FROM course_report WHERE course_key = '{RA}'"
    )
    assert gender == {"f": 1, "m": 2}
    assert education == {"b": 2, "m": 1}  # the text NULL of learner 3 is dropped
    assert countries == {
        "CO": {"total": 1, "gender": {}, "education": {}, "birth": {}},
        "MX": {"total": 2, "gender": {"f": 1, "m": 1}, "education": {"b": 1, "m": 1}, "birth": {"1980": 1, "1990": 1}},
    }


def test_excluded_courses_are_left_out_of_every_mart(built_scenario):
    marts = [
        "course_report",
        "general_report",
        "masterfile",
        "person_course",
        "activity_daily",
        "weekly_active",
        "enrollment_daily",
        "course_demographics",
        "active_users_report",
        "course_axis",
        "chapter_funnel",
        "problem_engagement",
        "problem_answer_distribution",
        "enrollment_timeline",
    ]
    for mart in marts:
        key = "id" if mart == "general_report" else "course_key"
        assert q(built_scenario, f"SELECT count(*) FROM {mart} WHERE {key} = 'rb_2016_t1'") == [(0,)], mart
    assert q(built_scenario, "SELECT count(*) FROM enrollments_report WHERE mooc_id = 'rb_2016_t1'") == [(0,)]
    # ... but the lake keeps its data below the marts.
    assert q(built_scenario, "SELECT count(*) FROM int__events__learner_course_day WHERE course_key = 'rb_2016_t1'") == [(1,)]
    assert q(built_scenario, "SELECT count(*) FROM course_blocks WHERE course_key = 'rb_2016_t1'") == [(1,)]


def test_general_report_has_the_predecessor_columns(built_scenario):
    got = q(
        built_scenario,
        f"SELECT * EXCLUDE (course_id, registered, enrollments_active, snapshot_date, computed_at, data_through, "
        f"definitions_version) FROM general_report WHERE id = '{RA}'",
    )
    assert got == [(RA, "Curso A", "SCL, SPH", date(2016, 6, 1), date(2016, 7, 31), 5, 3, 2, 2, 1, 2, 1, 2)]


def test_enrollments_report_keeps_learners_without_a_profile(built_scenario):
    got = q(
        built_scenario,
        f"SELECT learner_id, gender, country, mode, is_active FROM enrollments_report WHERE mooc_id = '{RA}' "
        "ORDER BY registration_date",
    )
    assert got == [
        (pseudonym(1), "m", "MX", "honor", True),
        (pseudonym(2), "f", "MX", "audit", True),
        (pseudonym(3), None, "CO", "verified", True),
        (pseudonym(4), "m", None, "audit", True),
        (pseudonym(5), None, None, "audit", False),
    ]


def test_masterfile_and_active_users(built_scenario):
    got = q(
        built_scenario,
        f"SELECT learner_id, progress, grade, certificate_status, certificate_mode, course_name FROM masterfile "
        f"WHERE course_key = '{RA}' ORDER BY enrolled_at",
    )
    assert got == [
        (pseudonym(1), 4, 0.9, "downloadable", "verified", "Curso A"),
        (pseudonym(2), 1, 0.5, "notpassing", "honor", "Curso A"),
        (pseudonym(3), 1, 0.7, "downloadable", "honor", "Curso A"),
        (pseudonym(4), 0, 0.69, "audit_passing", "audit", "Curso A"),
        (pseudonym(5), 0, None, None, None, "Curso A"),
    ]
    got = q(
        built_scenario,
        "SELECT course_key, learner_id, repetitions, certificate_status FROM active_users_report "
        "ORDER BY repetitions DESC, learner_id",
    )
    assert got == [(RA, pseudonym(1), 4, "downloadable")] + sorted(
        [(RA, pseudonym(2), 1, "notpassing"), (RA, pseudonym(3), 1, "downloadable")], key=lambda row: row[1]
    )


PERSON_COLUMNS = (
    "learner_id, enrolled, is_active, mode, viewed, nchapters, explored, certified, completed, grade, "
    "nevents, ndays_act, first_event, last_event, nplay_video, npause_video, nseek_video, nproblem_check, "
    "nshow_answer, nseq_goto, nforum_events, nforum_posts, sum_dt, gender, year_of_birth, level_of_education, "
    "country, unenrolled_at"
)


def test_person_course(built_scenario):
    got = {row[0]: row[1:] for row in q(built_scenario, f"SELECT {PERSON_COLUMNS} FROM person_course WHERE course_key = '{RA}'")}
    assert set(got) == {pseudonym(n) for n in (1, 2, 3, 4, 5)}
    # Learner 1: 3 of the 3 chapters seen in the course (explored: at least 1.5); 6 counted events on
    # the 1st (the /xblock/ one is not) and 1 on the 2nd; sum_dt = 60 + 120 + 0 on the 1st, plus
    # the 180 s from 23:58 to 00:01 across midnight.
    assert got[pseudonym(1)] == (
        True,
        True,
        "honor",
        True,
        3,
        True,
        True,
        True,
        0.9,
        7,
        2,
        datetime(2016, 7, 1, 10, 0),
        datetime(2016, 7, 2, 0, 1),
        1,
        1,
        1,
        1,
        1,
        1,
        0,
        0,
        360.0,
        "m",
        1980,
        "b",
        "MX",
        None,
    )
    # Learner 2: one chapter (not explored), failed; a task event and a forum thread.
    assert got[pseudonym(2)] == (
        True,
        True,
        "audit",
        True,
        1,
        False,
        False,
        False,
        0.5,
        2,
        2,
        datetime(2016, 7, 1, 12, 0),
        datetime(2016, 7, 3, 9, 0),
        0,
        0,
        0,
        0,
        0,
        0,
        1,
        1,
        0.0,
        "f",
        1990,
        "m",
        "MX",
        None,
    )
    # Learner 3: no chapter row; grade exactly the passing grade, certified; an enrollment event and a play.
    assert got[pseudonym(3)][:11] == (True, True, "verified", False, 0, False, True, True, 0.7, 2, 2)
    assert got[pseudonym(3)][22:26] == (None, None, None, "CO")
    # Learner 4: audit_passing below the passing grade: neither certified nor completed; a mobile play.
    assert got[pseudonym(4)][:11] == (True, True, "audit", False, 0, False, False, False, 0.69, 1, 1)
    assert got[pseudonym(4)][13] == 1
    # Learner 5: no profile; the snapshot says unenrolled (it wins over the events, which re-enrolled them).
    assert got[pseudonym(5)][:11] == (True, False, "audit", False, 0, False, False, False, None, 4, 3)
    assert got[pseudonym(5)][22:27] == (None, None, None, None, None)


def test_person_course_of_a_course_without_certificates_or_profiles(built_scenario):
    got = q(
        built_scenario,
        f"SELECT learner_id, certified, completed, grade, nplay_video, gender FROM person_course "
        f"WHERE course_key = '{RC}' ORDER BY nplay_video",
    )
    assert got == [(pseudonym(1), False, False, None, 0, None), (pseudonym(6), False, False, None, 1, None)]


def test_activity_daily_has_every_day_zeros_included(built_scenario):
    got = q(
        built_scenario,
        f"SELECT date, active_learners, events, video_plays, video_learners, problem_checks, problem_learners, "
        f"forum_posts FROM activity_daily WHERE course_key = '{RA}' ORDER BY date",
    )
    assert got == [
        # 1st: learner 1 active (the task event of 2 and the enrollment events of 3 and 5 are not);
        # counted events: 6 of learner 1, 1 of 2, 2 of 5, 1 of 3. The ghost (no user id) is not a learner.
        (date(2016, 7, 1), 1, 10, 1, 1, 1, 1, 0),
        (date(2016, 7, 2), 1, 2, 0, 0, 0, 0, 0),
        (date(2016, 7, 3), 2, 3, 1, 1, 0, 0, 1),
        (date(2016, 7, 4), 0, 0, 0, 0, 0, 0, 0),
        (date(2016, 7, 5), 0, 0, 0, 0, 0, 0, 0),
        (date(2016, 7, 6), 1, 1, 1, 1, 0, 0, 0),
    ]


def test_weekly_active_uses_edx_labels(built_scenario):
    got = q(
        built_scenario,
        f"SELECT week_start, label, learners FROM weekly_active WHERE course_key = '{RA}' ORDER BY week_start, label",
    )
    assert got == [
        (date(2016, 6, 27), "ACTIVE", 3),  # learners 1, 2 (forum), 4 (mobile)
        (date(2016, 6, 27), "ATTEMPTED_PROBLEM", 1),  # the server problem_check of learner 1
        (date(2016, 6, 27), "PLAYED_VIDEO", 2),  # learner 1 (browser) and 4 (mobile)
        (date(2016, 6, 27), "POSTED_FORUM", 1),
        (date(2016, 7, 4), "ACTIVE", 1),
        (date(2016, 7, 4), "ATTEMPTED_PROBLEM", 0),
        (date(2016, 7, 4), "PLAYED_VIDEO", 1),
        (date(2016, 7, 4), "POSTED_FORUM", 0),
    ]


def test_enrollment_daily_follows_each_learner(built_scenario):
    got = q(
        built_scenario,
        f"SELECT date, mode, enrolled, cumulative, activations, deactivations FROM enrollment_daily "
        f"WHERE course_key = '{RA}' ORDER BY date, mode",
    )
    assert got == [
        # Learner 5 enrolls in audit, unenrolls the same day, re-enrolls on the 2nd and upgrades to
        # verified on the 3rd; learner 3 enrolls in verified on the 1st.
        (date(2016, 7, 1), "audit", 0, 1, 1, 1),
        (date(2016, 7, 1), "verified", 1, 1, 1, 0),
        (date(2016, 7, 2), "audit", 1, 1, 1, 0),
        (date(2016, 7, 2), "verified", 1, 1, 0, 0),
        (date(2016, 7, 3), "audit", 0, 1, 0, 0),
        (date(2016, 7, 3), "verified", 2, 2, 0, 0),
        (date(2016, 7, 4), "audit", 0, 1, 0, 0),
        (date(2016, 7, 4), "verified", 2, 2, 0, 0),
        (date(2016, 7, 5), "audit", 0, 1, 0, 0),
        (date(2016, 7, 5), "verified", 2, 2, 0, 0),
        (date(2016, 7, 6), "audit", 0, 1, 0, 0),
        (date(2016, 7, 6), "verified", 2, 2, 0, 0),
    ]


def test_reconciliation_compares_the_snapshot_with_the_events(built_scenario):
    got = q(
        built_scenario,
        f"SELECT check_name, as_of, expected, found, status FROM reconciliation "
        f"WHERE course_key = '{RA}' AND check_name LIKE 'enrollments%' ORDER BY 1",
    )
    # At the end of the snapshot day the events leave learners 3 and 5 enrolled; the snapshot has 4 active of 5.
    assert got == [
        ("enrollments_active", date(2016, 7, 4), 4, 2, "differs"),
        ("enrollments_total", date(2016, 7, 4), 5, 2, "differs"),
    ]


def test_course_day_counts_events_no_learner_can_be_named_for(built_scenario):
    assert q(
        built_scenario,
        f"SELECT events, events_with_learner, events_without_username, events_without_user_id FROM int__events__course_day "
        f"WHERE course_key = '{RA}' AND event_date = DATE '2016-07-01'",
    ) == [(13, 11, 1, 1)]


def test_every_mart_records_when_and_from_what(built_scenario):
    got = q(built_scenario, "SELECT DISTINCT data_through, definitions_version LIKE '1.%' FROM person_course")
    assert got == [(date(2016, 7, 6), True)]  # the latest event day is after the snapshot
    assert q(built_scenario, "SELECT DISTINCT data_through FROM course_report") == [(date(2016, 7, 4),)]


def test_enrollment_timeline_reaches_back_to_the_table_and_ends_at_its_count(built_scenario):
    """Course A's table: learner 1 honor (created June 1st), 2 audit (2nd), 3 verified (3rd), 4 audit
    (4th), 5 audit (5th, unenrolled since, still a row); snapshot of July 4th. The events enrol no
    one after it (learners 3 and 5 are in the table). The calendar runs to the lake's last event day."""
    got = q(
        built_scenario,
        f"SELECT date, mode, enrolled, source FROM enrollment_timeline WHERE course_key = '{RA}' "
        "AND date IN (DATE '2016-06-01', DATE '2016-06-04', DATE '2016-07-04', DATE '2016-07-06') ORDER BY 1, 2",
    )
    assert got == [
        (date(2016, 6, 1), "audit", 0, "table"),
        (date(2016, 6, 1), "honor", 1, "table"),
        (date(2016, 6, 1), "verified", 0, "table"),
        (date(2016, 6, 4), "audit", 2, "table"),
        (date(2016, 6, 4), "honor", 1, "table"),
        (date(2016, 6, 4), "verified", 1, "table"),
        (date(2016, 7, 4), "audit", 3, "table"),
        (date(2016, 7, 4), "honor", 1, "table"),
        (date(2016, 7, 4), "verified", 1, "table"),
        (date(2016, 7, 6), "audit", 3, "table and events"),
        (date(2016, 7, 6), "honor", 1, "table and events"),
        (date(2016, 7, 6), "verified", 1, "table and events"),
    ]
    # June 1st to July 6th, three modes; at the snapshot the modes add up to course_report's users_total.
    assert q(built_scenario, f"SELECT count(*), count(DISTINCT date) FROM enrollment_timeline WHERE course_key = '{RA}'") == [
        (108, 36)
    ]
    assert q(
        built_scenario,
        f"""SELECT sum(enrolled) FROM enrollment_timeline WHERE course_key = '{RA}' AND date = DATE '2016-07-04'""",
    ) == q(built_scenario, f"SELECT users_total FROM course_report WHERE course_key = '{RA}'")
    assert q(built_scenario, "SELECT DISTINCT course_key FROM enrollment_timeline ORDER BY 1") == [(RA,), ("rc_2016_t1",)]
