"""What Redshift keeps of a table's declarations and the engines drop: its distribution (DISTSTYLE, DISTKEY), sort
key (COMPOUND / INTERLEAVED / AUTO), column encodings (ENCODE, ENCODE AUTO) and its PRIMARY KEY / UNIQUE / FOREIGN
KEY constraints, which Redshift records without enforcing them (r_CREATE_TABLE_NEW.md).

One catalog for both engines: a table of the schema shiftflow_declared in the warehouse itself (a temporary table's in
a temporary table of the session), one row per table, so that it lives and dies with the database and its
transactions, as the principals' and the procedures' catalogs do. Each CREATE TABLE (LIKE and AS included), ALTER
TABLE and DROP TABLE that the emulator runs keeps it right (Declaring, after the engine's own statement); what reads
it: pg_table_def (table_def.py), svv_table_info and information_schema.table_constraints (system.py), SHOW TABLE
(commands/show.py).

What Redshift documents is answered; what it chooses itself is refused when read:
- defaults (r_CREATE_TABLE_NEW.md): DISTSTYLE AUTO, SORTKEY AUTO (no sort key column), ENCODE AUTO when no column
  names an encoding. Encodings not named follow c_Compression_encodings.md (CREATE TABLE) and r_CTAS_usage_notes.md
  (CREATE TABLE AS): sort key columns and BOOLEAN, REAL, DOUBLE PRECISION raw (shown as none), SMALLINT, INTEGER,
  BIGINT, DECIMAL, DATE, TIMESTAMP, TIMESTAMPTZ az64 (TIME, TIMETZ too for CTAS), CHAR and VARCHAR lzo (VARBYTE too
  for CTAS); any other type's is refused. Changing an encoding or the sort key fixes the encodings of every column
  as they are then ("All columns will keep the compression encoding types that they had").
- CREATE TABLE AS without DISTSTYLE / DISTKEY / SORTKEY: "If the SELECT clause is a simple select operation from a
  single table ... CTAS uses the source table's distribution style and sort key"; otherwise Redshift picks them from
  its query plan: refused. With DISTSTYLE or DISTKEY but no SORTKEY the table has no sort key (r_CTAS_examples.md).
- LIKE: "Distribution style, sort keys, BACKUP, and NULL properties are inherited ... don't inherit primary and
  foreign key constraints"; encodings are inherited too (r_CREATE_TABLE_examples.md, TEMPEVENT).
- a PRIMARY KEY's default name is <table>_pkey (r_ALTER_TABLE_examples_basic.md); Redshift does not document the
  names it gives an unnamed UNIQUE or FOREIGN KEY: reading one is refused, and so is DROP CONSTRAINT of a name that
  might be one of them.
- a table the catalog has no row for (made before the catalog existed, or inside a stored procedure on the
  PostgreSQL engine, which the translator does not see): its declarations are refused.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.engines.base import EngineError, EngineSession, QueryResult
from shiftflow.dataapi.translate.commands.tokens import closing_paren, word
from shiftflow.dataapi.translate.model import AroundStatement, EngineSql, NotSupportedLocally, SessionCommand
from shiftflow.dataapi.translate.relations import catalog_cached, internal_table_exists
from shiftflow.dataapi.translate.table_columns import REFUSED, table_columns

SCHEMA = "shiftflow_declared"
TEMPORARY = "shiftflow_declared_temp"  # a temporary table: the session's temporary tables


@dataclass
class Constraint:
    kind: str  # "p" primary key, "u" unique, "f" foreign key (pg_constraint.contype)
    columns: list[str]
    name: str | None = None  # None: a UNIQUE / FOREIGN KEY without a name (Redshift's default is not documented)
    ref_schema: str | None = None
    ref_table: str | None = None
    ref_columns: list[str] = field(default_factory=list)


@dataclass
class Declared:
    """One table's declarations. `unknown` names what Redshift chose itself (distribution, sortkey, encoding) and why."""

    diststyle: str = "AUTO"  # AUTO | EVEN | KEY | ALL
    distkey: str | None = None
    sortstyle: str = "AUTO"  # AUTO (no column) | COMPOUND | INTERLEAVED | NONE
    sortkey: list[str] = field(default_factory=list)
    encode_auto: bool = True
    encodings: dict[str, str] = field(default_factory=dict)  # named (or fixed) encodings, lower case
    rule: str = "create"  # which documented rule gives the other columns' encodings: create | ctas
    constraints: list[Constraint] = field(default_factory=list)
    unknown: dict[str, str] = field(default_factory=dict)
    # what SHOW TABLE cannot print as Redshift does (a column DEFAULT or IDENTITY, BACKUP NO): r_SHOW_TABLE.md's
    # examples show neither
    unshown: str = ""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Declared:
        values = json.loads(text)
        values["constraints"] = [Constraint(**c) for c in values.get("constraints", [])]
        return cls(**values)

    def sort_position(self, column: str) -> int:
        """pg_table_def.sortkey: the position in a compound key; alternately negative and positive in an
        interleaved one (-1, 2, -3 ...), as r_PG_TABLE_DEF.md's example shows; 0 outside the key."""
        if column not in self.sortkey:
            return 0
        position = self.sortkey.index(column) + 1
        return -position if self.sortstyle == "INTERLEAVED" and position % 2 else position

    def encoding(self, column: str, type_class: str) -> str:
        """pg_table_def.encoding (raw is shown as none), or a refusal."""
        if "encoding" in self.unknown:
            return REFUSED + self.unknown["encoding"]
        if column in self.encodings:
            named = self.encodings[column]
            return "none" if named == "raw" else named
        if column in self.sortkey:
            return "none"
        chosen = _RULES[self.rule].get(type_class)
        if chosen is None:
            return REFUSED + (f"pg_table_def.encoding of a {type_class or 'such a'} column without ENCODE (the"
                              " documented defaults name no encoding for its type)")
        return chosen

    def renamed_column(self, old: str, new: str) -> None:
        rename = lambda name: new if name == old else name  # noqa: E731
        self.distkey = rename(self.distkey) if self.distkey else None
        self.sortkey = [rename(c) for c in self.sortkey]
        self.encodings = {rename(c): e for c, e in self.encodings.items()}
        for constraint in self.constraints:
            constraint.columns = [rename(c) for c in constraint.columns]

    def dropped_column(self, column: str) -> None:
        if self.distkey == column:
            self.distkey, self.diststyle = None, "EVEN"  # chosen: Redshift refuses to drop a distkey column
        self.sortkey = [c for c in self.sortkey if c != column]
        self.encodings.pop(column, None)
        self.constraints = [c for c in self.constraints if column not in c.columns]


