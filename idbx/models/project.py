"""The models of `idbx/sql/`: one SQL file per model, read, parsed and ordered.

A model file is a YAML header in a leading block comment (description, grain, materialization,
and every output column with its meaning; optionally not_null, accepted_values and flags)
followed by one SELECT. The grain is the list of output columns that make a row unique (each
build checks what it writes against it, idbx/models/checks.py). Its name is the file's name;
its dependencies are the tables the SELECT reads, found by parsing it with sqlglot (so adding a
model is adding a file). Names in FROM/JOIN are either other models or lake sources (catalog
views such as `student_courseenrollment` or `events`, and the `course_registry` seed). A model
merged by key is refused here when its SQL does not show the merge_by rule holds
(idbx/models/merge_rule.py).

Parsing every model takes sqlglot about a second; the names found are kept by the SQL's hash
(`parsed`), so a build re-parses only the models whose SQL changed; beside them, that the
merge_by rule held for a merged model's SQL and the models it reads as they were then.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from idbx.errors import ModelError
from idbx.models import settings
from idbx.models.merge_rule import (
    RULE_VERSION,
    merge_rule_violation,
    rows_by_course_violation,
    rows_by_learner_violation,
)

# Beside the tables a merged model's SQL reads, in `parsed`: the merge_by rule held for this
# SQL when the models it reads were as hashed here (no need to import sqlglot to check it again).
_PROVEN = "merge_by proven "
# Beside an event model's tables: whether its rows of a course (of a learner in a course) depend
# on that course's (that learner's) events alone, told for this SQL when the views it reads were as
# hashed here.
_BY_COURSE = "rows by course "
_BY_LEARNER = "rows by learner "
_MARKERS = (_PROVEN, _BY_COURSE, _BY_LEARNER)
# `parsed` of every project this process has read: a process that builds many lakes (a flow
# run's, the tests') parses each model's SQL once, not once per lake (0.3-0.5 s a build).
_PARSED_IN_PROCESS: dict[str, list[str]] = {}
_HEADER_KEYS = {"description", "grain", "materialized", "columns"}
_OPTIONAL_KEYS = {"partition_by", "merge_by", "not_null", "accepted_values", "flags"}


@dataclass(frozen=True)
class Flags:
    """Rows of a model the build summary counts (`flags` in the header): those matching `where`,
    counted by the columns `line` names, each count told as `line` says (`{count}` the rows)."""

    where: str
    line: str

    @property
    def columns(self) -> list[str]:
        return [name for _, name, _, _ in string.Formatter().parse(self.line) if name and name != "count"]


@dataclass(frozen=True)
class Model:
    name: str
    layer: str
    path: Path
    sql: str
    description: str
    grain: tuple[str, ...]
    materialized: str
    columns: dict[str, str]
    refs: frozenset[str]
    sql_hash: str
    partition_by: str | None = None
    merge_by: tuple[str, ...] | None = None
    not_null: tuple[str, ...] = ()  # checked after each write, as the grain is
    accepted_values: dict[str, tuple] = field(default_factory=dict)
    flags: Flags | None = None

    @property
    def label(self) -> str:
        """The file as people see it in messages: `idbx/sql/marts/course_report.sql`."""
        return f"idbx/sql/{self.layer}/{self.path.name}"

    @property
    def is_mart(self) -> bool:
        return self.layer == "marts"

    @property
    def output_folder(self) -> str:
        return settings.LAYER_OUTPUT[self.layer]

    @property
    def output_partition(self) -> str | None:
        """The column the output is split into folders by: a day for a model partitioned by day, the
        course for one merged by key, None for one file."""
        return self.partition_by or (settings.MERGED_PARTITION if self.merge_by else None)


def parse_model(name: str, layer: str, path: Path, text: str, parsed: dict[str, list[str]] | None = None) -> Model:
    """A model from its file's text; ModelError naming the file for a bad header or SQL.
    `parsed` maps SQL hashes to the tables found in them (read, and completed, here)."""
    label = f"idbx/sql/{layer}/{path.name}"
    header, body = _split(label, text)
    _check_materialization(label, header)
    columns, grain = _check_columns(label, header)
    parsed = {} if parsed is None else parsed
    digest = hashlib.sha256(body.encode()).hexdigest()
    if digest not in parsed:
        parsed[digest] = sorted(_table_refs(label, body))
    merge_by = header.get("merge_by")
    return Model(
        name=name,
        layer=layer,
        path=path,
        sql=body.strip(),
        description=" ".join(str(header["description"]).split()),
        grain=tuple(grain),
        materialized=header["materialized"],
        columns={str(k): v for k, v in columns.items()},
        refs=frozenset(ref for ref in parsed[digest] if not ref.startswith(_MARKERS)),
        sql_hash=digest,
        partition_by=header.get("partition_by"),
        merge_by=tuple(merge_by) if merge_by else None,
        not_null=_not_null(label, header, columns),
        accepted_values=_accepted_values(label, header, columns),
        flags=_flags(label, header, columns),
    )


def _split(label: str, text: str) -> tuple[dict, str]:
    """The YAML header (its keys checked) and the SQL after it."""
    stripped = text.lstrip()
    if not stripped.startswith("/*") or "*/" not in stripped:
        raise ModelError(label, "must start with a /* ... */ header (description, grain, materialized, columns)")
    header_text, body = stripped[2:].split("*/", 1)
    try:
        header = yaml.load(header_text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ModelError(label, f"header is not valid YAML: {exc}") from None
    if not isinstance(header, dict):
        raise ModelError(label, "header must be a YAML mapping")
    unknown = set(header) - _HEADER_KEYS - _OPTIONAL_KEYS
    missing = _HEADER_KEYS - set(header)
    if unknown or missing:
        raise ModelError(label, f"header keys: unknown {sorted(unknown)}, missing {sorted(missing)}")
    return header, body


def _check_materialization(label: str, header: dict) -> None:
    if header["materialized"] not in settings.MATERIALIZATIONS:
        raise ModelError(label, f"materialized must be one of {', '.join(settings.MATERIALIZATIONS)}")
    partition_by, merge_by = header.get("partition_by"), header.get("merge_by")
    if (header["materialized"] == settings.INCREMENTAL) != ((partition_by is None) != (merge_by is None)) or (
        partition_by is not None and partition_by not in settings.PARTITION_COLUMNS
    ):
        raise ModelError(
            label,
            f"an incremental model, and only one, has either partition_by: "
            f"{' or '.join(settings.PARTITION_COLUMNS)}, or merge_by: [column, ...]",
        )


def _check_columns(label: str, header: dict) -> tuple[dict, list]:
    """The columns and the grain, checked against each other (and partition_by, merge_by)."""
    columns = header["columns"]
    if not isinstance(columns, dict) or not columns or not all(isinstance(v, str) and v.strip() for v in columns.values()):
        raise ModelError(label, "columns must map every output column to a description")
    if header.get("partition_by") and header["partition_by"] not in columns:
        raise ModelError(label, f"partition_by {header['partition_by']} must be one of its columns")
    grain = header["grain"]
    if not _column_list(grain) or len(set(grain)) < len(grain):
        raise ModelError(label, "grain must list the output columns that make a row unique, as [column, ...]")
    if set(grain) - set(columns):
        raise ModelError(label, f"grain names {', '.join(c for c in grain if c not in columns)}, not one of its columns")
    merge_by = header.get("merge_by")
    if merge_by is not None and (not _column_list(merge_by) or not set(merge_by) <= set(grain)):
        raise ModelError(label, "merge_by must list some of the grain's columns")
    if merge_by is not None and merge_by[0] != settings.MERGED_PARTITION:
        raise ModelError(
            label, f"a merged model is kept one file per course: its merge_by starts with {settings.MERGED_PARTITION}"
        )
    return columns, grain


def _column_list(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, str) for item in value)


def _not_null(label: str, header: dict, columns: dict) -> tuple[str, ...]:
    listed = header.get("not_null", [])
    if not _column_list(listed) and listed != []:
        raise ModelError(label, "not_null must list output columns, as [column, ...]")
    if set(listed) - set(columns):
        raise ModelError(label, f"not_null names {', '.join(c for c in listed if c not in columns)}, not one of its columns")
    if header.get("merge_by") and settings.MERGED_PARTITION not in listed:
        # its files are per course: a row without one is refused, as a NULL in a not_null column is
        listed = [*listed, settings.MERGED_PARTITION]
    return tuple(listed)


def _accepted_values(label: str, header: dict, columns: dict) -> dict[str, tuple]:
    accepted = header.get("accepted_values", {})
    if not isinstance(accepted, dict) or not all(
        isinstance(values, list) and values and all(isinstance(v, str | int | float | bool) for v in values)
        for values in accepted.values()
    ):
        raise ModelError(label, "accepted_values must map output columns to their values, as column: [value, ...]")
    if set(accepted) - set(columns):
        raise ModelError(
            label, f"accepted_values names {', '.join(c for c in accepted if c not in columns)}, not one of its columns"
        )
    return {str(column): tuple(values) for column, values in accepted.items()}


def _flags(label: str, header: dict, columns: dict) -> Flags | None:
    raw = header.get("flags")
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"where", "line"} or not all(isinstance(v, str) for v in raw.values()):
        raise ModelError(label, "flags must give where: (a condition on its rows) and line: (with {count} and {column}s)")
    flags = Flags(raw["where"], raw["line"])
    if not flags.columns or set(flags.columns) - set(columns):
        raise ModelError(label, "flags' line must name some of its columns, as {column}")
    return flags


def _table_refs(label: str, sql: str) -> set[str]:
    import sqlglot  # 0.5 s to import: only when a model's SQL is new
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise ModelError(label, f"SQL does not parse: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ModelError(label, "must hold exactly one SELECT after its header")
    tree = statements[0]
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    refs = set()
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function: unnest(...), generate_series(...)
        if table.db or table.catalog:
            raise ModelError(label, f"refers to {table.sql('duckdb')}: name lake tables and models without a schema")
        if table.name not in ctes:
            refs.add(table.name)
    return refs


@dataclass
class Project:
    """The models in dependency order (upstream first)."""

    models: dict[str, Model]
    _upstream: dict[str, set[str]] = field(default_factory=dict, repr=False)
    # Per event model whose rows of a learner in a course (else of a course) depend on those events
    # alone, told by read_project: settings.ROWS_BY_LEARNER (else ROWS_BY_COURSE). New event files
    # recompute those rows of the days they hold, not the days whole.
    rows_by: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.models = {name: self.models[name] for name in _dependency_order(self.models)}

    def check_merge_rule(self, parsed: dict[str, list[str]]) -> None:
        """Refuse a merged model whose SQL does not show that a key's rows depend only on that
        key's input rows (idbx/models/merge_rule.py); what held is remembered in `parsed`."""
        for model in self.models.values():
            if not model.merge_by:
                continue
            proven = _PROVEN + self._context(model, repr(model.merge_by))
            found = parsed.setdefault(model.sql_hash, [])
            if proven in found:
                continue
            reason = merge_rule_violation(self.models, model.name)
            if reason:
                raise ModelError(model.label, reason)
            found[:] = [ref for ref in found if not ref.startswith(_PROVEN)] + [proven]

    def tell_rows_by_key(self, parsed: dict[str, list[str]]) -> None:
        """`rows_by`: which models partitioned by event day are recomputed by learner, which by
        course; what was told is remembered in `parsed` either way (a model both are refused for
        recomputes its days whole)."""
        for model in self.models.values():
            if model.partition_by != settings.EVENT_DATE:
                continue
            for marker, violation, rows_by in (
                (_BY_LEARNER, rows_by_learner_violation, settings.ROWS_BY_LEARNER),
                (_BY_COURSE, rows_by_course_violation, settings.ROWS_BY_COURSE),
            ):
                context = marker + self._context(model, marker)
                found = parsed.setdefault(model.sql_hash, [])
                known = [ref for ref in found if ref.startswith(context)]
                if not known:
                    known = [f"{context} {'no' if violation(self.models, model.name) else 'yes'}"]
                    found[:] = [ref for ref in found if not ref.startswith(marker)] + known
                if known[0].endswith(" yes"):
                    self.rows_by[model.name] = rows_by
                    break

    def _context(self, model: Model, key: str) -> str:
        """A hash of what a rule's verdict on `model` rests on: the key, and every model it reads."""
        context = hashlib.sha256(f"{RULE_VERSION} {key}".encode())
        for name in sorted({model.name} | self.upstream(model.name)):
            read = self.models[name]
            context.update(repr((name, read.materialized, sorted(read.columns), read.sql_hash)).encode())
        return context.hexdigest()

    def __contains__(self, name: str) -> bool:
        return name in self.models

    def upstream(self, name: str) -> set[str]:
        """Every model `name` reads, directly or not."""
        if name not in self._upstream:
            direct = {ref for ref in self.models[name].refs if ref in self.models}
            found = set(direct)
            for ref in direct:
                found |= self.upstream(ref)
            self._upstream[name] = found
        return self._upstream[name]

    def sources(self, name: str) -> set[str]:
        """Every lake source `name` reads, directly or through other models."""
        names = {name} | self.upstream(name)
        return {ref for model in names for ref in self.models[model].refs if ref not in self.models}

    def selection(self, names: list[str] | None) -> list[Model]:
        """The named models and everything they read, in build order (all models when none are named)."""
        if not names:
            return list(self.models.values())
        unknown = [name for name in names if name not in self.models]
        if unknown:
            raise ModelError("--select", f"no model named {', '.join(unknown)} (see `idbx build --list`)")
        wanted = set(names).union(*(self.upstream(name) for name in names))
        return [model for name, model in self.models.items() if name in wanted]

    def definitions_hash(self, name: str) -> str:
        """Hash of this model's SQL and header and of every model it reads: changes when a definition does."""
        digest = hashlib.sha256(settings.DEFINITIONS_VERSION.encode())
        for model_name in sorted({name} | self.upstream(name)):
            digest.update(self.models[model_name].path.read_bytes())
        return digest.hexdigest()


