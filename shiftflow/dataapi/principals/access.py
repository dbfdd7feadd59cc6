"""Who runs a statement on the DuckDB engine, and what Redshift lets them do (r_SET_SESSION_AUTHORIZATION.md,
r_GRANT.md, r_REVOKE.md, r_superusers.md, r_Privileges.md).

The session is the cluster's admin user, a superuser, until SET SESSION AUTHORIZATION 'user' makes it a user of the
principals catalog (catalog.py); SET SESSION AUTHORIZATION DEFAULT and RESET SESSION AUTHORIZATION make it the admin
user again. current_user and session_user name the user it runs as.

While it runs as a user who is not a superuser, each statement is checked before it runs (authorize, called by
EngineSql.execute and the session commands translate() guards) with Redshift's rules and errors:
- a relation (table, view, temporary table) needs USAGE on its schema and the privilege the statement uses: SELECT
  for what it reads, INSERT / UPDATE / DELETE for its target (and SELECT on it when a WHERE or a SET value reads
  it, as PostgreSQL), TRUNCATE, DROP, ALTER; its owner has them all. A view is read with its owner's privileges
  on what it reads (r_GRANT-examples.md: access to a view doesn't imply access to its underlying tables).
- CREATE TABLE / VIEW / FUNCTION needs CREATE on the schema (every user has CREATE and USAGE on schema public by
  default, r_GRANT.md), CREATE TEMP TABLE the TEMP privilege on the database (PUBLIC's by default), CREATE SCHEMA
  CREATE on the database. The creator owns what it creates (catalog.owners); what the admin user created has no
  entry there: a superuser owns it.
- a SQL UDF needs EXECUTE, PUBLIC's by default (r_CREATE_FUNCTION.md: revoke it from PUBLIC to restrict it).
- CALL needs EXECUTE on the overload it runs, its owner's and the superusers' by default (running(); privileges on
  a procedure are by its name and argument types, procedure_key); a SECURITY DEFINER body runs as its owner, and
  SET SESSION AUTHORIZATION fails inside it.
- DROP / ALTER SCHEMA, DROP FUNCTION and DROP PROCEDURE need the owner; CREATE / ALTER / DROP of users, groups and
  roles a superuser.
- privileges come from the user, its groups, the roles granted to it (and theirs) and PUBLIC.
What the emulator cannot check this way (COPY and UNLOAD, ALTER PROCEDURE, GRANT by a user other than the owner,
ALTER DEFAULT PRIVILEGES FOR USER, ...) fails with "not supported locally" for such a user, never runs unchecked.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.engines.base import LOCAL_IAM_USER, EngineError, EngineSession, QueryResult
from shiftflow.dataapi.principals import catalog
from shiftflow.dataapi.translate.commands.tokens import expanded, word
from shiftflow.dataapi.translate.functions.information import MISSING_USER
from shiftflow.dataapi.translate.model import NotSupportedLocally, SessionCommand

# Every privilege ALL grants, by the object kind (r_GRANT.md).
ALL_PRIVILEGES = {"relation": ("SELECT", "INSERT", "UPDATE", "DELETE", "DROP", "REFERENCES", "ALTER", "TRUNCATE"),
                  "schema": ("CREATE", "USAGE"), "database": ("CREATE", "TEMP"), "function": ("EXECUTE",),
                  "procedure": ("EXECUTE",), "language": ("USAGE",)}
TEMP_SCHEMA = "pg_temp"  # the key of temporary tables' schema (DuckDB's temp catalog)
_SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "shiftflow_principal"})
_SYSTEM_PREFIXES = ("pg_", "stl_", "stv_", "svl_", "svv_", "sys_", "svcs_", "stcs_")


def public_default(privilege: str, object_kind: str, object_name: str) -> bool:
    """What PUBLIC holds until it is revoked from PUBLIC: CREATE and USAGE on schema public, TEMP on the database,
    USAGE on the languages sql and plpgsql, EXECUTE on each function (r_GRANT.md, r_CREATE_FUNCTION.md)."""
    return ((object_kind, object_name) == ("schema", "public") and privilege in {"CREATE", "USAGE"}
            or object_kind == "database" and privilege == "TEMP"
            or object_kind == "language" and object_name in {"sql", "plpgsql"} and privilege == "USAGE"
            or object_kind == "function" and privilege == "EXECUTE"
            or object_kind == "schema" and object_name == TEMP_SCHEMA and privilege == "USAGE")


# --- who the session is -------------------------------------------------------------------------------------------

def _login(session: EngineSession) -> str:
    """The request's database user, the admin user the session logged in as (DuckDBSession.set_user)."""
    return str(session.execute(f"SELECT coalesce(getvariable('shiftflow_user'), '{LOCAL_IAM_USER}')", {}).rows[0][0])


def authorization(session: EngineSession) -> str | None:
    """The user SET SESSION AUTHORIZATION made the session, None for the admin user."""
    return getattr(session, "authorization", None)


@dataclass(frozen=True)
class SessionAuthorization(SessionCommand):
    """SET [LOCAL] SESSION AUTHORIZATION {user | DEFAULT} / RESET SESSION AUTHORIZATION."""

    user: str | None  # None: DEFAULT, the admin user
    local: bool = False
    session_scoped: bool = True

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        if getattr(session, "security_definers", 0):  # PostgreSQL's rule and words (see running())
            raise EngineError('cannot set parameter "session_authorization" within security-definer function')
        user = self.user
        login = _login(session)
        if user is not None and user != login:
            if not catalog.ready(session) or not catalog.exists(session, "user", user):
                raise EngineError(f'user "{user}" does not exist')  # commands/roles.py: Redshift's words
        else:
            user = None
        if self.local and not in_transaction:
            return QueryResult()  # PostgreSQL: "SET LOCAL can only be used in transaction blocks", no effect
        if in_transaction:
            _ended_with_the_transaction(session)
        if not self.local:
            session.kept_authorization = user  # type: ignore[attr-defined]
        _become(session, user)
        return QueryResult()


