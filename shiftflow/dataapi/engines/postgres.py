"""The PostgreSQL engine: an existing server by DSN, or a private one started with pgserver.

PostgreSQL is the engine that runs stored procedures (CREATE PROCEDURE ... LANGUAGE plpgsql, CALL, RAISE INFO).
Statements arrive translated (shiftflow.dataapi.translate): psycopg placeholders %(name)s, every literal % doubled,
so parameters are always passed as a mapping (an empty one included) and values are never pasted into the text.

Sessions log in as LOGIN_ROLE, a PostgreSQL role that is no superuser: SQL a stored procedure builds at run time
(EXECUTE '...') reaches PostgreSQL untranslated, and a superuser's session would let it run programs (COPY ... FROM
PROGRAM), read and write the machine's files (pg_read_file, lo_import, COPY ... TO '/file'), load code (CREATE
EXTENSION, untrusted languages) or reconfigure the server (ALTER SYSTEM). The role is what Redshift's admin user
needs and no more: LOGIN CREATEDB CREATEROLE, owner of each database it uses (so of its public schema and of every
object the emulator's set-up and the sessions make there), and a member, with INHERIT and SET, of every user, group
and role it creates (createrole_self_grant): it reads and changes what they own, as Redshift's superuser does, and
SET SESSION AUTHORIZATION becomes one of them (PostgreSQL's SET ROLE, translate/setup.py). The server's superuser
(the DSN's login, pgserver's postgres) only creates the role and the databases, and brings a data directory a
superuser's sessions filled up to date (make_login_role, _adopt_database).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import conninfo, sql
from psycopg.adapt import Loader
from psycopg.types.string import TextLoader

from shiftflow.dataapi.engines.base import Column, EngineError, QueryResult, StatementTimedOut, TransactionConflict
from shiftflow.dataapi.engines.messages import redshift_words
from shiftflow.dataapi.translate.functions.hyperloglog import refuse_printed_sketches
from shiftflow.dataapi.translate.functions.json import minified_json
from shiftflow.dataapi.translate.model import SuperuserSetup
from shiftflow.dataapi.translate.setup import POSTGRES_DATABASE_SETUP, POSTGRES_SESSION_SETUP

log = logging.getLogger(__name__)

# PostgreSQL type OIDs -> the Redshift type names the Data API reports in ColumnMetadata.typeName.
_REDSHIFT_TYPES = {16: "bool", 17: "varbyte", 18: "char", 19: "name", 20: "int8", 21: "int2", 23: "int4",
                   25: "varchar", 26: "oid", 114: "super", 700: "float4", 701: "float8", 705: "varchar",
                   1042: "bpchar", 1043: "varchar", 1082: "date", 1083: "time", 1114: "timestamp",
                   1184: "timestamptz", 1186: "interval", 1266: "timetz", 1700: "numeric", 3802: "super"}
_STRING_OIDS = {18, 25, 705, 1042, 1043}


class _SuperText(Loader):
    """json / jsonb values (json_parse) as the JSON text Redshift prints for a SUPER, not as Python objects."""

    def load(self, data: Any) -> str:
        return minified_json(bytes(data).decode())


def redshift_type(oid: int) -> str:
    return _REDSHIFT_TYPES.get(oid, "varchar")


class PostgresSession:
    """One psycopg connection in autocommit mode; begin/commit/rollback are explicit SQL, as the emulator asks."""

    engine = "postgres"

    def __init__(self, dsn: str) -> None:
        try:
            self._connection = psycopg.connect(dsn, autocommit=True, prepare_threshold=None)
        except psycopg.Error as error:
            raise EngineError(str(error).strip()) from None
        self.notices: list[str] = []  # RAISE INFO / NOTICE messages, in order
        self._user: str | None = None
        self._connection.add_notice_handler(self._on_notice)
        for json_type in ("json", "jsonb"):
            self._connection.adapters.register_loader(json_type, _SuperText)
        # An INTERVAL as PostgreSQL prints it, Redshift's style (`1 day 02:00:00`, `1 mon`): psycopg's timedelta
        # would fold a month into 30 days.
        self._connection.adapters.register_loader("interval", TextLoader)
        for statement in POSTGRES_SESSION_SETUP:
            self._connection.execute(statement)

    def _on_notice(self, diagnostic: psycopg.errors.Diagnostic) -> None:
        message = f"{diagnostic.severity}: {diagnostic.message_primary}"
        self.notices.append(message)
        log.info("postgres %s", message)

    def execute(self, sql_text: str, parameters: Mapping[str, str]) -> QueryResult:
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(sql_text, dict(parameters))  # always a mapping: the text's %% are escapes
                if cursor.description is None:
                    return QueryResult(rowcount=_affected_rows(cursor))
                columns = [_column(d) for d in cursor.description]
                rows = _scaled_numerics(columns, cursor.fetchall())
                refuse_printed_sketches(columns, rows)  # a local HLLSKETCH's text is not Redshift's
                return QueryResult(columns=columns, rows=rows, rowcount=len(rows))
        except psycopg.Error as error:
            raise engine_error(error) from None

    def set_user(self, user: str) -> None:
        """The request's database user, for current_user (public.shiftflow_current_user())."""
        if user != self._user:
            self.execute("SELECT set_config('shiftflow.user', %(user)s, false),"
                         " set_config('shiftflow.login', session_user::text, false)", {"user": user})
            self._user = user

    def begin(self) -> None:
        self.execute("BEGIN", {})

    def commit(self) -> None:
        self.execute("COMMIT", {})

    def rollback(self) -> None:
        self.execute("ROLLBACK", {})

    def interrupt(self) -> None:
        self._connection.cancel_safe()

    def close(self) -> None:
        self._connection.close()


