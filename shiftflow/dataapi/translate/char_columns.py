"""CHAR(n) columns' values as Redshift returns them, on DuckDB (r_Character_types.md: "If the string is shorter
than the maximum length, CHAR values are padded with blanks"; the Data API names the type bpchar).

DuckDB has no blank-padded type: a CHAR(n) column is a VARCHAR holding the value without padding (and refusing one
with trailing blanks, types.py), so comparisons, LEN, casts to VARCHAR and grouping see what Redshift's do. Two
places see the blanks on Redshift, and get them here from the column's width (the length CHECK, read from the
catalog when the statement runs and cached per session until the catalog changes):
- the value a query returns: a query's output column that is a table's CHAR(n) column, named directly
  (`select c, t.d, *  from t join u ...`: a column of a table of the query's own FROM list, qualified or the only
  table there), is padded to n and typed bpchar (char_sources() at translation, padded() when it runs);
- the string LIKE, ILIKE and SIMILAR TO match (r_patternmatching_condition_like.md: they "do not implicitly ignore
  trailing spaces": `c LIKE 'ab'` is false for CHAR(5) 'ab'): an operand that is a table's CHAR(n) column, named as
  above in the SELECT, UPDATE or DELETE holding the condition, is padded to n (mark_pattern_operands() at
  translation, with_char_operands() when it runs), as is a CAST(... AS CHAR(n)).
A CHAR value reached otherwise stays unpadded and typed varchar: through a view, a subquery, a CTE, a UNION, an
expression such as coalesce(c, ''), a column of an outer query named in a subquery, a pattern (Redshift converts it
to the operand's type, and says no more of a CHAR one: matched without its blanks, as PostgreSQL's bpchar pattern
is), a CREATE TABLE AS copy, concatenation; so does a LIKE in a cursor's query, a UDF body or an INSERT of non-ISO
datetime text (they run without EngineSql.execute()).
PostgreSQL's bpchar already pads, and its LIKE sees the blanks as Redshift's does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from shiftflow.dataapi.engines.base import Column, EngineError, QueryResult
from shiftflow.dataapi.translate.relations import resolve_table

if TYPE_CHECKING:
    from shiftflow.dataapi.engines.base import EngineSession


@dataclass(frozen=True)
class CharSource:
    """Where an output column comes from: a column of a table as the query names it (column "*": all of them)."""

    schema: str
    table: str
    column: str


def char_sources(tree: exp.Expression) -> tuple[tuple[CharSource, ...], ...]:
    """For each output column, the table columns it may be when the outermost SELECT names one directly: the
    qualified table's, or each FROM table's for an unqualified name (the one that has it: any other would make the
    name ambiguous); () when it is computed. () for the whole query when no column is named directly. Run on the
    parsed tree, before the rewrite pass."""
    if not isinstance(tree, exp.Select) or not tree.args.get("from_"):
        return ()
    tables, every = named_tables(tree)
    sources: list[tuple[CharSource, ...]] = []
    for projection in tree.expressions:
        value = projection.this if isinstance(projection, exp.Alias) else projection
        if isinstance(value, exp.Star) or (isinstance(value, exp.Column) and isinstance(value.this, exp.Star)):
            table = tables.get(value.table.lower()) if isinstance(value, exp.Column) and value.table else (
                every[0] if len(every) == 1 else None)
            if len(tree.expressions) != 1 or table is None:
                return ()  # a star among other columns: positions unknown without the catalog
            return ((_source(table, "*"),),)
        sources.append(_column_sources(value, tables, every) if isinstance(value, exp.Column) else ())
    return tuple(sources) if any(sources) else ()


def named_tables(scope: exp.Expression) -> tuple[dict[str, exp.Table | None], list[exp.Table]]:
    """The tables a SELECT (its FROM list), UPDATE (its target and FROM) or DELETE (its target and USING) names,
    by alias (None: a subquery, a CTE, a table function); and all of them when each is a table (an unqualified
    name is one of theirs), else [] (a subquery may hold it)."""
    ctes = set()
    node: exp.Expression | None = scope
    while node is not None:  # the CTEs of every enclosing WITH
        with_ = node.args.get("with_")
        ctes |= {cte.alias_or_name.lower() for cte in with_.expressions} if isinstance(with_, exp.With) else set()
        node = node.parent
    items = [] if isinstance(scope, exp.Select) else [scope.this]
    from_ = scope.args.get("from_")
    if from_ is not None:
        items.append(from_.this)
    items += [using for using in scope.args.get("using") or []]
    items += [join.this for join in scope.args.get("joins") or []]
    tables: dict[str, exp.Table | None] = {}
    for item in items:
        name = item.alias_or_name.lower()
        plain = isinstance(item, exp.Table) and isinstance(item.this, exp.Identifier) and not item.args.get("joins")
        tables[name] = item if plain and not (not item.db and item.name.lower() in ctes) else None
    every = [table for table in tables.values() if table is not None]
    return tables, every if len(every) == len(tables) else []


def _column_sources(column: exp.Column, tables: dict[str, exp.Table | None],
                    every: list[exp.Table]) -> tuple[CharSource, ...]:
    if column.args.get("db") or isinstance(column.this, exp.Star):
        return ()
    candidates = [tables.get(column.table.lower())] if column.table else every
    return tuple(_source(table, column.name) for table in candidates if table is not None)


CHAR_TYPES = {exp.DataType.Type.CHAR, exp.DataType.Type.NCHAR, exp.DataType.Type.BPCHAR}


def char_width(data_type: exp.DataType) -> int | None:
    """n of CHAR(n) / NCHAR(n) / BPCHAR(n); None for any other type."""
    size = data_type.expressions[0].this if data_type.this in CHAR_TYPES and len(data_type.expressions) == 1 else None
    return int(size.this) if isinstance(size, exp.Literal) and not size.is_string else None


_OPERAND = "shiftflow_char_operand"  # DuckDB set-up: the value itself, until with_char_operands() pads it
_PATTERN_MATCHES = (exp.Like, exp.ILike, exp.SimilarTo)


def mark_pattern_operands(tree: exp.Expression) -> tuple[tuple[CharSource, ...], ...]:
    """DuckDB: the operand of each LIKE / ILIKE / SIMILAR TO that names a table's column put in
    shiftflow_char_operand(c, i), i indexing the returned candidate columns (one index per column and scope); one
    that is a CAST to CHAR(n) padded to n. Run on the parsed tree, before the rewrite pass."""
    indexes: dict[tuple[str, tuple[CharSource, ...]], int] = {}
    for match in list(tree.find_all(*_PATTERN_MATCHES)):
        operand = match.this
        width = char_width(operand.to) if isinstance(operand, exp.Cast) else None
        if width:
            match.set("this", _rpad(operand.copy(), width))
            continue
        scope = operand.find_ancestor(exp.Select, exp.Update, exp.Delete) if isinstance(operand, exp.Column) else None
        if scope is None:
            continue
        candidates = _column_sources(operand, *named_tables(scope))
        if candidates:
            index = indexes.setdefault((operand.sql(), candidates), len(indexes))
            match.set("this", exp.Anonymous(this=_OPERAND, expressions=[operand.copy(), exp.Literal.number(index)]))
    return tuple(candidates for _, candidates in indexes)


def char_operands(tree: exp.Expression, candidates: tuple[tuple[CharSource, ...], ...],
                  generate: Callable[[exp.Expression], str]) -> tuple[CharOperand, ...]:
    """The marks mark_pattern_operands() made, as `generate` writes them in the statement's text (after the
    rewrite pass), for with_char_operands()."""
    found = {}
    for call in tree.find_all(exp.Anonymous):
        if call.name.lower() == _OPERAND:
            value, index = call.expressions
            found[generate(call)] = CharOperand(generate(call), generate(value), candidates[int(index.this)])
    return tuple(found.values())


@dataclass(frozen=True)
class CharOperand:
    """A mark in a statement's text, the column it holds (as written there) and the table columns it may be."""

    mark: str
    column: str
    sources: tuple[CharSource, ...]


