"""Where DuckDB keeps Redshift's users, groups and roles, their memberships and the privileges granted to them: tables
of the schema shiftflow_principal in the warehouse itself (created with the first of them), so that they live and
die with the database and its transactions, as the procedures' catalog does.

DuckDB has no users: the emulator's session is Redshift's admin user, a superuser (r_superusers.md), until SET
SESSION AUTHORIZATION makes it one of these (access.py, which checks each statement against what is kept here).
Kept: names that exist or clash, members of groups and roles, the privileges granted (by object key: 'schema.table'
for a relation, the name of a schema, function, procedure or database), the owners of objects a user other than the
admin made or was given (ALTER ... OWNER TO; no entry: a superuser owns it), the defaults of ALTER DEFAULT
PRIVILEGES, and whether a principal still holds a privilege or owns an object (DROP USER / GROUP refuse then,
r_DROP_USER.md, r_DROP_GROUP.md).
"""

from __future__ import annotations

from shiftflow.dataapi.engines.base import EngineError, EngineSession
from shiftflow.dataapi.translate.commands.roles import ROLE_GRANTED_TO_A_USER, ROLE_INHERITS_A_ROLE
from shiftflow.dataapi.translate.relations import internal_table_exists

SCHEMA = "shiftflow_principal"
# The argument types of each SQL UDF (access.function_signature): a DuckDB macro keeps none of them.
_SIGNATURES = f"CREATE TABLE IF NOT EXISTS {SCHEMA}.signatures (name VARCHAR PRIMARY KEY, signature VARCHAR)"
_SETUP = (f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
          f"CREATE TABLE IF NOT EXISTS {SCHEMA}.principals (kind VARCHAR, name VARCHAR, superuser BOOLEAN,"
          " createdb BOOLEAN, connection_limit VARCHAR, sysid INTEGER, valid_until VARCHAR, PRIMARY KEY (kind, name))",
          f"CREATE TABLE IF NOT EXISTS {SCHEMA}.members (kind VARCHAR, container VARCHAR, member_kind VARCHAR,"
          " member VARCHAR, PRIMARY KEY (kind, container, member_kind, member))",
          f"CREATE TABLE IF NOT EXISTS {SCHEMA}.privileges (grantee_kind VARCHAR, grantee VARCHAR,"
          " privilege VARCHAR, object_kind VARCHAR, object_name VARCHAR,"
          " PRIMARY KEY (grantee_kind, grantee, privilege, object_kind, object_name))",
          f"CREATE TABLE IF NOT EXISTS {SCHEMA}.owners (object_kind VARCHAR, object_name VARCHAR, owner VARCHAR,"
          " PRIMARY KEY (object_kind, object_name))",
          # ALTER DEFAULT PRIVILEGES: owner '' is the admin user, schema_name '' every schema
          f"CREATE TABLE IF NOT EXISTS {SCHEMA}.default_privileges (owner VARCHAR, schema_name VARCHAR,"
          " object_kind VARCHAR, grantee_kind VARCHAR, grantee VARCHAR, privilege VARCHAR,"
          " PRIMARY KEY (owner, schema_name, object_kind, grantee_kind, grantee, privilege))",
          _SIGNATURES)
KINDS = ("user", "group", "role")
# A privilege PUBLIC holds by default (access.public_default) revoked from PUBLIC: a row of PUBLIC's with this
# prefix, which a GRANT to PUBLIC deletes.
REVOKED_FROM_PUBLIC = "revoked "


def ready(session: EngineSession) -> bool:
    """Whether the catalog exists (a principal, a grant or an owner was recorded): read only."""
    return internal_table_exists(session, SCHEMA, "owners")


def _ready(session: EngineSession) -> None:
    if ready(session):
        return
    for statement in _SETUP:
        session.execute(statement, {})


def exists(session: EngineSession, kind: str, name: str) -> bool:
    _ready(session)
    rows = session.execute(f"SELECT count(*) FROM {SCHEMA}.principals WHERE kind = $kind AND name = $name",
                           {"kind": kind, "name": name}).rows
    return bool(rows[0][0])


def require(session: EngineSession, kind: str, name: str) -> None:
    if kind == "public":  # PUBLIC: every user, always there
        return
    if not exists(session, kind, name):
        raise EngineError(f'{kind} "{name}" does not exist')


