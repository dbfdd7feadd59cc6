"""CHAR(n) values as Redshift returns them, on DuckDB (r_Character_types.md: "If the string is shorter than the
maximum length, CHAR values are padded with blanks"; "Trailing blanks in CHAR values are always semantically
insignificant ... removed when you convert a CHAR value to another string type"; the Data API names the type bpchar).

DuckDB has no blank-padded type: a CHAR(n) column is a VARCHAR holding the value without padding (refusing one with
trailing blanks, types.py; a cast to CHAR(n) drops them too), so comparisons, LEN, casts to VARCHAR, grouping and
values stored into other columns see what Redshift's do. The blanks are put back where Redshift shows them, from
each value's lineage (Lineage, worked out at translation on the parsed tree; resolved when the statement runs with
the widths of the tables' length CHECKs and the views' own lineage, cached per session until the catalog changes):
- a query's output column (padded() pads it to n and types it bpchar) whose value is a CHAR(n) value: a table's
  CHAR(n) column, named directly or through subqueries, CTEs, views and set operations (every branch CHAR(n) of
  the same n), MAX / MIN / ANY_VALUE / FIRST_VALUE / LAST_VALUE / LAG / LEAD of one, a CASE / COALESCE / NVL / NVL2 /
  NULLIF / GREATEST / LEAST / DECODE choosing between such values and NULLs, a CAST(... AS CHAR(n));
- in the outermost SELECT (each branch of a UNION ALL), a CASE / COALESCE ... choosing between CHAR values and text
  literals: each CHAR operand is padded to its own n in the statement's text (_marked()), a literal kept as written,
  as PostgreSQL's bpchar of no length has it;
- the operands of LIKE, ILIKE and SIMILAR TO (r_patternmatching_condition_like.md: they "do not implicitly ignore
  trailing spaces": `c LIKE 'ab'` is false for CHAR(5) 'ab'), and the value FNV_HASH / FARMFINGERPRINT64 hash
  (r_FNV_HASH.md: "does not ignore trailing spaces"); a pattern is matched as written (Redshift converts
  it to the operand's type and says no more of a CHAR one: matched without its blanks, as PostgreSQL's is);
- CREATE TABLE AS: a column whose value is a CHAR(n) value is a CHAR(n) column (CharTableAs: the table gets the
  length CHECK a CREATE TABLE gives one), which later queries pad.
What Redshift documents no type for fails with "not supported locally" when a CHAR value is in it: a CHAR value
beside other text in one value (a VARCHAR value, a function's result; a literal too below the outermost SELECT or
in a UNION / INTERSECT / EXCEPT that compares values, where blanks put value by value would tell them apart), or
beside CHAR values of another length in a set operation; CHAR values concatenated with one another only (|| or
CONCAT: r_CONCAT.md says "The data type of the expression is the same type as the input arguments", with no CHAR
example: whether the blanks stay is not documented). A CHAR value concatenated with other text is converted to that
text's type, which drops its blanks (r_Character_types.md), as DuckDB's unpadded value has it. A CHAR value
reached otherwise stays unpadded and typed varchar: other functions' results (UPPER, SUBSTRING ...), a star over a
set operation or a join, a column of an outer query named in a subquery; so does a LIKE in a cursor's query or a
UDF body (they run without EngineSql.execute()).
PostgreSQL's bpchar already pads, and its LIKE sees the blanks as Redshift's does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from shiftflow.dataapi.engines.base import Column, EngineError, QueryResult
from shiftflow.dataapi.translate.model import EngineSql, NotSupportedLocally, SessionCommand
from shiftflow.dataapi.translate.relations import resolve_table
from shiftflow.dataapi.translate.types import char_column_check, char_width

if TYPE_CHECKING:
    from shiftflow.dataapi.engines.base import EngineSession


@dataclass(frozen=True)
class CharSource:
    """A column of a table or view as the query names it (column "*": all of them)."""

    schema: str
    table: str
    column: str


@dataclass(frozen=True)
class Lineage:
    """What a value may be as a CHAR(n): a table's or view's column ("column"), a CAST to CHAR(width) ("cast"; width
    0: a value that is no CHAR, such as a literal), whichever of `parts` exists ("either": an unqualified name in a
    join), or one of `parts` each ("union": a set operation's branches, a CASE's results)."""

    kind: str
    source: CharSource | None = None
    width: int = 0
    parts: tuple[Lineage, ...] = ()


NOT_CHAR = Lineage("cast")


@dataclass(frozen=True)
class CharOutput:
    """An output column of the outermost SELECT choosing between `marks` (indexes of CharValue marks, each
    padded on its own) and `fixed` CAST(... AS CHAR(n)) operands padded at translation; `other`: it may also be a
    value that is no literal and no CHAR."""

    marks: tuple[int, ...]
    fixed: int
    other: bool


Output = Lineage | CharOutput | None

_CHAR_TYPE_NAME = re.compile(r"^(?:N?CHAR|BPCHAR|CHARACTER|NATIONAL CHARACTER)\((\d+)\)$", re.I)


def _cast_width(node: exp.Expression) -> int | None:
    """n of a CAST to CHAR(n), as written or as types.py rewrote it for DuckDB (a view's text); None otherwise."""
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return char_width(node.to) or 0
    if isinstance(node, exp.Anonymous) and node.name.lower() == "shiftflow_text_prefix" and len(node.expressions) == 3:
        name = _CHAR_TYPE_NAME.match(node.expressions[2].name) if isinstance(node.expressions[2], exp.Literal) else None
        return int(name.group(1)) if name else 0
    return None


_SAME_VALUE = (exp.Max, exp.Min, exp.AnyValue, exp.FirstValue, exp.LastValue, exp.Lag, exp.Lead, exp.Paren,
               exp.Window, exp.Alias)


def _value_operands(node: exp.Expression) -> list[exp.Expression] | None:
    """The operands whose value a CASE / COALESCE / NVL / NVL2 / NULLIF / GREATEST / LEAST / DECODE returns."""
    if isinstance(node, exp.Case):
        return [branch.args["true"] for branch in node.args.get("ifs") or []] + (
            [node.args["default"]] if node.args.get("default") is not None else [])
    if isinstance(node, exp.DecodeCase):
        values = node.expressions[1:]
        return values[1::2] + ([values[-1]] if len(values) % 2 else [])
    if isinstance(node, (exp.Coalesce, exp.Greatest, exp.Least)):
        return [node.this, *node.expressions]
    if isinstance(node, exp.Nullif):
        return [node.this]
    if isinstance(node, (exp.Lag, exp.Lead)) and node.args.get("default") is not None:
        return [node.this, node.args["default"]]
    if isinstance(node, (exp.Nvl2, exp.If)):
        return [node.args["true"], *([node.args["false"]] if node.args.get("false") is not None else [])]
    return None


def _is_null(node: exp.Expression) -> bool:
    return isinstance(node, exp.Null) or (isinstance(node, exp.Cast) and isinstance(node.this, exp.Null)
                                          and not char_width(node.to))


def lineage(value: exp.Expression, scope: exp.Expression) -> Lineage | None:
    """The lineage of `value` read in `scope` (the SELECT, UPDATE or DELETE naming its columns); None when it is
    never a CHAR value (a literal, a function's result)."""
    if isinstance(value, _SAME_VALUE) and isinstance(value.this, exp.Expression) and value.args.get("default") is None:
        return lineage(value.this, scope)
    width = _cast_width(value)
    if width is not None:
        return Lineage("cast", width=width) if width else None
    if isinstance(value, exp.Column):
        return _column_lineage(value, scope)
    if isinstance(value, exp.Subquery):  # a scalar subquery: its one column
        outputs = positional_outputs(value.this)
        return outputs[0] if outputs and len(outputs) == 1 else None
    operands = _value_operands(value)
    if not operands:
        return None
    parts = tuple(lineage(operand, scope) or NOT_CHAR for operand in operands if not _is_null(operand))
    if all(part is NOT_CHAR for part in parts):
        return None
    return parts[0] if len(parts) == 1 else Lineage("union", parts=parts)


def _column_lineage(column: exp.Column, scope: exp.Expression) -> Lineage | None:
    if column.args.get("db") or isinstance(column.this, exp.Star):
        return None
    items = _from_items(scope)
    candidates = [items.get(column.table.lower())] if column.table else list(items.values())
    found = [found for found in (_item_column(item, column.name) for item in candidates if item is not None) if found]
    return None if not found else found[0] if len(found) == 1 else Lineage("either", parts=tuple(found))


def _item_column(item: exp.Expression, name: str) -> Lineage | None:
    """The lineage of column `name` of a FROM item: a table or view, or a subquery or CTE (by its column list's
    position when it has one)."""
    if isinstance(item, exp.Table):
        return Lineage("column", CharSource(item.db.lower(), item.name.lower(), name.lower()))
    alias = item.args.get("alias")
    columns = [column.name.lower() for column in alias.columns] if isinstance(alias, exp.TableAlias) else []
    if not columns:
        return named_output(item.this, name)
    outputs = positional_outputs(item.this)
    return outputs[columns.index(name.lower())] if outputs and name.lower() in columns[:len(outputs)] else None


def named_tables(scope: exp.Expression) -> tuple[dict[str, exp.Table | None], list[exp.Table]]:
    """The plain tables of scope's FROM items (_from_items()) by alias, None for any other item; and all of them
    when every item is a plain table (an unqualified column is one of theirs), else []."""
    items = _from_items(scope)
    tables = {name: item if isinstance(item, exp.Table) else None for name, item in items.items()}
    every = [table for table in tables.values() if table is not None]
    return tables, every if len(every) == len(tables) else []


def _from_items(scope: exp.Expression) -> dict[str, exp.Expression | None]:
    """The FROM items a SELECT (its FROM list), UPDATE (its target and FROM) or DELETE (its target and USING)
    names, by alias: a plain table (or view), a subquery, a CTE; None for anything else (a table function, an
    unnested navigation, a recursive CTE read in its own body: its values are its other branch's, read there)."""
    ctes: dict[str, exp.CTE] = {}
    node: exp.Expression | None = scope
    while node is not None:  # the CTEs of every enclosing WITH, the innermost first
        with_ = node.args.get("with_")
        for cte in with_.expressions if isinstance(with_, exp.With) else []:
            ctes.setdefault(cte.alias_or_name.lower(), cte)
        node = node.parent
    items = [] if isinstance(scope, exp.Select) else [scope.this]
    from_ = scope.args.get("from_")
    if from_ is not None:
        items.append(from_.this)
    items += [using for using in scope.args.get("using") or []]
    items += [join.this for join in scope.args.get("joins") or []]
    found: dict[str, exp.Expression | None] = {}
    enclosing = {id(node) for node in _ancestors(scope)}
    for item in items:
        name = item.alias_or_name.lower()
        if isinstance(item, exp.Table) and isinstance(item.this, exp.Identifier) and not item.args.get("joins"):
            cte = ctes.get(item.name.lower()) if not item.db else None
            found[name] = item if cte is None else None if id(cte) in enclosing else cte
        elif isinstance(item, exp.Subquery) and isinstance(item.this, exp.Query):
            found[name] = item
        else:
            found[name] = None
    return found


def _ancestors(node: exp.Expression | None) -> list[exp.Expression]:
    found = []
    while node is not None:
        found.append(node)
        node = node.parent
    return found


def named_output(query: exp.Expression, name: str) -> Lineage | None:
    """The lineage of the output column `name` of a query (a SELECT, a set operation: each branch's column at its
    position, a parenthesized query)."""
    name = name.lower()
    while isinstance(query, exp.Subquery):
        query = query.this
    if isinstance(query, exp.Select):
        for projection in query.expressions:
            if not isinstance(projection, exp.Star | exp.Column) or not _is_star(projection):
                if projection.alias_or_name.lower() == name:
                    return lineage(projection, query)
        stars = [p for p in query.expressions if _is_star(p)]
        found = [_column_lineage(exp.column(name, table=star.table if isinstance(star, exp.Column) else None),
                                 query) for star in stars]
        found = [f for f in found if f]
        return found[0] if len(found) == 1 else Lineage("either", parts=tuple(found)) if found else None
    if isinstance(query, exp.SetOperation):
        first = _leftmost(query)
        names = [p.alias_or_name.lower() for p in first.expressions] if isinstance(first, exp.Select) else []
        return positional_outputs(query)[names.index(name)] if name in names and positional_outputs(query) else None
    return None


def _is_star(projection: exp.Expression) -> bool:
    return isinstance(projection, exp.Star) or (isinstance(projection, exp.Column) and isinstance(projection.this,
                                                                                                   exp.Star))


def _leftmost(query: exp.Expression) -> exp.Expression:
    while isinstance(query, (exp.SetOperation, exp.Subquery)):
        query = query.this
    return query


def positional_outputs(query: exp.Expression) -> tuple[Lineage | None, ...] | None:
    """Each output column's lineage, by position; None when a star hides the positions (or another query)."""
    while isinstance(query, exp.Subquery):
        query = query.this
    if isinstance(query, exp.Select):
        if any(_is_star(p) for p in query.expressions):
            return None
        return tuple(lineage(p, query) for p in query.expressions)
    if isinstance(query, exp.SetOperation):
        left, right = positional_outputs(query.this), positional_outputs(query.expression)
        if left is None or right is None or len(left) != len(right):
            return None
        return tuple(None if a is None and b is None else Lineage("union", parts=(a or NOT_CHAR, b or NOT_CHAR))
                     for a, b in zip(left, right))
    return None


def char_sources(tree: exp.Expression) -> tuple[Output, ...]:
    """For each output column of a query, or of the query a CREATE TABLE AS stores, its lineage (None: no CHAR
    value); () when none may be one, or when a star hides the positions. A SELECT of a star alone is (Lineage of
    column "*" of its one table or view,) or the outputs of its one subquery. The outermost SELECT's CASE /
    COALESCE ... choosing between CHAR values and literals get their CHAR operands marked (CharOutput) for
    mark_char_values() to number. Run on the parsed tree, before the rewrite pass."""
    if isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() == "TABLE":
        query = tree.args.get("expression")
        return _query_outputs(query, mark=False) if isinstance(query, exp.Query) else ()
    return _query_outputs(tree, mark=True)


def _query_outputs(tree: exp.Expression, mark: bool) -> tuple[Output, ...]:
    if isinstance(tree, exp.Select) and len(tree.expressions) == 1 and _is_star(tree.expressions[0]):
        star = tree.expressions[0]
        items = _from_items(tree) if tree.args.get("from_") else {}
        item = items.get(star.table.lower()) if isinstance(star, exp.Column) and star.table else (
            next(iter(items.values())) if len(items) == 1 else None)
        if isinstance(item, exp.Table):
            return (Lineage("column", CharSource(item.db.lower(), item.name.lower(), "*")),)
        return (positional_outputs(item.this) or ()) if item is not None else ()
    selects = _branches(tree) if mark else None
    if selects is not None and len({len(select.expressions) for select in selects}) == 1:
        found: tuple[Output, ...] = tuple(_outermost([(select.expressions[i], select) for select in selects])
                                          for i in range(len(selects[0].expressions)))
    elif isinstance(tree, exp.SetOperation):
        found = positional_outputs(tree) or ()
    elif isinstance(tree, exp.Select) and not any(_is_star(p) for p in tree.expressions):
        found = tuple(lineage(p, tree) for p in tree.expressions)
    else:
        return ()
    return found if any(found) else ()


def char_table_as(create: exp.Create, generated: EngineSql, sources: tuple[Output, ...], values: tuple[Any, ...],
                  generate: Callable[[exp.Expression], str]) -> CharTableAs:
    """The CharTableAs of a CREATE TABLE AS (after the rewrite pass; `generate` writes an expression's text)."""
    target = create.this.this if isinstance(create.this, exp.Schema) else create.this
    properties = create.args.get("properties")
    temporary = bool(properties and properties.find(exp.TemporaryProperty))
    query = generate(create.args["expression"])
    verb = "CREATE TEMP TABLE" if temporary else "CREATE TABLE"
    shape = f"{verb} {generate(create.this)} AS SELECT * FROM ({query}) AS shiftflow_shape LIMIT 0"
    return CharTableAs(generated, shape, f"INSERT INTO {generate(target)} {query}", generate(target), temporary,
                       sources, values)


_VALUE = "shiftflow_char_value"  # DuckDB set-up: the value itself, until with_char_values() pads it


def _outermost(branches: list[tuple[exp.Expression, exp.Select]]) -> Output:
    """An outermost output column's lineage, from its projection in each branch of the outermost SELECT (or set
    operation). A CASE / COALESCE ... with other operands (a literal, a varchar column) among CHAR ones, or a set
    operation's column, gets its CHAR operands marked instead, to be padded one by one (CharOutput, marks
    numbered by mark_char_values()); a literal operand stays as written."""
    found = [lineage(projection, select) for projection, select in branches]
    first, select = branches[0]
    value = first.this if isinstance(first, exp.Alias) else first
    if len(branches) == 1 and (found[0] is None or found[0].kind != "union" or _value_operands(value) is None):
        return found[0]
    if not any(found):
        return None
    return _marked([(projection, select, projection) for projection, select in branches])


def _marked(values: list[tuple[exp.Expression, exp.Expression, exp.Expression | None]]) -> CharOutput:
    """Each CHAR operand of the values (value, its scope, the projection it is or None) marked to be padded
    (a CAST to CHAR(n) padded at once), through CASE / COALESCE ...; a projection that is one keeps its name."""
    marks, fixed, other = [], 0, False
    for position, (root, select, projection) in enumerate(values):
        value = root.this if isinstance(root, exp.Alias) else root
        for operand in _leaves(value):
            width = _cast_width(operand)
            part = lineage(operand, select)
            marked: exp.Expression | None = None
            if width:
                fixed = max(fixed, width)
                marked = _rpad(operand.copy(), width)
            elif part is not None:
                marked = exp.Anonymous(this=_VALUE, expressions=[operand.copy(), exp.Literal.number(-1)])
                marked.meta["lineage"] = part
                marks.append(marked)
            elif not (_is_null(operand) or isinstance(operand, exp.Literal)):
                other = True
            if marked is not None and operand is projection:  # the column keeps its name, as written
                name = operand.this if isinstance(operand, exp.Column) else None
                operand.replace(exp.Alias(this=marked, alias=name.copy())
                                if position == 0 and isinstance(name, exp.Identifier) else marked)
            elif marked is not None:
                operand.replace(marked)
    return CharOutput(tuple(id(m) for m in marks), fixed, other)


@dataclass(frozen=True)
class CharRefusal:
    """Values whose being CHAR, every one of them, makes the statement fail: what Redshift's documentation leaves
    open."""

    lineages: tuple[Lineage, ...]
    what: str


_CONCATENATED = ("CHAR(n) values concatenated with one another only (|| or CONCAT) on the DuckDB engine: r_CONCAT.md"
                 " types the result as its inputs but does not say whether the values' blanks stay (rtrim() or a"
                 " cast to VARCHAR drops them)")


def _concatenations(tree: exp.Expression) -> list[CharRefusal]:
    """Each chain of || (or CONCAT) whose operands may all be CHAR values. One beside other text (a literal, a
    VARCHAR value, a number) is converted to that string type, and "Trailing blanks in CHAR values are ...
    removed when you convert a CHAR value to another string type" (r_Character_types.md): DuckDB's unpadded CHAR
    value is that value, as PostgreSQL's bpchar made text is. Of CHAR values only, r_concat_op.md and r_CONCAT.md
    say "the same type as the input arguments", with no example: whether their blanks stay is undocumented (refused
    when they are CHAR)."""
    found = []
    for chain in list(tree.find_all(exp.DPipe, exp.Concat)):
        if isinstance(chain.parent, (exp.DPipe, exp.Concat)):
            continue  # part of a longer chain
        scope = chain.find_ancestor(exp.Select, exp.Update, exp.Delete)
        if scope is None:
            continue
        parts = [lineage(operand, scope) for operand in _chained(chain)]
        if parts and all(parts):
            found.append(CharRefusal(tuple(part for part in parts if part), _CONCATENATED))
    return found


def _chained(chain: exp.Expression) -> list[exp.Expression]:
    if isinstance(chain, exp.Concat):
        return [operand for value in chain.expressions for operand in _chained(value)]
    if isinstance(chain, exp.DPipe):
        return [*_chained(chain.this), *_chained(chain.expression)]
    return [chain]


def _branches(query: exp.Expression) -> list[exp.Select] | None:
    """The SELECTs of a UNION ALL, left to right; None when one is something else (a set operation that compares
    values, which padding one by one would tell apart) or selects a star."""
    while isinstance(query, exp.Subquery):
        query = query.this
    if isinstance(query, exp.Select):
        return None if any(_is_star(p) for p in query.expressions) else [query]
    if isinstance(query, exp.Union) and not query.args.get("distinct"):  # UNION ALL: nothing compares the values
        left, right = _branches(query.this), _branches(query.expression)
        return left + right if left is not None and right is not None else None
    return None


def _leaves(value: exp.Expression) -> list[exp.Expression]:
    """The operands a nest of CASE / COALESCE ... may return (through parentheses)."""
    while isinstance(value, exp.Paren):
        value = value.this
    operands = _value_operands(value)
    if operands is None:
        return [value]
    return [leaf for operand in operands for leaf in _leaves(operand)]


_PATTERN_MATCHES = (exp.Like, exp.ILike, exp.SimilarTo)

# Calls whose first argument's blanks count on Redshift: FNV_HASH and FARMFINGERPRINT64 hash a CHAR value's bytes,
# "hashing CHAR and VARCHAR inputs does not ignore trailing spaces" (r_FNV_HASH.md; functions/hashes.py), and
# MURMUR3_32_HASH, which hashes "similar to FNV_HASH" (MURMUR3_32_HASH.md).
_BLANK_SEEING_CALLS = frozenset({"fnv_hash", "farmfingerprint64", "murmur3_32_hash"})


def _blank_seeing_operands(tree: exp.Expression) -> Iterator[tuple[exp.Expression, Callable[[exp.Expression], None]]]:
    """Each operand that sees a CHAR value's blanks (LIKE / ILIKE / SIMILAR TO, the hashed value of FNV_HASH and
    FARMFINGERPRINT64), and how to put another expression in its place."""
    for match in tree.find_all(*_PATTERN_MATCHES):
        yield match.this, lambda value, match=match: match.set("this", value)
    for call in tree.find_all(exp.Anonymous):
        if call.name.lower() in _BLANK_SEEING_CALLS and call.expressions:
            yield call.expressions[0], lambda value, call=call: call.set("expressions", [value, *call.expressions[1:]])


def mark_char_values(tree: exp.Expression, outputs: tuple[Output, ...]) -> tuple[tuple[Output, ...],
                                                                                   tuple[Lineage, ...]]:
    """DuckDB: the operand of each LIKE / ILIKE / SIMILAR TO (and FNV_HASH / FARMFINGERPRINT64 argument) that may
    be a CHAR value, and the operands
    char_sources() marked, put in shiftflow_char_value(v, i), i indexing the returned lineages; an operand that is a
    CAST to CHAR(n) padded to n. Returns `outputs` with the marks' indexes, and the lineages. Run on the parsed
    tree after char_sources(), before the rewrite pass."""
    checks = _concatenations(tree)
    lineages: list[Lineage] = []
    numbered: dict[int, int] = {}
    for call in tree.find_all(exp.Anonymous):
        if call.name == _VALUE and "lineage" in call.meta:
            numbered[id(call)] = len(lineages)
            call.set("expressions", [call.expressions[0], exp.Literal.number(len(lineages))])
            lineages.append(call.meta.pop("lineage"))
    for operand, put in list(_blank_seeing_operands(tree)):
        width = _cast_width(operand) if isinstance(operand, exp.Cast) else None
        if width:
            put(_rpad(operand.copy(), width))
            continue
        scope = operand.find_ancestor(exp.Select, exp.Update, exp.Delete) if isinstance(operand, exp.Column) else None
        found = lineage(operand, scope) if scope is not None else None
        if found is not None:
            put(exp.Anonymous(this=_VALUE, expressions=[operand.copy(), exp.Literal.number(len(lineages))]))
            lineages.append(found)
    number = lambda o: CharOutput(tuple(numbered[m] for m in o.marks), o.fixed, o.other)  # noqa: E731
    outputs = tuple(number(o) if isinstance(o, CharOutput) else o for o in outputs)
    return outputs, tuple(lineages), tuple(checks)


def char_values(tree: exp.Expression, lineages: tuple[Lineage, ...],
                generate: Callable[[exp.Expression], str]) -> tuple[CharValue, ...]:
    """The marks mark_char_values() made, as `generate` writes them in the statement's text (after the rewrite
    pass), for with_char_values()."""
    found = {}
    for call in tree.find_all(exp.Anonymous):
        if call.name.lower() == _VALUE:
            value, index = call.expressions
            found[int(index.this)] = CharValue(int(index.this), generate(call), generate(value),
                                               lineages[int(index.this)])
    return tuple(found[index] for index in sorted(found))


@dataclass(frozen=True)
class CharValue:
    """A mark in a statement's text (its index), the value it holds (as written there) and that value's lineage."""

    index: int
    mark: str
    value: str
    lineage: Lineage


def run_with_char_values(session: EngineSession, sql: EngineSql, parameters: Mapping[str, str]) -> QueryResult:
    """Run `sql` with its marked values padded when they are CHAR(n) values, and its output padded (padded())."""
    widths, (text,) = with_char_values(session, sql.char_operands, sql.text)
    return padded(session, session.execute(text, parameters), sql.char_sources, widths)


def with_char_values(session: EngineSession, operands: tuple[Any, ...],
                     *texts: str) -> tuple[dict[int, int], list[str]]:
    """The widths of the marked values (CharValue) and the texts with each one that is a CHAR(n) value padded to n;
    refused when a CharRefusal's values are all CHAR values."""
    values = [value for value in operands if isinstance(value, CharValue)]
    widths = {value.index: resolve(session, value.lineage) for value in values}
    for check in operands:
        if isinstance(check, CharRefusal) and all(_mentions_char(session, found) for found in check.lineages):
            raise NotSupportedLocally(check.what)
    padded_texts = []
    for text in texts:
        for value in values:
            width = widths[value.index]
            text = text.replace(value.mark, f"rpad({value.value}, {width}, ' ')" if width else value.value)
        padded_texts.append(text)
    return widths, padded_texts


def _rpad(value: exp.Expression, width: int) -> exp.Expression:
    return exp.Anonymous(this="rpad", expressions=[value, exp.Literal.number(width), exp.Literal.string(" ")])


DUCKDB_SETUP = (f"CREATE OR REPLACE TEMP MACRO {_VALUE}(value, operand) AS value",)


def resolve(session: EngineSession, found: Lineage | None) -> int:
    """n when the value is a CHAR(n) value, else 0; refused when Redshift documents no type for it."""
    if found is None:
        return 0
    if found.kind == "column":
        assert found.source is not None
        return resolve(session, _char_columns(session, found.source).get(found.source.column))
    if found.kind == "cast":
        return found.width
    widths = [resolve(session, part) for part in found.parts]
    if found.kind == "either":
        return next((width for width in widths if width), 0)
    if not any(widths):
        return 0
    if len(set(widths)) == 1:
        return widths[0]
    raise NotSupportedLocally(_MIXED)


_MIXED = ("a CHAR(n) value beside other text in one value (a VARCHAR value or a function's result; a literal too"
          " below the outermost SELECT or in a UNION / INTERSECT / EXCEPT that compares values) or beside CHAR values"
          " of another length, on the DuckDB engine: Redshift documents no type for it, and DuckDB has no"
          " blank-padded type")


def _mentions_char(session: EngineSession, found: Lineage) -> bool:
    """Whether any value the lineage may be is a CHAR value."""
    if found.kind in ("column", "cast"):
        return bool(resolve(session, found))
    return any(_mentions_char(session, part) for part in found.parts)


def padded(session: EngineSession, result: QueryResult, outputs: tuple[Output, ...],
           widths: Mapping[int, int]) -> QueryResult:
    """`result` with its CHAR(n) columns padded to n and typed bpchar (outputs as char_sources() gives them,
    `widths` those of the marked values, which the statement's text padded)."""
    if not result.columns or not outputs:
        return result
    star = _star_source(outputs)
    if star is not None:
        of_relation = _char_columns(session, star)
        types = pads = [resolve(session, of_relation.get(column.name.lower())) for column in result.columns]
    elif len(outputs) == len(result.columns):
        types = [marked_width(widths, o) if isinstance(o, CharOutput) else resolve(session, o) for o in outputs]
        pads = [0 if isinstance(output, CharOutput) else width for output, width in zip(outputs, types)]
    else:
        return result
    if not any(types):
        return result
    columns = [Column(c.name, "bpchar", width, 0, c.nullable) if width else c for c, width in zip(result.columns, types)]
    rows = [tuple(value.ljust(width) if width and isinstance(value, str) else value
                  for value, width in zip(row, pads)) for row in result.rows]
    return QueryResult(columns, rows, result.rowcount)


def marked_width(widths: Mapping[int, int], output: CharOutput) -> int:
    """The widest n of a marked output column's CHAR operands (0: none is CHAR); refused when a CHAR operand
    stands beside a varchar column or a function's result."""
    found = [widths.get(mark, 0) for mark in output.marks]
    if not (output.fixed or any(found)):
        return 0
    if output.other or not all(found):
        raise NotSupportedLocally(_MIXED)
    return max([output.fixed, *found])


def _char_columns(session: EngineSession, source: CharSource) -> dict[str, Lineage]:
    """The lineage of each column of the table or view (found as a name is: a temporary table first, then the
    current schema) that may hold CHAR values: a table's CHAR(n) columns from the translator's length CHECKs, a
    view's from its query."""
    cached = getattr(session, "catalog_cached", None)
    compute = lambda: _read_char_columns(session, source)  # noqa: E731
    return cached(("char_columns", source.schema, source.table), compute) if cached else compute()


def sized_text_columns(session: EngineSession, table: exp.Table) -> dict[str, tuple[bool, int]]:
    """DuckDB: (CHAR?, n) of each CHAR(n) and VARCHAR(n) column of `table` (as a statement names it), by lower-case
    column name, from the translator's length CHECKs (types.duckdb_length_checks)."""
    name = ".".join(part.name for part in table.parts)

    def read() -> dict[str, tuple[bool, int]]:
        try:
            table_oid = resolve_table(session, name)
        except EngineError:
            return {}
        found = {}
        for column, text in session.execute(
                "SELECT constraint_column_names[1], constraint_text FROM duckdb_constraints()"
                " WHERE table_oid = $oid AND constraint_type = 'CHECK'", {"oid": str(table_oid)}).rows:
            width = _SIZED_CHECK.search(text or "")
            if width and column:
                found[column.lower()] = (width.group(1) is None, int(width.group(2)))
        return found

    cached = getattr(session, "catalog_cached", None)
    return cached(("sized_text_columns", name), read) if cached else read()


_SIZED_CHECK = re.compile(r"value too long for type character( varying)?\((\d+)\)")
_CHAR_CHECK = re.compile(r"value too long for type character\((\d+)\)")


def _read_char_columns(session: EngineSession, source: CharSource) -> dict[str, Lineage]:
    try:
        table_oid = resolve_table(session, f"{source.schema}.{source.table}" if source.schema else source.table)
    except EngineError:
        return _view_columns(session, source)
    checks: Any = session.execute(
        "SELECT constraint_column_names[1], constraint_text FROM duckdb_constraints()"
        " WHERE table_oid = $oid AND constraint_type = 'CHECK'", {"oid": str(table_oid)}).rows
    found = {}
    for column, text in checks:
        width = _CHAR_CHECK.search(text or "")
        if width and column:
            found[column.lower()] = Lineage("cast", width=int(width.group(1)))
    return found


def _view_columns(session: EngineSession, source: CharSource) -> dict[str, Lineage]:
    """A view's columns' lineage, read from the text DuckDB keeps of it (the translator's, casts as types.py
    writes them); {} for anything else (a table function)."""
    found: Any = session.execute(
        "SELECT view_oid, sql FROM duckdb_views() WHERE view_name = $name AND (schema_name = $schema"
        " OR ($schema = '' AND (temporary OR schema_name = current_schema()))) ORDER BY temporary DESC LIMIT 1",
        {"name": source.table, "schema": source.schema}).rows
    if not found:
        return {}
    view_oid, text = found[0]
    try:
        create = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return {}
    query = create.args.get("expression")
    names = [name.lower() for (name,) in session.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_oid = $oid ORDER BY column_index",
        {"oid": str(view_oid)}).rows]
    if query is None:
        return {}
    by_position = positional_outputs(query)
    if isinstance(create.this, exp.Schema) or by_position is not None:
        return {name: found for name, found in zip(names, by_position or ()) if found is not None}
    return {name: found for name in names if (found := named_output(query, name)) is not None}


