"""Expressions and clauses Redshift accepts that an engine refused (issue 13), on both engines, from the SQL
reference's examples and documented outputs: lateral column aliases (translate/aliases.py), text and BOOLEAN
compared with integers (functions/comparisons.py)."""

from __future__ import annotations

from tests.unit.translate.conftest import run_script

_USERS = ("create table users (userid int, city varchar(30), likevegas boolean, likesports boolean);"
          "insert into users values (1, 'Aberdeen', true, false), (2, 'Abilene', null, true), (3, 'Ada', true, true),"
          " (4, 'Agat', false, false), (5, 'Agawam', true, true);")


def test_lateral_alias_from_the_reverse_reference(session):
    # r_REVERSE.md: select distinct city as cityname, reverse(cityname) from users order by city limit 5
    result = run_script(session, _USERS + "select distinct city as cityname, reverse(cityname)"
                                          " from users order by city limit 5")
    assert result.rows == [("Aberdeen", "needrebA"), ("Abilene", "enelibA"), ("Ada", "adA"), ("Agat", "tagA"),
                           ("Agawam", "mawagA")]
    assert [c.name for c in result.columns] == ["cityname", "reverse"]


def test_lateral_aliases_chain_and_aggregate(session):
    # r_SELECT_list.md: `clicks / impressions as probability, round(100 * probability, 1) as percentage`
    script = ("create table raw_data (clicks int, impressions int); insert into raw_data values (1, 4), (3, 4);"
              "select clicks::float / impressions as probability, round(100 * probability, 1) as percentage,"
              " percentage + 1 as more from raw_data order by 1")
    assert run_script(session, script).rows == [(0.25, 25.0, 26.0), (0.75, 75.0, 76.0)]
    assert run_script(session, _USERS + "select count(*) as n, n * 2 as twice from users").rows == [(5, 10)]


def test_a_from_column_takes_priority_over_a_lateral_alias(session):
    # r_SELECT_list.md: "If there is a column with the same name defined in the FROM clause as the previously
    # aliased expression, the column in the FROM clause takes priority."
    result = run_script(session, _USERS + "select userid + 100 as userid, userid * 2 as twice from users"
                                          " where userid < 3 order by 1")
    assert result.rows == [(101, 2), (102, 4)]


def test_lateral_alias_inside_a_transaction(session):
    script = _USERS + "begin; select city as c, upper(c) as u, lower(u) as l from users where userid = 1; "
    assert run_script(session, script).rows == [("Aberdeen", "ABERDEEN", "aberdeen")]
    # the retried statement left the transaction usable (PostgreSQL: behind a savepoint)
    assert run_script(session, "insert into users values (6, 'Ajo', true, true); commit;"
                               " select count(*) from users").rows == [(6,)]


def test_a_missing_column_that_is_no_alias_still_fails(session):
    import pytest

    from shiftflow.dataapi.engines.base import EngineError

    with pytest.raises(EngineError, match="nosuch"):
        run_script(session, _USERS + "select city as c, upper(nosuch) from users")


def test_boolean_compared_with_an_integer_from_the_reference(session):
    # r_logical_condition.md: where likevegas = 1 and likesports = 1 / or
    run_script(session, _USERS)
    assert run_script(session, "select userid from users where likevegas = 1 and likesports = 1"
                               " order by userid").rows == [(3,), (5,)]
    assert run_script(session, "select userid from users where likevegas = 1 or likesports = 1"
                               " order by userid").rows == [(1,), (2,), (3,), (5,)]
    assert run_script(session, "select userid from users where 0 = likevegas or likesports <> 1"
                               " order by userid").rows == [(1,), (4,)]


def test_text_compared_with_an_integer_is_compared_as_text(session):
    # c_Supported_data_types.md: "When comparing all other numeric values with character strings, the numeric
    # values are converted to character strings"; TICKIT's date.qtr is CHAR(5) (r_NEXT_DAY.md: date.qtr = 3).
    run_script(session, "create table d (dateid int, qtr char(5), s varchar(10));"
                        "insert into d values (1, '3', '03'), (2, '4', '3 '), (3, '10', 'abc')")
    assert run_script(session, "select dateid from d where qtr = 3 order by 1").rows == [(1,)]
    assert run_script(session, "select dateid from d where 3 = qtr order by 1").rows == [(1,)]
    assert run_script(session, "select dateid from d where s = 3 order by 1").rows == [(2,)]  # not '03'
    assert run_script(session, "select dateid from d where qtr < 4 order by 1").rows == [(1,), (3,)]  # '10' < '4'
    assert run_script(session, "select dateid from d where qtr::varchar <> 3 order by 1").rows == [(2,), (3,)]
    assert run_script(session, "select dateid from d where dateid = 3 and '3' = 3").rows == [(3,)]
    # Outside WHERE and ON too: select lists, CASE, HAVING, a grouped column (wrapped in an aggregate on DuckDB).
    assert run_script(session, "select dateid, s = 3, 3 > qtr from d order by 1").rows == [
        (1, False, False), (2, True, False), (3, False, True)]  # '3' > '10' as texts
    assert run_script(session, "select sum(case when s = 3 then 1 else 0 end) from d").rows == [(1,)]
    assert run_script(session, "select s, count(*) from d group by s having s <> 3 order by 1").rows == [
        ("03", 1), ("abc", 1)]
    assert run_script(session, "select dateid = 3, qtr >= 4 from d group by dateid, qtr order by 1, 2").rows == [
        (False, False), (False, True), (True, False)]
    run_script(session, "update d set dateid = 4 where s = 3")  # an assignment is no comparison
    assert run_script(session, "select dateid from d where s = 3").rows == [(4,)]


