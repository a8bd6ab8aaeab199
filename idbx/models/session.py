"""The DuckDB database a build (or `describe`) runs the models on.

It holds the pseudonym, country and model functions as macros, the lake's sources as views
(created the first time a model reads them: binding a view reads its files' metadata, which a
build that rebuilds little should not pay for), and a view per model. The models built side by
side each work on their lane's cursor (idbx/models/lanes.py: `con` is the calling thread's);
the views of sources and models are the database's, made one at a time. Views replaced for one
step only (the events of some days, a merged model's inputs filtered to its keys) go through
`scoped_views`: temporary views of that lane's cursor over the database's, dropped however the
step ends.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

import duckdb

from idbx.errors import ModelError
from idbx.lake.store import Lake
from idbx.models import functions, planner, settings, sources
from idbx.models.lanes import Lanes
from idbx.models.project import Model, Project
from idbx.privacy import geoip, pseudonym
from idbx.quoting import quote_ident, sql_string
from idbx.registry import DEFAULT_PASSING_GRADE


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def mart_values(project: Project, model: Model, computed_at: datetime, data_through: date | None) -> str:
    """The columns the runner adds to a mart's rows, as SQL."""
    through = f"DATE '{data_through}'" if data_through else "CAST(NULL AS DATE)"
    version = f"{settings.DEFINITIONS_VERSION}.{project.definitions_hash(model.name)[:10]}"
    return f"TIMESTAMP '{computed_at}' AS computed_at, {through} AS data_through, {sql_string(version)} AS definitions_version"


def model_select(project: Project, model: Model, computed_at: datetime, data_through: date | None) -> str:
    """A model's SELECT as the build runs it (a mart with the columns the runner adds)."""
    if not model.is_mart:
        return model.sql
    return f"SELECT *, {mart_values(project, model, computed_at, data_through)} FROM ({model.sql}) AS model"


class _ScopedNames(threading.local):
    """Per thread (lane): the names its current step sees through views of its own."""

    def __init__(self) -> None:
        self.names: set[str] = set()


class DuckSession:
    def __init__(self, lake: Lake, con: duckdb.DuckDBPyConnection, project: Project, key: bytes, computed_at: datetime):
        self.project = project
        self.computed_at = computed_at
        self.source_views = sources.source_views(lake)
        self._views: set[str] = set()  # the database's views of sources and models made so far
        self._unreadable_sources: dict[str, str] = {}
        self._bound_views: set[str] = set()
        self._shared = threading.RLock()  # the database's views, made by one lane at a time
        self._scoped = _ScopedNames()  # the names a lane's step sees through its own views
        self.country_database = geoip.install_country_lookup(con)  # its Python function: the database's
        macros = [
            *pseudonym.macros_sql(key),
            *geoip.macros_sql(self.country_database),
            # The registry's default passing grade, for the runs it does not list (macros are the
            # runner's constants as SQL; the fingerprints include them).
            f"CREATE OR REPLACE TEMP MACRO default_passing_grade() AS {DEFAULT_PASSING_GRADE}",
            *functions.duckdb_statements(),
        ]
        self.con = Lanes(con, macros)  # temporary macros are each cursor's own: every lane makes them

    def _define_source(self, name: str) -> None:
        """Create a source's view (and those it reads) the first time a model needs it."""
        if name in self._views or name in self._unreadable_sources or name in self._scoped.names:
            return
        select = self.source_views[name]
        for other in self.source_views:  # `FROM other` or `FROM "other"`: a view it reads
            if other != name and re.search(rf'FROM\s+"?{re.escape(other)}"?(?![\w"])', select):
                self._define_source(other)
        try:
            self._view(name, select)
        except duckdb.Error as exc:  # a corrupt bronze file: the models that read it fail, not the build
            self._unreadable_sources[name] = first_line(exc)

    def select(self, model: Model, data_through: date | None) -> str:
        return model_select(self.project, model, self.computed_at, data_through)

    def bind(self, model: Model) -> None:
        """Define the model as a view of its SQL: DuckDB binds it, so an unknown table or column
        fails here, before anything is written."""
        with self._shared:
            self._bind(model)

    def _bind(self, model: Model) -> None:
        for ref in sorted(model.refs - set(self.project.models)):
            if ref not in self.source_views:
                raise ModelError(model.label, f"reads {ref}, which is neither a model nor a lake table")
        # Sources it reads, directly or through views (a stored model is read from its output: the
        # sources behind it need no view, whose binding would read their files' metadata).
        for ref in [name for name in planner.reads(self.project, model) if name not in self.project]:
            self._define_source(ref)
            if ref in self._unreadable_sources:
                raise ModelError(model.label, f"cannot read {ref}: {self._unreadable_sources[ref]}")
        for ref in sorted(model.refs & set(self.project.models)):
            upstream = self.project.models[ref]
            if upstream.materialized == settings.VIEW and ref not in self._bound_views:
                self._bind(upstream)
        if model.materialized == settings.VIEW:
            self._bound_views.add(model.name)
        try:
            self._view(model.name, self.select(model, None))
        except duckdb.Error as exc:
            raise ModelError(model.label, first_line(exc)) from None

    def _view(self, name: str, select: str) -> None:
        with self._shared:
            self.con.execute(f"CREATE OR REPLACE VIEW main.{quote_ident(name)} AS {select}")
            self._views.add(name)

    def read_output(self, model: Model, scan: str) -> None:
        """The models above read a stored model from its output as written."""
        self._view(model.name, scan)

    def columns(self, name: str) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in self.con.execute(f"DESCRIBE {quote_ident(name)}").fetchall()]

    @contextmanager
    def scoped_views(self, views: dict[str, str], tables: dict[str, str] | None = None) -> Iterator[None]:
        """`views` (name -> SELECT) in place of the database's views of those names, over
        temporary `tables` (name -> SELECT, made first), for one step: both are the lane's own
        (temporary, on its cursor), so the other lanes' steps never see them, and are dropped
        afterwards."""
        scoped = self._scoped.names
        made: list[tuple[str, str]] = []
        try:
            for name, select in (tables or {}).items():
                self.con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(name)} AS {select}")
                made.append(("TABLE", name))
            for name, select in views.items():
                self.con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(name)} AS {select}")
                made.append(("VIEW", name))
                scoped.add(name)
            yield
        finally:
            for kind, name in reversed(made):
                self.con.execute(f"DROP {kind} IF EXISTS temp.main.{quote_ident(name)}")
                scoped.discard(name)
