"""INSERT ... VALUES and UPDATE ... SET of text whose meaning depends on the target column's type.

Which column a value goes into, and that column's type, is known only from the catalog: a TypedWrite (a
SessionCommand) reads the target's column types when it runs, then writes the values bound for those columns as
Redshift reads them; text for any other column stays as written.
- SUPER: text is a SUPER string. `INSERT INTO t VALUES ('abc')` stores "abc" and `'{"a":1}'` the string
  "{\\"a\\":1}" (r_is_varchar.md, r_is_char.md; ingest-super.md: "If the json_parse function is missing in the
  query, Amazon Redshift treats the value as a single string"); JSON_PARSE is what makes an object. Both engines'
  JSON columns would parse the text instead (or fail: "Malformed JSON", "invalid input syntax for type json").
- DATE / TIMESTAMP, DuckDB: datetime text in a form other than ISO is written in ISO. Redshift reads it as it reads
  such literals ('02/01/2023' is February 1, 'Jun 1,2008', '20081231': r_Examples_with_datetime_types.md,
  r_FROM_clause-pivot-unpivot-examples.md); DuckDB's implicit conversion reads ISO text only. PostgreSQL reads
  those forms itself (DateStyle MDY, setup.py).
- CHAR(n) / VARCHAR(n), DuckDB: text with trailing blanks is written as Redshift stores it ('a ' into a CHAR(2)
  column is the CHAR value 'a', r_NULLIF_function.md's nulliftest; 'abc  ' into a VARCHAR(3) is 'abc'): DuckDB
  holds CHAR values unpadded (char_columns.py), and its length CHECKs refuse what keeps blanks they cannot drop.
Text literals and bound parameters are converted. Not converted (noted): text computed by an expression or read
from a column (INSERT ... SELECT of a VARCHAR column into a SUPER column is parsed on DuckDB and refused by
PostgreSQL), and the statements of a stored procedure's body on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlglot import exp

from shiftflow.dataapi.engines.base import EngineError, EngineSession, QueryResult
from shiftflow.dataapi.translate.char_columns import sized_text_columns
from shiftflow.dataapi.translate.model import EngineSql, SessionCommand
from shiftflow.dataapi.translate.relations import resolve_table
from shiftflow.dataapi.translate.types import iso_datetime

_DATETIME_COLUMNS = {"DATE": False, "TIMESTAMP": False, "TIMESTAMP WITH TIME ZONE": True}  # type -> with its zone
_SUPER_COLUMNS = {"duckdb": {"JSON"}, "postgres": {"json", "jsonb"}}  # how each engine holds a SUPER column


def refuse_multi_row_subqueries(statement: exp.Expression) -> None:
    """c_Examples_of_INSERT_30.md: a subquery as a value of a multiple-row INSERT ... VALUES is Redshift's error (a
    single row takes one); both engines would run it."""
    values = statement.expression if isinstance(statement, exp.Insert) else None
    if isinstance(values, exp.Values) and len(values.expressions) > 1 and any(
            row.find(exp.Select) is not None for row in values.expressions):
        raise EngineError("can't use subqueries in multi-row VALUES")


def _text(value: exp.Expression) -> bool:
    """A text literal or a bound parameter (the Data API binds text)."""
    return (isinstance(value, exp.Literal) and value.is_string) or isinstance(value, exp.Placeholder)


def _assignments(statement: exp.Expression) -> list[list[tuple[str | None, exp.Expression]]]:
    """The (target column, value) pairs of each row an INSERT ... VALUES or an UPDATE writes; a column None: the
    table's column at that position."""
    if isinstance(statement, exp.Update):
        return [[(pair.this.name.lower(), pair.expression) for pair in statement.expressions
                 if isinstance(pair, exp.EQ) and isinstance(pair.this, exp.Column)]]
    values = statement.expression if isinstance(statement, exp.Insert) else None
    if not isinstance(values, exp.Values):
        return []
    listed = statement.this.expressions if isinstance(statement.this, exp.Schema) else []
    names: list[str | None] = [column.name.lower() for column in listed]
    return [list(zip(names or [None] * len(row.expressions), row.expressions)) for row in values.expressions]


