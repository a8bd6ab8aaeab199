"""A pseudonym key for every models test."""

import pytest

from tests.models.tiny_lake import KEY


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("IDBX_PSEUDONYM_KEY", KEY)
    return KEY
