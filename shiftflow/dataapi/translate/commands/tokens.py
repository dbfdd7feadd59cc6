"""Token helpers the command modules share."""

from __future__ import annotations

from sqlglot.tokens import Token, TokenType

from shiftflow.sql.splitter import tokenize


def words(statement: str) -> list[Token]:
    return tokenize(statement)


def word(token: Token) -> str:
    return token.text.upper()


_COMMAND_TOKENS = {TokenType.COMMAND, TokenType.SHOW, TokenType.FETCH}


def expanded(statement: str, tokens: list[Token]) -> list[Token]:
    """The statement's tokens with each command's arguments tokenized too: sqlglot's tokenizer returns what follows
    SHOW, RESET, FETCH, DECLARE, EXECUTE ... (up to the next semicolon) as one string token. Positions stay
    positions in `statement`."""
    result: list[Token] = []
    for index, token in enumerate(tokens):
        verb = tokens[index - 1] if index else None
        if verb is not None and verb.token_type in _COMMAND_TOKENS and token.token_type == TokenType.STRING \
                and token.start > verb.end:
            offset = verb.end + 1
            for inner in tokenize(statement[offset : token.end + 1]):
                result.append(Token(inner.token_type, inner.text, inner.line, inner.col, inner.start + offset,
                                    inner.end + offset, inner.comments))
        else:
            result.append(token)
    return result


def closing_paren(tokens: list[Token], opening: int) -> int:
    """The index of the parenthesis that closes tokens[opening] (an opening one); -1 when it is never closed."""
    depth = 0
    for index in range(opening, len(tokens)):
        if tokens[index].token_type == TokenType.L_PAREN:
            depth += 1
        elif tokens[index].token_type == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                return index
    return -1


def identifier(tokens: list[Token], statement: str) -> str:
    """A (qualified) name as the translated DDL created it: folded to lower case, #temp names quoted."""
    parts = []
    for token in tokens:
        if token.token_type == TokenType.IDENTIFIER or token.text.startswith("#"):
            parts.append('"' + token.text.lower().replace('"', '""') + '"')
        else:
            parts.append(statement[token.start : token.end + 1].lower())
    return "".join(parts)
