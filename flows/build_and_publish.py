"""`build-and-publish`: the SQL models built, then the standard CSV exports written into
lake/exports/, the marts published to MongoDB and the offline dashboard redrawn. Started by each
sync deployment's run while the lake is ahead of the marts (see idbx.orchestration.freshness),
or by hand. Ends with a markdown artifact; fails when a step failed (a failed build stops the
steps after it, which would read its marts), naming the step in one line.
"""

from __future__ import annotations

import time

from prefect import flow
from prefect.states import State

from idbx.config import lake_root
from idbx.dashboard import settings as dashboard
from idbx.orchestration.runners import task_runner
from idbx.orchestration.runs import finish_run, settle_step
from idbx.orchestration.summary import BuildAndPublishOutcome
from idbx.orchestration.tasks import build_models, draw_dashboard, publish_marts, write_exports


@flow(name="build-and-publish", task_runner=task_runner())
def build_and_publish(
    lake: str | None = None,
    full_refresh: bool = False,
    lang: str = dashboard.DEFAULT_LANGUAGE,
    rekey: bool = False,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> State:
    """`full_refresh` recomputes every model; `lang` is the dashboard's language (es or en);
    `rekey` accepts another pseudonym key than the last build's (every learner id changes);
    `engine` is where the models run: duckdb, or spark (on `spark_master`, every model recomputed)."""
    started = time.monotonic()
    lake_dir = str(lake_root(lake))
    outcome = BuildAndPublishOutcome(f"build-and-publish: {lake_dir}")
    outcome.build = settle_step(build_models.submit(lake_dir, full_refresh, rekey, engine, spark_master), "build", outcome.errors)
    if outcome.built:  # the three read the same marts, each on its own: one failing does not stop the others
        exports = write_exports.submit(lake_dir)
        published = publish_marts.submit(lake_dir)
        dashboard = draw_dashboard.submit(lake_dir, lang)
        outcome.exports = settle_step(exports, "exports", outcome.errors)
        outcome.published = settle_step(published, "publish", outcome.errors)
        outcome.dashboard = settle_step(dashboard, "dashboard", outcome.errors)
    outcome.seconds = time.monotonic() - started
    return finish_run(outcome, key="build-and-publish")
