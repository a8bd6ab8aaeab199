"""Vega-Lite specifications of the dashboard's charts (pure: rows in, a JSON-ready dict out).

Charts are written with altair and rendered in the browser by Vega (its JavaScript ships beside
the pages). Each kind of chart is made once per language and shape and converted to a dict; each
use only attaches its rows (the named dataset `values`), so a site of many courses costs a
handful of conversions. Every row carries its count both as a number (for the marks) and as text
already formatted for the locale (for tooltips), "< 5" for a suppressed value.

Interactions: tooltips on every mark; on time series, drag to pan and wheel or pinch to zoom the
time axis (double-click resets); a legend entry selected highlights its series.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

import altair as alt

from idbx.dashboard import settings
from idbx.dashboard.texts import Texts

Spec = dict[str, Any]
# The Vega-Lite version of the specs altair writes ("6.4"), which picks the JavaScript to ship.
VEGA_LITE_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
VALUES = "values"  # the name of every chart's dataset
DIMMED = 0.15
SHORT_SERIES_DAYS = 21


def line_chart(
    rows: list[dict],
    texts: Texts,
    title: str,
    week: bool = False,
    series: tuple[str, ...] = (),
    series_title: str = "",
    colours: tuple[str, ...] = (),
) -> Spec:
    """Learners over time: rows of `date` (ISO), `learners` (None when suppressed), `learners_text`
    and, with several series, `series` (their names in `series`, coloured by `colours`)."""
    dates = [row["date"] for row in rows]
    few_days = (date.fromisoformat(max(dates)) - date.fromisoformat(min(dates))).days < SHORT_SERIES_DAYS
    return _with_rows(_line_template(texts.lang, title, week, few_days, series, series_title, colours), rows)


def bar_chart(
    rows: list[dict],
    texts: Texts,
    title: str,
    category_title: str,
    ordered: bool = False,
    measures: tuple[str, ...] = (),
    measure_title: str = "",
) -> Spec:
    """Horizontal bars: rows of `category`, `learners` and `learners_text` (and `measure`, one bar
    per measure side by side, when `measures` names them). Ranked by size unless `ordered` (the
    rows' order: steps of a funnel, ranges of a histogram)."""
    bars = len({row["category"] for row in rows}) * max(len(measures), 1)
    step = settings.BAR_STEP // 2 if measures else settings.BAR_STEP
    # A height in pixels rather than a step per bar: Vega-Lite fits only the width to the page then.
    return {
        **_with_rows(_bar_template(texts.lang, title, category_title, ordered, measures, measure_title), rows),
        "height": bars * step,
    }


def retention_chart(rows: list[dict], texts: Texts, title: str, series: tuple[str, ...]) -> Spec:
    """A curve per video: rows of `series` (the video), `seconds` (start of the segment), `share`
    (None when suppressed), `share_text` and `learners_text`."""
    return _with_rows(_retention_template(texts.lang, title, series), rows)


def _with_rows(template: Spec, rows: list[dict]) -> Spec:
    return {**template, "datasets": {VALUES: rows}}


@cache
def _line_template(
    lang: str, title: str, week: bool, few_days: bool, series: tuple[str, ...], series_title: str, colours: tuple[str, ...]
) -> Spec:
    texts = Texts(lang)
    time_title = texts["axis_week"] if week else texts["axis_date"]
    tooltip = [
        alt.Tooltip("date:T", title=time_title, format="%e %b %Y"),
        alt.Tooltip("learners_text:N", title=texts["tooltip_learners"]),
    ]
    zoom = alt.selection_interval(bind="scales", encodings=["x"])
    base = alt.Chart(alt.Data(name=VALUES)).encode(
        # Vega picks the time ticks (months, weeks, days); a series of a few days gets one tick a day, not hours.
        x=alt.X(
            "date:T",
            title=time_title,
            axis=alt.Axis(tickCount={"interval": "day", "step": 7 if week else 1}, format="%e %b") if few_days else alt.Axis(),
        ),
        y=alt.Y("learners:Q", title=texts["axis_learners"], axis=alt.Axis(format=",d", tickMinStep=1)),
    )
    if series:
        pick = alt.selection_point(fields=["series"], bind="legend")
        tooltip.insert(0, alt.Tooltip("series:N", title=series_title))
        colour = alt.Color(
            "series:N",
            title=series_title,
            sort=list(series),
            scale=alt.Scale(domain=list(series), range=list(colours)),
            legend=alt.Legend(orient="bottom", columns=1, labelLimit=260),
        )
        base = base.encode(color=colour, opacity=alt.condition(pick, alt.value(1), alt.value(DIMMED)))
        params = [zoom, pick]
    else:
        base = base.encode(color=alt.value(settings.MAIN_COLOUR))
        params = [zoom]
    lines = base.mark_line(invalid="break-paths-filter-domains", point=alt.OverlayMarkDef(size=30)).encode(tooltip=tooltip)
    return _finish(lines.add_params(*params).properties(height=settings.CHART_HEIGHT), texts, title)


@cache
def _retention_template(lang: str, title: str, series: tuple[str, ...]) -> Spec:
    texts = Texts(lang)
    pick = alt.selection_point(fields=["series"], bind="legend")
    tooltip = [
        alt.Tooltip("series:N", title=texts["tooltip_video"]),
        alt.Tooltip("seconds:Q", title=texts["axis_video_seconds"]),
        alt.Tooltip("share_text:N", title=texts["tooltip_share"]),
        alt.Tooltip("learners_text:N", title=texts["tooltip_learners"]),
    ]
    lines = (
        alt.Chart(alt.Data(name=VALUES))
        .mark_line(invalid="break-paths-filter-domains", point=alt.OverlayMarkDef(size=20))
        .encode(
            x=alt.X("seconds:Q", title=texts["axis_video_seconds"], axis=alt.Axis(format=",d", tickMinStep=5)),
            y=alt.Y("share:Q", title=texts["axis_still_watching"], axis=alt.Axis(format="%")),
            color=alt.Color(
                "series:N",
                title=texts["tooltip_video"],
                sort=list(series),
                legend=alt.Legend(orient="bottom", columns=2, labelLimit=200),
            ),
            opacity=alt.condition(pick, alt.value(1), alt.value(DIMMED)),
            tooltip=tooltip,
        )
    )
    zoom = alt.selection_interval(bind="scales", encodings=["x"])
    return _finish(lines.add_params(zoom, pick).properties(height=settings.CHART_HEIGHT), texts, title)


@cache
def _bar_template(
    lang: str, title: str, category_title: str, ordered: bool, measures: tuple[str, ...], measure_title: str
) -> Spec:
    texts = Texts(lang)
    tooltip = [alt.Tooltip("category:N", title=category_title), alt.Tooltip("learners_text:N", title=texts["tooltip_learners"])]
    sort: Any = None if ordered else "-x"
    chart = (
        alt.Chart(alt.Data(name=VALUES))
        .mark_bar()
        .encode(
            y=alt.Y("category:N", title=None, sort=sort, axis=alt.Axis(labelLimit=160)),
            x=alt.X("learners:Q", title=texts["axis_learners"], axis=alt.Axis(format=",d", tickMinStep=1)),
        )
    )
    if measures:
        pick = alt.selection_point(fields=["measure"], bind="legend")
        tooltip.insert(1, alt.Tooltip("measure:N", title=measure_title))
        chart = chart.encode(
            yOffset=alt.YOffset("measure:N", sort=list(measures)),
            color=alt.Color(
                "measure:N",
                title=measure_title,
                sort=list(measures),
                scale=alt.Scale(domain=list(measures), range=list(settings.CATEGORY_COLOURS[: len(measures)])),
                legend=alt.Legend(orient="bottom", columns=1),
            ),
            opacity=alt.condition(pick, alt.value(1), alt.value(DIMMED)),
        ).add_params(pick)
    else:
        chart = chart.encode(color=alt.value(settings.MAIN_COLOUR))
    return _finish(chart.encode(tooltip=tooltip), texts, title)


def _finish(chart: alt.Chart, texts: Texts, title: str) -> Spec:
    """The chart as a Vega-Lite dict: full width of its box, system fonts, the accessible palette,
    and a description that screen readers announce."""
    configured = chart.properties(width="container", description=title).configure(
        font=settings.FONT,
        range=alt.RangeConfig(category=list(settings.CATEGORY_COLOURS)),
        view=alt.ViewConfig(stroke=None),
        axis=alt.AxisConfig(labelFontSize=12, titleFontSize=12),
        legend=alt.LegendConfig(labelFontSize=12, titleFontSize=12),
    )
    return configured.to_dict(validate=False)