# The classes of the pg_table_def types (table_columns.type_class), and the encoding each rule gives them.
_RAW, _AZ64, _LZO = "none", "az64", "lzo"
_RULES = {
    "create": {"boolean": _RAW, "float": _RAW, "integer": _AZ64, "decimal": _AZ64, "date": _AZ64,
               "timestamp": _AZ64, "character": _LZO},
    "ctas": {"boolean": _RAW, "float": _RAW, "integer": _AZ64, "decimal": _AZ64, "date": _AZ64, "timestamp": _AZ64,
             "time": _AZ64, "character": _LZO, "varbyte": _LZO},
}


# ---- the catalog -------------------------------------------------------------------------------------------------

def _sql(session: EngineSession, text: str, values: Mapping[str, Any]) -> QueryResult:
    """Run `text`, whose {name} markers are the engine's placeholders for `values`."""
    marker = "${}" if session.engine == "duckdb" else "%({})s"
    return session.execute(text.format(**{name: marker.format(name) for name in values}),
                           {name: value for name, value in values.items()})


# Made with each database (PostgreSQL) or session (DuckDB, one at a time: setup.py), as the streams' catalog is:
# two transactions that both made it would conflict, and Redshift fails neither of the CREATE TABLEs they run.
SETUP = (f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
         f"CREATE TABLE IF NOT EXISTS {SCHEMA}.tables (schema_name VARCHAR, table_name VARCHAR, record VARCHAR)")
# PostgreSQL: every user's CREATE / ALTER / DROP TABLE keeps its declarations (a session may run as any user).
POSTGRES_SETUP = (*SETUP, f"GRANT USAGE ON SCHEMA {SCHEMA} TO PUBLIC",
                  f"GRANT SELECT, INSERT, UPDATE, DELETE ON {SCHEMA}.tables TO PUBLIC")


def _ready(session: EngineSession, temporary: bool) -> str:
    if temporary:  # the session's own: no other transaction makes it
        session.execute(f"CREATE TEMP TABLE IF NOT EXISTS {TEMPORARY} (table_name VARCHAR, record VARCHAR)", {})
        return TEMPORARY
    for statement in SETUP:  # a session whose set-up did not make it
        session.execute(statement, {})
    return f"{SCHEMA}.tables"


@dataclass(frozen=True)
class Located:
    """A table as the engine found it: its schema (the engine's temporary schema for a temporary table)."""

    schema: str
    table: str
    temporary: bool


