"""`idbx dashboard`: the static site of the marts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from idbx.cli.common import LakeOption, app, err, existing_folder, out, reported_errors
from idbx.config import lake_root
from idbx.dashboard import settings
from idbx.lake.store import Lake


@app.command("dashboard")
def dashboard_command(
    lake: LakeOption = None,
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Folder of the site (default: LAKE/dashboard).")] = None,
    lang: Annotated[
        str, typer.Option("--lang", help=f"Language of the labels: {' or '.join(settings.LANGUAGES)}.")
    ] = settings.DEFAULT_LANGUAGE,
    min_cell: Annotated[
        int, typer.Option("--min-cell", min=1, metavar="N", help="Breakdown cells of fewer than N learners are suppressed.")
    ] = settings.DEFAULT_MIN_CELL,
) -> None:
    """Write the dashboard: a static site (an overview and a page per course run) from the marts.

    It opens from file:// in any browser, with no server and no network (the chart library ships
    in its assets/ folder). Aggregates only; small cells suppressed. The site is written beside the
    previous one and swapped in atomically. Prints the path of its index.html on standard output.
    Exit codes: 0 written; 1 no marts yet (run `idbx build`), another dashboard build writing the
    folder, or a write failed (disk full); 2 usage or configuration error (an --out that holds
    something else or cannot be created).
    """
    if lang not in settings.LANGUAGES:
        raise typer.BadParameter(f"{lang!r}: choose one of {', '.join(settings.LANGUAGES)}", param_hint="--lang")
    from idbx.dashboard import build_site  # imported here: altair and vl-convert take a while to load

    with reported_errors():
        root = Lake(lake_root(lake)).require()
        existing_folder(out_dir, "--out")
    with reported_errors(), err.status("dashboard") as status:
        summary = build_site(
            root,
            out_dir.expanduser().absolute() if out_dir else None,
            lang=lang,
            min_cell=min_cell,
            on_step=lambda step: status.update(f"dashboard: {step}"),
        )
    err.print(
        escape(
            f"dashboard: {summary.pages} pages ({summary.courses} course runs), {summary.charts} charts, "
            f"{summary.bytes / 1e6:.1f} MB, in {summary.seconds:.1f} s; small-cell rule (< {summary.min_cell}): "
            f"{summary.merged_categories} categories merged, {summary.suppressed_values} values shown as '< {summary.min_cell}'"
        ),
        highlight=False,
    )
    out.print(escape(str(summary.index)), highlight=False, soft_wrap=True)
