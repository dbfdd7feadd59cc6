"""PIVOT and UNPIVOT in FROM (r_FROM_clause30.md, r_FROM_clause-pivot-unpivot-examples.md), rewritten to plain SQL
on both engines (PostgreSQL has neither; DuckDB's PIVOT takes no AVG with Redshift's DECIMAL rule).

- PIVOT (agg(x) [AS a] FOR c IN (v1 [AS n1], ...)): one row per group of the input's other columns ("Input table
  columns that are not referenced in the PIVOT definition are added implicitly"), then one column per IN value,
  agg(CASE WHEN c = v THEN x END) (c IS NULL for a NULL value; COUNT(*) counts the rows with c = v, so a group
  without one is 0, every other aggregate NULL, as the page says). The aggregate is the same call, so its type is
  Redshift's (SUM of INTEGER a BIGINT, AVG of DECIMAL(p, s) cut to scale s: functions/aggregates.py). A value's
  column is named by its alias, else by the constant itself ('prop', 1, null), else ?column?; an aggregate alias
  is appended with an underscore (`1 AS high` with `count(*) AS count` is high_count). COUNT, SUM, MIN, MAX and
  AVG only, as on Redshift.
- UNPIVOT [INCLUDE | EXCLUDE NULLS] (v FOR n IN (c1 [AS a1], ...)): the other columns, then n (a VARCHAR: the
  column's name or its alias) and v (the columns' common type), from a LATERAL VALUES row per IN column; NULL
  values are skipped unless INCLUDE NULLS.
The input's other columns come from a subquery's select list when it names them all; otherwise (a table, a CTE,
`SELECT *`) they are read when the statement runs (`SELECT * FROM <input> LIMIT 0`: a PivotSources command).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from shiftflow.dataapi.engines.base import EngineSession, QueryResult
from shiftflow.dataapi.translate.model import EngineSql, NotSupportedLocally, SessionCommand

_AGGREGATES = (exp.Count, exp.Sum, exp.Min, exp.Max, exp.Avg)
_VALUES_ALIAS = "shiftflow_unpivot"


def pivots(tree: exp.Expression) -> list[exp.Pivot]:
    """The PIVOT / UNPIVOT clauses of `tree`, in a stable order (a copy of the tree lists them alike)."""
    return [pivot for pivot in tree.find_all(exp.Pivot) if isinstance(pivot.parent, (exp.Table, exp.Subquery))]


def _named_columns(source: exp.Expression) -> list[exp.Identifier] | None:
    """The input's column names when its text tells them all (a subquery's explicit select list), else None."""
    query = source.this if isinstance(source, exp.Subquery) else None
    if not isinstance(query, exp.Select):
        return None
    names = []
    for projection in query.expressions:
        if isinstance(projection, exp.Alias) and projection.alias:
            names.append(projection.args["alias"].copy())
        elif isinstance(projection, exp.Column) and not isinstance(projection.this, exp.Star):
            names.append(projection.this.copy())
        else:
            return None
    return names


def _bare(source: exp.Expression) -> exp.Expression:
    bare = source.copy()
    bare.set("pivots", None)
    return bare


def pivot_probes(tree: exp.Expression) -> dict[int, exp.Select]:
    """For each pivot (by its place in pivots()) whose input columns the text does not tell, the query that reads
    them (with the CTEs of the queries around it)."""
    found = {}
    for index, pivot in enumerate(pivots(tree)):
        source = pivot.parent
        if _named_columns(source) is not None:
            continue
        probe = exp.select("*").from_(_bare(source), copy=False).limit(0, copy=False)
        ctes = []
        node = source.parent
        while node is not None:
            if isinstance(node, exp.Query) and node.args.get("with_") is not None:
                ctes[:0] = [cte.copy() for cte in node.args["with_"].expressions]
            node = node.parent
        if ctes:
            probe.set("with_", exp.With(expressions=ctes))
        found[index] = probe
    return found


def expand_pivots(tree: exp.Expression, columns: Mapping[int, tuple[str, ...]]) -> exp.Expression:
    """`tree` with every PIVOT / UNPIVOT rewritten; `columns` are the probed inputs' column names."""
    for index, pivot in reversed(list(enumerate(pivots(tree)))):
        source = pivot.parent
        named = _named_columns(source)
        names = named if named is not None else [exp.to_identifier(name, quoted=True) for name in columns[index]]
        query = _unpivot(pivot, source, names) if pivot.args.get("unpivot") else _pivot(pivot, source, names)
        alias = pivot.args.get("alias") or source.args.get("alias")
        if alias is None and isinstance(source, exp.Table):
            alias = exp.TableAlias(this=source.this.copy())
        source.replace(exp.Subquery(this=query, alias=alias.copy() if alias is not None else None))
    return tree


def _in_values(pivot: exp.Pivot) -> tuple[exp.Expression, list[exp.Expression]]:
    fields = pivot.args.get("fields") or []
    if len(fields) != 1 or not isinstance(fields[0], exp.In):
        raise NotSupportedLocally("PIVOT / UNPIVOT over more than one FOR column")
    return fields[0].this, list(fields[0].expressions)


def _value_name(value: exp.Expression) -> str:
    if isinstance(value, exp.PivotAlias):
        return value.alias
    if isinstance(value, exp.Null):
        return "null"
    if isinstance(value, exp.Boolean):
        return "true" if value.this else "false"
    if isinstance(value, exp.Literal):
        return value.this
    if isinstance(value, exp.Neg) and isinstance(value.this, exp.Literal) and not value.this.is_string:
        return f"-{value.this.this}"
    return "?column?"