_DUCKDB_LOCATE = (
    "SELECT schema_name, table_name, temporary FROM duckdb_tables() WHERE table_name = {table} AND"
    " CASE WHEN {schema} = '' THEN temporary OR (database_name = current_database()"
    " AND list_contains(current_schemas(false), schema_name)) ELSE NOT temporary AND database_name = current_database()"
    " AND schema_name = {schema} END ORDER BY temporary DESC, list_position(current_schemas(false), schema_name)"
    " LIMIT 1")
_POSTGRES_LOCATE = (
    "SELECT n.nspname::text, c.relname::text, c.relpersistence = 't' FROM pg_class c JOIN pg_namespace n ON"
    " n.oid = c.relnamespace WHERE c.oid = to_regclass({name}) AND c.relkind IN ('r', 'p')")


def locate(session: EngineSession, schema: str, table: str) -> Located | None:
    """The table a name finds (a temporary one first, then the search path's schemas), None when there is none."""
    if session.engine == "duckdb":
        rows = catalog_cached(session, ("locate", schema, table),
                              lambda: _sql(session, _DUCKDB_LOCATE, {"table": table, "schema": schema}).rows)
    else:
        quoted = ".".join('"' + part.replace('"', '""') + '"' for part in (schema, table) if part)
        rows = _sql(session, _POSTGRES_LOCATE, {"name": quoted}).rows
    return Located(*rows[0]) if rows else None


def _catalog_exists(session: EngineSession, temporary: bool) -> bool:
    if session.engine == "duckdb":
        return internal_table_exists(session, "" if temporary else SCHEMA, TEMPORARY if temporary else "tables")
    query = (f"SELECT count(*) FROM pg_class WHERE oid = to_regclass('pg_temp.{TEMPORARY}')" if temporary else
             f"SELECT count(*) FROM pg_class WHERE oid = to_regclass('{SCHEMA}.tables')")
    return bool(session.execute(query, {}).rows[0][0])


def read(session: EngineSession, where: Located) -> Declared | None:
    if not _catalog_exists(session, where.temporary):
        return None
    if where.temporary:
        rows = _sql(session, f"SELECT record FROM {TEMPORARY} WHERE table_name = {{table}}",
                    {"table": where.table}).rows
    else:
        rows = _sql(session, f"SELECT record FROM {SCHEMA}.tables WHERE schema_name = {{schema}} AND"
                    " table_name = {table}", {"schema": where.schema, "table": where.table}).rows
    return Declared.from_json(rows[0][0]) if rows else None


def everything(session: EngineSession) -> tuple[dict[tuple[str, str], Declared], dict[str, Declared]]:
    """Every table's declarations: the permanent ones by (schema, table), the temporary ones by table."""
    permanent, temporary = {}, {}
    if _catalog_exists(session, False):
        for schema, table, record in session.execute(f"SELECT schema_name, table_name, record FROM {SCHEMA}.tables",
                                                     {}).rows:
            permanent[(schema, table)] = Declared.from_json(record)
    if _catalog_exists(session, True):
        for table, record in session.execute(f"SELECT table_name, record FROM {TEMPORARY}", {}).rows:
            temporary[table] = Declared.from_json(record)
    return permanent, temporary


def forget(session: EngineSession, where: Located) -> None:
    if not _catalog_exists(session, where.temporary):
        return
    if where.temporary:
        _sql(session, f"DELETE FROM {TEMPORARY} WHERE table_name = {{table}}", {"table": where.table})
    else:
        _sql(session, f"DELETE FROM {SCHEMA}.tables WHERE schema_name = {{schema}} AND table_name = {{table}}",
             {"schema": where.schema, "table": where.table})


def write(session: EngineSession, where: Located, declared: Declared) -> None:
    if _catalog_exists(session, where.temporary):
        forget(session, where)
        catalog = TEMPORARY if where.temporary else f"{SCHEMA}.tables"
    else:  # made once: concurrent writers of the catalog then only add and remove their own rows
        catalog = _ready(session, where.temporary)
    if where.temporary:
        _sql(session, f"INSERT INTO {catalog} VALUES ({{table}}, {{record}})",
             {"table": where.table, "record": declared.to_json()})
    else:
        _sql(session, f"INSERT INTO {catalog} VALUES ({{schema}}, {{table}}, {{record}})",
             {"schema": where.schema, "table": where.table, "record": declared.to_json()})


def columns(session: EngineSession, where: Located) -> list[tuple[str, str, bool]]:
    """(name, pg_table_def type, not null) of the table's columns, in order (table_columns.py)."""
    return table_columns(session, where.schema, where.table, where.temporary)


