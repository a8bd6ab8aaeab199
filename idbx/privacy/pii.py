"""Which columns of a bronze dataset are learner PII, and the SELECT that removes them (pure).

The declarations live beside the schemas they belong to: `pii=True` on table columns
(idbx/parsers/tables.py), EVENT_PII_COLUMNS and EVENT_PII_KEYS beside the events schema,
REJECT_PII_COLUMNS beside the rejects'. A dataset with no declared schema (a table landed
untyped) is judged by column name: any name declared PII somewhere is PII there too.

Removing PII keeps the shape: a PII column stays, typed, with every value NULL (catalog views,
staging models and readers that union snapshots keep working), and PII keys are deleted from the
JSON objects that hold them (JSON has no schema to keep). Every other column is selected as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from idbx.lake.store import REJECT_PII_COLUMNS
from idbx.parsers.tables import TABLES
from idbx.parsers.tracking_log import EVENT_PII_COLUMNS, EVENT_PII_KEYS
from idbx.quoting import quote_ident, sql_string

EVENTS = "events"
REJECTS = "rejects/"


@dataclass(frozen=True)
class PiiSpec:
    """What to remove from one file: columns to empty, and keys to delete from JSON columns."""

    columns: tuple[str, ...] = ()
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.columns or self.keys)

    def covered_by(self, done: PiiSpec) -> bool:
        return set(self.columns) <= set(done.columns) and all(set(k) <= set(done.keys.get(c, ())) for c, k in self.keys.items())

    def to_json(self) -> str:
        return json.dumps({"columns": list(self.columns), "keys": {c: list(k) for c, k in self.keys.items()}}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PiiSpec:
        data = json.loads(text)
        return cls(tuple(data.get("columns", ())), {c: tuple(k) for c, k in data.get("keys", {}).items()})


def _declared_names() -> set[str]:
    return {name for schema in TABLES.values() for name in schema.pii_columns} | set(EVENT_PII_COLUMNS)


def pii_spec(dataset: str, columns: list[str]) -> PiiSpec:
    """The PII of a file of `dataset` (`auth_user`, `events`, `rejects/events`, ...) with these columns."""
    if dataset.startswith(REJECTS):
        declared: tuple[str, ...] | set[str] = REJECT_PII_COLUMNS
    elif dataset == EVENTS:
        keys = {column: names for column, names in EVENT_PII_KEYS.items() if column in columns}
        return PiiSpec(tuple(c for c in columns if c in EVENT_PII_COLUMNS), keys)
    elif dataset in TABLES:
        declared = TABLES[dataset].pii_columns
    else:
        declared = _declared_names()
    return PiiSpec(tuple(c for c in columns if c in declared))


def _without_keys(column: str, keys: tuple[str, ...]) -> str:
    """The JSON value with `keys` deleted when it is an object holding any of them; otherwise untouched
    (JSON merge patch re-serialises, so a value is only rewritten when it has something to lose)."""
    ident = quote_ident(column)
    names = "[" + ", ".join(sql_string(k) for k in keys) + "]"
    patch = sql_string(json.dumps({k: None for k in keys}))
    return (
        f"CASE WHEN json_type({ident}) = 'OBJECT' AND list_has_any(json_keys({ident}), {names}) "
        f"THEN json_merge_patch({ident}, {patch}) ELSE {ident} END AS {ident}"
    )


def scrubbed_select(source: str, schema: list[tuple[str, str]], spec: PiiSpec) -> str:
    """SELECT over `source` (a relation) with the same columns, in order and type, minus the PII."""
    items = []
    for name, type_ in schema:
        if name in spec.columns:
            items.append(f"CAST(NULL AS {type_}) AS {quote_ident(name)}")
        elif name in spec.keys:
            items.append(_without_keys(name, spec.keys[name]))
        else:
            items.append(quote_ident(name))
    return f"SELECT {', '.join(items)} FROM {source}"
