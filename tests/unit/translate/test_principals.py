"""Users, groups, roles and privileges on the DuckDB engine (shiftflow/dataapi/principals/), from the SQL reference's
examples: what Redshift checks is checked, what a later check reads is kept, and the session stays the superuser."""

from __future__ import annotations

import datetime as dt

import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate import NotSupportedLocally
from tests.unit.translate.conftest import run_script


def test_users_and_groups_of_the_reference_examples_are_created_altered_and_dropped(duckdb_session):
    # r_CREATE_USER.md, r_CREATE_GROUP.md, r_ALTER_GROUP.md, r_DROP_USER.md
    run_script(duckdb_session, """
        create user dbuser with password 'abcD1234' createdb connection limit 30;
        create user slashpass password 'md50c983d1a624280812631c5389e60d48c';
        create group admin_group with user dbuser, slashpass;
        alter group admin_group drop user slashpass;
        alter group admin_group rename to administrators;
        alter user dbuser rename to sysadmin;
        alter user sysadmin createuser;
        drop user if exists paulo;
        drop user slashpass""")
    with pytest.raises(EngineError, match='user "sysadmin" already exists'):
        run_script(duckdb_session, "create user sysadmin password 'abcD1234'")
    with pytest.raises(EngineError, match='user "dbuser" does not exist'):
        run_script(duckdb_session, "alter group administrators add user dbuser")
    with pytest.raises(EngineError, match='user "paulo" does not exist'):
        run_script(duckdb_session, "drop user paulo")
    with pytest.raises(EngineError, match='group "guests" does not exist'):
        run_script(duckdb_session, "drop group guests")


@pytest.mark.parametrize("password", ["abcD123", "abcdefgh1", "ABCDEFGH1", "abcdEFGH"])
def test_a_clear_text_password_redshift_refuses_is_refused_on_both_engines(session, password):
    with pytest.raises(EngineError, match="password must"):
        run_script(session, f"create user h13_weak password '{password}'")


def test_grants_check_their_grantees_and_objects_and_keep_a_user_from_being_dropped(duckdb_session):
    # r_GRANT-examples.md, r_REVOKE-examples.md, r_DROP_USER.md ("cannot be dropped because the user has a privilege")
    run_script(duckdb_session, """
        create table sales (id int); create schema qa_tickit;
        create user reader password 'Abcd1234'; create group qa_users;
        grant select, insert on table sales to reader, group qa_users;
        grant usage on schema qa_tickit to group qa_users;
        grant select on all tables in schema qa_tickit to group qa_users;
        grant all on schema public to public""")
    with pytest.raises(EngineError, match='user "nobody" does not exist'):
        run_script(duckdb_session, "grant select on sales to nobody")
    with pytest.raises(EngineError, match="nope"):
        run_script(duckdb_session, "grant select on nope to reader")
    with pytest.raises(EngineError, match='schema "missing" does not exist'):
        run_script(duckdb_session, "grant usage on schema missing to reader")
    with pytest.raises(EngineError, match='user "reader" cannot be dropped because the user has a privilege'):
        run_script(duckdb_session, "drop user reader")
    run_script(duckdb_session, "revoke all on sales from reader; drop user reader")
    assert run_script(duckdb_session, "select count(*) from sales").rows == [(0,)]  # the session is the superuser


def test_a_role_granted_to_a_user_or_inheriting_one_is_dropped_only_with_force_on_both_engines(session):
    # r_DROP_ROLE.md's examples, as written (GRANT role TO name, without ROLE); PostgreSQL's roles are the server's
    try:
        run_script(session, "create user h13_user1 password 'Abcd1234'; create role h13_role1;"
                            " grant h13_role1 to h13_user1")
        with pytest.raises(EngineError, match="cannot drop this role since it has been granted on a user"):
            run_script(session, "drop role h13_role1")
        run_script(session, "drop role h13_role1 force; create role h13_role1; create role h13_role2;"
                            " grant h13_role1 to h13_role2")
        with pytest.raises(EngineError, match="cannot drop this role since it depends on another role"):
            run_script(session, "drop role h13_role2")
        run_script(session, "drop role h13_role2 force; drop role h13_role1")
    finally:
        for statement in ("drop role h13_role2 force", "drop role h13_role1 force", "drop user h13_user1"):
            try:
                run_script(session, statement)
            except EngineError:
                pass


def test_default_privileges_check_their_users_schemas_and_grantees(duckdb_session):
    # r_ALTER_DEFAULT_PRIVILEGES.md
    run_script(duckdb_session, "create user report_admin password 'Abcd1234'; create group report_readers;"
                               " create schema sales")
    run_script(duckdb_session, "alter default privileges for user report_admin grant select on tables to group"
                               " report_readers; alter default privileges in schema sales grant insert on tables to"
                               " group report_readers; alter default privileges grant select on tables to public")
    with pytest.raises(EngineError, match='group "sales_admin" does not exist'):
        run_script(duckdb_session, "alter default privileges in schema sales grant insert on tables to group sales_admin")


@pytest.mark.parametrize("statement", ["grant assumerole on 'arn:aws:iam::123456789012:role/R' to u for copy",
                                       "create role r externalid \"ABC123\"", "grant create user to role r"])
def test_what_redshift_alone_has_stays_refused(duckdb_session, statement):
    with pytest.raises(NotSupportedLocally):
        run_script(duckdb_session, statement)


def test_pg_user_lists_the_users_created_after_the_admin_user(duckdb_session):
    # r_Users.md: rdsdb (1), the admin user (100), then each user CREATE USER made (101, 102 ...)
    run_script(duckdb_session, "create user dwuser password 'Abcd1234'; create user poweruser password 'Abcd1234'"
                               " createuser; create user dbuser password 'Abcd1234' createdb connection limit 30")
    rows = run_script(duckdb_session, "select usename, usesysid, usecreatedb, usesuper from pg_user"
                                      " where usesysid > 100 order by usesysid").rows
    assert rows == [("dwuser", 101, False, False), ("poweruser", 102, False, True), ("dbuser", 103, True, False)]
    assert run_script(duckdb_session, "select useconnlimit from pg_user_info where usename = 'dbuser'").rows == [("30",)]
    run_script(duckdb_session, "drop user poweruser")
    assert [row[0] for row in run_script(duckdb_session, "select usename from pg_user order by usesysid").rows][2:] \
        == ["dwuser", "dbuser"]


def test_pg_user_shows_valid_until(duckdb_session):
    # r_CREATE_USER.md: "create user dbuser with password 'abcD1234' valid until '2017-06-10'"; r_ALTER_USER.md:
    # "valid until '2017-12-31 23:59'", and 'infinity' for no expiration
    run_script(duckdb_session, "create user dbuser with password 'abcD1234' valid until '2017-06-10';"
                               " create user other password 'abcD1234'")
    query = "select usename, valuntil from pg_user where usesysid > 100 order by usesysid"
    assert run_script(duckdb_session, query).rows == [("dbuser", dt.datetime(2017, 6, 10)), ("other", None)]
    run_script(duckdb_session, "alter user dbuser valid until '2017-12-31 23:59'")
    assert run_script(duckdb_session, query).rows[0] == ("dbuser", dt.datetime(2017, 12, 31, 23, 59))
    run_script(duckdb_session, "alter user dbuser valid until 'infinity'")
    with pytest.raises(EngineError, match="not supported locally: pg_user.valuntil 'infinity'"):
        run_script(duckdb_session, query)
    assert run_script(duckdb_session, "select usename from pg_user where usesysid > 100 order by 1").rows == [
        ("dbuser",), ("other",)]
