"""Redshift's system tables and views (stl_*, stv_*, svl_*, svv_*, sys_*, Redshift-only pg_* tables) and the
pg_last_* functions.

The ones ELT scripts read to check themselves answer from what the emulator knows:
- stl_load_errors: the loads that failed on bad input (the emulator's COPY stops at the first bad record);
- sys_query_history: the statements the emulator ran or runs (its 24-hour history);
- svv_table_info: the session's catalog, with the row count of each non-empty table (the view "doesn't return any
  information for empty tables"), its encoded, diststyle, sortkey1 and sortkey_num from the tables' declarations
  (declarations.py; Redshift's own AUTO choices refused when read);
- information_schema.table_constraints: the PRIMARY KEY, UNIQUE and FOREIGN KEY declarations kept;
- pg_table_def: the columns of the relations the search path shows (table_def.py), their encoding, distkey and
  sortkey from the tables' declarations (declarations.py); Redshift also lists its pg_catalog tables there, so a
  query must keep to user tables or schemas (a WHERE / ON filter on tablename or schemaname), and a value it
  cannot tell is refused when read;
- pg_user, pg_user_info (DuckDB): the superuser rdsdb and the admin user, the session's (its DbUser, usesysid 100 as
  current_user_id); PostgreSQL's would be the server's roles (refused there);
- pg_last_query_id(), pg_last_copy_id(), pg_last_copy_count(), pg_last_unload_id(), pg_last_unload_count(): the
  current Data API session's (a call, or a SessionId's calls);
- pg_backend_pid(): the session's process id as the Data API reports it (RedshiftPid, sys_query_history's
  session_id), on both engines (PostgreSQL's own is its server process, which nothing else reports).
Each emulated table is a subquery over a JSON array bound as a parameter (`shiftflow_system_<name>`), so the
translation stays a pure function of the text: the service binds the emulator's log (system_parameters), and a
query over svv_table_info, pg_table_def or pg_user is a SystemQuery that reads the catalog first. An emulated table
has only the columns the emulator can know; naming another one (or selecting *, unless it has them all) fails with
"not supported locally: <table>.<column>".
Character columns are VARCHAR, not Redshift's blank-padded CHAR(n) (trim() gives the same text either way).
Every other system table fails with "not supported locally: system table <name>".
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import sqlglot
from sqlglot import exp
from sqlglot.tokens import Token

from shiftflow.dataapi.engines.base import EngineSession, QueryResult
import shiftflow.dataapi.translate.declarations as declarations
from shiftflow.dataapi.translate.table_columns import REFUSED
from shiftflow.dataapi.translate.table_def import table_def_rows
from shiftflow.dataapi.translate.model import EngineSql, LoadFailure, NotSupportedLocally, SessionCommand

PARAMETER_PREFIX = "shiftflow_system_"

# Redshift's system tables and views by the SQL reference's pages (r_STL_*.md, SYS_*.md ...), and the prefixes
# no user table can share in practice; sys_ is also a common prefix of user tables, so only the listed ones count.
_SYSTEM_PREFIXES = ("stl_", "stv_", "svl_", "svv_", "svcs_", "stcs_")
_LISTED = frozenset("""
    sys_connection_log sys_copy_job sys_datashare_change_log sys_datashare_usage_consumer sys_datashare_usage_producer
    sys_external_query_detail sys_load_detail sys_load_error_detail sys_load_history sys_query_detail
    sys_query_history sys_query_text sys_serverless_usage sys_stream_scan_errors sys_stream_scan_states
    sys_unload_detail sys_unload_history sys_mv_refresh_history sys_mv_state sys_vacuum_history
    sys_analyze_history sys_spectrum_scan_error sys_session_history sys_transaction_history sys_user_history
    sys_procedure_call sys_procedure_messages sys_integration_activity sys_integration_table_state
    pg_table_def pg_user_info pg_attribute_info pg_class_info pg_database_info pg_external_schema pg_library
    pg_proc_info pg_statistic_indicator
    pg_user pg_group pg_shadow pg_default_acl pg_statistic
    pg_stat_activity pg_locks pg_settings
