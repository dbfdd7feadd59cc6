"""Who runs a statement and what they may do (r_SET_SESSION_AUTHORIZATION.md, r_GRANT.md, r_GRANT-examples.md,
r_REVOKE.md, r_CREATE_FUNCTION.md): DuckDB checks each statement against its principals catalog
(shiftflow/dataapi/principals/access.py), PostgreSQL against its own roles, with the same answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate import NotSupportedLocally
from tests.unit.translate.conftest import run_script

_USERS = ("h13a_schema_user", "h13a_view_user", "h13a_user1", "h13a_user2", "h13a_report_admin", "h13a_reader")
_GROUPS = ("h13a_qa_users", "h13a_group1")
_ROLES = ("h13a_role1", "h13a_role2")


@pytest.fixture
def users(session: Any) -> Iterator[Any]:
    """The session; PostgreSQL's roles are the server's: dropped with what they own and hold afterwards."""
    yield session
    if session.engine != "postgres":
        return
    run_script(session, "reset session authorization")
    for name in (*_USERS, *_GROUPS, *_ROLES):
        try:
            session.execute(f"DROP OWNED BY {name}", {})
            session.execute(f"DROP ROLE {name}", {})
        except EngineError:
            pass


def _fails(session: Any, statement: str, message: str) -> None:
    """The statement fails with the engine's error `message` (a regular expression)."""
    with pytest.raises(EngineError, match=message):
        run_script(session, statement)


def test_access_to_a_schema_does_not_grant_access_to_its_tables(users):
    # r_GRANT-examples.md, as written (dw_user there is the admin user: SET SESSION AUTHORIZATION DEFAULT)
    run_script(users, """
        create group h13a_qa_users;
        create user h13a_schema_user in group h13a_qa_users password 'Abcd1234';
        create schema qa_tickit;
        create table qa_tickit.test (col1 int);
        grant all on schema qa_tickit to h13a_schema_user;
        set session authorization h13a_schema_user""")
    assert run_script(users, "select current_user").rows == [("h13a_schema_user",)]
    assert run_script(users, "select session_user").rows == [("h13a_schema_user",)]
    _fails(users, "select count(*) from qa_tickit.test", "permission denied for relation test")
    run_script(users, "set session authorization default; grant select on table qa_tickit.test to h13a_schema_user;"
                      " set session authorization h13a_schema_user")
    assert run_script(users, "select count(*) from qa_tickit.test").rows == [(0,)]
    _fails(users, "insert into qa_tickit.test values (1)", "permission denied for relation test")
    run_script(users, "set session authorization default; create table qa_tickit.other (col1 int);"
                      " set session authorization h13a_schema_user")
    _fails(users, "grant select on qa_tickit.other to h13a_schema_user", "permission denied for relation other")
    _fails(users, "drop table qa_tickit.test", "must be owner of relation test")


def test_access_to_a_view_does_not_imply_access_to_its_underlying_tables(users):
    # r_GRANT-examples.md: VIEW_USER reads VIEW_DATE (365 rows there) but not DATE
    run_script(users, """
        create user h13a_view_user password 'Abcd1234';
        create table date (dateid int);
        insert into date values (1), (2), (3);
        create view view_date as select * from date;
        grant all on view_date to h13a_view_user;
        set session authorization h13a_view_user""")
    assert run_script(users, "select current_user").rows == [("h13a_view_user",)]
    assert run_script(users, "select count(*) from view_date").rows == [(3,)]
    _fails(users, "select count(*) from date", "permission denied for relation date")


