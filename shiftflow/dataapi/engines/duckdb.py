"""DuckDB as the Data API emulator's warehouse: in memory (tests) or file-backed (a local warehouse that survives).

Each Data API database is its own DuckDB database: in memory, or the file `<directory>/<database>.duckdb`.
Sessions are cursors of that database's root connection (DuckDB's way to use one database from many threads);
each runs the translator's session set-up once, so sessions are pooled rather than opened per statement.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from shiftflow.dataapi.engines.base import (SERVICE_FACTORIES, Column, EngineError, QueryResult, StatementTimedOut,
                                           TransactionConflict)
from shiftflow.dataapi.engines.duckdb_errors import redshift_message
from shiftflow.dataapi.translate.functions.hyperloglog import refuse_printed_sketches
from shiftflow.dataapi.translate.functions.json import minified_json

_ROW_COUNT_TYPES = {"INSERT", "UPDATE", "DELETE", "MERGE_INTO", "COPY"}
# Leading words whose statement kind is certain without parsing: a query, or DML that reports a row count.
_PLAIN_KINDS = {"SELECT": "SELECT", "VALUES": "SELECT", "FROM": "SELECT", "SHOW": "SELECT", "DESCRIBE": "SELECT",
                "EXPLAIN": "SELECT", "INSERT": "INSERT", "UPDATE": "UPDATE", "DELETE": "DELETE"}


def _plain_kind(sql: str) -> str | None:
    """The kind of a single statement known from its first word, or None (then DuckDB parses it to tell)."""
    if ";" in sql:
        return None
    words = sql.split(None, 1)
    return _PLAIN_KINDS.get(words[0].upper()) if words else None

# DuckDB type -> (Redshift type name the Data API reports, precision when the type fixes it).
_TYPE_NAMES: dict[str, tuple[str, int]] = {
    "TINYINT": ("int2", 5), "SMALLINT": ("int2", 5), "INTEGER": ("int4", 10), "BIGINT": ("int8", 19),
    "UTINYINT": ("int2", 5), "USMALLINT": ("int4", 10), "UINTEGER": ("int8", 19), "UBIGINT": ("numeric", 20),
    # sum() of integers is HUGEINT in DuckDB and int8 on Redshift (its usual source): report it as int8.
    "HUGEINT": ("int8", 19), "UHUGEINT": ("numeric", 38),
    "FLOAT": ("float4", 8), "DOUBLE": ("float8", 17), "BOOLEAN": ("bool", 1),
    "VARCHAR": ("varchar", 65535), "DATE": ("date", 13), "TIME": ("time", 15), "TIMESTAMP": ("timestamp", 29),
    "TIMESTAMP WITH TIME ZONE": ("timestamptz", 35), "TIMESTAMP_S": ("timestamp", 29),
    "TIMESTAMP_MS": ("timestamp", 29), "TIMESTAMP_NS": ("timestamp", 29), "BLOB": ("varbyte", 1024000),
    "INTERVAL": ("interval", 49), "UUID": ("varchar", 36), "JSON": ("super", 65535),  # json_parse()
}


def redshift_column(name: str, duck_type: Any) -> Column:
    """A result column described with the Redshift type name (DECIMAL(p,s) -> numeric p,s; unknown -> varchar)."""
    type_text = str(duck_type)
    if type_text.startswith("DECIMAL"):
        precision, scale = (int(part) for part in type_text[len("DECIMAL("):-1].split(","))
        return Column(name, "numeric", precision, scale)
    type_name, precision = _TYPE_NAMES.get(type_text, ("varchar", 65535))
    return Column(name, type_name, precision)


# DuckDB's optimistic concurrency: a write to a row (or catalog entry) that a concurrent transaction changed fails
# the later writer at once. These are the cases Redshift reports as serializable isolation violations.
_CONFLICTS = ("TransactionContext Error: Conflict on ", "TransactionContext Error: Catalog write-write conflict")


def engine_error(error: duckdb.Error, sql: str = "") -> EngineError:
    """The EngineError of a DuckDB error in statement `sql`: a transaction conflict as Redshift reports it, anything
    else in Redshift's words where duckdb_errors knows them."""
    text = str(error)
    if isinstance(error, duckdb.TransactionException) and text.startswith(_CONFLICTS):
        return TransactionConflict.serializable_isolation_violation("duckdb", text)
    return EngineError(redshift_message(text, sql))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class CatalogVersion:
    """Counts the catalog changes of one database (DDL, SET, transaction ends) through any of its sessions: a
    session's catalog_cached() answers are dropped when it moves on."""

    def __init__(self) -> None:
        self.value = 0

    def bump(self) -> None:
        self.value += 1


_DATA_KINDS = {"SELECT", "INSERT", "UPDATE", "DELETE", "EXPLAIN"}  # EXPLAIN plans (decimals.py asks it types)