def _ended_with_the_transaction(session: EngineSession) -> None:
    """SET [LOCAL] SESSION AUTHORIZATION in a transaction block, as PostgreSQL's SET: a ROLLBACK brings back the
    user the block began with, a COMMIT keeps the last SET's (SET LOCAL's lasts until the block ends)."""
    ends = getattr(session, "at_transaction_end", None)
    if ends is None:
        raise NotSupportedLocally("SET SESSION AUTHORIZATION in a transaction block on this engine session")
    if "session authorization" in ends:
        return
    start = authorization(session)
    session.kept_authorization = start  # type: ignore[attr-defined]  # the plain SETs' user
    ends["session authorization"] = lambda committed: _become(
        session, getattr(session, "kept_authorization", start) if committed else start)


def session_authorization(tokens: list[Token]) -> SessionAuthorization | None:
    """The command of SET [SESSION | LOCAL] SESSION AUTHORIZATION ... / RESET SESSION AUTHORIZATION, and of the
    parameter's own form, SET session_authorization {TO | =} ... / RESET session_authorization (as written in
    stored-procedure-transaction-management.md); None for other statements."""
    words = [word(t) for t in tokens if t.token_type != TokenType.SEMICOLON]
    if words in (["RESET", "SESSION", "AUTHORIZATION"], ["RESET", "SESSION_AUTHORIZATION"]):
        return SessionAuthorization(None)
    if not words or words[0] != "SET":
        return None
    local = words[1:2] == ["LOCAL"]
    rest = words[2:] if words[1:2] in (["LOCAL"], ["SESSION"]) and words[2:3] in (
        ["SESSION"], ["SESSION_AUTHORIZATION"]) else words[1:]
    if rest[:1] == ["SESSION_AUTHORIZATION"] and len(rest) == 3 and rest[1] in {"TO", "="}:
        rest = ["SESSION", "AUTHORIZATION", rest[2]]
    if rest[:2] != ["SESSION", "AUTHORIZATION"] or len(rest) != 3:
        return None
    token = tokens[len(words) - 1]
    if token.token_type not in (TokenType.STRING, TokenType.IDENTIFIER) and word(token) == "DEFAULT":
        return SessionAuthorization(None, local)
    name = token.text if token.token_type in (TokenType.STRING, TokenType.IDENTIFIER) else token.text.lower()
    return SessionAuthorization(name, local)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Principal:
    """A user as its privileges are checked: the grantees it acts as (itself, its groups, its roles, PUBLIC)."""

    name: str
    superuser: bool
    grantees: frozenset[tuple[str, str]]


def principal(session: EngineSession, user: str) -> Principal:
    """Read for each statement: GRANT, CREATE USER ... change no DuckDB catalog a cache would follow."""
    if not catalog.exists(session, "user", user):  # dropped while the session was it: PUBLIC's privileges
        return Principal(user, False, frozenset({("user", user), ("public", "public")}))
    superuser = bool(session.execute(f"SELECT superuser FROM {catalog.SCHEMA}.principals WHERE kind = 'user'"
                                     " AND name = $name", {"name": user}).rows[0][0])
    members = session.execute(f"SELECT kind, container, member_kind, member FROM {catalog.SCHEMA}.members",
                              {}).rows
    grantees, pending = {("user", user), ("public", "public")}, [("user", user)]
    while pending:
        kind, name = pending.pop()
        for container_kind, container, member_kind, member in members:
            if (member_kind, member) == (kind, name) and (container_kind, container) not in grantees:
                grantees.add((container_kind, container))
                if container_kind == "role":
                    pending.append(("role", container))
    return Principal(user, superuser, frozenset(grantees))


def acting_user(session: EngineSession) -> Principal | None:
    """The user the session runs as when its privileges are checked; None for the admin user or a superuser."""
    user = authorization(session)
    if user is None:
        return None
    who = principal(session, user)
    return None if who.superuser else who


@contextlib.contextmanager
def running(session: EngineSession, procedure: str, signature: str, definer: bool) -> Iterator[None]:
    """CALL of a stored procedure (stored-procedure-security-and-privileges.md): EXECUTE is its owner's and the
    superusers' unless granted, on the procedure of those argument types (procedure_key); a SECURITY DEFINER body
    runs as its owner, a SECURITY INVOKER one as the caller. Inside a SECURITY DEFINER body (and what it calls) SET
    SESSION AUTHORIZATION fails, as PostgreSQL refuses it there (its message; Redshift's guide does not say)."""
    key = procedure_key(procedure, signature)
    who = acting_user(session)
    if who is not None and owner(session, "procedure", key) != who.name \
            and not holds(session, who, "EXECUTE", "procedure", key):
        raise EngineError(f"permission denied for procedure {procedure}")
    if not definer:
        yield
        return
    session.security_definers = getattr(session, "security_definers", 0) + 1  # type: ignore[attr-defined]
    try:
        if not catalog.ready(session):
            yield
            return
        before, runner = authorization(session), owner(session, "procedure", key)
        _become(session, runner, session_user=False)
        try:
            yield
        finally:
            _become(session, before, session_user=False)
    finally:
        session.security_definers -= 1  # type: ignore[attr-defined]


def _become(session: EngineSession, user: str | None, session_user: bool = True) -> None:
    """The session runs as `user` (None: the admin user): current_user names it, and session_user too unless a
    SECURITY DEFINER procedure runs as its owner; shiftflow_checked says whether its privileges are checked (the
    privilege functions refuse then, functions/information.py)."""
    checked = user is not None and not principal(session, user).superuser
    named = "NULL" if user is None else _literal(user)
    session.execute(f"SET VARIABLE shiftflow_authorization = {named}", {})
    if session_user:
        session.execute(f"SET VARIABLE shiftflow_session_authorization = {named}", {})
    session.execute(f"SET VARIABLE shiftflow_checked = {str(checked).lower()}", {})
    session.authorization = user  # type: ignore[attr-defined]  # DuckDBSession's


