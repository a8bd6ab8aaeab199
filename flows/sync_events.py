"""`sync-events`: fetch the tracking logs of a day, a range, or every day missed, and land them.

Each day is a fetch task and a landing task, fanned out over the task runner (a Dask cluster when
IDBX_DASK_ADDRESS or IDBX_DASK_WORKERS is set). The run ends with a markdown artifact, and fails
when a log could not be fetched or read; a day not delivered yet is only reported. Run by its
deployment, it starts build-and-publish when the lake is ahead of the marts.
"""

from __future__ import annotations

import time
from datetime import date

from prefect import flow, unmapped
from prefect.states import State

from idbx.config import lake_root
from idbx.lake.store import Lake
from idbx.orchestration.runners import task_runner
from idbx.orchestration.runs import finish_run, settle, start_build_and_publish
from idbx.orchestration.summary import FlowOutcome
from idbx.orchestration.tasks import fetch_event_day, land_event_logs
from idbx.sync.events import event_days
from idbx.sync.outcomes import SyncReport
from idbx.sync.settings import SyncSettings


@flow(name="sync-events", task_runner=task_runner())
def sync_events(day: date | None = None, start: date | None = None, end: date | None = None, lake: str | None = None) -> State:
    """`day`; or `start` to `end` (default yesterday); or every day after the lake's newest up to yesterday (UTC)."""
    started = time.monotonic()
    settings = SyncSettings.resolve()
    lake_dir = lake_root(lake)
    days, notes = event_days(Lake(lake_dir), settings, day, start, end)
    fetched = fetch_event_day.map(days, unmapped(str(lake_dir)), unmapped(settings))
    landed = land_event_logs.map(days, fetched, unmapped(str(lake_dir)))
    reports, fetch_errors = settle(fetched)
    summaries, land_errors = settle(landed)
    sync = SyncReport("events", notes=notes)
    for report in reports:
        sync.merge(report)
    span = f"{days[0]} to {days[-1]}" if len(days) > 1 else str(days[0]) if days else "nothing to do"
    outcome = FlowOutcome(
        f"sync-events: {span}", sync, [s for s in summaries if s], fetch_errors + land_errors, seconds=time.monotonic() - started
    )
    start_build_and_publish(outcome, lake)
    return finish_run(outcome, key="sync-events")
