"""Prepared statements on the DuckDB engine: PREPARE name [(type, ...)] AS statement, EXECUTE name [(value, ...)],
DEALLOCATE [PREPARE] name (r_PREPARE.md, r_EXECUTE.md, r_DEALLOCATE.md).

DuckDB has PREPARE / EXECUTE / DEALLOCATE with $n parameters but no parameter types: the statement is translated as
any other, with each $n cast to the type PREPARE gives it (Redshift converts an EXECUTE value to that type). A
prepared statement lives in the engine session, as in Redshift's session. PostgreSQL runs Redshift's forms (its
own syntax), the prepared statement translated as any other (postgres_prepare).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.translate.model import EngineSql, NotSupportedLocally, SqlSyntaxError
from shiftflow.sql.splitter import tokenize

_VERBS = {"PREPARE", "EXECUTE", "DEALLOCATE"}
_STATEMENTS = {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}  # what PREPARE takes (r_PREPARE.md)


def is_prepared_statement_command(tokens: list[Token]) -> bool:
    return tokens[0].text.upper() in _VERBS and len(tokens) > 1


def prepared_statement_command(statement: str, tokens: list[Token], translate_statement: Callable[[str], object],
                               translate_values: Callable[[str], list[str]]) -> EngineSql:
    """The DuckDB form of a PREPARE, EXECUTE or DEALLOCATE (tokens as commands.expanded() gives them)."""
    verb = tokens[0].text.upper()
    if verb == "EXECUTE" and tokens[1].token_type == TokenType.STRING and tokens[1].start > tokens[0].end:
        offset = tokens[0].end + 1  # the tokenizer keeps what follows EXECUTE as one string
        tokens = [tokens[0], *(_moved(token, offset) for token in tokenize(statement[offset:]))]
    name = _name(tokens[1])
    if verb == "DEALLOCATE":
        rest = tokens[2:] if tokens[1].text.upper() != "PREPARE" else tokens[3:]
        name = _name(tokens[1] if tokens[1].text.upper() != "PREPARE" else tokens[2])
        if rest:
            raise SqlSyntaxError(rest[0].text, rest[0].start + 1)
        return EngineSql(f"DEALLOCATE {name}", session_scoped=True)
    if verb == "EXECUTE":
        if len(tokens) == 2:
            return EngineSql(f"EXECUTE {name}", session_scoped=True)
        if tokens[2].token_type != TokenType.L_PAREN or tokens[-1].token_type != TokenType.R_PAREN:
            raise SqlSyntaxError(tokens[2].text, tokens[2].start + 1)
        values = translate_values(statement[tokens[2].end + 1 : tokens[-1].start])
        return EngineSql(f"EXECUTE {name}({', '.join(values)})", session_scoped=True)
    return _prepare(statement, tokens, name, translate_statement)


def postgres_prepare(statement: str, tokens: list[Token], translate_statement: Callable[[str], object]) -> EngineSql:
    """PREPARE name [(type, ...)] AS statement on PostgreSQL: the statement translated ($n kept as they are)."""
    body = _body(tokens)
    translated = translate_statement(statement[body[0].start :])
    if not isinstance(translated, EngineSql) or translated.parameter_names:
        raise NotSupportedLocally("PREPARE of this statement on the PostgreSQL engine")
    return EngineSql(statement[: body[0].start].replace("%", "%%") + translated.text, session_scoped=True)


def _body(tokens: list[Token]) -> list[Token]:
    """The tokens of the prepared statement, after PREPARE name [(type, ...)] AS."""
    i = 2
    if i < len(tokens) and tokens[i].token_type == TokenType.L_PAREN:
        depth = 0
        for j in range(i, len(tokens)):
            depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(tokens[j].token_type, 0)
            if depth == 0:
                i = j + 1
                break
    if i >= len(tokens) or tokens[i].text.upper() != "AS" or i + 1 >= len(tokens):
        near = tokens[min(i, len(tokens) - 1)]
        raise SqlSyntaxError(near.text, near.start + 1)
    body = tokens[i + 1 :]
    if body[0].text.upper() not in _STATEMENTS:
        raise SqlSyntaxError(body[0].text, body[0].start + 1)
    return body


def _prepare(statement: str, tokens: list[Token], name: str, translate_statement: Callable[[str], object]) -> EngineSql:
    types: list[str] = []
    if len(tokens) > 2 and tokens[2].token_type == TokenType.L_PAREN:
        depth, start = 0, tokens[2].end + 1
        for j in range(2, len(tokens)):
            kind = tokens[j].token_type
            depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(kind, 0)
            if (kind == TokenType.COMMA and depth == 1) or (kind == TokenType.R_PAREN and depth == 0):
                types.append(statement[start : tokens[j].start].strip())
                start = tokens[j].end + 1
            if depth == 0:
                break
    body_tokens = _body(tokens)
    pieces, position = [], body_tokens[0].start
    for dollar, number in zip(body_tokens, body_tokens[1:]):
        if dollar.token_type == TokenType.PARAMETER and number.token_type == TokenType.NUMBER \
                and number.start == dollar.end + 1 and 1 <= int(number.text) <= len(types):
            pieces.append(statement[position : dollar.start])
            pieces.append(f"CAST(${number.text} AS {types[int(number.text) - 1]})")
            position = number.end + 1
    pieces.append(statement[position:])
    translated = translate_statement("".join(pieces))
    if not isinstance(translated, EngineSql) or translated.parameter_names:
        raise NotSupportedLocally("PREPARE of this statement on the DuckDB engine")
    return EngineSql(f"PREPARE {name} AS {translated.text}", session_scoped=True)


def _name(token: Token) -> str:
    if token.token_type not in (TokenType.VAR, TokenType.IDENTIFIER) and not token.text.isidentifier():
        raise SqlSyntaxError(token.text, token.start + 1)
    return '"' + token.text.lower().replace('"', '""') + '"'


def _moved(token: Token, offset: int) -> Token:
    return Token(token.token_type, token.text, token.line, token.col, token.start + offset, token.end + offset,
                 token.comments)
