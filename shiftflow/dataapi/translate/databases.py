"""Three-part names: database.schema.object, and database.schema.object.column (cross-database-overview.md).

Redshift accepts the connected database's name in front of any object's name; the prefix is cut from the text here,
by token positions (strings, comments and procedure bodies are never touched), before anything else reads the
statement, so that every kind of statement (queries, writes, DDL, views, COPY, UNLOAD's query) sees the two-part
name it already handles. The connected database is model.CURRENT_DATABASE (the runner's request Database).

Another database's name is what Redshift calls a cross-database reference: reading another database of the cluster
is allowed on Redshift (RA3 and Serverless) but not emulated here ("not supported locally: cross-database query");
writing to one, or creating, dropping or altering its objects, is Redshift's error, `cross-database reference to
database "x" is not supported` (cross-database_limitation.md: "you have read access only"). A three-part name in a
column position (`schema.table.column`, SUPER navigation `alias.column.attribute ...`) is left alone unless its
first part is the connected database (a schema or alias named as the connected database is read as the database);
another database's column (db.schema.table.column) is refused by its table, which the FROM clause names.
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate.model import CURRENT_DATABASE, NotSupportedLocally

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")
# Statements whose own object (the tree's `this`) is written, created, dropped or altered.
_WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.TruncateTable)


def cross_database_write(database: str) -> EngineError:
    return EngineError(f'cross-database reference to database "{database}" is not supported')


def cross_database_read(database: str) -> NotSupportedLocally:
    return NotSupportedLocally(f'cross-database query (an object of database "{database}", which is not the'
                               " connected database)")


def _is_name(token: Token, statement: str) -> bool:
    if token.token_type == TokenType.IDENTIFIER:
        return True
    return token.token_type != TokenType.STRING and bool(_NAME.match(token.text)) and (
        statement[token.start : token.end + 1] == token.text)


def _chains(tokens: list[Token], statement: str) -> list[list[int]]:
    """The dotted names of the statement (`a.b.c`), as the indexes of their name tokens."""
    chains, i = [], 0
    while i < len(tokens):
        if not _is_name(tokens[i], statement) or (i and tokens[i - 1].token_type == TokenType.DOT):
            i += 1
            continue
        chain = [i]
        while (chain[-1] + 2 < len(tokens) and tokens[chain[-1] + 1].token_type == TokenType.DOT
               and _is_name(tokens[chain[-1] + 2], statement)):
            chain.append(chain[-1] + 2)
        chains.append(chain)
        i = chain[-1] + 1
    return chains


def strip_connected_database(statement: str, tokens: list[Token]) -> str:
    """The statement with the connected database's prefix cut from its three- and four-part names; the statement
    itself (the same object) when it has none."""
    database = CURRENT_DATABASE.get()
    cuts = []
    for chain in _chains(tokens, statement):
        if len(chain) < 3:
            continue
        first = tokens[chain[0]].text.lower()
        if database is not None and first == database.lower():
            cuts.append((tokens[chain[0]].start, tokens[chain[0] + 1].end + 1))
        elif chain[0] == 1 and tokens[0].token_type == TokenType.COPY:
            raise cross_database_write(first)
    if not cuts:
        return statement
    pieces, at = [], 0
    for start, end in cuts:
        pieces.append(statement[at:start])
        at = end
    return "".join(pieces) + statement[at:]


def refuse_other_databases(tree: exp.Expression) -> None:
    """A table of another database left in the tree (the connected database's prefix is cut already)."""
    targets = set()
    if isinstance(tree, _WRITES):
        written = tree.this
        if isinstance(written, exp.Schema):
            written = written.this
        targets.add(id(written))
        targets.update(id(table) for table in (tree.args.get("tables") or tree.expressions or ()))
    for table in tree.find_all(exp.Table):
        if table.catalog:
            raise (cross_database_write if id(table) in targets else cross_database_read)(table.catalog)