def _drop_schema(session: EngineSession, schema: str) -> None:
    if _catalog_exists(session, False):
        _sql(session, f"DELETE FROM {SCHEMA}.tables WHERE schema_name = {{schema}}", {"schema": schema})


def _rename_schema(session: EngineSession, schema: str, new: str) -> None:
    if _catalog_exists(session, False):
        _sql(session, f"UPDATE {SCHEMA}.tables SET schema_name = {{new}} WHERE schema_name = {{schema}}",
             {"schema": schema, "new": new})


# ---- the statements that change it ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """What a statement changes in the declarations: `before` reads what it needs before the engine's statement
    runs (the table a DROP or RENAME names), `after` applies the change (given what `before` read); either raises
    as Redshift would for an unknown table, column or constraint."""

    after: Callable[[EngineSession, Any], None]
    before: Callable[[EngineSession], Any] = lambda session: None


@dataclass(frozen=True)
class Declaring(AroundStatement):
    """The engine's statement (`inner`), then its Change to the declarations."""

    inner: EngineSql | SessionCommand
    change: Change

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        state = self.change.before(session)
        result = self.run_inner(session, parameters, in_transaction)
        self.change.after(session, state)
        return result


def undeclared(translated: Any) -> Any:
    """A translation without its change to the declarations (a materialized view's own table keeps none)."""
    if isinstance(translated, Declaring):
        return translated.inner
    if isinstance(translated, EngineSql) and translated.declares is not None:
        return dataclasses.replace(translated, declares=None)
    return translated


def _name(node: exp.Expression) -> str:
    return node.name.lower()


def _table_parts(table: exp.Table) -> tuple[str, str]:
    return (table.db or "").lower(), table.name.lower()


def _missing_table(schema: str, table: str) -> EngineError:
    return EngineError(f'relation "{schema + "." if schema else ""}{table}" does not exist')


def _missing_column(column: str, table: str) -> EngineError:
    return EngineError(f'column "{column}" of relation "{table}" does not exist')


@dataclass
class _Layout:
    """The layout clauses of a CREATE TABLE, read from its tokens (sqlglot drops or cannot parse some)."""

    diststyle: str | None = None
    distkey: str | None = None  # a name, or a position (CTAS: "1")
    sortstyle: str | None = None
    sortkey: list[str] = field(default_factory=list)
    encode_auto: bool = False
    encodings: dict[str, str] = field(default_factory=dict)
    unshown: str = ""


def _names_in(tokens: list[Token], opening: int) -> tuple[list[str], int]:
    end = closing_paren(tokens, opening)
    end = end if end >= 0 else len(tokens) - 1
    return [t.text.lower() for t in tokens[opening + 1 : end] if t.token_type != TokenType.COMMA], end


def _layout(tokens: list[Token]) -> _Layout:
    layout = _Layout()
    depth, column, expect_column = 0, None, False
    i = 0
    while i < len(tokens):
        token, name = tokens[i], word(tokens[i])
        following = word(tokens[i + 1]) if i + 1 < len(tokens) else ""
        if token.token_type == TokenType.L_PAREN:
            depth += 1
            expect_column = depth == 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif token.token_type == TokenType.COMMA and depth == 1:
            expect_column = True
        elif token.token_type == TokenType.ALIAS and depth == 0:
            break  # CREATE TABLE ... AS query
        elif expect_column and depth == 1:
            column, expect_column = token.text.lower(), False
        elif depth == 1 and column is not None and name == "DISTKEY":
            layout.distkey = column
        elif depth == 1 and column is not None and name == "SORTKEY":
            layout.sortstyle, layout.sortkey = "COMPOUND", [column]
        elif depth == 1 and column is not None and name == "ENCODE" and following:
            layout.encodings[column] = following.lower()
            i += 1
        elif depth == 0 and name == "DISTSTYLE" and following:
            layout.diststyle = following
            i += 1
        elif depth == 0 and name == "DISTKEY" and following == "(":
            names, i = _names_in(tokens, i + 1)
            layout.distkey = names[0] if names else None
        elif depth == 0 and name in {"COMPOUND", "INTERLEAVED"} and following == "SORTKEY":
            layout.sortstyle = name
        elif depth == 0 and name == "SORTKEY" and following == "AUTO":
            layout.sortstyle = "AUTO"
            i += 1
        elif depth == 0 and name == "SORTKEY" and following == "(":
            layout.sortstyle = layout.sortstyle or "COMPOUND"
            layout.sortkey, i = _names_in(tokens, i + 1)
        elif depth == 0 and name == "ENCODE" and following == "AUTO":
            layout.encode_auto = True
            i += 1
        elif depth == 0 and name == "BACKUP" and following == "NO":
            layout.unshown = "BACKUP NO"
        elif depth == 1 and name in {"DEFAULT", "IDENTITY", "GENERATED"}:
            layout.unshown = layout.unshown or "a column DEFAULT or IDENTITY"
        i += 1
    return layout


