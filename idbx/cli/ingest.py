"""`idbx ingest package|events`: land deliveries and tracking logs, with progress and a summary."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from idbx.cli.common import FileProgress, LakeOption, app, err, parse_date, reported_errors, shown
from idbx.config import GPG_KEY_ENV, MAX_REJECT_RATE_ENV, GpgSettings, lake_root
from idbx.ingest.course_data import ingest_package
from idbx.ingest.events import ingest_events
from idbx.ingest.outcomes import FAILED, INGESTED, UNCHANGED, UNHANDLED, RunSummary
from idbx.lake.store import Lake

ingest_app = typer.Typer(help="Land edX deliveries in the lake.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")

KeyOption = Annotated[
    Path | None,
    typer.Option(
        "--gpg-key", help="Partner's armored private key (env IDBX_GPG_KEY); its passphrase comes from IDBX_GPG_PASSPHRASE."
    ),
]


def print_summary(summary: RunSummary) -> None:
    err.print(_status_table(summary))
    for outcome in summary.files:
        _print_outcome(summary.what, outcome)
    _print_run_notes(summary)


def _status_table(summary: RunSummary) -> Table:
    """Files, rows and rejected rows by status."""
    table = Table(title=f"{summary.what}: {summary.seconds:.1f} s", title_justify="left")
    for column in ("status", "files", "rows", "rejected"):
        table.add_column(column, justify="right" if column != "status" else "left")
    for status in (INGESTED, UNCHANGED, FAILED, UNHANDLED):
        files = [f for f in summary.files if f.status == status]
        if files:
            table.add_row(status, str(len(files)), f"{sum(f.rows for f in files):,}", f"{sum(f.rejects for f in files):,}")
    return table


def _print_outcome(what: str, outcome) -> None:
    """A file's line: its error, its partition (events), or its rejects and notes when it has any."""
    if outcome.status == FAILED:
        err.print(f"[red]failed[/] {shown(outcome.error)}", highlight=False)
    elif what == "events":
        detail = "; ".join([f"{outcome.rows:,} accepted", f"{outcome.rejects:,} rejected", *outcome.notes])
        err.print(shown(f"{outcome.status} {outcome.name} -> {outcome.partition}: {detail}"), highlight=False)
    elif outcome.first_rejects:
        detail = "; ".join([outcome.rejected_rows() + f", within {MAX_REJECT_RATE_ENV}", *outcome.notes])
        err.print(f"[yellow]warning[/] {shown(outcome.name)}: {shown(detail)}", highlight=False)
    elif outcome.rejects or outcome.notes:
        detail = "; ".join(([f"{outcome.rejects:,} rejected"] if outcome.rejects else []) + outcome.notes)
        err.print(f"[yellow]note[/] {shown(outcome.name)}: {shown(detail)}", highlight=False)


def _print_run_notes(summary: RunSummary) -> None:
    """What the run as a whole leaves to know: untyped and unhandled files, where the rejects are, errors, warnings."""
    untyped = sorted({f.dataset for f in summary.files if f.untyped and f.status in (INGESTED, UNCHANGED)})
    if untyped:
        err.print(
            f"[yellow]landed untyped[/] ({len(untyped)}): {shown(_listed(untyped))} — every column kept as text; "
            "declare the table in idbx/parsers/tables.py to type it",
            highlight=False,
        )
    unhandled = [Path(f.name).name for f in summary.files if f.status == UNHANDLED]
    if unhandled:
        err.print(f"[dim]not handled ({len(unhandled)}): {shown(_listed(unhandled))}[/]", highlight=False)
    if summary.rejects:
        view = "event_rejects" if summary.what == "events" else "table_rejects"
        err.print(f'[dim]rejected lines: idbx query "SELECT * FROM {view}"[/]')
    if summary.catalog_error:
        err.print(
            f"[bold red]error:[/] {shown(summary.catalog_error)}; the files above are in the lake and its "
            "manifest: run `idbx catalog refresh` once the cause is fixed",
            highlight=False,
        )
    for warning in summary.warnings:
        err.print(f"[yellow]warning[/] {shown(warning)}", highlight=False)


def _listed(names: list[str], shown: int = 6) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


@ingest_app.command("package")
def ingest_package_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Delivery zip, unzipped folder, or single files of it (.sql, .json, .mongo, .xml.tar.gz; encrypted .gpg or not)."
        ),
    ],
    lake: LakeOption = None,
    gpg_key: KeyOption = None,
    snapshot_date: Annotated[str | None, typer.Option(help="Delivery date when the name does not carry it.")] = None,
    course_id: Annotated[str | None, typer.Option(help="edX course id for tables that do not name their course.")] = None,
) -> None:
    """Land a weekly course-data delivery as bronze Parquet; exit 1 if a file failed (rejected rows over
    IDBX_MAX_REJECT_RATE, default 2%, fail their file; fewer land with a warning)."""
    with reported_errors():
        gpg = _gpg_settings(gpg_key)
        with FileProgress("course tables") as progress:
            summary = ingest_package(
                paths,
                Lake(lake_root(lake)),
                gpg,
                parse_date(snapshot_date, "--snapshot-date"),
                course_id,
                on_file=progress.on_file,
                on_plan=progress.on_plan,
            )
    print_summary(summary)
    if summary.failed or summary.catalog_error:
        raise typer.Exit(1)


def _gpg_settings(option: Path | None) -> GpgSettings | None:
    """Resolved when a key is given; encrypted input without one fails with a message naming the file."""
    return GpgSettings.resolve(option) if option or os.environ.get(GPG_KEY_ENV) else None


@ingest_app.command("events")
def ingest_events_command(
    paths: Annotated[list[Path], typer.Argument(help="Tracking logs (.log, .log.gz, .log.gz.gpg) or folders of them.")],
    lake: LakeOption = None,
    gpg_key: KeyOption = None,
    log_date: Annotated[str | None, typer.Option(help="Day of a single log whose name does not carry it.")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Files processed at once (default: one per core).")] = None,
) -> None:
    """Land daily tracking logs as bronze Parquet, one partition per day; exit 1 if a file could not be read."""
    with reported_errors(), FileProgress("tracking logs") as progress:
        summary = ingest_events(
            paths,
            Lake(lake_root(lake)),
            _gpg_settings(gpg_key),
            parse_date(log_date, "--log-date"),
            workers,
            on_file=progress.on_file,
            on_plan=progress.on_plan,
        )
    print_summary(summary)
    if summary.failed or summary.catalog_error:
        raise typer.Exit(1)
