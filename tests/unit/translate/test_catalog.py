"""Comments and constraint views as Redshift answers them (r_COMMENT.md), on both engines (translate/catalog.py)."""

from __future__ import annotations

import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate import NotSupportedLocally, translate
from tests.unit.translate.conftest import run_script


def test_comments_from_the_reference_read_back(session):
    run_script(session, "create table sales (salesid int, listid int, sellerid int, buyerid int, eventid int);"
                        "create table event (eventid int, eventname varchar(20))")
    run_script(session, "COMMENT ON TABLE sales IS 'This table stores tickets sales data'")
    result = run_script(session, "select obj_description('public.sales'::regclass)")
    assert result.rows == [("This table stores tickets sales data",)]
    assert result.columns[0].name == "obj_description"
    run_script(session, "COMMENT ON COLUMN sales.eventid IS 'Foreign-key reference to the EVENT table.'")
    result = run_script(session, "select col_description( 'public.sales'::regclass, 5::integer )")
    assert result.rows == [("Foreign-key reference to the EVENT table.",)]
    assert result.columns[0].name == "col_description"
    run_script(session, "comment on table event is 'Contains listings of individual events.'")
    assert run_script(session, """
        select classoid, objsubid, description from pg_catalog.pg_description
        where objoid = (select oid from pg_class where relname = 'event'
                        and relnamespace = (select oid from pg_catalog.pg_namespace where nspname = 'public'))
    """).rows == [(1259, 0, "Contains listings of individual events.")]
    run_script(session, "COMMENT ON TABLE sales IS NULL")
    assert run_script(session, "select obj_description('sales'::regclass, 'pg_class')").rows == [(None,)]
    # pg_description lists commented objects alone: the event table and the sales.eventid column
    assert run_script(session, "select objsubid, description from pg_description d join pg_class c on c.oid = d.objoid"
                               " where c.relname in ('sales', 'event') order by objsubid").rows == [
        (0, "Contains listings of individual events."), (5, "Foreign-key reference to the EVENT table.")]
    with pytest.raises(EngineError, match='relation "nosuch" does not exist'):
        run_script(session, "select obj_description('nosuch'::regclass)")


@pytest.mark.parametrize("view", ["information_schema.key_column_usage",
                                  "pg_catalog.pg_constraint", "pg_constraint"])
@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_constraint_views_are_refused(view, engine):
    # the emulator drops the PRIMARY KEY / UNIQUE / FOREIGN KEY declarations Redshift records
    with pytest.raises(NotSupportedLocally, match="PRIMARY KEY, UNIQUE and FOREIGN KEY"):
        translate(f"select * from {view} where table_name = 't'", engine)
