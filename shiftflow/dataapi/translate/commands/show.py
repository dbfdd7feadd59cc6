"""SHOW TABLE [schema.]table (r_SHOW_TABLE.md): the table's DDL as Redshift prints it, from the engine's columns
and the declarations Redshift keeps (declarations.py), on both engines.

As the page's examples show it: one row, one value; `CREATE TABLE schema.table (`, a line per column (its
pg_table_def type, NOT NULL, `ENCODE x` unless the column is raw, `distkey` on the distribution key column), the
PRIMARY KEY and UNIQUE constraints (as `PRIMARY KEY (a)`, `UNIQUE (b)`), then `)` and `DISTSTYLE x`, with
`[INTERLEAVED] SORTKEY ( a, b )` when the table has sort key columns, and `;`. The column's name ("Show Table DDL
statement") is chosen: the page shows none.
Refused (the page shows no such table, or the emulator cannot tell): a temporary table, a column DEFAULT or
IDENTITY, BACKUP NO, FOREIGN KEY or named constraints, and whatever pg_table_def refuses (the type of a column
without a length the emulator keeps, the distribution or sort key Redshift picks itself).
SHOW VIEW prints Redshift's normalized text of the view's query (r_SHOW_VIEW.md), which the emulator does not have,
and SHOW PROCEDURE a signature the emulator does not normalize: both stay refused (settings.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.engines.base import Column, EngineError, EngineSession, QueryResult
import shiftflow.dataapi.translate.declarations as declarations
from shiftflow.dataapi.translate.commands.tokens import word
from shiftflow.dataapi.translate.model import NotSupportedLocally, SessionCommand, SqlSyntaxError

COLUMN = "Show Table DDL statement"


def is_show_table(tokens: list[Token]) -> bool:
    """SHOW TABLE name (tokens as commands.expanded() gives them)."""
    return len(tokens) > 2 and word(tokens[0]) == "SHOW" and word(tokens[1]) == "TABLE" \
        and tokens[1].token_type != TokenType.STRING


def show_table(tokens: list[Token]) -> ShowTable:
    name = [t for t in tokens[2:] if t.token_type != TokenType.SEMICOLON]
    parts = [t.text.lower() for t in name[::2]]
    if not name or len(parts) > 2 or any(t.token_type != TokenType.DOT for t in name[1::2]) or len(name) % 2 == 0:
        near = name[-1] if name else tokens[-1]
        raise SqlSyntaxError(near.text, near.start + 1)
    return ShowTable(parts[0] if len(parts) == 2 else "", parts[-1])


@dataclass(frozen=True)
class ShowTable(SessionCommand):
    schema: str
    table: str

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        where = declarations.locate(session, self.schema, self.table)
        if where is None:
            raise EngineError(f'relation "{self.schema + "." if self.schema else ""}{self.table}" does not exist')
        if where.temporary:
            raise NotSupportedLocally("SHOW TABLE of a temporary table (its schema is Redshift's pg_temp_<n>)")
        declared = declarations.read(session, where)
        if declared is None:
            raise NotSupportedLocally("SHOW TABLE of a table the emulator did not see created (made inside a stored"
                                      " procedure, or before the emulator kept its declarations)")
        text = ddl(where, declared, declarations.columns(session, where))
        return QueryResult(columns=[Column(COLUMN, "varchar")], rows=[(text,)], rowcount=1)


def ddl(where: declarations.Located, declared: declarations.Declared,
        columns: list[tuple[str, str, bool, str]]) -> str:
    refusal = declared.unshown or next((why for why in declared.unknown.values() if why), "")
    if refusal:
        raise NotSupportedLocally(f"SHOW TABLE of a table with {refusal}" if declared.unshown else
                                  f"SHOW TABLE of {refusal}")
    lines = []
    for name, type_name, not_null, type_class in columns:
        encoding = declared.encoding(name, type_class)
        for value in (type_name, encoding):
            if value.startswith(declarations.REFUSED):
                raise NotSupportedLocally("SHOW TABLE: " + value[len(declarations.REFUSED):])
        line = f"{name} {type_name}" + (" NOT NULL" if not_null else "")
        line += "" if encoding == "none" else f" ENCODE {encoding}"
        line += " distkey" if declared.distkey == name else ""
        lines.append(line)
    for constraint in declared.constraints:
        if constraint.kind == "f" or (constraint.name is not None and not (
                constraint.kind == "p" and constraint.name == f"{where.table}_pkey")):
            raise NotSupportedLocally("SHOW TABLE of a table with a FOREIGN KEY or a named constraint (how Redshift"
                                      " prints them is not documented)")
        lines.append(("PRIMARY KEY" if constraint.kind == "p" else "UNIQUE") + f" ({', '.join(constraint.columns)})")
    attributes = f"DISTSTYLE {declared.diststyle}"
    if declared.sortkey:
        style = "INTERLEAVED " if declared.sortstyle == "INTERLEAVED" else ""
        attributes += f" {style}SORTKEY ( {', '.join(declared.sortkey)} )"
    return f"CREATE TABLE {where.schema}.{where.table} (\n" + ",\n".join(lines) + f"\n)\n{attributes};"
