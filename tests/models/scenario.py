"""One small, hand-checked lake: three course runs (A registered, B excluded by the registry, C
missing from it), their tables and four days of tracking logs. The tests state what the marts
must hold, counted by hand from the rows below (see the comments), never with the SQL under test."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from idbx.lake.store import Lake
from tests.models import content, tiny_lake

A = "course-v1:IDBx+RA+2016_T1"  # key ra_2016_t1, passing grade 0.7
B = "course-v1:IDBx+RB+2016_T1"  # key rb_2016_t1, excluded
C = "IDBx/RC/2016_T1"  # key rc_2016_t1, not in the registry; no certificates, no profiles

REGISTRY = [
    'ra_2016_t1,Curso A,"SCL, SPH",2016-06-01,2016-07-31,false,0.7,',
    "rb_2016_t1,Curso B,INE,2016-06-01,2016-07-31,true,,test run",
]


def t(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2016, 7, day, hour, minute, second)


def ev(user: int | None, event_type: str, time: datetime, course: str = A, source: str = "browser", **extra) -> dict:
    username = extra.pop("username", f"learner{user}" if user else "")
    return {
        "user_id": user,
        "username": username,
        "event_type": event_type,
        "event_source": source,
        "time": time,
        "course_id": course,
        "ip": "190.1.2.3",
        **extra,
    }


def enrollment(user: int, action: str, time: datetime, mode: str) -> dict:
    return ev(
        user, f"edx.course.enrollment.{action}", time, source="server", event={"user_id": user, "mode": mode, "course_id": A}
    )


P1 = "block-v1:IDBx+RA+2016_T1+type@problem+block@p1"
# Learner 1's submission of problem p1 (of the outline in tests/models/content.py): a wrong choice.
P1_WRONG = {
    "problem_id": P1,
    "attempts": 1,
    "success": "incorrect",
    "grade": 0,
    "max_grade": 1,
    "answers": {"p1_2_1": "choice_1"},
    "submission": {
        "p1_2_1": {
            "answer": "Rojo",
            "correct": False,
            "response_type": "multiplechoiceresponse",
            "input_type": "choicegroup",
            "variant": "",
            "question": "¿Color?",
        }
    },
}

DAY_1 = [  # log of 2016-07-01
    ev(1, "play_video", t(1, 10, 0)),
    ev(1, "pause_video", t(1, 10, 1)),  # gap 60 s
    ev(1, "problem_check", t(1, 10, 3), source="server", event=P1_WRONG),  # gap 120 s
    ev(1, "problem_check", t(1, 10, 3)),  # gap 0 s (the browser's copy: counted, not a submission)
    ev(1, "seek_video", t(1, 10, 20)),  # gap 17 min: not counted in sum_dt
    ev(
        1,
        f"/courses/{A}/xblock/block-v1:IDBx+RA+2016_T1+type@problem+block@p1/handler/xmodule_handler/input_ajax",
        t(1, 10, 21),
        source="server",
    ),
    ev(1, "showanswer", t(1, 23, 58), source="server"),  # gap from 10:20 too long
    ev(2, "edx.grades.problem.submitted", t(1, 12, 0), source="task"),  # never ACTIVE
    enrollment(5, "activated", t(1, 9, 0), "audit"),
    enrollment(5, "deactivated", t(1, 15, 0), "audit"),
    enrollment(3, "activated", t(1, 11, 0), "verified"),
    ev(None, f"/courses/{A}/about", t(1, 13, 0)),  # anonymous: no username, no user id
    ev(None, "play_video", t(1, 14, 0), username="ghost"),  # a username but no user id
]
DAY_2 = [  # log of 2016-07-02
    ev(1, "seq_goto", t(2, 0, 1)),  # 180 s after learner 1's last event of the day before
    enrollment(5, "activated", t(2, 8, 0), "audit"),  # re-enrolls
]
DAY_3 = [  # log of 2016-07-03 (a Sunday: the ISO week began on Monday 2016-06-27)
    enrollment(5, "mode_changed", t(3, 10, 0), "verified"),
    ev(2, "edx.forum.thread.created", t(3, 9, 0), source="server"),
    ev(4, "play_video", t(3, 18, 0), source="mobile"),
    ev(6, "play_video", t(3, 12, 0), course=C),
    ev(7, "play_video", t(3, 12, 0), course=B),
    # a vote of the excluded course (silver only): learner 7 on their own thread
    ev(
        7,
        "edx.forum.thread.voted",
        t(3, 12, 5),
        course=B,
        source="server",
        event={"vote_value": "up", "target_username": "learner7"},
    ),
]
DAY_6 = [  # log of 2016-07-06 (nothing on the 4th and 5th)
    ev(3, "play_video", t(6, 9, 0)),
]


def write(lake: Lake, tmp: Path) -> Path:
    """Write the lake; returns the registry file."""
    tiny_lake.table(
        lake,
        "student_courseenrollment",
        A,
        [
            {"id": 1, "user_id": 1, "created": datetime(2016, 6, 1, 10), "is_active": True, "mode": "honor"},
            {"id": 2, "user_id": 2, "created": datetime(2016, 6, 2, 10), "is_active": True, "mode": "audit"},
            {"id": 3, "user_id": 3, "created": datetime(2016, 6, 3, 10), "is_active": True, "mode": "verified"},
            {"id": 4, "user_id": 4, "created": datetime(2016, 6, 4, 10), "is_active": True, "mode": "audit"},
            {"id": 5, "user_id": 5, "created": datetime(2016, 6, 5, 10), "is_active": False, "mode": "audit"},
        ],
    )
    tiny_lake.table(
        lake,
        "auth_userprofile",
        A,
        [  # learner 5 has no profile row
            {
                "id": 1,
                "user_id": 1,
                "gender": "m",
                "year_of_birth": 1980,
                "level_of_education": "b",
                "country": "MX",
                "name": "Ana Pérez",
            },
            {"id": 2, "user_id": 2, "gender": "f", "year_of_birth": 1990, "level_of_education": "m", "country": "MX"},
            {"id": 3, "user_id": 3, "gender": "", "year_of_birth": None, "level_of_education": "NULL", "country": "CO"},
            {"id": 4, "user_id": 4, "gender": "m", "year_of_birth": 1985, "level_of_education": "b", "country": ""},
        ],
    )
    tiny_lake.table(
        lake,
        "certificates_generatedcertificate",
        A,
        [
            {
                "id": 1,
                "user_id": 1,
                "grade": 0.9,
                "status": "downloadable",
                "mode": "verified",
                "created_date": datetime(2016, 7, 1),
            },
            {"id": 2, "user_id": 2, "grade": 0.5, "status": "notpassing", "mode": "honor", "created_date": datetime(2016, 7, 1)},
            {
                "id": 3,
                "user_id": 3,
                "grade": 0.7,
                "status": "downloadable",
                "mode": "honor",
                "created_date": datetime(2016, 7, 1),
            },
            {
                "id": 4,
                "user_id": 4,
                "grade": 0.69,
                "status": "audit_passing",
                "mode": "audit",
                "created_date": datetime(2016, 7, 1),
            },
        ],
    )
    module = {"created": datetime(2016, 6, 10), "modified": datetime(2016, 6, 11), "course_id": A}
    tiny_lake.table(
        lake,
        "courseware_studentmodule",
        A,
        [
            {**module, "id": 1, "student_id": 1, "module_type": "chapter", "module_id": "ch1"},
            {**module, "id": 2, "student_id": 1, "module_type": "chapter", "module_id": "ch2"},
            {**module, "id": 3, "student_id": 1, "module_type": "chapter", "module_id": "ch3"},
            {**module, "id": 4, "student_id": 1, "module_type": "problem", "module_id": "p1"},
            {**module, "id": 5, "student_id": 2, "module_type": "chapter", "module_id": "ch1"},
            {**module, "id": 6, "student_id": 3, "module_type": "video", "module_id": "v1"},
        ],
    )
    # Course A's outline (3 chapters, as many as the courseware rows show): see tests/models/content.py.
    tiny_lake.table(lake, "course_blocks", A, content.blocks_rows())
    tiny_lake.table(
        lake,
        "course_blocks",
        B,
        [
            {
                "block_id": "block-v1:IDBx+RB+2016_T1+type@chapter+block@only",
                "block_type": "chapter",
                "display_name": "Único",
                "depth": 1,
                "chapter_id": "block-v1:IDBx+RB+2016_T1+type@chapter+block@only",
            }
        ],
    )
    tiny_lake.table(
        lake,
        "student_courseenrollment",
        C,
        [
            {"id": 1, "user_id": 1, "created": datetime(2016, 6, 10), "is_active": True, "mode": "honor"},
            {"id": 2, "user_id": 6, "created": datetime(2016, 6, 11), "is_active": True, "mode": "audit"},
        ],
    )
    tiny_lake.table(
        lake,
        "student_courseenrollment",
        B,
        [
            {"id": 1, "user_id": 7, "created": datetime(2016, 6, 10), "is_active": True, "mode": "audit"},
        ],
    )
    tiny_lake.table(lake, "auth_userprofile", B, [{"id": 7, "user_id": 7, "gender": "f", "country": "AR"}])
    for day, events in ((1, DAY_1), (2, DAY_2), (3, DAY_3), (6, DAY_6)):
        tiny_lake.events(lake, date(2016, 7, day), events)
    return tiny_lake.registry(tmp / "courses.csv", REGISTRY)
