"""The whole job on a generated sample, as the deployments run it: an encrypted course-data
delivery and a week of tracking logs are put in a local S3 server (moto) under edX's keys, then
the `sync-course-data` and `sync-events` flows fetch and land them, on Prefect's ephemeral API
(no server to run). Each service it starts is stopped by pid at the end.

    .venv/bin/python -m flows.quickstart [--courses N] [--learners M] [--days D]   (scripts/demo.sh)
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

from idbx.local.sample import write_sample
from idbx.local.services import local_s3_server

SAMPLE = Path("sample")
LAKE = Path("lake")
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
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])))
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
    with local_s3_server(SAMPLE / "local-s3.log") as s3:
        # Set before Prefect is imported: it reads its settings once.
        os.environ.update({
            "AWS_ACCESS_KEY_ID": "quickstart", "AWS_SECRET_ACCESS_KEY": "quickstart", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_S3": s3.url, "IDBX_LAKE": str(LAKE.resolve()),
            "IDBX_GPG_KEY": str(made.key_file.resolve()), "IDBX_GPG_PASSPHRASE": made.passphrase,
            "PREFECT_HOME": str(PREFECT_HOME.resolve()), "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "true",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        })
        os.environ.pop("PREFECT_API_URL", None)
        from flows.sync_course_data import sync_course_data
        from flows.sync_events import sync_events
        from idbx.ingest.parsers.naming import events_log_date
        from idbx.sync.settings import SyncSettings
        from idbx.sync.upload import upload_as_delivered

        _say(f"local S3 server (moto) at {s3.url}, pid {s3.pid}")
        for where in upload_as_delivered(SyncSettings.resolve(), [made.package, *made.event_logs]):
            _say(f"  put {where}")
        days = sorted(events_log_date(log.name) for log in made.event_logs)
        states = [
            sync_course_data(return_state=True),
            # Up to the delivery's own day, whose log edX has not delivered yet: reported, not an error.
            sync_events(start=days[0], end=days[-1] + timedelta(days=1), return_state=True),
        ]
        for state in states:
            _say("\n" + _artifact(state))
    _say(f"local S3 server stopped. The lake is in {LAKE}/:\n"
         f"  duckdb {LAKE}/catalog.duckdb                      (the catalog: events, auth_user, ...)\n"
         f"  .venv/bin/idbx query \"SELECT * FROM ingest_manifest\" --lake {LAKE}\n"
         f"  {LAKE}/landing/                                  (the deliveries as fetched, kept for reprocessing)\n"
         f"  PREFECT_HOME={PREFECT_HOME} .venv/bin/prefect server start   (the flow runs and their artifacts)")
    return 0 if all(state.is_completed() for state in states) else 1


if __name__ == "__main__":
    sys.exit(main())
