"""Token-level removal of the Redshift table attributes sqlglot 30 cannot parse.

sqlglot parses table-level DISTSTYLE, DISTKEY(...), [COMPOUND] SORTKEY(...), BACKUP and column ENCODE into
properties that the AST pass drops. It fails (or falls back to an opaque Command) on: column-level DISTKEY and
SORTKEY (`a int distkey sortkey`), INTERLEAVED SORTKEY (...), SORTKEY AUTO and table-level ENCODE AUTO.
Those spans are cut from the text here, by token positions, so strings and comments are never touched.
None of them changes what a query returns: they only steer Redshift's physical layout.
"""

from __future__ import annotations

from sqlglot.tokens import Token, TokenType

_CREATE_PREFIX = {"CREATE", "TEMP", "TEMPORARY", "LOCAL", "GLOBAL", "TABLE", "OR", "REPLACE"}


def _is_create_table(tokens: list[Token]) -> bool:
    if len(tokens) < 3 or tokens[0].text.upper() != "CREATE":
        return False
    for token in tokens[1:]:
        if token.text.upper() == "TABLE":
            return True
        if token.text.upper() not in _CREATE_PREFIX:
            return False
    return False


def _closing_paren(tokens: list[Token], i: int) -> int:
    """Index of the parenthesis closing tokens[i] (an opening one)."""
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].token_type == TokenType.L_PAREN:
            depth += 1
        elif tokens[j].token_type == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                return j
    return len(tokens) - 1


def strip_unparsed_table_attributes(statement: str, tokens: list[Token]) -> str:
    if not _is_create_table(tokens):
        return statement
    cuts: list[tuple[int, int]] = []  # token index ranges [first, last] to remove
    depth = 0
    i = 0
    while i < len(tokens):
        token, name = tokens[i], tokens[i].text.upper()
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif token.token_type == TokenType.ALIAS and depth == 0:
            break  # CREATE TABLE ... AS SELECT: the query is not ours to edit
        elif depth == 1 and name in {"DISTKEY", "SORTKEY"} and tokens[i - 1].token_type not in {
            TokenType.L_PAREN, TokenType.COMMA}:
            cuts.append((i, i))  # column-level attribute, e.g. `id int distkey sortkey`
        elif depth == 0 and name == "INTERLEAVED" and i + 2 < len(tokens) and tokens[i + 1].text.upper() == "SORTKEY":
            end = _closing_paren(tokens, i + 2) if tokens[i + 2].token_type == TokenType.L_PAREN else i + 1
            cuts.append((i, end))
            i = end
        elif depth == 0 and name in {"SORTKEY", "ENCODE", "DISTSTYLE"} and i + 1 < len(tokens) and \
                tokens[i + 1].text.upper() in {"AUTO", "NONE"}:
            cuts.append((i, i + 1))
            i += 1
        i += 1
    if not cuts:
        return statement
    pieces: list[str] = []
    position = 0
    for first, last in cuts:
        pieces.append(statement[position : tokens[first].start])
        position = tokens[last].end + 1
    pieces.append(statement[position:])
    return "".join(pieces)
