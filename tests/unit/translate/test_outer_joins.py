"""Oracle-style outer joins (r_WHERE_oracle_outer.md) on both engines: the page's queries over a small CATEGORY and
EVENT, where the outer-joined rows are kept (and a (+) constant condition joins rather than filters)."""

from __future__ import annotations

import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate import NotSupportedLocally, translate
from tests.unit.translate.conftest import run_script

_TABLES = """
    create table category (catid smallint, catname varchar(10), catgroup varchar(10));
    insert into category values (1, 'MLB', 'Sports'), (9, 'Musicals', 'Shows'), (7, 'Jazz', 'Concerts');
    create table event (eventid integer, catid smallint);
    insert into event values (796, 9), (797, 9), (10, 1);
    create table listing (listid integer);
    insert into listing values (1), (2), (3);
    create table sales (listid integer, pricepaid decimal(8,2));
    insert into sales values (1, 728.00), (3, 76.00), (3, 1.00);
"""


def test_a_plus_column_keeps_the_other_tables_rows(session):
    run_script(session, _TABLES)
    assert run_script(session, "select count(*) from sales, listing where sales.listid = listing.listid(+)") \
        .rows == [(3,)]
    result = run_script(session, """
        select listing.listid, sum(pricepaid) as price from listing, sales
        where sales.listid(+) = listing.listid and listing.listid between 1 and 5 group by 1 order by 1""")
    assert [(row[0], None if row[1] is None else str(row[1])) for row in result.rows] == \
        [(1, "728.00"), (2, None), (3, "77.00")]


def test_a_plus_constant_condition_joins_and_one_without_filters(session):
    # the page: with eventid(+)=796 every category stays; with eventid=796 only Musicals does
    run_script(session, _TABLES)
    joined = run_script(session, "select catname, catgroup, eventid from category, event"
                                 " where category.catid=event.catid(+) and eventid(+)=796 order by 1")
    assert joined.rows == [("Jazz", "Concerts", None), ("MLB", "Sports", None), ("Musicals", "Shows", 796)]
    filtered = run_script(session, "select catname, catgroup, eventid from category, event"
                                   " where category.catid=event.catid(+) and eventid=796")
    assert filtered.rows == [("Musicals", "Shows", 796)]


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_a_table_outer_joined_to_two_others_fails_as_documented(engine):
    with pytest.raises(EngineError, match="A table may be outer joined to at most one other table"):
        translate("select count(*) from sales, listing, date"
                  " where sales.listid(+)=listing.listid and sales.dateid(+)=date.dateid", engine)


@pytest.mark.parametrize("sql", [
    "select * from t1, t2 where t1.a = t2.a(+) or t1.b = 1",
    "select * from t1 join t3 on t1.c = t3.c, t2 where t1.a = t2.a(+)",
    "select * from t1, t2 where t1.a = t2.a(+) and t2.b(+) in (select b from t3)",
])
def test_a_plus_the_rewrite_cannot_place_is_refused(sql):
    with pytest.raises(NotSupportedLocally, match=r"\(\+\) outer join"):
        translate(sql, "postgres")
