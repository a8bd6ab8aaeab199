"""Which mart each export reads and its columns, in the predecessor's order where it had one
(its general and enrollments reports, its Active users and MASTERFILE notebooks); columns the
predecessor did not have come after its own. Learners appear by pseudonymous id only, unless
staff ask for names and emails in the two exports that may carry them (--include-pii)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Report:
    mart: str
    columns: tuple[tuple[str, str], ...]  # (CSV header, expression over the mart)
    order_by: str
    course_column: str  # the mart column holding the course key, for --course
    description: str
    pii_allowed: bool = False  # staff may ask for learners' names and emails (--include-pii)


# What --include-pii adds, after the report's own columns: from the latest snapshot's auth_user
# (and the profile's full name), matched to learner_id by the pseudonym key.
PII_COLUMNS = ("username", "email", "full_name")

REPORTS: dict[str, Report] = {
    "general": Report(
        "general_report",
        tuple(
            (name, name)
            for name in (
                "id",
                "name",
                "sme",
                "start_date",
                "end_date",
                "total_users",
                "active_users",
                "approved_users",
                "certified_users",
                "failed_users",
                "male",
                "female",
                "countries",
            )
        ),
        "id",
        "id",
        "one row per course run (the predecessor's general-report)",
    ),
    "enrollments": Report(
        "enrollments_report",
        (
            ("mooc_name", "mooc_name"),
            ("mooc_id", "mooc_id"),
            ("registration_date", "registration_date"),
            ("gender", "gender"),
            ("country", "country"),
            ("learner_id", "learner_id"),
            ("mode", "mode"),
            ("is_active", "is_active"),
        ),
        "mooc_id, registration_date, learner_id",
        "mooc_id",
        "one row per enrollment, with gender and country (the predecessor's enrollments-report)",
    ),
    "active-users": Report(
        "active_users_report",
        (
            ("course_id", "course_key"),
            ("learner_id", "learner_id"),
            ("repetitions", "repetitions"),
            ("status", "certificate_status"),
            ("course_name", "course_name"),
        ),
        "course_key, learner_id",
        "course_key",
        "learners with at least one courseware row, their number of rows and certificate status",
        pii_allowed=True,
    ),
    "masterfile": Report(
        "masterfile",
        (
            ("country", "country"),
            ("gender", "gender"),
            ("level_of_education", "level_of_education"),
            ("learner_id", "learner_id"),
            ("year_of_birth", "year_of_birth"),
            ("course_id", "course_key"),
            ("progress", "progress"),
            ("grade", "grade"),
            ("mode", "certificate_mode"),
            ("status", "certificate_status"),
            ("enrollment_mode", "enrollment_mode"),
            ("is_active", "is_active"),
            ("enrolled_at", "enrolled_at"),
            ("course_name", "course_name"),
            ("sme", "sme"),
            ("start_date", "start_date"),
            ("end_date", "end_date"),
        ),
        "course_key, learner_id",
        "course_key",
        "every enrolled learner of every course run: demographics, progress, certificate, course",
        pii_allowed=True,
    ),
    "engagement": Report(
        "learner_engagement",
        (),  # its columns and intervals: idbx/exports/engagement.py (edX's order, the learner after end_date)
        "course_key, end_date, learner_id",
        "course_key",
        "edX's learner engagement report: every enrolled learner's activity per interval (--interval, --start, --end)",
        pii_allowed=True,
    ),
    "person-course": Report(
        "person_course",
        (),  # every column of the mart, in its order
        "course_key, learner_id",
        "course_key",
        "one row per learner and course run (HarvardX/MITx person-course definitions)",
    ),
}
