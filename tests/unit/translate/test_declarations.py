"""The declarations Redshift keeps and the engines drop (translate/declarations.py): distribution, sort key and
encodings in pg_table_def and svv_table_info, PRIMARY KEY / UNIQUE / FOREIGN KEY in information_schema.
table_constraints and DROP CONSTRAINT, SHOW TABLE; from the SQL reference's examples, on both engines."""

from __future__ import annotations

import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate import NotSupportedLocally
from tests.unit.translate.conftest import run_script

_LAYOUT = 'select "column", type, encoding, distkey, sortkey from pg_table_def where tablename = '


@pytest.mark.parametrize(("ddl", "expected"), [
    # r_CREATE_TABLE_examples.md, "DISTSTYLE, DISTKEY, and SORTKEY options": t1 ... t4 and their outputs
    ("create table t(col1 int distkey, col2 int) diststyle key", [("az64", True, 0), ("az64", False, 0)]),
    ("create table t(col1 int distkey sortkey, col2 int)", [("none", True, 1), ("az64", False, 0)]),
    ("create table t(col1 int, col2 int sortkey) diststyle all", [("az64", False, 0), ("none", False, 1)]),
    ("create table t(col1 int, col2 int) diststyle even", [("az64", False, 0), ("az64", False, 0)]),
])
def test_the_create_table_examples_distkey_sortkey_and_diststyle_options(session, ddl, expected):
    run_script(session, ddl)
    assert run_script(session, _LAYOUT + "'t'").rows == [
        (column, "integer", *values) for column, values in zip(("col1", "col2"), expected)]


def test_compound_and_interleaved_sort_keys_as_pg_table_def_shows_them(session):
    # r_PG_TABLE_DEF.md: a compound key's positions; an interleaved key's alternately negative (-1, 2, -3, 4, -5)
    columns = ("lo_orderkey integer not null encode delta32k, lo_custkey integer not null encode raw,"
               " lo_partkey integer not null encode raw distkey, lo_suppkey integer not null encode delta32k,"
               " lo_orderdate integer not null encode delta, lo_other int not null encode lzo")
    key = "(lo_orderkey, lo_custkey, lo_partkey, lo_suppkey, lo_orderdate)"
    run_script(session, f"create table lineorder_compound ({columns}) compound sortkey {key}")
    run_script(session, f"create table lineorder_interleaved ({columns}) interleaved sortkey {key}")
    query = ('select "column", type, encoding, distkey, sortkey, "notnull" from pg_table_def'
             " where tablename = '{}' and sortkey <> 0")
    assert run_script(session, query.format("lineorder_compound")).rows == [
        ("lo_orderkey", "integer", "delta32k", False, 1, True), ("lo_custkey", "integer", "none", False, 2, True),
        ("lo_partkey", "integer", "none", True, 3, True), ("lo_suppkey", "integer", "delta32k", False, 4, True),
        ("lo_orderdate", "integer", "delta", False, 5, True)]
    assert [row[4] for row in run_script(session, query.format("lineorder_interleaved")).rows] == [-1, 2, -3, 4, -5]


def test_select_star_from_pg_table_def_has_every_column(session):
    # r_PG_TABLE_DEF.md: schemaname | tablename | column | type | encoding | distkey | sortkey | notnull
    run_script(session, "create schema demo; create table demo.demotable (one int);"
                        " set search_path to '$user', 'public', 'demo'")
    result = run_script(session, "select * from pg_table_def where tablename = 'demotable'")
    assert [c.name for c in result.columns] == ["schemaname", "tablename", "column", "type", "encoding", "distkey",
                                                "sortkey", "notnull"]
    # the page shows encoding none, an older default: ENCODE AUTO starts an integer at az64 (t1 ... t4 above)
    assert result.rows == [("demo", "demotable", "one", "integer", "az64", False, 0, False)]


