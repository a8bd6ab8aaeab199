"""`sync-course-data`: fetch a weekly course-data delivery (default: the newest, unless the lake
holds it) and land it, one task per course run. Ends with a markdown artifact; fails when the
delivery could not be fetched or one of its files could not be read. Run by its deployment, it
starts build-and-publish when the lake is ahead of the marts."""

from __future__ import annotations

import time
from datetime import date

from prefect import flow, unmapped
from prefect.states import State

from idbx.config import lake_root
from idbx.orchestration.runners import task_runner
from idbx.orchestration.runs import finish_run, settle, start_build_and_publish
from idbx.orchestration.summary import FlowOutcome
from idbx.orchestration.tasks import fetch_delivery, land_course, plan_delivery
from idbx.sync.outcomes import SyncReport
from idbx.sync.settings import SyncSettings


@flow(name="sync-course-data", task_runner=task_runner())
def sync_course_data(delivery: date | None = None, lake: str | None = None) -> State:
    """`delivery` (a date), or the newest delivery in the bucket."""
    started = time.monotonic()
    settings = SyncSettings.resolve()
    lake_dir = str(lake_root(lake))
    reports, errors = settle([fetch_delivery.submit(delivery, lake_dir, settings)])
    sync = reports[0] if reports else SyncReport("course data")
    summaries, unhandled = [], []
    for package in sync.landed():
        plans, plan_errors = settle([plan_delivery.submit(package)])
        errors += plan_errors
        for courses, not_handled in plans:
            unhandled += not_handled
            landed, land_errors = settle(land_course.map(unmapped(package), courses, unmapped(lake_dir)))
            summaries += landed
            errors += land_errors
    label = sync.objects[0].label if sync.objects else str(delivery or "newest")
    outcome = FlowOutcome(
        f"sync-course-data: delivery {label}", sync, summaries, errors, unhandled, seconds=time.monotonic() - started
    )
    start_build_and_publish(outcome, lake)
    return finish_run(outcome, key="sync-course-data")
