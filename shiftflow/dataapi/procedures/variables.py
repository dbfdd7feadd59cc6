"""A procedure's variables, and how they reach the SQL a body runs: as bound parameters, never as text.

Each reference to a variable in an embedded statement or expression becomes a placeholder `:plpgsql_<n>`, cast to
the variable's declared type (`CAST(:plpgsql_0 AS varchar(256))`), so the statement goes through the translator as
any top-level statement with parameters does. As PostgreSQL's PL/pgSQL does, names are replaced only where a value
can stand: not after a dot or AS, not as a function's name, not in INSERT's column list or as UPDATE's SET target,
and not in other DDL (PostgreSQL's utility statements take no parameters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.engines.base import Column, EngineError
from shiftflow.dataapi.procedures.parser import tokens_of
from shiftflow.dataapi.translate.commands.tokens import word

PLACEHOLDER = "plpgsql_"
# Statements whose text takes parameters (PostgreSQL plans them); other DDL runs as written.
_PARAMETERIZED = {"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "("}
# The Data API's type names (engines' Column.type_name) -> a Redshift type to cast a record field's value to.
_COLUMN_TYPES = {"int2": "smallint", "int4": "integer", "int8": "bigint", "float4": "real",
                 "float8": "double precision", "bool": "boolean", "date": "date", "timestamp": "timestamp",
                 "timestamptz": "timestamptz", "time": "time", "varchar": "varchar(max)", "bpchar": "varchar(max)",
                 "text": "varchar(max)", "super": "super"}


@dataclass
class Variable:
    type_text: str  # "" when untyped (a record, a refcursor)
    value: Any = None
    constant: bool = False
    not_null: bool = False
    fields: dict[str, tuple[Any, str]] | None = None  # a record's columns: name -> (value, type)
    query: str | None = None  # a bound cursor's query (`name CURSOR FOR query`)

    @property
    def is_record(self) -> bool:
        return self.type_text.lower() == "record"


def column_type(column: Column) -> str:
    if column.type_name == "numeric":
        return f"numeric({column.precision or 38},{column.scale})"
    return _COLUMN_TYPES.get(column.type_name, "")


@dataclass
class Scope:
    """The variables of one block; names not declared here are looked up in the enclosing block's."""

    variables: dict[str, Variable] = field(default_factory=dict)
    parent: Scope | None = None
    positional: list[str] = field(default_factory=list)  # $n -> the argument's variable name

    def find(self, name: str) -> Variable | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.variables:
                return scope.variables[name]
            scope = scope.parent
        return None

    def get(self, name: str) -> Variable:
        variable = self.find(name)
        if variable is None:
            raise EngineError(f'"{name}" is not a known variable')
        return variable

    def argument(self, position: int) -> str:
        scope: Scope | None = self
        while scope is not None:
            if scope.positional:
                if 1 <= position <= len(scope.positional):
                    return scope.positional[position - 1]
                break
            scope = scope.parent
        raise EngineError(f"there is no parameter ${position}")

    def child(self) -> Scope:
        return Scope(parent=self)


@dataclass(frozen=True)
class Bound:
    """Redshift SQL with the variables' placeholders, and the values to bind to them."""

    text: str
    values: dict[str, Any]


def bind(sql: str, scope: Scope, expression: bool = False) -> Bound:
    """Replace the variables `sql` names with typed placeholders. `expression`: the text is an expression (a
    condition, a value), always parameterized."""
    tokens = tokens_of(sql)
    if not tokens or (not expression and word(tokens[0]) not in _PARAMETERIZED and not _is_ctas(tokens)):
        return Bound(sql, {})
    skipped = _insert_columns(tokens)
    pieces: list[str] = []
    values: dict[str, Any] = {}
    position = 0
    index = 0
    while index < len(tokens):
        token = tokens[index]
        replaced = _reference(tokens, index, scope, skipped)
        if replaced is None:
            index += 1
            continue
        consumed, value, type_text = replaced
        name = f"{PLACEHOLDER}{len(values)}"
        values[name] = value
        pieces.append(sql[position : token.start])
        pieces.append(f"CAST(:{name} AS {type_text})" if type_text else f":{name}")
        position = tokens[index + consumed - 1].end + 1
        index += consumed
    pieces.append(sql[position:])
    return Bound("".join(pieces), values)


def _is_ctas(tokens: list[Token]) -> bool:
    if word(tokens[0]) != "CREATE":
        return False
    return any(word(t) == "AS" and i + 1 < len(tokens) and word(tokens[i + 1]) in ("SELECT", "WITH", "(")
               for i, t in enumerate(tokens))


def _reference(tokens: list[Token], index: int, scope: Scope, skipped: set[int]) -> tuple[int, Any, str] | None:
    """(tokens consumed, value, type) when tokens[index] starts a variable reference."""
    token = tokens[index]
    previous = tokens[index - 1] if index else None
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    if token.token_type == TokenType.PARAMETER and following is not None and following.token_type == TokenType.NUMBER \
            and following.start == token.end + 1:
        variable = scope.get(scope.argument(int(following.text)))
        return 2, variable.value, variable.type_text if not variable.is_record else ""
    if token.token_type in (TokenType.STRING, TokenType.NUMBER, TokenType.HEREDOC_STRING, TokenType.IDENTIFIER) \
            or not token.text.isidentifier() or index in skipped:
        return None
    if previous is not None and (previous.token_type in (TokenType.DOT, TokenType.DCOLON, TokenType.COLON)
                                 or word(previous) == "AS"):
        return None
    if following is not None and following.token_type == TokenType.L_PAREN:
        return None
    if previous is not None and following is not None and following.token_type == TokenType.EQ \
            and (word(previous) == "SET" or previous.token_type == TokenType.COMMA) and word(tokens[0]) == "UPDATE":
        return None
    variable = scope.find(token.text.lower())
    if variable is None:
        return None
    if following is not None and following.token_type == TokenType.DOT:
        if not variable.is_record or index + 2 >= len(tokens):
            return None  # a table named like a variable: t.column
        return (3, *record_field(variable, token.text.lower(), tokens[index + 2].text.lower()))
    if variable.is_record:
        raise EngineError(f'record "{token.text.lower()}" used as a value (name one of its fields)')
    return 1, variable.value, variable.type_text


def record_field(variable: Variable, name: str, field_name: str) -> tuple[Any, str]:
    if variable.fields is None:
        raise EngineError(f'record "{name}" is not assigned yet')
    if field_name not in variable.fields:
        raise EngineError(f'record "{name}" has no field "{field_name}"')
    return variable.fields[field_name]


def _insert_columns(tokens: list[Token]) -> set[int]:
    """Token indexes of INSERT INTO t (columns): column names, never variables."""
    if word(tokens[0]) != "INSERT":
        return set()
    for index, token in enumerate(tokens):
        if token.token_type == TokenType.L_PAREN:
            if index > 0 and word(tokens[index - 1]) in ("VALUES", "SELECT"):
                return set()
            depth, inside = 0, set()
            for inner in range(index, len(tokens)):
                kind = tokens[inner].token_type
                depth += kind == TokenType.L_PAREN
                depth -= kind == TokenType.R_PAREN
                if depth == 0:
                    return inside
                inside.add(inner)
        if word(token) in ("VALUES", "SELECT", "WITH"):
            return set()
    return set()
