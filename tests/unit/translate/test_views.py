"""Views' dependencies (views.py): DROP TABLE / DROP VIEW refuse while a normal view depends on the object
(RESTRICT, the default), CASCADE drops the dependents, and late-binding views block nothing; the examples of
r_DROP_TABLE.md, r_DROP_VIEW.md and r_CREATE_VIEW.md on both engines."""

from __future__ import annotations

from typing import Any

import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate import NotSupportedLocally
from tests.unit.translate.conftest import run_script


def _relations(session: Any) -> list[str]:
    return sorted(row[0] for row in run_script(
        session, "select table_name from information_schema.tables where table_schema = 'public'").rows)


def test_drop_table_with_a_dependent_view_is_refused_then_cascades(session: Any) -> None:
    # r_DROP_TABLE.md: "Invalid operation: cannot drop table feedback because other objects depend on it"
    run_script(session, "create table feedback(a int); create view feedback_view as select * from feedback")
    with pytest.raises(EngineError, match="^cannot drop table feedback because other objects depend on it"):
        run_script(session, "drop table feedback")
    with pytest.raises(EngineError, match="^cannot drop table feedback because other objects depend on it"):
        run_script(session, "drop table feedback restrict")
    assert _relations(session) == ["feedback", "feedback_view"]
    run_script(session, "drop table feedback cascade")  # drops FEEDBACK_VIEW too
    assert _relations(session) == []


def test_drop_view_with_a_child_view_is_refused_then_cascades(session: Any) -> None:
    # r_DROP_VIEW.md: eventview, then myeventview over it
    run_script(session, "create table event(dateid int, eventname varchar(200), catid int);"
                        " create view eventview as select dateid, eventname, catid from event where catid = 1;"
                        " create view myeventview as select eventname, catid from eventview where eventname <> ' '")
    with pytest.raises(EngineError, match="^cannot drop view eventview because other objects depend on it"):
        run_script(session, "drop view eventview")
    run_script(session, "drop view eventview cascade")
    assert _relations(session) == ["event"]
    run_script(session, "drop view if exists eventview")
    run_script(session, "drop table event")  # nothing depends on it any more
    assert _relations(session) == []


def test_dropping_a_view_and_its_table_together_needs_no_cascade(session: Any) -> None:
    run_script(session, "create table feedback(a int); create table buyers(a int);"
                        " create view v as select * from feedback join buyers using (a)")
    run_script(session, "drop view v; drop table feedback, buyers")  # r_DROP_TABLE.md: two tables at once
    assert _relations(session) == []


def test_a_late_binding_view_never_blocks_a_drop_and_binds_when_queried(duckdb_session: Any) -> None:
    # r_CREATE_VIEW.md: "you can drop or alter a referenced object without affecting the view"
    run_script(duckdb_session, "create table event(eventid int, eventname varchar(20));"
                        " insert into event values (1, 'a');"
                        " create view event_vw as select * from public.event with no schema binding")
    assert run_script(duckdb_session, "select * from event_vw").rows == [(1, "a")]
    run_script(duckdb_session, "drop table event")
    assert _relations(duckdb_session) == ["event_vw"]
    with pytest.raises(EngineError):
        run_script(duckdb_session, "select * from event_vw")  # "If you drop underlying objects, queries ... will fail"
    run_script(duckdb_session, "create table event(eventid int, eventname varchar(20)); insert into event values (2, 'b')")
    assert run_script(duckdb_session, "select * from event_vw").rows == [(2, "b")]


def test_a_normal_view_over_a_late_binding_view_blocks_its_drop(duckdb_session: Any) -> None:
    run_script(duckdb_session, "create table t(a int); create view lb as select a from public.t with no schema binding;"
                        " create view v as select a from lb")
    run_script(duckdb_session, "drop table t")
    with pytest.raises(EngineError, match="^cannot drop view lb because other objects depend on it"):
        run_script(duckdb_session, "drop view lb")
    run_script(duckdb_session, "drop view lb cascade")
    assert _relations(duckdb_session) == []


def test_a_late_binding_view_over_a_normal_view_survives_its_cascade(duckdb_session: Any) -> None:
    # DROP TABLE t CASCADE drops the view bound to t, not the late-binding view over that view.
    run_script(duckdb_session, "create table t(a int); create view v as select a from t;"
                               " create view lb as select a from public.v with no schema binding")
    run_script(duckdb_session, "drop table t cascade")
    assert _relations(duckdb_session) == ["lb"]


def test_postgres_refuses_to_drop_what_a_late_binding_view_reads(postgres_session: Any) -> None:
    # PostgreSQL binds every view: it would refuse the drop, or drop the view with it (CASCADE).
    run_script(postgres_session, "create table t(a int); create view lb as select a from public.t"
                                 " with no schema binding")
    for drop in ("drop table t", "drop table t cascade"):
        with pytest.raises(NotSupportedLocally, match="late-binding view"):
            run_script(postgres_session, drop)
    run_script(postgres_session, "create table u(a int); create view v as select a from u;"
                                 " create view lb2 as select a from public.v with no schema binding")
    with pytest.raises(EngineError, match="^cannot drop table u because other objects depend on it"):
        run_script(postgres_session, "drop table u")  # a bound view: Redshift's refusal
    with pytest.raises(NotSupportedLocally, match="late-binding view"):
        run_script(postgres_session, "drop table u cascade")  # would drop lb2 with v
    assert _relations(postgres_session) == ["lb", "lb2", "t", "u", "v"]


