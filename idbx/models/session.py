"""The DuckDB connection a build (or `describe`) runs the models on.

It holds the pseudonym, country and model functions as macros, the lake's sources as views
(created the first time a model reads them: binding a view reads its files' metadata, which a
build that rebuilds little should not pay for), and a view per model. Views replaced for one
step only (the events of some days, a merged model's inputs filtered to its keys) go through
`scoped_views`, which puts the previous ones back however the step ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

import duckdb

from idbx.errors import ModelError
from idbx.lake.store import Lake
from idbx.models import functions, planner, settings, sources
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


class DuckSession:
    def __init__(self, lake: Lake, con: duckdb.DuckDBPyConnection, project: Project, key: bytes, computed_at: datetime):
        self.con = con
        self.project = project
        self.computed_at = computed_at
        self.source_views = sources.source_views(lake)
        self._views: dict[str, str] = {}  # the connection's views of sources and models: name -> SELECT
        self._unreadable_sources: dict[str, str] = {}
        self._bound_views: set[str] = set()
        pseudonym.install(con, key)
        self.country_database = geoip.install_country_lookup(con)
        # The registry's default passing grade, for the runs it does not list (macros are the
        # runner's constants as SQL; the fingerprints include them).
        con.execute(f"CREATE OR REPLACE TEMP MACRO default_passing_grade() AS {DEFAULT_PASSING_GRADE}")
        for statement in functions.duckdb_statements():
            con.execute(statement)

    def _define_source(self, name: str) -> None:
        """Create a source's view (and those it reads) the first time a model needs it."""
        if name in self._views or name in self._unreadable_sources:
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
                self.bind(upstream)
        if model.materialized == settings.VIEW:
            self._bound_views.add(model.name)
        try:
            self._view(model.name, self.select(model, None))
        except duckdb.Error as exc:
            raise ModelError(model.label, first_line(exc)) from None

    def _view(self, name: str, select: str) -> None:
        self.con.execute(f"CREATE OR REPLACE VIEW {quote_ident(name)} AS {select}")
        self._views[name] = select

    def read_output(self, model: Model, scan: str) -> None:
        """The models above read a stored model from its output as written."""
        self._view(model.name, scan)

    def columns(self, name: str) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in self.con.execute(f"DESCRIBE {quote_ident(name)}").fetchall()]

    @contextmanager
    def scoped_views(self, views: dict[str, str], tables: dict[str, str] | None = None) -> Iterator[None]:
        """`views` (name -> SELECT) in place of the connection's views of those names, over
        temporary `tables` (name -> SELECT, made first), for one step: afterwards the tables are
        dropped and the models' views are as they were (a source's, dropped: binding it again
        reads its files' metadata, which only a model reading it should pay for)."""
        previous = {name: self._views.get(name) for name in views}
        made: list[str] = []
        try:
            for name, select in (tables or {}).items():
                self.con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(name)} AS {select}")
                made.append(name)
            for name, select in views.items():
                self._view(name, select)
            yield
        finally:
            for name, select in previous.items():
                if select is None or name in self.source_views:  # a source's view is made again when read
                    self.con.execute(f"DROP VIEW IF EXISTS {quote_ident(name)}")
                    self._views.pop(name, None)
                else:
                    self._view(name, select)
            for name in made:
                self.con.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")
