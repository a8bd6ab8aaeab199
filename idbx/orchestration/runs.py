"""What the flow bodies share: gathering their tasks' results, and ending a run with its artifact
and a state that says whether every file was fetched and read."""

from __future__ import annotations

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.futures import PrefectFuture
from prefect.states import Completed, Failed, State

from idbx.errors import IdbxError
from idbx.orchestration.summary import FlowOutcome


def _one_line(exc: object, fallback: str) -> str:
    if isinstance(exc, IdbxError):
        return str(exc)
    if isinstance(exc, BaseException):
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
        return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return fallback


def settle(futures: list[PrefectFuture]) -> tuple[list, list[str]]:
    """The results of the tasks that completed, and one line for each that failed (after its
    retries). A task that never ran because the task it depends on failed adds nothing: that one
    is reported."""
    values, errors = [], []
    for future in futures:
        future.wait()
        state = future.state
        if state.is_completed():
            values.append(future.result())
        elif not state.is_pending():
            errors.append(_one_line(future.result(raise_on_failure=False), state.message or state.name))
    return values, errors


def finish_run(outcome: FlowOutcome, key: str) -> State:
    """Publish the run's artifact and log its totals; Failed when anything could not be fetched or read."""
    create_markdown_artifact(outcome.markdown(), key=key, description=outcome.title)
    totals = outcome.totals()
    logger = get_run_logger()
    logger.info(
        "%s: %d file(s) landed, %d unchanged, %d failed; %d rows, %d rejects, %d late events; %d missing in S3; %.1f s",
        outcome.title, totals["ingested"], totals["unchanged"], totals["failed"], totals["rows"], totals["rejects"],
        totals["late_events"], len(outcome.sync.missing), outcome.seconds,
    )
    for note in outcome.sync.notes:
        logger.info(note)
    if outcome.failures:
        for line in outcome.failures:
            logger.error(line)
        return Failed(message=outcome.failure_message())
    return Completed(message=outcome.title)
