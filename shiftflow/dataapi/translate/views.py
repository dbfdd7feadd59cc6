"""Views' dependencies as Redshift keeps them (r_CREATE_VIEW.md, r_DROP_VIEW.md, r_DROP_TABLE.md).

A normal view is bound to the tables and views it reads: DROP TABLE / DROP VIEW of one of them fails with
"cannot drop table t because other objects depend on it" (RESTRICT, the default), and DROP ... CASCADE drops the
dependent views too. A late-binding view (CREATE VIEW ... WITH NO SCHEMA BINDING) is bound to nothing: it never
blocks a drop and is checked only when queried.

Both engines mark a late-binding view in its stored query with an unused CTE (LATE_BINDING): the definition the
engine keeps says which kind the view is, with no state beside it. PostgreSQL tracks the dependencies itself (its
message is Redshift's); DuckDB tracks none, so there a DROP TABLE / VIEW is a CheckedDrop, which reads the views'
definitions (duckdb_views()) when it runs, refuses as Redshift does or drops the dependents first (CASCADE).
PostgreSQL binds every view: dropping what a late-binding view reads fails there with "not supported locally"
(PostgresCheckedDrop) rather than with a dependency error or the view dropped too.

On DuckDB, DROP SCHEMA is a CheckedSchemaDrop (RESTRICT refused in Redshift's words, CASCADE drops the normal views
of other schemas bound to the schema's objects), and ALTER TABLE / VIEW ... RENAME, or a column's rename, drop,
change or addition, of what a normal view reads is a CheckedAlter: Redshift's view is bound to the relation and
follows it (as PostgreSQL's), a DuckDB view reads names, so that is "not supported locally".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from shiftflow.dataapi.engines.base import EngineError, EngineSession, QueryResult
from shiftflow.dataapi.translate.model import AroundStatement, EngineSql, NotSupportedLocally, SessionCommand

LATE_BINDING = "shiftflow_late_binding"
_DEPENDENTS_MESSAGE = "because other objects depend on it"
# Redshift's refusal of an unqualified name in a late-binding view (r_CREATE_VIEW.md documents the rule, not the
# text; the text as Redshift reports it in dbt-labs/redshift#55).
_UNQUALIFIED = "All the relation names inside should be qualified when creating VIEW WITH NO SCHEMA BINDING."


def mark_late_binding(create: exp.Create) -> None:
    """CREATE VIEW ... WITH NO SCHEMA BINDING: the marker CTE added to the view's query (the clause itself is
    Redshift's only)."""
    if not create.args.get("no_schema_binding"):
        return
    create.set("no_schema_binding", None)
    query = create.expression
    if (create.args.get("kind") or "").upper() == "VIEW" and isinstance(query, exp.Query):
        if any(not schema for schema, _ in _relations_read(query)):
            raise EngineError(_UNQUALIFIED)
        existing = query.args.get("with_") or query.args.get("with")
        recursive = bool(existing and existing.args.get("recursive"))  # with_() would drop WITH RECURSIVE
        create.set("expression", query.with_(LATE_BINDING, as_="SELECT 1", recursive=recursive, copy=False))


def _relations_read(query: exp.Expression) -> set[tuple[str, str]]:
    """The (schema or "", name) of each relation the query reads, lower case (CTEs and table functions aside)."""
    ctes = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
    return {(table.db.lower(), table.name.lower()) for table in query.find_all(exp.Table)
            if isinstance(table.this, exp.Identifier) and (table.db or table.name.lower() not in ctes)}


def _references(sql: str, schema: str) -> set[tuple[str, str]] | None:
    """The (schema, name) of each relation a DuckDB view's definition reads; None for a late-binding view."""
    try:
        create = sqlglot.parse_one(sql, read="duckdb")
    except ParseError:
        return set()
    if any(cte.alias_or_name.lower() == LATE_BINDING for cte in create.find_all(exp.CTE)):
        return None
    query = create.expression if isinstance(create, exp.Create) else create
    return {(db or schema.lower(), name) for db, name in _relations_read(query)}


def late_binding_view(tree: exp.Create, create: EngineSql, engine: str) -> LateBindingView | EngineSql:
    """CREATE VIEW ... WITH NO SCHEMA BINDING as a LateBindingView; any other CREATE as it is."""
    if not tree.args.get("no_schema_binding") or not isinstance(tree.expression, exp.Query):
        return create
    return LateBindingView(create, tuple(sorted(_relations_read(tree.expression))), engine)


