"""`idbx report NAME`: CSV exports of the marts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from idbx.cli.common import LakeOption, app, err, existing_folder, reported_errors
from idbx.config import lake_root
from idbx.exports import engagement
from idbx.exports.reports import PII_COLUMNS, REPORTS
from idbx.exports.writer import write_report
from idbx.lake.store import Lake

_NAMES = ", ".join(f"{name} ({report.description})" for name, report in REPORTS.items())


@app.command("report")
def report_command(
    name: Annotated[str, typer.Argument(help=f"Which export: {_NAMES}.", metavar="NAME")],
    lake: LakeOption = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="CSV file to write (default: standard output).")] = None,
    excel: Annotated[
        bool, typer.Option("--excel", help="Start the file with a UTF-8 byte-order mark so that Excel shows accents.")
    ] = False,
    course: Annotated[list[str] | None, typer.Option("--course", help="Only this course run (its key; repeatable).")] = None,
    include_pii: Annotated[
        bool,
        typer.Option(
            "--include-pii",
            help="Staff exports only (masterfile, active-users: add username, email and full name; "
            "engagement: username and email in place of learner_id). Needs IDBX_PSEUDONYM_KEY.",
        ),
    ] = False,
    interval: Annotated[
        str | None,
        typer.Option(
            "--interval",
            help="engagement only: daily, weekly (Monday-Sunday, dated by the Sunday) or all (default).",
            metavar="daily|weekly|all",
        ),
    ] = None,
    start: Annotated[
        datetime | None,
        typer.Option("--start", formats=["%Y-%m-%d"], help="engagement only: first day (default: the first day of the events)."),
    ] = None,
    end: Annotated[
        datetime | None,
        typer.Option("--end", formats=["%Y-%m-%d"], help="engagement only: last day (default: the last day of the events)."),
    ] = None,
) -> None:
    """Export a report as CSV (UTF-8, header row), learners by pseudonymous id (named only with --include-pii).

    Reads the marts of the last `idbx build`. Exit codes: 0 written; 1 no such mart yet, the
    file could not be written, or --include-pii refused (not a staff export, no key or another
    key than the build's); 2 usage error (unknown report name).
    """
    if name not in REPORTS:
        raise typer.BadParameter(f"{name!r} is not a report; choose one of {', '.join(REPORTS)}", param_hint="NAME")
    intervals = None
    if interval is not None or start is not None or end is not None:
        if REPORTS[name].mart != engagement.MART:
            raise typer.BadParameter(
                f"--interval, --start and --end are for the engagement report, not {name}", param_hint="NAME"
            )
        if interval is not None and interval not in engagement.INTERVALS:
            raise typer.BadParameter(f"{interval!r}: choose one of {', '.join(engagement.INTERVALS)}", param_hint="--interval")
        if start and end and start > end:
            raise typer.BadParameter(f"--start {start:%Y-%m-%d} is after --end {end:%Y-%m-%d}", param_hint="--start")
        intervals = engagement.Intervals(interval or "all", start.date() if start else None, end.date() if end else None)
    with reported_errors():
        rows = write_report(
            Lake(lake_root(lake)).require(),
            name,
            existing_folder(out, "--out"),
            excel=excel,
            courses=course,
            include_pii=include_pii,
            intervals=intervals,
        )
    err.print(escape(f"{name}: {rows:,} rows" + (f" written to {out}" if out else "")), highlight=False)
    if include_pii:
        named = "username, email" if REPORTS[name].mart == engagement.MART else ", ".join(PII_COLUMNS).replace("_", " ")
        err.print(
            f"[bold yellow]warning:[/] this export names learners ({named}): "
            "personal data for internal use only; do not distribute it, delete it when done",
            highlight=False,
        )
