"""`idbx`: the command line over the same functions the Prefect flows call; one module per command group."""

from idbx.cli import build, catalog, courses, dashboard, forget, geoip, ingest, lake, publish, query, report, sample, scrub, sync  # noqa: F401  (each registers its commands)
from idbx.cli.common import app

__all__ = ["app"]
