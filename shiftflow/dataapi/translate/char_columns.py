"""CHAR(n) columns' values as Redshift returns them, on DuckDB (r_Character_types.md: "If the string is shorter
than the maximum length, CHAR values are padded with blanks"; the Data API names the type bpchar).

DuckDB has no blank-padded type: a CHAR(n) column is a VARCHAR holding the value without padding (and refusing one
with trailing blanks, types.py), so comparisons, LEN, casts to VARCHAR and grouping see what Redshift's do. Only
the value a query returns differs: a query's output column that is a table's CHAR(n) column, named directly
(`select c, t.d, *  from t join u ...`: a column of a table of the query's own FROM list, qualified or the only
table there), is padded to n and typed bpchar when the query runs (char_sources() at translation, padded() against
the catalog). A CHAR value reached otherwise (through a view, a subquery, a CTE, a UNION, an expression such as
coalesce(c, '')) stays unpadded and typed varchar, as does a CREATE TABLE AS copy of a CHAR column; LIKE and
concatenation see it unpadded (Redshift's LIKE sees the blanks).
"""

from __future__ import annotations

import re
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
    with_ = tree.args.get("with_")
    ctes = {cte.alias_or_name.lower() for cte in with_.expressions} if with_ else set()
    items = [tree.args["from_"].this, *(join.this for join in tree.args.get("joins") or [])]
    tables: dict[str, exp.Table | None] = {}
    for item in items:
        name = item.alias_or_name.lower()
        plain = isinstance(item, exp.Table) and isinstance(item.this, exp.Identifier) and not item.args.get("joins")
        tables[name] = item if plain and not (not item.db and item.name.lower() in ctes) else None
    every = list(tables.values()) if all(tables.values()) else []  # a subquery may hold an unqualified name
    sources: list[tuple[CharSource, ...]] = []
    for projection in tree.expressions:
        value = projection.this if isinstance(projection, exp.Alias) else projection
        if isinstance(value, exp.Star) or (isinstance(value, exp.Column) and isinstance(value.this, exp.Star)):
            table = tables.get(value.table.lower()) if isinstance(value, exp.Column) and value.table else (
                every[0] if len(every) == 1 else None)
            if len(tree.expressions) != 1 or table is None:
                return ()  # a star among other columns: positions unknown without the catalog
            return ((_source(table, "*"),),)
        if not isinstance(value, exp.Column) or value.args.get("db"):
            sources.append(())
            continue
        candidates = [tables.get(value.table.lower())] if value.table else every
        sources.append(tuple(_source(table, value.name) for table in candidates if table is not None))
    return tuple(sources) if any(sources) else ()


def _source(table: exp.Table, column: str) -> CharSource:
    return CharSource(table.db.lower(), table.name.lower(), column.lower())


_CHAR_CHECK = re.compile(r"value too long for type character\((\d+)\)")


def padded(session: EngineSession, result: QueryResult, sources: tuple[tuple[CharSource, ...], ...]) -> QueryResult:
    """`result` with its CHAR(n) columns padded to n and typed bpchar (sources as char_sources() gives them)."""
    if not result.columns or not sources:
        return result
    if len(sources) == 1 and len(sources[0]) == 1 and sources[0][0].column == "*":
        of_table = _char_columns(session, sources[0][0])
        widths = [of_table.get(column.name, 0) for column in result.columns]
    else:
        widths = [next((width for width in (_char_columns(session, s).get(s.column, 0) for s in candidates) if width),
                       0) for candidates in sources]
    if not any(widths) or len(widths) != len(result.columns):
        return result
    columns = [Column(c.name, "bpchar", width, 0, c.nullable) if width else c for c, width in zip(result.columns, widths)]
    rows = [tuple(value.ljust(width) if width and isinstance(value, str) else value
                  for value, width in zip(row, widths)) for row in result.rows]
    return QueryResult(columns, rows, result.rowcount)


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