def _referenced(node: exp.Expression) -> set[str]:
    return {column.name.lower() for column in node.find_all(exp.Column)}


def _pivot(pivot: exp.Pivot, source: exp.Expression, names: list[exp.Identifier]) -> exp.Select:
    column, values = _in_values(pivot)
    aggregates = []
    for expression in pivot.expressions:
        call, alias = (expression.this, expression.alias) if isinstance(expression, exp.Alias) else (expression, "")
        if not isinstance(call, _AGGREGATES):
            raise NotSupportedLocally("PIVOT of an expression other than one COUNT, SUM, MIN, MAX or AVG call")
        aggregates.append((call, alias))
    if len(aggregates) > 1 and not all(alias for _, alias in aggregates):
        raise NotSupportedLocally("PIVOT with several aggregates not each aliased")
    used = _referenced(column) | set().union(*(_referenced(call) for call, _ in aggregates))
    groups = [name for name in names if name.name.lower() not in used]
    projections: list[exp.Expression] = [exp.column(name.copy()) for name in groups]
    for value in values:
        constant = value.this if isinstance(value, exp.PivotAlias) else value
        condition = (exp.Is(this=column.copy(), expression=exp.null()) if isinstance(constant, exp.Null)
                     else exp.EQ(this=column.copy(), expression=constant.copy()))
        for call, alias in aggregates:
            projections.append(exp.alias_(_conditional(call, condition), exp.to_identifier(
                f"{_value_name(value)}_{alias}" if alias else _value_name(value), quoted=True), copy=False))
    select = exp.Select(expressions=projections).from_(_bare(source), copy=False)
    if groups:
        select = select.group_by(*[exp.column(name.copy()) for name in groups], copy=False)
    return select


def _conditional(call: exp.Expression, condition: exp.Expression) -> exp.Expression:
    """agg(x) -> agg(CASE WHEN condition THEN x END); COUNT(*) counts the rows that meet it."""
    conditional = call.copy()
    argument = conditional.this
    if isinstance(argument, exp.Distinct):
        argument = argument.expressions[0] if len(argument.expressions) == 1 else None
    if argument is None:
        raise NotSupportedLocally("PIVOT of an aggregate of several arguments")
    then = exp.Literal.number(1) if isinstance(argument, exp.Star) else argument.copy()
    argument.replace(exp.Case(ifs=[exp.If(this=condition.copy(), true=then)]))
    return conditional


def _unpivot(pivot: exp.Pivot, source: exp.Expression, names: list[exp.Identifier]) -> exp.Select:
    name_column, columns = _in_values(pivot)
    if len(pivot.expressions) != 1:
        raise NotSupportedLocally("UNPIVOT of more than one value column")
    value_column = pivot.expressions[0]
    value_column = value_column.this if isinstance(value_column, exp.Column) else value_column
    rows = []
    for item in columns:
        read = item.this if isinstance(item, exp.PivotAlias) else item
        if not isinstance(read, exp.Column):
            raise NotSupportedLocally("UNPIVOT of something other than the input's columns")
        label = item.alias if isinstance(item, exp.PivotAlias) else read.name
        rows.append(exp.Tuple(expressions=[exp.cast(exp.Literal.string(label), exp.DataType.Type.VARCHAR),
                                           read.copy()]))
    unpivoted = set().union(*(_referenced(item) for item in columns))
    kept = [exp.column(name.copy()) for name in names if name.name.lower() not in unpivoted]
    values = exp.Lateral(this=exp.Subquery(this=exp.Values(expressions=rows)), alias=exp.TableAlias(
        this=exp.to_identifier(_VALUES_ALIAS), columns=[name_column.copy(), value_column.copy()]))
    select = exp.Select(expressions=[*kept, exp.column(name_column.copy(), table=_VALUES_ALIAS),
                                     exp.column(value_column.copy(), table=_VALUES_ALIAS)])
    select = select.from_(_bare(source), copy=False).join(values, join_type="CROSS", copy=False)
    if not pivot.args.get("include_nulls"):
        select = select.where(exp.Is(this=exp.column(value_column.copy(), table=_VALUES_ALIAS),
                                     expression=exp.null()).not_(), copy=False)
    return select


@dataclass(frozen=True)
class PivotSources(SessionCommand):
    """A statement whose PIVOT / UNPIVOT inputs' columns are read when it runs (a table, a CTE, SELECT *)."""

    probes: tuple[tuple[int, EngineSql | SessionCommand], ...]
    expanded: Callable[[tuple[tuple[int, tuple[str, ...]], ...]], EngineSql | SessionCommand] = field(
        compare=False, repr=False)
    parameter_names: tuple[str, ...] = ()

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        columns = tuple((index, tuple(c.name for c in _run(probe, session, parameters, in_transaction).columns))
                        for index, probe in self.probes)
        return _run(self.expanded(columns), session, parameters, in_transaction)


def _run(sql: EngineSql | SessionCommand, session: EngineSession, parameters: Mapping[str, str],
         in_transaction: bool) -> QueryResult:
    bound = {name: parameters[name] for name in sql.parameter_names}
    if isinstance(sql, SessionCommand):
        return sql.run(session, bound, in_transaction)
    return sql.execute(session, bound)