def test_like_inherits_the_layout_and_ctas_follows_its_documented_rules(session):
    # r_CREATE_TABLE_examples.md: a LIKE table "inherits the DISTKEY and SORTKEY attributes of its parent table"
    run_script(session, """create table event(eventid integer not null distkey, venueid smallint not null,
        dateid smallint not null sortkey, eventname varchar(200) encode bytedict, starttime timestamp);
        create temp table tempevent(like event)""")
    assert run_script(session, _LAYOUT + "'tempevent'").rows == [
        ("eventid", "integer", "az64", True, 0), ("venueid", "smallint", "az64", False, 0),
        ("dateid", "smallint", "none", False, 1), ("eventname", "character varying(200)", "bytedict", False, 0),
        ("starttime", "timestamp without time zone", "az64", False, 0)]
    # r_CTAS_examples.md: DISTKEY (1) SORTKEY (1, 3) are select-list positions; encodings by r_CTAS_usage_notes.md
    run_script(session, "create table eventdistsort distkey (1) sortkey (1,3) as"
                        " select eventid, venueid, dateid from event")
    assert run_script(session, 'select "column", encoding, distkey, sortkey from pg_table_def'
                               " where tablename = 'eventdistsort'").rows == [
        ("eventid", "none", True, 1), ("venueid", "az64", False, 0), ("dateid", "none", False, 2)]
    # a simple select from one table: "CTAS uses the source table's distribution style and sort key"
    run_script(session, "create table event_backup as select * from event")
    assert run_script(session, 'select "column", distkey, sortkey from pg_table_def where tablename ='
                               " 'event_backup' and (distkey or sortkey <> 0)").rows == [
        ("eventid", True, 0), ("dateid", False, 1)]
    # EVEN named, no SORTKEY: "The new table has no sort key and no distribution key"
    run_script(session, "create table eventdisteven diststyle even as select eventid, dateid from event")
    assert run_script(session, 'select "column", distkey, sortkey from pg_table_def'
                               " where tablename = 'eventdisteven'").rows == [("eventid", False, 0), ("dateid", False, 0)]
    # otherwise Redshift picks them from its query plan: refused when read
    run_script(session, "create table eventcount as select dateid, count(*) n from event group by dateid")
    with pytest.raises(EngineError, match="not supported locally: pg_table_def.distkey of a CREATE TABLE AS table"):
        run_script(session, "select \"column\", distkey from pg_table_def where tablename = 'eventcount'")
    assert run_script(session, "select \"column\", encoding from pg_table_def where tablename = 'eventcount'"
                               " and \"column\" = 'n'").rows == [("n", "az64")]


def test_alter_table_keeps_the_declarations_right(session):
    # r_ALTER_TABLE_examples_basic.md: encodings, distribution and sort keys altered; renames and drops follow
    run_script(session, "create table t1(c0 int encode lzo, c1 bigint encode zstd, c2 varchar(16) encode lzo,"
                        " c3 varchar(32) encode zstd)")
    run_script(session, "alter table t1 alter column c0 encode az64; alter table t1 alter column c2 encode bytedict;"
                        " alter table t1 alter distkey c1; alter table t1 alter sortkey (c3, c0)")
    assert run_script(session, _LAYOUT + "'t1'").rows == [
        ("c0", "integer", "az64", False, 2), ("c1", "bigint", "zstd", True, 0),
        ("c2", "character varying(16)", "bytedict", False, 0), ("c3", "character varying(32)", "zstd", False, 1)]
    run_script(session, "alter table t1 rename column c1 to k; alter table t1 drop column c2;"
                        " alter table t1 rename to t9")
    assert run_script(session, _LAYOUT + "'t9'").rows == [
        ("c0", "integer", "az64", False, 2), ("k", "bigint", "zstd", True, 0),
        ("c3", "character varying(32)", "zstd", False, 1)]
    run_script(session, "alter table t9 alter sortkey none; alter table t9 alter diststyle all")
    assert run_script(session, 'select "column", distkey, sortkey from pg_table_def where tablename = \'t9\'').rows \
        == [("c0", False, 0), ("k", False, 0), ("c3", False, 0)]
    # a table made anew under a dropped one's name starts from its own declarations
    run_script(session, "drop table t9; create table t9 (c0 int)")
    assert run_script(session, _LAYOUT + "'t9'").rows == [("c0", "integer", "az64", False, 0)]
    with pytest.raises(EngineError, match='column "nope" of relation "t9" does not exist'):
        run_script(session, "alter table t9 alter distkey nope")
    with pytest.raises(EngineError, match='relation "nope" does not exist'):
        run_script(session, "alter table nope alter column c0 encode lzo")