def test_every_user_creates_in_schema_public_and_owns_what_it_creates(users):
    # r_GRANT.md: "By default, all users have CREATE and USAGE permission on the PUBLIC schema"
    run_script(users, "create user h13a_user1 password 'Abcd1234'; create user h13a_user2 password 'Abcd1234';"
                      " create schema private;"
                      " set session authorization 'h13a_user1';"
                      " create table mine (a int); insert into mine values (1); update mine set a = a + 1")
    assert run_script(users, "select a from mine").rows == [(2,)]
    _fails(users, "create table private.t (a int)", "permission denied for schema private")
    run_script(users, "set session authorization 'h13a_user2'")
    _fails(users, "select a from mine", "permission denied for relation mine")
    _fails(users, "drop table mine", "must be owner of relation mine")
    run_script(users, "reset session authorization; grant select on mine to h13a_user2;"
                      " set session authorization 'h13a_user2'")
    assert run_script(users, "select a from mine").rows == [(2,)]
    _fails(users, "delete from mine", "permission denied for relation mine")
    run_script(users, "set session authorization 'h13a_user1'; drop table mine")


def test_execute_on_a_udf_is_public_until_revoked_and_follows_groups_and_roles(users):
    # r_CREATE_FUNCTION.md ("By default, execute permission for new UDFs is granted to PUBLIC"), the UDF of
    # stored-procedures/sp_update_permissions/test_scenarios.sql
    run_script(users, """
        create user h13a_user1 password 'Abcd1234'; create user h13a_user2 password 'Abcd1234';
        create group h13a_group1 with user h13a_user2;
        create function f_sql_greater (float, float) returns float stable as $$
          select case when $1 > $2 then $1 else $2 end $$ language sql;
        set session authorization h13a_user1""")
    assert run_script(users, "select f_sql_greater(10, 20)").rows == [(20.0,)]
    run_script(users, "reset session authorization;"
                      " revoke execute on function f_sql_greater (float, float) from public;"
                      " grant execute on function f_sql_greater (float, float) to group h13a_group1;"
                      " set session authorization h13a_user1")
    _fails(users, "select f_sql_greater(10, 20)", "permission denied for function f_sql_greater")
    run_script(users, "set session authorization h13a_user2")
    assert run_script(users, "select f_sql_greater(10, 20)").rows == [(20.0,)]


def test_a_role_granted_to_a_user_gives_it_the_roles_privileges(users):
    # r_GRANT.md (GRANT ROLE ... TO user), r_REVOKE.md
    run_script(users, "create user h13a_user1 password 'Abcd1234'; create role h13a_role1;"
                      " create schema sales; create table sales.orders (id int);"
                      " grant usage on schema sales to role h13a_role1;"
                      " grant select on all tables in schema sales to role h13a_role1;"
                      " set session authorization h13a_user1")
    _fails(users, "select count(*) from sales.orders", "permission denied for schema sales")
    run_script(users, "reset session authorization; grant role h13a_role1 to h13a_user1;"
                      " set session authorization h13a_user1")
    assert run_script(users, "select count(*) from sales.orders").rows == [(0,)]
    run_script(users, "reset session authorization; revoke role h13a_role1 from h13a_user1;"
                      " set session authorization h13a_user1")
    _fails(users, "select count(*) from sales.orders", "permission denied for schema sales")


def test_only_a_superuser_creates_users_and_the_default_user_comes_back(users):
    # r_CREATE_USER.md (a superuser creates users), r_SET_SESSION_AUTHORIZATION.md (DEFAULT)
    before = run_script(users, "select current_user").rows
    run_script(users, "create user h13a_user1 password 'Abcd1234'; set session authorization 'h13a_user1'")
    _fails(users, "create user h13a_user2 password 'Abcd1234'", "permission denied to create role")
    run_script(users, "set session authorization default")
    assert run_script(users, "select current_user").rows == before
    run_script(users, "set session authorization 'h13a_user1'; reset session authorization")
    assert run_script(users, "select current_user").rows == before
    _fails(users, "set session authorization 'h13a_nobody'", '^user "h13a_nobody" does not exist')
    _fails(users, "set local session authorization 'h13a_nobody'", '^user "h13a_nobody" does not exist')
    _fails(users, "revoke temporary on database h13a_nowhere from public", 'database "h13a_nowhere" does not exist')