def create(session: EngineSession, kind: str, name: str, superuser: bool = False, createdb: bool = False,
           connection_limit: str = "UNLIMITED") -> None:
    if exists(session, kind, name):
        raise EngineError(f'{kind} "{name}" already exists')
    # ids after the admin user's 100, as r_Users.md lists them (101, 102 ...)
    session.execute(f"INSERT INTO {SCHEMA}.principals (kind, name, superuser, createdb, connection_limit, sysid)"
                    " SELECT $kind, $name, $superuser, $createdb, $limit,"
                    f" greatest(100, coalesce(max(sysid), 100)) + 1 FROM {SCHEMA}.principals",
                    {"kind": kind, "name": name, "superuser": str(superuser).lower(),
                     "createdb": str(createdb).lower(), "limit": connection_limit})


# VALID UNTIL's time (r_CREATE_USER.md, r_ALTER_USER.md), a column a catalog kept from before it lacks
_VALID_UNTIL = f"ALTER TABLE {SCHEMA}.principals ADD COLUMN IF NOT EXISTS valid_until VARCHAR"


def update(session: EngineSession, kind: str, name: str, column: str, value: str) -> None:
    require(session, kind, name)
    assert column in {"superuser", "createdb", "connection_limit", "valid_until"}
    if column == "valid_until":
        session.execute(_VALID_UNTIL, {})
    session.execute(f"UPDATE {SCHEMA}.principals SET {column} = $value WHERE kind = $kind AND name = $name",
                    {"value": value, "kind": kind, "name": name})


def rename(session: EngineSession, kind: str, name: str, new_name: str) -> None:
    require(session, kind, name)
    if exists(session, kind, new_name):
        raise EngineError(f'{kind} "{new_name}" already exists')
    values = {"kind": kind, "name": name, "new": new_name}
    session.execute(f"UPDATE {SCHEMA}.principals SET name = $new WHERE kind = $kind AND name = $name", values)
    session.execute(f"UPDATE {SCHEMA}.members SET container = $new WHERE kind = $kind AND container = $name", values)
    session.execute(f"UPDATE {SCHEMA}.members SET member = $new WHERE member_kind = $kind AND member = $name", values)
    session.execute(f"UPDATE {SCHEMA}.privileges SET grantee = $new WHERE grantee_kind = $kind AND grantee = $name",
                    values)


def drop(session: EngineSession, kind: str, name: str, if_exists: bool = False, force: bool = False) -> None:
    if not exists(session, kind, name):
        if if_exists:
            return
        raise EngineError(f'{kind} "{name}" does not exist')
    values = {"kind": kind, "name": name}
    held = session.execute(f"SELECT count(*) FROM {SCHEMA}.privileges WHERE grantee_kind = $kind AND grantee = $name"
                           " AND object_kind <> 'role'", values).rows[0][0]
    if held and kind in {"user", "group"}:
        raise EngineError(f'{kind} "{name}" cannot be dropped because the {kind} has a privilege on some object')
    if kind == "user" and session.execute(f"SELECT count(*) FROM {SCHEMA}.owners WHERE owner = $name",
                                          {"name": name}).rows[0][0]:
        raise EngineError(f'user "{name}" cannot be dropped because the user owns some object')
    if kind == "role" and not force:
        granted = session.execute(f"SELECT member_kind FROM {SCHEMA}.members WHERE kind = 'role' AND container = $name",
                                  {"name": name}).rows
        if any(row[0] == "user" for row in granted):
            raise EngineError(ROLE_GRANTED_TO_A_USER)
        if session.execute(f"SELECT count(*) FROM {SCHEMA}.members WHERE kind = 'role' AND member_kind = 'role' AND"
                           " member = $name", {"name": name}).rows[0][0]:
            raise EngineError(ROLE_INHERITS_A_ROLE)
    session.execute(f"DELETE FROM {SCHEMA}.principals WHERE kind = $kind AND name = $name", values)
    session.execute(f"DELETE FROM {SCHEMA}.members WHERE (kind = $kind AND container = $name) OR"
                    " (member_kind = $kind AND member = $name)", values)
    session.execute(f"DELETE FROM {SCHEMA}.privileges WHERE (grantee_kind = $kind AND grantee = $name) OR"
                    " ($kind = 'role' AND object_kind = 'role' AND object_name = $name)", values)