def _unenforced(schema_node: exp.Schema, table: str) -> tuple[list[Constraint], set[str]]:
    """The PRIMARY KEY / UNIQUE / FOREIGN KEY declarations of CREATE TABLE (column and table level), and the
    columns a primary key makes NOT NULL."""
    found: list[Constraint] = []
    for item in schema_node.expressions:
        if isinstance(item, exp.ColumnDef):
            for constraint in item.args.get("constraints") or []:
                made = _column_constraint(constraint, _name(item.this), table)
                if made is not None:
                    found.append(made)
        else:
            made = table_constraint(item, table)
            if made is not None:
                found.append(made)
    return found, {column for c in found if c.kind == "p" for column in c.columns}


def _column_constraint(constraint: exp.ColumnConstraint, column: str, table: str) -> Constraint | None:
    kind = constraint.args.get("kind")
    name = constraint.this.name.lower() if isinstance(constraint.this, exp.Identifier) else None
    if isinstance(kind, exp.PrimaryKeyColumnConstraint):
        return Constraint("p", [column], name or f"{table}_pkey")
    if isinstance(kind, exp.UniqueColumnConstraint):
        return Constraint("u", [column], name)
    if isinstance(kind, exp.Reference):
        return _reference(Constraint("f", [column], name), kind)
    return None


def _reference(constraint: Constraint, reference: exp.Reference) -> Constraint:
    target = reference.this
    table = target.this if isinstance(target, exp.Schema) else target
    if isinstance(table, exp.Table):
        constraint.ref_schema, constraint.ref_table = _table_parts(table)
    if isinstance(target, exp.Schema):
        constraint.ref_columns = [_name(c) for c in target.expressions]
    return constraint


def table_constraint(item: exp.Expression, table: str) -> Constraint | None:
    """A table-level PRIMARY KEY (...), UNIQUE (...) or FOREIGN KEY (...) REFERENCES ..., named or not."""
    name = None
    if isinstance(item, exp.Constraint):
        name = item.this.name.lower() if isinstance(item.this, exp.Identifier) else None
        if len(item.expressions) != 1:
            return None
        item = item.expressions[0]
    if isinstance(item, exp.PrimaryKey):
        return Constraint("p", [_name(c) for c in item.expressions], name or f"{table}_pkey")
    if isinstance(item, exp.UniqueColumnConstraint):
        schema = item.this
        return Constraint("u", [_name(c) for c in schema.expressions] if isinstance(schema, exp.Schema) else [], name)
    if isinstance(item, exp.ForeignKey):
        made = Constraint("f", [_name(c) for c in item.expressions], name)
        reference = item.args.get("reference")
        return _reference(made, reference) if isinstance(reference, exp.Reference) else made
    return None


def primary_key_columns(schema_node: exp.Schema) -> set[str]:
    """The columns a PRIMARY KEY of a CREATE TABLE names: Redshift makes them NOT NULL (r_SHOW_TABLE.md)."""
    return _unenforced(schema_node, "")[1]


def create_change(tree: exp.Expression, tokens: list[Token]) -> Change | None:
    """The declarations a CREATE TABLE makes (None for any other statement)."""
    if not isinstance(tree, exp.Create) or (tree.args.get("kind") or "").upper() != "TABLE":
        return None
    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    if not isinstance(target, exp.Table):
        return None
    schema, table = _table_parts(target)
    layout = _layout(tokens)
    like = next(iter(tree.this.find_all(exp.LikeProperty)), None) if isinstance(tree.this, exp.Schema) else None
    query = tree.args.get("expression")
    exists = bool(tree.args.get("exists"))
    constraints = _unenforced(tree.this, table)[0] if isinstance(tree.this, exp.Schema) else []

    def before(session: EngineSession) -> bool:
        return exists and locate(session, schema, table) is not None  # IF NOT EXISTS of a table that exists

    def after(session: EngineSession, existed: bool) -> None:
        where = None if existed else locate(session, schema, table)
        if where is None:
            return
        if like is not None:
            parent = locate(session, *_table_parts(like.this))
            inherited = read(session, parent) if parent is not None else None
            declared = _unknown_table() if inherited is None else dataclasses.replace(inherited, constraints=[])
        else:
            declared = _declared(layout, constraints, query, session)
            if query is not None:
                _positions(declared, [name for name, *_ in columns(session, where)])
        write(session, where, declared)

    return Change(after, before)