def test_a_procedure_runs_for_its_owner_and_grantees_with_the_privileges_its_security_says(users):
    # stored-procedure-security-and-privileges.md: EXECUTE is the owner's and the superusers' by default; SECURITY
    # DEFINER runs with the owner's privileges, SECURITY INVOKER with the caller's
    run_script(users, """
        create user h13a_user1 password 'Abcd1234';
        create table secret (a int); insert into secret values (42); create table copied (a int);
        create procedure p_definer() security definer as $$
        begin insert into copied select a from secret; end; $$ language plpgsql;
        create procedure p_invoker() as $$ begin insert into copied select a from secret; end; $$ language plpgsql;
        set session authorization h13a_user1""")
    _fails(users, "call p_definer()", "permission denied for procedure p_definer")
    run_script(users, "reset session authorization; grant execute on procedure p_definer() to h13a_user1;"
                      " grant execute on procedure p_invoker() to h13a_user1; set session authorization h13a_user1;"
                      " call p_definer()")
    _fails(users, "call p_invoker()", "permission denied for relation")
    assert run_script(users, "reset session authorization; select a from copied").rows == [(42,)]


def test_what_duckdb_cannot_check_for_a_user_fails_plainly(duckdb_session):
    # GRANT by a user holding a privilege it does not own: PostgreSQL warns when it lacks the grant option, which
    # the catalog does not keep
    run_script(duckdb_session, "create user h13a_user1 password 'Abcd1234'; create table t (a int);"
                               " grant select on t to h13a_user1; set session authorization h13a_user1")
    for statement in ("grant select on t to h13a_user1", "alter table t owner to h13a_user1",
                      "create materialized view mv as select 1",
                      "copy t from 's3://bucket/key' iam_role 'arn:aws:iam::123456789012:role/r'"):
        with pytest.raises(NotSupportedLocally):
            run_script(duckdb_session, statement)


def test_a_superuser_set_by_session_authorization_bypasses_the_checks(duckdb_session):
    # r_superusers.md: a superuser has every privilege whatever was granted
    run_script(duckdb_session, "create user h13a_admin password 'Abcd1234' createuser; create schema locked;"
                               " create table locked.t (a int); revoke usage on schema locked from public;"
                               " set session authorization h13a_admin")
    assert run_script(duckdb_session, "select count(*) from locked.t").rows == [(0,)]


def test_default_privileges_apply_to_the_tables_their_user_creates(users):
    # r_ALTER_DEFAULT_PRIVILEGES.md: "allow any user in the user group report_readers to view all tables created by
    # the user report_admin"
    run_script(users, """
        create user h13a_report_admin password 'Abcd1234'; create user h13a_reader password 'Abcd1234';
        create group h13a_qa_users with user h13a_reader;
        alter default privileges for user h13a_report_admin grant select on tables to group h13a_qa_users;
        set session authorization h13a_report_admin;
        create table report (a int); insert into report values (7);
        set session authorization h13a_reader""")
    assert run_script(users, "select a from report").rows == [(7,)]
    _fails(users, "insert into report values (8)", "permission denied for relation report")


def test_privilege_functions_answer_for_any_user(users):
    # r_HAS_TABLE_PRIVILEGE.md ("the GUEST user doesn't have SELECT privilege on the LISTING table"),
    # r_HAS_SCHEMA_PRIVILEGE.md, r_HAS_DATABASE_PRIVILEGE.md
    run_script(users, "create user h13a_user1 password 'Abcd1234'; create table listing (id int)")
    assert run_script(users, "select has_table_privilege('h13a_user1', 'listing', 'select')").rows == [(False,)]
    run_script(users, "grant select on listing to h13a_user1")
    assert run_script(users, "select has_table_privilege('h13a_user1', 'listing', 'select'),"
                             " has_table_privilege('h13a_user1', 'listing', 'insert'),"
                             " has_schema_privilege('h13a_user1', 'public', 'create')").rows == [(True, False, True)]
    run_script(users, "set session authorization h13a_user1")
    assert run_script(users, "select has_table_privilege('listing', 'select'),"
                             " has_table_privilege('listing', 'delete')").rows == [(True, False)]
    run_script(users, "reset session authorization; create group h13a_group1")
    # Redshift keeps PostgreSQL 8.0's users: a name that is no user (a group's included) is `user "x"`, as a GRANT's
    for call in ("has_table_privilege('h13a_nobody', 'listing', 'select')",
                 "has_schema_privilege('h13a_nobody', 'public', 'usage')",
                 "has_database_privilege('h13a_group1', 'dev', 'temp')"):
        _fails(users, f"select {call}", '^user "h13a_(nobody|group1)" does not exist')


