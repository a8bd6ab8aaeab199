"""The sample's dashboard, built once (read-only for the tests that use it), and a real headless
Chromium (the distribution's package) driven by Playwright, skipped when there is none."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from idbx.dashboard import SiteSummary, build_site
from idbx.lake.store import Lake

CHROMIUM = "/usr/bin/chromium"
# Flags that let Chromium run headless as root on a machine without a GPU or network.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def site(built_sample: Lake, tmp_path_factory: pytest.TempPathFactory) -> SiteSummary:
    return build_site(built_sample, tmp_path_factory.mktemp("site") / "dashboard")


def chart_specs(html: str) -> list[dict]:
    """The Vega-Lite specs embedded in a page."""
    return [
        json.loads(text) for text in re.findall(r'<script type="application/json" id="chart-\d+-spec">(.*?)</script>', html, re.S)
    ]


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory):
    """A fresh Chromium profile; every process of it is gone after the module (checked)."""
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which("chromium")):
        pytest.skip("no Chromium: install the distribution's package (`apt-get install -y chromium`; .ci/run does it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (dev extra)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium"),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()
    assert not _processes_using(profile), "a Chromium process of the test is still running"


def _processes_using(profile: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if str(profile).encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found
