"""Redshift system information functions (r_System_information_functions.md) answered from what the emulator knows:
the session's user is the cluster's admin user (or the user SET SESSION AUTHORIZATION made it, principals/access.py).

- HAS_TABLE_PRIVILEGE / HAS_SCHEMA_PRIVILEGE / HAS_DATABASE_PRIVILEGE ([user,] object, privilege): for the session's
  user (named, or left out) true once the object exists and the privilege is one the function's page lists (else
  the engine's "does not exist" or PostgreSQL's 'unrecognized privilege type'). For another user, PostgreSQL
  answers from its roles (CREATE USER makes one, commands/roles.py); DuckDB from its principals catalog, as for a
  user SET SESSION AUTHORIZATION made whose privileges are checked (principals/access.py, for literal arguments). pg_backend_pid() is system.py's (the session's RedshiftPid).
- VERSION(): the string r_VERSION.md shows (REDSHIFT_VERSION).
- CURRENT_USER_ID: 100, the id Redshift gives the admin user it creates with the cluster (r_Users.md's pg_user).
- The leader-node-only ones (c_SQL_functions_leader_node_only.md: CURRENT_SCHEMA, CURRENT_SCHEMAS and the three
  HAS_*_PRIVILEGE) in a statement that references a user table or an STL / STV / SVL / SVV system table fail as on
  Redshift, "Specified types or functions (one per INFO message) not supported on Amazon Redshift tables."
  (c_sql-functions-leader-node.md); with catalog tables alone (pg_*, information_schema) or no table they run.
"""

from __future__ import annotations

from sqlglot import exp

from shiftflow.dataapi.engines.base import EngineError

# function -> (DuckDB's check that the object exists, true or the engine's error: shiftflow_regclass is
# catalog.py's; the privileges its reference page lists)
_PRIVILEGE_FUNCTIONS = {
    "has_table_privilege": ("shiftflow_regclass(o) IS NOT NULL", ("select", "insert", "update", "delete",
                                                                  "references")),
    "has_schema_privilege": ("shiftflow_schema_exists(o)", ("create", "usage")),
    "has_database_privilege": ("shiftflow_database_exists(o)", ("create", "temporary", "temp")),
}
_ADMIN_USER_ID = 100
# has_*_privilege(user, ...) of a user that does not exist: PostgreSQL 8.0's words (its get_usesysid), which
# Redshift keeps for its users elsewhere (`user "x" does not exist` for a GRANT, commands/roles.py); Redshift's page
# of each function does not show its error, PostgreSQL since 8.1 says `role "x"`: chosen.
MISSING_USER = 'user "{user}" does not exist'


# GENERATE_SERIES is among the PostgreSQL functions Redshift does not support (c_unsupported-postgresql-functions.md),
# which "will not return an error when run on the leader node": AWS's own catalog views call it (known.py).
_LEADER_NODE_ONLY = frozenset(_PRIVILEGE_FUNCTIONS) | {"generate_series"}
_LEADER_NODE_ERROR = "Specified types or functions (one per INFO message) not supported on Amazon Redshift tables."
_CATALOG_SCHEMAS = frozenset({"pg_catalog", "information_schema"})


def refuse_leader_node_functions(tree: exp.Expression) -> None:
    """Redshift's error for a leader-node-only function in a statement the compute nodes run (one that references a
    user table or an STL / STV / SVL / SVV system table); catalog tables (pg_*, information_schema) and the SYS_
    monitoring views run on the leader node."""
    if any(isinstance(node, (exp.CurrentSchema, exp.CurrentSchemas)) or (
            isinstance(node, exp.Anonymous) and node.name.lower() in _LEADER_NODE_ONLY) or (
            isinstance(node, exp.Func) and node.meta and node.meta.get("written_name") in _LEADER_NODE_ONLY)
           for node in tree.walk()):
        refuse_on_compute_nodes(tree)


def refuse_on_compute_nodes(tree: exp.Expression) -> None:
    """Redshift's error for what runs on the leader node only (a function, a cast to a type Redshift keeps for
    its catalog: types.py) in a statement the compute nodes run."""
    ctes = {cte.alias.lower() for cte in tree.find_all(exp.CTE) if cte.alias}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function
        name = table.name.lower()
        if name in ctes and not table.db:
            continue
        if table.db.lower() in _CATALOG_SCHEMAS or name.startswith(("pg_", "sys_")):
            continue
        if isinstance(table.parent, (exp.Create, exp.Drop)) and table.parent.this is table:
            continue  # the object a DDL statement names
        raise EngineError(_LEADER_NODE_ERROR)


def _privilege(node: exp.Anonymous, engine: str) -> exp.Expression:
    """has_*_privilege([user,] object, privilege) -> shiftflow_has_*_privilege(user, object, privilege)."""
    arguments = list(node.expressions)
    if len(arguments) == 2:
        arguments.insert(0, exp.Anonymous(this="shiftflow_current_user", expressions=[]))
    if len(arguments) != 3:
        return node  # the engine's own error for the wrong number of arguments
    return exp.Anonymous(this=f"shiftflow_{node.name.lower()}", expressions=arguments)


# r_VERSION.md's example: what tools that tell Redshift from PostgreSQL by version() read (the engines would give
# their own: "PostgreSQL 16.2 on x86_64...", DuckDB's "v2.0.0").
REDSHIFT_VERSION = ("PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 20041017 (Red Hat"
                    " 3.4.2-6.fc3), Redshift 1.0.12103")


