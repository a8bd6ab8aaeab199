"""What the runner knows besides the SQL: layers, materializations, where outputs go, the columns
every mart carries, the sources that may be absent, the build's memory budget and lanes."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from idbx.errors import ConfigError

# Bump when a definition changes in a way the SQL text alone does not show (it is also hashed).
DEFINITIONS_VERSION = "1"

LAYERS = ("staging", "intermediate", "marts")
# Where each layer's materialized models are written, under the lake root.
LAYER_OUTPUT = {"staging": "silver", "intermediate": "silver", "marts": "marts"}

VIEW = "view"  # a view inside the build only (large inputs read once by the models above them)
TABLE = "table"  # one Parquet file, replaced whole
INCREMENTAL = "incremental"  # by day (the days new log files hold) or by key (the keys whose inputs changed)
MATERIALIZATIONS = (VIEW, TABLE, INCREMENTAL)

# What an incremental model is partitioned by (its `partition_by`): the events' own day (a new log
# file recomputes every day its events fall on), or the day of the log file that delivered them.
EVENT_DATE = "event_date"
LOG_DATE = "log_date"
PARTITION_COLUMNS = (EVENT_DATE, LOG_DATE)
# A model merged by key (its `merge_by`, starting with this column) is written one file per value:
# a build rewrites the courses whose keys changed, not the whole table.
MERGED_PARTITION = "course_key"
# Incremental models read the events through this staging view and nothing else.
EVENTS_SOURCE = "events"
# The events' learner (edX's user id): an event model's rows name it by its LEARNER_KEY.
EVENT_LEARNER = "user_id"
# What of its days an event model recomputes when new log files are all that changed, finest first
# (idbx/models/day_scope.py): the rows of the learners of a course the files hold, or of the courses.
ROWS_BY_LEARNER = "learner"
ROWS_BY_COURSE = "course"
REGISTRY_SOURCE = "course_registry"
# One row per learner and course run, what MongoDB's learners collection holds: the learner ids a
# change of pseudonym key replaces are counted there.
LEARNER_MART = "person_course"
# The SQL function that locates an address (idbx/privacy/geoip.py): a model calling it depends on
# the IP-to-country database too.
COUNTRY_FUNCTION = "ip_country"

# Added by the runner to every mart, after the model's own columns.
MART_COLUMNS = {
    "computed_at": ("TIMESTAMP", "When the build that wrote this row started (UTC)."),
    "data_through": ("DATE", "The most recent data the mart read: latest table snapshot or event day, whichever is later."),
    "definitions_version": (
        "VARCHAR",
        "Version of the definitions: the release number, then a hash of this model's SQL and of the SQL it reads.",
    ),
}

LEARNER_KEY = "learner_key"  # the pseudonym as a number (idbx/privacy/pseudonym.py)
# Mart columns that stay in the lake: the build's bookkeeping and the in-lake learner key (learner_id
# names the learner outside). Exports and published documents leave them out.
UNPUBLISHED_COLUMNS = (*MART_COLUMNS, LEARNER_KEY)

MEMORY_ENV = "IDBX_BUILD_MEMORY_LIMIT"
DEFAULT_MEMORY_MB = 3000
# Models built side by side (idbx/models/lanes.py): two keep both cores of the reference machine
# busy on a new day's small statements, which DuckDB alone does not.
LANES_ENV = "IDBX_BUILD_LANES"
DEFAULT_LANES = 2


def sql_root() -> Path:
    return Path(str(resources.files("idbx") / "sql"))


def memory_limit() -> str:
    """The build's DuckDB memory budget (MB from IDBX_BUILD_MEMORY_LIMIT); larger data spills to scratch."""
    return f"{int(os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_MB))}MB"


def build_lanes() -> int:
    """How many models the build runs side by side (IDBX_BUILD_LANES, 1 to 8; 1 builds one at a time)."""
    raw = os.environ.get(LANES_ENV, str(DEFAULT_LANES)).strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 8:
        raise ConfigError(f"{LANES_ENV}={raw!r}: a whole number of models to build side by side, 1 to 8")
    return int(raw)
