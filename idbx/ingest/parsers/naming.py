"""The one place that knows edX's file-name patterns and how course ids map to short course keys.

Course table dumps:  {Org}-{Course}-{Run}-{table}-{suffix}.sql[.gpg]   (suffix: prod-analytics, acceptance, ...)
Course-data package: {org}-{YYYY-MM-DD}.zip                             (or a folder of that name)
Tracking logs:       {org}-edx-events-{YYYY-MM-DD}.log[.gz][.gpg]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath

COURSE_TABLES = (
    "auth_user",
    "auth_userprofile",
    "certificates_generatedcertificate",
    "courseware_studentmodule",
    "student_courseenrollment",
    "user_id_map",
)

_DATE = r"(?P<date>\d{4}-\d{2}-\d{2})"
_PACKAGE_RE = re.compile(rf"^(?P<org>[A-Za-z0-9_.]+)-{_DATE}(?:\.zip)?$")
_EVENTS_RE = re.compile(rf"^(?P<org>[A-Za-z0-9_.-]+?)-edx-events-{_DATE}\.log(?:\.gz)?(?:\.gpg)?$")
_TABLE_FILE_RE = re.compile(r"^(?P<stem>.+)\.sql(?P<gpg>\.gpg)?$")
_TABLE_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")
_OLD_COURSE_ID_RE = re.compile(r"^(?P<org>[^/+:\s]+)/(?P<course>[^/+:\s]+)/(?P<run>[^/+:\s]+)$")
_NEW_COURSE_ID_RE = re.compile(r"^course-v1:(?P<org>[^/+:\s]+)\+(?P<course>[^/+:\s]+)\+(?P<run>[^/+:\s]+)$")


@dataclass(frozen=True)
class TableFile:
    """A course table dump recognised by its name."""

    name: str
    org: str
    course: str
    run: str
    table: str
    encrypted: bool

    @property
    def course_key(self) -> str:
        return short_course_key(self.course, self.run)

    @property
    def fallback_course_id(self) -> str:
        """The edX id when the data does not say which form the course uses."""
        return f"course-v1:{self.org}+{self.course}+{self.run}"


def short_course_key(course: str, run: str) -> str:
    """The registry's key: lower-case `course-run`, with `-` and `.` turned into `_`."""
    return re.sub(r"[-.]", "_", f"{course}-{run}".lower())


def course_key_sql(course_id: str) -> str:
    """SQL for the short key of an edX course id in either form (`Org/Course/Run` or
    `course-v1:Org+Course+Run`), for course ids resolved inside DuckDB queries; NULL otherwise.
    Same patterns as in Python (DuckDB's RE2 reads them): group 2 is the course, 3 the run."""
    whens = " ".join(
        f"WHEN regexp_matches({course_id}, '{form.pattern}') "
        f"THEN regexp_replace(lower(regexp_replace({course_id}, '{form.pattern}', '\\2-\\3')), '[-.]', '_', 'g')"
        for form in (_NEW_COURSE_ID_RE, _OLD_COURSE_ID_RE)
    )
    return f"(CASE {whens} END)"


def parse_table_file(name: str) -> TableFile | None:
    """Recognise `{Org}-{Course}-{Run}-{table}-{suffix}.sql[.gpg]`; None for any other name.

    Org, course and run are the first three dash-separated parts (edX ids hold no dash there);
    the table is the next part that looks like a Django table name.
    """
    base = PurePosixPath(name).name
    match = _TABLE_FILE_RE.match(base)
    if not match:
        return None
    parts = match["stem"].split("-")
    if len(parts) < 5:
        return None
    org, course, run, table = parts[:4]
    if not _TABLE_NAME_RE.match(table):
        return None
    return TableFile(base, org, course, run, table, encrypted=bool(match["gpg"]))


def package_date(name: str) -> date | None:
    """Delivery date of a course-data package from its zip or folder name (`idbx-2016-05-02.zip`)."""
    match = _PACKAGE_RE.match(PurePosixPath(name).name)
    return date.fromisoformat(match["date"]) if match else None


def events_log_date(name: str) -> date | None:
    """Day of a tracking log from its edX name (`idbx-edx-events-2016-05-02.log.gz.gpg`)."""
    match = _EVENTS_RE.match(PurePosixPath(name).name)
    return date.fromisoformat(match["date"]) if match else None


def is_events_log(name: str) -> bool:
    base = PurePosixPath(name).name
    return base.endswith((".log", ".log.gz", ".log.gpg", ".log.gz.gpg"))


def is_encrypted(name: str) -> bool:
    return name.endswith(".gpg")


def package_file_name(org: str, day: date) -> str:
    return f"{org}-{day.isoformat()}.zip"


def table_file_name(course_id: str, table: str, suffix: str = "prod-analytics", encrypted: bool = True) -> str:
    """Name edX gives a course table dump, from the course id in either form."""
    match = _NEW_COURSE_ID_RE.match(course_id) or _OLD_COURSE_ID_RE.match(course_id)
    if not match:
        raise ValueError(f"not an edX course id: {course_id!r}")
    name = f"{match['org']}-{match['course']}-{match['run']}-{table}-{suffix}.sql"
    return name + ".gpg" if encrypted else name


def events_file_name(org: str, day: date, encrypted: bool = True) -> str:
    name = f"{org}-edx-events-{day.isoformat()}.log.gz"
    return name + ".gpg" if encrypted else name