def _unknown_table() -> Declared:
    why = "the declarations of a table the emulator did not see created"
    return Declared(unknown={"encoding": why, "distribution": why, "sortkey": why})


def _single_source(query: exp.Select) -> exp.Table | None:
    """The table of a simple select from one table (no join, limit, order, group, aggregate, distinct)."""
    if any(query.args.get(key) for key in ("joins", "limit", "order", "group", "distinct", "having", "with", "where")):
        return None
    source = query.args.get("from_")
    table = source.this if source is not None else None
    if not isinstance(table, exp.Table) or any(True for _ in query.find_all(exp.AggFunc)):
        return None
    if not all(isinstance(p, exp.Star) or (isinstance(p, exp.Column) and not isinstance(p.parent, exp.Alias))
               for p in query.expressions):
        return None
    return table


def _declared(layout: _Layout, constraints: list[Constraint], query: exp.Expression | None,
              session: EngineSession) -> Declared:
    declared = Declared(constraints=constraints if query is None else [])
    named = layout.diststyle is not None or layout.distkey is not None
    if query is not None:  # CREATE TABLE AS: r_CTAS_usage_notes.md; constraints are not inherited
        declared.rule = "ctas"
        if not named and not layout.sortstyle:
            source = _single_source(query) if isinstance(query, exp.Select) else None
            parent = locate(session, *_table_parts(source)) if source is not None else None
            inherited = read(session, parent) if parent is not None else None
            if inherited is None or inherited.unknown:
                plan = ("a CREATE TABLE AS table whose distribution and sort key Redshift picks from its query plan"
                        " (name DISTSTYLE / DISTKEY and SORTKEY to know them)")
                declared.unknown = {"distribution": plan, "sortkey": plan}
                return declared
            declared.diststyle, declared.distkey = inherited.diststyle, inherited.distkey
            declared.sortstyle, declared.sortkey = inherited.sortstyle, list(inherited.sortkey)
            return declared
        if not named:
            declared.unknown = {"distribution": "a CREATE TABLE AS table without DISTSTYLE or DISTKEY (Redshift picks"
                                                " its distribution from its query plan)"}
    if layout.distkey is not None:
        declared.diststyle, declared.distkey = "KEY", layout.distkey
    if layout.diststyle is not None:
        declared.diststyle = layout.diststyle
    if layout.sortstyle in (None, "AUTO"):
        # CTAS with a distribution named and no SORTKEY: no sort key (r_CTAS_examples.md, EVENTDISTEVEN)
        declared.sortstyle = "NONE" if query is not None else "AUTO"
    else:
        declared.sortstyle, declared.sortkey = layout.sortstyle, layout.sortkey
    declared.encodings = dict(layout.encodings)
    declared.encode_auto = layout.encode_auto or not layout.encodings
    declared.unshown = layout.unshown
    return declared


def _positions(declared: Declared, names: list[str]) -> None:
    """CTAS's DISTKEY (1) / SORTKEY (1, 3): positions in the select list, kept as the columns' names."""
    def named(value: str) -> str:
        return names[int(value) - 1] if value.isdigit() and 0 < int(value) <= len(names) else value

    declared.distkey = named(declared.distkey) if declared.distkey else None
    declared.sortkey = [named(c) for c in declared.sortkey]


def drop_change(tree: exp.Expression) -> Change | None:
    """DROP TABLE a, b (the tables that are gone lose their declarations); DROP SCHEMA s (CASCADE)."""
    if not isinstance(tree, exp.Drop):
        return None
    kind = (tree.args.get("kind") or "").upper()
    if kind == "SCHEMA":
        schemas = [(table.db or table.name).lower() for table in tree.args.get("tables") or []
                   if isinstance(table, exp.Table)]

        def after_schema(session: EngineSession, _: Any) -> None:
            for schema in schemas:
                _drop_schema(session, schema)

        return Change(after_schema)
    if kind != "TABLE":
        return None
    names = [_table_parts(table) for table in tree.args.get("tables") or [] if isinstance(table, exp.Table)]

    def before(session: EngineSession) -> list[Located]:
        return [where for where in (locate(session, *name) for name in names) if where is not None]

    def after(session: EngineSession, dropped: list[Located]) -> None:
        for where in dropped:
            forget(session, where)

    return Change(after, before)