def require_admin_option(session: EngineSession, role: str) -> None:
    """GRANT / REVOKE ROLE by a user who is not a superuser: it must hold the role WITH ADMIN OPTION."""
    who = acting_user(session)
    if who is not None and not any((kind, name) in who.grantees for kind, name in session.execute(
            f"SELECT grantee_kind, grantee FROM {catalog.SCHEMA}.privileges WHERE privilege = 'ADMIN OPTION' AND"
            " object_kind = 'role' AND object_name = $role", {"role": role}).rows):
        raise EngineError(f'must have admin option on role "{role}"')


def acting_name(session: EngineSession) -> str:
    """Whose defaults (ALTER DEFAULT PRIVILEGES) apply to what the session creates: its user, '' for the admin."""
    return authorization(session) or ""


def holds(session: EngineSession, who: Principal, privilege: str, object_kind: str, object_name: str) -> bool:
    """Whether a grant to one of its grantees gives `who` the privilege (owners and superusers aside)."""
    rows = session.execute(f"SELECT grantee_kind, grantee, privilege FROM {catalog.SCHEMA}.privileges WHERE"
                           " object_kind = $kind AND object_name = $name AND privilege IN ($privilege, $revoked)",
                           {"kind": object_kind, "name": object_name, "privilege": privilege,
                            "revoked": catalog.REVOKED_FROM_PUBLIC + privilege}).rows
    if any(p == privilege and (k, g) in who.grantees for k, g, p in rows):
        return True
    return public_default(privilege, object_kind, object_name) and not any(p != privilege for _, _, p in rows)


def owner(session: EngineSession, object_kind: str, object_name: str) -> str | None:
    """The owner a user other than the admin made (CREATE, ALTER ... OWNER TO); None: a superuser."""
    rows = session.execute(f"SELECT owner FROM {catalog.SCHEMA}.owners WHERE object_kind = $kind AND"
                           " object_name = $name", {"kind": object_kind, "name": object_name}).rows
    return rows[0][0] if rows else None


# --- what a statement needs ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Relation:
    schema: str | None  # None: found on the search path
    name: str


@dataclass(frozen=True)
class Needs:
    """What a statement needs of the session's user, and what it creates (the user then owns it)."""

    relations: tuple[tuple[str, Relation], ...] = ()  # (privilege, relation)
    schemas: tuple[tuple[str, str | None], ...] = ()  # (CREATE | USAGE | OWNER, schema; None: the current one)
    functions: tuple[str, ...] = ()  # names called: EXECUTE when they are UDFs
    owned_functions: tuple[str, ...] = ()  # DROP FUNCTION
    owned_procedures: tuple[str, ...] = ()  # DROP PROCEDURE: `name [(argument types)]` as written
    database: str = ""  # CREATE | TEMP on the database
    superuser: str = ""  # Redshift's error when the user is no superuser
    creates: tuple[str, str | None, str] | tuple[()] = ()  # (kind, schema, name)
    refused: str = ""


def _table(node: exp.Table) -> Relation:
    schema = node.args.get("db")
    return Relation(schema.name.lower() if schema is not None and schema.name else None, node.name.lower())


def _is_system(relation: Relation) -> bool:
    return relation.schema in _SYSTEM_SCHEMAS or relation.name.startswith(_SYSTEM_PREFIXES)


