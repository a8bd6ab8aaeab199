"""`build_site`: the dashboard of a lake, what `idbx dashboard` and the build-and-publish flow call."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from idbx.dashboard import assets, settings
from idbx.dashboard.pages import build_pages
from idbx.dashboard.readers import read_dashboard_data
from idbx.dashboard.texts import Texts
from idbx.dashboard.writer import SiteWriter
from idbx.errors import ConfigError
from idbx.lake.store import Lake

DEFAULT_FOLDER = "dashboard"  # inside the lake


@dataclass
class SiteSummary:
    out: Path  # the live path: open out / "index.html"
    folder: Path  # this build's own folder (out links to it)
    lang: str
    min_cell: int
    courses: int
    pages: int
    charts: int
    merged_categories: int  # categories of breakdowns merged into "other" by the small-cell rule
    suppressed_values: int  # values of series shown as "< min_cell"
    files: int
    bytes: int
    seconds: float

    @property
    def index(self) -> Path:
        return self.out / settings.INDEX


def build_site(
    lake: Lake,
    out_dir: Path | None = None,
    lang: str = settings.DEFAULT_LANGUAGE,
    min_cell: int = settings.DEFAULT_MIN_CELL,
    on_step: Callable[[str], None] | None = None,
) -> SiteSummary:
    """Write the static site of the lake's marts to `out_dir` (default `lake/dashboard`) and put it
    live atomically; `on_step` hears each stage's name. Raises ConfigError for wrong options or a
    folder that cannot hold the site, IdbxError when there is nothing to show yet (no `idbx build`)
    or the site could not be written."""
    started = time.perf_counter()
    if lang not in settings.LANGUAGES:
        raise ConfigError(f"--lang {lang!r}: choose one of {', '.join(settings.LANGUAGES)}")
    if min_cell < 1:
        raise ConfigError(f"--min-cell {min_cell}: it must be at least 1")
    lake.require()
    step = on_step or (lambda name: None)
    out = Path(out_dir) if out_dir is not None else lake.root / DEFAULT_FOLDER
    texts = Texts(lang)
    step("reading the marts")
    data = read_dashboard_data(lake)
    with SiteWriter(out, aside=lake.aside) as site:
        step("scripts")
        previous = site.current
        script = assets.bundle_name()
        site.write(f"{settings.ASSETS}/{script}", assets.vega_bundle(previous / settings.ASSETS if previous else None))
        for name in assets.SITE_FILES:
            site.write(f"{settings.ASSETS}/{name}", assets.site_file(name))
        step("charts and pages")
        content = build_pages(data, texts, min_cell, assets.embed_options(texts.d3_locale), script)
        for name, html in content.pages.items():
            site.write(name, html)
        step("going live")
        live = site.go_live(
            {
                "lang": lang,
                "min_cell": min_cell,
                "data_through": data.build.data_through,
                "computed_at": data.build.computed_at,
                "courses": len(data.courses),
            }
        )
    return SiteSummary(
        out=live.out,
        folder=live.folder,
        lang=lang,
        min_cell=min_cell,
        courses=len(data.courses),
        pages=len(content.pages),
        charts=content.charts,
        merged_categories=content.tally.merged_categories,
        suppressed_values=content.tally.suppressed_values,
        files=live.files,
        bytes=live.bytes,
        seconds=time.perf_counter() - started,
    )
