"""Stored procedures from the developer guide's own examples (c_PLpgSQL-*.md, stored-procedure-*.md,
r_CREATE_PROCEDURE.md, r_CALL_procedure.md), with their documented output where the guide shows one. Each runs on
DuckDB (the body interpreted, shiftflow/dataapi/procedures/) and on PostgreSQL (PL/pgSQL itself): the two must
give the same messages, rows and errors."""

from __future__ import annotations

from typing import Any

import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate import NotSupportedLocally, translate
from tests.unit.translate.conftest import run_script


def messages(session: Any, script: str, parameters: dict[str, str] | None = None) -> list[str]:
    """RAISE INFO / NOTICE output of the script (PostgreSQL's own notices, `... skipping`, left out)."""
    before = len(session.notices)
    run_script(session, script, parameters)
    return [n for n in session.notices[before:] if not n.endswith("skipping")]


def test_subblocks_have_their_own_variables(session):
    # c_PLpgSQL-structure.md, Block: the documented values in the comments.
    run_script(session, """
        CREATE PROCEDURE update_value() AS $$
        DECLARE
          value integer := 20;
        BEGIN
          RAISE NOTICE 'Value here is %', value;  -- Value here is 20
          value := 50;
          DECLARE
            value integer := 80;
          BEGIN
            RAISE NOTICE 'Value here is %', value;  -- Value here is 80
          END;
          RAISE NOTICE 'Value here is %', value;  -- Value here is 50
        END;
        $$ LANGUAGE plpgsql;
    """)
    assert messages(session, "call update_value()") == ["NOTICE: Value here is 20", "NOTICE: Value here is 80",
                                                         "NOTICE: Value here is 50"]


def test_found_after_select_into_a_record(session):
    # c_PLpgSQL-structure.md, Built-in variables: FOUND.
    run_script(session, """
        CREATE TABLE employee(empname varchar);
        CREATE OR REPLACE PROCEDURE show_found()
        AS  $$
        DECLARE
          myrec record;
        BEGIN
          SELECT INTO myrec * FROM employee WHERE empname = 'John';
          IF NOT FOUND THEN
            RAISE EXCEPTION 'employee John not found';
          END IF;
          RAISE INFO 'found %', myrec.empname;
        END;
        $$ LANGUAGE plpgsql;
    """)
    with pytest.raises(EngineError, match="^employee John not found$"):
        run_script(session, "call show_found()")
    run_script(session, "insert into employee values ('John')")
    assert messages(session, "call show_found()") == ["INFO: found John"]


def test_sqlerrm_and_sqlstate_in_a_handler(session):
    run_script(session, """
        CREATE TABLE employee (firstname varchar, lastname varchar);
        CREATE OR REPLACE PROCEDURE sqlstate_sqlerrm() AS
        $$
        BEGIN
          UPDATE employee SET firstname = 'Adam' WHERE lastname = 'Smith';
          RAISE EXCEPTION 'custom % failure', 42;
          EXCEPTION WHEN OTHERS THEN
          RAISE INFO 'error message SQLERRM %', SQLERRM;
          RAISE INFO 'error message SQLSTATE %', SQLSTATE;
        END;
        $$ LANGUAGE plpgsql;
    """)
    before = len(session.notices)
    with pytest.raises(EngineError, match="custom 42 failure"):  # the handler's transaction commits, then re-throws
        run_script(session, "call sqlstate_sqlerrm()")
    assert session.notices[before:] == ["INFO: error message SQLERRM custom 42 failure",
                                        "INFO: error message SQLSTATE P0001"]


def test_get_diagnostics_row_count(session):
    run_script(session, """
        create table tbl_row_count (a int);
        CREATE OR REPLACE PROCEDURE sp_row_count() AS
        $$
        DECLARE
          integer_var int;
        BEGIN
          INSERT INTO tbl_row_count VALUES(1);
          GET DIAGNOSTICS integer_var := ROW_COUNT;
          RAISE INFO 'rows inserted = %', integer_var;
          UPDATE tbl_row_count SET a = a + 1 WHERE a > 100;
          GET DIAGNOSTICS integer_var := ROW_COUNT;
          RAISE INFO 'rows updated = %, found %', integer_var, FOUND;
        END;
        $$ LANGUAGE plpgsql;
    """)
    assert messages(session, "call sp_row_count()") == ["INFO: rows inserted = 1", "INFO: rows updated = 0, found f"]