def _read(tree: exp.Expression, skip: set[int] = frozenset()) -> tuple[list[tuple[str, Relation]], list[str]]:  # type: ignore[assignment]
    """The relations a query reads (CTE names aside) and the functions it calls."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    relations = []
    for node in tree.find_all(exp.Table):
        if id(node) in skip or not node.name or isinstance(node.this, exp.Anonymous):
            continue
        relation = _table(node)
        if (relation.schema is None and relation.name in ctes) or _is_system(relation):
            continue
        relations.append(("SELECT", relation))
    functions = sorted({node.name.lower() for node in tree.find_all(exp.Anonymous)})
    return relations, functions


@functools.lru_cache(maxsize=1024)
def needs(statement: str) -> Needs:
    """What `statement` (Redshift SQL) needs of a user who is not a superuser (see the module docstring)."""
    from shiftflow.sql.splitter import tokenize

    tokens = [t for t in expanded(statement, tokenize(statement)) if t.token_type != TokenType.SEMICOLON]
    words = [word(t) for t in tokens]
    if not words:
        return Needs()
    verb = words[0]
    if verb in {"SET", "RESET", "SHOW", "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "ANALYZE"}:
        return Needs()
    if verb in {"GRANT", "REVOKE"}:  # system privileges are refused when translated (roles.refuse_redshift_only)
        return Needs()  # commands.py: the user must own each object, or hold the ADMIN OPTION of each role
    if words[:3] == ["ALTER", "DEFAULT", "PRIVILEGES"]:
        if "FOR" in words[:next((i for i, w in enumerate(words) if w in {"GRANT", "REVOKE"}), len(words))]:
            return Needs(refused="ALTER DEFAULT PRIVILEGES FOR USER as a user who is not a superuser")
        return Needs()  # the user's own defaults
    if words[:2] in (["CREATE", "USER"], ["CREATE", "GROUP"], ["CREATE", "ROLE"], ["DROP", "USER"], ["DROP", "GROUP"],
                     ["DROP", "ROLE"], ["ALTER", "GROUP"], ["ALTER", "ROLE"]):
        return Needs(superuser=f"permission denied to {'create' if verb == 'CREATE' else verb.lower()} role")
    if words[:2] == ["ALTER", "USER"]:
        return Needs(superuser="permission denied")
    if verb == "EXPLAIN":
        inner = needs(statement[tokens[1].start:]) if len(tokens) > 1 else Needs()
        return Needs(inner.relations, inner.schemas, inner.functions, refused=inner.refused)
    if verb in {"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "VALUES"} or words[:2] in (
            ["CREATE", "TABLE"], ["CREATE", "TEMP"], ["CREATE", "TEMPORARY"], ["CREATE", "VIEW"],
            ["CREATE", "OR"], ["DROP", "TABLE"], ["DROP", "VIEW"], ["ALTER", "TABLE"], ["ALTER", "VIEW"],
            ["CREATE", "SCHEMA"], ["DROP", "SCHEMA"], ["ALTER", "SCHEMA"], ["DROP", "FUNCTION"]):
        if words[:4] in (["CREATE", "OR", "REPLACE", "FUNCTION"], ["CREATE", "OR", "REPLACE", "PROCEDURE"]):
            return _create_function(statement, tokens, words, words[3])
        if words[:2] == ["CREATE", "OR"] and words[3:4] != ["VIEW"]:
            return Needs(refused=f"{' '.join(words[:4])} as a user who is not a superuser")
        return _parsed(statement, words)
    if words[:2] == ["CREATE", "FUNCTION"]:
        return _create_function(statement, tokens, words)
    if words[:2] == ["CREATE", "PROCEDURE"] or words[:4] == ["CREATE", "OR", "REPLACE", "PROCEDURE"]:
        return _create_function(statement, tokens, words, "PROCEDURE")
    if verb == "CALL":
        return Needs()  # running(): EXECUTE, and whose privileges the body runs with
    if words[:2] == ["DROP", "PROCEDURE"]:
        index = 4 if words[2:4] == ["IF", "EXISTS"] else 2
        closing = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.R_PAREN), index)
        return Needs(owned_procedures=(statement[tokens[index].start : tokens[closing].end + 1],)
                     if index < len(tokens) else ())
    what = " ".join(words[:2]) if verb in {"CREATE", "ALTER", "DROP", "GRANT", "REVOKE"} else verb
    return Needs(refused=f"{what} as a user who is not a superuser (SET SESSION AUTHORIZATION) on the DuckDB"
                         " engine")


def _create_function(statement: str, tokens: list[Token], words: list[str], kind: str = "FUNCTION") -> Needs:
    """CREATE [OR REPLACE] FUNCTION / PROCEDURE [schema.]name: CREATE on the schema (USAGE on LANGUAGE sql and
    plpgsql is PUBLIC's, r_CREATE_FUNCTION.md, stored-procedure-security-and-privileges.md)."""
    index = words.index(kind) + 1
    if index >= len(tokens):
        return Needs()
    parts = [tokens[index].text.lower()]
    if index + 2 < len(tokens) and tokens[index + 1].token_type == TokenType.DOT:
        parts.append(tokens[index + 2].text.lower())
    schema = parts[0] if len(parts) > 1 else None
    return Needs(schemas=(("CREATE", schema),), creates=(kind.lower(), schema, parts[-1]))


def _parsed(statement: str, words: list[str]) -> Needs:
    try:
        tree = sqlglot.parse_one(statement, read="redshift")
    except (ParseError, TokenError):
        return Needs(refused="checking the privileges of a statement sqlglot cannot parse")
    if isinstance(tree, exp.Command):
        return Needs(refused=f"{' '.join(words[:2])} as a user who is not a superuser (SET SESSION AUTHORIZATION)"
                             " on the DuckDB engine")
    if isinstance(tree, (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Values)) or words[0] == "WITH" \
            and not isinstance(tree, (exp.Insert, exp.Update, exp.Delete)):
        relations, functions = _read(tree)
        if tree.args.get("into") is not None:  # SELECT ... INTO t
            return Needs(refused="SELECT INTO as a user who is not a superuser on the DuckDB engine")
        return Needs(tuple(relations), functions=tuple(functions))
    if isinstance(tree, (exp.Insert, exp.Update, exp.Delete)):
        return _write(tree)
    if isinstance(tree, exp.TruncateTable):
        return Needs(tuple(("TRUNCATE", _table(t)) for t in tree.expressions))
    if isinstance(tree, exp.Create):
        return _create(tree)
    if isinstance(tree, exp.Drop):
        kind = (tree.args.get("kind") or "").upper()
        dropped = list(tree.args.get("tables") or ([tree.this] if tree.this is not None else []))
        if kind == "SCHEMA":
            return Needs(schemas=tuple(("OWNER", node.name.lower()) for node in dropped))
        if kind == "FUNCTION":
            return Needs(owned_functions=tuple((node.this if isinstance(node, exp.UserDefinedFunction) else node)
                                               .name.lower() for node in dropped))
        if kind not in {"TABLE", "VIEW"}:
            return Needs(refused=f"DROP {kind} as a user who is not a superuser on the DuckDB engine")
        return Needs(tuple(("DROP", _table(t)) for t in dropped if isinstance(t, exp.Table)))
    if isinstance(tree, exp.Alter):
        kind = (tree.args.get("kind") or "").upper()
        if any(isinstance(action, exp.AlterSet) or "owner" in action.sql().lower() for action in tree.actions):
            return Needs(refused="ALTER ... OWNER TO by a user who is not a superuser on the DuckDB engine")
        if kind == "SCHEMA":
            return Needs(schemas=(("OWNER", tree.this.name.lower()),))
        return Needs((("ALTER", _table(tree.this)),))
    return Needs(refused=f"{' '.join(words[:2])} as a user who is not a superuser (SET SESSION AUTHORIZATION) on"
                         " the DuckDB engine")


def _write(tree: exp.Expression) -> Needs:
    target = tree.this
    if isinstance(target, exp.Schema):  # INSERT INTO t (columns)
        target = target.this
    if not isinstance(target, exp.Table):
        return Needs(refused="checking the privileges of a write whose target is not a table")
    relation = _table(target)
    privilege = {exp.Insert: "INSERT", exp.Update: "UPDATE", exp.Delete: "DELETE"}[type(tree)]
    relations, functions = _read(tree, {id(target)})
    needed = [(privilege, relation)]
    reads_target = tree.args.get("where") is not None or (
        isinstance(tree, exp.Update) and any(e.expression.find(exp.Column) for e in tree.expressions
                                              if isinstance(e, exp.EQ)))
    if reads_target:
        needed.append(("SELECT", relation))
    return Needs(tuple(needed + relations), functions=tuple(functions))


def _create(tree: exp.Create) -> Needs:
    kind = (tree.args.get("kind") or "").upper()
    if kind == "SCHEMA":
        named = tree.this.args.get("db") if isinstance(tree.this, exp.Table) else None
        if named is None:
            return Needs(refused="CREATE SCHEMA as a user who is not a superuser on the DuckDB engine")
        return Needs(database="CREATE", creates=("schema", None, named.name.lower()))
    if kind not in {"TABLE", "VIEW"}:
        return Needs(refused=f"CREATE {kind} as a user who is not a superuser on the DuckDB engine")
    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    relation = _table(target)
    properties = tree.args.get("properties")
    temporary = properties is not None and any(isinstance(p, exp.TemporaryProperty) for p in properties.expressions)
    temporary = temporary or relation.name.startswith("#")
    query = tree.expression
    relations, functions = ([], []) if query is None or kind == "VIEW" else _read(query)
    like = [("SELECT", _table(t)) for t in tree.this.find_all(exp.Table) if t is not target] \
        if isinstance(tree.this, exp.Schema) else []
    schema = TEMP_SCHEMA if temporary else relation.schema
    return Needs(tuple(relations + like), schemas=() if temporary else (("CREATE", relation.schema),),
                 functions=tuple(functions), database="TEMP" if temporary else "",
                 creates=("relation", schema, relation.name.lstrip("#") if temporary else relation.name))


# --- checking -----------------------------------------------------------------------------------------------------

@dataclass
class _Relations:
    """The database's relations by (schema, name): 'table' or 'view', and each view's SQL."""

    kinds: dict[tuple[str, str], str] = field(default_factory=dict)
    views: dict[tuple[str, str], str] = field(default_factory=dict)


def _relations(session: EngineSession) -> _Relations:
    def compute() -> _Relations:
        found = _Relations()
        for database, schema, name, kind, sql in session.execute(
                "SELECT database_name, schema_name, table_name, 'table', NULL FROM duckdb_tables()"
                " UNION ALL SELECT database_name, schema_name, view_name, 'view', sql FROM duckdb_views()"
                " WHERE NOT internal", {}).rows:
            key = (TEMP_SCHEMA if database == "temp" else schema, name)
            found.kinds[key] = kind
            if sql is not None:
                found.views[key] = sql
        return found

    cached = getattr(session, "catalog_cached", None)
    return cached("shiftflow_relations", compute) if cached else compute()


def _search_path(session: EngineSession) -> list[str]:
    text = session.execute("SELECT current_setting('search_path')", {}).rows[0][0] or "public"
    return [TEMP_SCHEMA] + [part.strip().strip('"').lower() for part in text.split(",") if part.strip()]


def resolve(session: EngineSession, relation: Relation) -> tuple[str, str] | None:
    """(schema, name) of the relation the name finds (temporary tables first); None when none does."""
    known = _relations(session).kinds
    schemas = [relation.schema] if relation.schema is not None else _search_path(session)
    for schema in schemas:
        if (schema, relation.name) in known:
            return schema, relation.name
    return None


def current_schema(session: EngineSession) -> str:
    return next((s for s in _search_path(session)[1:]), "public")


def authorize(session: EngineSession, statement: str) -> Callable[[EngineSession], None] | None:
    """Raise Redshift's error (or NotSupportedLocally) when the session's user may not run `statement`; the step
    to run once it ran: the owner of what it creates recorded, the grants on what it drops forgotten."""
    if getattr(session, "privilege_answers", False):  # an earlier statement's: never read by another one
        session.execute("SET VARIABLE shiftflow_privileges = NULL", {})
        session.privilege_answers = False  # type: ignore[attr-defined]
    if "_privilege" in statement.lower() or "_member_of" in statement.lower():
        session.privilege_answers = _answer_privilege_functions(session, statement)  # type: ignore[attr-defined]
    dropped = _dropped(session, statement)
    who = acting_user(session)
    if who is None:
        return dropped or _created(session, statement)
    need = needs(statement)
    if need.refused:
        raise NotSupportedLocally(need.refused)
    if need.superuser:
        raise EngineError(need.superuser)
    if need.database:
        database = session.execute("SELECT shiftflow_current_database()", {}).rows[0][0]
        if owner(session, "database", database.lower()) != who.name \
                and not holds(session, who, need.database, "database", database.lower()):
            raise EngineError(f'permission denied to create temporary tables in database "{database}"'
                              if need.database == "TEMP" else f"permission denied for database {database}")
    for privilege, schema in need.schemas:
        _check_schema(session, who, privilege, schema if schema is not None else current_schema(session))
    for privilege, relation in need.relations:
        _check_relation(session, who, privilege, relation)
    _check_functions(session, who, need.functions)
    for function in need.owned_functions:
        if owner(session, "function", function) != who.name:
            raise EngineError(f"must be owner of function {function}")
    for key in _replaced_procedure(session, statement, need):  # PostgreSQL's words, which name a function
        if owner(session, "procedure", key) != who.name:
            raise EngineError(f"must be owner of function {key.partition('(')[0]}")
    for written in need.owned_procedures:
        for key in procedure_keys(session, written, missing_is_error=False):
            if owner(session, "procedure", key) != who.name:
                raise EngineError(f"must be owner of procedure {key.partition('(')[0]}")
    return dropped or _created(session, statement, who.name)


_CREATE = re.compile(r"\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*create\s", re.IGNORECASE | re.DOTALL)


def _created(session: EngineSession, statement: str,
             owner_name: str | None = None) -> Callable[[EngineSession], None] | None:
    """What to run once `statement` created an object: its owner recorded (`owner_name`, a user who is not a
    superuser), a SQL UDF's argument types kept and the defaults of ALTER DEFAULT PRIVILEGES applied. None when it
    creates nothing new."""
    if not _CREATE.match(statement):
        return None
    need = needs(statement)
    signed = _signed(session, statement, need)
    if not need.creates or (owner_name is None and not catalog.ready(session)):
        return signed
    kind, schema, name = need.creates
    schema = schema if schema is not None or kind == "schema" else current_schema(session)
    key = name if kind == "schema" else f"{schema}.{name}" if kind == "relation" else name
    if kind == "procedure":
        key = _created_procedure_key(statement, name)
    existed = (kind == "relation" and (schema, name) in _relations(session).kinds) or (
        kind == "schema" and bool(session.execute("SELECT count(*) FROM duckdb_schemas() WHERE schema_name = $s",
                                                  {"s": name}).rows[0][0])) or (
        kind == "procedure" and key in procedure_keys(session, f"{schema}.{name}", missing_is_error=False))
    if existed:
        return signed
    defaults_owner = acting_name(session)

    def record(session: EngineSession) -> None:
        if signed is not None:
            signed(session)
        if owner_name is not None:
            catalog.set_owner(session, kind, key, owner_name)
        if kind != "schema":
            catalog.apply_defaults(session, defaults_owner, schema or "", kind, key)

    return record


# --- SQL UDFs and stored procedures by their argument types --------------------------------------------------------
# Redshift tells functions apart by name and argument types (r_CREATE_FUNCTION.md: overloading): f(int) and
# f(varchar) are two objects, each with its own privileges. A DuckDB macro holds one definition per name, so the
# emulator holds one function per name: its argument types are kept (catalog.signatures), a statement naming the
# function with other types fails as Redshift's does for a function that does not exist, and creating a second
# overload is not supported locally. Stored procedures are overloaded the same way (stored-procedure-naming.md) and
# the procedures' catalog keeps each overload: their privileges and owners are keyed by name and input argument
# types (procedure_key), GRANT / REVOKE ON PROCEDURE name(types) names one of them (r_GRANT.md: "Because stored
# procedure names can be overloaded, you must include the argument list").

_TYPE_FIRST_WORDS = frozenset({"double", "character", "char", "national", "timestamp", "time", "bit"})
# PostgreSQL's names of the types in its messages (format_type), which Redshift's are.
_SHOWN_TYPES = {"varchar": "character varying", "char": "character", "timestamp": "timestamp without time zone",
                "timestamptz": "timestamp with time zone", "time": "time without time zone",
                "timetz": "time with time zone"}


def function_signature(tokens: list[Token], open_paren: int) -> str | None:
    """The argument types of the list `tokens[open_paren]` opens, as overloading sees them (an argument's name and
    a type's length dropped, synonyms one type: procedures/catalog.type_key); None without a list."""
    from shiftflow.dataapi.procedures.catalog import type_key

    if open_paren >= len(tokens) or tokens[open_paren].token_type != TokenType.L_PAREN:
        return None
    items: list[list[str]] = [[]]
    depth = 0
    for token in tokens[open_paren + 1:]:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            if depth == 0:
                break
            depth -= 1
        elif token.token_type == TokenType.COMMA and depth == 0:
            items.append([])
        elif depth == 0:
            items[-1].append(token.text.lower())
    types = []
    for item in (item for item in items if item):
        if len(item) > 1 and item[0] not in _TYPE_FIRST_WORDS:
            item = item[1:]  # [argname] argtype (r_GRANT.md)
        types.append(type_key(" ".join(item)))
    return ",".join(types)


def shown_function(name: str, signature: str) -> str:
    """f(integer, character varying), as Redshift names a function in its messages."""
    return f"{name}({', '.join(_SHOWN_TYPES.get(t, t) for t in signature.split(',') if t)})"


def procedure_key(name: str, signature: str) -> str:
    """A stored procedure's key in the principals catalog: name(input argument types), the types as the
    procedures' catalog keeps them (procedures/catalog.signature), which function_signature's match."""
    return f"{name}({signature})"


def procedure_keys(session: EngineSession, written: str, missing_is_error: bool = True) -> list[str]:
    """The keys of the stored procedures `[schema.]name[(argument types)]` names (GRANT / REVOKE ON PROCEDURE, DROP
    PROCEDURE): the one of those input types, without a list every overload of the name. None: PostgreSQL's
    "procedure name(types) does not exist", unless `missing_is_error` is false."""
    from shiftflow.dataapi.procedures import catalog as procedures
    from shiftflow.sql.splitter import tokenize

    tokens = tokenize(written)
    opening = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.L_PAREN), len(tokens))
    parts = [t.text if t.token_type == TokenType.IDENTIFIER else t.text.lower() for t in tokens[:opening]
             if t.token_type != TokenType.DOT]
    signature = function_signature(tokens, opening)
    found = [stored for stored in procedures.candidates(session, parts[-2] if len(parts) > 1 else None, parts[-1])
             if signature is None or stored.signature == signature]
    if not found and missing_is_error:
        named = shown_function(parts[-1], signature) if signature is not None else parts[-1]
        raise EngineError(f"procedure {named} does not exist")
    return [procedure_key(stored.name, stored.signature) for stored in found]


