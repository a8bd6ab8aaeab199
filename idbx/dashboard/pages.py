"""The site's pages (pure: the aggregated data in, HTML text out): what each page shows, with the
small-cell rule applied (cells.py), charts as Vega-Lite specs (charts.py) and HTML from the Jinja
templates beside this module (autoescaped; chart specs embedded as JSON).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import jinja2

from idbx.dashboard import charts, content, settings
from idbx.dashboard.cells import Part, merge_small_parts, merge_small_ranges, shown_count
from idbx.dashboard.readers import DashboardData, Rows
from idbx.dashboard.texts import Texts

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("idbx.dashboard", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)

MODES = ("audit", "honor", "verified", "professional", "no-id-professional", "credit")
ACTIVITY_LABELS = ("ACTIVE", "PLAYED_VIDEO", "ATTEMPTED_PROBLEM", "POSTED_FORUM")


# Which small-cell rule a chart's counts follow (cells.py), recorded in its spec's `usermeta`.
BREAKDOWN, SERIES, HEADLINE = "breakdown", "series", "headline"


@dataclass
class Chart:
    """A chart of a page: its spec, or a message saying why there is none."""

    title: str
    note: str = ""
    spec: dict | None = None
    message: str = ""

    def draw(self, spec: dict, rule: str) -> None:
        self.spec = {**spec, "usermeta": {"small_cells": rule}}


@dataclass
class Tally:
    """What the small-cell rule hid while the pages were made (for the build summary)."""

    merged_categories: int = 0
    suppressed_values: int = 0


@dataclass
class SiteContent:
    """The pages of one site: file name -> HTML."""

    pages: dict[str, str] = field(default_factory=dict)
    charts: int = 0
    tally: Tally = field(default_factory=Tally)


def build_pages(data: DashboardData, texts: Texts, min_cell: int, vega_options: dict, script: str) -> SiteContent:
    """Every page of the site. `vega_options` go to vegaEmbed (renderer, locale); `script` is the
    file name of the Vega bundle in assets/."""
    maker = _PageMaker(data, texts, min_cell)
    common = {
        "t": texts,
        "lang": texts.lang,
        "min_cell": min_cell,
        "below": min_cell - 1,
        "assets": settings.ASSETS,
        "script": script,
        "vega_options": vega_options,
        "freshness": maker.freshness(),
        "build": maker.build_line(),
        "index": settings.INDEX,
        "rejects_page": settings.REJECTS_PAGE,
    }
    site = SiteContent(tally=maker.tally)
    overview_charts = maker.overview_charts()
    site.pages[settings.INDEX] = _render(
        "overview.html.j2",
        common,
        charts=overview_charts,
        courses=maker.course_rows(),
        headlines=content.headlines(maker.courses_with_data, data.weekly_active, texts),
        empty_courses=maker.empty_courses(),
    )
    site.charts += sum(1 for chart in overview_charts if chart.spec)
    for course in data.courses:
        course_charts = maker.course_charts(course["course_key"])
        site.pages[settings.course_page(course["course_key"])] = _render(
            "course.html.j2",
            common,
            course=maker.course_facts(course),
            charts=course_charts,
            checks=maker.reconciliation(course["course_key"]),
            problems=content.hardest_problems(maker.problems.get(course["course_key"], []), texts, min_cell),
        )
        site.charts += sum(1 for chart in course_charts if chart.spec)
    site.pages[settings.REJECTS_PAGE] = _render("rejects.html.j2", common, **maker.rejects())
    return site


def _render(template: str, common: dict, **context: Any) -> str:
    return _TEMPLATES.get_template(template).render(**common, **context)


def _by_course(rows: Rows) -> dict[str, Rows]:
    grouped: dict[str, Rows] = defaultdict(list)
    for row in rows:
        grouped[row["course_key"]].append(row)
    return grouped


class _PageMaker:
    def __init__(self, data: DashboardData, texts: Texts, min_cell: int):
        self.data, self.t, self.min_cell = data, texts, min_cell
        self.tally = Tally()
        self.names = _series_names(data.courses)
        self.enrolled_by_mode = _by_course(data.enrolled_by_mode)
        self.daily_active = _by_course(data.daily_active)
        self.weekly_active = _by_course(data.weekly_active)
        self.breakdowns = _by_course(data.course_breakdowns)
        self.ip_countries = _by_course(data.ip_countries or [])
        self.funnels = {row["course_key"]: row for row in data.funnel}
        self.histograms = _by_course(data.histograms)
        self.checks = _by_course(data.reconciliation)
        self.video_retention = _by_course(data.video_retention)
        self.chapter_funnel = _by_course(data.chapter_funnel)
        self.problems = _by_course(data.problems)
        self.enrolment_sources = {row["course_key"]: row for row in data.enrolment_sources}
        active = {row["course_key"] for row in data.daily_active}
        self.courses_with_data = [course for course in data.courses if content.has_data(course, active)]

    # -- the header and footer of every page --------------------------------------------------

    def freshness(self) -> dict:
        data, t = self.data, self.t
        line = {
            "data_through": t("data_through", date=t.date(data.build.data_through)),
            "last_build": t("last_build", when=t.datetime(data.build.computed_at)),
        }
        if data.log_days:
            end = data.log_days[-1]
            start = max(data.log_days[0], end - timedelta(days=settings.FRESHNESS_DAYS - 1))
            rejected = sum(row["rows"] for row in data.event_rejects if start <= row["log_date"] <= end)
            late = sum(row["late_events"] for row in data.late_events if start <= row["log_date"] <= end)
            line["logs"] = t("log_period", start=t.date(start), end=t.date(end), rejected=t.number(rejected), late=t.number(late))
        else:
            line["logs"] = t["no_logs"]
        line["deliveries"] = t("delivery_rejects", rows=t.number(sum(row["rows"] for row in data.table_rejects)))
        return line

    def build_line(self) -> str:
        build = self.data.build
        return self.t("footer", when=self.t.datetime(build.computed_at), version=build.definitions_version or self.t["none"])

    # -- overview -----------------------------------------------------------------------------

    def empty_courses(self) -> list[dict]:
        """Course runs of the registry with nothing delivered yet: listed apart from the table."""
        shown = {course["course_key"] for course in self.courses_with_data}
        return [
            {
                "name": course["name"] or course["course_key"],
                "key": course["course_key"],
                "page": settings.course_page(course["course_key"]),
            }
            for course in self.data.courses
            if course["course_key"] not in shown
        ]

    def course_rows(self) -> list[dict]:
        t = self.t
        rows = []
        for course in self.courses_with_data:
            rows.append(
                {
                    "page": settings.course_page(course["course_key"]),
                    "cells": [
                        (course["name"] or course["course_key"], course["name"] or course["course_key"]),
                        (course["course_key"], course["course_key"]),
                        (course["sme"] or "", course["sme"] or t["none"]),
                        (_iso(course["start_date"]), t.date(course["start_date"])),
                        (_iso(course["end_date"]), t.date(course["end_date"])),
                        (course["users_total"], t.number(course["users_total"])),
                        (course["users_active"], t.number(course["users_active"])),
                        (course["certificates_certified"], t.number(course["certificates_certified"])),
                        (
                            "" if course["approval_rate"] is None else f"{course['approval_rate']:.6f}",
                            t.percent(course["approval_rate"]),
                        ),
                        (int(course["registered"]), t["yes"] if course["registered"] else t["no"]),
                    ],
                }
            )
        return rows

    def overview_charts(self) -> list[Chart]:
        t, data = self.t, self.data
        result = [self._enrolled_by_course(), self._mode_chart(data.enrolled_by_mode)]
        result[1].note = t["note_enrolled_sources"]
        weekly = defaultdict(int)
        for row in data.weekly_active:
            weekly[(row["week_start"], row["label"])] += row["learners"]
        result.append(self._weekly_chart([{"week_start": w, "label": label, "learners": n} for (w, label), n in weekly.items()]))
        result[-1].note = t["note_weekly"]
        result.append(self._certificates_chart())
        programme = defaultdict(list)
        for row in data.programme_breakdowns:
            programme[row["breakdown"]].append((row["category"], row["learners"]))
        for breakdown in ("country", "gender", "education"):
            chart = self._breakdown_chart(breakdown, programme.get(breakdown, []), f"chart_{breakdown}")
            chart.note = t["note_programme_learners"]
            result.append(chart)
        return result

    def _enrolled_by_course(self) -> Chart:
        t = self.t
        chart = Chart(t["chart_enrolled_by_course"], t("note_enrolled", top=settings.TOP_COURSES))
        series: dict[str, dict[date, int]] = defaultdict(dict)
        for row in self.data.enrolled_by_course:
            series[row["course_key"]][row["date"]] = row["enrolled"]
        if not series:
            chart.message = t["no_data"]
            return chart
        ranked = sorted(series, key=lambda key: (-max(series[key].values()), key))
        top, rest = ranked[: settings.TOP_COURSES], ranked[settings.TOP_COURSES :]
        names = [self.names[key] for key in top]
        rows = [self._count_row(day, n, series=self.names[key]) for key in top for day, n in sorted(series[key].items())]
        if rest:
            other: dict[date, int] = defaultdict(int)
            for key in rest:
                for day, n in series[key].items():
                    other[day] += n
            names.append(t["other_courses"])
            rows += [self._count_row(day, n, series=t["other_courses"]) for day, n in sorted(other.items())]
        colours = settings.CATEGORY_COLOURS[: len(top)] + ((settings.OTHER_COLOUR,) if rest else ())
        chart.draw(
            charts.line_chart(rows, t, chart.title, series=tuple(names), series_title=t["legend_course"], colours=colours), SERIES
        )
        return chart

    def _mode_chart(self, rows: Rows) -> Chart:
        """Enrolled learners per day by mode, each day's split by the small-cell rule."""
        t = self.t
        chart = Chart(t["chart_enrolled_by_mode"])
        per_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for row in rows:
            per_day[row["date"]][row["mode"] or "unknown"] += row["enrolled"]
        points, seen = [], set()
        for day in sorted(per_day):
            for part in self._parts(per_day[day].items()):
                name = t.label("mode", part.category)
                seen.add(part.category)
                points.append(self._count_row(day, part.learners, series=name))
        if not points:
            chart.message = t("too_few", min_cell=self.min_cell) if per_day else t["no_data"]
            return chart
        order = [m for m in MODES if m in seen] + sorted(m for m in seen if m is not None and m not in MODES)
        names = [t.label("mode", m) for m in order] + ([t["other"]] if None in seen else [])
        colours = settings.CATEGORY_COLOURS[: len(order)] + ((settings.OTHER_COLOUR,) if None in seen else ())
        chart.draw(
            charts.line_chart(points, t, chart.title, series=tuple(names), series_title=t["legend_mode"], colours=tuple(colours)),
            BREAKDOWN,
        )
        return chart

    def _weekly_chart(self, rows: Rows) -> Chart:
        t = self.t
        chart = Chart(t["chart_weekly_active"])
        if not rows:
            chart.message = t["no_data"]
            return chart
        names = tuple(t.label("activity", label) for label in ACTIVITY_LABELS)
        points = [
            self._count_row(row["week_start"], row["learners"], series=t.label("activity", row["label"]))
            for row in sorted(rows, key=lambda r: (ACTIVITY_LABELS.index(r["label"]), r["week_start"]))
        ]
        chart.draw(
            charts.line_chart(
                points,
                t,
                chart.title,
                week=True,
                series=names,
                series_title=t["legend_label"],
                colours=settings.CATEGORY_COLOURS[: len(names)],
            ),
            SERIES,
        )
        return chart

    def _certificates_chart(self) -> Chart:
        t = self.t
        chart = Chart(t["chart_certificates"])
        rows = []
        for course in self.data.courses:
            if course["users_total"] == 0:
                continue
            for measure, column in ((t["approved"], "certificates_approved"), (t["certified"], "certificates_certified")):
                rows.append(
                    {
                        "category": self.names[course["course_key"]],
                        "measure": measure,
                        "learners": course[column],
                        "learners_text": t.number(course[column]),
                    }
                )
        if not rows:
            chart.message = t["no_data"]
            return chart
        chart.draw(
            charts.bar_chart(
                rows,
                t,
                chart.title,
                t["axis_course"],
                measures=(t["approved"], t["certified"]),
                measure_title=t["legend_measure"],
            ),
            HEADLINE,
        )
        return chart

    def _breakdown_chart(self, breakdown: str, counts: list[tuple[str, int]], title_key: str) -> Chart:
        t = self.t
        chart = Chart(t[title_key])
        keep = settings.TOP_COUNTRIES if breakdown == "country" else None
        parts = self._parts(counts, keep)
        if not parts:
            chart.message = t("too_few", min_cell=self.min_cell) if counts else t["no_data"]
            return chart
        rows = [
            {
                "category": t.label(breakdown, part.category)
                if part.category is not None
                else t("other_merged", merged=part.merged),
                "learners": part.learners,
                "learners_text": t.number(part.learners),
            }
            for part in parts
        ]
        chart.draw(charts.bar_chart(rows, t, chart.title, t["axis_category"]), BREAKDOWN)
        return chart

    # -- course pages -------------------------------------------------------------------------

    def course_facts(self, course: dict) -> dict:
        t = self.t
        return {
            "key": course["course_key"],
            "id": course["course_id"],
            "name": course["name"] or course["course_key"],
            "registered": course["registered"],
            "facts": [
                (t["col_sme"], course["sme"] or t["none"]),
                (t["col_start"], t.date(course["start_date"])),
                (t["col_end"], t.date(course["end_date"])),
                (t["col_enrolled"], t.number(course["users_total"])),
                (t["col_active"], t.number(course["users_active"])),
                (t["col_certified"], t.number(course["certificates_certified"])),
                (t["col_approval"], t.percent(course["approval_rate"])),
                *self._retired_fact(course["course_key"]),
            ],
            "snapshot": t("snapshot", date=t.date(course["snapshot_date"])) if course["snapshot_date"] else t["no_snapshot"],
        }

    def _retired_fact(self, key: str) -> list[tuple[str, str]]:
        """How many of the course's learners had their account retired by edX on request: counted
        in every figure, said so; a small count is shown as "< min_cell" like a series' counts."""
        retired = self.funnels.get(key, {}).get("retired")
        if retired is None:
            return []
        if shown_count(retired, self.min_cell) is None and retired:
            self.tally.suppressed_values += 1
            return [(self.t["col_retired"], self.t("suppressed", min_cell=self.min_cell))]
        return [(self.t["col_retired"], self.t.number(retired))]

    def course_charts(self, key: str) -> list[Chart]:
        t = self.t
        result = [self._mode_chart(self.enrolled_by_mode.get(key, []))]
        result[0].note = content.enrolment_note(self.enrolment_sources.get(key), t)
        daily = Chart(t["chart_daily_active"])
        days = self.daily_active.get(key, [])
        if days:
            daily.draw(charts.line_chart([self._count_row(row["date"], row["learners"]) for row in days], t, daily.title), SERIES)
        else:
            daily.message = t["no_data"]
        result.append(daily)
        weekly = self._weekly_chart(self.weekly_active.get(key, []))
        weekly.note = t["note_weekly_course"]
        result.append(weekly)
        result.append(self._funnel_chart(key))
        result.append(self._chapter_funnel_chart(key))
        result.append(self._histogram_chart(key, "ndays", t["chart_ndays"], t["axis_days_active"], settings.NDAYS_EDGES))
        result.append(
            self._histogram_chart(key, "time", t["chart_time"], t["axis_time_spent"], settings.TIME_SPENT_MINUTES_EDGES)
        )
        breakdowns = defaultdict(list)
        for row in self.breakdowns.get(key, []):
            breakdowns[row["breakdown"]].append((row["category"], row["learners"]))
        for breakdown in ("country", "gender", "education"):
            chart = self._breakdown_chart(breakdown, breakdowns.get(breakdown, []), f"chart_{breakdown}")
            chart.note = t["note_course_profiles"]
            result.append(chart)
        if self.data.ip_countries is not None:
            chart = self._breakdown_chart(
                "country", [(row["category"], row["learners"]) for row in self.ip_countries.get(key, [])], "chart_country_ip"
            )
            chart.note = t["note_ip"]
            result.append(chart)
        result.append(self._retention_chart(key))
        return result

    def _retention_chart(self, key: str) -> Chart:
        """Each video's learners per segment over its starters (users_at_start): only videos with
        at least min_cell starters, segments of fewer learners hidden (their share would tell)."""
        t = self.t
        chart = Chart(t["chart_video_retention"], t("note_video_retention", min_cell=self.min_cell))
        segments = self.video_retention.get(key, [])
        if not segments:
            chart.message = t["no_data"]
            return chart
        rows, videos = [], []
        for row in segments:
            if row["users_at_start"] < self.min_cell:
                continue
            if row["video_id"] not in videos:
                videos.append(row["video_id"])
            shown = shown_count(row["num_users"], self.min_cell)
            if shown is None:
                self.tally.suppressed_values += 1
            share = shown / row["users_at_start"] if shown is not None else None
            rows.append(
                {
                    "series": row["video_id"],
                    "seconds": row["segment"] * 5,
                    "share": share,
                    "share_text": t.percent(share) if share is not None else t("suppressed", min_cell=self.min_cell),
                    "learners_text": t.number(shown) if shown is not None else t("suppressed", min_cell=self.min_cell),
                }
            )
        if not videos:
            chart.message = t("too_few", min_cell=self.min_cell)
            return chart
        chart.draw(charts.retention_chart(rows, t, chart.title, tuple(videos)), SERIES)
        return chart

    def _funnel_chart(self, key: str) -> Chart:
        t = self.t
        chart = Chart(t["chart_funnel"], t["note_funnel"])
        funnel = self.funnels.get(key)
        if not funnel:
            chart.message = t["no_data"]
            return chart
        course = next(course for course in self.data.courses if course["course_key"] == key)
        if funnel["enrolled"] != course["users_total"]:
            chart.note += " " + t(
                "note_funnel_enrolled", funnel=t.number(funnel["enrolled"]), table=t.number(course["users_total"])
            )
        rows = [
            {"category": t[f"funnel_{step}"], "learners": funnel[step], "learners_text": t.number(funnel[step])}
            for step in ("enrolled", "viewed", "explored", "certified")
        ]
        chart.draw(charts.bar_chart(rows, t, chart.title, t["axis_category"], ordered=True), HEADLINE)
        return chart

    def _chapter_funnel_chart(self, key: str) -> Chart:
        t = self.t
        chart = Chart(t["chart_chapter_funnel"], t["note_chapter_funnel"])
        spec, hidden = content.chapter_funnel_spec(self.chapter_funnel.get(key, []), t, chart.title, self.min_cell)
        self.tally.suppressed_values += hidden
        if spec is None:
            chart.message = t["no_outline"]
        else:
            chart.draw(spec, SERIES)
        return chart

    def _histogram_chart(self, key: str, measure: str, title: str, range_title: str, edges: tuple[int, ...]) -> Chart:
        t = self.t
        chart = Chart(title)
        counts = {row["bin"]: row["learners"] for row in self.histograms.get(key, []) if row["measure"] == measure}
        if not counts:
            chart.message = t["no_data"]
            return chart
        highs = [*edges[1:], None]
        bins = [(low, high, counts.get(i, 0)) for i, (low, high) in enumerate(zip(edges, highs, strict=True))]
        ranges = merge_small_ranges(bins, self.min_cell)
        self.tally.merged_categories += len(merge_small_ranges(bins, 1)) - len(ranges)
        if not ranges:
            chart.message = t("too_few", min_cell=self.min_cell)
            return chart
        label = _days_label if measure == "ndays" else _minutes_label
        rows = [
            {"category": label(t, r.low, r.high), "learners": r.learners, "learners_text": t.number(r.learners)} for r in ranges
        ]
        chart.draw(charts.bar_chart(rows, t, title, range_title, ordered=True), BREAKDOWN)
        return chart

    def reconciliation(self, key: str) -> list[dict]:
        t = self.t
        return [
            {
                "check": t[f"check_{row['check_name']}"],
                "item": row["item"] if row["check_name"] == "file_rows" else "",
                "as_of": t.date(row["as_of"]),
                "expected": t.number(row["expected"]),
                "found": t.number(row["found"]),
                "difference": t.number(row["difference"]),
                "status": t[f"status_{row['status']}"] if f"status_{row['status']}" in t else row["status"],
                "ok": row["status"] == "ok",
            }
            for row in self.checks.get(key, [])
        ]

    # -- rejects page ---------------------------------------------------------------------------

    def rejects(self) -> dict:
        """The rejects page's tables: each cell a (sort value, text) pair."""
        t = self.t

        def day(value: date | None) -> tuple[str, str]:
            return _iso(value), t.date(value)

        def count(value: int | None) -> tuple[object, str]:
            return ("" if value is None else value), t.number(value)

        return {
            "table_rejects": [
                [
                    day(r["snapshot_date"]),
                    (r["course_key"],) * 2,
                    (r["table_name"],) * 2,
                    (r["source_file"],) * 2,
                    (r["reason"],) * 2,
                    count(r["rows"]),
                ]
                for r in self.data.table_rejects
            ],
            "event_rejects": [
                [day(r["log_date"]), (r["source_file"],) * 2, (r["reason"],) * 2, count(r["rows"])]
                for r in self.data.event_rejects
            ],
            "late_events": [
                [day(r["log_date"]), (r["source_file"],) * 2, count(r["late_events"]), count(r["max_days_late"])]
                for r in self.data.late_events
            ],
        }

    # -- the small-cell rule ----------------------------------------------------------------------

    def _parts(self, counts: Iterable[tuple[str, int]], keep: int | None = None) -> list[Part]:
        counts = list(counts)
        parts = merge_small_parts(counts, self.min_cell, keep)
        self.tally.merged_categories += _categories(merge_small_parts(counts, 1, keep)) - _categories(parts)
        return parts

    def _count_row(self, day: date, learners: int, **extra: str) -> dict:
        shown = shown_count(learners, self.min_cell)
        if shown is None and learners:
            self.tally.suppressed_values += 1
        text = self.t("suppressed", min_cell=self.min_cell) if shown is None and learners else self.t.number(learners)
        return {"date": day.isoformat(), "learners": shown, "learners_text": text, **extra}


def _series_names(courses: Rows) -> dict[str, str]:
    """A course's name in legends and axes: its registry name, with its key when two runs share it."""
    names = [course["name"] or course["course_key"] for course in courses]
    return {
        course["course_key"]: (name if names.count(name) == 1 else f"{name} · {course['course_key']}")
        for course, name in zip(courses, names, strict=True)
    }


def _categories(parts: list[Part]) -> int:
    return sum(1 for part in parts if part.category is not None)


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def _days_label(t: Texts, low: int, high: int | None) -> str:
    if high is None:
        return t("days_more", low=low)
    if high - low == 1:
        return t("days_one" if low == 1 else "days", low=low)
    return t("days_range", low=low, high=high - 1)


def _minutes_label(t: Texts, low: int, high: int | None) -> str:
    def duration(minutes: int) -> str:
        return f"{t.number(minutes)} min" if minutes < 60 else f"{t.number(minutes / 60)} h"

    if high is None:
        return f"≥ {duration(low)}" if low else t["any_time"]
    if low == 0:
        return f"< {duration(high)}"
    return f"{duration(low)}–{duration(high)}"