def test_record_for_loop_and_dynamic_for_loop(session):
    # c_PLpgSQL-structure.md (record_example) and c_PLpgSQL-statements.md (for_loop_dynamic_sql).
    run_script(session, """
        CREATE TABLE tbl_record(a int, b int);
        INSERT INTO tbl_record VALUES(1, 2);
        INSERT INTO tbl_record VALUES(3, 4);
        CREATE OR REPLACE PROCEDURE record_example()
        LANGUAGE plpgsql
        AS $$
        DECLARE
          rec RECORD;
        BEGIN
          FOR rec IN SELECT a FROM tbl_record ORDER BY a
          LOOP
            RAISE INFO 'a = %', rec.a;
          END LOOP;
        END;
        $$;
        CREATE OR REPLACE PROCEDURE for_loop_dynamic_sql(x int)
        LANGUAGE plpgsql
        AS $$
        DECLARE
          rec RECORD;
          query text;
        BEGIN
          query := 'SELECT * FROM tbl_record ORDER BY a LIMIT ' || x;
          FOR rec IN EXECUTE query
          LOOP
            RAISE INFO 'a %, b %', rec.a, rec.b;
          END LOOP;
        END;
        $$;
    """)
    assert messages(session, "call record_example()") == ["INFO: a = 1", "INFO: a = 3"]
    assert messages(session, "call for_loop_dynamic_sql(1)") == ["INFO: a 1, b 2"]


def test_return_leaves_the_procedure(session):
    run_script(session, """
        CREATE OR REPLACE PROCEDURE return_example(a int)
        AS $$
        BEGIN
          FOR b in 1..10 LOOP
            IF b < a THEN
              RAISE INFO 'b = %', b;
            ELSE
              RETURN;
            END IF;
          END LOOP;
        END;
        $$ LANGUAGE plpgsql;
    """)
    assert messages(session, "call return_example(3)") == ["INFO: b = 1", "INFO: b = 2"]


def test_if_elsif_and_case_with_an_inout_result(session):
    run_script(session, """
        CREATE PROCEDURE classify(number int, result INOUT varchar(40)) AS $$
        BEGIN
          IF number = 0 THEN
            result := 'zero';
          ELSIF number > 0 THEN
            result := 'positive';
          ELSEIF number < 0 THEN
            result := 'negative';
          ELSE
            result := 'NULL';
          END IF;
          CASE number
          WHEN 1, 2 THEN
            result := result || ', one or two';
          ELSE
            result := result || ', other value than one or two';
          END CASE;
          CASE
          WHEN number BETWEEN 0 AND 10 THEN
            result := result || ', small';
          WHEN number BETWEEN 11 AND 20 THEN
            result := result || ', medium';
          END CASE;
        END;
        $$ LANGUAGE plpgsql;
    """)
    result = run_script(session, "call classify(2, '')")
    assert [c.name for c in result.columns] == ["result"] and result.rows == [("positive, one or two, small",)]
    assert run_script(session, "call classify(0, null)").rows == [("zero, other value than one or two, small",)]
    with pytest.raises(EngineError, match="case not found"):
        run_script(session, "call classify(-4, '')")


def test_labelled_exit_continue_while_and_reverse_loops(session):
    run_script(session, """
        CREATE OR REPLACE PROCEDURE simple_loop()
        LANGUAGE plpgsql
        AS $$
        BEGIN
          <<simple_while>>
          LOOP
            RAISE INFO 'I am raised once';
            EXIT simple_while;
            RAISE INFO 'I am not raised';
          END LOOP;
          RAISE INFO 'I am raised once as well';
        END;
        $$;
        CREATE OR REPLACE PROCEDURE simple_loop_when(x int)
        LANGUAGE plpgsql
        AS $$
        DECLARE i INTEGER := 0;
        BEGIN
          <<simple_loop_when>>
          LOOP
            RAISE INFO 'i %', i;
            i := i + 1;
            EXIT simple_loop_when WHEN (i >= x);
          END LOOP;
        END;
        $$;
        CREATE OR REPLACE PROCEDURE loops() LANGUAGE plpgsql AS $$
        DECLARE
          n int := 0;
          seen varchar(100) := '';
        BEGIN
          WHILE n < 6 LOOP
            n := n + 1;
            CONTINUE WHEN n % 2 = 0;
            seen := seen || n;
          END LOOP;
          FOR i IN REVERSE 10..1 BY 4 LOOP
            seen := seen || ' ' || i;
          END LOOP;
          <<outer_loop>>
          FOR i IN 1..3 LOOP
            FOR j IN 1..3 LOOP
              CONTINUE outer_loop WHEN j > i;
              EXIT outer_loop WHEN i = 3;
              seen := seen || ' ' || i || j;
            END LOOP;
          END LOOP;
          RAISE INFO '%', seen;
        END;
        $$;
    """)
    assert messages(session, "call simple_loop()") == ["INFO: I am raised once", "INFO: I am raised once as well"]
    assert messages(session, "call simple_loop_when(3)") == ["INFO: i 0", "INFO: i 1", "INFO: i 2"]
    assert messages(session, "call loops()") == ["INFO: 135 10 6 2 11 21 22"]