_SERIALIZATION_FAILURE, _DEADLOCK_DETECTED, _QUERY_CANCELED = "40001", "40P01", "57014"


def engine_error(error: psycopg.Error) -> EngineError:
    """The EngineError of a PostgreSQL error: a serialization failure or a deadlock in Redshift's words (the
    transaction was rolled back; a rerun can pass), anything else PostgreSQL's primary message."""
    primary = (error.diag.message_primary if error.diag and error.diag.message_primary else str(error)).strip()
    if error.sqlstate == _QUERY_CANCELED and "statement timeout" in primary:
        return StatementTimedOut()  # PostgreSQL enforces SET statement_timeout itself
    if error.sqlstate == _SERIALIZATION_FAILURE:
        return TransactionConflict.serializable_isolation_violation("postgres", primary)
    if error.sqlstate == _DEADLOCK_DETECTED:
        # One line: the detail names each waiting process on a line of its own.
        detail = error.diag.message_detail if error.diag and error.diag.message_detail else primary
        return TransactionConflict.deadlock("postgres", " ".join(detail.split()))
    if error.sqlstate == _INSUFFICIENT_PRIVILEGE:  # Redshift's words (r_GRANT-examples.md): "for relation test"
        primary = _PRIVILEGE_OBJECT.sub(r"\1 relation ", primary)
    return EngineError(redshift_words(primary), code=error.sqlstate or "")


_INSUFFICIENT_PRIVILEGE = "42501"
_PRIVILEGE_OBJECT = re.compile(r"^(permission denied for|must be owner of) (?:table|view|materialized view|sequence) ")


# Statements whose count the Data API reports as ResultRows; everything else (DDL, CREATE TABLE AS, SET, GRANT,
# CALL ...) reports 0, as the DuckDB engine does (PostgreSQL says -1 for DDL and counts the rows of CREATE TABLE AS).
_COUNTED_COMMANDS = {"INSERT", "UPDATE", "DELETE", "MERGE", "COPY"}


def _affected_rows(cursor: Any) -> int:
    command = (cursor.statusmessage or "").split(" ", 1)[0].upper()
    return cursor.rowcount if command in _COUNTED_COMMANDS and cursor.rowcount >= 0 else 0


def _column(description: Any) -> Column:
    oid = description.type_code
    if oid in _STRING_OIDS:
        precision = description.display_size or 0
    else:
        precision = description.precision or 0
    return Column(name=description.name, type_name=redshift_type(oid), precision=precision,
                  scale=description.scale or 0, nullable=1)


