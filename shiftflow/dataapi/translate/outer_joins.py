"""Oracle-style outer joins in a WHERE clause (r_WHERE_oracle_outer.md): `where a.x = b.x(+)` is
`a LEFT JOIN b ON a.x = b.x`, and a condition comparing a (+) column with a constant (`b.y(+) = 796`) joins with it
rather than filtering the outer-joined rows away.

The form rewritten is the one the page documents: a FROM list of tables (comma joins only), a WHERE clause that is a
conjunction, each (+) condition naming the outer-joined table's columns with the (+) and at most one other table's
columns without it. A table outer joined to two others fails as Redshift documents ("A table may be outer joined to
at most one other table."). Anything else with a (+) (OR, subqueries, explicit JOINs beside it, an unqualified
column whose table cannot be told) fails with "not supported locally".
"""

from __future__ import annotations

from sqlglot import exp

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate.model import NotSupportedLocally


def rewrite_outer_joins(tree: exp.Expression) -> exp.Expression:
    """Every SELECT whose WHERE holds a (+) column, with its comma joins made explicit LEFT / CROSS joins."""
    for column in list(tree.find_all(exp.Column)):
        if column.args.get("join_mark"):
            select = column.find_ancestor(exp.Select)
            if select is None or not isinstance(column.find_ancestor(exp.Where, exp.Select), exp.Where):
                raise NotSupportedLocally("the (+) outer join operator outside a WHERE clause")
            if any(c.args.get("join_mark") for c in select.args["where"].find_all(exp.Column)):
                _rewrite_select(select)
    return tree


def _refuse(what: str) -> NotSupportedLocally:
    return NotSupportedLocally(f"the (+) outer join operator {what}")


def _own_columns(node: exp.Expression) -> list[exp.Column]:
    if node.find(exp.Select, exp.Subquery):
        raise _refuse("with a subquery in its condition")
    return list(node.find_all(exp.Column))


def _rewrite_select(select: exp.Select) -> None:
    source = select.args.get("from_")
    joins = select.args.get("joins") or []
    if source is None or any(join.args.get(key) for join in joins
                             for key in ("on", "using", "side", "kind", "method")):
        raise _refuse("beside explicit JOINs")
    items = [source.this, *(join.this for join in joins)]
    names = [item.alias_or_name.lower() for item in items]
    if not all(names) or len(set(names)) != len(names):
        raise _refuse("over FROM items without a name of their own")
    conjuncts = list(select.args["where"].this.flatten()) if isinstance(select.args["where"].this, exp.And) \
        else [select.args["where"].this]
    marked_tables = {c.table.lower() for part in conjuncts for c in part.find_all(exp.Column)
                     if c.args.get("join_mark") and c.table}
    kept: list[exp.Expression] = []
    conditions: dict[str, list[exp.Expression]] = {}
    partners: dict[str, set[str]] = {}
    for part in conjuncts:
        if not any(c.args.get("join_mark") for c in part.find_all(exp.Column)):
            kept.append(part)
            continue
        if part.find(exp.Or):
            raise _refuse("in an OR condition")
        columns = _own_columns(part)
        outer = set()
        others = set()
        for column in columns:
            table = column.table.lower()
            if column.args.get("join_mark"):
                if not table:
                    if len(marked_tables) != 1:
                        raise _refuse(f"on the unqualified column {column.name}")
                    table = next(iter(marked_tables))
                    column.set("table", exp.to_identifier(table))
                outer.add(table)
                column.set("join_mark", None)
            elif not table:
                raise _refuse(f"beside the unqualified column {column.name}")
            else:
                others.add(table)
        if len(outer) != 1 or len(others) > 1 or not (outer | others) <= set(names) or outer & others:
            raise _refuse("in a condition that names more than two tables")
        table = next(iter(outer))
        conditions.setdefault(table, []).append(part)
        partners.setdefault(table, set()).update(others)
    for table, joined in partners.items():
        if len(joined) > 1:
            raise EngineError("A table may be outer joined to at most one other table.")
        if not joined:
            raise _refuse(f"on {table} joined to no other table")
    _rebuild(select, items, names, conditions, {table: next(iter(joined)) for table, joined in partners.items()},
             kept)


def _rebuild(select: exp.Select, items: list[exp.Expression], names: list[str],
             conditions: dict[str, list[exp.Expression]], partner: dict[str, str], kept: list[exp.Expression]) -> None:
    """FROM the first table that is not outer joined, then each table once the one it is outer joined to is in."""
    pending = dict(zip(names, items))
    placed: list[str] = []
    joins: list[exp.Join] = []
    while pending:
        ready = next((name for name in pending if name not in partner or partner[name] in placed), None)
        if ready is None:
            raise _refuse("in a cycle of outer joins")
        item = pending.pop(ready)
        if not placed:
            select.set("from_", exp.From(this=item))
        elif ready in partner:
            joins.append(exp.Join(this=item, side="LEFT", on=exp.and_(*conditions[ready])))
        else:
            joins.append(exp.Join(this=item, kind="CROSS"))
        placed.append(ready)
    select.set("joins", joins)
    select.set("where", exp.Where(this=exp.and_(*kept)) if kept else None)