def test_nested_call_passes_inout_variables(session):
    # r_CALL_procedure.md, Nested calls, with its documented output.
    run_script(session, """
        CREATE OR REPLACE PROCEDURE inner_proc(INOUT a int, b int, INOUT c int) LANGUAGE plpgsql
        AS $$
        BEGIN
          a := b * a;
          c := b * c;
        END;
        $$;
        CREATE OR REPLACE PROCEDURE outer_proc(multiplier int) LANGUAGE plpgsql
        AS $$
        DECLARE
          x int := 3;
          y int := 4;
        BEGIN
          DROP TABLE IF EXISTS test_tbl;
          CREATE TEMP TABLE test_tbl(a int, b varchar(256));
          CALL inner_proc(x, multiplier, y);
          insert into test_tbl values (x, y::varchar);
        END;
        $$;
        CALL outer_proc(5);
    """)
    assert run_script(session, "SELECT * from test_tbl").rows == [(15, "20")]


def test_commit_and_truncate_start_new_transactions(session):
    # stored-procedure-transaction-management.md: sp_commit, sp_truncate_proc; a failure after a COMMIT keeps what
    # was committed.
    run_script(session, """
        create table test_table_a (a int);
        create table test_table_b (b int);
        insert into test_table_b values (9);
        CREATE OR REPLACE PROCEDURE sp_commit(a int, b int) LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO test_table_a values (a);
          COMMIT;
          INSERT INTO test_table_a values (b);
          RAISE EXCEPTION 'after the commit';
        END;
        $$;
        CREATE OR REPLACE PROCEDURE sp_rollback(a int) LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO test_table_a values (a);
          ROLLBACK;
          INSERT INTO test_table_a values (a + 1);
        END;
        $$;
    """)
    with pytest.raises(EngineError, match="after the commit"):
        run_script(session, "call sp_commit(1, 2)")
    run_script(session, "call sp_rollback(10)")
    assert run_script(session, "select a from test_table_a order by a").rows == [(1,), (11,)]


def test_commit_inside_a_procedure_called_in_a_transaction_block_fails(session):
    run_script(session, """
        create table test_table_a (a int);
        CREATE OR REPLACE PROCEDURE sp_commit_one(a int) LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO test_table_a values (a);
          COMMIT;
        END;
        $$;
        CREATE OR REPLACE PROCEDURE sp_insert_table_a(a int) LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO test_table_a values (a);
        END;
        $$;
    """)
    run_script(session, "begin; insert into test_table_a values (1); call sp_insert_table_a(2); "
                        "insert into test_table_a values (3); rollback")
    assert run_script(session, "select count(*) from test_table_a").rows == [(0,)]  # the caller's transaction
    run_script(session, "begin")
    with pytest.raises(EngineError, match="invalid transaction termination"):
        run_script(session, "call sp_commit_one(1)")
    run_script(session, "rollback")


EMPLOYEE = """
    CREATE TABLE employee (firstname varchar, lastname varchar);
    INSERT INTO employee VALUES ('Tomas','Smith');
    CREATE TABLE employee_error_log (message varchar);
    CREATE OR REPLACE PROCEDURE update_employee_sp() {mode} AS
    $$
    BEGIN
        UPDATE employee SET firstname = 'Adam' WHERE lastname = 'Smith';
        EXECUTE 'select invalid';
    EXCEPTION WHEN OTHERS THEN
        RAISE INFO 'An exception occurred.';
        INSERT INTO employee_error_log VALUES ('Error message: ' || SQLERRM);
    END;
    $$
    LANGUAGE plpgsql;
"""


