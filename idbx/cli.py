"""`idbx`: the command line over the same functions the Prefect flows call.

Progress and summaries go to stderr; query results go to stdout, so `idbx query ... --csv > f.csv`
stays clean.
"""

from __future__ import annotations

import csv
import os
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Iterator, Optional

import duckdb
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from idbx import catalog
from idbx.config import GPG_KEY_ENV, GpgSettings, lake_root
from idbx.course_data import ingest_package
from idbx.errors import IdbxError
from idbx.events import ingest_events
from idbx.lake import Lake
from idbx.outcomes import FAILED, INGESTED, UNCHANGED, UNHANDLED, RunSummary
from idbx.registry import load_registry

app = typer.Typer(help="IDBx Data Engine: edX research data packages into a DuckDB/Parquet lake.", no_args_is_help=True)
ingest_app = typer.Typer(help="Land edX deliveries in the lake.", no_args_is_help=True)
courses_app = typer.Typer(help="The course registry (idbx/data/courses.csv).", no_args_is_help=True)
catalog_app = typer.Typer(help="The analysts' catalog (lake/catalog.duckdb).", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(courses_app, name="courses")
app.add_typer(catalog_app, name="catalog")

# Wide when piped or logged, so messages and tables are not folded at 80 columns.
_WIDTH = None if sys.stderr.isatty() else 200
err = Console(stderr=True, width=_WIDTH, soft_wrap=True)
out = Console(width=None if sys.stdout.isatty() else 200)

LakeOption = Annotated[Optional[Path], typer.Option("--lake", help="Lake folder (env IDBX_LAKE; default ./lake).")]
KeyOption = Annotated[
    Optional[Path], typer.Option("--gpg-key", help="Partner's armored private key (env IDBX_GPG_KEY); its passphrase comes from IDBX_GPG_PASSPHRASE.")
]
RegistryOption = Annotated[Optional[Path], typer.Option("--registry", help="Registry CSV (default: the one shipped with idbx).")]


def _date(value: Optional[str], option: str) -> Optional[date]:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


@contextmanager
def _reported_errors() -> Iterator[None]:
    try:
        yield
    except IdbxError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None


class _FileProgress:
    def __init__(self, label: str):
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[current]}"), console=err, transient=True,
        )
        self.label = label
        self.task = None

    def __enter__(self) -> _FileProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def on_plan(self, total: int) -> None:
        self.task = self.progress.add_task(self.label, total=total, current="")

    def on_file(self, outcome) -> None:
        if self.task is not None:
            self.progress.update(self.task, advance=1, current=Path(outcome.name).name)


def print_summary(summary: RunSummary) -> None:
    table = Table(title=f"{summary.what}: {summary.seconds:.1f} s", title_justify="left")
    for column in ("status", "files", "rows", "rejected"):
        table.add_column(column, justify="right" if column != "status" else "left")
    for status in (INGESTED, UNCHANGED, FAILED, UNHANDLED):
        files = [f for f in summary.files if f.status == status]
        if files:
            table.add_row(status, str(len(files)), f"{sum(f.rows for f in files):,}", f"{sum(f.rejects for f in files):,}")
    err.print(table)
    for outcome in summary.files:
        if outcome.status == FAILED:
            err.print(f"[red]failed[/] {escape(outcome.error)}", highlight=False)
        elif summary.what == "events":
            detail = "; ".join([f"{outcome.rows:,} accepted", f"{outcome.rejects:,} rejected", *outcome.notes])
            err.print(escape(f"{outcome.status} {outcome.name} -> {outcome.partition}: {detail}"), highlight=False)
        elif outcome.rejects or outcome.notes:
            detail = "; ".join(([f"{outcome.rejects:,} rejected"] if outcome.rejects else []) + outcome.notes)
            err.print(f"[yellow]note[/] {escape(outcome.name)}: {escape(detail)}", highlight=False)
    unhandled = [Path(f.name).name for f in summary.files if f.status == UNHANDLED]
    if unhandled:
        shown = ", ".join(unhandled[:6]) + (f" and {len(unhandled) - 6} more" if len(unhandled) > 6 else "")
        err.print(f"[dim]not handled yet ({len(unhandled)}): {escape(shown)}[/]", highlight=False)
    if summary.rejects:
        view = "event_rejects" if summary.what == "events" else "table_rejects"
        err.print(f"[dim]rejected lines: idbx query \"SELECT * FROM {view}\"[/]")


@ingest_app.command("package")
def ingest_package_command(
    paths: Annotated[list[Path], typer.Argument(help="Delivery zip, unzipped folder, or table files (.sql, .sql.gpg).")],
    lake: LakeOption = None,
    gpg_key: KeyOption = None,
    snapshot_date: Annotated[Optional[str], typer.Option(help="Delivery date when the name does not carry it.")] = None,
    course_id: Annotated[Optional[str], typer.Option(help="edX course id for tables that do not name their course.")] = None,
) -> None:
    """Land a weekly course-data delivery as bronze Parquet; exit 1 if a file failed or rows were rejected."""
    with _reported_errors():
        gpg = _gpg_settings(gpg_key)
        with _FileProgress("course tables") as progress:
            summary = ingest_package(
                paths, Lake(lake_root(lake)), gpg, _date(snapshot_date, "--snapshot-date"), course_id,
                on_file=progress.on_file, on_plan=progress.on_plan,
            )
    print_summary(summary)
    if summary.failed or summary.rejects:
        raise typer.Exit(1)