def _qualified(tokens: list[Token], index: int) -> tuple[str, str, int]:
    """The (schema, table) named from tokens[index]; the index after the name."""
    parts = [tokens[index].text.lower().strip('"')]
    index += 1
    while index + 1 < len(tokens) and tokens[index].token_type == TokenType.DOT:
        parts.append(tokens[index + 1].text.lower().strip('"'))
        index += 2
    return (parts[-2] if len(parts) > 1 else ""), parts[-1], index


def _actions(tokens: list[Token]) -> list[list[Token]]:
    """ALTER TABLE's comma-separated actions."""
    actions: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        depth += token.token_type == TokenType.L_PAREN
        depth -= token.token_type == TokenType.R_PAREN
        if token.token_type == TokenType.COMMA and depth == 0:
            actions.append([])
        else:
            actions[-1].append(token)
    return [action for action in actions if action]


def alter_change(tokens: list[Token], tree: exp.Expression | None) -> Change | None:
    """ALTER TABLE's changes to the declarations (None when it changes none of them)."""
    if len(tokens) < 4 or [word(t) for t in tokens[:2]] != ["ALTER", "TABLE"]:
        return None
    schema, table, index = _qualified(tokens, 2)
    steps: list[Callable[[EngineSession, Located, Declared], None]] = []
    alter_actions = (tree.args.get("actions") or []) if isinstance(tree, exp.Alter) else []
    added = [table_constraint(item, table) for action in alter_actions if isinstance(action, exp.AddConstraint)
             for item in action.expressions]
    for constraint in added:
        if constraint is not None:
            steps.append(_add_constraint(constraint))
    for action in _actions(tokens[index:]):
        names = [word(t) for t in action]
        texts = [t.text.lower().strip('"') for t in action]
        if names[:2] == ["RENAME", "TO"] and len(names) == 3:
            return _rename_table(schema, table, texts[2])
        if names[0] == "RENAME" and "TO" in names:
            old = texts[names.index("TO") - 1]
            steps.append(lambda s, w, d, old=old, new=texts[-1]: _column_step(s, w, d, old, new))
        elif names[:2] == ["DROP", "CONSTRAINT"] and len(names) >= 3:
            steps.append(lambda s, w, d, name=texts[2]: _drop_constraint(d, name, w.table))
        elif names[0] == "DROP" and len(names) >= 2:
            column = texts[2] if names[1] == "COLUMN" and len(names) > 2 else texts[1]
            steps.append(lambda s, w, d, column=column: _column_step(s, w, d, column, None))
        elif names[0] == "ADD" and len(names) >= 3 and names[1] not in {"CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN"}:
            column = texts[2] if names[1] == "COLUMN" else texts[1]
            encoding = texts[names.index("ENCODE") + 1] if "ENCODE" in names[:-1] else None
            default = "a column DEFAULT or IDENTITY" if {"DEFAULT", "IDENTITY"} & set(names) else ""
            steps.append(lambda s, w, d, column=column, encoding=encoding, default=default:
                         _added_column(d, column, encoding, default))
        elif names[0] == "ALTER" and len(names) >= 2:
            step = _layout_step(names[1:], texts[1:])
            if step is not None:
                steps.append(step)
    if not steps:
        return None
    drops_constraint = any(word(t) == "CONSTRAINT" and word(p) == "DROP" for p, t in zip(tokens, tokens[1:]))

    def after(session: EngineSession, _: Any) -> None:
        where = locate(session, schema, table)
        if where is None:
            raise _missing_table(schema, table)
        declared = read(session, where)
        if declared is None:  # a table the emulator did not see created: nothing to keep
            if drops_constraint:
                raise NotSupportedLocally("ALTER TABLE ... DROP CONSTRAINT of a table the emulator did not see"
                                          " created (it does not know its constraints)")
            return
        for step in steps:
            step(session, where, declared)
        write(session, where, declared)

    return Change(after)


def _rename_table(schema: str, table: str, new: str) -> Change:
    def before(session: EngineSession) -> tuple[Located | None, Declared | None]:
        where = locate(session, schema, table)
        return where, read(session, where) if where is not None else None

    def after(session: EngineSession, found: tuple[Located | None, Declared | None]) -> None:
        where, declared = found
        if where is None or declared is None:
            return
        forget(session, where)  # a primary key keeps its name (t_pkey) when t is renamed, as PostgreSQL's does
        write(session, Located(where.schema, new, where.temporary), declared)

    return Change(after, before)


def _column_names(session: EngineSession, where: Located) -> list[str]:
    return [name for name, *_ in columns(session, where)]


def _column_step(session: EngineSession, where: Located, declared: Declared, old: str, new: str | None) -> None:
    if new is None:
        declared.dropped_column(old)
    else:
        declared.renamed_column(old, new)


