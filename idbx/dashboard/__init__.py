"""`idbx dashboard`: a static, self-contained site of the marts (an overview and a page per course
run) that opens from a file share, an intranet server or an email attachment, with no server and
no network. Aggregates only; small cells suppressed (cells.py).

readers (I/O: marts → small aggregated tables) → pages (pure: small-cell rule, charts.py specs,
HTML from templates/) → writer (I/O: a build folder swapped in atomically); settings and texts
hold the policy and the words; site.build_site ties them together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from idbx.dashboard.site import SiteSummary, build_site

__all__ = ["SiteSummary", "build_site"]


def __getattr__(name: str):
    # Loaded on first use: altair and vl-convert take seconds to import, and every `idbx` command
    # imports this package's settings for its options.
    if name in __all__:
        from idbx.dashboard import site

        return getattr(site, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
