"""Redshift functions whose meaning the engines do not give by themselves, one module per family of the SQL
reference: dates (date and time functions, datetime format strings), strings, aggregates, json, numbers (ROUND,
TO_NUMBER, numeric TO_CHAR formats), bytes (MD5, OCTET_LENGTH), days (NEXT_DAY), regexps (REGEXP_* parameters),
super (SUPER navigation, VARBYTE), conversions (numbers and datetimes read as text by string functions),
settings (CURRENT_SETTING), information (HAS_*_PRIVILEGE, CURRENT_USER_ID), hashes (FNV_HASH, FARMFINGERPRINT64),
comparisons (text or BOOLEAN compared with an integer), hyperloglog (HLL, the HLL_* functions, the HLLSKETCH type).

Each family module offers
- HANDLERS: expression class (or Anonymous call name, lower case) -> handler(node, engine) returning the node to
  put in its place (the node itself when nothing changes);
- PARSER_FUNCTIONS: functions sqlglot's Redshift parser would turn into a generic expression that loses what
  Redshift means (e.g. TO_CHAR's format model), kept as calls by name;
- COLUMN_NAMES: the column name Redshift gives an unaliased call;
- DUCKDB_SETUP / POSTGRES_SETUP: the helpers the rewritten SQL calls (DuckDB TEMP macros per connection,
  PostgreSQL functions per database);
- optionally DUCKDB_FUNCTIONS: Python functions the DuckDB engine registers on each database, for what a macro
  cannot loop over (name -> (function, parameter types, return type)).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from shiftflow.dataapi.translate.functions import (aggregates, comparisons, conversions, dates, days, hashes,
                                                  hyperloglog, information, json, numbers, regexps, settings,
                                                  strings, super)
from shiftflow.dataapi.translate.functions import bytes as byte_functions  # not the builtin's name

Handler = Callable[[exp.Expression, str], exp.Expression]

_FAMILIES = (dates, strings, aggregates, json, numbers, byte_functions, days, regexps, super, conversions, settings,
             information, hashes, comparisons, hyperloglog)

PARSER_FUNCTIONS: dict[str, Callable[[list[exp.Expression]], exp.Expression]] = {
    name: builder for family in _FAMILIES for name, builder in family.PARSER_FUNCTIONS.items()}
COLUMN_NAMES: dict[type[exp.Expression] | str, str] = {
    key: name for family in _FAMILIES for key, name in family.COLUMN_NAMES.items()}
DUCKDB_SETUP: tuple[str, ...] = tuple(sql for family in _FAMILIES for sql in family.DUCKDB_SETUP)
POSTGRES_SETUP: tuple[str, ...] = tuple(sql for family in _FAMILIES for sql in family.POSTGRES_SETUP)
DUCKDB_FUNCTIONS: dict[str, tuple[Callable[..., object], tuple[str, ...], str]] = {
    name: spec for family in _FAMILIES for name, spec in getattr(family, "DUCKDB_FUNCTIONS", {}).items()}

# Calls by name that a family rewrites: Redshift's functions, whatever the engines have (functions/known.py).
HANDLED_NAMES = frozenset(_key for _family in _FAMILIES for _key in _family.HANDLERS if isinstance(_key, str)) | {
    name.lower() for name in PARSER_FUNCTIONS}

# A call two families rewrite (SUBSTRING: its start in strings, its argument's type in conversions) goes through
# each family's handler in turn, as long as it stays the same kind of call.
_BY_CLASS: dict[type[exp.Expression], list[Handler]] = {}
_BY_NAME: dict[str, list[Handler]] = {}
for _family in _FAMILIES:
    for _key, _handler in _family.HANDLERS.items():
        if isinstance(_key, str):
            _BY_NAME.setdefault(_key, []).append(_handler)
        else:
            _BY_CLASS.setdefault(_key, []).append(_handler)


def column_name(node: exp.Expression) -> str | None:
    """The column name Redshift gives this unaliased projection, when a family knows it."""
    if isinstance(node, exp.WithinGroup):  # LISTAGG(...) WITHIN GROUP (...): named after the function
        node = node.this
    if isinstance(node, exp.Nullif) and isinstance(node.this, exp.Column):
        return node.this.name  # "the column name of the first expression" (Redshift's NULLIF page)
    if isinstance(node, exp.Anonymous):
        return COLUMN_NAMES.get(node.name.lower())
    return COLUMN_NAMES.get(type(node))


def rewrite_functions(tree: exp.Expression, engine: str) -> exp.Expression:
    """Every Redshift function call in `tree` rewritten for `engine`, innermost first (a handler sees its arguments
    already rewritten)."""
    for node in reversed(list(tree.dfs())):
        handlers = _BY_NAME.get(node.name.lower()) if isinstance(node, exp.Anonymous) else _BY_CLASS.get(type(node))
        for handler in handlers or ():
            replacement = handler(node, engine)
            if replacement is not node:
                if node is tree:
                    tree = replacement
                else:
                    node.replace(replacement)
            if type(replacement) is not type(node):
                break
            node = replacement
    return tree