def test_a_role_is_granted_by_a_superuser_or_a_holder_of_its_admin_option(users):
    # r_GRANT-examples.md: GRANT ROLE sample_role1 TO user1 WITH ADMIN OPTION, then user1 grants it
    run_script(users, "create user h13a_user1 password 'Abcd1234'; create user h13a_user2 password 'Abcd1234';"
                      " create role h13a_role1; grant role h13a_role1 to h13a_user1 with admin option;"
                      " create user h13a_view_user password 'Abcd1234';"
                      " set session authorization h13a_user1; grant role h13a_role1 to h13a_user2;"
                      " set session authorization h13a_user2")
    _fails(users, "grant role h13a_role1 to h13a_view_user", "admin option|permission denied to grant role")


def test_membership_functions_follow_groups_and_roles(users):
    # r_USER_IS_MEMBER_OF.md, r_ROLE_IS_MEMBER_OF.md ("the user isn't a member of role1", "the role isn't a member
    # of role1 nor role2"), then after the grants
    run_script(users, "create user h13a_user1 password 'Abcd1234'; create role h13a_role1; create role h13a_role2;"
                      " create group h13a_group1")
    assert run_script(users, "select user_is_member_of('h13a_user1', 'h13a_role1'),"
                             " role_is_member_of('h13a_role1', 'h13a_role2')").rows == [(False, False)]
    run_script(users, "grant role h13a_role2 to role h13a_role1; grant role h13a_role1 to h13a_user1;"
                      " alter group h13a_group1 add user h13a_user1")
    assert run_script(users, "select user_is_member_of('h13a_user1', 'h13a_role2'),"
                             " user_is_member_of('h13a_user1', 'h13a_group1'),"
                             " role_is_member_of('h13a_role1', 'h13a_role2'),"
                             " role_is_member_of('h13a_role2', 'h13a_role1')").rows == [(True, True, True, False)]
    _fails(users, "select user_is_member_of('h13a_nobody', 'h13a_role1')", 'role "h13a_nobody" does not exist')


def test_owner_to_names_an_existing_user_on_an_existing_object(users):
    # r_ALTER_TABLE_examples_basic.md, r_ALTER_SCHEMA.md: ALTER TABLE / SCHEMA ... OWNER TO
    run_script(users, "create user h13a_user1 password 'Abcd1234'; create table venue (id int);"
                      " create schema us_sales; alter table venue owner to h13a_user1;"
                      " alter schema us_sales owner to h13a_user1; set session authorization h13a_user1;"
                      " create table us_sales.t (a int); insert into venue values (1)")
    assert run_script(users, "select count(*) from venue").rows == [(1,)]
    run_script(users, "reset session authorization")
    _fails(users, "alter table venue owner to h13a_nobody", '^user "h13a_nobody" does not exist')


def test_a_rollback_undoes_session_authorization_set_in_its_transaction(users):
    # r_SET_SESSION_AUTHORIZATION.md: LOCAL "is valid for the current transaction", without it "for the current
    # session"; as PostgreSQL's SET, a ROLLBACK undoes what the block set and a COMMIT keeps it
    before = run_script(users, "select current_user").rows
    run_script(users, "create user h13a_user1 password 'Abcd1234'; create table secret (a int)")
    run_script(users, "begin; set session authorization h13a_user1")
    assert run_script(users, "select current_user, session_user").rows == [("h13a_user1", "h13a_user1")]
    run_script(users, "rollback")
    assert run_script(users, "select current_user").rows == before
    assert run_script(users, "select count(*) from secret").rows == [(0,)]
    run_script(users, "begin; set local session authorization h13a_user1")
    assert run_script(users, "select current_user").rows == [("h13a_user1",)]
    run_script(users, "commit")
    assert run_script(users, "select current_user").rows == before
    run_script(users, "begin; set session authorization h13a_user1; commit")
    assert run_script(users, "select current_user").rows == [("h13a_user1",)]
    run_script(users, "begin; set local session authorization default")
    assert run_script(users, "select current_user").rows == before
    run_script(users, "rollback")
    assert run_script(users, "select current_user").rows == [("h13a_user1",)]
    _fails(users, "select a from secret", "permission denied for relation secret")
    run_script(users, "reset session authorization")


