"""The flows' task runner: a Dask cluster when one is configured, Prefect's thread pool otherwise.

IDBX_DASK_ADDRESS (`tcp://scheduler:8786`) connects to a running cluster; IDBX_DASK_WORKERS=N
starts a local cluster of N worker processes for the run (one thread each: DuckDB in each task
already uses the worker's cores). Read when a flow module is imported, i.e. in the process that
runs the flow.
"""

from __future__ import annotations

import os

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from idbx.errors import ConfigError

DASK_ADDRESS_ENV = "IDBX_DASK_ADDRESS"
DASK_WORKERS_ENV = "IDBX_DASK_WORKERS"


def task_runner() -> TaskRunner:
    address = os.environ.get(DASK_ADDRESS_ENV)
    workers = os.environ.get(DASK_WORKERS_ENV)
    if address or workers:
        from prefect_dask import DaskTaskRunner

        if address:
            return DaskTaskRunner(address=address)
        if not workers.isdigit() or int(workers) < 1:
            raise ConfigError(f"{DASK_WORKERS_ENV}: {workers!r} is not a number of workers")
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": int(workers), "threads_per_worker": 1, "processes": True, "dashboard_address": ":0"}
        )
    # One task per core at a time: each task's DuckDB already uses its cores and its memory budget.
    return ThreadPoolTaskRunner(max_workers=os.cpu_count() or 1)
