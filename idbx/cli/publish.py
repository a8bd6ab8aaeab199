"""`idbx publish` (the marts into MongoDB) and `idbx mongo serve` (a local MongoDB-wire server)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from idbx.cli.common import LakeOption, app, err, reported_errors
from idbx.config import lake_root
from idbx.lake.store import Lake
from idbx.local import mongo as local_mongo
from idbx.publish.settings import DB_ENV, DEFAULT_DB, DEFAULT_URI, URI_ENV, MongoSettings

UriOption = Annotated[str | None, typer.Option("--mongo-uri", help=f"MongoDB URI (env {URI_ENV}; default {DEFAULT_URI}).")]
DbOption = Annotated[str | None, typer.Option("--db", help=f"Database (env {DB_ENV}; default {DEFAULT_DB}).")]


@app.command("publish")
def publish_command(lake: LakeOption = None, mongo_uri: UriOption = None, db: DbOption = None) -> None:
    """Publish the marts to MongoDB: `reports` (the predecessor's per-course documents), `courses`
    (metadata, indicators, daily and weekly series) and `learners` (person-course, pseudonymous).

    Only documents whose content changed are written; readers see each course's previous or new
    documents, whole, whatever happens (docs/publishing.md). Transient errors are
    retried with back-off. Exit codes: 0 published (or nothing had changed); 1 failed (no marts
    yet, server unreachable, credentials refused, a command refused, connection lost: the
    collections are left consistent and the next publish completes); 2 usage or configuration
    error (not a MongoDB URI, an `idbx build` running on the lake).
    """
    from idbx.publish import publish  # imported here: other commands start faster without it

    with reported_errors():
        settings = MongoSettings.resolve(mongo_uri, db)
        with _Progress() as progress:
            summary = publish(Lake(lake_root(lake)), settings, on_progress=progress.update, on_note=_note)
    for name, outcome in summary.collections.items():
        err.print(
            escape(f"{name}: written {outcome.written:,}, unchanged {outcome.unchanged:,}, removed {outcome.removed:,}"),
            highlight=False,
        )
    if summary.recovered_courses:
        err.print(escape(f"cleaned up after an interrupted publish: {', '.join(summary.recovered_courses)}"), highlight=False)
    where = f"database {summary.database} at {summary.hosts}"
    if summary.publish is None:
        err.print(escape(f"nothing had changed in {where} ({summary.seconds:.1f} s)"), highlight=False)
    else:
        err.print(
            escape(
                f"publish {summary.publish} to {where}: {len(summary.learner_courses)} course(s) with new learner "
                f"documents, {len(summary.removed_courses)} removed, in {summary.seconds:.1f} s"
            ),
            highlight=False,
        )


def _note(message: str) -> None:
    err.print(f"[yellow]retrying[/] {escape(message)}", highlight=False)


class _Progress:
    """A progress bar on stderr over the learner documents of a publish."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self.tasks: dict[str, int] = {}

    def __enter__(self) -> _Progress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def update(self, what: str, done: int, total: int) -> None:
        if what not in self.tasks:
            self.tasks[what] = self.progress.add_task(what, total=total)
        self.progress.update(self.tasks[what], completed=done)


mongo_app = typer.Typer(
    help="A local MongoDB-wire server for trying publishing out (the idbx\\[local] extra).", no_args_is_help=True
)
app.add_typer(mongo_app, name="mongo")


@mongo_app.command("serve")
def mongo_serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = local_mongo.DEFAULT_PORT,
    storage_path: Annotated[
        Path, typer.Option("--storage-path", help="Folder of the server's data (kept across restarts).")
    ] = Path("mongo-data"),
    auth: Annotated[bool, typer.Option("--auth", help="Require users and passwords (create them first without --auth).")] = False,
) -> None:
    """Run SecantusDB, a MongoDB-wire server, on 127.0.0.1 in the foreground until stopped
    (Ctrl-C, or SIGTERM to its pid). It needs the optional extra: pip install 'idbx\\[local]'.

    Exit codes: 2 the extra is not installed; otherwise the server's own.
    """
    with reported_errors():
        command = local_mongo.command(storage_path.resolve(), port, auth=auth)
    storage_path.mkdir(parents=True, exist_ok=True)
    err.print(
        escape(f"SecantusDB on mongodb://127.0.0.1:{port} (data in {storage_path}); stop it with Ctrl-C or kill {os.getpid()}"),
        highlight=False,
    )
    os.execv(command[0], command)