def test_svv_table_info_shows_the_distribution_style_as_alter_table_changes_it(session):
    # r_ALTER_TABLE_examples_basic.md: EVEN, then KEY(inv_warehouse_sk), KEY(inv_item_sk), ALL
    run_script(session, """create table inventory(inv_date_sk int4 not null, inv_item_sk int4 not null,
        inv_warehouse_sk int4 not null, inv_quantity_on_hand int4) diststyle even;
        insert into inventory values(1,1,1,1)""")
    query = 'select "table", "diststyle" from svv_table_info'
    assert run_script(session, query).rows == [("inventory", "EVEN")]
    run_script(session, "alter table inventory alter diststyle key distkey inv_warehouse_sk")
    assert run_script(session, query).rows == [("inventory", "KEY(inv_warehouse_sk)")]
    run_script(session, "alter table inventory alter distkey inv_item_sk")
    assert run_script(session, query).rows == [("inventory", "KEY(inv_item_sk)")]
    run_script(session, "alter table inventory alter diststyle all; alter table inventory alter sortkey (inv_date_sk)")
    assert run_script(session, 'select "table", diststyle, sortkey1, sortkey_num from svv_table_info').rows \
        == [("inventory", "ALL", "inv_date_sk", 1)]
    # encoded: not documented for ENCODE AUTO; Y once a column's encoding is named
    with pytest.raises(EngineError, match="not supported locally: svv_table_info.encoded of an ENCODE AUTO table"):
        run_script(session, "select encoded from svv_table_info")
    run_script(session, "alter table inventory alter column inv_item_sk encode zstd")
    assert run_script(session, "select encoded from svv_table_info").rows == [("Y",)]
    # DISTSTYLE AUTO: Redshift's own AUTO(ALL) / AUTO(EVEN) / AUTO(KEY(c)), refused when read
    run_script(session, "create table auto_t (a int); insert into auto_t values (1)")
    with pytest.raises(EngineError, match="not supported locally: svv_table_info.diststyle of a DISTSTYLE AUTO"):
        run_script(session, query)


def test_constraints_are_kept_listed_and_dropped_but_never_enforced(session):
    # r_ALTER_TABLE_examples_basic.md: find the primary key's name (category_pkey), then drop it
    run_script(session, """create table category(catid smallint not null, catgroup varchar(10),
        catname varchar(10), catdesc varchar(50), primary key(catid))""")
    query = ("select constraint_name, constraint_type from information_schema.table_constraints"
             " where constraint_schema ='public' and table_name = 'category'")
    assert run_script(session, query).rows == [("category_pkey", "PRIMARY KEY")]
    run_script(session, "insert into category values (1, 'a', 'b', 'c'), (1, 'a', 'b', 'c')")  # not enforced
    run_script(session, "alter table category drop constraint category_pkey")
    assert run_script(session, query).rows == []
    with pytest.raises(EngineError, match='constraint "category_pkey" of relation "category" does not exist'):
        run_script(session, "alter table category drop constraint category_pkey")
    run_script(session, "alter table category add constraint cat_key primary key (catid);"
                        " alter table category add constraint cat_name unique (catname)")
    assert sorted(run_script(session, query).rows) == [("cat_key", "PRIMARY KEY"), ("cat_name", "UNIQUE")]
    with pytest.raises(EngineError, match="multiple primary keys"):
        run_script(session, "alter table category add primary key (catgroup)")
    # Redshift does not document the names of an unnamed UNIQUE or FOREIGN KEY
    run_script(session, "create table listing(listid int, catid smallint references category(catid), unique(listid))")
    assert sorted(run_script(session, "select table_name, constraint_type from information_schema.table_constraints"
                                      " where table_name = 'listing'").rows) == [
        ("listing", "FOREIGN KEY"), ("listing", "UNIQUE")]
    with pytest.raises(EngineError, match="not supported locally: information_schema.table_constraints"
                                          ".constraint_name of an unnamed"):
        run_script(session, "select constraint_name from information_schema.table_constraints"
                            " where table_name = 'listing'")
    with pytest.raises(NotSupportedLocally, match="DROP CONSTRAINT listing_pkey of a table with an unnamed"):
        run_script(session, "alter table listing drop constraint listing_pkey")


def test_a_primary_key_column_is_not_null(session):
    # r_SHOW_TABLE.md: `a int PRIMARY KEY` shows as `a integer NOT NULL`
    run_script(session, "create table foo(a int PRIMARY KEY, b int)")
    assert run_script(session, 'select "column", "notnull" from pg_table_def where tablename = \'foo\'').rows == [
        ("a", True), ("b", False)]
    with pytest.raises(EngineError, match="(?i)not.null"):
        run_script(session, "insert into foo values (null, 1)")