@dataclass(frozen=True)
class LateBindingView(SessionCommand):
    """A late-binding view over a relation that does not exist yet: Redshift creates it (r_CREATE_VIEW.md), the
    local engines bind every view when it is created, so that one fails with "not supported locally"."""

    create: EngineSql
    relations: tuple[tuple[str, str], ...]  # (schema, name), lower case
    engine: str

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        try:
            return self.create.execute(session, parameters)
        except EngineError:
            for schema, name in self.relations:
                if self._missing(session, schema, name):
                    raise NotSupportedLocally(
                        f"a late-binding view over {schema}.{name}, which does not exist yet (the {self.engine}"
                        " engine binds a view when it is created)") from None
            raise

    def _missing(self, session: EngineSession, schema: str, name: str) -> bool:
        """The schema exists (Redshift requires it) but holds no relation of that name."""
        if self.engine == "postgres":
            query = ("SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = %(schema)s), EXISTS (SELECT FROM"
                     " pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname = %(schema)s"
                     " AND relname = %(name)s)")
        else:
            query = ("SELECT EXISTS (SELECT 1 FROM duckdb_schemas() WHERE lower(schema_name) = $schema),"
                     " EXISTS (SELECT 1 FROM duckdb_tables() WHERE lower(schema_name) = $schema AND lower(table_name)"
                     " = $name UNION ALL SELECT 1 FROM duckdb_views() WHERE lower(schema_name) = $schema AND"
                     " lower(view_name) = $name)")
        schema_exists, relation_exists = session.execute(query, {"schema": schema, "name": name}).rows[0]
        return bool(schema_exists) and not relation_exists


@dataclass(frozen=True)
class CheckedDrop(SessionCommand):
    """DuckDB's DROP TABLE / DROP VIEW with Redshift's dependency check (the module's docstring)."""

    drop: EngineSql
    kind: str  # "table" | "view"
    objects: tuple[tuple[str, str], ...]  # (schema or "", name) as written
    cascade: bool

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        dropped = [_resolved(session, schema, name) for schema, name in self.objects]
        views = _views(session)
        targets = {key for key in dropped if key is not None}
        dependents: list[tuple[str, str]] = []
        for key, (schema, name) in zip(dropped, self.objects):
            if key is None:
                continue
            for dependent in _dependents(key, views):
                if dependent in targets or dependent in dependents:
                    continue
                if not self.cascade:
                    raise EngineError(f"cannot drop {self.kind} {name} {_DEPENDENTS_MESSAGE}")
                dependents.append(dependent)
        return _after_dropping(session, dependents, self.drop, parameters, in_transaction)


def _views(session: EngineSession) -> dict[tuple[str, str], set[tuple[str, str]] | None]:
    """Each DuckDB view's (schema, name), lower case, and what it reads (None: a late-binding view)."""
    return {(schema.lower(), name.lower()): _references(sql, schema) for schema, name, sql in session.execute(
        "SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal"
        " AND database_name IN (current_database(), 'temp') AND NOT starts_with(schema_name, 'shiftflow_')",
        {}).rows}


def _resolved(session: EngineSession, schema: str, name: str) -> tuple[str, str] | None:
    """The schema of the relation the name finds (a temporary one first, then the search path), or None."""
    found = session.execute(
        "SELECT schema_name FROM (SELECT schema_name, table_name AS name, temporary, database_name"
        " FROM duckdb_tables() UNION ALL SELECT schema_name, view_name, temporary, database_name"
        " FROM duckdb_views() WHERE NOT internal) WHERE lower(name) = $name"
        " AND database_name IN (current_database(), 'temp') AND (lower(schema_name) = $schema OR ($schema = ''"
        " AND (temporary OR list_contains(current_schemas(false), schema_name))))"
        " ORDER BY temporary DESC, list_position(current_schemas(false), schema_name) LIMIT 1",
        {"name": name.lower(), "schema": schema.lower()}).rows
    return (str(found[0][0]).lower(), name.lower()) if found else None


