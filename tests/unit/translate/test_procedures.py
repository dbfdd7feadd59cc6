"""Stored procedures: PostgreSQL runs them with the Redshift rewrites applied inside the body; DuckDB refuses."""

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


def test_procedure_created_and_called_with_raise_info(postgres_session):
    run_script(postgres_session, """
        create table sales (sold_at timestamp, amount numeric(10,2));
        insert into sales values ('2024-01-02 10:00', 5), ('2024-01-02 11:00', null), ('2024-01-03 09:00', 7);
    """)
    run_script(postgres_session, PROCEDURE)
    run_script(postgres_session, "call public.load_daily(:day, 1)", {"day": "2024-01-02"})
    run_script(postgres_session, "call load_daily('2024-01-09', 1)")
    rows = run_script(postgres_session, "select day, total, loaded_at is not null from daily").rows
    assert [(day, float(total), stamped) for day, total, stamped in rows] == [(dt.date(2024, 1, 2), 5.0, True)]
    assert [n for n in postgres_session.notices if n.startswith("INFO")] == ["INFO: loaded 1 day(s) for 2024-01-02",
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


@pytest.mark.parametrize("statement", [PROCEDURE.strip(), "call load_daily('2024-01-02', 1)"])
def test_duckdb_refuses_procedures_and_points_to_postgres(statement):
    with pytest.raises(NotSupportedLocally) as raised:
        translate(statement, "duckdb")
    assert str(raised.value) == ("not supported locally: stored procedures on the DuckDB engine "
                                 "(use the PostgreSQL engine)")
