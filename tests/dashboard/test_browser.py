"""The sample's dashboard in a real headless Chromium, opened from file:// as staff open it: no
console error, no request outside the site's folder, every chart drawn, the course table as
course_report says and sortable, one column on a phone."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from idbx.dashboard import build_site
from idbx.ingest.events import ingest_events
from idbx.models.runner import build
from tests.dashboard.conftest import chart_specs
from tests.dashboard.test_site import assert_table_matches_course_report, learner_pseudonyms

# Vega draws each mark set as <g class="mark-<type> role-mark ...">; a drawn chart has shapes in one.
DRAWN = """box => {
  const svg = box.querySelector('svg');
  return !!svg && svg.querySelectorAll('g.role-mark path, g.role-mark line, g.role-mark rect').length > 0;
}"""


@pytest.fixture(scope="module")
def pages(site, browser_context):
    """Every page of the site loaded once: (page name, Playwright page, console errors, requests)."""
    loaded = []
    for path in sorted(site.out.glob("*.html")):
        page = browser_context.new_page()
        errors, requests = [], []
        page.on("console", lambda message, errors=errors: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        page.on("request", lambda request, requests=requests: requests.append(request.url))
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.chart[data-spec]')].every(b => b.querySelector('svg'))", timeout=20000
        )
        loaded.append((path.name, page, errors, requests))
    yield loaded
    for _, page, _, _ in loaded:
        page.close()


def test_every_page_loads_from_file_without_errors_or_outside_requests(site, pages):
    root = site.out.as_uri() + "/"
    assert len(pages) == site.pages
    for name, _, errors, requests in pages:
        assert not errors, f"{name}: {errors}"
        assert requests and all(url.startswith(root) for url in requests), f"{name}: {requests}"


def test_every_chart_draws_its_marks(site, pages):
    drawn = 0
    for name, page, _, _ in pages:
        boxes = page.query_selector_all(".chart[data-spec]")
        for box in boxes:
            assert box.evaluate(DRAWN), f"{name}: chart {box.get_attribute('data-spec')} drew nothing"
            title = box.evaluate("box => box.closest('section').querySelector('h3').textContent")
            assert box.get_attribute("aria-label") == title, f"{name}: chart without its description"
        drawn += len(boxes)
    assert drawn == site.charts > 0


def test_the_course_table_shows_course_report_and_sorts(built_sample, pages):
    overview = next(page for name, page, _, _ in pages if name == "index.html")
    read_rows = """() => [...document.querySelectorAll('#courses tbody tr')].map(
        row => [...row.cells].map(cell => cell.getAttribute('data-value')))"""
    rows = overview.evaluate(read_rows)
    assert_table_matches_course_report(rows, built_sample)
    enrolled = overview.locator("#courses thead th").nth(5)
    enrolled.locator("button").click()
    ascending = [int(row[5]) for row in overview.evaluate(read_rows)]
    assert ascending == sorted(ascending) and enrolled.get_attribute("aria-sort") == "ascending"
    enrolled.locator("button").click()
    descending = [int(row[5]) for row in overview.evaluate(read_rows)]
    assert descending == sorted(ascending, reverse=True) and descending[0] > 0


def test_a_tooltip_shows_the_value_in_the_locale(pages):
    course = next(page for name, page, _, _ in pages if name == "course-idb1x_2t2014.html")
    funnel = course.locator(".chart[data-spec]").nth(3)
    bar = funnel.locator("g.mark-rect path").first
    bar.hover()
    tooltip = course.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible", timeout=5000)
    assert "Inscritos" in tooltip.inner_text() and "Estudiantes" in tooltip.inner_text()


def test_readable_on_a_phone(site, browser_context):
    page = browser_context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        page.goto(site.out.joinpath("course-idb1x_2t2014.html").as_uri())
        page.wait_for_function("() => [...document.querySelectorAll('.chart[data-spec]')].every(b => b.querySelector('svg'))")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, "the page scrolls sideways"
        widths = page.evaluate("() => [...document.querySelectorAll('.chart svg')].map(svg => svg.getBoundingClientRect().width)")
        assert widths and max(widths) <= 390
    finally:
        page.close()


def test_the_video_retention_curve_draws_and_hides_small_cells(lake, tmp_path, browser_context, monkeypatch):
    """A course of six viewers of one video (all from its start, four to 20 s, two on to 40 s): the
    course page draws its retention curve; the segments only two watched are not shown; no learner id."""
    monkeypatch.setenv("IDBX_PSEUDONYM_KEY", "browser-test-pseudonym-key-0123")
    course = "course-v1:IDBx+IDB6x+2016_T1"
    lines = []
    for user in range(1, 7):
        for second, event_type, position in ((0, "play_video", 0), (30, "pause_video", 40 if user > 4 else 20)):
            lines.append(
                json.dumps(
                    {
                        "username": f"learner{user}",
                        "event_type": event_type,
                        "event_source": "browser",
                        "time": f"2016-07-01T10:{user:02d}:{second:02d}+00:00",
                        "context": {"user_id": user, "course_id": course},
                        "event": json.dumps({"id": "abc123", "currentTime": position, "duration": 40}),
                    }
                )
            )
    log = tmp_path / "videos.log"
    log.write_text("\n".join(lines) + "\n")
    assert not ingest_events([log], lake, log_date=date(2016, 7, 1)).failed
    assert not build(lake).failed
    summary = build_site(lake, tmp_path / "site")
    page_file = summary.out / "course-idb6x_2016_t1.html"
    html = page_file.read_text()
    specs = [spec for spec in chart_specs(html) if spec.get("description") == "Retención en los vídeos"]
    assert len(specs) == 1
    shares = {row["seconds"]: row["share"] for row in specs[0]["datasets"]["values"]}
    # segments 0-4 (0-20 s) watched by all six; 5-8 by two (hidden); the final segment, 8, by two
    assert shares == {0: 1.0, 5: 1.0, 10: 1.0, 15: 1.0, 20: 1.0, 25: None, 30: None, 35: None, 40: None}
    assert "learner1" not in html  # no username
    assert learner_pseudonyms(lake) and not learner_pseudonyms(lake) & set(re.findall(r"[0-9A-Za-z]+", html))  # no learner id
    page = browser_context.new_page()
    page.goto(page_file.as_uri(), wait_until="load")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart[data-spec]')].every(b => b.querySelector('svg'))", timeout=20000
    )
    boxes = [
        box
        for box in page.query_selector_all(".chart[data-spec]")
        if box.get_attribute("aria-label") == "Retención en los vídeos"
    ]
    assert len(boxes) == 1 and boxes[0].evaluate(DRAWN)
    page.close()