def writes_text(statement: exp.Expression) -> bool:
    """Whether an INSERT ... VALUES or UPDATE writes text whose meaning depends on its column's type."""
    return any(_text(value) for row in _assignments(statement) for _, value in row)


def _target(statement: exp.Insert | exp.Update) -> exp.Table:
    target = statement.this
    return target.this if isinstance(target, exp.Schema) else target


def _sized_text(text: str, char: bool, width: int) -> str:
    """Text as Redshift stores it in a CHAR(width) (`char`) or VARCHAR(width) column of DuckDB: a CHAR value
    without its padding blanks (DuckDB holds CHAR values unpadded), blanks beyond the width dropped ("unless the
    extra characters are all spaces (blanks), in which case the string is truncated to the maximum length",
    r_Character_types.md; widths in bytes). Longer text stays as written, for the length CHECK to refuse."""
    kept = text.rstrip(" ")
    if char:
        return kept
    size = len(kept.encode())
    return kept + " " * min(width - size, len(text) - len(kept)) if size <= width else text


def _converted(value: exp.Expression, column_type: str, engine: str,
               sized: tuple[bool, int] | None = None) -> exp.Expression | None:
    """`value` as Redshift writes it into a column of `column_type` (the engine's type name; `sized`: a CHAR(n)
    or VARCHAR(n) column on DuckDB, sized_text_columns()); None: as written."""
    if not _text(value):
        return None
    if sized is not None and isinstance(value, exp.Literal) and value.this.endswith(" "):
        text = _sized_text(value.this, *sized)
        return exp.Literal.string(text) if text != value.this else None
    if column_type in _SUPER_COLUMNS[engine]:  # a SUPER string
        text = value.copy() if engine == "duckdb" else exp.cast(value.copy(), exp.DataType.Type.TEXT)
        return exp.Anonymous(this="to_json", expressions=[text])
    zoned = _DATETIME_COLUMNS.get(column_type) if engine == "duckdb" else None
    if zoned is not None and isinstance(value, exp.Literal):
        iso = iso_datetime(value.this, with_zone=True)
        if iso is not None and iso != value.this:
            return exp.Literal.string(iso_datetime(value.this, with_zone=zoned) or value.this)
    return None


def _column_types(session: EngineSession, engine: str, table: exp.Table) -> list[tuple[str, str]]:
    """The target's columns and their types in order, found as the statement finds the table; [] when there is no
    such table (the statement then fails as written)."""
    if engine == "postgres":
        return [(name, kind) for name, kind in session.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid ="
            " to_regclass(%(table)s) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            {"table": exp.table_(table.name, db=table.db or None, quoted=True).sql("postgres")}).rows]
    name = ".".join(part.name for part in table.parts)

    def read() -> list[tuple[str, str]]:
        try:
            oid = resolve_table(session, name)
        except EngineError:
            return []
        return [(column, kind) for column, kind in session.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_oid = $oid ORDER BY column_index",
            {"oid": str(oid)}).rows]

    cached = getattr(session, "catalog_cached", None)
    return cached(("column_types", name), read) if cached else read()


@dataclass(frozen=True)
class TypedWrite(SessionCommand):
    statement: exp.Insert | exp.Update  # translated for the engine but for these values; never changed
    engine: str
    generate: Callable[[exp.Expression], EngineSql]  # the statement's EngineSql for a tree like it

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return self.generate(self.statement).parameter_names

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        statement = self.statement.copy()
        types = _column_types(session, self.engine, _target(statement))
        by_name = {name.lower(): kind for name, kind in types}
        by_position = [name.lower() for name, _ in types]
        sized = sized_text_columns(session, _target(statement)) if self.engine == "duckdb" else {}
        for row in _assignments(statement):
            for position, (column, value) in enumerate(row):
                column = column or (by_position[position] if position < len(types) else "")
                converted = _converted(value, by_name.get(column, ""), self.engine, sized.get(column))
                if converted is not None:
                    value.replace(converted)
        sql = self.generate(statement)
        return sql.execute(session, {name: parameters[name] for name in sql.parameter_names})


def typed_write(statement: exp.Insert | exp.Update, engine: str,
                generate: Callable[[exp.Expression], EngineSql]) -> TypedWrite:
    return TypedWrite(statement, engine, generate)