class DuckDBSession:
    """One DuckDB cursor: used by one statement worker at a time."""

    engine = "duckdb"

    def __init__(self, cursor: duckdb.DuckDBPyConnection, catalog: CatalogVersion | None = None) -> None:
        self._cursor = cursor
        self._user: str | None = None
        self.authorization: str | None = None  # SET SESSION AUTHORIZATION's user (principals/access.py)
        self._catalog = catalog or CatalogVersion()
        self._cache: dict[Any, Any] = {}
        self._cache_version = -1
        self._changed_catalog = False  # since the transaction began: its end changes what other sessions see
        self._timeout_seconds = 0.0  # statement_timeout (0: none)
        self._watch = threading.Lock()  # a timeout's interrupt lands only while the statement still runs
        self._running = self._timed_out = False
        self.notices: list[str] = []  # RAISE INFO / NOTICE / WARNING of stored procedures, as PostgreSQL's session
        # What a transaction's end undoes or keeps of session state DuckDB does not keep transactionally (SET
        # SESSION AUTHORIZATION, principals/access.py): by key, each called once with whether it committed.
        self.at_transaction_end: dict[str, Callable[[bool], None]] = {}
        # What lives as long as the engine for this session's database (streams/topic_tables.py's ingester), and
        # a new session of the database for it (set by DuckDBEngine.session).
        self.services: dict[str, Any] = {}
        self.sibling: Callable[[], DuckDBSession] | None = None

    def catalog_cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        """What `compute` reads from the catalog, kept until the database's catalog changes."""
        if self._cache_version != self._catalog.value:
            self._cache, self._cache_version = {}, self._catalog.value
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def set_statement_timeout(self, milliseconds: int) -> None:
        """Redshift's statement_timeout: a statement running longer is interrupted (0 turns it off)."""
        self._timeout_seconds = milliseconds / 1000

    def set_user(self, user: str) -> None:
        """The request's database user, for current_user (shiftflow_current_user() of the session set-up)."""
        if user != self._user:
            self._run(f"SET VARIABLE shiftflow_user = {_literal(user)}")
            self._user = user

    def execute(self, sql: str, parameters: Mapping[str, str]) -> QueryResult:
        if not self._timeout_seconds:
            return self._execute(sql, parameters)
        timer = threading.Timer(self._timeout_seconds, self._time_out)
        with self._watch:
            self._running, self._timed_out = True, False
        timer.start()
        try:
            return self._execute(sql, parameters)
        except EngineError:
            if self._timed_out:
                raise StatementTimedOut() from None
            raise
        finally:
            timer.cancel()
            with self._watch:
                self._running = False

    def _time_out(self) -> None:
        with self._watch:
            if self._running:
                self._timed_out = True
                self._cursor.interrupt()

    def _execute(self, sql: str, parameters: Mapping[str, str]) -> QueryResult:
        try:
            kind = _plain_kind(sql)
            if kind is not None:  # one plain statement: skip DuckDB's re-parse (about 0.3 ms a statement)
                self._cursor.execute(sql, dict(parameters) or None)
                return self._result(kind == "SELECT", kind)
            result = QueryResult()
            for statement in self._cursor.extract_statements(sql):  # a translation may prepend set-up statements
                used = {name: parameters[name] for name in statement.named_parameters if name in parameters}
                try:
                    self._cursor.execute(statement, used or None)
                finally:
                    if statement.type.name not in _DATA_KINDS:  # after it: the change is visible to others
                        self._catalog.bump()
                        self._changed_catalog = True
                query = statement.expected_result_type == [duckdb.ExpectedResultType.QUERY_RESULT]
                result = self._result(query, statement.type.name)
            return result
        except duckdb.Error as error:
            raise engine_error(error, sql) from None

    def _result(self, query: bool, kind: str) -> QueryResult:
        if query:
            description = self._cursor.description or []
            columns = [redshift_column(name, duck_type) for name, duck_type, *_ in description]
            rows = self._cursor.fetchall()
            supers = [index for index, column in enumerate(columns) if column.type_name == "super"]
            if supers:  # json_parse() values: the JSON text as written, minified as Redshift prints a SUPER
                rows = [tuple(minified_json(v) if i in supers and v is not None else v for i, v in enumerate(row))
                        for row in rows]
            refuse_printed_sketches(columns, rows)  # a local HLLSKETCH's text is not Redshift's
            return QueryResult(columns, rows, len(rows))
        counted = self._cursor.fetchall() if self._cursor.description else []
        if kind in _ROW_COUNT_TYPES and counted:
            return QueryResult(rowcount=int(counted[0][0]))
        return QueryResult(rowcount=0)

    def begin(self) -> None:
        for service in list(self.services.values()):  # e.g. the topics' new records, for a REFRESH in it
            service.before_transaction()
        self._changed_catalog = False
        self._run("BEGIN TRANSACTION")

    def commit(self) -> None:
        self._end("COMMIT")

    def rollback(self) -> None:
        self._end("ROLLBACK")

    def _end(self, action: str) -> None:
        if self._changed_catalog:
            self._catalog.bump()
            self._changed_catalog = False
        ends, self.at_transaction_end = self.at_transaction_end, {}
        committed = False
        try:
            self._run(action)
            committed = action == "COMMIT"
        finally:  # a COMMIT that fails rolled the transaction back
            for end in ends.values():
                end(committed)

    def interrupt(self) -> None:
        self._cursor.interrupt()

    def close(self) -> None:
        self._cursor.close()

    def _run(self, sql: str) -> None:
        try:
            self._cursor.execute(sql)
        except duckdb.Error as error:  # a COMMIT can conflict too
            raise engine_error(error, sql) from None