def _replaced_procedure(session: EngineSession, statement: str, need: Needs) -> list[str]:
    """CREATE OR REPLACE PROCEDURE of one that exists: its key (its owner or a superuser replaces it,
    stored-procedure-naming.md)."""
    if not need.creates or need.creates[0] != "procedure":
        return []
    _, schema, name = need.creates
    key = _created_procedure_key(statement, name)
    existing = procedure_keys(session, f"{schema or current_schema(session)}.{name}", missing_is_error=False)
    return [key] if key in existing else []


def _created_procedure_key(statement: str, name: str) -> str:
    """CREATE [OR REPLACE] PROCEDURE: the key of the procedure it makes (its IN and INOUT arguments' types)."""
    from shiftflow.dataapi.procedures import catalog as procedures
    from shiftflow.dataapi.procedures.parser import parse_procedure

    return procedure_key(name, procedures.signature(parse_procedure(statement).arguments))


def require_function(session: EngineSession, written: str) -> None:
    """`name(argument types)` names the SQL UDF there is: else Redshift's "function f(types) does not exist"."""
    from shiftflow.sql.splitter import tokenize

    tokens = tokenize(written)
    opening = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.L_PAREN), len(tokens))
    name = tokens[opening - 1].text if tokens[opening - 1].token_type == TokenType.IDENTIFIER \
        else tokens[opening - 1].text.lower()
    signature = function_signature(tokens, opening)
    kept = catalog.signature(session, name)
    if name not in functions_in(session, None) or (
            signature is not None and kept is not None and kept != signature):
        raise EngineError(f"function {shown_function(name, signature) if signature is not None else name}"
                          " does not exist")


