"""`idbx sample`: a generated, encrypted delivery and tracking logs for demos, tests and benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from idbx.cli.common import app, err, parse_date, reported_errors


@app.command()
def sample(
    out_dir: Annotated[Path, typer.Argument(help="Where to write the sample delivery and its key.")] = Path("sample"),
    courses: Annotated[int, typer.Option(min=1, help="Course runs in the delivery.")] = 4,
    learners: Annotated[int, typer.Option(min=1, help="Learners in the programme.")] = 300,
    snapshot_date: Annotated[str, typer.Option(help="Delivery date.")] = "2016-07-04",
    studentmodule_rows: Annotated[
        int | None, typer.Option(help="Exact courseware_studentmodule rows per course (benchmarks).")
    ] = None,
    days: Annotated[int, typer.Option(min=0, help="Daily tracking logs before the delivery date.")] = 3,
    upload: Annotated[
        bool, typer.Option("--upload", help="Also put the files in the S3 buckets `idbx sync` reads, under edX's keys.")
    ] = False,
) -> None:
    """Write a realistic encrypted sample delivery, tracking logs and the key that opens them."""
    from idbx.local.sample import write_sample

    made = write_sample(out_dir, courses, learners, parse_date(snapshot_date, "--snapshot-date"), studentmodule_rows, days)
    err.print(
        escape(
            f"package:    {made.package}\nkey:        {made.key_file}\npassphrase: export IDBX_GPG_PASSPHRASE={made.passphrase}"
        )
    )
    for log in made.event_logs:
        err.print(escape(f"events:     {log}"))
    if upload:
        from idbx.sync.settings import SyncSettings
        from idbx.sync.upload import upload_as_delivered

        with reported_errors():
            for where in upload_as_delivered(SyncSettings.resolve(), [made.package, *made.event_logs]):
                err.print(escape(f"uploaded:   {where}"))
