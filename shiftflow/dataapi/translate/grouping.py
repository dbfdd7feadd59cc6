"""Grouping that ignores trailing blanks, as Redshift's does (r_Character_types: "Trailing spaces in VARCHAR and CHAR
values are treated as semantically insignificant when values are compared"): GROUP BY, SELECT DISTINCT,
COUNT(DISTINCT ...) and PARTITION BY put 'a' and 'a  ' in one group. Both engines tell them apart in VARCHAR (and
DuckDB, which has no CHAR, in CHAR columns too).

- COUNT(DISTINCT x) and PARTITION BY x: the key without trailing blanks (shiftflow_rtrim: text loses them, any
  other type passes through).
- GROUP BY k / SELECT DISTINCT of columns: the group key without trailing blanks; the select list,
  HAVING and ORDER BY see any_value(k), one of the group's values, as on Redshift. ROLLUP / CUBE / GROUPING SETS
  and queries with a subquery in those clauses (which may use a key as an outer reference) are left as written.
Trailing blanks still count in ORDER BY and in UNION / INTERSECT / EXCEPT (only values that differ by them alone
sort or deduplicate apart).
"""

from __future__ import annotations

from sqlglot import exp

from shiftflow.dataapi.translate.functions.aggregates import AGGREGATE_CALLS
from shiftflow.dataapi.translate.functions.strings import maybe_text, without_trailing_blanks

_AGGREGATES = (exp.AggFunc, exp.Window)


def rewrite_grouping(tree: exp.Expression) -> exp.Expression:
    for count in list(tree.find_all(exp.Count)):
        distinct = count.this
        if isinstance(distinct, exp.Distinct):
            distinct.set("expressions", [without_trailing_blanks(e) if maybe_text(e) else e
                                         for e in distinct.expressions])
    for window in list(tree.find_all(exp.Window)):
        keys = window.args.get("partition_by") or []
        window.set("partition_by", [without_trailing_blanks(k) if maybe_text(k) else k for k in keys])
    for select in list(tree.find_all(exp.Select)):
        if select.args.get("group"):
            _group_by(select)
        elif isinstance(select.args.get("distinct"), exp.Distinct) and not select.args["distinct"].args.get("on"):
            _distinct(select)
    return tree


def _key_expression(select: exp.Select, key: exp.Expression) -> exp.Expression | None:
    """What a GROUP BY item groups by: an ordinal or an output name stands for its select-list expression."""
    projections = select.expressions
    if isinstance(key, exp.Literal) and not key.is_string:
        index = int(key.this) - 1
        if not 0 <= index < len(projections):
            return None
        projection = projections[index]
        return projection.this if isinstance(projection, exp.Alias) else projection
    if isinstance(key, exp.Column) and not key.table:
        for projection in projections:
            if isinstance(projection, exp.Alias) and projection.alias == key.name:
                return projection.this
    return key


def _group_by(select: exp.Select) -> None:
    group = select.args["group"]
    if any(group.args.get(kind) for kind in ("rollup", "cube", "grouping_sets", "totals")) or any(
            isinstance(key, (exp.Rollup, exp.Cube, exp.GroupingSets)) for key in group.expressions):
        return
    keys = [_key_expression(select, key) for key in group.expressions]
    if any(key is None for key in keys):
        return
    text_keys = [key for key in keys if maybe_text(key) and not isinstance(key, exp.Literal)]
    clauses = [*select.expressions, select.args.get("having"), select.args.get("order")]
    if not text_keys or any(c is not None and c.find(exp.Subquery, exp.Exists) for c in clauses):
        return  # a subquery may use a key as an outer reference: left as written
    group.set("expressions", [without_trailing_blanks(key.copy()) if any(key == k for k in text_keys) else key.copy()
                              for key in keys])
    outputs = {p.alias_or_name for p in select.expressions}
    select.set("expressions", [_shown(p, text_keys) for p in select.expressions])
    for clause in ("having", "order"):
        if select.args.get(clause):
            _represented(select.args[clause], text_keys, outputs if clause == "order" else set())


def _distinct(select: exp.Select) -> None:
    projections = [p.this if isinstance(p, exp.Alias) else p for p in select.expressions]
    if not all(isinstance(p, exp.Column) for p in projections) or any(select.find(a) for a in _AGGREGATES):
        return
    text_keys = [p for p in projections if maybe_text(p)]
    if not text_keys:
        return
    select.set("distinct", None)
    select.set("group", exp.Group(expressions=[without_trailing_blanks(p.copy()) for p in projections]))
    outputs = {p.alias_or_name for p in select.expressions}
    select.set("expressions", [_shown(p, text_keys) for p in select.expressions])
    if select.args.get("order"):
        _represented(select.args["order"], text_keys, outputs)


def _same_column(node: exp.Expression, keys: list[exp.Expression]) -> bool:
    """`node` is one of the keys (a column named with or without its table)."""
    if not isinstance(node, exp.Column):
        return any(node == key for key in keys)
    return any(isinstance(key, exp.Column) and node.name == key.name
               and (not node.table or not key.table or node.table == key.table) for key in keys)


def _shown(projection: exp.Expression, keys: list[exp.Column]) -> exp.Expression:
    """A projection with each key it shows as any_value(key), a bare key keeping its column name."""
    value = projection.this if isinstance(projection, exp.Alias) else projection
    if _group_aggregate(value):
        return projection  # an aggregate of the groups reads the rows themselves
    if _same_column(value, keys):
        name = projection.alias if isinstance(projection, exp.Alias) else value.name
        shown = exp.Anonymous(this="any_value", expressions=[value.copy()])
        return exp.alias_(shown, name, quoted=True) if name else shown
    _represented(projection, keys, set())
    return projection


def _group_aggregate(node: exp.Expression) -> bool:
    """An aggregate of the groups (percentile_cont(...) WITHIN GROUP, PostgreSQL's shiftflow_sum too), not a window's."""
    if isinstance(node, exp.WithinGroup):
        return True
    if isinstance(node, exp.Filter):  # agg(...) FILTER (WHERE ...): the condition reads the rows too
        return _group_aggregate(node.this)
    aggregate = isinstance(node, exp.AggFunc) or (isinstance(node, exp.Anonymous)
                                                  and node.name.lower() in AGGREGATE_CALLS)
    return aggregate and not isinstance(node.parent, exp.Window)


def _represented(clause: exp.Expression, keys: list[exp.Expression], outputs: set[str]) -> None:
    """Each key the clause shows outside the groups' aggregates as any_value(key)."""
    for child in list(clause.iter_expressions()):
        if _group_aggregate(child):
            continue  # an aggregate of the groups (percentile_cont(...) WITHIN GROUP too) reads the rows themselves
        if isinstance(child, exp.Column) and not child.table and child.name in outputs and isinstance(clause, exp.Ordered):
            continue  # ORDER BY an output column: already any_value(key)
        if _same_column(child, keys):
            child.replace(exp.Anonymous(this="any_value", expressions=[child.copy()]))
        else:
            _represented(child, keys, outputs)
