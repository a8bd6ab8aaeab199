"""`idbx report NAME`: CSV exports of the marts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from idbx.cli.common import LakeOption, app, err, existing_folder, reported_errors
from idbx.config import lake_root
from idbx.exports.reports import REPORTS
from idbx.exports.writer import write_report
from idbx.lake.store import Lake

_NAMES = ", ".join(f"{name} ({report.description})" for name, report in REPORTS.items())


@app.command("report")
def report_command(
    name: Annotated[str, typer.Argument(help=f"Which export: {_NAMES}.", metavar="NAME")],
    lake: LakeOption = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="CSV file to write (default: standard output).")] = None,
    excel: Annotated[bool, typer.Option("--excel", help="Start the file with a UTF-8 byte-order mark so that Excel shows accents.")] = False,
    course: Annotated[Optional[list[str]], typer.Option("--course", help="Only this course run (its key; repeatable).")] = None,
    include_pii: Annotated[bool, typer.Option(
        "--include-pii", help="Staff exports only (masterfile, active-users): add username, email and full name (needs IDBX_PSEUDONYM_KEY)."
    )] = False,
) -> None:
    """Export a report as CSV (UTF-8, header row), learners by pseudonymous id (named only with --include-pii).

    Reads the marts of the last `idbx build`. Exit codes: 0 written; 1 no such mart yet, the
    file could not be written, or --include-pii refused (not a staff export, no key or another
    key than the build's); 2 usage error (unknown report name).
    """
    if name not in REPORTS:
        raise typer.BadParameter(f"{name!r} is not a report; choose one of {', '.join(REPORTS)}", param_hint="NAME")
    with reported_errors():
        rows = write_report(Lake(lake_root(lake)).require(), name, existing_folder(out, "--out"), excel=excel, courses=course, include_pii=include_pii)
    err.print(escape(f"{name}: {rows:,} rows" + (f" written to {out}" if out else "")), highlight=False)
    if include_pii:
        err.print("[bold yellow]warning:[/] this export names learners (username, email, full name): "
                  "personal data for internal use only; do not distribute it, delete it when done", highlight=False)