def _scaled_numerics(columns: list[Column], rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """A computed NUMERIC (sum(x), x * y, coalesce(x, 0)) has no declared scale in PostgreSQL, which prints each
    value with its own (0 next to 12.50); Redshift types the column DECIMAL(p, s) and prints every value with s
    decimals. The column's scale is the largest of its values' (the arithmetic gives them all the scale Redshift
    computes statically), and every value is written with it."""
    for index, column in enumerate(columns):
        if column.type_name != "numeric" or column.scale:
            continue
        exponents = [-row[index].as_tuple().exponent for row in rows
                     if isinstance(row[index], Decimal) and row[index].is_finite()]
        scale = max(exponents, default=0)
        if scale <= 0:
            continue
        columns[index] = dataclasses.replace(column, scale=scale)
        quantum = Decimal(1).scaleb(-scale)
        rows = [(*row[:index], row[index].quantize(quantum) if isinstance(row[index], Decimal)
                 and row[index].is_finite() else row[index], *row[index + 1:]) for row in rows]
    return rows


class PostgresEngine:
    """Sessions on one PostgreSQL server. Databases are created on first use and given the helper functions."""

    name = "postgres"

    def __init__(self, dsn: str | None = None, data_dir: str | Path | None = None) -> None:
        """`dsn`: a server's superuser (or a role with LOGIN_ROLE's rights, used as it is); without it, pgserver's."""
        self._server = None
        self._temporary: tempfile.TemporaryDirectory | None = None
        if dsn is None:
            self._server, dsn = self._start_server(data_dir)
        self._superuser_dsn = dsn
        try:
            self._dsn = make_login_role(dsn)
        except psycopg.Error as error:
            self.close()
            raise EngineError(f"could not make PostgreSQL's login role {LOGIN_ROLE}: {str(error).strip()}") from None
        self._has_superuser = self._dsn != dsn  # False: the DSN's role is the login role, and makes its databases
        self._prepared: set[str] = set()
        self._lock = threading.Lock()

    @property
    def superuser_dsn(self) -> str:
        """The server's superuser: the emulator's own set-up, never a session (tests read pg_authid with it)."""
        return self._superuser_dsn

    def _start_server(self, data_dir: str | Path | None) -> tuple[Any, str]:
        try:
            import pgserver
        except ImportError as error:
            raise EngineError(f"PostgreSQL engine without a DSN needs pgserver: {error}") from None
        if data_dir is None:
            stop_abandoned_temporary_servers()
            self._temporary = tempfile.TemporaryDirectory(prefix=_TEMPORARY_PREFIX)
            data_dir = self._temporary.name
        try:
            forget_dead_users(Path(data_dir))
            server = pgserver.get_server(str(data_dir), cleanup_mode="stop")
        except Exception as error:  # noqa: BLE001 - pgserver raises plain exceptions with the server log
            raise EngineError(f"could not start PostgreSQL with pgserver in {data_dir}: {error}") from None
        return server, server.get_uri()

    def _database_dsn(self, database: str) -> str:
        return conninfo.make_conninfo(self._dsn, dbname=database) if database else self._dsn

    def _prepare(self, database: str) -> None:
        """Create the database if it is missing (the login role its owner) and install, as the login role, the
        helper functions translated SQL calls."""
        with self._lock:
            if database in self._prepared:
                return
            if self._has_superuser:  # the superuser's work; a DSN of a role that is no superuser makes its own
                name = database or conninfo.conninfo_to_dict(self._dsn).get("dbname") or "postgres"
                with _superuser_connection(self._superuser_dsn) as admin:
                    owner = admin.execute("SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = %s",
                                          (name,)).fetchone()
                    if owner is None:
                        admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name),
                                                                                  sql.Identifier(LOGIN_ROLE)))
                    elif owner[0] != LOGIN_ROLE:
                        _adopt_database(admin, name, conninfo.make_conninfo(self._superuser_dsn, dbname=name))
            elif database:
                with psycopg.connect(self._dsn, autocommit=True) as connection:
                    exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
                    if not exists:
                        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            with psycopg.connect(self._database_dsn(database), autocommit=True) as connection:
                superuser = None
                try:
                    for statement in POSTGRES_DATABASE_SETUP:
                        if isinstance(statement, SuperuserSetup) and self._has_superuser:
                            if superuser is None:
                                superuser = _superuser_connection(
                                    conninfo.make_conninfo(self._superuser_dsn, dbname=database) if database
                                    else self._superuser_dsn)
                            superuser.execute(statement)
                        else:
                            connection.execute(statement)
                finally:
                    if superuser is not None:
                        superuser.close()
            self._prepared.add(database)

    def session(self, database: str) -> PostgresSession:
        try:
            self._prepare(database)
        except psycopg.Error as error:
            raise EngineError(str(error).strip()) from None
        return PostgresSession(self._database_dsn(database))

    def close(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None


# The role the sessions log in as (see the module docstring).
LOGIN_ROLE = "shiftflow"
_LOGIN_ATTRIBUTES = "LOGIN NOSUPERUSER CREATEDB CREATEROLE INHERIT NOREPLICATION NOBYPASSRLS"


def make_login_role(dsn: str) -> str:
    """The DSN the sessions log in with: LOGIN_ROLE's on the server of `dsn`, a superuser's, which makes the role
    (or gives it its attributes back) and makes it a member of the users, groups and roles a superuser's sessions
    created before it existed; `dsn` itself when its role is no superuser (it is then the login role)."""
    with _superuser_connection(dsn) as admin:
        if admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() != (True,):
            return dsn
        role = sql.Identifier(LOGIN_ROLE)
        # Two processes may start on one data directory: the advisory lock orders their CREATE ROLE.
        with admin.transaction():
            admin.execute("SELECT pg_advisory_xact_lock(hashtext('shiftflow login role'))")
            if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (LOGIN_ROLE,)).fetchone() is None:
                admin.execute(sql.SQL("CREATE ROLE {} " + _LOGIN_ATTRIBUTES).format(role))
            admin.execute(sql.SQL("ALTER ROLE {} " + _LOGIN_ATTRIBUTES).format(role))
            # PostgreSQL 16: CREATE ROLE by a role that is no superuser grants it the new role WITH ADMIN; INHERIT and
            # SET as well (the admin user's rights over what a user owns, SET SESSION AUTHORIZATION).
            admin.execute(sql.SQL("ALTER ROLE {} SET createrole_self_grant = 'set, inherit'").format(role))
            for (name,) in admin.execute(
                    "SELECT r.rolname::text FROM pg_roles r WHERE r.rolname <> %s AND r.rolname !~ '^pg_'"
                    " AND NOT r.rolsuper AND NOT EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.roleid = r.oid"
                    " AND m.member = (SELECT oid FROM pg_roles WHERE rolname = %s))"
                    " AND NOT pg_has_role(r.oid, (SELECT oid FROM pg_roles WHERE rolname = %s), 'MEMBER')",
                    (LOGIN_ROLE, LOGIN_ROLE, LOGIN_ROLE)).fetchall():
                admin.execute(sql.SQL("GRANT {} TO {} WITH ADMIN TRUE, INHERIT TRUE, SET TRUE").format(
                    sql.Identifier(name), role))
    return conninfo.make_conninfo(dsn, user=LOGIN_ROLE, password="")