""".split())  # the pg_ catalogs of users, groups, default privileges and statistics: Redshift's, not the engine's;
# its sessions and locks (PostgreSQL 8.0's columns: procpid, current_query, pg_locks.transaction), and its settings
# (max_connections ...), not the engine's


@dataclass(frozen=True)
class SystemTable:
    """An emulated system table: its columns (Redshift's names, the emulator's generic types) and where its rows
    come from ("emulator": the service's log, "catalog": the session's own catalog)."""

    name: str
    columns: tuple[tuple[str, str], ...]
    source: str
    # Redshift's columns the emulator cannot answer, and why (naming one fails with the reason).
    unknown: tuple[str, ...] = ()
    unknown_reason: str = ""
    # Columns whose value may be a refusal ("not supported locally: ..."), raised only when a query reads it.
    refusable: tuple[str, ...] = ()
    # Redshift lists its own pg_catalog relations in it too: a query must name the user tables or schemas it reads.
    lists_catalog: bool = False
    # Every column Redshift's table has is emulated: SELECT * answers.
    complete: bool = False
    # The engines it is emulated on, and why not on the others.
    engines: tuple[str, ...] = ("duckdb", "postgres")
    elsewhere: str = ""
    schema: str = "pg_catalog"  # where it lives (a name without a schema finds it there too)

    @property
    def column_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.columns)


_SERVER_ROLES = "its roles are the server's, not Redshift's users"
EMULATED = {table.name: table for table in (
    SystemTable("stl_load_errors", (
        ("query", "bigint"), ("starttime", "timestamp"), ("session", "bigint"), ("filename", "text"),
        ("line_number", "bigint"), ("colname", "text"), ("type", "text"), ("raw_line", "text"),
        ("raw_field_value", "text"), ("err_reason", "text")), "emulator"),
    SystemTable("sys_query_history", (
        ("query_id", "bigint"), ("session_id", "bigint"), ("database_name", "text"), ("query_type", "text"),
        ("status", "text"), ("result_cache_hit", "boolean"), ("start_time", "timestamp"), ("end_time", "timestamp"),
        ("elapsed_time", "bigint"), ("error_message", "text"), ("returned_rows", "bigint"),
        ("query_text", "text")), "emulator"),
    SystemTable("svv_table_info", (
        ("database", "text"), ("schema", "text"), ("table_id", "bigint"), ("table", "text"), ("encoded", "text"),
        ("diststyle", "text"), ("sortkey1", "text"), ("sortkey_num", "integer"),
        ("tbl_rows", "bigint"), ("estimated_visible_rows", "bigint")), "catalog",
        refusable=("encoded", "diststyle", "sortkey1", "sortkey_num")),
    # information_schema.table_constraints: the PRIMARY KEY, UNIQUE and FOREIGN KEY declarations Redshift keeps
    # (declarations.py); Redshift lists no NOT NULL or CHECK rows (r_ALTER_TABLE_examples_basic.md).
    SystemTable("table_constraints", (
        ("constraint_catalog", "text"), ("constraint_schema", "text"), ("constraint_name", "text"),
        ("table_catalog", "text"), ("table_schema", "text"), ("table_name", "text"), ("constraint_type", "text"),
        ("is_deferrable", "text"), ("initially_deferred", "text")), "catalog",
        refusable=("constraint_schema", "constraint_name", "table_schema"), complete=True,
        schema="information_schema"),
    SystemTable("pg_table_def", (
        ("schemaname", "text"), ("tablename", "text"), ("column", "text"), ("type", "text"), ("encoding", "text"),
        ("distkey", "boolean"), ("sortkey", "integer"), ("notnull", "boolean")),
        "catalog", refusable=("schemaname", "type", "encoding", "distkey", "sortkey"), lists_catalog=True,
        complete=True),
    # r_Users.md, r_CREATE_USER.md: the superuser rdsdb (1) and the admin user (100), the session's on DuckDB.
    SystemTable("pg_user", (
        ("usename", "text"), ("usesysid", "integer"), ("usecreatedb", "boolean"), ("usesuper", "boolean"),
        ("usecatupd", "boolean"), ("passwd", "text"), ("valuntil", "timestamp"), ("useconfig", "text")), "catalog",
        refusable=("valuntil",), complete=True, engines=("duckdb",), elsewhere=_SERVER_ROLES),
    SystemTable("pg_user_info", (
        ("usename", "text"), ("usesysid", "integer"), ("usecreatedb", "boolean"), ("usesuper", "boolean"),
        ("usecatupd", "boolean"), ("passwd", "text"), ("useconfig", "text"), ("useconnlimit", "text")), "catalog",
        engines=("duckdb",), elsewhere=_SERVER_ROLES),
)}

# pg_last_* functions: a BIGINT read from the session's facts (SessionFacts attribute of the same meaning).
_LAST_FUNCTIONS = {"pg_last_query_id": "last_query_id", "pg_last_copy_id": "last_copy_id",
                   "pg_last_copy_count": "last_copy_count", "pg_last_unload_id": "last_unload_id",
                   "pg_last_unload_count": "last_unload_count"}
LAST_FUNCTIONS = frozenset(_LAST_FUNCTIONS)
_BACKEND_PID = "pg_backend_pid"  # an INTEGER: the session's RedshiftPid
_DUCKDB_TYPES = {"bigint": "BIGINT", "integer": "INTEGER", "text": "VARCHAR", "timestamp": "TIMESTAMP",
                 "boolean": "BOOLEAN"}
_POSTGRES_TYPES = {"bigint": "bigint", "integer": "integer", "text": "text", "timestamp": "timestamp",
                   "boolean": "boolean"}


# ---- translation ---------------------------------------------------------------------------------------------

def is_system_table(name: str) -> bool:
    return (name in EMULATED and EMULATED[name].schema == "pg_catalog") or name in _LISTED \
        or name.startswith(_SYSTEM_PREFIXES)


def refused_system_table(name: str) -> bool:
    """A system table the emulator refuses when read (one it does not emulate)."""
    return is_system_table(name) and name not in EMULATED


def mentions_system_objects(tokens: Iterable[Token]) -> bool:
    """Whether any word of the statement names a system table or a pg_last_* function: most statements do not,
    and skip the tree pass."""
    for token in tokens:
        name = token.text.lower()
        if name in _LAST_FUNCTIONS or name == _BACKEND_PID or is_system_table(name) or name in EMULATED:
            return True
    return False


def rewrite_system_tables(tree: exp.Expression, engine: str) -> set[str]:
    """Replace emulated system tables and pg_last_* calls in `tree` (identifiers already folded); refuse the
    other system tables. Returns the emulated tables the statement reads."""
    cte_names = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    used: set[str] = set()
    for table in list(tree.find_all(exp.Table)):
        name, schema = table.name, table.db
        if not isinstance(table.this, exp.Identifier) or name in cte_names:
            continue
        if schema == "information_schema" and name in EMULATED and EMULATED[name].schema == schema:
            pass
        elif schema not in ("", "pg_catalog") or not is_system_table(name) or (
                name in EMULATED and EMULATED[name].schema != "pg_catalog"):
            continue
        if name not in EMULATED:
            raise NotSupportedLocally(f"system table {name}")
        if isinstance(table.parent, (exp.Insert, exp.Create, exp.Drop, exp.Delete, exp.Update, exp.Alter)):
            raise NotSupportedLocally(f"writing to system table {name}")
        if engine not in EMULATED[name].engines:
            raise NotSupportedLocally(f"system table {name} on the {engine} engine ({EMULATED[name].elsewhere})")
        _check_columns(table, EMULATED[name])
        alias = table.alias_or_name
        table.replace(exp.Subquery(this=_rows_query(EMULATED[name], engine), alias=exp.TableAlias(
            this=exp.to_identifier(alias))))
        used.add(name)
    for call in list(tree.find_all(exp.Anonymous)):
        name = call.name.lower()
        if (name in _LAST_FUNCTIONS or name == _BACKEND_PID) and not call.expressions:
            type_ = exp.DataType.Type.INT if name == _BACKEND_PID else exp.DataType.Type.BIGINT
            value = exp.cast(exp.Placeholder(this=PARAMETER_PREFIX + name), type_)
            if isinstance(call.parent, exp.Select):  # an unaliased projection keeps the function's name
                value = exp.alias_(value, name, quoted=True)
            call.replace(value)
    return used


def _check_columns(table: exp.Table, system: SystemTable) -> None:
    """Only the columns the emulator knows: any other (or *) would be a different answer from Redshift's."""
    select = table.find_ancestor(exp.Select)
    if select is None:
        return
    alias = table.alias_or_name
    sources = [t for t in select.find_all(exp.Table) if t.find_ancestor(exp.Select) is select]
    alone = len(sources) == 1 and not select.args.get("joins")  # a joined subquery is a source too
    for column in select.find_all(exp.Column):
        if column.find_ancestor(exp.Select) is not select:
            continue
        if column.table == alias or (not column.table and alone):
            if isinstance(column.this, exp.Star) and not system.complete:
                _refuse_star(system)
            if column.name not in system.column_names and not _is_projection_alias(select, column.name):
                why = f"{system.unknown_reason}; " if column.name in system.unknown else ""
                raise NotSupportedLocally(f"{system.name}.{column.name} ({why}the emulator has "
                                          f"{', '.join(sorted(system.column_names))})")
    if alone and not system.complete and any(isinstance(projection, exp.Star) for projection in select.expressions):
        _refuse_star(system)
    if system.lists_catalog and not _names_user_relations(select, alias, alone):
        raise NotSupportedLocally(f"{system.name} without a filter on a user table or schema (Redshift lists its"
                                  " pg_catalog tables in it too: filter on tablename or schemaname)")