def with_char_operands(session: EngineSession, text: str, operands: tuple[CharOperand, ...]) -> str:
    """`text` with each marked operand that is a CHAR(n) column padded to n."""
    for operand in operands:
        width = _width(session, operand.sources)
        if width:
            text = text.replace(operand.mark, f"rpad({operand.column}, {width}, ' ')")
    return text


def _rpad(value: exp.Expression, width: int) -> exp.Expression:
    return exp.Anonymous(this="rpad", expressions=[value, exp.Literal.number(width), exp.Literal.string(" ")])


def _source(table: exp.Table, column: str) -> CharSource:
    return CharSource(table.db.lower(), table.name.lower(), column.lower())


DUCKDB_SETUP = (f"CREATE OR REPLACE TEMP MACRO {_OPERAND}(value, operand) AS value",)

_CHAR_CHECK = re.compile(r"value too long for type character\((\d+)\)")


def padded(session: EngineSession, result: QueryResult, sources: tuple[tuple[CharSource, ...], ...]) -> QueryResult:
    """`result` with its CHAR(n) columns padded to n and typed bpchar (sources as char_sources() gives them)."""
    if not result.columns or not sources:
        return result
    if len(sources) == 1 and len(sources[0]) == 1 and sources[0][0].column == "*":
        of_table = _char_columns(session, sources[0][0])
        widths = [of_table.get(column.name, 0) for column in result.columns]
    else:
        widths = [_width(session, candidates) for candidates in sources]
    if not any(widths) or len(widths) != len(result.columns):
        return result
    columns = [Column(c.name, "bpchar", width, 0, c.nullable) if width else c for c, width in zip(result.columns, widths)]
    rows = [tuple(value.ljust(width) if width and isinstance(value, str) else value
                  for value, width in zip(row, widths)) for row in result.rows]
    return QueryResult(columns, rows, result.rowcount)


def _width(session: EngineSession, candidates: tuple[CharSource, ...]) -> int:
    """n when the column is one of the candidates' CHAR(n) columns, else 0."""
    return next((width for width in (_char_columns(session, s).get(s.column, 0) for s in candidates) if width), 0)


def _char_columns(session: EngineSession, source: CharSource) -> dict[str, int]:
    """The CHAR(n) columns of the table (found as a name is: a temporary table first, then the current schema),
    from the translator's length CHECKs; {} for a view or a table without any."""
    cached = getattr(session, "catalog_cached", None)
    compute = lambda: _read_char_columns(session, source)  # noqa: E731
    return cached(("char_columns", source.schema, source.table), compute) if cached else compute()


def _read_char_columns(session: EngineSession, source: CharSource) -> dict[str, int]:
    try:
        table_oid = resolve_table(session, f"{source.schema}.{source.table}" if source.schema else source.table)
    except EngineError:
        return {}  # a view, or a table function
    checks: Any = session.execute(
        "SELECT constraint_column_names[1], constraint_text FROM duckdb_constraints()"
        " WHERE table_oid = $oid AND constraint_type = 'CHECK'", {"oid": str(table_oid)}).rows
    found = {}
    for column, text in checks:
        width = _CHAR_CHECK.search(text or "")
        if width and column:
            found[column] = int(width.group(1))
    return found
