"""`idbx forget`: erase learners on request (idbx/privacy/forget.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from idbx.cli.common import LakeOption, app, err, out, reported_errors
from idbx.config import lake_root
from idbx.errors import ConfigError
from idbx.lake.store import Lake
from idbx.privacy import erasure
from idbx.privacy.forget import Identifiers, add, read_identifiers
from idbx.publish.settings import URI_ENV, MongoSettings


@app.command("forget")
def forget_command(
    username: Annotated[list[str] | None, typer.Option("--username", help="A learner's edX username (repeatable).")] = None,
    email: Annotated[list[str] | None, typer.Option("--email", help="A learner's email (repeatable).")] = None,
    user_id: Annotated[list[int] | None, typer.Option("--user-id", min=1, help="A learner's edX user id (repeatable).")] = None,
    from_file: Annotated[
        list[Path] | None,
        typer.Option("--from-file", help="A file of identifiers, one a line (user_id:N, username:U, email:E, or bare)."),
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="deidentify: their rows stay counted under a random id; delete: removed.")
    ] = erasure.DEIDENTIFY,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the files and deliveries that hold them; change nothing.")
    ] = False,
    purge_landing: Annotated[
        bool,
        typer.Option(
            "--purge-landing",
            help="Remove the deliveries in landing/ that hold them (edX's bucket still has them; the register filters them).",
        ),
    ] = False,
    lake: LakeOption = None,
) -> None:
    """Erase learners on request: nothing the engine keeps identifies them afterwards.

    Their rows in every bronze table and event are de-identified (or deleted), the marts rebuilt,
    MongoDB published again when IDBX_MONGO_URI is set, the exports and the site written again.
    Their salted hashes go into the lake's erasure register, which every later ingest applies.
    Stopped or killed, run it again (with or without the identifiers): it finishes first.
    Exit 1 if a step failed, 2 for a usage error.
    """
    with reported_errors():
        asked = _identifiers(username, email, user_id, from_file)
        mongo = MongoSettings.resolve() if os.environ.get(URI_ENV) else None
        # Imported here: it brings the models, publishing and the site, which other commands never load.
        from idbx.orchestration.after_erasure import forget_learners

        summary = forget_learners(Lake(lake_root(lake)), asked, mode, dry_run=dry_run, purge_landing=purge_landing, mongo=mongo)
    _print_summary(summary, dry_run)


def _identifiers(username, email, user_id, from_file) -> Identifiers:
    """The learners asked for, from the options and the files given."""
    asked = Identifiers()
    for kind, values in (("username", username), ("email", email), ("user_id", user_id)):
        for value in values or ():
            if not str(value).strip():
                raise ConfigError(f"--{kind.replace('_', '-')}: empty")
            add(asked, kind, value)
    for path in from_file or ():
        read_identifiers(path, asked)
    return asked


def _print_summary(summary, dry_run: bool) -> None:
    """What was (or would be) rewritten, then what is left for the user to know: MongoDB, landing/, notes."""
    verb = "would rewrite" if dry_run else "rewrote"
    if summary.resumed:
        out.print(f"finished the erasure a run left undone ({escape(summary.record)})", highlight=False)
    out.print(
        f"{summary.mode}: {summary.learners} learner(s); {verb} {len(summary.files)} file(s) in "
        f"{len(summary.partitions)} partition(s), {sum(f.matched for f in summary.files):,} row(s) of theirs, "
        f"in {summary.seconds:.1f} s",
        highlight=False,
    )
    for f in summary.files:
        out.print(f"  {escape(f.path)}: {f.matched:,} row(s), {f.rows_before:,} -> {f.rows_after:,}", highlight=False)
    if summary.not_found:
        out.print(
            f"{summary.not_found} identifier(s) found nowhere in the lake: registered, so no later ingest lands them",
            highlight=False,
        )
    if summary.steps:
        out.print(f"then: {', '.join(summary.steps)}", highlight=False)
    _print_left_behind(summary, dry_run)


def _print_left_behind(summary, dry_run: bool) -> None:
    """Where the learners may still be that this run did not reach (MongoDB unset, landing/ kept), and its notes."""
    if not dry_run and not os.environ.get(URI_ENV):
        out.print(f"MongoDB: {URI_ENV} is not set; the next `idbx publish` removes their documents", highlight=False)
    if summary.purged:
        out.print(f"removed from landing/: {', '.join(summary.purged)}", highlight=False)
    elif summary.landing:
        out.print(
            f"[yellow]landing/ still holds them[/] (encrypted, as delivered): {escape(', '.join(summary.landing))}; "
            "--purge-landing removes these",
            highlight=False,
        )
    for note in summary.notes:
        err.print(f"[yellow]note[/] {escape(note)}", highlight=False)
