"""COMMENT ON { TABLE name | COLUMN name.column | VIEW name | CONSTRAINT c ON t | DATABASE name } IS 'text' | NULL
(r_COMMENT.md). PostgreSQL has Redshift's syntax and runs it as written; DuckDB has it for tables, views and columns
(IS NULL removes the comment there too), and refuses comments on constraints and databases.
"""

from __future__ import annotations

from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.translate.commands.tokens import identifier, word
from shiftflow.dataapi.translate.model import EngineSql, NotSupportedLocally, SqlSyntaxError

_DUCKDB_OBJECTS = {"TABLE", "COLUMN", "VIEW"}
_OBJECTS = _DUCKDB_OBJECTS | {"CONSTRAINT", "DATABASE"}


def is_comment(tokens: list[Token]) -> bool:
    return len(tokens) > 1 and word(tokens[0]) == "COMMENT" and word(tokens[1]) == "ON"


def duckdb_comment(statement: str, tokens: list[Token]) -> EngineSql:
    """The DuckDB form of a COMMENT ON (tokens as commands.expanded() gives them)."""
    if len(tokens) < 6 or word(tokens[2]) not in _OBJECTS:
        near = tokens[min(2, len(tokens) - 1)]
        raise SqlSyntaxError(near.text, near.start + 1)
    kind = word(tokens[2])
    if kind not in _DUCKDB_OBJECTS:
        raise NotSupportedLocally(f"COMMENT ON {kind} on the DuckDB engine")
    value = tokens[-1]
    if word(tokens[-2]) != "IS" or not (value.token_type == TokenType.STRING or word(value) == "NULL"):
        raise SqlSyntaxError(value.text, value.start + 1)
    name = tokens[3:-2]
    if not name or any(t.token_type not in (TokenType.VAR, TokenType.IDENTIFIER, TokenType.DOT)
                       and not t.text.isidentifier() for t in name):
        raise SqlSyntaxError(name[0].text if name else value.text, (name[0] if name else value).start + 1)
    text = "NULL" if value.token_type != TokenType.STRING else "'" + value.text.replace("'", "''") + "'"
    return EngineSql(f"COMMENT ON {kind} {identifier(name, statement)} IS {text}")
