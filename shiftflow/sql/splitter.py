"""The project's one SQL splitter.

Splits a script into statements on the SEMICOLON tokens of sqlglot's Redshift tokenizer (redshift_tokens.py), so that semicolons
inside strings, quoted identifiers, comments and `$$` / `$tag$` bodies never cut a statement.
The statements are slices of the original text (nothing is re-generated), so what runs is what was written.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlglot.tokens import Token

# sqlglot is imported on the first split, not with this module: commands that only read tables (`shiftflow status`)
# import it through the workflow model and would pay about a third of their start time for nothing.


@functools.cache
def _redshift() -> Any:
    from shiftflow.sql.redshift_tokens import RedshiftDialect

    return RedshiftDialect()


class SqlSplitError(ValueError):
    """The script cannot be tokenized (for example an unterminated string or `$$` body)."""


@dataclass(frozen=True)
class Statement:
    """One statement of a script: its text (without the closing semicolon) and where it starts."""

    text: str
    line: int  # 1-based line of the statement's first token in the script


def tokenize(sql: str) -> list[Token]:
    """Redshift tokens of `sql`; raises SqlSplitError with the tokenizer's own message."""
    from sqlglot.errors import TokenError

    try:
        return _redshift().tokenize(sql)
    except TokenError as error:
        raise SqlSplitError(f"cannot split SQL script: {error}") from error


def split_statements(sql: str) -> list[Statement]:
    """Statements of `sql` in order; empty statements (only whitespace, comments or `;`) are dropped."""
    from sqlglot.tokens import TokenType

    statements: list[Statement] = []
    start = 0
    first_token: Token | None = None
    for token in tokenize(sql):
        if token.token_type == TokenType.SEMICOLON:
            _append(statements, sql, start, token.start, first_token)
            start, first_token = token.end + 1, None
        elif first_token is None:
            first_token = token
    _append(statements, sql, start, len(sql), first_token)
    return statements


def _append(statements: list[Statement], sql: str, start: int, end: int, first_token: Token | None) -> None:
    if first_token is None:  # nothing but whitespace and comments
        return
    text = sql[start:end].strip()
    statements.append(Statement(text=text, line=first_token.line))
