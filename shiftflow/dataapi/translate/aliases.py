"""Lateral column aliases on the PostgreSQL engine: `select clicks / impressions as probability,
round(100 * probability, 1) as percentage from raw_data` (r_SELECT_list.md).

"When Amazon Redshift parses this type of reference, it just inlines the previously defined aliases. If there is a
column with the same name defined in the FROM clause as the previously aliased expression, the column in the FROM
clause takes priority." The translator cannot tell from the text alone whether a FROM item has a column of that
name. PostgreSQL has no lateral aliases: the statement runs as written first, and only when PostgreSQL answers
`column "<alias>" does not exist` (so no FROM column has that name) is the alias inlined and the statement run
again (behind a savepoint in a transaction, as a failed statement aborts a PostgreSQL transaction). DuckDB has
them, with that priority, but refuses one whose expression has side effects (the translator's error() checks:
division by zero, text casts), and a failed statement aborts its transaction with no savepoint to return to: the
FROM columns are read first (`SELECT * FROM <the same FROM> LIMIT 0`), and every other reference is inlined.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from shiftflow.dataapi.engines.base import EngineError, EngineSession, QueryResult
from shiftflow.dataapi.translate.model import EngineSql, SessionCommand

_MISSING_COLUMN = re.compile(r'^column "(?P<name>[^"]+)" does not exist$')
_SAVEPOINT = "shiftflow_lateral_alias"


def _own_references(projection: exp.Expression, select: exp.Select) -> list[exp.Column]:
    """Unqualified column references of `projection` that belong to `select` itself (not to a subquery in it)."""
    return [column for column in projection.find_all(exp.Column)
            if not column.table and column.find_ancestor(exp.Select) is select]


def lateral_references(tree: exp.Expression) -> tuple[frozenset[str], ...]:
    """For each select of `tree` (in find_all order), the explicit aliases of its select list that a later
    projection of the same list refers to."""
    found = []
    for select in tree.find_all(exp.Select):
        names: set[str] = set()
        aliases: set[str] = set()
        for projection in select.expressions:
            names.update(c.name for c in _own_references(projection, select) if c.name in aliases)
            if isinstance(projection, exp.Alias) and projection.alias:
                aliases.add(projection.alias)
        found.append(frozenset(names))
    return tuple(found)


def inline_aliases(tree: exp.Expression, names: tuple[frozenset[str], ...]) -> exp.Expression:
    """`tree` with each later reference to an alias in names[i] (select i) replaced by the aliased expression."""
    for select, inlined in zip(list(tree.find_all(exp.Select)), names):
        defined: dict[str, exp.Expression] = {}
        for projection in select.expressions:
            for column in _own_references(projection, select):
                if column.name in inlined and column.name in defined:
                    column.replace(exp.paren(defined[column.name].copy(), copy=False))
            if isinstance(projection, exp.Alias) and projection.alias in inlined:
                defined[projection.alias] = projection.this
    return tree


def source_probes(tree: exp.Expression, names: tuple[frozenset[str], ...]) -> tuple[exp.Select | None, ...]:
    """For each select with lateral references, `SELECT * FROM <its FROM and joins> LIMIT 0` (with the CTEs of
    the queries around it): the FROM columns, which take priority over the aliases."""
    probes: list[exp.Select | None] = []
    for select, referenced in zip(tree.find_all(exp.Select), names):
        if not referenced or select.args.get("from_") is None:
            probes.append(None)  # no FROM: every reference is to an alias
            continue
        probe = exp.select("*").from_(select.args["from_"].copy(), copy=False).limit(0, copy=False)
        for join in select.args.get("joins") or []:
            probe.append("joins", join.copy())
        ctes = [cte.copy() for query in reversed(_self_and_ancestors(select)) if query.args.get("with_") is not None
                for cte in query.args["with_"].expressions]
        if ctes:
            probe.set("with_", exp.With(expressions=ctes))
        probes.append(probe)
    return tuple(probes)


def _self_and_ancestors(node: exp.Expression) -> list[exp.Expression]:
    """node, its parent, ... the root (whose CTEs come first, as the later ones may read them)."""
    chain = [node]
    while chain[-1].parent is not None:
        chain.append(chain[-1].parent)
    return chain


@dataclass(frozen=True)
class LateralAliases(SessionCommand):
    """A statement with lateral alias references, each inlined unless a FROM column has its name."""

    plain: EngineSql
    names: tuple[frozenset[str], ...]  # per select, the aliases referred to laterally
    inlined: Callable[[tuple[frozenset[str], ...]], EngineSql] = field(compare=False, repr=False)
    # DuckDB: per select, the query that reads its FROM columns (None: no FROM or no lateral reference). PostgreSQL
    # (no probes) runs the statement as written first and inlines what it cannot find.
    probes: tuple[EngineSql | None, ...] = ()

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return self.plain.parameter_names

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        if self.probes:
            return self._run(self.inlined(self._not_from_columns(session, parameters)), session, parameters)
        return self._run_postgres(session, parameters, in_transaction)

    def _not_from_columns(self, session: EngineSession,
                          parameters: Mapping[str, str]) -> tuple[frozenset[str], ...]:
        kept = []
        for referenced, probe in zip(self.names, self.probes):
            if probe is not None and referenced:
                columns = {c.name.lower() for c in self._run(probe, session, parameters).columns}
                referenced = referenced - columns
            kept.append(referenced)
        return tuple(kept)

    @staticmethod
    def _run(sql: EngineSql, session: EngineSession, parameters: Mapping[str, str]) -> QueryResult:
        return sql.execute(session, {n: parameters[n] for n in sql.parameter_names})

    def _run_postgres(self, session: EngineSession, parameters: Mapping[str, str],
                      in_transaction: bool) -> QueryResult:
        every = frozenset().union(*self.names)
        resolved: frozenset[str] = frozenset()
        sql = self.plain
        while True:
            if in_transaction:
                session.execute(f"SAVEPOINT {_SAVEPOINT}", {})
            try:
                result = self._run(sql, session, parameters)
            except EngineError as error:
                missing = _MISSING_COLUMN.match(str(error))
                name = missing.group("name") if missing else None
                if name not in every - resolved:
                    raise
                if in_transaction:
                    session.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}", {})
                resolved |= {name}
                sql = self.inlined(tuple(names & resolved for names in self.names))
                continue
            if in_transaction:
                session.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}", {})
            return result
