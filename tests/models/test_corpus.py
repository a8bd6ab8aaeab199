"""The models on edX's own acceptance files (../shared/corpus): a real package and real logs."""

from __future__ import annotations

from datetime import date

from idbx.ingest.course_data import ingest_package
from idbx.ingest.events import ingest_events
from idbx.models.runner import build
from tests.models import tiny_lake

DEMOX = "demox_demo_course"


def test_demox_package_and_video_log(corpus, lake):
    ingest_package([corpus / "package" / "edX-DemoX-Demo_Course"], lake, snapshot_date=date(2015, 11, 9))
    ingest_events([corpus / "events" / "video_timeline.log"], lake, log_date=date(2014, 5, 2))
    summary = build(lake)
    assert not summary.failed, [o.error for o in summary.failed]
    # The package: 4 enrollments, one courseware row each, 4 notpassing certificates (grades 0.27,
    # 0, 0, 0.51: none reaches 0.65), one male profile, countries PL, FR, UK and UKR.
    assert tiny_lake.rows(
        lake,
        f"""SELECT registered, users_total, users_active, certificates_failed, certificates_approved,
                                          certificates_certified, male, female, countries_count, education
                                   FROM course_report WHERE course_key = '{DEMOX}'""",
    ) == [(False, 4, 4, 4, 0, 0, 1, 0, 4, {"GS": 1})]
    # The log: user 10001 plays the Demo_Course video 5 times, pauses 3 times and seeks twice
    # (old-style course id in the events, new-style in the tables: one course key).
    assert tiny_lake.rows(
        lake,
        f"""SELECT nevents, nplay_video, npause_video, nseek_video, ndays_act FROM person_course
                                   WHERE course_key = '{DEMOX}' AND learner_id = '{tiny_lake.pseudonym(10001)}'""",
    ) == [(10, 5, 3, 2, 1)]
    assert tiny_lake.rows(
        lake,
        f"""SELECT week_start, learners FROM weekly_active
                                   WHERE course_key = '{DEMOX}' AND label = 'PLAYED_VIDEO'""",
    ) == [(date(2014, 4, 28), 3)]
    assert tiny_lake.rows(lake, f"SELECT count(*) FROM person_course WHERE course_key = '{DEMOX}'") == [(7,)]  # 4 + 3
    assert {row[0] for row in tiny_lake.rows(lake, "SELECT course_key FROM activity_daily")} == {
        DEMOX,
        "demox_test_2014",
        "demox_test_2015",
    }
