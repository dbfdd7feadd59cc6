"""Token-level removal of the Redshift table attributes sqlglot 30 cannot parse.

sqlglot parses table-level DISTSTYLE, DISTKEY(...), [COMPOUND] SORTKEY(...), BACKUP and column ENCODE into
properties that the AST pass drops. It fails (or falls back to an opaque Command) on: column-level DISTKEY and
SORTKEY (`a int distkey sortkey`), INTERLEAVED SORTKEY (...), SORTKEY AUTO and table-level ENCODE AUTO.
Those spans are cut from the text here, by token positions, so strings and comments are never touched.
None of them changes what a query returns: they only steer Redshift's physical layout.
"""

from __future__ import annotations

from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.translate.commands.tokens import closing_paren
from shiftflow.dataapi.translate.model import SqlSyntaxError
from shiftflow.sql.splitter import tokenize

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
    """Index of the parenthesis closing tokens[i] (an opening one); the last token when it is never closed."""
    index = closing_paren(tokens, i)
    return index if index >= 0 else len(tokens) - 1


_LAYOUT_WORDS = {"DISTKEY", "SORTKEY", "DISTSTYLE", "ENCODE", "COMPOUND", "INTERLEAVED"}


def is_layout_only_alter(tokens: list[Token]) -> bool:
    """ALTER TABLE t ALTER DISTKEY / [COMPOUND|INTERLEAVED] SORTKEY / DISTSTYLE / ENCODE, or
    ALTER TABLE t ALTER COLUMN c ENCODE x: they only move data between slices or re-compress it."""
    names = [t.text.upper() for t in tokens]
    if names[:2] != ["ALTER", "TABLE"] or "ALTER" not in names[2:]:
        return False
    rest = names[names.index("ALTER", 2) + 1 :]
    if rest and rest[0] in _LAYOUT_WORDS:
        _refuse_parenthesised_distkey(tokens)
        return True
    return len(rest) >= 3 and rest[0] == "COLUMN" and rest[2] == "ENCODE"


def _refuse_parenthesised_distkey(tokens: list[Token]) -> None:
    """ALTER [DISTSTYLE KEY] DISTKEY takes one column name, without parentheses (r_ALTER_TABLE.md: `ALTER DISTKEY
    column_name`, `ALTER DISTSTYLE KEY DISTKEY column_name`; only CREATE TABLE's DISTKEY has them): `DISTKEY (c)` is
    Redshift's syntax error at the parenthesis, not a column named "(" to look for."""
    for token, following in zip(tokens, tokens[1:]):
        if token.text.upper() == "DISTKEY" and following.token_type == TokenType.L_PAREN:
            raise SqlSyntaxError(following.text, following.start + 1)


def _cut(statement: str, tokens: list[Token], cuts: list[tuple[int, int]]) -> str:
    pieces: list[str] = []
    position = 0
    for first, last in cuts:
        pieces.append(statement[position : tokens[first].start])
        position = tokens[last].end + 1
    pieces.append(statement[position:])
    return "".join(pieces)


def strip_unparsed_table_attributes(statement: str, tokens: list[Token]) -> str:
    names = [t.text.upper() for t in tokens[:4]]
    if names[:2] == ["ALTER", "TABLE"] and "ADD" in [t.text.upper() for t in tokens]:
        # ALTER TABLE t ADD [COLUMN] c type ENCODE x: sqlglot stops at ENCODE.
        cuts = [(i, i + 1) for i, t in enumerate(tokens[:-1]) if t.text.upper() == "ENCODE"]
        return _cut(statement, tokens, cuts) if cuts else statement
    if names[:3] == ["CREATE", "LOCAL", "TEMP"] or names[:3] == ["CREATE", "LOCAL", "TEMPORARY"]:
        # CREATE LOCAL TEMP TABLE: LOCAL is noise in Redshift and makes sqlglot give up.
        return strip_unparsed_table_attributes(*_without(statement, tokens, 1))
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
    return _cut(statement, tokens, cuts) if cuts else statement


def _without(statement: str, tokens: list[Token], index: int) -> tuple[str, list[Token]]:
    text = _cut(statement, tokens, [(index, index)])
    return text, tokenize(text)
