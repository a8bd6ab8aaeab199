"""The whole job on a generated sample, as the deployments run it: an encrypted course-data
delivery and a week of tracking logs are put in a local S3 server (moto) under edX's keys; the
`sync-course-data` and `sync-events` flows fetch and land them, then `build-and-publish` builds the
indicators, writes the CSV exports, publishes to a local MongoDB-wire server (SecantusDB) and
draws the dashboard, on Prefect's ephemeral API (no server to run). Each service it starts is
stopped by pid at the end; it ends with a summary and where to look.

    .venv/bin/python -m flows.quickstart [--courses N] [--learners M] [--days D]   (scripts/demo.sh)
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

import pymongo

from idbx.errors import ConfigError, IdbxError
from idbx.local import mongo as local_mongo
from idbx.local.sample import write_sample
from idbx.local.services import free_port, local_s3_server

SAMPLE = Path("sample")
LAKE = Path("lake")
MONGO_DATA = Path("mongo-data")  # kept between runs: `idbx mongo serve --storage-path mongo-data`
DATABASE = "edx"
# The demo's own pseudonym key; a real lake keeps its key secret (a Prefect Secret, or the environment).
DEMO_PSEUDONYM_KEY = "idbx-demo-pseudonym-key"
# Kept between runs, so that the runs can be browsed afterwards:
#   PREFECT_HOME=sample/prefect-home .venv/bin/prefect server start
PREFECT_HOME = SAMPLE / "prefect-home"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _artifact(state) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]))
        )
    return "\n".join(a.data for a in found if a.type == "markdown")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--courses", type=int, default=4)
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--days", type=int, default=7)
    options = parser.parse_args(argv)

    _say(f"writing the sample: {options.courses} course runs, {options.learners} learners, {options.days} days of logs")
    made = write_sample(SAMPLE, options.courses, options.learners, days=options.days)
    PREFECT_HOME.mkdir(parents=True, exist_ok=True)
    mongo = local_mongo.LocalServer(free_port(), MONGO_DATA.resolve())
    with local_s3_server(SAMPLE / "local-s3.log") as s3:
        try:
            mongo.launch()
            # Set before Prefect is imported: it reads its settings once.
            os.environ.update(
                {
                    "AWS_ACCESS_KEY_ID": "quickstart",
                    "AWS_SECRET_ACCESS_KEY": "quickstart",
                    "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_ENDPOINT_URL_S3": s3.url,
                    "IDBX_LAKE": str(LAKE.resolve()),
                    "IDBX_GPG_KEY": str(made.key_file.resolve()),
                    "IDBX_GPG_PASSPHRASE": made.passphrase,
                    "IDBX_PSEUDONYM_KEY": DEMO_PSEUDONYM_KEY,
                    "IDBX_MONGO_URI": mongo.uri,
                    "IDBX_MONGO_DB": DATABASE,
                    "PREFECT_HOME": str(PREFECT_HOME.resolve()),
                    "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "true",
                    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
                    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                }
            )
            os.environ.pop("PREFECT_API_URL", None)
            states, published = _run_flows(s3, mongo, made)
        finally:
            mongo.stop()
    _say(
        f"\nlocal S3 server (moto) and MongoDB-wire server (SecantusDB) stopped.\n"
        f"Published to database {DATABASE}: " + ", ".join(f"{name} {count:,}" for name, count in published.items()) + "\n"
        f"Where to look:\n"
        f"  .venv/bin/duckdb -readonly {LAKE}/catalog.duckdb      (the lake: events, auth_user, ..., the marts)\n"
        f'  .venv/bin/idbx query "SELECT * FROM course_report" --lake {LAKE}\n'
        f"  {LAKE}/exports/*.csv                                  (the standard CSV exports)\n"
        f"  {(LAKE / 'dashboard' / 'index.html').absolute()}   (the dashboard: open it in any browser)\n"
        f"  .venv/bin/idbx mongo serve --storage-path {MONGO_DATA}   (the collections reports, courses, learners"
        f" of database {DATABASE}, for any MongoDB client)\n"
        f"  {LAKE}/landing/                                       (the deliveries as fetched, kept for reprocessing)\n"
        f"  PREFECT_HOME={PREFECT_HOME} .venv/bin/prefect server start   (the flow runs and their artifacts)"
    )
    return 0 if all(state.is_completed() for state in states) else 1


def _run_flows(s3, mongo: local_mongo.LocalServer, made) -> tuple[list, dict[str, int]]:
    """The three flows, their artifacts shown; then how many documents each collection holds."""
    from flows.build_and_publish import build_and_publish
    from flows.sync_course_data import sync_course_data
    from flows.sync_events import sync_events
    from idbx.parsers.naming import events_log_date
    from idbx.sync.settings import SyncSettings
    from idbx.sync.upload import upload_as_delivered

    _say(f"local S3 server (moto) at {s3.url}, pid {s3.pid}; MongoDB-wire server (SecantusDB) at {mongo.uri}, pid {mongo.pid}")
    for where in upload_as_delivered(SyncSettings.resolve(), [made.package, *made.event_logs]):
        _say(f"  put {where}")
    days = sorted(events_log_date(log.name) for log in made.event_logs)
    states = [
        sync_course_data(return_state=True),
        # Up to the delivery's own day, whose log edX has not delivered yet: reported, not an error.
        sync_events(start=days[0], end=days[-1] + timedelta(days=1), return_state=True),
        build_and_publish(return_state=True),
    ]
    for state in states:
        _say("\n" + _artifact(state))
    with pymongo.MongoClient(mongo.uri) as client:
        database = client[DATABASE]
        published = {name: database[name].count_documents({}) for name in ("reports", "courses", "learners")}
    return states, published


if __name__ == "__main__":
    try:
        sys.exit(main())
    except IdbxError as exc:  # a service that would not start, the extra not installed: one line, no traceback
        _say(f"error: {exc}")
        sys.exit(2 if isinstance(exc, ConfigError) else 1)
