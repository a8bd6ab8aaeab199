"""What the flow bodies share: gathering their tasks' results, starting build-and-publish after a
sync when the lake is ahead of the marts, and ending a run with its artifact and a state that
says whether every step succeeded."""

from __future__ import annotations

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.futures import PrefectFuture
from prefect.states import Completed, Failed, State

from idbx.config import lake_root
from idbx.errors import IdbxError
from idbx.lake.store import Lake
from idbx.orchestration.freshness import behind
from idbx.orchestration.summary import BuildAndPublishOutcome, FlowOutcome


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


def settle_step(future: PrefectFuture, step: str, errors: list[str]):
    """A step's result; or None, its failure added to `errors` as one line naming the step."""
    values, failed = settle([future])
    errors += [f"{step}: {line}" for line in failed]
    return values[0] if values else None


# The deployment (prefect.yaml) a sync deployment's run starts when the lake is ahead of it.
BUILD_AND_PUBLISH_DEPLOYMENT = "build-and-publish/after-sync"


def start_build_and_publish(outcome: FlowOutcome, lake: str | None) -> None:
    """When a sync runs as a deployment and the lake holds data the last complete build and
    publish did not cover (see idbx.orchestration.freshness: this run's landing or an earlier
    one whose build-and-publish never ran, crashed or failed), start the build-and-publish
    deployment on the same lake, without waiting for it (its own run, queued behind a build
    already running: the deployment allows one at a time). Why, and its run name, or why none
    was started, go into the sync's notes. Runs outside a deployment (the quickstart, a test, a
    developer's call) chain nothing: they build when they choose to."""
    from prefect.runtime import deployment

    if deployment.id is None:
        return
    reason = behind(Lake(lake_root(lake)))
    if reason is None:
        outcome.notes.append("the marts and MongoDB hold everything the lake does: build-and-publish not started")
        return
    try:
        run = run_deployment(BUILD_AND_PUBLISH_DEPLOYMENT, parameters={"lake": lake} if lake else {}, timeout=0)
    except ObjectNotFound:
        outcome.notes.append(
            f"{reason}, but {BUILD_AND_PUBLISH_DEPLOYMENT} is not deployed (prefect deploy --all): nothing was built or published"
        )
        return
    outcome.notes.append(f"{reason}: {BUILD_AND_PUBLISH_DEPLOYMENT} started, flow run {run.name}")


def finish_run(outcome: FlowOutcome | BuildAndPublishOutcome, key: str) -> State:
    """Publish the run's artifact and log its totals; Failed when anything failed (a file not
    fetched or read, a step of build-and-publish), with the first failure as the state's message."""
    create_markdown_artifact(outcome.markdown(), key=key, description=outcome.title)
    logger = get_run_logger()
    for line in outcome.log_lines():
        logger.info(line)
    if outcome.failures:
        for line in outcome.failures:
            logger.error(line)
        return Failed(message=outcome.failure_message())
    return Completed(message=outcome.title)