def test_to_timestamp_from_the_reference(session):
    import datetime as dt

    import pytest

    from shiftflow.dataapi.engines.base import EngineError

    utc = dt.timezone.utc
    # r_TO_TIMESTAMP.md: sysdate read as its text (its fraction past the model ignored), a year alone, hour 24
    now, second = run_script(session, "select sysdate, to_timestamp(sysdate, 'YYYY-MM-DD HH24:MI:SS') as second").rows[0]
    assert second.replace(tzinfo=None) == now.replace(microsecond=0) and second.utcoffset() == dt.timedelta(0)
    assert run_script(session, "SELECT TO_TIMESTAMP('2017','YYYY')").rows[0][0] == dt.datetime(2017, 1, 1, tzinfo=utc)
    result = run_script(session, "SELECT TO_TIMESTAMP('2011-12-18 24:38:15', 'YYYY-MM-DD HH24:MI:SS')")
    assert result.rows == [(dt.datetime(2011, 12, 19, 0, 38, 15, tzinfo=utc),)]
    assert [(c.name, c.type_name) for c in result.columns] == [("to_timestamp", "timestamptz")]
    assert run_script(session, "select to_timestamp('2011-12-31 23:61:15', 'YYYY-MM-DD HH24:MI:SS')").rows == [
        (dt.datetime(2012, 1, 1, 0, 1, 15, tzinfo=utc),)]
    with pytest.raises(EngineError):  # is_strict: "ERROR: date/time field time value out of range: 24:38:15.0"
        run_script(session, "SELECT TO_TIMESTAMP('2011-12-18 24:38:15', 'YYYY-MM-DD HH24:MI:SS', TRUE)")
    with pytest.raises(EngineError):
        run_script(session, "select to_timestamp('xx', 'YYYY-MM-DD HH24:MI:SS')")


def test_prepared_statement_is_translated_on_both_engines(session):
    # r_PREPARE.md's forms; the prepared statement's DECODE of a CHAR column (redshift-utils user_to_be_dropped_objs)
    script = ("create table t (a int, k char(3)); insert into t values (1, 'r'), (2, 'v');"
              "prepare p1 (int) as select a, decode(k, 'r', 'Table', 'v', 'View') from t where a = $1;")
    run_script(session, script)
    assert run_script(session, "execute p1 (2)").rows == [(2, "View")]
    run_script(session, "deallocate p1")
    run_script(session, "prepare p2 (int, char) as insert into t values ($1, $2); execute p2 (3, 'x'); deallocate prepare p2")
    assert run_script(session, "select count(*) from t").rows == [(3,)]


def test_strtol_of_a_nul_character(duckdb_session, postgres_session):
    import pytest

    from shiftflow.dataapi.translate import NotSupportedLocally

    # r_STRTOL.md: select strtol('\0', 2) is 0; PostgreSQL text cannot hold the NUL character
    assert run_script(duckdb_session, r"select strtol('\0', 2)").rows == [(0,)]
    with pytest.raises(NotSupportedLocally, match="NUL character"):
        run_script(postgres_session, r"select strtol('\0', 2)")


_CASE_INSENSITIVE_T1 = ("create table T1 (col1 Varchar(20) collate case_insensitive);"
                        "INSERT INTO T1 VALUES ('bob'), ('john'), ('Mary'), ('JOHN'), ('Bob');")


def test_case_insensitive_column_from_the_reference(duckdb_session):
    # r_CREATE_TABLE_examples.md and r_CREATE_DATABASE.md's case-insensitive examples (ties in any order)
    run_script(duckdb_session, _CASE_INSENSITIVE_T1)

    def rows(sql: str) -> list[tuple]:
        return run_script(duckdb_session, sql).rows

    assert sorted(rows("select * from T1 where col1 = 'John'")) == [("JOHN",), ("john",)]
    assert [row[0].lower() for row in rows("SELECT * FROM T1 ORDER BY 1")] == ["bob", "bob", "john", "john", "mary"]
    grouped = rows("SELECT col1, count(*) FROM T1 GROUP BY 1")
    assert sorted((name.lower(), count) for name, count in grouped) == [("bob", 2), ("john", 2), ("mary", 1)]
    assert sorted(rank for _, rank in rows("SELECT col1, rank() over (ORDER BY col1) FROM T1")) == [1, 1, 3, 3, 5]
    assert len(rows("SELECT DISTINCT col1 FROM T1")) == 3
    run_script(duckdb_session, "CREATE TABLE T2 AS SELECT * FROM T1")
    assert len(rows("SELECT col1 FROM T1 UNION SELECT col1 FROM T2")) == 3
    # "Pattern matching operations such as LIKE predicates ... are also case-insensitive"; IN lists
    assert rows("select count(*) from T1 where col1 like 'JO%'") == [(2,)]
    assert rows("select count(*) from T1 where col1 in ('BOB', 'mary')") == [(3,)]