def _added_column(declared: Declared, column: str, encoding: str | None, default: str) -> None:
    declared.unshown = declared.unshown or default
    declared.encodings.pop(column, None)
    if encoding is not None:
        declared.encodings[column] = encoding


def _add_constraint(constraint: Constraint) -> Callable[[EngineSession, Located, Declared], None]:
    def step(session: EngineSession, where: Located, declared: Declared) -> None:
        if constraint.kind == "p":
            if any(c.kind == "p" for c in declared.constraints):
                raise EngineError(f'multiple primary keys for table "{where.table}" are not allowed')
            constraint.name = constraint.name or f"{where.table}_pkey"
        if constraint.name is not None and any(c.name == constraint.name for c in declared.constraints):
            raise EngineError(f'constraint "{constraint.name}" for relation "{where.table}" already exists')
        declared.constraints.append(dataclasses.replace(constraint))

    return step


def _drop_constraint(declared: Declared, name: str, table: str) -> None:
    kept = [c for c in declared.constraints if c.name != name]
    if len(kept) == len(declared.constraints):
        if any(c.name is None for c in declared.constraints):
            raise NotSupportedLocally(f"ALTER TABLE ... DROP CONSTRAINT {name} of a table with an unnamed UNIQUE or"
                                      " FOREIGN KEY (Redshift's names for them are not documented)")
        raise EngineError(f'constraint "{name}" of relation "{table}" does not exist')
    declared.constraints = kept


def _layout_step(names: list[str], texts: list[str]) -> Callable[[EngineSession, Located, Declared], None] | None:
    """ALTER DISTSTYLE x [DISTKEY c] | ALTER DISTKEY c | ALTER [COMPOUND] SORTKEY (...) | NONE | AUTO |
    ALTER ENCODE AUTO | ALTER COLUMN c ENCODE x (r_ALTER_TABLE.md)."""
    def step(session: EngineSession, where: Located, declared: Declared) -> None:
        known = _column_names(session, where)

        def column(name: str) -> str:
            if name not in known:
                raise _missing_column(name, where.table)
            return name

        if names[0] == "DISTSTYLE" and len(names) >= 2:
            declared.diststyle = names[1]
            declared.distkey = column(texts[3]) if len(names) >= 4 and names[2] == "DISTKEY" else None
        elif names[0] == "DISTKEY" and len(names) >= 2:
            declared.diststyle, declared.distkey = "KEY", column(texts[1])
        elif "SORTKEY" in names[:2]:
            at = names.index("SORTKEY")
            _fix_encodings(session, where, declared)
            if names[at + 1 : at + 2] in (["NONE"], ["AUTO"]):
                declared.sortstyle, declared.sortkey = names[at + 1], []
            else:
                declared.sortstyle = "INTERLEAVED" if names[0] == "INTERLEAVED" else "COMPOUND"
                declared.sortkey = [column(t) for t, n in zip(texts[at + 1 :], names[at + 1 :])
                                    if n not in {"(", ")", ","}]
        elif names[:2] == ["ENCODE", "AUTO"]:
            declared.encode_auto = True
        elif names[0] == "COLUMN" and len(names) >= 4 and names[2] == "ENCODE":
            column(texts[1])
            _fix_encodings(session, where, declared)
            declared.encodings[texts[1]] = texts[3]
            declared.encode_auto = False

    return step if names[0] in {"DISTSTYLE", "DISTKEY", "SORTKEY", "COMPOUND", "INTERLEAVED", "ENCODE"} or (
        names[0] == "COLUMN" and "ENCODE" in names) else None


def _fix_encodings(session: EngineSession, where: Located, declared: Declared) -> None:
    """The encodings every column has now, kept as named ones ("All columns will keep the compression encoding
    types that they had when you disabled ENCODE AUTO", c_Compression_encodings.md)."""
    for name, _, _, type_class in columns(session, where):
        value = declared.encoding(name, type_class)
        if not value.startswith(REFUSED):
            declared.encodings.setdefault(name, "raw" if value == "none" else value)


def schema_change(tokens: list[Token]) -> Change | None:
    """ALTER SCHEMA s RENAME TO n: its tables' declarations follow it."""
    names = [word(t) for t in tokens]
    if names[:2] != ["ALTER", "SCHEMA"] or len(names) != 6 or names[3:5] != ["RENAME", "TO"]:
        return None
    old, new = tokens[2].text.lower().strip('"'), tokens[5].text.lower().strip('"')
    return Change(lambda session, _: _rename_schema(session, old, new))