def kind_of_grantee(session: EngineSession, name: str) -> str:
    """GRANT r TO name without USER or ROLE before the name (r_DROP_ROLE.md's examples): a user, else a role."""
    return "role" if not exists(session, "user", name) and exists(session, "role", name) else "user"


def add_member(session: EngineSession, kind: str, container: str, member_kind: str, member: str) -> None:
    require(session, kind, container)
    require(session, member_kind, member)
    session.execute(f"INSERT OR IGNORE INTO {SCHEMA}.members VALUES ($kind, $container, $member_kind, $member)",
                    {"kind": kind, "container": container, "member_kind": member_kind, "member": member})


def remove_member(session: EngineSession, kind: str, container: str, member_kind: str, member: str) -> None:
    require(session, kind, container)
    require(session, member_kind, member)
    session.execute(f"DELETE FROM {SCHEMA}.members WHERE kind = $kind AND container = $container AND"
                    " member_kind = $member_kind AND member = $member",
                    {"kind": kind, "container": container, "member_kind": member_kind, "member": member})


def grant(session: EngineSession, grantee_kind: str, grantee: str, privilege: str, object_kind: str,
          object_name: str) -> None:
    """One privilege (ALL expanded by the caller) on one object, named by its key (access.py: 'schema.table' for
    a relation, the name of a schema, function or database, lower case unless quoted)."""
    require(session, grantee_kind, grantee)
    values = {"gk": grantee_kind, "g": grantee, "p": privilege, "ok": object_kind, "o": object_name}
    session.execute(f"INSERT OR IGNORE INTO {SCHEMA}.privileges VALUES ($gk, $g, $p, $ok, $o)", values)
    if grantee_kind == "public":
        session.execute(f"DELETE FROM {SCHEMA}.privileges WHERE grantee_kind = 'public' AND privilege = $p AND"
                        " object_kind = $ok AND object_name = $o",
                        {"p": REVOKED_FROM_PUBLIC + privilege, "ok": object_kind, "o": object_name})


def revoke(session: EngineSession, grantee_kind: str, grantee: str, privilege: str, object_kind: str,
           object_name: str, public_default: bool = False) -> None:
    """`public_default`: PUBLIC holds it until revoked (access.public_default): the revocation is kept."""
    require(session, grantee_kind, grantee)
    values = {"gk": grantee_kind, "g": grantee, "p": privilege, "ok": object_kind, "o": object_name}
    session.execute(f"DELETE FROM {SCHEMA}.privileges WHERE grantee_kind = $gk AND grantee = $g AND"
                    " object_kind = $ok AND object_name = $o AND privilege = $p", values)
    if public_default and grantee_kind == "public":
        session.execute(f"INSERT OR IGNORE INTO {SCHEMA}.privileges VALUES ($gk, $g, $p, $ok, $o)",
                        {**values, "p": REVOKED_FROM_PUBLIC + privilege})


def set_owner(session: EngineSession, object_kind: str, object_name: str, owner: str | None) -> None:
    """The object's owner (None: a superuser, the admin user who owns what no entry names)."""
    _ready(session)
    values = {"ok": object_kind, "o": object_name, "owner": owner}
    session.execute(f"DELETE FROM {SCHEMA}.owners WHERE object_kind = $ok AND object_name = $o",
                    {"ok": object_kind, "o": object_name})
    if owner is not None:
        session.execute(f"INSERT INTO {SCHEMA}.owners VALUES ($ok, $o, $owner)", values)


def set_signature(session: EngineSession, function: str, signature: str) -> None:
    """The argument types a SQL UDF was created with (kept from its first CREATE FUNCTION on)."""
    _ready(session)
    session.execute(_SIGNATURES, {})  # a catalog kept from before signatures were
    session.execute(f"INSERT OR REPLACE INTO {SCHEMA}.signatures VALUES ($name, $signature)",
                    {"name": function, "signature": signature})


def signature(session: EngineSession, function: str) -> str | None:
    """The argument types the SQL UDF was created with; None when not kept (a function created before)."""
    if not ready(session) or not internal_table_exists(session, SCHEMA, "signatures"):
        return None
    rows = session.execute(f"SELECT signature FROM {SCHEMA}.signatures WHERE name = $name", {"name": function}).rows
    return rows[0][0] if rows else None