def _named_function(statement: str) -> tuple[str, str | None]:
    """CREATE [OR REPLACE] FUNCTION / DROP FUNCTION [IF EXISTS] [schema.]name (types): the name and the types."""
    from shiftflow.sql.splitter import tokenize

    tokens = tokenize(statement)
    opening = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.L_PAREN), len(tokens))
    return tokens[opening - 1].text.lower(), function_signature(tokens, opening)


def _signed(session: EngineSession, statement: str, need: Needs) -> Callable[[EngineSession], None] | None:
    """CREATE [OR REPLACE] FUNCTION: the step keeping its argument types; another overload of an existing one is
    refused (the macro would replace it)."""
    if not need.creates or need.creates[0] != "function":
        return None
    name, signature = _named_function(statement)
    if signature is None:
        return None
    kept = catalog.signature(session, name) if name in functions_in(session, None) else None
    if kept is not None and kept != signature:
        raise NotSupportedLocally(f"overloaded SQL UDFs on the DuckDB engine ({shown_function(name, signature)}"
                                  f" beside {shown_function(name, kept)}, which DuckDB's macro would replace)")
    return lambda session: catalog.set_signature(session, name, signature)


def _check_schema(session: EngineSession, who: Principal, privilege: str, schema: str) -> None:
    if schema in _SYSTEM_SCHEMAS or owner(session, "schema", schema) == who.name:
        return
    if privilege == "OWNER":
        raise EngineError(f"must be owner of schema {schema}")
    if not holds(session, who, privilege, "schema", schema):
        raise EngineError(f"permission denied for schema {schema}")


