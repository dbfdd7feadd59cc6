"""CREATE PROCEDURE on PostgreSQL: the plpgsql body is rewritten statement by statement.

sqlglot keeps a `$$` body as one opaque string and cannot parse plpgsql control flow (IF, LOOP, RAISE, :=),
so the body is split with the project splitter and only the plain SQL part of each piece (from its first
DML/DDL keyword on) goes through the same rewrite as a top-level statement. Expressions in plpgsql control
statements are left as written; the database set-up defines nvl(), getdate() and len() for them.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot.tokens import Token, TokenType

from shiftflow.sql.splitter import split_statements, tokenize

# REFRESH and SET: streaming ingestion runs REFRESH MATERIALIZED VIEW and SET enable_case_sensitive_identifier.
_SQL_STARTS = {"INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "TRUNCATE", "MERGE", "REFRESH", "SET"}


def is_create_procedure(tokens: list[Token]) -> bool:
    names = [t.text.upper() for t in tokens[:5]]
    return bool(names) and names[0] == "CREATE" and "PROCEDURE" in names


def rewrite_procedure(statement: str, tokens: list[Token], rewrite_sql: Callable[[str], str | None]) -> str:
    """The statement with each SQL statement of its body replaced by rewrite_sql(sql) (None: keep it)."""
    bodies = [t for t in tokens if t.token_type == TokenType.HEREDOC_STRING]
    if not bodies:  # AS '...' bodies: quoted plpgsql, rare in Redshift scripts; run as written
        return statement
    body_token = bodies[0]
    raw = statement[body_token.start : body_token.end + 1]
    tag = raw[: raw.index("$", 1) + 1]  # `$$` or `$name$`
    body = raw[len(tag) : len(raw) - len(tag)]
    new_body = _rewrite_body(body, rewrite_sql)
    return statement[: body_token.start] + tag + new_body + tag + statement[body_token.end + 1 :]


def _rewrite_body(body: str, rewrite_sql: Callable[[str], str | None]) -> str:
    pieces: list[str] = []
    position = 0
    for piece in split_statements(body):
        start = body.index(piece.text, position)
        end = start + len(piece.text)
        pieces.append(body[position:start])
        pieces.append(_rewrite_piece(piece.text, rewrite_sql))
        position = end
    pieces.append(body[position:])
    return "".join(pieces)


def _rewrite_piece(piece: str, rewrite_sql: Callable[[str], str | None]) -> str:
    tokens = tokenize(piece)
    for index, token in enumerate(tokens):
        if token.text.upper() in _SQL_STARTS and (index == 0 or tokens[index - 1].text.upper() in {
                "BEGIN", "THEN", "ELSE", "LOOP", "DECLARE"}):
            rewritten = rewrite_sql(piece[token.start :])
            # None: not plain SQL after all (plpgsql syntax sqlglot cannot parse): keep it as written.
            return piece if rewritten is None else piece[: token.start] + rewritten
    return piece