_SAME_ROWS = (exp.Trim, exp.Lower, exp.Upper)  # a filter on trim(tablename) keeps the same relations
_SAME_ROWS_CALLS = frozenset({"rtrim", "btrim", "shiftflow_rtrim"})  # rewrite.py's blank-insensitive comparison


def _bare(node: exp.Expression) -> exp.Expression:
    while isinstance(node, _SAME_ROWS) or (isinstance(node, exp.Anonymous) and node.name.lower() in _SAME_ROWS_CALLS
                                           and node.expressions):
        node = node.this if isinstance(node, _SAME_ROWS) else node.expressions[0]
    return node


_CATALOG_SCHEMAS = frozenset({"pg_catalog", "information_schema"})


def _names_user_relations(select: exp.Select, alias: str, alone: bool) -> bool:
    """Whether a WHERE or ON conjunct keeps the rows to user relations: tablename = / IN literal names (no system
    table's), or schemaname = / IN literal schemas (no catalog's) or current_schema()."""
    conditions = [select.args.get("where")] + [join.args.get("on") for join in select.args.get("joins") or []]
    for condition in filter(None, conditions):
        condition = condition.this if isinstance(condition, exp.Where) else condition
        for conjunct in condition.flatten() if isinstance(condition, exp.And) else [condition]:
            if _keeps_user_relations(conjunct, alias, alone):
                return True
    return False