def _confine(root: duckdb.DuckDBPyConnection) -> None:
    """A warehouse reads and writes no file but its own (and the topic store's, for REFRESH) and installs nothing:
    Redshift SQL has no way to reach the machine's files, and DuckDB's would (read_text('/etc/passwd'), a table
    named "x.csv", COPY ... TO '/path', ATTACH); nothing may download at run time (an INET column once tried to
    install DuckDB's inet extension)."""
    from shiftflow.dataapi.streams.sources import readable_directories  # the stream sources own that folder

    folders = ", ".join(_literal(str(folder) + "/") for folder in readable_directories())
    root.execute("SET autoinstall_known_extensions = false")
    root.execute(f"SET allowed_directories = [{folders}]")
    root.execute("SET enable_external_access = false")  # last: the two above cannot change after it


class DuckDBEngine:
    """DuckDB databases by Data API database name; `directory=None` keeps them in memory."""

    name = "duckdb"

    def __init__(self, directory: str | Path | None = None, setup: tuple[str, ...] | None = None) -> None:
        self._directory = Path(directory) if directory is not None else None
        if self._directory is not None:
            self._directory.mkdir(parents=True, exist_ok=True)
        self._setup = setup
        self._roots: dict[str, duckdb.DuckDBPyConnection] = {}
        self._catalogs: dict[str, CatalogVersion] = {}
        self._services: dict[str, dict[str, Any]] = {}  # DuckDBSession.services, by database
        self._lock = threading.Lock()
        # Session setup creates schema public when missing: two such creates at once conflict in DuckDB's catalog
        # ("write-write conflict"), so sessions set themselves up one at a time.
        self._setup_lock = threading.Lock()

    def database_path(self, database: str) -> str:
        if self._directory is None:
            return ":memory:"
        return str(self._directory / f"{database}.duckdb")

    def databases(self) -> list[str]:
        with self._lock:
            names = set(self._roots)
        if self._directory is not None:
            names.update(path.stem for path in self._directory.glob("*.duckdb"))
        return sorted(names)

    def session(self, database: str) -> DuckDBSession:
        with self._lock:
            root = self._roots.get(database)
            if root is None:
                try:
                    root = duckdb.connect(self.database_path(database))
                except duckdb.Error as error:  # e.g. the file is locked by another process
                    raise EngineError(str(error)) from None
                self._register_functions(root)
                _confine(root)
                self._roots[database] = root
                self._catalogs[database] = CatalogVersion()
            cursor = root.cursor()
            catalog = self._catalogs[database]
        session = DuckDBSession(cursor, catalog)
        session.sibling = lambda: self.session(database)
        session._run(f"SET VARIABLE shiftflow_database = {_literal(database)}")  # current_database()
        with self._setup_lock:
            for statement in self._session_setup():
                session.execute(statement, {})
        session.services = self.services(database)  # after the set-up, which imports the modules that provide them
        return session

    def services(self, database: str) -> dict[str, Any]:
        """What lives as long as the engine for `database` (DuckDBSession.services)."""
        with self._lock:
            found = self._services.get(database)
            if found is None:
                found = self._services[database] = {name: make(lambda: self.session(database))
                                                    for name, make in SERVICE_FACTORIES.items()}
            return found

    @staticmethod
    def _register_functions(root: duckdb.DuckDBPyConnection) -> None:
        """The translator's Python functions (FNV_HASH's and FARMFINGERPRINT64's byte loops), one set per database:
        every cursor of `root` sees them."""
        from shiftflow.dataapi.translate import register_duckdb_functions

        register_duckdb_functions(root)

    def _session_setup(self) -> tuple[str, ...]:
        if self._setup is None:
            from shiftflow.dataapi.translate import session_setup  # the translator owns what its SQL relies on

            self._setup = session_setup(self.name)
        return self._setup

    def close(self) -> None:
        with self._lock:
            services, self._services = [s for by_name in self._services.values() for s in by_name.values()], {}
        for service in services:  # before the databases close: a service may be using one
            service.close()
        with self._lock:
            roots, self._roots = list(self._roots.values()), {}
        for root in roots:
            root.close()
