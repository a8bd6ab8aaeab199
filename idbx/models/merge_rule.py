"""The `merge_by` rule checked from the SQL (pure, sqlglot): a merged model's rows of one key may
depend only on that key's rows of the inputs the build reads filtered to the keys it recomputes.

Those "keyed" inputs are the stored models holding every merge_by column, read directly or
through views (idbx/sql/README.md); any other input (a source, a per-course table) is read whole.
A relation is *keyed* when its rows of key k come only from keyed rows of k and carry k under the
key's names, *whole* when it reads no keyed rows. The model is accepted when its SELECT is keyed
(or whole), which holds when, in every SELECT that reads keyed rows:

* each key column is carried: a column of a keyed relation (qualified, unless the SELECT reads one
  relation), or a `coalesce` of them (a full join);
* keyed relations are joined to each other on every key column (`ON a.k = b.k AND ...`, or USING);
* its rows come from keyed rows (a keyed relation not only on the optional side of an outer join);
* a GROUP BY, a window's PARTITION BY and a DISTINCT ON cover the key; no aggregate without GROUP
  BY, no LIMIT; a subquery in an expression reads no keyed rows;
* the branches of a UNION are all keyed, with the key columns in the same places.

A *lookup* is a value mapped once per distinct value of keyed rows: `SELECT v, f(v) FROM (SELECT
DISTINCT v FROM r)`, no filter, no aggregate, f computed from v alone (learner_pseudonym(user_id),
ip_country(ip)). Joined back to `r` on every value column (inner or left), it gives each of r's
rows the same row whether it was made from every key's rows or from some keys' only: such a join
keeps a SELECT keyed.

The same check says whether an event model's rows of one course depend only on that course's
events (`rows_by_course_violation`): the events read as keyed by course_key. A model it accepts is
recomputed for the courses new event files hold, its other courses' rows kept.

What the check cannot follow is refused with the reason: write the model in these terms.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from idbx.models import settings

# Raised when what the rule accepts changes: the verdicts remembered with the parsed SQL are then told again.
RULE_VERSION = 2
KEYED = "keyed"
WHOLE = "whole"


class NotProvable(Exception):
    """Why a model's rows of one key may depend on other keys' rows (or why that cannot be told)."""


@dataclass(frozen=True)
class _Lookup:
    """The kind of a lookup made from the keyed relation named `source`, by its `columns`; what
    it maps them to (`images`: each output column and its expression, unqualified SQL)."""

    source: str
    columns: tuple[str, ...]
    images: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Relation:
    alias: str
    kind: str | _Lookup
    name: str | None = None  # the table or CTE it reads (None for a subquery)


# Functions whose value is not a function of their arguments: no lookup computes them.
_NOT_DETERMINISTIC = {"random", "uuid", "gen_random_uuid", "nextval", "now", "current_timestamp", "setseed"}


def merge_rule_violation(models: Mapping, name: str) -> str | None:
    """Why model `name` (merged by key) may not be recomputed key by key; None when it may.
    `models` maps names to Models (their SQL, materialization, columns)."""
    checker = _Checker(models, models[name].merge_by)
    try:
        checker.query_kind(_parse(models[name].sql), {})
    except NotProvable as exc:
        return f"merge_by [{', '.join(models[name].merge_by)}] cannot be checked key by key: {exc}"
    return None


def rows_by_course_violation(models: Mapping, name: str) -> str | None:
    """Why event model `name`'s rows of one course may depend on other courses' events; None
    when they depend on that course's events alone (the events keyed by course_key)."""
    return _events_keyed_violation(
        models, name, "course", _Checker(models, (settings.MERGED_PARTITION,), {settings.EVENTS_SOURCE})
    )


def rows_by_learner_violation(models: Mapping, name: str) -> str | None:
    """Why event model `name`'s rows of one learner in a course may depend on other learners'
    events; None when they depend on that learner's events in that course alone (the events keyed
    by course_key and user_id, the rows naming the learner by learner_key, their pseudonym)."""
    from idbx.privacy import pseudonym  # loads DuckDB: only when no verdict was remembered

    key = (settings.MERGED_PARTITION, settings.EVENT_LEARNER)
    of_learner = _unqualified_sql(_parse(f"SELECT {pseudonym.MACRO}({settings.EVENT_LEARNER})").expressions[0])
    image = {settings.EVENT_LEARNER: (settings.LEARNER_KEY, of_learner)}
    return _events_keyed_violation(models, name, "learner", _Checker(models, key, {settings.EVENTS_SOURCE}, image))