def test_a_functions_privileges_belong_to_its_argument_types(users):
    # r_GRANT.md: ON FUNCTION function_name ( [ [ argname ] argtype [, ...] ] ); r_CREATE_FUNCTION.md: functions
    # are told apart by name and argument types, so f(float, float) and f(varchar, varchar) are two objects
    run_script(users, """
        create user h13a_user1 password 'Abcd1234';
        create function f_sql_greater (float, float) returns float stable as $$
          select case when $1 > $2 then $1 else $2 end $$ language sql;
        revoke execute on function f_sql_greater (float, float) from public""")
    missing = r"function f_sql_greater\(character varying, character varying\) does not exist"
    _fails(users, "grant execute on function f_sql_greater (varchar, varchar) to h13a_user1", missing)
    _fails(users, "revoke execute on function f_sql_greater (varchar(20), character varying) from h13a_user1", missing)
    _fails(users, "drop function f_sql_greater (varchar, varchar)", missing)
    _fails(users, "alter function f_sql_greater (int) owner to h13a_user1",
           r"function f_sql_greater\(integer\) does not exist")
    run_script(users, "set session authorization h13a_user1")
    _fails(users, "select f_sql_greater(1, 2)", "permission denied for function f_sql_greater")
    run_script(users, "reset session authorization;"
                      " grant execute on function f_sql_greater (a double precision, b float8) to h13a_user1;"
                      " set session authorization h13a_user1")
    assert run_script(users, "select f_sql_greater(1, 2)").rows == [(2.0,)]
    run_script(users, "reset session authorization; drop function f_sql_greater (float, float)")


def test_a_second_overload_of_a_udf_is_not_supported_on_duckdb(duckdb_session):
    # r_CREATE_FUNCTION.md: another argument list makes another function; a DuckDB macro holds one per name
    run_script(duckdb_session, "create function f_one (int) returns int stable as $$ select $1 $$ language sql")
    for statement in ("create function f_one (varchar) returns int stable as $$ select 1 $$ language sql",
                      "create or replace function f_one (float) returns int stable as $$ select 1 $$ language sql",
                      "drop function if exists f_one (varchar)"):
        with pytest.raises(NotSupportedLocally, match="f_one"):
            run_script(duckdb_session, statement)
    run_script(duckdb_session, "create or replace function f_one (int4) returns int stable as $$ select $1 + 1 $$"
                               " language sql")
    assert run_script(duckdb_session, "select f_one(1)").rows == [(2,)]


def test_a_security_definer_procedure_runs_as_its_owner_for_the_session_user(users):
    # r_CURRENT_USER.md: current_user is the "effective" user, as applicable to checking permissions, usually the
    # session user; r_CREATE_PROCEDURE.md: a SECURITY DEFINER procedure uses the privileges of its owner, so
    # current_user names the owner inside it and session_user still the session's user
    run_script(users, """
        create user h13a_user1 password 'Abcd1234';
        set session authorization h13a_user1;
        create table who (effective varchar(64), session varchar(64));
        create procedure p_who() security definer as $$
        begin insert into who select current_user, session_user; end; $$ language plpgsql;
        create procedure p_who_invoker() as $$
        begin insert into who select current_user, session_user; end; $$ language plpgsql;
        reset session authorization""")
    admin = run_script(users, "select session_user").rows[0][0]
    run_script(users, "call p_who(); call p_who_invoker()")
    assert run_script(users, "select effective, session from who order by effective = 'h13a_user1' desc").rows \
        == [("h13a_user1", admin), (admin, admin)]
    assert run_script(users, "select current_user, session_user").rows == [(admin, admin)]


