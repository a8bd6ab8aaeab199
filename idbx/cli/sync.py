"""`idbx sync events|course-data`: fetch edX's deliveries from S3 into lake/landing/ (and land them
with `--ingest`), the same functions the Prefect flows run, without Prefect."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.markup import escape

from idbx.cli.common import FileProgress, LakeOption, app, err, parse_date, reported_errors
from idbx.cli.ingest import KeyOption, _gpg_settings, print_summary
from idbx.config import lake_root
from idbx.errors import ConfigError
from idbx.lake.store import Lake

sync_app = typer.Typer(
    help="Fetch edX's deliveries from S3 into lake/landing/ (credentials: AWS environment variables or "
    "IDBX_AWS_CREDENTIALS_BLOCK). Exit 0 when done (a day not delivered yet is only reported), "
    "1 when an object could not be fetched or, with --ingest, a file failed.",
    no_args_is_help=True,
)
app.add_typer(sync_app, name="sync")

OrgOption = Annotated[str | None, typer.Option("--org", help="edX organisation (env IDBX_ORG; default idbx).")]
IngestOption = Annotated[bool, typer.Option("--ingest", help="Also land what was synced in the lake (needs the partner key).")]


def _print_report(report) -> None:
    from idbx.sync.outcomes import CURRENT, DOWNLOADED, FAILED, IN_LAKE, MISSING

    colours = {DOWNLOADED: "green", CURRENT: "dim", IN_LAKE: "dim", MISSING: "yellow", FAILED: "red"}
    for item in report.objects:
        where = item.message or (f"{item.url} -> {item.path}" if item.path else item.url)
        err.print(f"[{colours[item.status]}]{item.status}[/] {escape(item.label)}: {escape(where)}", highlight=False)
    for note in report.notes:
        err.print(f"[dim]{escape(note)}[/]", highlight=False)
    counts = ", ".join(f"{report.count(s)} {s}" for s in (DOWNLOADED, CURRENT, IN_LAKE, MISSING, FAILED) if report.count(s))
    err.print(f"{report.what}: {counts or 'nothing to sync'} in {report.seconds:.1f} s")


@sync_app.command("events")
def sync_events_command(
    day: Annotated[str | None, typer.Option(help="One day (YYYY-MM-DD).")] = None,
    start: Annotated[str | None, typer.Option(help="First day of a range.")] = None,
    end: Annotated[str | None, typer.Option(help="Last day of a range (default: yesterday, UTC).")] = None,
    lake: LakeOption = None,
    org: OrgOption = None,
    bucket: Annotated[
        str | None, typer.Option(help="Events bucket (env IDBX_S3_EVENTS_BUCKET; default edx-course-data).")
    ] = None,
    prefix: Annotated[
        str | None, typer.Option(help="Events prefix (env IDBX_S3_EVENTS_PREFIX; default {org}/edx/events/).")
    ] = None,
    ingest: IngestOption = False,
    gpg_key: KeyOption = None,
) -> None:
    """Fetch daily tracking logs: a day, a range, or by default every day after the lake's newest up to yesterday (UTC)."""
    from idbx.ingest.events import ingest_events
    from idbx.sync.events import event_days, sync_events
    from idbx.sync.settings import SyncSettings

    with reported_errors():
        settings = SyncSettings.resolve(org=org, events_bucket=bucket, events_prefix=prefix)
        target = Lake(lake_root(lake))
        try:
            days, notes = event_days(
                target, settings, parse_date(day, "--day"), parse_date(start, "--start"), parse_date(end, "--end")
            )
        except ConfigError as exc:
            raise typer.BadParameter(str(exc)) from None
        with err.status(f"syncing {len(days)} day(s) of tracking logs"):
            report = sync_events(target, settings, days)
        report.notes[:0] = notes
        _print_report(report)
        summary = None
        if ingest and report.landed():
            with FileProgress("tracking logs") as progress:
                summary = ingest_events(
                    report.landed(), target, _gpg_settings(gpg_key), on_file=progress.on_file, on_plan=progress.on_plan
                )
    if summary:
        print_summary(summary)
    if report.failed or (summary and summary.failed):
        raise typer.Exit(1)


@sync_app.command("course-data")
def sync_course_data_command(
    delivery: Annotated[str | None, typer.Option(help="Delivery date (default: the newest in the bucket).")] = None,
    lake: LakeOption = None,
    org: OrgOption = None,
    bucket: Annotated[
        str | None, typer.Option(help="Course-data bucket (env IDBX_S3_COURSE_DATA_BUCKET; default course-data).")
    ] = None,
    prefix: Annotated[str | None, typer.Option(help="Course-data prefix (env IDBX_S3_COURSE_DATA_PREFIX; default none).")] = None,
    ingest: IngestOption = False,
    gpg_key: KeyOption = None,
) -> None:
    """Fetch a weekly course-data delivery ({org}-YYYY-MM-DD.zip); skipped when the lake holds it."""
    from idbx.ingest.course_data import ingest_package
    from idbx.sync.course_data import sync_course_data
    from idbx.sync.settings import SyncSettings

    with reported_errors():
        settings = SyncSettings.resolve(org=org, course_data_bucket=bucket, course_data_prefix=prefix)
        target = Lake(lake_root(lake))
        chosen: date | None = parse_date(delivery, "--delivery")
        with err.status("syncing the course-data delivery"):
            report = sync_course_data(target, settings, chosen)
        _print_report(report)
        summary = None
        if ingest and report.landed():
            with FileProgress("course tables") as progress:
                summary = ingest_package(
                    report.landed(), target, _gpg_settings(gpg_key), on_file=progress.on_file, on_plan=progress.on_plan
                )
    if summary:
        print_summary(summary)
    if report.failed or (summary and (summary.failed or summary.catalog_error)):
        raise typer.Exit(1)