def test_a_late_binding_view_names_its_relations_with_their_schema(session: Any) -> None:
    # r_CREATE_VIEW.md: "tables and views referenced in the SELECT statement must be qualified with a schema name"
    run_script(session, "create table event(eventname varchar(20))")
    with pytest.raises(EngineError, match="^All the relation names inside should be qualified when creating VIEW"
                                          " WITH NO SCHEMA BINDING"):
        run_script(session, "create view myevent as select eventname from event with no schema binding")
    run_script(session, "create view myevent as select eventname from public.event with no schema binding")
    run_script(session, "create view myevent2 as with e as (select eventname from public.event)"
                        " select * from e with no schema binding")  # a CTE's name is no relation
    assert _relations(session) == ["event", "myevent", "myevent2"]


def test_a_late_binding_view_over_a_missing_table_is_not_supported_locally(session: Any) -> None:
    # Redshift creates it ("You can create a view even if the referenced objects don't exist"); the engines bind.
    with pytest.raises(NotSupportedLocally, match="late-binding view over public.nope, which does not exist yet"):
        run_script(session, "create view v as select * from public.nope with no schema binding")
    with pytest.raises(EngineError):  # "The schema must exist when the view is created"
        run_script(session, "create view v as select * from noschema.nope with no schema binding")


def test_a_late_binding_view_keeps_its_query(session: Any) -> None:
    run_script(session, "create table t(a int); create table u(a int); insert into t values (1); insert into u values (2);"
                        " create view v as select a from public.t union all select a from public.u"
                        " with no schema binding;"
                        " create view r as with recursive n(i) as (select 1 union all select i + 1 from n where i < 3)"
                        " select i from n with no schema binding")
    assert sorted(run_script(session, "select a from v").rows) == [(1,), (2,)]
    assert run_script(session, "select i from r order by i").rows == [(1,), (2,), (3,)]


def test_drop_schema_restricts_then_cascades_to_the_views_of_other_schemas(session: Any) -> None:
    # r_DROP_SCHEMA.md: RESTRICT (the default) "not to drop a schema ... if it contains any objects", CASCADE "to
    # automatically drop all objects in the schema", and what depends on them: the normal views reading them
    run_script(session, "create schema s_sales; create table s_sales.orders (id int);"
                        " create view public.orders_view as select id from s_sales.orders;"
                        " create view public.orders_count as select count(*) as n from public.orders_view;"
                        " create view public.late_orders as select id from s_sales.orders with no schema binding"
                        if session.engine == "duckdb" else
                        "create schema s_sales; create table s_sales.orders (id int);"
                        " create view public.orders_view as select id from s_sales.orders;"
                        " create view public.orders_count as select count(*) as n from public.orders_view")
    for statement in ("drop schema s_sales restrict", "drop schema s_sales"):
        with pytest.raises(EngineError, match="^cannot drop schema s_sales because other objects depend on it"):
            run_script(session, statement)
    run_script(session, "drop schema s_sales cascade")
    assert [r for r in _relations(session) if r != "late_orders"] == []
    run_script(session, "drop schema if exists s_sales cascade")


def test_a_normal_view_follows_a_rename_on_postgres(postgres_session: Any) -> None:
    # Redshift binds a normal view to what it reads (a late-binding view "doesn't check the underlying database
    # objects ... until the view is queried", r_CREATE_VIEW.md): renamed, the table is still the view's, and a
    # column added later is not in its `*`
    run_script(postgres_session, "create table event (eventid int, eventname varchar(20));"
                                 " insert into event values (2, 'Boris Godunov');"
                                 " create view event_vw as select * from event;"
                                 " alter table event rename to event_renamed;"
                                 " alter table event_renamed rename column eventname to title;"
                                 " alter table event_renamed add column venueid int")
    result = run_script(postgres_session, "select * from event_vw")
    assert [c.name for c in result.columns] == ["eventid", "eventname"]
    assert result.rows == [(2, "Boris Godunov")]


def test_altering_what_a_normal_view_reads_is_not_supported_on_duckdb(duckdb_session: Any) -> None:
    # a DuckDB view reads names: after the rename it would fail, or see the new column in its `*`
    run_script(duckdb_session, "create table event (eventid int, eventname varchar(20));"
                               " create view event_vw as select * from event;"
                               " create table venue (venueid int); create view venue_ids as select venueid from venue;"
                               " create view venue_count as select count(*) as n, max(v.venueid) from venue_ids v;"
                               " create view event_all as select e.* from event e;"
                               " create view late_vw as select * from public.event with no schema binding")
    for statement in ("alter table event rename to event_renamed", "alter table event rename column eventname to x",
                      "alter table event drop column eventname", "alter table event add column venueid int",
                      "alter table venue rename to venues", "alter view venue_ids rename to venue_list"):
        with pytest.raises(NotSupportedLocally, match="which the view public"):
            run_script(duckdb_session, statement)
    run_script(duckdb_session, "alter table venue add column venuename varchar(20); drop view venue_ids cascade;"
                               " drop view event_vw")
    with pytest.raises(NotSupportedLocally, match="ADD COLUMN of public.event, which the view public.event_all"):
        run_script(duckdb_session, "alter table event add column venueid int")
    run_script(duckdb_session, "drop view event_all; alter table event rename column eventname to title")
    assert [c.name for c in run_script(duckdb_session, "select * from late_vw").columns] == ["eventid", "title"]
