"""Dashboard settings: languages and locales, the small-cell threshold, colours, chart sizes, bins.

Policy lives here, in one place: the readers, builders and writer take it from this module.
"""

from __future__ import annotations

LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"  # the programme works in Spanish
# Babel's locale (texts, numbers and dates in pages) and d3's (numbers and dates inside charts).
LOCALES = {"es": ("es_ES", "es-ES"), "en": ("en_US", "en-US")}

# Fewer learners than this in a cell of a breakdown is suppressed (see cells.py).
DEFAULT_MIN_CELL = 5

# Okabe & Ito's colour-blind-safe palette (yellow left out: too pale on white), and a neutral
# grey for the merged "other" series.
CATEGORY_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
OTHER_COLOUR = "#8C8C8C"
MAIN_COLOUR = CATEGORY_COLOURS[0]
# System fonts only: nothing is downloaded.
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'

TOP_COURSES = len(CATEGORY_COLOURS) - 1  # course series drawn on their own; the rest summed
TOP_COUNTRIES = 15
# The data-freshness line counts rejected lines and late events over the last days of logs.
FRESHNESS_DAYS = 7

# Histogram ranges, [low, high) with None for "and more": days active, and time spent in minutes.
NDAYS_EDGES = (0, 1, 2, 3, 5, 10, 20, 40)
TIME_SPENT_MINUTES_EDGES = (0, 1, 5, 15, 30, 60, 120, 300, 600, 1200)

CHART_HEIGHT = 260
BAR_STEP = 22  # pixels per bar of a horizontal bar chart

# Site layout: pages at the top, the shared scripts and styles in assets/.
ASSETS = "assets"
INDEX = "index.html"
REJECTS_PAGE = "rejects.html"
# Written in every version of the site: what made it (so a folder is known to be ours).
MARKER = ".idbx-dashboard.json"


def course_page(course_key: str) -> str:
    """The course's page file name (course keys are lower-case letters, digits and `_`)."""
    safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in course_key)
    return f"course-{safe}.html"
