"""`idbx forget` whole: the learners erased from bronze (idbx/privacy/forget.py), then every output
made from bronze made again. The outputs live above privacy (models, MongoDB, exports, the site),
so the steps that drive them are named here and handed down; the erasure journals each by name, and
a run stopped between two resumes at the first one not done."""

from __future__ import annotations

import json
from collections.abc import Callable

from idbx.dashboard import settings as site_settings
from idbx.dashboard.site import build_site
from idbx.errors import IdbxError
from idbx.exports.writer import write_standard_exports
from idbx.lake.store import Lake
from idbx.models.runner import build
from idbx.privacy import erasure
from idbx.privacy.forget import FileErasure, ForgetSummary, Identifiers, forget
from idbx.publish.publisher import publish
from idbx.publish.settings import MongoSettings


def forget_learners(
    lake: Lake,
    asked: Identifiers,
    mode: str = erasure.DEIDENTIFY,
    dry_run: bool = False,
    purge_landing: bool = False,
    mongo: MongoSettings | None = None,
    key: str | None = None,
    on_file: Callable[[FileErasure], None] | None = None,
) -> ForgetSummary:
    """Erase the learners `asked` for, then make the outputs again; `mongo`: where to publish, None
    when no URI is configured; `key`: the pseudonym key for the rebuild (else from the environment)."""
    return forget(
        lake,
        asked,
        mode,
        dry_run=dry_run,
        purge_landing=purge_landing,
        outputs=lambda: output_steps(lake, mongo, key),
        on_file=on_file,
    )


def output_steps(lake: Lake, mongo: MongoSettings | None, key: str | None) -> list[tuple[str, Callable[[], object]]]:
    """What bronze was made into, made again: the models from scratch (their learner ids change),
    MongoDB when configured, the exports and the site when the lake has them."""
    steps: list[tuple[str, Callable[[], object]]] = []
    if lake.marts.exists() or lake.silver.exists():
        steps.append(("build", lambda: _rebuild(lake, key)))
    if mongo is not None and lake.marts.exists():
        steps.append(("publish", lambda: publish(lake, mongo)))
    if (lake.root / "exports").is_dir():
        steps.append(("exports", lambda: write_standard_exports(lake)))
    if (lake.root / "dashboard").is_dir():
        steps.append(("dashboard", lambda: _redraw(lake)))
    return steps


def _rebuild(lake: Lake, key: str | None) -> None:
    built = build(lake, full_refresh=True, key=key)
    if built.failed:
        raise IdbxError(f"model {built.failed[0].name}: {built.failed[0].error}")


def _redraw(lake: Lake) -> None:
    """The site drawn again as it was: same language and small-cell threshold."""
    drawn = lake.root / "dashboard" / site_settings.MARKER
    options = json.loads(drawn.read_text(encoding="utf-8")) if drawn.is_file() else {}
    build_site(
        lake,
        lang=options.get("lang", site_settings.DEFAULT_LANGUAGE),
        min_cell=options.get("min_cell", site_settings.DEFAULT_MIN_CELL),
    )
