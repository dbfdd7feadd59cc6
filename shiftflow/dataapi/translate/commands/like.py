"""CREATE [TEMP] TABLE t (LIKE parent [INCLUDING | EXCLUDING DEFAULTS] [, more columns]) on DuckDB, which has no
LIKE (PostgreSQL runs Redshift's LIKE itself).

"The new table automatically copies column names, data types, and NOT NULL constraints ... Default expressions
... are copied only if INCLUDING DEFAULTS is specified" (r_CREATE_TABLE_NEW.md). The parent's columns are read
from DuckDB's catalog when the statement runs (a LikeTable is a SessionCommand). As on the PostgreSQL engine, an
IDENTITY column stays one (with a sequence of its own, from the parent's seed and step) and the byte-length
checks of VARCHAR(n) / CHAR(n) columns come along, since they are part of the type on Redshift.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot import exp

from shiftflow.dataapi.engines.base import EngineError, EngineSession, QueryResult
from shiftflow.dataapi.translate.model import EngineSql, SessionCommand
from shiftflow.dataapi.translate.relations import resolve_table

MARKER = "\x01like\x01"  # stands for the parent's column definitions in the CREATE TABLE text
_IDENTITY_DEFAULT = re.compile(r"""^nextval\('(?P<sequence>(?:"[^"]+"\.)?"[^"]+_identity_seq")'\)$""")


def like_clause(create: exp.Create) -> exp.LikeProperty | None:
    """The (single) LIKE of a CREATE TABLE, replaced in the tree by a marker column; None when it has none."""
    schema = create.this
    if not isinstance(schema, exp.Schema):
        return None
    likes = [item for item in schema.expressions if isinstance(item, exp.LikeProperty)]
    if not likes:
        return None
    if len(likes) > 1:
        from shiftflow.dataapi.translate.model import NotSupportedLocally

        raise NotSupportedLocally("CREATE TABLE with more than one LIKE")
    likes[0].replace(exp.ColumnDef(this=exp.to_identifier(MARKER, quoted=True)))
    return likes[0]


@dataclass(frozen=True)
class LikeTable(SessionCommand):
    sql: EngineSql  # the CREATE TABLE, its LIKE replaced by MARKER
    table: str  # the new table's name as the engine reads it (for identity sequences' names)
    parent: str  # the parent's name, unquoted: [schema.]table
    including_defaults: bool

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return self.sql.parameter_names

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        table_oid = resolve_table(session, self.parent)
        columns = session.execute(
            "SELECT column_name, data_type, is_nullable, column_default FROM duckdb_columns()"
            " WHERE table_oid = $oid ORDER BY column_index", {"oid": str(table_oid)}).rows
        checks = session.execute(
            "SELECT constraint_text FROM duckdb_constraints() WHERE table_oid = $oid AND constraint_type = 'CHECK'",
            {"oid": str(table_oid)}).rows
        prelude, definitions = [], []
        for name, data_type, nullable, default in columns:
            definition = f"{_quoted(name)} {data_type}"
            identity = _IDENTITY_DEFAULT.match(default or "")
            if identity:
                sequence = self._identity_sequence(name)
                start, step = _sequence(session, identity.group("sequence"))
                prelude.append(f"CREATE OR REPLACE SEQUENCE {sequence} START WITH {start} INCREMENT BY {step}")
                definition += f" DEFAULT nextval('{sequence}')"
            elif default is not None and self.including_defaults:
                definition += f" DEFAULT {default}"
            if not nullable:
                definition += " NOT NULL"
            definitions.append(definition)
        definitions += [text for (text,) in checks]
        text = self.sql.text.replace(_quoted(MARKER), ", ".join(definitions))
        session.execute(";\n".join([*prelude, text]), {n: parameters[n] for n in self.sql.parameter_names})
        return QueryResult(rowcount=0)

    def _identity_sequence(self, column: str) -> str:
        bare = self.table.replace('"', "").split(".")[-1]
        return _quoted(f"{bare}_{column}_identity_seq")


def _sequence(session: EngineSession, quoted_name: str) -> tuple[int, int]:
    name = quoted_name.split(".")[-1].strip('"')
    row = session.execute("SELECT start_value, increment_by FROM duckdb_sequences() WHERE sequence_name = $name",
                          {"name": name}).rows
    return (int(row[0][0]), int(row[0][1])) if row else (1, 1)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