def _gpg_settings(option: Optional[Path]) -> Optional[GpgSettings]:
    """Resolved when a key is given; encrypted input without one fails with a message naming the file."""
    return GpgSettings.resolve(option) if option or os.environ.get(GPG_KEY_ENV) else None


@ingest_app.command("events")
def ingest_events_command(
    paths: Annotated[list[Path], typer.Argument(help="Tracking logs (.log, .log.gz, .log.gz.gpg) or folders of them.")],
    lake: LakeOption = None,
    gpg_key: KeyOption = None,
    log_date: Annotated[Optional[str], typer.Option(help="Day of a single log whose name does not carry it.")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Files processed at once (default: one per core).")] = None,
) -> None:
    """Land daily tracking logs as bronze Parquet, one partition per day; exit 1 if a file could not be read."""
    with _reported_errors():
        with _FileProgress("tracking logs") as progress:
            summary = ingest_events(
                paths, Lake(lake_root(lake)), _gpg_settings(gpg_key), _date(log_date, "--log-date"), workers,
                on_file=progress.on_file, on_plan=progress.on_plan,
            )
    print_summary(summary)
    if summary.failed:
        raise typer.Exit(1)


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL over the catalog views (auth_user, events, ...).")],
    lake: LakeOption = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV with a header instead of a table.")] = False,
    limit: Annotated[int, typer.Option(help="Rows shown in table mode (CSV prints all).")] = 50,
) -> None:
    """Run SQL against lake/catalog.duckdb (read-only)."""
    path = Lake(lake_root(lake)).catalog_path
    if not path.exists():
        err.print(f"[bold red]error:[/] no catalog at {escape(str(path))}: ingest something first, or run `idbx catalog refresh`")
        raise typer.Exit(1)
    with duckdb.connect(str(path), read_only=True) as con:
        try:
            cursor = con.execute(sql)
        except duckdb.Error as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
            raise typer.Exit(1) from None
        names = [d[0] for d in cursor.description or []]
        if as_csv:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(names)
            while batch := cursor.fetchmany(10_000):
                writer.writerows(batch)
            return
        rows = cursor.fetchmany(limit + 1)
        table = Table(*names)
        for row in rows[:limit]:
            table.add_row(*("NULL" if v is None else escape(str(v)) for v in row))
        out.print(table)
        if len(rows) > limit:
            err.print(f"[dim](first {limit} rows; use --limit N or --csv for more)[/]")


@courses_app.command("list")
def courses_list(
    registry: RegistryOption = None,
    all_courses: Annotated[bool, typer.Option("--all", help="Include excluded runs.")] = False,
) -> None:
    """List the registered course runs."""
    with _reported_errors():
        reg = load_registry(registry)
    table = Table("course_key", "name", "sme", "start", "end", "passing", "excluded")
    for course in reg.courses.values():
        if course.excluded and not all_courses:
            continue
        table.add_row(
            course.course_key, escape(course.name), escape(course.sme), str(course.start_date or ""), str(course.end_date or ""),
            f"{course.passing_grade:.2f}", "yes" if course.excluded else "",
        )
    out.print(table)


@courses_app.command("check")
def courses_check(registry: RegistryOption = None) -> None:
    """Validate the registry: exit 1 and name every bad row; warnings do not fail."""
    with _reported_errors():
        reg = load_registry(registry)
    for warning in reg.warnings:
        err.print(f"[yellow]warning[/] {escape(warning)}", highlight=False)
    err.print(escape(f"{reg.path}: {len(reg.courses)} course runs ({len(reg.included())} included), no errors"))


@catalog_app.command("refresh")
def catalog_refresh(lake: LakeOption = None) -> None:
    """Rebuild lake/catalog.duckdb's views (after moving the lake, say)."""
    with _reported_errors():
        path = catalog.refresh(Lake(lake_root(lake)))
    err.print(escape(f"catalog rebuilt: {path}"))


@app.command()
def sample(
    out_dir: Annotated[Path, typer.Argument(help="Where to write the sample delivery and its key.")] = Path("sample"),
    courses: Annotated[int, typer.Option(min=1, help="Course runs in the delivery.")] = 4,
    learners: Annotated[int, typer.Option(min=1, help="Learners in the programme.")] = 300,
    snapshot_date: Annotated[str, typer.Option(help="Delivery date.")] = "2016-07-04",
    studentmodule_rows: Annotated[Optional[int], typer.Option(help="Exact courseware_studentmodule rows per course (benchmarks).")] = None,
    days: Annotated[int, typer.Option(min=0, help="Daily tracking logs before the delivery date.")] = 3,
) -> None:
    """Write a realistic encrypted sample delivery, tracking logs and the key that opens them."""
    from idbx.sample import write_sample

    made = write_sample(out_dir, courses, learners, _date(snapshot_date, "--snapshot-date"), studentmodule_rows, days)
    err.print(escape(f"package:    {made.package}\nkey:        {made.key_file}\npassphrase: export IDBX_GPG_PASSPHRASE={made.passphrase}"))
    for log in made.event_logs:
        err.print(escape(f"events:     {log}"))


def main() -> None:  # pragma: no cover - console script entry
    app()
