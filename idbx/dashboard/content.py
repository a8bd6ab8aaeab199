"""The course page's content engagement and the overview's headline figures (pure: aggregated rows
in, what the pages show out), with the small-cell rule of cells.py.

A chapter's reach is a count of learners like a point of a series: 1 to min_cell - 1 is shown as
"< min_cell". A problem is ranked among the hardest only when its learners split into right and
not right in parts that are each none or at least min_cell, so that its rates single out nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from idbx.dashboard import charts
from idbx.dashboard.cells import shown_count
from idbx.dashboard.readers import Rows
from idbx.dashboard.texts import Texts

HARDEST_PROBLEMS = 10


@dataclass
class Headline:
    """One figure at the top of the overview: its name, value as shown and where it comes from."""

    name: str
    value: str
    source: str


def chapter_funnel_spec(rows: Rows, texts: Texts, title: str, min_cell: int) -> tuple[dict | None, int]:
    """The bars of learners reaching each chapter in course order (rows of chapter_funnel, chapters
    only), and how many counts the small-cell rule hid. None when the course has no outline."""
    chapters = sorted((row for row in rows if row["block_type"] == "chapter"), key=lambda row: row["course_index"])
    if not chapters:
        return None, 0
    bars, hidden = [], 0
    for row in chapters:
        shown = shown_count(row["learners"], min_cell)
        if shown is None and row["learners"]:
            hidden += 1
            text = texts("suppressed", min_cell=min_cell)
        elif row["share_of_previous"] is not None and shown_count(_previous(chapters, row), min_cell) is not None:
            text = texts("reach_share", learners=texts.number(row["learners"]), share=texts.percent(row["share_of_previous"]))
        else:
            text = texts.number(row["learners"])
        name = row["display_name"] or texts["none"]
        bars.append({"category": f"{row['chapter_index']}. {name}", "learners": shown, "learners_text": text})
    return charts.bar_chart(bars, texts, title, texts["axis_chapter"], ordered=True), hidden


def _previous(chapters: Rows, row: dict) -> int | None:
    index = chapters.index(row)
    return chapters[index - 1]["learners"] if index else None


def hardest_problems(rows: Rows, texts: Texts, min_cell: int) -> list[dict]:
    """The problems learners get right least often (problem_engagement rows of one course), as the
    table's cells; only problems whose right and not-right learners are each none or >= min_cell."""

    def safe(part: int) -> bool:
        return part == 0 or part >= min_cell

    eligible = [
        row
        for row in rows
        if row["learners_attempted"] >= min_cell
        and safe(row["learners_correct"])
        and safe(row["learners_attempted"] - row["learners_correct"])
    ]
    ranked = sorted(eligible, key=lambda row: (row["correct_rate"], row["first_attempt_correct_rate"] or 0, row["url_name"]))
    table = []
    for row in ranked[:HARDEST_PROBLEMS]:
        first_right = (
            round(row["first_attempt_correct_rate"] * row["learners_attempted"])
            if row["first_attempt_correct_rate"] is not None
            else None
        )
        first_shown = first_right is not None and safe(first_right) and safe(row["learners_attempted"] - first_right)
        place = (
            f"{row['chapter_index']}. {row['chapter_name'] or texts['none']}"
            if row["chapter_index"] is not None
            else texts["not_in_outline"]
        )
        table.append(
            {
                "problem": row["display_name"] or row["url_name"],
                "place": place,
                "attempted": texts.number(row["learners_attempted"]),
                "attempts": texts.number(row["attempts"]),
                "correct_rate": texts.percent(row["correct_rate"]),
                "first_attempt": texts.percent(row["first_attempt_correct_rate"])
                if first_shown
                else texts("suppressed", min_cell=min_cell),
                "to_correct": texts.number(round(row["mean_attempts_to_correct"], 1))
                if row["mean_attempts_to_correct"] is not None
                else texts["none"],
                "source": texts[f"source_{row['source']}"],
            }
        )
    return table


def headlines(courses: Rows, weekly_active: Rows, texts: Texts) -> list[Headline]:
    """Enrolled, active in the latest week, certified and approval rate over the programme's courses
    (the sums of the course table's columns, so that the figures agree with it)."""
    enrolled = sum(course["users_total"] for course in courses)
    approved = sum(course["certificates_approved"] for course in courses)
    certified = sum(course["certificates_certified"] for course in courses)
    active = [row for row in weekly_active if row["label"] == "ACTIVE"]
    week: date | None = max((row["week_start"] for row in active), default=None)
    return [
        Headline(texts["col_enrolled"], texts.number(enrolled), texts["source_enrolled"]),
        Headline(
            texts["headline_active_week"],
            texts.number(sum(row["learners"] for row in active if row["week_start"] == week)),
            texts("source_active_week", week=texts.date(week)) if week else texts["no_logs"],
        ),
        Headline(texts["col_certified"], texts.number(certified), texts["source_certified"]),
        Headline(texts["col_approval"], texts.percent(approved / enrolled if enrolled else None), texts["source_approval"]),
    ]


def enrolment_note(sources: dict | None, texts: Texts) -> str:
    """Which source the enrolled-by-mode series of a course comes from, and which days it covers."""
    if sources is None:
        return ""
    if sources["snapshot_date"] is None:
        return texts("note_enrolled_events", start=texts.date(sources["first_date"]))
    return texts("note_enrolled_table", snapshot=texts.date(sources["snapshot_date"]))


def has_data(course: dict, active_courses: set[str]) -> bool:
    """Whether a course run has anything to show: a delivery of its tables, enrolments, or events."""
    return course["snapshot_date"] is not None or course["users_total"] > 0 or course["course_key"] in active_courses