def _check_relation(session: EngineSession, who: Principal, privilege: str, relation: Relation,
                    depth: int = 0) -> None:
    found = resolve(session, relation)
    if found is None:
        return  # the engine's own "does not exist"
    schema, name = found
    _check_schema(session, who, "USAGE", schema)
    key = f"{schema}.{name}"
    if owner(session, "relation", key) != who.name and not holds(session, who, privilege, "relation", key):
        if privilege in {"DROP", "ALTER"}:  # the owner's, unless granted (r_GRANT.md's DROP and ALTER)
            raise EngineError(f"must be owner of relation {name}")
        raise EngineError(f"permission denied for relation {name}")
    view = _relations(session).views.get(found)
    if view is None or privilege != "SELECT":
        return
    view_owner = owner(session, "relation", key)
    if view_owner is None:
        return  # a superuser's view reads what it reads
    if depth > 16:
        raise NotSupportedLocally("views nested more than 16 deep read by a user who is not a superuser")
    try:
        tree = sqlglot.parse_one(view, read="duckdb")
        tree = tree.expression if isinstance(tree, exp.Create) else tree
    except (ParseError, TokenError):
        raise NotSupportedLocally("checking the privileges of a view's query as its owner") from None
    reader = principal(session, view_owner)
    if reader.superuser:
        return
    for inner_privilege, inner in _read(tree)[0]:
        _check_relation(session, reader, inner_privilege, inner, depth + 1)


def _check_functions(session: EngineSession, who: Principal, names: tuple[str, ...]) -> None:
    if not names:
        return
    udfs = set(functions_in(session, None))
    for name in names:
        if name in udfs and owner(session, "function", name) != who.name \
                and not holds(session, who, "EXECUTE", "function", name):
            raise EngineError(f"permission denied for function {name}")


_PRIVILEGE_FUNCTIONS = {"has_table_privilege": "relation", "has_schema_privilege": "schema",
                        "has_database_privilege": "database"}


def _answer_privilege_functions(session: EngineSession, statement: str) -> bool:
    """HAS_TABLE / SCHEMA / DATABASE_PRIVILEGE(user, object, privilege) with literal arguments, answered from the
    catalog for another user than the admin user (r_HAS_TABLE_PRIVILEGE.md ...): true when the user holds any of
    the privileges listed, owns the object or is a superuser. The answers go to the variable the functions read."""
    try:
        tree = sqlglot.parse_one(statement, read="redshift")
    except (ParseError, TokenError):
        return False
    login = _login(session)
    answers = {}
    for node in tree.find_all(exp.Anonymous):
        function = node.name.lower()
        if function in {"user_is_member_of", "role_is_member_of"} and len(node.expressions) == 2 and all(
                isinstance(a, exp.Literal) and a.is_string for a in node.expressions):
            member, container = (a.this for a in node.expressions)
            answers[f"{function}|{member}|{container}"] = _membership_answer(session, function, member, container)
            continue
        kind = _PRIVILEGE_FUNCTIONS.get(function)
        arguments = list(node.expressions)
        if len(arguments) == 2:
            arguments.insert(0, exp.Literal.string(authorization(session) or login))
        if kind is None or len(arguments) != 3 or not all(isinstance(a, exp.Literal) and a.is_string
                                                            for a in arguments):
            continue
        user, name, privileges = (a.this for a in arguments)
        if user.lower() == str(login).lower() and authorization(session) is None:
            continue  # the admin user: the function's own answer
        answers[f"{node.name.lower()}|{user}|{name}|{privileges}"] = _privilege_answer(
            session, user, kind, name, privileges)
    if answers:  # forgotten once the statement ran (authorize's step)
        pairs = ", ".join(f"{_literal(key)}: {str(value).lower()}" for key, value in answers.items())
        session.execute(f"SET VARIABLE shiftflow_privileges = MAP {{{pairs}}}", {})
    return bool(answers)


