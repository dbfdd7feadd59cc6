"""Named `:name` placeholders, the Redshift Data API's way of binding parameters."""

from __future__ import annotations

from shiftflow.sql.splitter import tokenize


def named_parameters(sql: str) -> list[str]:
    """Names of the `:name` placeholders of `sql`, in order of first use, ignoring strings and comments."""
    from sqlglot.tokens import TokenType  # on first use, as in the splitter

    # A placeholder name is a word token glued to the colon; `::` casts are a single DCOLON token.
    name_tokens = {TokenType.VAR, TokenType.IDENTIFIER}
    tokens = tokenize(sql)
    names: list[str] = []
    for colon, name in zip(tokens, tokens[1:]):
        if colon.token_type == TokenType.COMMAND and name.token_type == TokenType.STRING:
            # A command (CALL ...) comes with the rest of its text as one string token (its text as written, its
            # positions unset): its placeholders are in that text.
            names += [inner for inner in named_parameters(name.text) if inner not in names]
            continue
        if colon.token_type != TokenType.COLON or name.start != colon.end + 1:
            continue
        if name.token_type in name_tokens or name.text.isidentifier():
            if name.text not in names:
                names.append(name.text)
    return names
