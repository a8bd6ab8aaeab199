"""`idbx build`: the SQL models (idbx/sql/) into lake/silver/ and lake/marts/."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from idbx.cli.common import LakeOption, RegistryOption, app, err, out, reported_errors
from idbx.config import lake_root
from idbx.errors import ConfigError
from idbx.lake.store import Lake


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


_STYLE = {"built": "green", "unchanged": "dim", "view": "dim", "failed": "bold red", "skipped": "yellow"}


@app.command("build")
def build_command(
    lake: LakeOption = None,
    select: Annotated[
        list[str] | None, typer.Option("--select", "-s", help="Build this model and what it reads (repeatable).")
    ] = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Recompute every model and every event day.")] = False,
    registry: RegistryOption = None,
    list_models: Annotated[bool, typer.Option("--list", help="List the models in build order and exit.")] = False,
    rekey: Annotated[
        bool,
        typer.Option(
            "--rekey",
            help="Accept another IDBX_PSEUDONYM_KEY than the last build's: every learner_id changes (refused without it).",
        ),
    ] = False,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            help="Where the models run: DuckDB on this machine, or Apache Spark (needs idbx[spark] and Java 17; "
            "every model recomputed).",
        ),
    ] = Engine.duckdb,
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            metavar="URL",
            help="With --engine spark: the Spark master (default IDBX_SPARK_MASTER, else local[2]).",
        ),
    ] = None,
) -> None:
    """Build the indicators: staging, intermediate and mart models, in dependency order.

    Only what changed is recomputed: models whose inputs and SQL are unchanged are kept, and the
    event aggregates are recomputed for the event days new log files hold. Learner ids are keyed
    by IDBX_PSEUDONYM_KEY (required).

    Exit codes: 0 every model built or up to date; 1 a model failed (the others were still built,
    except those that read it) or the registry is invalid; 2 usage or configuration error (no or
    too short IDBX_PSEUDONYM_KEY, another key than the lake was built with and no --rekey,
    another build running on the lake).
    """
    from idbx.models.project import read_project  # imported here: other commands start faster without it

    with reported_errors():
        if spark_master and engine != Engine.spark:
            raise ConfigError("--spark-master goes with --engine spark")
        if list_models:
            for model in read_project().models.values():
                out.print(f"{model.layer:<13} {model.materialized:<12} {model.name}", highlight=False)
            return
        root = Lake(lake_root(lake))
        with _ModelProgress() as progress:
            summary = _build(root, engine, select, full_refresh, registry, spark_master, rekey, progress)
    _print_summary(root, summary)
    if summary.failed or summary.catalog_error:
        raise typer.Exit(1)


def _build(root: Lake, engine: Engine, select, full_refresh: bool, registry, spark_master, rekey: bool, progress):
    """The build on the engine asked for (Spark recomputes every model: no --full-refresh to pass)."""
    if engine == Engine.spark:
        from idbx.models import spark

        return spark.build(
            root,
            select=select,
            registry_path=registry,
            master=spark_master,
            on_model=progress.on_model,
            on_plan=progress.on_plan,
            rekey=rekey,
        )
    from idbx.models.runner import build

    return build(
        root,
        select=select,
        full_refresh=full_refresh,
        registry_path=registry,
        on_model=progress.on_model,
        on_plan=progress.on_plan,
        rekey=rekey,
    )


def _print_summary(root: Lake, summary) -> None:
    """The table of models, then what the build noticed (rekeying, absent sources, reconciliation) and its errors."""
    table = Table("model", "status", "rows", "seconds", "notes", title=f"build of {escape(str(root.root))}")
    for outcome in summary.models:
        table.add_row(
            outcome.name,
            f"[{_STYLE.get(outcome.status, '')}]{outcome.status}[/]",
            "" if outcome.rows is None else f"{outcome.rows:,}",
            f"{outcome.seconds:.2f}",
            escape("; ".join(outcome.notes)),
        )
    err.print(table)
    if summary.rekeyed_learners is not None:
        err.print(
            escape(
                f"rekeyed: {summary.rekeyed_learners:,} learner ids replaced by ids under the new key; the next "
                "`idbx publish` switches each course's learner documents to them"
            ),
            highlight=False,
        )
    if summary.upgraded_event_files:
        err.print(
            f"upgraded {summary.upgraded_event_files:,} event file(s) landed before their body fields were kept beside "
            "the bodies (read out of each body once; their event days were recomputed)",
            highlight=False,
        )
    if summary.removed_outputs:
        err.print(
            escape(f"removed the outputs of what is no longer a stored model: {', '.join(summary.removed_outputs)}"),
            highlight=False,
        )
    if summary.absent_sources:
        err.print(escape(f"not in the lake (read as empty): {', '.join(summary.absent_sources)}"), highlight=False)
    for line in summary.flag_lines:
        err.print(escape(line), highlight=False)
    built = sum(1 for o in summary.models if o.status == "built")
    err.print(
        escape(f"{len(summary.models)} models: {built} built, {len(summary.failed)} failed, in {summary.seconds:.1f} s"),
        highlight=False,
    )
    for outcome in summary.failed:
        err.print(f"[bold red]error:[/] {escape(outcome.error)}", highlight=False)
    if summary.catalog_error:
        err.print(f"[bold red]error:[/] {escape(summary.catalog_error)}", highlight=False)


class _ModelProgress:
    """A progress bar over the models (transient: the summary table replaces it)."""

    def __init__(self):
        self.progress = Progress(
            TextColumn("[bold]build"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[current]}"),
            console=err,
            transient=True,
        )
        self.task = None

    def __enter__(self) -> _ModelProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def on_plan(self, total: int) -> None:
        self.task = self.progress.add_task("build", total=total, current="")

    def on_model(self, outcome) -> None:
        if self.task is not None:
            self.progress.update(self.task, advance=1, current=f"{outcome.name} {outcome.status}")