def _keeps_user_relations(node: exp.Expression, alias: str, alone: bool) -> bool:
    if isinstance(node, exp.Paren):
        return _keeps_user_relations(node.this, alias, alone)
    if isinstance(node, exp.EQ):
        left, right = _bare(node.this), _bare(node.expression)
        column, values = (left, [right]) if isinstance(left, exp.Column) else (right, [left])
    elif isinstance(node, exp.In) and not node.args.get("query"):
        column, values = _bare(node.this), [_bare(value) for value in node.expressions]
    else:
        return False
    if not isinstance(column, exp.Column) or not (column.table == alias or (not column.table and alone)):
        return False
    if column.name == "tablename":
        return all(isinstance(v, exp.Literal) and v.is_string and not is_system_table(v.this.lower()) for v in values)
    if column.name == "schemaname":
        return all((isinstance(v, exp.Literal) and v.is_string and v.this.lower() not in _CATALOG_SCHEMAS)
                   or isinstance(v, exp.CurrentSchema) for v in values)
    return False


def _is_projection_alias(select: exp.Select, name: str) -> bool:
    return any(isinstance(p, exp.Alias) and p.alias == name for p in select.expressions)


def _refuse_star(system: SystemTable) -> None:
    raise NotSupportedLocally(f"SELECT * from {system.name} (name its columns: the emulator has "
                              f"{', '.join(name for name, _ in system.columns)})")