def _membership_answer(session: EngineSession, function: str, member: str, container: str) -> bool:
    """USER_IS_MEMBER_OF(user, role | group) / ROLE_IS_MEMBER_OF(role, granted role): directly or through roles. A
    name that does not exist: `role "x" does not exist`, PostgreSQL's pg_has_role's words, as on the PostgreSQL
    engine (Redshift's pages show no error: chosen)."""
    member_kind = "user" if function == "user_is_member_of" else "role"
    ready = catalog.ready(session)
    if not ready or not catalog.exists(session, member_kind, member):
        raise EngineError(f'role "{member}" does not exist')
    kinds = ("role", "group") if member_kind == "user" else ("role",)
    if not any(catalog.exists(session, kind, container) for kind in kinds):
        raise EngineError(f'role "{container}" does not exist')
    who = acting_user(session)
    if who is not None and (member_kind, member) != ("user", who.name) and ("role", member) not in who.grantees:
        raise NotSupportedLocally(f"{function}() of another user or role as a user who is not a superuser")
    if member_kind == "user":
        held = principal(session, member).grantees
    else:
        held, pending = set(), [member]
        members = session.execute(f"SELECT container FROM {catalog.SCHEMA}.members WHERE kind = 'role' AND"
                                  " member_kind = 'role' AND member = $m", {"m": member}).rows
        held = {("role", row[0]) for row in members}
        pending = [row[0] for row in members]
        while pending:
            for row in session.execute(f"SELECT container FROM {catalog.SCHEMA}.members WHERE kind = 'role' AND"
                                       " member_kind = 'role' AND member = $m", {"m": pending.pop()}).rows:
                if ("role", row[0]) not in held:
                    held.add(("role", row[0]))
                    pending.append(row[0])
    return any((kind, container) in held for kind in kinds)


def _privilege_answer(session: EngineSession, user: str, kind: str, name: str, privileges: str) -> bool:
    if not catalog.ready(session) or not catalog.exists(session, "user", user):
        raise EngineError(MISSING_USER.format(user=user))
    who = principal(session, user)
    listed = [p.strip().upper() for p in privileges.split(",")]
    allowed = set(ALL_PRIVILEGES[kind]) | {"TEMPORARY"}
    for privilege in listed:
        if privilege not in allowed:
            raise EngineError(f'unrecognized privilege type: "{privileges}"')
    if kind == "relation":
        parts = [part.strip('"') if part.startswith('"') else part.lower() for part in name.split(".")]
        found = resolve(session, Relation(parts[-2] if len(parts) > 1 else None, parts[-1]))
        if found is None:
            raise EngineError(f'relation "{name}" does not exist')
        key = f"{found[0]}.{found[1]}"
    else:
        key = name.lower()
    if who.superuser or owner(session, kind, key) == who.name:
        return True
    return any(holds(session, who, "TEMP" if p == "TEMPORARY" else p, kind, key) for p in listed)


def relations_in(session: EngineSession, schema: str) -> list[str]:
    """The names of the tables and views of a schema (GRANT ... ON ALL TABLES IN SCHEMA: those there now)."""
    return sorted(name for (found, name) in _relations(session).kinds if found == schema)


def functions_in(session: EngineSession, schema: str | None) -> list[str]:
    """The names of the SQL UDFs (DuckDB macros) of a schema (None: of any)."""
    return sorted({row[0] for row in session.execute(
        "SELECT function_name FROM duckdb_functions() WHERE function_type = 'macro' AND NOT internal AND"
        " database_name <> 'temp' AND schema_name = coalesce($schema, schema_name)", {"schema": schema}).rows})


def procedures_in(session: EngineSession, schema: str) -> list[str]:
    """The keys of a schema's stored procedures (GRANT ... ON ALL PROCEDURES IN SCHEMA: those there now)."""
    from shiftflow.dataapi.procedures import catalog as procedures

    return [procedure_key(stored.name, stored.signature) for stored in procedures.in_schema(session, schema)]


_DROP = re.compile(r"\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*drop\s", re.IGNORECASE | re.DOTALL)


def _dropped(session: EngineSession, statement: str) -> Callable[[EngineSession], None] | None:
    """DROP TABLE / VIEW / SCHEMA / FUNCTION by any user: its owner and the grants on it go once it is dropped."""
    if not _DROP.match(statement) or not catalog.ready(session):
        return None
    need = needs(statement)
    if need.owned_functions:  # DROP FUNCTION f(types): the function of those types
        name, signature = _named_function(statement)
        kept = catalog.signature(session, name)
        if signature is not None and kept is not None and kept != signature:
            if re.match(r"\s*drop\s+function\s+if\s+exists\s", statement, re.IGNORECASE):
                raise NotSupportedLocally(f"DROP FUNCTION IF EXISTS {shown_function(name, signature)} beside"
                                          f" {shown_function(name, kept)} on the DuckDB engine (DROP MACRO drops"
                                          " by name)")
            raise EngineError(f"function {shown_function(name, signature)} does not exist")
    objects = [("schema", name) for privilege, name in need.schemas if privilege == "OWNER" and name]
    objects += [("function", name) for name in need.owned_functions]
    objects += [("procedure", key) for written in need.owned_procedures
                for key in procedure_keys(session, written, missing_is_error=False)]
    for _, relation in need.relations:
        found = resolve(session, relation)
        if found is not None:
            objects.append(("relation", f"{found[0]}.{found[1]}"))

    def forget(session: EngineSession) -> None:
        for kind, key in objects:
            catalog.forget_object(session, kind, key)

    return forget if objects else None


@dataclass(frozen=True)
class Guarded(SessionCommand):
    """A session command checked first (authorize) when the session runs as a user who is not a superuser."""

    inner: SessionCommand
    statement: str = field(compare=False)  # the text as sent (a trailing semicolon changes no check)
    parameter_names: tuple[str, ...] = ()
    session_scoped: bool = False

    def __getattr__(self, name: str) -> Any:  # what the command is (a CALL's procedure name ...): the inner one's
        if name.startswith("__") or name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    @property
    def optional_parameter_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.inner.optional_parameter_names

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        after = authorize(session, self.statement)
        result = self.inner.run(session, parameters, in_transaction)
        if after is not None:
            after(session)
        return result