def _superuser_connection(dsn: str) -> psycopg.Connection:
    """A connection of the server's superuser that resolves names in pg_catalog alone: the login role owns the
    public schema, where a function or operator of its own must not stand in for a built-in one."""
    connection = psycopg.connect(dsn, autocommit=True)
    connection.execute("SET search_path = pg_catalog, pg_temp")
    return connection


def _adopt_database(admin: Any, name: str, database_dsn: str) -> None:
    """A database made before the login role existed (its superuser's sessions owned all in it): the login role
    made its owner, and the owner of the schemas, tables, views, sequences and routines the superuser owned there
    (the emulator's helpers and the users' objects; PostgreSQL's own catalogs stay the superuser's)."""
    admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(LOGIN_ROLE)))
    with _superuser_connection(database_dsn) as connection:
        connection.execute(sql.SQL(_ADOPT_OBJECTS).format(login=sql.Literal(LOGIN_ROLE)))
    log.info("PostgreSQL database %s: objects of the superuser's sessions given to %s", name, LOGIN_ROLE)


_ADOPT_OBJECTS = """DO $adopt$ DECLARE r record; login text := {login};
  superuser oid := (SELECT oid FROM pg_roles WHERE rolname = current_user); BEGIN
  FOR r IN SELECT format('ALTER SCHEMA %I OWNER TO %I', nspname, login) AS ddl FROM pg_namespace
      WHERE nspowner = superuser AND nspname !~ '^pg_' AND nspname <> 'information_schema'
    UNION ALL SELECT format('ALTER TABLE %s OWNER TO %I', c.oid::regclass, login) FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relowner = superuser
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
    UNION ALL SELECT format('ALTER SEQUENCE %s OWNER TO %I', c.oid::regclass, login) FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relowner = superuser AND c.relkind = 'S'
      AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
    UNION ALL SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, login) FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proowner = superuser
      AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  LOOP
    BEGIN EXECUTE r.ddl; EXCEPTION WHEN others THEN RAISE NOTICE '%: %', r.ddl, SQLERRM; END;
  END LOOP;
END $adopt$"""


