"""`idbx scrub`: remove learner PII from bronze partitions past the retention period."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from idbx.cli.common import FileProgress, LakeOption, app, err, reported_errors
from idbx.config import lake_root
from idbx.lake.store import Lake
from idbx.privacy.scrub import ALREADY, DEFAULT_RETENTION_DAYS, FAILED, NO_PII, SCRUBBED, scrub


@app.command("scrub")
def scrub_command(
    lake: LakeOption = None,
    older_than: Annotated[
        int, typer.Option(min=0, help="Retention: scrub partitions dated more than DAYS days ago (UTC).", metavar="DAYS")
    ] = DEFAULT_RETENTION_DAYS,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be scrubbed; change nothing.")] = False,
) -> None:
    """Remove learner PII (usernames, emails, names, IPs, ...) from bronze partitions older than the retention period.

    Rows, row order and every other column stay as they were; a file is rewritten aside and renamed.
    Scrubbed files are marked, so running it again only touches new ones. Exit 1 if a file failed.
    """
    with reported_errors(), FileProgress("partition files", lambda outcome: outcome.path.rsplit("/", 1)[-1]) as progress:
        summary = scrub(Lake(lake_root(lake)), older_than, dry_run=dry_run, on_plan=progress.on_plan, on_file=progress.on_file)
    verb = "would scrub" if dry_run else SCRUBBED
    table = Table(title=f"scrub of partitions dated before {summary.cutoff}: {summary.seconds:.1f} s", title_justify="left")
    for column in ("status", "files", "rows"):
        table.add_column(column, justify="left" if column == "status" else "right")
    for status in (SCRUBBED, ALREADY, NO_PII, FAILED):
        files = summary.with_status(status)
        if files:
            table.add_row(verb if status == SCRUBBED else status, str(len(files)), f"{sum(f.rows for f in files):,}")
    if not summary.files:
        table.add_row("nothing that old", "0", "0")
    err.print(table)
    for note in summary.notes:
        err.print(f"[yellow]note[/] {escape(note)}", highlight=False)
    for outcome in summary.with_status(FAILED):
        err.print(f"[red]failed[/] {escape(outcome.error)}", highlight=False)
    if summary.with_status(FAILED):
        raise typer.Exit(1)