def _rows_query(system: SystemTable, engine: str) -> exp.Expression:
    """The table as a query over the JSON array bound to shiftflow_system_<name>."""
    marker = "\x01rows\x01"
    if engine == "duckdb":
        shape = json.dumps([{name: "VARCHAR" if name in system.refusable else _DUCKDB_TYPES[kind]
                             for name, kind in system.columns}])
        projections = ", ".join(_refused_when_read(f'"{name}"', name, engine, _DUCKDB_TYPES[kind])
                                if name in system.refusable else f'"{name}"' for name, kind in system.columns)
        text = (f"SELECT {projections} FROM (SELECT UNNEST(FROM_JSON(CAST('{marker}' AS JSON), '{shape}'),"
                " recursive := TRUE))")
    else:
        projections = ", ".join(_refused_when_read(f"(r ->> '{name}')", name, engine, _POSTGRES_TYPES[kind])
                                if name in system.refusable else
                                f"CAST(r ->> '{name}' AS {_POSTGRES_TYPES[kind]}) AS \"{name}\""
                                for name, kind in system.columns)
        text = f"SELECT {projections} FROM json_array_elements(CAST('{marker}' AS JSON)) AS r"
    query = sqlglot.parse_one(text, read=engine)
    for literal in query.find_all(exp.Literal):
        if literal.this == marker:
            literal.replace(exp.Placeholder(this=PARAMETER_PREFIX + system.name))
    return query


def _refused_when_read(value: str, name: str, engine: str, kind: str) -> str:
    """A column whose value (text in the JSON) may be a refusal (table_def.REFUSED): raised when a row's value is
    computed, so a query that filters that row out, or does not read the column, is answered."""
    raise_ = "error" if engine == "duckdb" else "shiftflow_refused"
    return (f"CASE WHEN starts_with({value}, '{REFUSED}') THEN CAST({raise_}({value}) AS {kind}) ELSE"
            f' CAST({value} AS {kind}) END AS "{name}"')


POSTGRES_SETUP = (
    # IMMUTABLE (its argument is never a constant): PostgreSQL then still flattens the system table's subquery and
    # pushes filters into it, so a refused value is raised only for the rows and columns the query reads.
    "CREATE OR REPLACE FUNCTION public.shiftflow_refused(message text) RETURNS text LANGUAGE plpgsql IMMUTABLE"
    " AS $f$ BEGIN RAISE EXCEPTION '%', message USING ERRCODE = '0A000'; END $f$",
)


# ---- what the emulator knows ---------------------------------------------------------------------------------

@dataclass
class SessionFacts:
    """What pg_last_* report for one Data API session (a call, or the calls of one SessionId)."""

    last_query_id: int = -1
    last_copy_id: int = -1
    last_copy_count: int = 0
    last_unload_id: int = -1
    last_unload_count: int = 0


@dataclass(frozen=True)
class LoadError:
    """One row of stl_load_errors: where a COPY stopped and why."""

    query: int
    starttime: datetime
    session: int
    filename: str
    line_number: int
    colname: str
    type: str
    raw_line: str
    raw_field_value: str
    err_reason: str


@dataclass(frozen=True)
class QueryRecord:
    """One row of sys_query_history, as the service describes a sub-statement."""

    query_id: int
    session_id: int
    database_name: str
    status: str  # the Data API's status: SUBMITTED, PICKED, STARTED, FINISHED, FAILED, ABORTED
    start_time: datetime
    end_time: datetime | None
    elapsed_time: int  # microseconds
    error_message: str
    returned_rows: int
    query_text: str


_HISTORY_STATUS = {"SUBMITTED": "queued", "PICKED": "queued", "STARTED": "running", "FINISHED": "success",
                   "FAILED": "failed", "ABORTED": "canceled"}
_QUERY_TYPES = {"SELECT": "SELECT", "WITH": "SELECT", "INSERT": "INSERT", "UPDATE": "UPDATE", "DELETE": "DELETE",
                "MERGE": "MERGE", "COPY": "COPY", "UNLOAD": "UNLOAD", "CREATE": "DDL", "ALTER": "DDL", "DROP": "DDL",
                "TRUNCATE": "DDL", "CALL": "CALL"}


class LoadErrorKeeper(Protocol):
    """Where load errors are kept beyond the process (shiftflow.dataapi.store_files)."""

    def added(self, error: LoadError) -> None: ...

    def kept(self, errors: list[LoadError]) -> None: ...