# pgserver's list of the processes using the server in a data directory: the last one to exit cleanly stops it.
_USERS_FILE = ".handle_pids.json"
_TEMPORARY_PREFIX = "shiftflow-pg-"


def forget_dead_users(data_dir: Path) -> list[int]:
    """Drop the processes that died without leaving pgserver's list (kill -9); returns them.

    A killed process stays on the list for good, so no later process is ever the last user and the server outlives
    them all. Without the dead, the next process reuses the running server and, as its last user, stops it on a clean
    exit. A process counts as alive only if it started before the list last changed (a reused pid does not)."""
    import psutil
    from pgserver.postgres_server import PostgresServer

    users = data_dir.expanduser().resolve() / _USERS_FILE
    with PostgresServer._lock:  # pgserver's own inter-process lock over its lists
        if not users.exists():
            return []
        pids = json.loads(users.read_text() or "[]")
        changed_at = users.stat().st_mtime
        dead = [pid for pid in pids if not _alive_since(psutil, pid, changed_at)]
        if dead:
            users.write_text(json.dumps([pid for pid in pids if pid not in dead]))
    if dead:
        log.info("PostgreSQL in %s: forgot processes %s that ended without stopping it", data_dir, dead)
    return dead


def _alive_since(psutil: Any, pid: int, changed_at: float) -> bool:
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and process.create_time() <= changed_at + 1
    except psutil.Error:  # NoSuchProcess, AccessDenied on a pid now someone else's
        return False


def stop_abandoned_temporary_servers() -> list[Path]:
    """Stop the servers in temporary data directories whose every user is dead (a killed test run, a killed
    in-memory engine) and delete those directories; returns them. Nobody else can ever use such a server: its
    directory's name was private to the process that made it."""
    import psutil
    from pgserver.postgres_server import PostgresServer

    abandoned = []
    for data_dir in sorted(Path(tempfile.gettempdir()).glob(_TEMPORARY_PREFIX + "*")):
        users = data_dir / _USERS_FILE
        with PostgresServer._lock:  # a directory whose server is starting has no users file until it is up
            if not users.exists() or any(_alive_since(psutil, pid, users.stat().st_mtime)
                                         for pid in json.loads(users.read_text() or "[]")):
                continue
            _stop_postmaster(psutil, data_dir)
            shutil.rmtree(data_dir, ignore_errors=True)
        abandoned.append(data_dir)
    if abandoned:
        log.info("stopped the PostgreSQL servers of killed processes in %s", [str(d) for d in abandoned])
    return abandoned


def _stop_postmaster(psutil: Any, data_dir: Path) -> None:
    """Fast shutdown (SIGINT) of the postmaster that serves `data_dir`, if one does."""
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return
    try:
        process = psutil.Process(int(pid_file.read_text().split()[0]))
        if str(data_dir.resolve()) not in process.cmdline():  # the pid is someone else's now
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except psutil.TimeoutExpired:
            process.kill()
    except (psutil.Error, ValueError, IndexError):  # gone already, or a pid file cut short by the kill
        return