def _dependency_order(models: dict[str, Model]) -> list[str]:
    layer_rank = {layer: i for i, layer in enumerate(settings.LAYERS)}
    pending = {name: {ref for ref in model.refs if ref in models} for name, model in models.items()}
    ordered: list[str] = []
    while pending:
        ready = sorted((name for name, deps in pending.items() if not deps), key=lambda n: (layer_rank[models[n].layer], n))
        if not ready:
            cycle = sorted(pending)
            raise ModelError(models[cycle[0]].label, f"models read each other in a cycle: {', '.join(cycle)}")
        for name in ready:
            ordered.append(name)
            del pending[name]
        for deps in pending.values():
            deps.difference_update(ready)
    return ordered


def read_project(root: Path | None = None, parsed: dict[str, list[str]] | None = None) -> Project:
    """Every model under `root` (default: the package's idbx/sql/), one per file."""
    root = root or settings.sql_root()
    known = {} if parsed is None else parsed
    for digest, found in _PARSED_IN_PROCESS.items():
        known.setdefault(digest, list(found))
    models: dict[str, Model] = {}
    for layer in settings.LAYERS:
        for path in sorted((root / layer).glob("*.sql")):
            name = path.stem
            if name in models:
                raise ModelError(f"idbx/sql/{layer}/{path.name}", f"another model is named {name} ({models[name].label})")
            models[name] = parse_model(name, layer, path, path.read_text(encoding="utf-8"), known)
    for stale in set(known) - {model.sql_hash for model in models.values()}:
        del known[stale]
    project = Project(models)
    project.check_merge_rule(known)
    project.tell_rows_by_key(known)
    _PARSED_IN_PROCESS.update((digest, list(found)) for digest, found in known.items())
    return project
