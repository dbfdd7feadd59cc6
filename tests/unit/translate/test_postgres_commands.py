"""Redshift's user, group and role statements on the PostgreSQL engine (commands/roles.py), commands PostgreSQL runs
as written (commands/written.py), and the Redshift-only statements and parameters both engines refuse."""

from __future__ import annotations

import itertools

import psycopg
import pytest

from shiftflow.dataapi.engines.postgres import LOGIN_ROLE
from shiftflow.dataapi.translate import NotSupportedLocally, translate
from tests.unit.translate.conftest import run_script

_names = itertools.count()


@pytest.fixture
def roles(postgres_session):
    """Fresh role names (roles are the server's, not one database's); dropped after the test."""
    made = [f"h13_role_{next(_names)}_{i}" for i in range(3)]
    yield made
    for role in made:
        postgres_session.execute(f"DROP ROLE IF EXISTS {role}", {})


def _memberships(session, role: str) -> list[tuple]:
    """The role's members (the sessions' login role, a member of every role it creates, aside)."""
    return run_script(session, "select m.rolname, r.rolname, a.admin_option from pg_auth_members a"
                               " join pg_roles m on m.oid = a.member join pg_roles r on r.oid = a.roleid"
                               f" where r.rolname = '{role}' and m.rolname <> '{LOGIN_ROLE}' order by 1").rows


def test_role_membership_in_redshifts_words(postgres_session, roles):
    # r_GRANT-examples.md / r_REVOKE-examples.md: GRANT ROLE r TO user | ROLE r2 [WITH ADMIN OPTION].
    user, first, second = roles
    run_script(postgres_session, f"create user {user} password 'abcD1234' session timeout 120;"
                                 f"create role {first}; create role {second};"
                                 f"grant role {first} to {user} with admin option;"
                                 f"grant role {first} to role {second}")
    assert _memberships(postgres_session, first) == [(user, first, True), (second, first, False)]
    run_script(postgres_session, f"revoke admin option for role {first} from {user}; revoke role {first} from role {second}")
    assert _memberships(postgres_session, first) == [(user, first, False)]
    run_script(postgres_session, f"drop role {first} force")
    assert _memberships(postgres_session, first) == []
    run_script(postgres_session, f"alter role {second} with rename to {first}")
    assert run_script(postgres_session, f"select count(*) from pg_roles where rolname = '{first}'").rows == [(1,)]


def test_user_options_postgres_has_otherwise(postgres_engine, postgres_session, roles):
    user = roles[0]
    run_script(postgres_session, f"create user {user} password disable nocreateuser connection limit unlimited;"
                                 f"alter user {user} session timeout 300; alter user {user} reset session timeout;"
                                 f"alter user {user} nocreateuser")
    with psycopg.connect(postgres_engine.superuser_dsn) as superuser:  # pg_authid is the superuser's to read
        assert superuser.execute("select rolsuper, rolconnlimit, rolpassword is null from pg_authid"
                                 f" where rolname = '{user}'").fetchall() == [(False, -1, True)]


def test_a_superuser_is_not_supported_on_postgres(postgres_session, roles):
    # The sessions' login role is no PostgreSQL superuser and cannot make one (engines/postgres.py)
    for statement in (f"create user {roles[0]} password disable createuser", f"alter user {roles[0]} createuser"):
        with pytest.raises(NotSupportedLocally, match=r"^not supported locally: CREATEUSER \(a superuser\) on the"
                                                      " PostgreSQL engine"):
            translate(statement, "postgres")
    assert run_script(postgres_session, f"select count(*) from pg_roles where rolname = '{roles[0]}'").rows == [(0,)]


@pytest.mark.parametrize("statement, what", [
    ("grant create schema, drop schema to role r", "system privileges"),
    ("grant assumerole on 'arn:aws:iam::123456789012:role/R' to u for copy", "ASSUMEROLE"),
    ("grant usage on datashare salesshare to namespace 'x'", "datashare"),
    ("alter role r with owner to u", "role owners"),
    ("create role r externalid \"ABC123\"", "EXTERNALID"),
])
def test_role_statements_postgres_lacks_are_refused(statement, what):
    with pytest.raises(NotSupportedLocally, match=what):
        translate(statement, "postgres")


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
@pytest.mark.parametrize("statement, what", [
    ("create or replace external function f(int) returns int volatile lambda 'f' iam_role 'r'", "Lambda UDFs"),
    ("create rls policy p with (c varchar(10)) using (c = 'x')", "row-level security"),
    ("alter table t row level security on for datashares", "row-level security"),
    ("create masking policy m with (c int) using (c)", "masking"),
    ("drop identity provider oauth", "identity providers"),
    ("drop model demo.churn", "DROP MODEL"),
    ("drop datashare salesshare", "datashares"),
    ("show view public.sports_v", "SHOW VIEW"),
    ("show datashares like 'sales%'", "SHOW DATASHARES"),
])
def test_redshift_only_statements_are_refused_on_both_engines(engine, statement, what):
    with pytest.raises(NotSupportedLocally, match=what):
        translate(statement, engine)


def test_a_command_postgres_cannot_parse_is_not_supported_locally(postgres_session):
    # r_ALTER_DATABASE.md: Redshift syntax PostgreSQL's grammar lacks.
    with pytest.raises(NotSupportedLocally, match=r"^not supported locally: ALTER DATABASE \.\.\. COLLATE \(a database"):
        run_script(postgres_session, "alter database dev collate case_insensitive")
    with pytest.raises(NotSupportedLocally, match=r"ALTER MATERIALIZED VIEW"):
        run_script(postgres_session, "create table t (a int); create materialized view v as select a from t;"
                                     " alter materialized view v auto refresh yes")


def test_a_command_postgres_has_runs_as_written(postgres_session, roles):
    group = roles[0]
    run_script(postgres_session, f"create group {group}; alter default privileges grant select on tables to group {group}")
    try:
        # Redshift's pg_default_acl has other columns than PostgreSQL's: refused rather than read differently
        with pytest.raises(NotSupportedLocally, match="system table pg_default_acl"):
            run_script(postgres_session, "select count(*) from pg_default_acl")
    finally:
        run_script(postgres_session, f"alter default privileges revoke select on tables from group {group}")


def test_redshift_parameters_postgres_lacks_are_refused(postgres_session):
    for statement in ("set json_serialization_enable to true", "show navigate_super_null_on_error",
                      "reset cast_super_null_on_error"):
        with pytest.raises(NotSupportedLocally, match="a Redshift parameter the PostgreSQL engine does not have"):
            translate(statement, "postgres")
    # PostgreSQL's own parameters with Redshift's meaning still run.
    assert run_script(postgres_session, "set datestyle to 'ISO, MDY'; show datestyle").rows == [("ISO, MDY",)]