def _after_dropping(session: EngineSession, dependents: list[tuple[str, str]], drop: EngineSql,
                    parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
    """CASCADE: the dependent views dropped (in their order), then the statement, all or nothing."""
    if not dependents:
        return drop.execute(session, parameters)
    if not in_transaction:
        session.begin()
    try:
        for schema, name in dependents:
            session.execute(f'DROP VIEW IF EXISTS "{schema}"."{name}"', {})
        result = drop.execute(session, parameters)
    except EngineError:
        if not in_transaction:
            session.rollback()
        raise
    if not in_transaction:
        session.commit()
    return result


@dataclass(frozen=True)
class CheckedSchemaDrop(SessionCommand):
    """DuckDB's DROP SCHEMA with Redshift's dependencies (r_DROP_SCHEMA.md): RESTRICT (the default) refuses a
    schema holding objects in Redshift's words; CASCADE drops, besides the schema's objects, the normal views of
    other schemas bound to them (DuckDB would leave those behind, failing when queried)."""

    drop: EngineSql
    schema: str  # as Redshift folds it
    cascade: bool

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        views = _views(session)
        inside = {key for key in views if key[0] == self.schema.lower()} | {
            (self.schema.lower(), str(row[0]).lower()) for row in session.execute(
                "SELECT table_name FROM duckdb_tables() WHERE lower(schema_name) = $schema"
                " AND database_name = current_database()", {"schema": self.schema.lower()}).rows}
        dependents: list[tuple[str, str]] = []
        for key in sorted(inside) if self.cascade else ():
            for dependent in _dependents(key, views):
                if dependent[0] != self.schema.lower() and dependent not in dependents:
                    dependents.append(dependent)
        try:
            return _after_dropping(session, dependents, self.drop, parameters, in_transaction)
        except EngineError as error:
            if str(error).startswith("Dependency Error: Cannot drop entry"):
                raise EngineError(f"cannot drop schema {self.schema} {_DEPENDENTS_MESSAGE}") from None
            raise


@dataclass(frozen=True)
class CheckedAlter(AroundStatement):
    """DuckDB's ALTER TABLE / VIEW of a relation a normal view reads: Redshift binds the view to the relation, so it
    follows a RENAME and keeps its columns (an ADD COLUMN does not reach its `*`, a DROP or a change of a column
    it reads is refused, r_ALTER_TABLE.md's RESTRICT); a DuckDB view reads names, so such an ALTER is not
    supported locally. Late-binding views read names on Redshift too: they never stop it."""

    inner: EngineSql | SessionCommand  # the ALTER
    relation: tuple[str, str]  # (schema or "", name) as written
    change: str  # what the ALTER does, for the message
    star_only: bool  # ADD COLUMN: only a view reading `*` would see it

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        key = _resolved(session, *self.relation)
        if key is not None:
            views = _views(session)
            starred = _starred(session) if self.star_only else set()
            for view in _dependents(key, views):
                if not self.star_only or view in starred:
                    raise NotSupportedLocally(
                        f"ALTER ... {self.change} of {key[0]}.{key[1]}, which the view {view[0]}.{view[1]} reads, on"
                        " the DuckDB engine (its views read names; Redshift's are bound to the relation)")
        return self.run_inner(session, parameters, in_transaction)


def _starred(session: EngineSession) -> set[tuple[str, str]]:
    """The normal views whose query selects `*`."""
    found = set()
    for schema, name, sql in session.execute("SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT"
                                             " internal AND database_name IN (current_database(), 'temp')", {}).rows:
        try:
            tree = sqlglot.parse_one(sql, read="duckdb")
        except ParseError:
            found.add((schema.lower(), name.lower()))
            continue
        if any(isinstance(p, exp.Star) or isinstance(p, exp.Column) and isinstance(p.this, exp.Star)
               for select in tree.find_all(exp.Select) for p in select.expressions):  # `*`, `t.*`: not count(*)
            found.add((schema.lower(), name.lower()))
    return found


_ALTER_CHANGES = {exp.AlterRename: "RENAME TO", exp.RenameColumn: "RENAME COLUMN", exp.Drop: "DROP COLUMN",
                  exp.AlterColumn: "ALTER COLUMN", exp.ColumnDef: "ADD COLUMN"}


def checked_alter(tree: exp.Expression, alter: EngineSql | SessionCommand,
                  engine: str) -> EngineSql | SessionCommand:
    """DuckDB's ALTER TABLE / VIEW ... RENAME TO / RENAME COLUMN / DROP / ALTER / ADD COLUMN as a CheckedAlter;
    any other statement as it is."""
    if engine != "duckdb" or not isinstance(tree, exp.Alter) or (tree.args.get("kind") or "").upper() not in {
            "TABLE", "VIEW"} or not isinstance(tree.this, exp.Table):
        return alter
    changes = [_ALTER_CHANGES[type(action)] for action in tree.actions if type(action) in _ALTER_CHANGES]
    if not changes:
        return alter
    return CheckedAlter(alter, (tree.this.db, tree.this.name), changes[0], all(c == "ADD COLUMN" for c in changes))


def checked_schema_drop(tree: exp.Expression, drop: EngineSql | SessionCommand,
                        engine: str) -> EngineSql | SessionCommand:
    """DuckDB's DROP SCHEMA as a CheckedSchemaDrop; any other statement as it is."""
    if engine != "duckdb" or not isinstance(tree, exp.Drop) or not isinstance(drop, EngineSql) \
            or (tree.args.get("kind") or "").upper() != "SCHEMA" or len(tree.args.get("tables") or []) != 1:
        return drop
    named = tree.args["tables"][0].args.get("db")
    if named is None:
        return drop
    return CheckedSchemaDrop(drop, named.name if named.quoted else named.name.lower(), bool(tree.args.get("cascade")))


def _dependents(key: tuple[str, str], views: Mapping[tuple[str, str], set[tuple[str, str]] | None]
                ) -> list[tuple[str, str]]:
    """The views bound to `key`, directly or through other views, the farthest first (the order to drop them)."""
    order: list[tuple[str, str]] = []

    def visit(target: tuple[str, str]) -> None:
        for view, references in views.items():
            if references and target in references and view not in order and view != key:
                visit(view)
                if view not in order:
                    order.append(view)

    visit(key)
    return order


def checked_drop(tree: exp.Drop, drop: EngineSql, engine: str) -> SessionCommand | EngineSql:
    """DROP TABLE / DROP VIEW with Redshift's dependencies (CheckedDrop, PostgresCheckedDrop); any other DROP as
    it is."""
    kind = (tree.args.get("kind") or "").lower()
    if kind not in {"table", "view"} or tree.args.get("materialized"):
        return drop
    tables = tree.args.get("tables") or [tree.this]
    cascade = bool(tree.args.get("cascade"))
    if engine == "postgres":
        return PostgresCheckedDrop(drop, tuple(table.sql("postgres") for table in tables), cascade)
    return CheckedDrop(drop, kind, tuple((table.db, table.name) for table in tables), cascade)


@dataclass(frozen=True)
class PostgresCheckedDrop(SessionCommand):
    """PostgreSQL's DROP TABLE / DROP VIEW, refused where a late-binding view reads the object: PostgreSQL bound
    that view, so it would refuse the drop (RESTRICT) or drop the view with it (CASCADE), where Redshift keeps it."""

    drop: EngineSql
    objects: tuple[str, ...]  # each name as PostgreSQL reads it
    cascade: bool

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        for name in self.objects:
            found = session.execute("SELECT to_regclass(%(name)s)::oid", {"name": name}).rows
            if not found or found[0][0] is None:
                continue
            bound, late = _postgres_dependents(session, int(found[0][0]))
            if late and (self.cascade or not bound):
                raise NotSupportedLocally(
                    f"dropping {name}, which the late-binding view {late[0]} reads, on the PostgreSQL engine"
                    " (PostgreSQL binds every view: it would refuse the drop or drop the view with it)")
            if bound and not self.cascade:
                break  # PostgreSQL's own refusal is Redshift's
        return self.drop.execute(session, parameters)


_POSTGRES_DEPENDENT_VIEWS = (
    "SELECT DISTINCT r.ev_class::oid, r.ev_class::regclass::text,"
    f" pg_get_viewdef(r.ev_class) LIKE '%%{LATE_BINDING}%%'"
    " FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid"
    " WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass"
    " AND d.refobjid = %(oid)s AND r.ev_class <> %(oid)s")


def _postgres_dependents(session: EngineSession, oid: int) -> tuple[list[str], list[str]]:
    """The views bound to the relation, directly or through normal views, and the late-binding views among them."""
    bound: list[str] = []
    late: list[str] = []
    pending, seen = [oid], {oid}
    while pending:
        for view, name, late_binding in session.execute(_POSTGRES_DEPENDENT_VIEWS, {"oid": str(pending.pop())}).rows:
            if view in seen:
                continue
            seen.add(view)
            if late_binding:
                late.append(name)
            else:
                bound.append(name)
                pending.append(view)
    return bound, late