def logged_error(session: Any) -> str:
    [(message,)] = run_script(session, "SELECT * from employee_error_log").rows
    assert message == 'Error message: column "invalid" does not exist'  # the page's output, on both engines
    return message


def test_exception_handler_as_redshift_documents_it(session):
    # stored-procedure-trapping-errors.md: the UPDATE is rolled back, the handler's INSERT committed, the error
    # re-thrown to the caller.
    run_script(session, EMPLOYEE.format(mode=""))
    before = len(session.notices)
    with pytest.raises(EngineError, match="invalid"):
        run_script(session, "CALL update_employee_sp()")
    assert session.notices[before:] == ["INFO: An exception occurred."]
    assert run_script(session, "SELECT * from employee").rows == [("Tomas", "Smith")]
    message = logged_error(session)
    if session.engine == "postgres":  # the guide's words are PostgreSQL's (DuckDB's engine error differs)
        assert message == 'Error message: column "invalid" does not exist'


def test_refcursor_result_set(session):
    # stored-procedure-result-set.md: Returning a cursor, with its documented rows.
    run_script(session, """
        create table fact_tbl (id int, secondary_id int, name varchar(10));
        insert into fact_tbl values (1, 1, 'Joe'), (1, 2, 'Ed'), (2, 1, 'Mary'), (1, 3, 'Mike'), (0, 9, 'Nobody');
        CREATE OR REPLACE PROCEDURE get_result_set (param IN integer, rs_out INOUT refcursor)
        AS $$
        BEGIN
          OPEN rs_out FOR SELECT * FROM fact_tbl where id >= param;
        END;
        $$ LANGUAGE plpgsql;
    """)
    run_script(session, "BEGIN")
    assert run_script(session, "CALL get_result_set(1, 'mycursor')").rows == [("mycursor",)]
    rows = run_script(session, "FETCH ALL FROM mycursor").rows
    run_script(session, "COMMIT")
    assert sorted(rows) == [(1, 1, "Joe"), (1, 2, "Ed"), (1, 3, "Mike"), (2, 1, "Mary")]


def test_cursor_loop_with_fetch_and_close(session):
    run_script(session, """
        create table fact_tbl (id int, name varchar(10));
        insert into fact_tbl values (1, 'Joe'), (2, 'Ed');
        CREATE OR REPLACE PROCEDURE walk() AS $$
        DECLARE
          curs CURSOR FOR SELECT id, name FROM fact_tbl ORDER BY id;
          one_id int;
          one_name varchar(10);
        BEGIN
          OPEN curs;
          LOOP
            FETCH curs INTO one_id, one_name;
            EXIT WHEN NOT FOUND;
            RAISE INFO '% is %', one_id, one_name;
          END LOOP;
          CLOSE curs;
        END;
        $$ LANGUAGE plpgsql;
    """)
    assert messages(session, "call walk()") == ["INFO: 1 is Joe", "INFO: 2 is Ed"]


def test_temp_table_result_set_through_dynamic_sql(session):
    # stored-procedure-result-set.md: Using a temp table, with its documented output.
    run_script(session, """
        create table fact_tbl (id int, secondary_id int, name varchar(10));
        insert into fact_tbl values (1, 1, 'Joe'), (2, 1, 'Mary'), (1, 2, 'Ed'), (1, 3, 'Mike');
        CREATE PROCEDURE get_result_set(param IN integer, tmp_name INOUT varchar(256)) as $$
        DECLARE
          row record;
        BEGIN
          EXECUTE 'drop table if exists ' || tmp_name;
          EXECUTE 'create temp table ' || tmp_name || ' as select * from fact_tbl where id >= ' || param;
        END;
        $$ LANGUAGE plpgsql;
    """)
    result = run_script(session, "CALL get_result_set(1, 'myresult')")
    assert [c.name for c in result.columns] == ["tmp_name"] and result.rows == [("myresult",)]
    assert sorted(run_script(session, "SELECT * from myresult").rows) == [(1, 1, "Joe"), (1, 2, "Ed"),
                                                                          (1, 3, "Mike"), (2, 1, "Mary")]


