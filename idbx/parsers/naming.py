"""The one place that knows edX's file-name patterns and how course ids map to short course keys.

Course table dumps:  {Org}-{Course}-{Run}-{table}-{suffix}.sql[.gpg]   (suffix: prod-analytics, acceptance, ...)
Course structure:    {Org}-{Course}-{Run}-course_structure-{suffix}.json[.gpg]
Course export:       {Org}-{Course}-{Run}-course-{suffix}.xml.tar.gz[.gpg]
Forum dump:          {Org}-{Course}-{Run}-{suffix}.mongo[.gpg]              (suffix: prod, acceptance, ...)
Many-course dump:    any other name ending in .sql[.gpg] (a MySQL dump of whole tables, every course in it)
Course-data package: {org}-{YYYY-MM-DD}.zip                             (or a folder of that name)
Tracking logs:       {org}-edx-events-{YYYY-MM-DD}.log[.gz][.gpg], and {org}-edge-events-... for the
                     courses the partner runs on edge.edx.org
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
_EVENTS_RE = re.compile(rf"^(?P<org>[A-Za-z0-9_.-]+?)-(?:edx|edge)-events-{_DATE}\.log(?:\.gz)?(?:\.gpg)?$")
_COURSE_FILE_RE = re.compile(r"^(?P<stem>.+?)(?P<ext>\.sql|\.json|\.mongo|\.xml\.tar\.gz)(?P<gpg>\.gpg)?$")
_TABLE_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_OLD_COURSE_ID_RE = re.compile(r"^(?P<org>[^/+:\s]+)/(?P<course>[^/+:\s]+)/(?P<run>[^/+:\s]+)$")
_NEW_COURSE_ID_RE = re.compile(r"^course-v1:(?P<org>[^/+:\s]+)\+(?P<course>[^/+:\s]+)\+(?P<run>[^/+:\s]+)$")


# Kinds of course files, and the bronze dataset each lands in (a table dump lands in its table's).
TABLE = "course_table"
STRUCTURE = "course_structure"
EXPORT = "course_export"
FORUM = "forum_dump"
DATASETS = {STRUCTURE: "course_blocks", EXPORT: "course_blocks", FORUM: "forum_posts"}


@dataclass(frozen=True)
class CourseFile:
    """A file of one course run recognised by its name: a table dump, the course structure, the
    course export or the forum dump. `table` is the table of a dump, else the kind's dataset."""

    name: str
    org: str
    course: str
    run: str
    kind: str
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


def parse_course_file(name: str) -> CourseFile | None:
    """Recognise a course run's file by its name (see the module's list); None for any other name.

    Org, course and run are the first three dash-separated parts (edX ids hold no dash there);
    a table dump's table is the next part, a Django table name.
    """
    base = PurePosixPath(name).name
    match = _COURSE_FILE_RE.match(base)
    if not match:
        return None
    parts = match["stem"].split("-")
    if len(parts) < 4:
        return None
    org, course, run, what = parts[:4]
    ext, more = match["ext"], len(parts) > 4
    if ext == ".sql" and more and _TABLE_NAME_RE.match(what):
        kind = TABLE
    elif ext == ".json" and more and what == "course_structure":
        kind = STRUCTURE
    elif ext == ".xml.tar.gz" and more and what == "course":
        kind = EXPORT
    elif ext == ".mongo":
        kind = FORUM
    else:
        return None
    return CourseFile(base, org, course, run, kind, what if kind == TABLE else DATASETS[kind], encrypted=bool(match["gpg"]))


def is_many_course_dump(name: str) -> bool:
    """A `.sql` file not named after one course run: a MySQL dump of whole tables (self-hosted Open edX)."""
    return name.endswith((".sql", ".sql.gpg")) and parse_course_file(name) is None


def usage_id(course_id: str, category: str, name: str) -> str:
    """A block's id in its course's id form: `block-v1:O+C+R+type@cat+block@name` or `i4x://O/C/cat/name`."""
    org, course, run = parse_course_id(course_id)
    if course_id.startswith("course-v1:"):
        return f"block-v1:{org}+{course}+{run}+type@{category}+block@{name}"
    return f"i4x://{org}/{course}/{category}/{name}"


def parse_course_id(course_id: str) -> tuple[str, str, str] | None:
    """(org, course, run) of an edX course id in either form; None for anything else."""
    match = _NEW_COURSE_ID_RE.match(course_id) or _OLD_COURSE_ID_RE.match(course_id)
    return (match["org"], match["course"], match["run"]) if match else None


def package_date(name: str) -> date | None:
    """Delivery date of a course-data package from its zip or folder name (`idbx-2016-05-02.zip`)."""
    match = _PACKAGE_RE.match(PurePosixPath(name).name)
    return date.fromisoformat(match["date"]) if match else None


def delivery_folder(package_name: str, org: str, day: date) -> str:
    """The folder edX's delivery zip holds its files in (`{org}-YYYY-MM-DD`), for a file's kept copy:
    the org of the package's name when it has one, else the course's org, lower-cased as edX does."""
    match = _PACKAGE_RE.match(PurePosixPath(package_name).name)
    return package_file_name(match["org"] if match else org.lower(), day).removesuffix(".zip")


def events_log_date(name: str) -> date | None:
    """Day of a tracking log from its edX name (`idbx-edx-events-2016-05-02.log.gz.gpg`, or `-edge-`)."""
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
    return course_file_name(course_id, f"{table}-{suffix}.sql", encrypted)


def course_file_name(course_id: str, rest: str, encrypted: bool = True) -> str:
    """`{Org}-{Course}-{Run}-{rest}[.gpg]`, the names edX gives a course run's files."""
    parts = parse_course_id(course_id)
    if not parts:
        raise ValueError(f"not an edX course id: {course_id!r}")
    name = "-".join((*parts, rest))
    return name + ".gpg" if encrypted else name


def events_file_name(org: str, day: date, encrypted: bool = True) -> str:
    name = f"{org}-edx-events-{day.isoformat()}.log.gz"
    return name + ".gpg" if encrypted else name