def test_a_missing_user_or_group_is_named_as_redshift_names_it(users):
    # Redshift keeps PostgreSQL 8.0's users and groups: `user "analyst" does not exist` for a GRANT to a user that
    # does not exist (dbt-labs/dbt-core#8563), PostgreSQL 8.0's words for SET SESSION AUTHORIZATION too
    run_script(users, "create table listing (id int); create group h13a_group1")
    for statement in ("grant select on listing to h13a_nobody", "revoke select on listing from h13a_nobody",
                      "grant select on listing to group h13a_group1, h13a_nobody",
                      "alter default privileges for user h13a_nobody grant select on tables to group h13a_group1",
                      "alter group h13a_group1 add user h13a_nobody", "drop user h13a_nobody",
                      "alter user h13a_nobody connection limit 5"):
        _fails(users, statement, '^user "h13a_nobody" does not exist')
    for statement in ("grant select on listing to group h13a_nogroup", "alter group h13a_nogroup add user h13a_x"):
        _fails(users, statement, '^group "h13a_nogroup" does not exist')
    _fails(users, "grant role h13a_norole to h13a_group1", 'role "h13a_norole" does not exist')


def test_an_admin_users_security_definer_procedure_runs_as_the_admin_user(users):
    # r_CREATE_PROCEDURE.md: SECURITY DEFINER uses the privileges of the procedure's owner, here the request's
    # admin user (DbUser), whoever the session is
    users.set_user("awsuser")
    run_script(users, """
        create user h13a_user1 password 'Abcd1234'; create table who (effective varchar(64), session varchar(64));
        create procedure p_admin() security definer as $$
        begin insert into who select current_user, session_user; end; $$ language plpgsql;
        grant execute on procedure p_admin() to h13a_user1;
        set session authorization h13a_user1; call p_admin(); reset session authorization""")
    assert run_script(users, "select effective, session from who").rows == [("awsuser", "h13a_user1")]


def test_execute_on_a_procedure_is_granted_by_its_argument_types(users):
    # stored-procedure-transaction-management.md, as written: user1's SECURITY DEFINER procedure truncates user1's
    # table for user2, who was granted EXECUTE on it; r_GRANT.md: "Because stored procedure names can be overloaded,
    # you must include the argument list", so sp(int, varchar) and sp(varchar) are two procedures
    run_script(users, """
        create user h13a_user1 password 'Abcd1234'; create user h13a_user2 password 'Abcd1234';
        set session authorization h13a_user1;
        create table test_tbl(id int, name varchar(20));
        insert into test_tbl values (1,'john'), (2, 'mary');
        CREATE OR REPLACE PROCEDURE sp_truncate_test_tbl() LANGUAGE plpgsql
        AS $$
        DECLARE
          tbl_rows int;
        BEGIN
          select count(*) into tbl_rows from test_tbl;
          RAISE INFO 'RowCount before Truncate: %', tbl_rows;
          TRUNCATE test_tbl;
          select count(*) into tbl_rows from test_tbl;
          RAISE INFO 'RowCount after Truncate: %', tbl_rows;
        END;
        $$ SECURITY DEFINER;
        grant execute on procedure sp_truncate_test_tbl() to h13a_user2;
        reset session authorization;
        set session authorization h13a_user2""")
    users.notices.clear()
    run_script(users, "call sp_truncate_test_tbl()")
    assert users.notices == ["INFO: RowCount before Truncate: 2", "INFO: RowCount after Truncate: 0"]
    _fails(users, "select count(*) from test_tbl", "permission denied for relation test_tbl")

    run_script(users, """
        reset session authorization;
        create procedure sp_overloaded(a int, b varchar) as $$ begin raise info 'two'; end; $$ language plpgsql;
        create procedure sp_overloaded(a varchar) as $$ begin raise info 'one'; end; $$ language plpgsql;
        grant execute on procedure sp_overloaded(int, varchar) to h13a_user2;
        set session authorization h13a_user2""")
    run_script(users, "call sp_overloaded(1, 'x')")
    _fails(users, "call sp_overloaded('x')", "permission denied for procedure sp_overloaded")
    _fails(users, "drop procedure sp_overloaded(int, varchar)", "must be owner of procedure sp_overloaded")
    _fails(users, "create or replace procedure sp_overloaded(a int, b varchar) as $$ begin raise info 'mine'; end; $$"
                  " language plpgsql", "must be owner of function sp_overloaded")  # "The owner or a superuser can
    # replace the body" (stored-procedure-naming.md); PostgreSQL's words
    run_script(users, "reset session authorization;"
                      " revoke execute on procedure sp_overloaded(a integer, b character varying(20)) from h13a_user2;"
                      " set session authorization h13a_user2")
    _fails(users, "call sp_overloaded(1, 'x')", "permission denied for procedure sp_overloaded")
    run_script(users, "reset session authorization;"
                      " grant execute on all procedures in schema public to h13a_user2;"
                      " create or replace procedure sp_overloaded(a varchar) as $$ begin raise info 'replaced'; end; $$"
                      " language plpgsql;"
                      " set session authorization h13a_user2; call sp_overloaded(1, 'x'); call sp_overloaded('x')")
    run_script(users, "reset session authorization")
    _fails(users, "grant execute on procedure sp_overloaded(int) to h13a_user2",
           r"^procedure sp_overloaded\(integer\) does not exist")
    _fails(users, "grant execute on procedure sp_overloaded to h13a_user2", '^syntax error at or near "to"')
    run_script(users, "alter procedure sp_truncate_test_tbl() rename to sp_truncate_renamed;"  # its grants go with it
                      " set session authorization h13a_user2; call sp_truncate_renamed(); reset session authorization")