def test_show_table_prints_the_ddl_as_the_reference_does(session):
    # r_SHOW_TABLE.md's three examples (its line breaks; the sales and category tables as TICKIT declares them)
    run_script(session, """create table sales(salesid integer not null, listid integer not null distkey,
        sellerid integer not null, buyerid integer not null, eventid integer not null,
        dateid smallint not null sortkey, qtysold smallint not null, pricepaid decimal(8,2),
        commission decimal(8,2), saletime timestamp)""")
    assert run_script(session, "show table sales").rows == [(
        "CREATE TABLE public.sales (\nsalesid integer NOT NULL ENCODE az64,\n"
        "listid integer NOT NULL ENCODE az64 distkey,\nsellerid integer NOT NULL ENCODE az64,\n"
        "buyerid integer NOT NULL ENCODE az64,\neventid integer NOT NULL ENCODE az64,\ndateid smallint NOT NULL,\n"
        "qtysold smallint NOT NULL ENCODE az64,\npricepaid numeric(8,2) ENCODE az64,\n"
        "commission numeric(8,2) ENCODE az64,\nsaletime timestamp without time zone ENCODE az64\n)\n"
        "DISTSTYLE KEY SORTKEY ( dateid );",)]
    run_script(session, "create table category(catid smallint not null distkey sortkey, catgroup varchar(10),"
                        " catname varchar(10), catdesc varchar(50))")
    assert run_script(session, "show table public.category").rows == [(
        "CREATE TABLE public.category (\ncatid smallint NOT NULL distkey,\n"
        "catgroup character varying(10) ENCODE lzo,\ncatname character varying(10) ENCODE lzo,\n"
        "catdesc character varying(50) ENCODE lzo\n)\nDISTSTYLE KEY SORTKEY ( catid );",)]
    run_script(session, "create table foo(a int PRIMARY KEY, b int)")
    assert run_script(session, "show table foo").rows == [(
        "CREATE TABLE public.foo (\na integer NOT NULL ENCODE az64,\nb integer ENCODE az64,\nPRIMARY KEY (a)\n)\n"
        "DISTSTYLE AUTO;",)]


@pytest.mark.parametrize(("ddl", "error", "message"), [
    ("create table t (a int default 1)", NotSupportedLocally, "SHOW TABLE of a table with a column DEFAULT"),
    ("create table t (a int) backup no", NotSupportedLocally, "SHOW TABLE of a table with BACKUP NO"),
    ("create table t (a int references t(a))", NotSupportedLocally, "SHOW TABLE of a table with a FOREIGN KEY"),
    ("create temp table t (a int)", NotSupportedLocally, "SHOW TABLE of a temporary table"),
    ("create table u (a int)", EngineError, 'relation "t" does not exist'),
])
def test_show_table_refuses_what_the_reference_does_not_show(session, ddl, error, message):
    run_script(session, ddl)
    with pytest.raises(error, match=message):
        run_script(session, "show table t")


def test_declarations_follow_the_transaction(session):
    run_script(session, "create table t (a int, b int) diststyle even")
    run_script(session, "begin; alter table t alter distkey b; rollback")
    assert run_script(session, 'select "column", distkey from pg_table_def where tablename = \'t\'').rows == [
        ("a", False), ("b", False)]


@pytest.fixture(params=["duckdb", "postgres"])
def two_sessions(request: pytest.FixtureRequest):
    """Two sessions of one database: what one reads of the catalog must follow the other's DDL."""
    if request.param == "duckdb":
        from shiftflow.dataapi.engines.duckdb import DuckDBEngine

        engine = DuckDBEngine()
        name = "dev"
    else:
        engine, name = request.getfixturevalue("postgres_engine"), f"two_sessions_{request.node.name[-10:-1]}"
    first, second = engine.session(name), engine.session(name)
    yield first, second
    first.close()
    second.close()
    if request.param == "duckdb":
        engine.close()


def test_what_a_session_read_of_the_catalog_follows_another_sessions_ddl_and_a_rollback(two_sessions):
    # The DuckDB session keeps catalog reads (the table a name finds, its columns, the emulator's own tables) until
    # any session changes the catalog: another session's DROP and CREATE, and a rollback, must be seen at once.
    first, second = two_sessions
    # the first CREATE TABLE of a database, rolled back: its declarations go with it, the next CREATE keeps its own
    run_script(first, "begin; create table u (a int distkey); rollback")
    assert run_script(second, _LAYOUT + "'u'").rows == []
    run_script(second, "create table u (a int sortkey)")
    assert run_script(first, _LAYOUT + "'u'").rows == [("a", "integer", "none", False, 1)]
    run_script(first, "create table t (a int distkey, b varchar(3))")
    run_script(first, "insert into t (a, b) values (1, 'abc')")
    run_script(first, "create table t1 (like t)")
    assert run_script(first, _LAYOUT + "'t'").rows == [("a", "integer", "az64", True, 0),
                                                        ("b", "character varying(3)", "lzo", False, 0)]
    run_script(second, "drop table t; create table t (b varchar(6), a int, c int) sortkey (a)")
    run_script(first, "insert into t (a, b) values (2, 'abcdef')")  # the new b is 6 long
    assert run_script(first, "select b, a from t").rows == [("abcdef", 2)]
    assert run_script(first, _LAYOUT + "'t'").rows == [("b", "character varying(6)", "lzo", False, 0),
                                                        ("a", "integer", "none", False, 1),
                                                        ("c", "integer", "az64", False, 0)]
    run_script(first, "create table t2 (like t)")  # LIKE finds the table that name has now
    assert [row[0] for row in run_script(first, _LAYOUT + "'t2'").rows] == ["b", "a", "c"]
