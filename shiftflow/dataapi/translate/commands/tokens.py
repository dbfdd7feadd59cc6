"""Token helpers the command modules share."""

from __future__ import annotations

from sqlglot.tokens import Token, TokenType

from shiftflow.sql.splitter import tokenize


def words(statement: str) -> list[Token]:
    return tokenize(statement)


def word(token: Token) -> str:
    return token.text.upper()


def expanded(statement: str, tokens: list[Token]) -> list[Token]:
    """The statement's tokens with a command's arguments tokenized too: sqlglot's tokenizer returns what follows
    SHOW, RESET, FETCH, DECLARE ... as one string token. Positions of the argument tokens are relative to the
    text after the verb."""
    if len(tokens) == 2 and tokens[1].token_type == TokenType.STRING and tokens[0].token_type in {
            TokenType.COMMAND, TokenType.SHOW, TokenType.FETCH}:
        return [tokens[0], *tokenize(statement[tokens[0].end + 1 :])]
    return tokens


def identifier(tokens: list[Token], statement: str) -> str:
    """A (qualified) name as the translated DDL created it: folded to lower case, #temp names quoted."""
    parts = []
    for token in tokens:
        if token.token_type == TokenType.IDENTIFIER or token.text.startswith("#"):
            parts.append('"' + token.text.lower().replace('"', '""') + '"')
        else:
            parts.append(statement[token.start : token.end + 1].lower())
    return "".join(parts)
