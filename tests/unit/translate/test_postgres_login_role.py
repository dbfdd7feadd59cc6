"""The PostgreSQL engine's sessions log in as a role that is no superuser (engines/postgres.py): SQL a stored
procedure builds at run time (EXECUTE '...'), which reaches PostgreSQL untranslated, cannot run programs, read or
write the machine's files, load code or reconfigure the server; what Redshift's admin user does still runs."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.engines.postgres import LOGIN_ROLE
from tests.unit.translate.conftest import run_script

_procedures = itertools.count()


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    """A file nothing may create (the server runs as the tests' OS user: a superuser's session could)."""
    return tmp_path / f"h17_{uuid.uuid4().hex[:8]}"


def _dynamic(session: Any, dynamic_sql: str) -> None:
    """Run `dynamic_sql` through EXECUTE in a procedure the admin user owns, as Redshift runs dynamic SQL
    (c_PLpgSQL-statements.md, "Executing dynamic commands")."""
    name = f"sp_h17_{next(_procedures)}"
    body = dynamic_sql.replace("'", "''")
    run_script(session, f"create procedure {name}() as $$ begin execute '{body}'; end; $$ language plpgsql")
    run_script(session, f"call {name}()")


@pytest.mark.parametrize("dynamic_sql, message", [
    ("copy t from program 'touch {marker}'", "permission denied to COPY to or from an external program"),
    ("copy t to '{marker}'", "permission denied to COPY to a file"),
    ("copy t from '/etc/hostname'", "permission denied to COPY from a file"),
    ("select pg_read_file('/etc/hostname')", "permission denied for function pg_read_file"),
    ("select pg_ls_dir('/')", "permission denied for function pg_ls_dir"),
    ("select lo_import('/etc/hostname')", "permission denied for function lo_import"),
    ("select lo_export(lo_create(0), '{marker}')", "permission denied for function lo_export"),
    ("create extension vector", 'permission denied to create extension "vector"'),
    ("create function h17_c() returns int language c as 'libc', 'getpid'", "permission denied for language c"),
    ("create function h17_internal() returns int language internal as 'int4in'",
     "permission denied for language internal"),
    ("set session authorization postgres", "permission denied to set session authorization"),
    ("set role postgres", 'permission denied to set role "postgres"'),
    (f"alter role {LOGIN_ROLE} superuser", "permission denied to alter role"),
    (f"grant pg_execute_server_program to {LOGIN_ROLE}", 'permission denied to grant role "pg_execute_server_program"'),
])
def test_dynamic_sql_in_a_procedure_cannot_reach_the_machine(postgres_session, marker, dynamic_sql, message):
    run_script(postgres_session, "create table t (a int); insert into t values (1)")
    with pytest.raises(EngineError, match=message):
        _dynamic(postgres_session, dynamic_sql.format(marker=marker))
    assert not marker.exists()


def test_alter_system_changes_no_server_setting(postgres_engine, postgres_session):
    # ALTER SYSTEM writes postgresql.auto.conf: PostgreSQL refuses it in a procedure to anyone, at the top level
    # (the translator runs it as written) to a role that is no superuser
    with pytest.raises(EngineError, match="ALTER SYSTEM cannot be executed from a function"):
        _dynamic(postgres_session, "alter system set work_mem = '64MB'")
    with pytest.raises(EngineError, match='permission denied to set parameter "work_mem"'):
        run_script(postgres_session, "alter system set work_mem = '64MB'")
    with psycopg.connect(postgres_engine.superuser_dsn) as superuser:
        assert superuser.execute("select count(*) from pg_file_settings where name = 'work_mem'").fetchone() == (0,)


def test_the_sessions_login_role_is_no_superuser(postgres_engine, postgres_session):
    assert run_script(postgres_session, "select rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls"
                                        f" from pg_roles where rolname = '{LOGIN_ROLE}'").rows \
        == [(False, True, True, False, False)]
    assert run_script(postgres_session, "select count(*) from pg_auth_members m join pg_roles r on r.oid = m.roleid"
                                        f" where m.member = (select oid from pg_roles where rolname = '{LOGIN_ROLE}')"
                                        " and (r.rolname like 'pg\\\\_%' or r.rolsuper)").rows == [(0,)]
    # the superuser sees the session for what it is
    with psycopg.connect(postgres_engine.superuser_dsn) as superuser:
        assert superuser.execute("select usename::text from pg_stat_activity where pid <> pg_backend_pid()"
                                 " and datname = current_database() and backend_type = 'client backend'"
                                 " limit 1").fetchall() in ([], [(LOGIN_ROLE,)])


@pytest.fixture
def users(postgres_session: Any) -> Iterator[Any]:
    yield postgres_session
    run_script(postgres_session, "reset session authorization")
    for name in ("h17_user1", "h17_user2"):
        try:
            postgres_session.execute(f"DROP OWNED BY {name}", {})
            postgres_session.execute(f"DROP ROLE {name}", {})
        except EngineError:
            pass


def test_what_redshifts_admin_user_does_still_runs(users):
    # r_CREATE_USER.md, r_CREATE_DATABASE.md, r_SET_SESSION_AUTHORIZATION.md, r_GRANT.md: the admin user creates
    # users and databases, becomes a user, and reads and drops what a user made (a superuser's rights)
    run_script(users, "create user h17_user1 password 'Abcd1234'; create user h17_user2 password 'Abcd1234';"
                      " set session authorization 'h17_user1'; create table mine (a int); insert into mine values (7);"
                      " create procedure sp_mine() as $$ begin insert into mine values (8); end; $$ language plpgsql;"
                      " call sp_mine(); reset session authorization")
    assert run_script(users, "select a from mine order by a").rows == [(7,), (8,)]
    assert run_script(users, "select tableowner from pg_tables where tablename = 'mine'").rows == [("h17_user1",)]
    run_script(users, "grant select on mine to h17_user2; set session authorization h17_user2")
    assert run_script(users, "select count(*) from mine").rows == [(2,)]
    with pytest.raises(EngineError, match="permission denied for relation mine"):
        run_script(users, "insert into mine values (9)")
    run_script(users, "reset session authorization; alter user h17_user1 connection limit 5;"
                      " alter user h17_user1 rename to h17_user2_renamed; alter user h17_user2_renamed rename to"
                      " h17_user1; drop table mine; drop procedure sp_mine()")
    database = f"h17_db_{uuid.uuid4().hex[:8]}"
    run_script(users, f"create database {database}")
    run_script(users, f"drop database {database}")


def test_a_data_directory_a_superusers_sessions_filled_is_given_to_the_login_role(tmp_path):
    # A local cloud's warehouse from before the login role: its database, the helpers and the users' objects are the
    # superuser's; opened again, the admin user reads and changes them and becomes the users it made
    import pgserver

    from shiftflow.dataapi.engines.postgres import PostgresEngine

    data_dir = tmp_path / "postgres"
    server = pgserver.get_server(str(data_dir), cleanup_mode="stop")
    try:
        with psycopg.connect(server.get_uri(), autocommit=True) as superuser:
            superuser.execute("CREATE DATABASE dev")
            superuser.execute("CREATE USER h17_old_user PASSWORD 'Abcd1234'")
        with psycopg.connect(psycopg.conninfo.make_conninfo(server.get_uri(), dbname="dev"),
                             autocommit=True) as superuser:
            superuser.execute("CREATE SCHEMA sales; CREATE TABLE sales.orders (id serial, amount int);"
                              " INSERT INTO sales.orders (amount) VALUES (5);"
                              " CREATE VIEW sales.big AS SELECT * FROM sales.orders WHERE amount > 1;"
                              " CREATE PROCEDURE sales.sp_add(a int) LANGUAGE plpgsql AS"
                              " $$ BEGIN INSERT INTO sales.orders (amount) VALUES (a); END $$;"
                              " GRANT USAGE ON SCHEMA sales TO h17_old_user;"
                              " GRANT SELECT ON sales.orders TO h17_old_user")
    finally:
        server.cleanup()
    engine = PostgresEngine(data_dir=data_dir)
    try:
        session = engine.session("dev")
        run_script(session, "call sales.sp_add(7); insert into sales.orders (amount) values (9)")
        assert run_script(session, "select amount from sales.big order by id").rows == [(5,), (7,), (9,)]
        assert run_script(session, "select tableowner from pg_tables where tablename = 'orders'").rows \
            == [(LOGIN_ROLE,)]
        run_script(session, "set session authorization h17_old_user")
        assert run_script(session, "select count(*) from sales.orders").rows == [(3,)]
        with pytest.raises(EngineError, match="permission denied for relation orders"):
            run_script(session, "delete from sales.orders")
        run_script(session, "reset session authorization; drop schema sales cascade; drop user h17_old_user")
        session.close()
    finally:
        engine.close()
