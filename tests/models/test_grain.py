"""Every stored model is unique on the grain its header declares, in the built test lakes."""

from __future__ import annotations

import duckdb
import pytest

from idbx.lake.store import Lake
from idbx.models import settings
from idbx.models.project import Model, read_project
from idbx.quoting import quote_ident

STORED = [model for model in read_project().models.values() if model.materialized != settings.VIEW]
LAKES = ["built_scenario", "built_sample"]


def duplicates(lake: Lake, model: Model) -> tuple[int, list[tuple]]:
    """The model's rows in the lake's catalog, and up to five grain values held by more than one row."""
    grain = ", ".join(quote_ident(column) for column in model.grain)
    with duckdb.connect(str(lake.catalog_path), read_only=True) as con:
        rows = con.execute(f"SELECT count(*) FROM {quote_ident(model.name)}").fetchall()[0][0]
        repeated = con.execute(
            f"SELECT {grain}, count(*) AS copies FROM {quote_ident(model.name)} GROUP BY ALL HAVING count(*) > 1 "
            "ORDER BY copies DESC LIMIT 5"
        ).fetchall()
    return rows, repeated


@pytest.mark.parametrize("model", STORED, ids=[model.name for model in STORED])
def test_every_stored_model_is_unique_on_its_grain(model: Model, request: pytest.FixtureRequest):
    counted = {}
    for name in LAKES:
        rows, repeated = duplicates(request.getfixturevalue(name), model)
        assert not repeated, f"{model.label}: rows repeat the grain [{', '.join(model.grain)}] in {name}: {repeated}"
        counted[name] = rows
    assert any(counted.values()), f"{model.name} is empty in every test lake: its grain goes unchecked"