@dataclass
class SystemLog:
    """The emulator's side of the system tables: the load errors it saw and its statements (read on demand).
    `keeper`: told of every change of the load errors, under the log's lock, before the change is visible."""

    history: Callable[[], Iterable[QueryRecord]] = lambda: ()
    load_errors: list[LoadError] = field(default_factory=list)
    keeper: LoadErrorKeeper | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_load_error(self, error: LoadError) -> None:
        with self._lock:
            if self.keeper is not None:
                self.keeper.added(error)
            self.load_errors = [*self.load_errors, error]

    def restore(self, errors: list[LoadError], keeper: LoadErrorKeeper) -> None:
        """The load errors an earlier process kept, and where to keep them from now on."""
        with self._lock:
            self.load_errors, self.keeper = sorted(errors, key=lambda e: e.starttime), keeper

    def forget_before(self, horizon: datetime) -> None:
        """STL tables keep a few days of log; the emulator keeps what its statements keep (24 hours)."""
        with self._lock:
            kept = [e for e in self.load_errors if e.starttime >= horizon]
            if len(kept) == len(self.load_errors):
                return
            if self.keeper is not None:
                self.keeper.kept(kept)
            self.load_errors = kept


@dataclass
class SystemContext:
    """What one run of a Data API statement tells the system tables, and what they tell it: the service makes one
    per statement (with its session's facts) and calls parameters(), completed() and s3_command()."""

    facts: SessionFacts
    log: SystemLog
    session_id: int

    def parameters(self, names: Iterable[str]) -> dict[str, str]:
        """Values for the shiftflow_system_* placeholders among `names`, bound with the request's Parameters."""
        return system_parameters(names, self.facts, self.log, self.session_id)

    def completed(self, query_id: int) -> None:
        self.facts.last_query_id = query_id

    def s3_command(self, kind: str, query_id: int, run: Callable[[], QueryResult]) -> QueryResult:
        """Run a COPY or UNLOAD, keeping pg_last_copy_* / pg_last_unload_* and stl_load_errors up to date."""
        try:
            result = run()
        except LoadFailure as failure:  # bad input: "the COPY ID is updated, so you can ... query STL_LOAD_ERRORS"
            self.facts.last_copy_id, self.facts.last_copy_count = query_id, 0
            self.log.record_load_error(LoadError(
                query=query_id, starttime=datetime.now(timezone.utc), session=self.session_id,
                filename=failure.filename, line_number=failure.line_number, colname=failure.colname,
                type=failure.column_type, raw_line=failure.raw_line, raw_field_value=failure.raw_field_value,
                err_reason=failure.reason))
            raise
        if kind == "copy":
            self.facts.last_copy_id, self.facts.last_copy_count = query_id, max(result.rowcount, 0)
        else:
            self.facts.last_unload_id, self.facts.last_unload_count = query_id, max(result.rowcount, 0)
        return result


def system_parameters(names: Iterable[str], facts: SessionFacts, log: SystemLog, session_id: int) -> dict[str, str]:
    """The values of the shiftflow_system_* parameters among `names` (the service binds them with the user's)."""
    values: dict[str, str] = {}
    for name in names:
        if not name.startswith(PARAMETER_PREFIX):
            continue
        what = name[len(PARAMETER_PREFIX):]
        if what in _LAST_FUNCTIONS:
            values[name] = str(getattr(facts, _LAST_FUNCTIONS[what]))
        elif what == _BACKEND_PID:
            values[name] = str(session_id)
        elif what == "stl_load_errors":
            values[name] = _json([vars(error) for error in log.load_errors])
        elif what == "sys_query_history":
            values[name] = _json([_history_row(record) for record in log.history()])
    return values


def _history_row(record: QueryRecord) -> dict[str, Any]:
    words = record.query_text.split(None, 1)
    query_type = _QUERY_TYPES.get(words[0].upper() if words else "", "UTILITY")
    return {"query_id": record.query_id, "session_id": record.session_id, "database_name": record.database_name,
            "query_type": query_type, "status": _HISTORY_STATUS.get(record.status, "running"),
            "result_cache_hit": False, "start_time": record.start_time, "end_time": record.end_time,
            "elapsed_time": record.elapsed_time, "error_message": record.error_message or None,
            "returned_rows": record.returned_rows, "query_text": record.query_text[:4000]}


def _json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, default=_json_value)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")  # Redshift's system times are UTC, without a zone
    raise TypeError(f"cannot serialise {type(value).__name__}")


# ---- catalog-sourced tables ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SystemQuery(SessionCommand):
    """A query over a catalog-sourced system table (svv_table_info): the catalog is read, then the query runs."""

    sql: EngineSql
    catalog_tables: tuple[str, ...]

    @property
    def parameter_names(self) -> tuple[str, ...]:
        own = {PARAMETER_PREFIX + name for name in self.catalog_tables}
        return tuple(name for name in self.sql.parameter_names if name not in own)

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        values = dict(parameters)
        for name in self.catalog_tables:
            values[PARAMETER_PREFIX + name] = _json(_CATALOG_ROWS[name](session))
        return session.execute(self.sql.text, {n: values[n] for n in self.sql.parameter_names})