def test_variables_are_bound_not_pasted(session):
    run_script(session, """
        create table names (n varchar(40), d date, k int);
        CREATE PROCEDURE add_name(who varchar(40), day date) AS $$
        DECLARE
          seven int := 7;
          row_n int;
        BEGIN
          INSERT INTO names (n, d, k) VALUES (who, day, seven);
          SELECT count(*) INTO row_n FROM names WHERE n = who AND k = seven;
          EXECUTE 'SELECT count(*) FROM names WHERE n = ' || quote_literal(who) INTO seven;
          RAISE INFO '% % % %', who, day, row_n, seven;
        END;
        $$ LANGUAGE plpgsql;
    """)
    assert messages(session, "call add_name(:who, '2024-02-29')", {"who": "O'Brien; drop table names"}) == [
        "INFO: O'Brien; drop table names 2024-02-29 1 1"]
    assert run_script(session, "select n, k from names").rows == [("O'Brien; drop table names", 7)]


def test_overloads_drop_and_replace(session):
    run_script(session, """
        CREATE PROCEDURE which(a int) AS $$ BEGIN RAISE INFO 'int %', a; END; $$ LANGUAGE plpgsql;
        CREATE PROCEDURE which(a int, b varchar) AS $$ BEGIN RAISE INFO 'two % %', a, b; END; $$ LANGUAGE plpgsql;
    """)
    assert messages(session, "call which(1); call which(2, 'x')") == ["INFO: int 1", "INFO: two 2 x"]
    with pytest.raises(EngineError, match="already exists"):
        run_script(session, "CREATE PROCEDURE which(a int) AS $$ BEGIN NULL; END; $$ LANGUAGE plpgsql")
    run_script(session, "CREATE OR REPLACE PROCEDURE which(a int) AS $$ BEGIN RAISE INFO 'new %', a; END; $$ "
                        "LANGUAGE plpgsql")
    assert messages(session, "call which(3)") == ["INFO: new 3"]
    run_script(session, "DROP PROCEDURE which(int)")
    with pytest.raises(EngineError, match="does not exist"):
        run_script(session, "call which(3)")
    assert messages(session, "call which(4, 'y')") == ["INFO: two 4 y"]
    run_script(session, "DROP PROCEDURE IF EXISTS which(a int)")
    with pytest.raises(EngineError, match="does not exist"):
        run_script(session, "DROP PROCEDURE which(int)")


def test_raise_exception_formats_and_null_arguments(session):
    run_script(session, """
        CREATE PROCEDURE boom(n int, s varchar) AS $$
        BEGIN
          RAISE INFO 'n=% s=% 100%%', n, s;
          RAISE EXCEPTION 'bad thing %', n + 1;
        END;
        $$ LANGUAGE plpgsql;
    """)
    before = len(session.notices)
    with pytest.raises(EngineError, match="^bad thing 42$"):
        run_script(session, "call boom(41, null)")
    assert session.notices[before:] == ["INFO: n=41 s=<NULL> 100%"]


def test_create_procedure_documented_examples(session):
    # r_CREATE_PROCEDURE.md and r_CALL_procedure.md's examples, with their documented output (OUT arguments are not
    # passed in CALL, as on Redshift; the PostgreSQL engine gives PostgreSQL the NULLs it wants for them).
    run_script(session, """
        CREATE OR REPLACE PROCEDURE test_sp1(f1 int, f2 varchar(20))
        AS $$
        DECLARE
          min_val int;
        BEGIN
          DROP TABLE IF EXISTS tmp_tbl;
          CREATE TEMP TABLE tmp_tbl(id int);
          INSERT INTO tmp_tbl values (f1),(10001),(10002);
          SELECT INTO min_val MIN(id) FROM tmp_tbl;
          RAISE INFO 'min_val = %, f2 = %', min_val, f2;
        END;
        $$ LANGUAGE plpgsql;
        CREATE OR REPLACE PROCEDURE test_sp2(f1 IN int, f2 INOUT varchar(256), out_var OUT varchar(256))
        AS $$
        DECLARE
          loop_var int;
        BEGIN
          IF f1 is null OR f2 is null THEN
            RAISE EXCEPTION 'input cannot be null';
          END IF;
          DROP TABLE if exists my_etl;
          CREATE TEMP TABLE my_etl(a int, b varchar);
            FOR loop_var IN 1..f1 LOOP
                insert into my_etl values (loop_var, f2);
                f2 := f2 || '+' || f2;
            END LOOP;
          SELECT INTO out_var count(*) from my_etl;
        END;
        $$ LANGUAGE plpgsql;
    """)
    assert messages(session, "call test_sp1(3,'book')") == ["INFO: min_val = 3, f2 = book"]
    result = run_script(session, "call test_sp2(2,'2019')")
    assert [c.name for c in result.columns] == ["f2", "column2"]  # as documented: an OUT argument keeps no name
    assert [tuple(row) for row in result.rows] == [("2019+2019+2019+2019", "2")]
    with pytest.raises(EngineError, match="input cannot be null"):
        run_script(session, "call test_sp2(null, 'x')")
    with pytest.raises(EngineError, match=r"procedure test_sp2\(integer, unknown, unknown\) does not exist"):
        run_script(session, "call test_sp2(1, 'x', 'y')")  # a value for the OUT argument: not Redshift's CALL
    run_script(session, "CREATE PROCEDURE only_out(result OUT int) AS $$ BEGIN result := 7; END; $$ LANGUAGE plpgsql")
    result = run_script(session, "call public.only_out()")
    assert [c.name for c in result.columns] == ["column1"] and [tuple(row) for row in result.rows] == [(7,)]