def _events_keyed_violation(models: Mapping, name: str, by: str, checker: _Checker) -> str | None:
    try:
        if checker.query_kind(_parse(models[name].sql), {}) != KEYED:
            raise NotProvable(f"its rows do not carry {', '.join(checker.key)} from the events")
    except NotProvable as exc:
        return f"rows by {by} cannot be told from the SQL: {exc}"
    return None


def _unqualified_sql(node) -> str:
    """An expression's SQL with its columns unqualified: `f(t.v)` and `f(v)` read alike."""
    from sqlglot import exp

    bare = node.copy()
    for column in bare.find_all(exp.Column):
        column.set("table", None)
    return bare.sql(dialect="duckdb")


def _parse(sql: str):
    import sqlglot  # 0.5 s to import: only when a project with merged models is read

    return sqlglot.parse_one(sql, read="duckdb")


class _Checker:
    def __init__(
        self,
        models: Mapping,
        key: tuple[str, ...],
        keyed_sources: frozenset[str] | set[str] = frozenset(),
        key_images: Mapping[str, tuple[str, str]] | None = None,
    ):
        from sqlglot import exp

        self.exp = exp
        self.models = models
        self.key = key
        self.keyed_sources = keyed_sources  # lake sources that hold every key column
        # A key column a SELECT may carry as its image instead: (column name, its expression of
        # the key column) taken from a lookup of the key column joined back to its rows.
        self.key_images = key_images or {}
        self._views: dict[str, str] = {}
        # Per CTE: the relations whose rows it carries (`r.*`), its own rows one of theirs each,
        # directly or not, and the columns it does not carry as they were: a lookup of one of them
        # by other columns may be joined back to it.
        self._rows_of: dict[str, dict[str, frozenset[str]]] = {}

    # -- what each relation is ---------------------------------------------------------------

    def table_kind(self, name: str, ctes: dict[str, str]) -> str:
        if name in ctes:
            return ctes[name]
        model = self.models.get(name)
        if model is None:  # a lake source: read whole, unless it is keyed
            return KEYED if name in self.keyed_sources else WHOLE
        if model.materialized == settings.VIEW:
            if name not in self._views:
                outer, self._rows_of = self._rows_of, {}  # a view sees none of the model's CTEs
                try:
                    self._views[name] = self.query_kind(_parse(model.sql), {})
                except NotProvable as exc:
                    raise NotProvable(f"in view {name}: {exc}") from None
                finally:
                    self._rows_of = outer
            return self._views[name]
        return KEYED if set(self.key) <= set(model.columns) else WHOLE

    def query_kind(self, query, ctes: dict[str, str]) -> str:
        with_ = query.args.get("with_")
        if not with_:
            return self._query_kind(query, ctes)
        ctes, outer = dict(ctes), self._rows_of
        self._rows_of = dict(outer)  # its CTEs' lineage is seen inside it only, as its CTEs are
        try:
            for cte in with_.expressions:
                try:
                    ctes[cte.alias_or_name] = self.query_kind(cte.this, ctes)
                except NotProvable as exc:
                    raise NotProvable(f"in {cte.alias_or_name}: {exc}") from None
                self._rows_of[cte.alias_or_name] = self._rows_taken_from(cte.this, ctes)
            return self._query_kind(query, ctes)
        finally:
            self._rows_of = outer

    def _query_kind(self, query, ctes: dict[str, str]) -> str:
        exp = self.exp
        if isinstance(query, exp.Subquery):
            return self.query_kind(query.this, ctes)
        if isinstance(query, exp.SetOperation):
            return self._union_kind(query, ctes)
        if isinstance(query, exp.Select):
            return self._select_kind(query, ctes)
        raise NotProvable(f"cannot follow {query.key}")

    def _union_kind(self, union, ctes: dict[str, str]) -> str:
        branches = list(self._branches(union))
        kinds = [self.query_kind(branch, ctes) for branch in branches]
        if set(kinds) == {WHOLE}:
            return WHOLE
        if WHOLE in kinds:
            raise NotProvable("a UNION of keyed rows and rows read whole (which hold every key)")
        names = [projection.alias_or_name for projection in branches[0].expressions]
        for column in self.key:
            if column not in names:
                raise NotProvable(f"a UNION whose first branch does not name {column}")
            place = names.index(column)
            for branch in branches:
                relations = self._relations(branch, ctes)
                if not self._is_key(branch.expressions[place].unalias(), column, relations):
                    raise NotProvable(f"a UNION branch without {column} in column {place + 1}")
        return KEYED

    def _branches(self, union) -> Iterator:
        for side in (union.this, union.expression):
            if isinstance(side, self.exp.SetOperation):
                yield from self._branches(side)
            elif isinstance(side, self.exp.Select):
                yield side
            else:
                raise NotProvable("a UNION branch that is not a plain SELECT")

    def _relations(self, select, ctes: dict[str, str]) -> list[_Relation]:
        exp = self.exp
        found = []
        sources = [select.args["from_"].this] if select.args.get("from_") else []
        sources += [join.this for join in select.args.get("joins") or []]
        for source in sources:
            if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
                found.append(_Relation(source.alias_or_name, self.table_kind(source.name, ctes), source.name))
            elif isinstance(source, exp.Subquery):
                found.append(_Relation(source.alias_or_name, self.query_kind(source.this, ctes)))
            else:  # unnest(...), a table function, VALUES: computed within the row or constant
                found.append(_Relation(source.alias_or_name, WHOLE))
        return found

    # -- one SELECT ----------------------------------------------------------------------------

    def _select_kind(self, select, ctes: dict[str, str]) -> str:
        relations = self._relations(select, ctes)
        for nested in self._own(select, self.exp.Query):
            try:
                keyed = nested is not select and self.query_kind(nested, ctes) != WHOLE
            except NotProvable:
                keyed = True
            if keyed:
                raise NotProvable("a subquery in an expression reads keyed rows")
        if all(relation.kind == WHOLE for relation in relations):
            return WHOLE
        lookup = self._lookup_kind(select, relations)
        if lookup is not None:
            return lookup
        self._check_joins(select, relations)
        if select.args.get("limit") or select.args.get("offset"):
            raise NotProvable("a LIMIT over keyed rows")
        self._check_grouping(select, relations)
        self._check_windows(select, relations)
        for column in self.key:
            if not self._carried(select, column, relations):
                raise NotProvable(f"a SELECT over keyed rows that does not carry {column} from them")
        return KEYED

    def _lookup_kind(self, select, relations: list[_Relation]) -> _Lookup | None:
        """The lookup this SELECT is (`SELECT DISTINCT v FROM keyed`, or `SELECT v, f(v) FROM
        lookup`), None when it is not one. Its rows carry no key: it is only kept keyed by the
        join back to its source (_check_lookup_join)."""
        exp = self.exp
        if len(relations) != 1 or any(
            select.args.get(part) for part in ("where", "group", "having", "qualify", "limit", "offset", "windows")
        ):
            return None
        if any(True for _ in self._own(select, exp.AggFunc)) or any(True for _ in self._own(select, exp.Window)):
            return None
        relation, projections = relations[0], select.expressions
        plain = [p.unalias() for p in projections if isinstance(p.unalias(), exp.Column)]
        distinct = select.args.get("distinct")
        if relation.kind == KEYED and relation.name and distinct is not None and distinct.args.get("on") is None:
            if len(plain) == len(projections) and all(p.alias_or_name == p.unalias().name for p in projections):
                return _Lookup(relation.name, tuple(p.alias_or_name for p in projections))
            return None
        if isinstance(relation.kind, _Lookup) and distinct is None:
            carried = {
                p.alias_or_name
                for p in projections
                if isinstance(p.unalias(), exp.Column) and p.alias_or_name == p.unalias().name
            }
            if not set(relation.kind.columns) <= carried:
                return None
            for projection in projections:
                for node in projection.walk():
                    if isinstance(node, exp.Rand | exp.Subquery) or (
                        isinstance(node, exp.Func)
                        and (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower() in _NOT_DETERMINISTIC
                    ):
                        return None
            images = tuple((p.alias_or_name, _unqualified_sql(p.unalias())) for p in projections)
            return _Lookup(relation.kind.source, relation.kind.columns, images)
        return None

    def _check_joins(self, select, relations: list[_Relation]) -> None:
        if isinstance(relations[0].kind, _Lookup):
            raise NotProvable(f"{relations[0].alias}, a lookup of distinct values, read as the rows themselves")
        restricted = relations[0].kind == KEYED
        for place, join in enumerate(select.args.get("joins") or [], start=1):
            relation = relations[place]
            side, kind = join.args.get("side") or "", join.args.get("kind") or ""
            if isinstance(relation.kind, _Lookup):
                self._check_lookup_join(join, relation, relations[:place], side or kind)
                continue
            if relation.kind == KEYED and any(other.kind == KEYED for other in relations[:place]):
                self._check_key_join(join, relation, relations)
            if side == "FULL":
                restricted = restricted and relation.kind == KEYED
            elif side == "RIGHT":
                restricted = relation.kind == KEYED
            elif side != "LEFT" and kind != "ANTI":
                restricted = restricted or relation.kind == KEYED
        if not restricted:
            raise NotProvable("rows read whole are kept by an outer join even where no keyed row matches")

    def _rows_taken_from(self, query, ctes: dict[str, str]) -> dict[str, frozenset[str]]:
        """The relations a SELECT's rows are each one row of, carried by a star (`r.*`, or `*` over
        one relation), with those they are rows of in turn: for each, the columns not carried as
        they were (left out of the star, replaced, or named again). Its rows' values of the
        other columns are then among that relation's, key by key."""
        exp = self.exp
        if not isinstance(query, exp.Select) or query.args.get("group") or query.args.get("distinct"):
            return {}
        relations = self._relations(query, ctes)
        aliases = {relation.alias: relation.name for relation in relations if relation.kind == KEYED and relation.name}
        named = {projection.alias_or_name for projection in query.expressions if not isinstance(projection.unalias(), exp.Star)}
        taken: dict[str, frozenset[str]] = {}
        for projection in query.expressions:
            star = self._star(projection)
            if star is None or star.args.get("replace") or star.args.get("rename"):
                continue
            table = (
                projection.table if isinstance(projection, exp.Column) else (relations[0].alias if len(relations) == 1 else None)
            )
            if table not in aliases:
                continue
            lost = frozenset(named | {item.name for item in star.args.get("except_") or []})
            name = aliases[table]
            for ancestor, before in [(name, frozenset()), *self._rows_of.get(name, {}).items()]:
                taken[ancestor] = taken.get(ancestor, frozenset()) | before | lost
        return taken

    def _check_lookup_join(self, join, lookup: _Relation, before: list[_Relation], how: str) -> None:
        """A lookup joined (inner or left) back to a relation of its source on every column it maps."""
        exp = self.exp
        if how not in ("", "INNER", "LEFT"):
            raise NotProvable(f"{lookup.alias}, a lookup of distinct values, joined other than inner or left")
        condition = join.args.get("on")
        parts = condition.flatten() if isinstance(condition, exp.And) else [condition]
        source, columns = lookup.kind.source, set(lookup.kind.columns)
        sources = {
            r.alias
            for r in before
            if r.kind == KEYED
            and (r.name == source or (source in self._rows_of.get(r.name, {}) and not columns & self._rows_of[r.name][source]))
        }
        for column in lookup.kind.columns:
            if not any(
                isinstance(part, exp.EQ)
                and {(side.table, side.name) for side in (part.this, part.expression) if isinstance(side, exp.Column)}
                & {(lookup.alias, column)}
                and any(
                    isinstance(side, exp.Column) and side.table in sources and side.name == column
                    for side in (part.this, part.expression)
                )
                for part in parts
            ):
                raise NotProvable(f"{lookup.alias} is not joined back to {lookup.kind.source} on {column}")

    def _check_key_join(self, join, relation: _Relation, relations: list[_Relation]) -> None:
        using = {identifier.name for identifier in join.args.get("using") or []}
        if set(self.key) <= using:
            return
        condition = join.args.get("on")
        equalities = [part for part in (condition.flatten() if isinstance(condition, self.exp.And) else [condition])]
        for column in self.key:
            if not any(
                isinstance(part, self.exp.EQ)
                and any(
                    self._is_key(one, column, [relation], qualified=True) and self._is_key(other, column, relations)
                    for one, other in ((part.this, part.expression), (part.expression, part.this))
                )
                for part in equalities
                if part is not None
            ):
                raise NotProvable(f"{relation.alias} is joined to other keyed rows without equating {column}")

    def _check_grouping(self, select, relations: list[_Relation]) -> None:
        exp = self.exp
        group = select.args.get("group")
        aggregates = [node for node in self._own(select, exp.AggFunc) if not node.find_ancestor(exp.Window)]
        if group is None:
            if aggregates:
                raise NotProvable("an aggregate over keyed rows without GROUP BY the key")
        elif not group.args.get("all"):
            projections = {projection.alias_or_name: projection.unalias() for projection in select.expressions}
            for column in self.key:
                if not any(
                    self._is_key(self._grouped(item, select, projections), column, relations) for item in group.expressions
                ):
                    raise NotProvable(f"GROUP BY without {column}")
        distinct = select.args.get("distinct")
        if distinct is not None and distinct.args.get("on") is not None:
            for column in self.key:
                if not any(self._is_key(item, column, relations) for item in distinct.args["on"].expressions):
                    raise NotProvable(f"DISTINCT ON without {column}")

    def _grouped(self, item, select, projections: dict):
        """A GROUP BY item as the expression it names (a projection's alias or position)."""
        exp = self.exp
        if isinstance(item, exp.Literal) and item.is_int and 0 < int(item.this) <= len(select.expressions):
            return select.expressions[int(item.this) - 1].unalias()
        if isinstance(item, exp.Column) and not item.table and item.name in projections:
            return projections[item.name]
        return item

    def _check_windows(self, select, relations: list[_Relation]) -> None:
        named = {window.this.name: window for window in select.args.get("windows") or []}
        for window in self._own(select, self.exp.Window):
            definition = named.get(window.alias) if window.alias and not window.args.get("partition_by") else window
            partition = (definition.args.get("partition_by") if definition is not None else None) or []
            for column in self.key:
                if not any(self._is_key(item, column, relations) for item in partition):
                    raise NotProvable(f"a window over keyed rows whose PARTITION BY lacks {column}")

    def _star(self, projection):
        """A projection's star (`*`, or `r.*`), None when it is no star."""
        exp = self.exp
        star = projection if isinstance(projection, exp.Star) else projection.this if isinstance(projection, exp.Column) else None
        return star if isinstance(star, exp.Star) else None

    def _carried(self, select, column: str, relations: list[_Relation]) -> bool:
        exp = self.exp
        keyed = [relation for relation in relations if relation.kind == KEYED]
        for projection in select.expressions:
            star = self._star(projection)
            if star is not None:
                excluded = {item.name for item in star.args.get("except_") or []}
                source = projection.table if isinstance(projection, exp.Column) else None
                if column not in excluded and (
                    (source and any(r.alias == source for r in keyed)) or (not source and len(relations) == 1 and keyed)
                ):
                    return True
            elif projection.alias_or_name == column and self._is_key(projection.unalias(), column, relations):
                return True
        if column in self.key_images:  # the key's image from a lookup of it, joined back (_check_lookup_join)
            name, expression = self.key_images[column]
            lookups = {r.alias: r.kind for r in relations if isinstance(r.kind, _Lookup) and column in r.kind.columns}
            for projection in select.expressions:
                node = projection.unalias()
                if (
                    projection.alias_or_name == name
                    and isinstance(node, exp.Column)
                    and node.table in lookups
                    and (name, expression) in lookups[node.table].images
                ):
                    return True
        return False

    def _is_key(self, node, column: str, relations: list[_Relation], qualified: bool = False) -> bool:
        """Whether `node` is the key column `column` of a keyed relation (or a coalesce of such)."""
        exp = self.exp
        if isinstance(node, exp.Paren):
            return self._is_key(node.this, column, relations, qualified)
        if isinstance(node, exp.Coalesce):
            return all(self._is_key(part, column, relations, qualified) for part in [node.this, *node.expressions])
        if not isinstance(node, exp.Column) or node.name != column:
            return False
        if node.table:
            return any(relation.alias == node.table and relation.kind == KEYED for relation in relations)
        return not qualified and len(relations) == 1 and relations[0].kind == KEYED

    def _own(self, select, kind) -> Iterator:
        """The nodes of `kind` in a SELECT's own expressions (not its FROM, joins, CTEs or nested queries)."""
        exp = self.exp
        for name, value in select.args.items():
            if name in ("from_", "joins", "with_", "windows"):
                continue
            for item in value if isinstance(value, list) else [value]:
                if not isinstance(item, exp.Expression):
                    continue
                nested = functools.partial(_nested, item)
                for node in item.walk(prune=nested):
                    if isinstance(node, exp.Subquery):
                        node = node.this
                    if isinstance(node, kind):
                        yield node


def _nested(top, node) -> bool:
    """A query inside `top` (not `top` itself): its nodes are its own, not the enclosing SELECT's."""
    from sqlglot import exp

    return node is not top and isinstance(node, exp.Query | exp.Subquery)