@dataclass(frozen=True)
class CharTableAs(SessionCommand):
    """DuckDB: CREATE TABLE AS of a query that may hold CHAR values ("sources" as char_sources() gives them): a
    column holding CHAR(n) values is a CHAR(n) column (the table is created empty, remade with the length CHECK a
    CREATE TABLE gives such a column, then filled)."""

    sql: EngineSql  # the CREATE TABLE AS
    shape: str  # the CREATE TABLE AS of no row
    fill: str  # the INSERT of the query's rows
    table: str  # the new table, as the engine reads it
    temporary: bool
    sources: tuple[Output, ...]
    values: tuple[Any, ...]  # the marked values of the query (with_char_values())

    def _typed(self, session: EngineSession, parameters: Mapping[str, str]) -> tuple[str, str, str]:
        """The statement, shape and fill with the query's quotients typed (EngineSql.typed_text, decimals.py):
        the three hold the same query text."""
        query = self.fill[len(f"INSERT INTO {self.table} "):]
        prefix = self.sql.text[:-len(query)] if query and self.sql.text.endswith(query) else None
        typed = self.sql.typed_text(session, parameters) if self.sql.typed_text and prefix is not None else None
        if typed is None or not typed.startswith(prefix or ""):
            return self.sql.text, self.shape, self.fill
        typed_query = typed[len(prefix or ""):]
        return typed, self.shape.replace(query, typed_query), self.fill.replace(query, typed_query)

    def casts_to_char(self) -> bool:
        """Whether an output column may be a CAST to CHAR(n) (known at translation, unlike a column's width)."""
        return any(_holds_char_cast(output) for output in self.sources)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return self.sql.parameter_names

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        bound = {name: parameters[name] for name in self.sql.parameter_names}
        _, (text, shape, fill) = with_char_values(session, self.values, *self._typed(session, bound))
        star = _star_source(self.sources)
        of_star = _char_columns(session, star) if star is not None else {}
        widths = [resolve(session, found) if isinstance(found, Lineage) else 0 for found in self.sources]
        if not (any(widths) if star is None else of_star):
            return session.execute(text, bound)
        session.execute(shape, bound)
        columns = session.execute(
            "SELECT column_name, data_type, table_oid FROM duckdb_columns() WHERE table_oid = $oid"
            " ORDER BY column_index", {"oid": str(resolve_table(session, _unquoted(self.table)))}).rows
        if star is not None:
            widths = [resolve(session, of_star.get(name.lower())) for name, _, _ in columns]
        if len(columns) != len(widths):
            raise NotSupportedLocally("CREATE TABLE AS of CHAR values whose columns cannot be matched (DuckDB engine)")
        definitions = [f'"{name}" {kind}' + (f" CHECK ({char_column_check(name, width)})" if width else "")
                       for (name, kind, _), width in zip(columns, widths)]
        verb = "CREATE TEMP TABLE" if self.temporary else "CREATE TABLE"
        session.execute(f"DROP TABLE {self.table};\n{verb} {self.table} ({', '.join(definitions)})", {})
        session.execute(fill, bound)
        return QueryResult(rowcount=0)


def _star_source(outputs: tuple[Output, ...]) -> CharSource | None:
    """The table or view of a query that is a star over it alone (char_sources()); None otherwise."""
    first = outputs[0] if len(outputs) == 1 else None
    if isinstance(first, Lineage) and first.source is not None and first.source.column == "*":
        return first.source
    return None


def _unquoted(name: str) -> str:
    return name.replace('"', "")


def _holds_char_cast(output: Output) -> bool:
    if isinstance(output, CharOutput):
        return True
    if output is None:
        return False
    return (output.kind == "cast" and output.width > 0) or any(_holds_char_cast(part) for part in output.parts)