def test_case_sensitive_collation_runs_on_postgres(postgres_session):
    # r_COLLATE.md's table (its DuckDB run is test_strings.py's): case_sensitive is Redshift's default
    run_script(postgres_session, "CREATE TABLE T (col1 Varchar(20) COLLATE case_sensitive);"
                                 "INSERT INTO T VALUES ('john'),('JOHN')")
    assert run_script(postgres_session, "SELECT * FROM T WHERE col1 = 'john'").rows == [("john",)]
    assert run_script(postgres_session, "SELECT * FROM T WHERE collate(col1, 'case_sensitive') = 'JOHN'").rows == [
        ("JOHN",)]


def test_case_insensitive_collation_is_refused_on_postgres(postgres_session):
    import pytest

    from shiftflow.dataapi.translate import NotSupportedLocally

    # the bundled PostgreSQL has no ICU, so no nondeterministic (case-insensitive) collation: a column's, or an
    # expression's anywhere but an equality, is refused
    for sql in ("create table T1 (col1 Varchar(20) collate case_insensitive)",
                "SELECT 'a' < collate('B', 'case_insensitive')", "SELECT 'a' collate ci ORDER BY 1"):
        with pytest.raises(NotSupportedLocally, match="case-insensitive collation"):
            run_script(postgres_session, sql)


def test_a_case_insensitive_equality_runs_on_postgres(postgres_session):
    # r_COLLATE.md: SELECT * FROM T WHERE collate(col1, 'case_insensitive') = 'john' finds john and JOHN
    run_script(postgres_session, "CREATE TABLE T (col1 Varchar(20) COLLATE case_sensitive);"
                                 "INSERT INTO T VALUES ('john'),('JOHN'),('Bob ')")

    def rows(sql: str) -> list[tuple]:
        return sorted(run_script(postgres_session, sql).rows)

    assert rows("SELECT * FROM T WHERE collate(col1, 'case_insensitive') = 'john'") == [("JOHN",), ("john",)]
    assert rows("SELECT * FROM T WHERE 'BOB' = col1 collate case_insensitive") == [("Bob ",)]
    assert rows("SELECT * FROM T WHERE col1 collate ci in ('JOHN', 'x')") == [("JOHN",), ("john",)]
    assert rows("SELECT * FROM T WHERE collate(col1, 'case_insensitive') <> 'john'") == [("Bob ",)]


def test_create_database_collate_is_refused(session):
    import pytest

    from shiftflow.dataapi.translate import NotSupportedLocally

    with pytest.raises(NotSupportedLocally, match="CREATE DATABASE ... COLLATE"):
        run_script(session, "create database sampledb collate case_insensitive")


def test_connect_by_is_refused(session):
    import pytest

    from shiftflow.dataapi.translate import NotSupportedLocally

    # r_CONNECT_BY_clause.md: its documented output has the fourth level its `where level < 4` excludes; DuckDB
    # (through sqlglot) ran the query and answered no row at all
    run_script(session, "create table employee (id int, name varchar (20), manager_id int);"
                        "insert into employee values (100, 'Carlos', null), (101, 'John', 100), (102, 'Jorge', 101)")
    for sql in ("select id, name, manager_id from employee where level < 4 start with name = 'John'"
                " connect by prior id = manager_id",
                """SELECT COUNT(*) FROM Employee "start" CONNECT BY PRIOR id = manager_id START WITH name = 'John'"""):
        with pytest.raises(NotSupportedLocally, match=r"CONNECT BY \(hierarchical queries\)"):
            run_script(session, sql)
    assert run_script(session, "select count(*) as connect from employee").rows == [(3,)]


def test_regular_expressions_on_a_case_insensitive_column(duckdb_session):
    # r_CREATE_DATABASE.md: "Pattern matching operations such as LIKE predicates, similar to, and regular expression
    # functions are also case-insensitive" on a case-insensitive column; a case-sensitive one stays sensitive
    run_script(duckdb_session, "create table t1 (ci varchar(20) collate case_insensitive, cs varchar(20));"
                               "insert into t1 values ('bob', 'bob'), ('JOHN', 'JOHN'), ('12', '12')")
    result = run_script(duckdb_session, "select ci, regexp_count(ci, 'O'), regexp_count(cs, 'O'), regexp_substr(ci, 'O.'),"
                                        " regexp_replace(ci, 'O', '0'), regexp_instr(ci, 'o') from t1 order by 1")
    assert result.rows == [("12", 0, 0, "", "12", 0), ("bob", 1, 0, "ob", "b0b", 2), ("JOHN", 1, 1, "OH", "J0HN", 2)]
