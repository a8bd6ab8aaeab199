"""The flows' tasks: each a thin call of an idbx function, small results, secrets resolved where
the task runs. Fetching retries with back-off when S3 failed transiently; landing does not retry
(a file that cannot be read fails the same way twice), nor do the build-and-publish steps (the
publish retries transient MongoDB errors itself; a model that fails fails again)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from idbx.errors import ConfigError, TransientS3Error
from idbx.exports.writer import write_standard_exports
from idbx.ingest.course_data import ingest_package, plan, recognised
from idbx.ingest.events import ingest_events
from idbx.ingest.outcomes import RunSummary
from idbx.ingest.sources import open_deliveries
from idbx.lake.store import Lake
from idbx.models.runner import BuildSummary, build
from idbx.orchestration.after_erasure import forget_learners
from idbx.orchestration.secrets import mongo_uri, partner_key, pseudonym_key
from idbx.privacy.forget import ForgetSummary, Identifiers, read_identifiers
from idbx.publish import MongoSettings, PublishSummary, publish
from idbx.publish.settings import URI_ENV
from idbx.sync import course_data, events
from idbx.sync.outcomes import SyncReport
from idbx.sync.settings import SyncSettings

FETCH_RETRIES = 3
FETCH_BACKOFF_SECONDS = 30


def _transient(task, task_run, state) -> bool:
    return isinstance(state.result(raise_on_failure=False), TransientS3Error)


def _raise_transient(report: SyncReport) -> SyncReport:
    """A fetch that failed transiently fails the task, so that Prefect tries it again later."""
    for item in report.transient_failures:
        raise TransientS3Error(item.url, item.message)
    return report


_FETCH = {
    "retries": FETCH_RETRIES,
    "retry_delay_seconds": exponential_backoff(backoff_factor=FETCH_BACKOFF_SECONDS),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": _transient,
    "cache_policy": NO_CACHE,
}
# Side effects (on the lake, on MongoDB): never served from a cache.
_NEVER_CACHED = {"cache_policy": NO_CACHE}


@task(name="fetch-event-day", task_run_name="fetch {day}", **_FETCH)
def fetch_event_day(day: date, lake_dir: str, settings: SyncSettings) -> SyncReport:
    return _raise_transient(events.sync_events(Lake(Path(lake_dir)), settings, [day]))


@task(name="land-event-logs", task_run_name="land {day}", **_NEVER_CACHED)
def land_event_logs(day: date, report: SyncReport, lake_dir: str) -> RunSummary | None:
    """Land the day's synced log; None when nothing was synced (missing, or already in the lake)."""
    paths = report.landed()
    if not paths:
        return None
    with partner_key() as gpg:
        return ingest_events(paths, Lake(Path(lake_dir)), gpg)


@task(name="fetch-delivery", **_FETCH)
def fetch_delivery(delivery: date | None, lake_dir: str, settings: SyncSettings) -> SyncReport:
    return _raise_transient(course_data.sync_course_data(Lake(Path(lake_dir)), settings, delivery))


@task(name="plan-delivery", **_NEVER_CACHED)
def plan_delivery(package: Path) -> tuple[list[str | None], list[str]]:
    """The delivery's course keys (one landing task each) and the files not handled yet. A
    delivery holding a many-course dump lands as one unit (`[None]`): the dump and the courses'
    own files may fill the same partitions, which only a single run can arbitrate. A delivery
    with no file we recognise fails the task, and so the run."""
    (delivery,) = open_deliveries([package], recognised=recognised)
    handled, unhandled = plan(delivery.members)
    not_handled = [Path(member.name).name for member in unhandled]
    if any(planned.parsed is None for planned in handled):
        return [None], not_handled
    return sorted({planned.parsed.course_key for planned in handled}), not_handled


@task(name="land-course", task_run_name="land {course_key}", **_NEVER_CACHED)
def land_course(package: Path, course_key: str | None, lake_dir: str) -> RunSummary:
    """One course run's files of the delivery; the whole delivery when `course_key` is None."""
    with partner_key() as gpg:
        return ingest_package([package], Lake(Path(lake_dir)), gpg, courses={course_key} if course_key else None)


@task(name="build-models", **_NEVER_CACHED)
def build_models(
    lake_dir: str, full_refresh: bool, rekey: bool = False, engine: str = "duckdb", spark_master: str | None = None
) -> BuildSummary:
    """The SQL models, as `idbx build` builds them (only what changed, unless `full_refresh`; on
    Spark with `engine="spark"`, every model recomputed)."""
    if engine == "spark":
        from idbx.models import spark  # pyspark only for this engine

        return spark.build(Lake(Path(lake_dir)), key=pseudonym_key(), rekey=rekey, master=spark_master)
    if engine != "duckdb":
        raise ConfigError(f"engine must be duckdb or spark, not {engine!r}")
    return build(Lake(Path(lake_dir)), full_refresh=full_refresh, key=pseudonym_key(), rekey=rekey)


@task(name="write-exports", **_NEVER_CACHED)
def write_exports(lake_dir: str) -> dict[Path, int]:
    return write_standard_exports(Lake(Path(lake_dir)))


@task(name="publish-to-mongodb", **_NEVER_CACHED)
def publish_marts(lake_dir: str) -> PublishSummary:
    """The marts into MongoDB; each transient error retried inside is logged as a warning."""
    return publish(Lake(Path(lake_dir)), MongoSettings.resolve(mongo_uri()), on_note=get_run_logger().warning)


@task(name="draw-dashboard", **_NEVER_CACHED)
def draw_dashboard(lake_dir: str, lang: str):
    """The offline dashboard (lake/dashboard/), swapped in atomically; its SiteSummary."""
    from idbx.dashboard import build_site  # altair and vl-convert take seconds to import: only here

    return build_site(Lake(Path(lake_dir)), lang=lang)


@task(name="forget-learners", **_NEVER_CACHED)
def forget_learners_task(
    lake_dir: str,
    usernames: list[str],
    emails: list[str],
    user_ids: list[int],
    from_files: list[str],
    mode: str,
    dry_run: bool,
    purge_landing: bool,
) -> ForgetSummary:
    """`idbx forget` with the same options; MongoDB published again when a URI is configured
    (its Secret block or IDBX_MONGO_URI). The artifact names no learner: counts and partitions."""
    import os

    from prefect.artifacts import create_markdown_artifact

    asked = Identifiers(set(user_ids), {u for u in usernames}, {e for e in emails})
    for path in from_files:
        read_identifiers(Path(path), asked)
    uri = mongo_uri() or os.environ.get(URI_ENV)
    summary = forget_learners(
        Lake(Path(lake_dir)),
        asked,
        mode,
        dry_run=dry_run,
        purge_landing=purge_landing,
        mongo=MongoSettings.resolve(uri) if uri else None,
        key=pseudonym_key(),
    )
    verb = "would rewrite" if dry_run else "rewrote"
    lines = [
        f"# forget-learners: {summary.mode}{' (dry run)' if dry_run else ''}",
        "",
        f"{summary.learners} learner(s); {verb} {len(summary.files)} file(s) in {len(summary.partitions)} partition(s); "
        f"{summary.not_found} identifier(s) found nowhere (registered)",
        "",
        *(f"- {p}" for p in summary.partitions),
        "",
        f"then: {', '.join(summary.steps) or 'nothing'}",
        "",
        f"landing/ still holds them: {', '.join(summary.landing)}"
        if summary.landing and not summary.purged
        else f"removed from landing/: {', '.join(summary.purged) or 'none'}",
    ]
    create_markdown_artifact("\n".join(lines), key="forget-learners", description="erasure on request")
    return summary