# The emulator keeps its own state in schemas shiftflow_* of the warehouse (streams, stored procedures): not users'.
_USER_TABLES = {
    "duckdb": "SELECT database_name, schema_name, table_oid, table_name FROM duckdb_tables() WHERE NOT temporary"
              " AND NOT internal AND database_name = current_database() AND NOT starts_with(schema_name, 'shiftflow_')"
              " ORDER BY schema_name, table_name",
    "postgres": "SELECT current_database()::text, n.nspname::text, c.oid::bigint, c.relname::text FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')"
                " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'"
                " AND n.nspname NOT LIKE 'shiftflow%%'"
                " AND n.nspname NOT LIKE 'pg_temp%%' ORDER BY 2, 4",
}


def _table_info(session: EngineSession) -> list[dict[str, Any]]:
    rows = []
    kept = declarations.everything(session)[0]
    for database, schema, table_id, table in session.execute(_USER_TABLES[session.engine], {}).rows:
        quoted = f'"{schema.replace(chr(34), chr(34) * 2)}"."{table.replace(chr(34), chr(34) * 2)}"'
        count = session.execute(f"SELECT count(*) FROM {quoted}", {}).rows[0][0]
        if count:
            rows.append({"database": database, "schema": schema, "table_id": table_id, "table": table,
                         **_layout_info(session, schema, table, kept.get((schema, table))),
                         "tbl_rows": count, "estimated_visible_rows": count})
    return rows


def _layout_info(session: EngineSession, schema: str, table: str,
                 declared: declarations.Declared | None) -> dict[str, str]:
    """svv_table_info's encoded, diststyle, sortkey1, sortkey_num; Redshift's own choices (DISTSTYLE AUTO shown as
    AUTO(ALL) / AUTO(EVEN) / AUTO(KEY(c)), SORTKEY AUTO, ENCODE AUTO) are refused."""
    if declared is None:
        return {name: REFUSED + f"svv_table_info.{name} of a table the emulator did not see created (made inside a"
                " stored procedure, or before the emulator kept its declarations)"
                for name in ("encoded", "diststyle", "sortkey1", "sortkey_num")}
    distribution = declared.unknown.get("distribution")
    if distribution or declared.diststyle == "AUTO":
        diststyle = REFUSED + ("svv_table_info.diststyle of " + distribution if distribution else
                               "svv_table_info.diststyle of a DISTSTYLE AUTO table (Redshift's choice, AUTO(ALL),"
                               " AUTO(EVEN) or AUTO(KEY(column)), changes with its data)")
    else:
        diststyle = f"KEY({declared.distkey})" if declared.diststyle == "KEY" else declared.diststyle
    if declared.unknown.get("sortkey") or declared.sortstyle in ("AUTO", "INTERLEAVED"):
        sortkey1, sortkey_num = (REFUSED + f"svv_table_info.{name} of a table with SORTKEY AUTO or an interleaved"
                                 " sort key (not documented)" for name in ("sortkey1", "sortkey_num"))
    else:
        sortkey1, sortkey_num = (declared.sortkey[0] if declared.sortkey else None), str(len(declared.sortkey))
    if declared.encode_auto or declared.unknown.get("encoding"):
        encoded = REFUSED + "svv_table_info.encoded of an ENCODE AUTO table (not documented)"
    else:
        where = declarations.Located(schema, table, False)
        values = [declared.encoding(name, kind) for name, _, _, kind in declarations.columns(session, where)]
        refused = next((value for value in values if value.startswith(REFUSED)), None)
        encoded = refused or ("Y" if any(value != "none" for value in values) else "N")
    return {"encoded": encoded, "diststyle": diststyle, "sortkey1": sortkey1, "sortkey_num": sortkey_num}


_CONSTRAINT_TYPES = {"p": "PRIMARY KEY", "u": "UNIQUE", "f": "FOREIGN KEY"}