def rename_object(session: EngineSession, object_kind: str, object_name: str, new_name: str) -> None:
    """A renamed object (ALTER PROCEDURE ... RENAME TO): its owner and the privileges on it keep to it."""
    values = {"ok": object_kind, "o": object_name, "new": new_name}
    for table in ("owners", "privileges"):
        session.execute(f"UPDATE {SCHEMA}.{table} SET object_name = $new WHERE object_kind = $ok AND"
                        " object_name = $o", values)


def forget_object(session: EngineSession, object_kind: str, object_name: str) -> None:
    """A dropped object: its owner and the privileges on it go with it (a schema's relations with it)."""
    values = {"ok": object_kind, "o": object_name, "prefix": object_name + "."}
    if object_kind == "function" and signature(session, object_name) is not None:
        session.execute(f"DELETE FROM {SCHEMA}.signatures WHERE name = $name", {"name": object_name})
    for table in ("owners", "privileges"):
        session.execute(f"DELETE FROM {SCHEMA}.{table} WHERE (object_kind = $ok AND object_name = $o) OR"
                        " ($ok = 'schema' AND object_kind = 'relation' AND starts_with(object_name, $prefix))",
                        values)


def users(session: EngineSession) -> list[tuple[str, int, bool, bool, str, str | None]]:
    """(name, id, superuser, createdb, connection limit, VALID UNTIL's time as written or None) of the users
    created, in the order of their ids. Read only: a database without the catalog has none."""
    columns = {row[0] for row in session.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = $schema AND table_name = 'principals'",
        {"schema": SCHEMA}).rows}
    if not columns:
        return []
    until = "valid_until" if "valid_until" in columns else "NULL"
    return [tuple(row) for row in session.execute(  # type: ignore[misc]
        f"SELECT name, sysid, superuser, createdb, connection_limit, {until} FROM {SCHEMA}.principals"
        " WHERE kind = 'user' ORDER BY sysid", {}).rows]


def default_privilege(session: EngineSession, granting: bool, owner: str, schema: str, object_kind: str,
                      grantee_kind: str, grantee: str, privilege: str, public_default: bool) -> None:
    """One default of ALTER DEFAULT PRIVILEGES; a REVOKE FROM PUBLIC of what PUBLIC holds by default (EXECUTE on
    functions) is kept as the revocation to apply."""
    _ready(session)
    values = {"owner": owner, "schema": schema, "ok": object_kind, "gk": grantee_kind, "g": grantee,
              "p": privilege, "revoked": REVOKED_FROM_PUBLIC + privilege}
    session.execute(f"DELETE FROM {SCHEMA}.default_privileges WHERE owner = $owner AND schema_name = $schema AND"
                    " object_kind = $ok AND grantee_kind = $gk AND grantee = $g AND privilege IN ($p, $revoked)",
                    values)
    if granting or (public_default and grantee_kind == "public"):
        session.execute(f"INSERT INTO {SCHEMA}.default_privileges VALUES ($owner, $schema, $ok, $gk, $g,"
                        " $chosen)", {**{k: v for k, v in values.items() if k not in {"p", "revoked"}},
                                      "chosen": privilege if granting else REVOKED_FROM_PUBLIC + privilege})


def apply_defaults(session: EngineSession, owner: str, schema: str, object_kind: str, object_name: str) -> None:
    """The defaults of the object's owner ('' the admin user) and schema, applied to the object just created."""
    if not ready(session):
        return
    rows = session.execute(f"SELECT grantee_kind, grantee, privilege FROM {SCHEMA}.default_privileges WHERE"
                           " owner = $owner AND schema_name IN ('', $schema) AND object_kind = $ok",
                           {"owner": owner, "schema": schema, "ok": object_kind}).rows
    for grantee_kind, grantee, privilege in rows:
        if privilege.startswith(REVOKED_FROM_PUBLIC):
            revoke(session, grantee_kind, grantee, privilege[len(REVOKED_FROM_PUBLIC):], object_kind, object_name,
                   public_default=True)
        else:
            grant(session, grantee_kind, grantee, privilege, object_kind, object_name)
