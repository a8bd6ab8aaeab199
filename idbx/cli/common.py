"""What every `idbx` command shares: the app, the consoles, common options and error reporting.

Progress and summaries go to stderr; query results go to stdout, so `idbx query ... --csv > f.csv`
stays clean.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from idbx import stopping
from idbx.errors import ConfigError, IdbxError, Interrupted, printable

EXIT_FAILED = 1  # something failed while running: a file, a query, the catalog, the disk
EXIT_USAGE = 2  # the command cannot start: a bad option or argument, a missing key, an unusable lake folder

app = typer.Typer(
    help="IDBx Data Engine: edX research data packages into a DuckDB/Parquet lake.",
    epilog=(
        "Exit codes: 0 done; 1 something failed while running (a file could not be read or had more rejected "
        "rows than IDBX_MAX_REJECT_RATE, a query or the catalog failed, the disk filled up); 2 usage or configuration error "
        "(bad option, missing or unusable key or passphrase, a lake folder that cannot be written); "
        "130 or 143 stopped by SIGINT or SIGTERM (what landed is kept; run again to finish). "
        "`idbx lake check` exits 1 when the lake needs a re-run."
    ),
    no_args_is_help=True,
)

# Wide when piped or logged, so messages and tables are not folded at 80 columns.
_WIDTH = None if sys.stderr.isatty() else 200
err = Console(stderr=True, width=_WIDTH, soft_wrap=True)
out = Console(width=None if sys.stdout.isatty() else 200)

LakeOption = Annotated[Path | None, typer.Option("--lake", help="Lake folder (env IDBX_LAKE; default ./lake).")]
RegistryOption = Annotated[Path | None, typer.Option("--registry", help="Registry CSV (default: the one shipped with idbx).")]


def shown(text: object) -> str:
    """Text from outside as the terminal should show it: control characters escaped, no markup."""
    return escape(printable(str(text)))


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


def existing_folder(path: Path | None, option: str) -> Path | None:
    """An output path whose folder exists: a mistyped --out is refused rather than created."""
    if path is not None and not path.expanduser().absolute().parent.is_dir():
        raise ConfigError(f"{option} {path}: there is no folder {path.expanduser().absolute().parent} (create it first)")
    return path


@contextmanager
def reported_errors() -> Iterator[None]:
    """One line for what a user can cause, never a traceback: configuration errors exit 2, the
    rest (including the system's own, such as a full disk) exit 1. SIGINT and SIGTERM stop the
    work at its next safe point, cleaned up, with exit 128 + the signal's number (130, 143)."""
    with stopping.stop_on_signals():
        try:
            yield
        except ConfigError as exc:
            err.print(f"[bold red]error:[/] {shown(exc)}", highlight=False)
            raise typer.Exit(EXIT_USAGE) from None
        except IdbxError as exc:
            err.print(f"[bold red]error:[/] {shown(exc)}", highlight=False)
            raise typer.Exit(EXIT_FAILED) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            err.print(f"[bold red]error:[/] {shown(where + (exc.strerror or str(exc)))}", highlight=False)
            raise typer.Exit(EXIT_FAILED) from None
        except Interrupted:
            pass
        signum = stopping.requested()
    if signum:
        err.print(
            f"[bold red]stopped[/] by {signal.Signals(signum).name}: what was done so far (files landed, models built) is "
            "kept and recorded, the rest was not started or was dropped; run the same command again to finish "
            "(`idbx lake check` says what is left)",
            highlight=False,
        )
        raise typer.Exit(128 + signum)


class FileProgress:
    """A progress bar on stderr over the files of a run, fed by the pipelines' on_plan/on_file callbacks."""

    def __init__(self, label: str, describe: Callable[[Any], str] = lambda outcome: Path(outcome.name).name):
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[current]}"),
            console=err,
            transient=True,
        )
        self.label = label
        self.describe = describe
        self.task = None

    def __enter__(self) -> FileProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def on_plan(self, total: int) -> None:
        self.task = self.progress.add_task(self.label, total=total, current="")

    def on_file(self, outcome: Any) -> None:
        if self.task is not None:
            self.progress.update(self.task, advance=1, current=shown(self.describe(outcome)))
