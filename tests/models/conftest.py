"""A pseudonym key for every models test, and the hand-counted scenario built once."""

import pytest

from idbx.lake.store import Lake
from idbx.models.runner import build
from tests.models import scenario
from tests.models.tiny_lake import KEY


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("IDBX_PSEUDONYM_KEY", KEY)
    return KEY


@pytest.fixture(scope="session")
def built_scenario(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """tests/models/scenario.py built once (read-only for the tests that use it)."""
    tmp = tmp_path_factory.mktemp("scenario")
    lake = Lake(tmp / "lake")
    registry = scenario.write(lake, tmp)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IDBX_PSEUDONYM_KEY", KEY)
        summary = build(lake, registry_path=registry)
    assert not summary.failed, [o.error for o in summary.failed]
    return lake