@pytest.mark.parametrize(("body", "what"), [
    ("begin raise info 'x' using hint = 'y'; end;", "RAISE ... USING"),
    ("declare v t.c%type; begin null; end;", "%TYPE / %ROWTYPE declarations"),
    ("begin null; exception when division_by_zero then null; end;", "EXCEPTION WHEN DIVISION_BY_ZERO"),
    ("begin copy t from 's3://b/k' iam_role default; end;", "COPY inside a stored procedure"),
    ("begin foo bar; end;", "the PL/pgSQL statement 'foo' in a stored procedure"),
    ("begin execute 'select 1' using 2; end;", "EXECUTE ... USING"),
])
def test_what_is_outside_the_subset_fails_at_create(body, what):
    with pytest.raises(NotSupportedLocally) as raised:
        translate(f"create procedure p() as $$ {body} $$ language plpgsql", "duckdb")
    assert str(raised.value).startswith(f"not supported locally: {what}")


def test_raise_argument_count_is_checked_at_create():
    with pytest.raises(EngineError, match="too few parameters specified for RAISE"):
        translate("create procedure p() as $$ begin raise info '% %', 1; end; $$ language plpgsql", "duckdb")


def test_alter_procedure_rename(session):
    # r_ALTER_PROCEDURE.md: both spellings of the signature name the same procedure.
    run_script(session, """
        create procedure first_quarter_revenue(volume inout bigint, at_price in numeric) as $$
        begin
          volume := volume * 2;
        end;
        $$ language plpgsql;
        ALTER PROCEDURE first_quarter_revenue(volume INOUT bigint, at_price IN numeric) RENAME TO quarterly_revenue;
    """)
    assert run_script(session, "call quarterly_revenue(21, 1.5)").rows == [(42,)]
    with pytest.raises(EngineError, match="does not exist"):
        run_script(session, "call first_quarter_revenue(21, 1.5)")
    run_script(session, "ALTER PROCEDURE quarterly_revenue(bigint, numeric) RENAME TO q")
    assert run_script(session, "call q(1, 1.5)").rows == [(2,)]


# ---- NONATOMIC procedures (DuckDB only: the PostgreSQL engine refuses them) -------------------------------------

NONATOMIC_TABLES = "CREATE TABLE test_table_a(v int); CREATE TABLE test_table_b(v int);"


def test_nonatomic_statements_commit_one_by_one(duckdb_session):
    # stored-procedure-transaction-management.md: each INSERT commits on its own, so a later failure keeps it.
    run_script(duckdb_session, NONATOMIC_TABLES + """
        CREATE OR REPLACE PROCEDURE sp_nonatomic_insert_table_a(a int, b int) NONATOMIC AS
        $$
        BEGIN
            INSERT INTO test_table_a values (a);
            INSERT INTO test_table_b values (b / 0);
        END;
        $$
        LANGUAGE plpgsql;
    """)
    with pytest.raises(EngineError):
        run_script(duckdb_session, "Call sp_nonatomic_insert_table_a(1,2)")
    assert run_script(duckdb_session, "select v from test_table_a").rows == [(1,)]