def test_session_authorization_does_not_change_inside_a_security_definer_procedure(users):
    # The parameter's own form, as stored-procedure-transaction-management.md writes it (set session_authorization
    # to user1; reset session_authorization). Inside a SECURITY DEFINER procedure PostgreSQL refuses to change it
    # (Redshift's guide does not say): the same error on both engines, the session's users as they were
    before = run_script(users, "select current_user, session_user").rows
    run_script(users, "create user h13a_user1 password 'Abcd1234'; create user h13a_user2 password 'Abcd1234';"
                      " set session_authorization to h13a_user1")
    assert run_script(users, "select current_user, session_user").rows == [("h13a_user1", "h13a_user1")]
    run_script(users, "reset session_authorization")
    assert run_script(users, "select current_user, session_user").rows == before
    _fails(users, "set session_authorization = 'h13a_nobody'", '^user "h13a_nobody" does not exist')
    run_script(users, """
        create procedure p_switch() security definer as $$
        begin set session authorization h13a_user2; end; $$ language plpgsql;
        create procedure p_switch_back() security definer as $$
        begin set session_authorization to default; end; $$ language plpgsql;
        create procedure p_invoker_switch() as $$ begin set session authorization h13a_user2; end; $$ language plpgsql;
        grant execute on procedure p_switch() to h13a_user1;
        set session authorization h13a_user1""")
    refused = 'cannot set parameter "session_authorization" within security-definer function'
    _fails(users, "call p_switch()", refused)
    assert run_script(users, "select current_user, session_user").rows == [("h13a_user1", "h13a_user1")]
    run_script(users, "reset session authorization")
    _fails(users, "call p_switch_back()", refused)
    assert run_script(users, "select current_user, session_user").rows == before
    run_script(users, "call p_invoker_switch()")
    assert run_script(users, "select current_user, session_user").rows == [("h13a_user2", "h13a_user2")]
    run_script(users, "reset session authorization")


def test_a_session_no_request_named_runs_as_the_local_administrators_iam_user(session):
    # ExecuteStatement without DbUser or SecretArn runs as the user of the caller's IAM identity ("arn:iam::...:
    # user:foo has the database user name IAM:foo"): the local administrator's, IAM:local, on both engines (PostgreSQL
    # named its own login role)
    assert run_script(session, "select current_user, session_user, user").rows == [("IAM:local",) * 3]
