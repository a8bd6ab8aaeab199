"""`idbx lake check`: whether the lake needs a re-run (after a crash, a kill or a failed file)."""

from __future__ import annotations

from collections import Counter

import typer
from rich.markup import escape

from idbx.cli.common import LakeOption, app, out, reported_errors
from idbx.config import lake_root
from idbx.lake.check import check_lake
from idbx.lake.store import Lake

lake_app = typer.Typer(help="The lake's own state.", no_args_is_help=True)
app.add_typer(lake_app, name="lake")


@lake_app.command("check")
def lake_check(lake: LakeOption = None) -> None:
    """Report what a re-run would change (interrupted runs, files published but not recorded or
    recorded but missing, files no source owns, failed files, leftovers of dead runs).

    Exit 0 when the lake is consistent, 1 when it needs a re-run (each problem on its own line,
    naming the source file to ingest again). Leftovers of dead runs are listed but exit 0: the
    next run removes them.
    """
    with reported_errors():
        report = check_lake(Lake(lake_root(lake)).require())
    for done in report.erasures:
        out.print(
            f"erasure {done['erased_at']}: {done['learners']} learner(s) ({done['mode']}), "
            f"{len(done['partitions'])} partition(s) rewritten"
            + (
                f", {len(done['purged'])} delivery(ies) removed from landing/"
                if done["purged"]
                else f", {len(done['landing'])} delivery(ies) in landing/ still hold them"
                if done["landing"]
                else ""
            ),
            highlight=False,
        )
    for problem in report.problems:
        out.print(f"[yellow]{problem.kind}[/] {escape(problem.message)}", highlight=False)
    if report.needs_rerun:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(Counter(p.kind for p in report.problems).items()))
        out.print(
            f"[bold red]the lake needs a re-run[/] ({kinds}); {report.sources:,} source files recorded, "
            f"{report.files:,} Parquet files checked",
            highlight=False,
        )
        raise typer.Exit(1)
    leftovers = f" ({len(report.problems)} leftover(s) the next run removes)" if report.problems else ""
    out.print(
        f"lake consistent{leftovers}: {report.sources:,} source files recorded, {report.files:,} Parquet files checked",
        highlight=False,
    )
