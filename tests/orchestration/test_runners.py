"""The flows' task runner from the environment: Prefect's thread pool, a Dask cluster's address, or a local cluster."""

import pytest
from prefect.task_runners import ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner

from idbx.errors import ConfigError
from idbx.orchestration.runners import DASK_ADDRESS_ENV, DASK_WORKERS_ENV, task_runner


def test_thread_pool_unless_a_dask_cluster_is_configured(monkeypatch):
    monkeypatch.delenv(DASK_ADDRESS_ENV, raising=False)
    monkeypatch.delenv(DASK_WORKERS_ENV, raising=False)
    assert isinstance(task_runner(), ThreadPoolTaskRunner)
    monkeypatch.setenv(DASK_WORKERS_ENV, "3")
    local = task_runner()
    assert isinstance(local, DaskTaskRunner) and local.cluster_kwargs["n_workers"] == 3 and local.address is None
    monkeypatch.setenv(DASK_ADDRESS_ENV, "tcp://scheduler:8786")
    assert task_runner().address == "tcp://scheduler:8786"
    monkeypatch.delenv(DASK_ADDRESS_ENV)
    monkeypatch.setenv(DASK_WORKERS_ENV, "many")
    with pytest.raises(ConfigError, match="not a number of workers"):
        task_runner()
