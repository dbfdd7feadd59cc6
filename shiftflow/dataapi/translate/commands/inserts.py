"""INSERT ... VALUES of datetime text in a form other than ISO into DATE / TIMESTAMP columns, on DuckDB.

Redshift reads the text it stores in a DATE or TIMESTAMP column as it reads such literals ('02/01/2023' is
February 1, 'Jun 1,2008', '20081231': r_Examples_with_datetime_types.md, r_FROM_clause-pivot-unpivot-examples.md);
DuckDB's implicit conversion reads ISO text only. Which column a value goes into is known only from the catalog:
a DatetimeTextInsert (a SessionCommand) reads the target's column types when it runs and writes the ISO form of
the values bound for DATE / TIMESTAMP columns; text for any other column stays as written. PostgreSQL reads those
forms itself (DateStyle MDY, setup.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlglot import exp

from shiftflow.dataapi.engines.base import EngineSession, QueryResult
from shiftflow.dataapi.translate.relations import resolve_table
from shiftflow.dataapi.translate.model import EngineSql, SessionCommand
from shiftflow.dataapi.translate.types import iso_datetime

_DATETIME_COLUMNS = {"DATE": False, "TIMESTAMP": False, "TIMESTAMP WITH TIME ZONE": True}


def non_iso_datetime_text(insert: exp.Insert) -> bool:
    """Whether an INSERT ... VALUES has a text value that Redshift would read as a date in another form than ISO."""
    values = insert.expression
    if not isinstance(values, exp.Values):
        return False
    return any(_other_form(value) for row in values.expressions for value in row.expressions)


def _other_form(value: exp.Expression) -> bool:
    if not (isinstance(value, exp.Literal) and value.is_string):
        return False
    iso = iso_datetime(value.this, with_zone=True)
    return iso is not None and iso != value.this


@dataclass(frozen=True)
class DatetimeTextInsert(SessionCommand):
    insert: exp.Insert  # translated for DuckDB but for these values; never changed (a copy is made per run)
    table: str  # the target, unquoted: [schema.]table
    generate: Callable[[exp.Expression], EngineSql]

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return self.generate(self.insert).parameter_names

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        oid = resolve_table(session, self.table)
        types = session.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_oid = $oid"
                                " ORDER BY column_index", {"oid": str(oid)}).rows
        insert = self.insert.copy()
        listed = insert.this.expressions if isinstance(insert.this, exp.Schema) else []
        columns = [column.name.lower() for column in listed] or [name.lower() for name, _ in types]
        by_name = {name.lower(): data_type for name, data_type in types}
        for row in insert.expression.expressions:
            for column, value in zip(columns, row.expressions):
                zoned = _DATETIME_COLUMNS.get(by_name.get(column, ""))
                if zoned is not None and _other_form(value):
                    value.replace(exp.Literal.string(iso_datetime(value.this, with_zone=zoned) or value.this))
        sql = self.generate(insert)
        return session.execute(sql.text, {name: parameters[name] for name in sql.parameter_names})


def datetime_text_insert(insert: exp.Insert, generate: Callable[[exp.Expression], EngineSql]) -> DatetimeTextInsert:
    target = insert.this.this if isinstance(insert.this, exp.Schema) else insert.this
    table = ".".join(part.name for part in target.parts)
    return DatetimeTextInsert(insert, table, generate)