def test_nonatomic_start_transaction_and_commit(duckdb_session):
    run_script(duckdb_session, NONATOMIC_TABLES + """
        CREATE OR REPLACE PROCEDURE sp_nonatomic_txn_block(a int, b int) NONATOMIC AS
        $$
        BEGIN
            START TRANSACTION;
            INSERT INTO test_table_a values (a);
            INSERT INTO test_table_b values (b);
            ROLLBACK;
            START TRANSACTION;
            INSERT INTO test_table_a values (a + 1);
            COMMIT;
        END;
        $$
        LANGUAGE plpgsql;
        Call sp_nonatomic_txn_block(1,2);
    """)
    assert run_script(duckdb_session, "select v from test_table_a").rows == [(2,)]
    # Called inside a block: START TRANSACTION does nothing (no subtransactions), so the ROLLBACK undoes the
    # caller's INSERT too; the COMMIT commits the procedure's second INSERT, and the caller's block goes on in a new
    # transaction, which the caller rolls back.
    run_script(duckdb_session, "Begin; INSERT INTO test_table_a values (10); Call sp_nonatomic_txn_block(20,30); "
                               "INSERT INTO test_table_b values (40); Rollback;")
    assert run_script(duckdb_session, "select v from test_table_a order by v").rows == [(2,), (21,)]
    assert run_script(duckdb_session, "select v from test_table_b").rows == []


def test_nonatomic_handler_does_not_rethrow(duckdb_session):
    # stored-procedure-trapping-errors.md, update_employee_sp_2, with its documented output.
    run_script(duckdb_session, EMPLOYEE.format(mode="NONATOMIC"))
    assert messages(duckdb_session, "CALL update_employee_sp()") == ["INFO: An exception occurred."]
    assert run_script(duckdb_session, "SELECT * from employee").rows == [("Adam", "Smith")]
    logged_error(duckdb_session)


def test_nonatomic_raise_rethrows_from_a_handler(duckdb_session):
    run_script(duckdb_session, """
        CREATE PROCEDURE rethrow() NONATOMIC AS $$
        BEGIN
          RAISE EXCEPTION 'first';
        EXCEPTION WHEN OTHERS THEN
          RAISE INFO 'caught %', SQLERRM;
          RAISE;
        END;
        $$ LANGUAGE plpgsql;
    """)
    before = len(duckdb_session.notices)
    with pytest.raises(EngineError, match="^first$"):
        run_script(duckdb_session, "call rethrow()")
    assert duckdb_session.notices[before:] == ["INFO: caught first"]


def test_the_procedure_catalog_is_not_a_user_table(duckdb_session):
    run_script(duckdb_session, "create table t (a int); insert into t values (1); "
                               "create procedure p() as $$ begin null; end; $$ language plpgsql")
    assert run_script(duckdb_session, 'select "table" from svv_table_info').rows == [("t",)]


def test_recursive_calls(session):
    # r_CALL_procedure.md: "Amazon Redshift stored procedures support nested and recursive calls".
    run_script(session, """
        CREATE PROCEDURE factorial(n int, INOUT result bigint) AS $$
        BEGIN
          IF n <= 1 THEN
            result := 1;
            RETURN;
          END IF;
          CALL factorial(n - 1, result);
          result := result * n;
        END;
        $$ LANGUAGE plpgsql;
    """)
    assert run_script(session, "call factorial(10, null)").rows == [(3628800,)]


def test_nesting_is_limited_to_16_levels(duckdb_session):
    run_script(duckdb_session, """
        CREATE PROCEDURE deeper(n int) AS $$
        BEGIN
          CALL deeper(n + 1);
        END;
        $$ LANGUAGE plpgsql;
    """)
    with pytest.raises(EngineError, match="nesting level exceeds the limit of 16"):
        run_script(duckdb_session, "call deeper(1)")


def test_a_trailing_semicolon_ends_a_procedure_statement_on_duckdb():
    """One ExecuteStatement's Sql may end with `;` (`call SP_Orders_Load();` in seed 004): the same command."""
    create = "create or replace procedure p(n int) as $$ begin raise info 'n %', n; end; $$ language plpgsql"
    for statement in (create, "drop procedure if exists p(int)", "alter procedure p(int) rename to q"):
        assert translate(statement + " ;", "duckdb") == translate(statement, "duckdb"), statement
    ended, plain = translate("call p(1) ;", "duckdb"), translate("call p(1)", "duckdb")
    assert (ended.schema, ended.name, ended.arguments) == (plain.schema, plain.name, plain.arguments)