def _table_constraints(session: EngineSession) -> list[dict[str, Any]]:
    """information_schema.table_constraints: every kept constraint of a table that still exists."""
    database = session.execute("SELECT current_database()", {}).rows[0][0]
    permanent, temporary = declarations.everything(session)
    tables = [((schema, table), declared) for (schema, table), declared in permanent.items()] + \
        [(("", table), declared) for table, declared in temporary.items()]
    rows = []
    for (schema, table), declared in tables:
        where = declarations.locate(session, schema, table)
        if where is None or where.temporary != (schema == ""):
            continue
        shown_schema = where.schema if not (where.temporary and session.engine == "duckdb") else (
            REFUSED + "table_constraints' schema of a temporary table on the DuckDB engine (Redshift's pg_temp_<n>)")
        for constraint in declared.constraints:
            name = constraint.name or (REFUSED + f"information_schema.table_constraints.constraint_name of an unnamed {_CONSTRAINT_TYPES[constraint.kind]} of"
                                       f" {table} (Redshift's default names for them are not documented)")
            rows.append({"constraint_catalog": database, "constraint_schema": shown_schema, "constraint_name": name,
                         "table_catalog": database, "table_schema": shown_schema, "table_name": table,
                         "constraint_type": _CONSTRAINT_TYPES[constraint.kind], "is_deferrable": "NO",
                         "initially_deferred": "NO"})
    return rows


# The users a DuckDB session knows: Redshift's superuser, the admin user, the session's (current_user_id's 100), and
# those CREATE USER made (shiftflow/dataapi/principals/). pg_user and pg_user_info show them as r_Users.md and
# r_CREATE_USER.md do.
_RDSDB = {"usename": "rdsdb", "usesysid": 1, "usecreatedb": True, "usesuper": True, "usecatupd": True,
          "passwd": "********", "valuntil": None, "useconfig": None}
_ADMIN = {"usesysid": 100, "usecreatedb": True, "usesuper": True, "usecatupd": False, "passwd": "********",
          "valuntil": None, "useconfig": None}


def _users(session: EngineSession) -> list[dict[str, Any]]:
    return [{key: value for key, value in user.items() if key != "useconnlimit"} for user in _user_info(session)]


def _user_info(session: EngineSession) -> list[dict[str, Any]]:
    from shiftflow.dataapi.principals.catalog import users

    user = session.execute("SELECT shiftflow_current_user()", {}).rows[0][0]
    created = [{"usename": name, "usesysid": sysid, "usecreatedb": createdb, "usesuper": superuser,
                "usecatupd": False, "passwd": "********", "valuntil": _valid_until(until), "useconfig": None,
                "useconnlimit": limit}
               for name, sysid, superuser, createdb, limit, until in users(session)]
    # valuntil left out of pg_user_info: rdsdb's is infinity there, which DuckDB would return as a date in 9999
    return [{**_RDSDB, "useconnlimit": None}, {"usename": user, **_ADMIN, "useconnlimit": "UNLIMITED"}, *created]


def _valid_until(until: str | None) -> str | None:
    """pg_user.valuntil of VALID UNTIL's time; 'infinity' is refused (DuckDB's infinite TIMESTAMP reads as a date
    in 9999, where Redshift shows infinity)."""
    if until == "infinity":
        return REFUSED + "pg_user.valuntil 'infinity' on the DuckDB engine (its infinite TIMESTAMP is a date in 9999)"
    return until


_CATALOG_ROWS: dict[str, Callable[[EngineSession], list[dict[str, Any]]]] = {
    "svv_table_info": _table_info, "pg_table_def": table_def_rows, "table_constraints": _table_constraints, "pg_user": _users, "pg_user_info": _user_info}


def query_records(statements: Iterable[Any]) -> list[QueryRecord]:
    """sys_query_history's rows from the service's Statement objects (their sub-statements that started)."""
    records = []
    for statement in statements:
        for sub in statement.subs:
            if sub.query_id < 0:
                continue
            ended = sub.duration_ns >= 0
            start = sub.updated_at - timedelta(microseconds=sub.duration_ns // 1000) if ended else sub.updated_at
            records.append(QueryRecord(
                query_id=sub.query_id, session_id=statement.pid, database_name=statement.database,
                status=sub.status, start_time=start, end_time=sub.updated_at if ended else None,
                elapsed_time=sub.duration_ns // 1000 if ended else 0, error_message=sub.error,
                returned_rows=max(sub.result_rows, 0), query_text=sub.sql))
    return sorted(records, key=lambda record: record.query_id)
