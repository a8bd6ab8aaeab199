"""The course registry: programme staff's CSV of course runs, validated on load.

Errors (the file cannot be trusted): unknown or missing columns, empty or malformed keys,
duplicate keys, dates that do not parse, an end date before the start date, flags or passing
grades out of range. Warnings (worth a look, not blocking): a start date in another year than the
run named in the key (`..._2t2014` starting in 2016).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

from idbx.errors import RegistryError

COLUMNS = ("course_key", "name", "sme", "start_date", "end_date", "excluded", "passing_grade", "notes")
REQUIRED = ("course_key", "name", "start_date")
HEADER_REQUIRED = ("course_key", "name", "sme", "start_date", "end_date")
DEFAULT_PASSING_GRADE = 0.65
_KEY_RE = re.compile(r"^[a-z0-9_]+$")
_RUN_YEAR_RE = re.compile(r"(?:^|_)(?:[1-4]t(?P<a>20\d\d)|(?P<b>20\d\d)_(?:t[1-4]|[1-4]t))$")
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0", ""}


@dataclass(frozen=True)
class Course:
    course_key: str
    name: str
    sme: str
    start_date: date | None
    end_date: date | None
    excluded: bool
    passing_grade: float
    notes: str = ""


@dataclass
class Registry:
    path: str
    courses: dict[str, Course]
    warnings: list[str] = field(default_factory=list)

    def included(self) -> list[Course]:
        return [course for course in self.courses.values() if not course.excluded]


def default_path() -> Path:
    return Path(str(resources.files("idbx") / "data" / "courses.csv"))


def _date(value: str, column: str, problems: list[str], where: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(f"{where}: {column} {value!r} is not a date (YYYY-MM-DD)")
        return None


def _passing_grade(value: str, problems: list[str], where: str) -> float:
    """The grade given (a fraction of 1), else the default when the cell is empty."""
    if not value:
        return DEFAULT_PASSING_GRADE
    try:
        passing = float(value)
    except ValueError:
        passing = -1.0
    if not 0.0 <= passing <= 1.0:
        problems.append(f"{where}: passing_grade {value!r} must be a number between 0 and 1")
    return passing


def _row(raw: dict[str, str], where: str, problems: list[str], warnings: list[str]) -> Course | None:
    key = raw["course_key"]
    if not _KEY_RE.match(key):
        problems.append(f"{where}: course_key {key!r} must be lower-case letters, digits and _")
        return None
    excluded_text = raw.get("excluded", "").lower()
    if excluded_text not in _TRUE | _FALSE:
        problems.append(f"{where}: excluded {raw['excluded']!r} must be true or false")
    excluded = excluded_text in _TRUE
    start = _date(raw.get("start_date", ""), "start_date", problems, where)
    end = _date(raw.get("end_date", ""), "end_date", problems, where)
    if not excluded:
        for column in REQUIRED[1:]:
            if not raw.get(column):
                problems.append(
                    f"{where}: {column} is empty (required unless the course is excluded; end_date may stay empty while unknown)"
                )
    if start and end and end < start:
        problems.append(f"{where}: end_date {end} is before start_date {start}")
    passing = _passing_grade(raw.get("passing_grade", ""), problems, where)
    run_year = _RUN_YEAR_RE.search(key)
    if start and run_year and int(run_year["a"] or run_year["b"]) != start.year:
        warnings.append(f"{where}: start_date {start} is not in the run's year ({key})")
    return Course(key, raw.get("name", ""), raw.get("sme", ""), start, end, excluded, passing, raw.get("notes", ""))


def load_registry(path: Path | None = None) -> Registry:
    """Read and validate the registry; raise RegistryError listing every bad row."""
    path = Path(path) if path else default_path()
    problems: list[str] = []
    warnings: list[str] = []
    courses: dict[str, Course] = {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        unknown = [name for name in header if name not in COLUMNS]
        missing = [name for name in HEADER_REQUIRED if name not in header]
        if unknown:
            problems.append(f"header: unknown column(s) {', '.join(unknown)} (allowed: {', '.join(COLUMNS)})")
        if missing:
            problems.append(f"header: missing column(s) {', '.join(missing)}")
        if missing:
            raise RegistryError(str(path), problems)
        for line, raw in enumerate(reader, start=2):
            where = f"row {line} ({(raw.get('course_key') or '').strip() or 'no key'})"
            if None in raw or any(v is None for v in raw.values()):
                problems.append(f"{where}: wrong number of fields")
                continue
            raw = {k: v.strip() for k, v in raw.items()}
            course = _row(raw, where, problems, warnings)
            if course is None:
                continue
            if course.course_key in courses:
                problems.append(f"{where}: duplicate course_key {course.course_key}")
                continue
            courses[course.course_key] = course
    if problems:
        raise RegistryError(str(path), problems)
    return Registry(str(path), courses, warnings)
