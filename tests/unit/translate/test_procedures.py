"""Stored procedures: PostgreSQL runs them with the Redshift rewrites applied inside the body, DuckDB interprets them
(the guide's examples on both engines: test_procedure_interpreter.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate import EngineSql, NotSupportedLocally, translate
from tests.unit.translate.conftest import run_script

PROCEDURE = """
create or replace procedure public.load_daily(run_date varchar(10), minimum int)
as $body$
declare
    loaded int;
begin
    create table if not exists daily (
        day date encode az64 distkey,
        total numeric(12,2) encode zstd,
        loaded_at timestamp default sysdate,
        primary key (day)
    ) diststyle key sortkey (day);
    delete from daily where day = run_date::date;
    insert into daily (day, total)
        select trunc(sold_at), sum(nvl(amount, 0)) from sales
        where trunc(sold_at) = run_date::date group by 1 having count(*) >= minimum;
    get diagnostics loaded = row_count;
    if loaded = 0 then
        raise info 'no rows for %; 100%% nothing', run_date;
    else
        raise info 'loaded % day(s) for %', loaded, run_date;
    end if;
end;
$body$ language plpgsql;
"""


def test_procedure_created_and_called_with_raise_info(session):
    run_script(session, """
        create table sales (sold_at timestamp, amount numeric(10,2));
        insert into sales values ('2024-01-02 10:00', 5), ('2024-01-02 11:00', null), ('2024-01-03 09:00', 7);
    """)
    run_script(session, PROCEDURE)
    run_script(session, "call public.load_daily(:day, 1)", {"day": "2024-01-02"})
    run_script(session, "call load_daily('2024-01-09', 1)")
    rows = run_script(session, "select day, total, loaded_at is not null from daily").rows
    assert [(day, float(total), stamped) for day, total, stamped in rows] == [(dt.date(2024, 1, 2), 5.0, True)]
    assert [n for n in session.notices if n.startswith("INFO")] == ["INFO: loaded 1 day(s) for 2024-01-02",
                                                                    "INFO: no rows for 2024-01-09; 100% nothing"]


def test_procedure_body_is_rewritten_but_control_flow_kept():
    translated = translate(PROCEDURE.strip().rstrip(";"), "postgres")
    assert isinstance(translated, EngineSql)
    text = translated.text
    for gone in ("encode", "distkey", "diststyle", "sortkey", "primary key", "nvl("):
        assert gone not in text.lower()
    assert "get diagnostics loaded = row_count" in text
    assert "raise info 'no rows for %%; 100%%%% nothing', run_date" in text  # psycopg unescapes %% once


def test_procedure_errors_carry_the_engine_message(postgres_session):
    run_script(postgres_session, "create procedure boom() as $$ begin raise exception 'bad thing %', 42; end; $$ "
                                 "language plpgsql")
    with pytest.raises(EngineError, match="bad thing 42"):
        run_script(postgres_session, "call boom()")


# ---- the body translated as top-level SQL is; exception handlers as Redshift runs them -------------------------

def test_declarations_assignments_and_conditions_are_translated(postgres_session):
    run_script(postgres_session, """
        create table log (message varchar(max), at_day date);
        create or replace procedure note(days int) as $$
        declare
          message varchar(max) := nvl(null, 'start');
          started timestamp := getdate();
        begin
          message := message || '-' || nvl(null, 'go');
          if datediff(day, '2024-01-01'::date, '2024-01-03'::date) > days then
            insert into log values (message, trunc(started));
          end if;
        end;
        $$ language plpgsql;
        call note(1);
        call note(5);
    """)
    rows = run_script(postgres_session, "select message, at_day is not null from log").rows
    assert rows == [("start-go", True)]


def test_sysdate_and_getdate_in_call_arguments(postgres_session):
    run_script(postgres_session, """
        create table stamps (at timestamp, day date);
        create procedure stamp(at timestamp, day date) as $$
        begin
          insert into stamps values (at, day);
        end;
        $$ language plpgsql;
        call stamp(sysdate, trunc(getdate()));
    """)
    rows = run_script(postgres_session, "select at, day from stamps").rows
    assert len(rows) == 1 and isinstance(rows[0][0], dt.datetime) and rows[0][1] == rows[0][0].date()


def test_commit_and_copy_inside_a_body_fail_clearly():
    with pytest.raises(NotSupportedLocally, match="COMMIT inside a block with an EXCEPTION handler"):
        translate("""create procedure p() as $$
            begin
              insert into t values (1);
              commit;
            exception when others then
              raise info 'x';
            end;
            $$ language plpgsql""", "postgres")
    with pytest.raises(NotSupportedLocally, match="COPY inside a stored procedure"):
        translate("""create procedure p() as $$
            begin
              copy t from 's3://bucket/key' iam_role default;
            end;
            $$ language plpgsql""", "postgres")


def test_commit_outside_any_handler_block_runs(postgres_session):
    # stored-procedure-transaction-management.md: sp_commit commits twice.
    run_script(postgres_session, """
        create table test_table_a (a int);
        CREATE OR REPLACE PROCEDURE sp_commit(a int, b int) LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO test_table_a values (a);
          COMMIT;
          INSERT INTO test_table_a values (b);
          COMMIT;
        END;
        $$;
        call sp_commit(1, 2);
    """)
    assert run_script(postgres_session, "select a from test_table_a order by a").rows == [(1,), (2,)]


def test_drop_procedure_with_the_references_signature(postgres_session):
    # r_DROP_PROCEDURE.md: DROP PROCEDURE quarterly_revenue(volume INOUT bigint, at_price IN numeric, result OUT int)
    run_script(postgres_session, """
        create procedure quarterly_revenue(volume inout bigint, at_price in numeric, result out int) as $$
        begin
          volume := volume * 2;
          result := 1;
        end;
        $$ language plpgsql;
        DROP PROCEDURE quarterly_revenue(volume INOUT bigint, at_price IN numeric,result OUT int);
    """)
    with pytest.raises(EngineError, match="does not exist"):
        run_script(postgres_session, "call quarterly_revenue(1, 2.0, null)")


def test_a_temp_table_analyzed_and_read_into_a_variable_inside_a_body(session):
    # aws-samples-style procedure: a #temp table made, ANALYZEd (a no-op, as at the top level) and counted INTO
    run_script(session, """
        create table lifecycle_log (n bigint);
        create or replace procedure temp_lifecycle()
        language plpgsql as $$
        declare
            v_count bigint := 0;
        begin
            drop table if exists #temp_safe_lifecycle;
            create temp table #temp_safe_lifecycle (id int not null, data_val varchar(100) not null) diststyle even;
            insert into #temp_safe_lifecycle (id, data_val)
            select n, 'Clean Value ' || n::varchar from (select 1 as n union select 2 union select 3) x;
            analyze #temp_safe_lifecycle;
            select count(1) into v_count from #temp_safe_lifecycle;
            insert into lifecycle_log values (v_count);
            drop table if exists #temp_safe_lifecycle;
        end;
        $$
    """)
    run_script(session, "call temp_lifecycle()")
    assert run_script(session, "select n from lifecycle_log").rows == [(3,)]
