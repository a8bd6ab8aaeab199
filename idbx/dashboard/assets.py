"""The files every page loads, shipped once in the site's assets/ folder (never from a CDN): Vega,
Vega-Lite and Vega-Embed as the one script vl-convert-python bundles (its pinned copies, no
network), the site's own stylesheet and script; and the d3 number and date locales vegaEmbed
formats chart labels with.

Bundling takes vl-convert about 10 s, so a build reuses the bundle of the site it replaces when
the file name (which carries the three libraries' versions) is the same, and a process makes it
once.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import vl_convert

from idbx.dashboard.charts import VEGA_LITE_VERSION

SITE_FILES = ("site.css", "site.js")


def bundle_name() -> str:
    return f"vega-{vl_convert.get_vega_version()}-lite-{VEGA_LITE_VERSION}-embed-{vl_convert.get_vega_embed_version()}.js"


def vega_bundle(previous_assets: Path | None) -> bytes:
    """The bundle's text: the previous build's copy when it has the same name, else made now."""
    if previous_assets is not None:
        previous = previous_assets / bundle_name()
        if previous.is_file():
            return previous.read_bytes()
    return _made_bundle()


@lru_cache(maxsize=1)
def _made_bundle() -> bytes:
    return vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION).encode()


def site_file(name: str) -> bytes:
    return files("idbx.dashboard").joinpath("static", name).read_bytes()


def embed_options(d3_locale: str) -> dict:
    """vegaEmbed's options: SVG (sharp on any screen, readable by screen readers), no export menu,
    and the language's number and date formats."""
    return {
        "renderer": "svg",
        "actions": False,
        "formatLocale": vl_convert.get_format_locale(d3_locale),
        "timeFormatLocale": vl_convert.get_time_format_locale(d3_locale),
    }