def _version(node: exp.CurrentVersion, engine: str) -> exp.Expression:
    return exp.cast(exp.Literal.string(REDSHIFT_VERSION), exp.DataType.Type.VARCHAR)


def _current_user_id(node: exp.CurrentUserId, engine: str) -> exp.Expression:
    return exp.cast(exp.Literal.number(_ADMIN_USER_ID), exp.DataType.Type.INT)


def _duckdb_privilege_macro(name: str, exists: str, privileges: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{p}'" for p in privileges)
    # principals/access.py answers a call with literal arguments for another user, or for a user whose privileges
    # are checked, before the statement runs (shiftflow_privileges: 'function|user|object|privilege' -> answer)
    answer = ("map_extract(getvariable('shiftflow_privileges'), '" + name + "|' || u || '|' || o || '|' || p)[1]")
    return (f"CREATE OR REPLACE TEMP MACRO shiftflow_{name}(u, o, p) AS CASE WHEN u IS NULL OR o IS NULL"
            " OR p IS NULL THEN NULL WHEN lower(u) <> lower(shiftflow_current_user())"
            " OR coalesce(getvariable('shiftflow_checked'), false) THEN"
            f" coalesce({answer}, error('not supported locally: {name}() with computed arguments for another"
            " user than the admin user on the DuckDB engine'))"
            f" WHEN NOT list_bool_and(list_transform(string_split(lower(p), ','), lambda x: trim(x) IN ({listed})))"
            " THEN error('unrecognized privilege type: \"' || p || '\"')"
            f" WHEN {exists} THEN true END")


def _postgres_privilege_function(name: str) -> str:
    """Another user than the session's: one that can log in (a Redshift user, not a group or role), else
    `user "x" does not exist` (MISSING_USER)."""
    return (f"CREATE OR REPLACE FUNCTION public.shiftflow_{name}(u text, o text, p text) RETURNS boolean"
            " LANGUAGE plpgsql STABLE STRICT AS $f$ BEGIN"
            f" IF lower(u) = lower(public.shiftflow_current_user()) THEN RETURN {name}(o, p); END IF;"
            " IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = u AND rolcanlogin) THEN"
            f" RAISE EXCEPTION '{MISSING_USER.replace('{user}', '%')}', u; END IF;"
            f" RETURN {name}(u, o, p); END $f$")


# USER_IS_MEMBER_OF(user, role | group), ROLE_IS_MEMBER_OF(role, granted role) (r_USER_IS_MEMBER_OF.md,
# r_ROLE_IS_MEMBER_OF.md): PostgreSQL answers from its roles (pg_has_role), DuckDB from its principals catalog
# before the statement runs (principals/access.py, literal arguments).
_MEMBERSHIP_FUNCTIONS = ("user_is_member_of", "role_is_member_of")


def _membership(node: exp.Anonymous, engine: str) -> exp.Expression:
    if len(node.expressions) != 2:
        return node
    return exp.Anonymous(this=f"shiftflow_{node.name.lower()}", expressions=list(node.expressions))


def _duckdb_membership_macro(name: str) -> str:
    answer = "map_extract(getvariable('shiftflow_privileges'), '" + name + "|' || u || '|' || r)[1]"
    return (f"CREATE OR REPLACE TEMP MACRO shiftflow_{name}(u, r) AS CASE WHEN u IS NULL OR r IS NULL THEN NULL"
            f" ELSE coalesce({answer}, error('not supported locally: {name}() with computed arguments on the DuckDB"
            " engine')) END")


def _postgres_membership_function(name: str) -> str:
    return (f"CREATE OR REPLACE FUNCTION public.shiftflow_{name}(u text, r text) RETURNS boolean LANGUAGE sql STABLE"
            " AS $f$ SELECT u <> r AND pg_has_role(u, r, 'MEMBER') $f$")


HANDLERS = {**{name: _privilege for name in _PRIVILEGE_FUNCTIONS}, exp.CurrentUserId: _current_user_id,
            exp.CurrentVersion: _version,
            **{name: _membership for name in _MEMBERSHIP_FUNCTIONS}}
PARSER_FUNCTIONS: dict = {}
COLUMN_NAMES = {**{name: name for name in (*_PRIVILEGE_FUNCTIONS, *_MEMBERSHIP_FUNCTIONS)},
                exp.CurrentUserId: "current_user_id", exp.CurrentVersion: "version"}
DUCKDB_SETUP: tuple[str, ...] = (
    # true, or PostgreSQL's error for a schema or database that does not exist
    "CREATE OR REPLACE TEMP MACRO shiftflow_schema_exists(s) AS CASE WHEN EXISTS (SELECT 1 FROM duckdb_schemas()"
    " WHERE database_name = current_database() AND schema_name = lower(s)) THEN true"
    " ELSE error('schema \"' || s || '\" does not exist') END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_database_exists(d) AS CASE WHEN lower(d) = lower("
    "shiftflow_current_database()) THEN true ELSE error('database \"' || d || '\" does not exist') END",
    *(_duckdb_privilege_macro(name, exists, privileges)
      for name, (exists, privileges) in _PRIVILEGE_FUNCTIONS.items()),
    *(_duckdb_membership_macro(name) for name in _MEMBERSHIP_FUNCTIONS),
)
POSTGRES_SETUP: tuple[str, ...] = (*(_postgres_privilege_function(name) for name in _PRIVILEGE_FUNCTIONS),
                                   *(_postgres_membership_function(name) for name in _MEMBERSHIP_FUNCTIONS))
