"""HyperLogLog (translate/functions/hyperloglog.py) on both engines, from the reference's examples and documented
outputs (r_HLL_function.md, r_HLL_CARDINALITY.md, r_HLL_COMBINE.md, r_HLL_COMBINE_SKETCHES.md,
r_HLL_CREATE_SKETCH.md, r_HLL-examples.md): cardinalities as Redshift gives them, a sketch's text refused."""

from __future__ import annotations

import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate import NotSupportedLocally
from shiftflow.dataapi.translate.functions.hyperloglog import EXACT_LIMIT
from tests.unit.translate.conftest import run_script

_A_TABLE = ("CREATE TABLE a_table(an_int INT, b_int INT);"
            " INSERT INTO a_table VALUES (1,1), (2,1), (3,1), (4,1), (1,2), (2,2), (3,2), (4,2), (5,2), (6,2);")
_HLL_TABLE = (_A_TABLE + " CREATE TABLE hll_table (sketch HLLSKETCH);"
              " INSERT INTO hll_table select hll_create_sketch(an_int) from a_table group by b_int;")
_PRINTED = "not supported locally: an HLLSKETCH value shown as text"


def test_hll_from_the_reference(session):
    run_script(session, "CREATE TABLE a_table(an_int INT); INSERT INTO a_table VALUES (1), (2), (3), (4);")
    result = run_script(session, "SELECT hll(an_int) AS cardinality FROM a_table")
    assert result.rows == [(4,)] and result.columns[0].type_name == "int8"
    # "When there are no rows in a table or all rows are NULL, the resulting cardinality is 0."
    assert run_script(session, "SELECT hll(an_int), hll(null::int) FROM a_table WHERE an_int > 9").rows == [(0, 0)]
    assert [c.name for c in run_script(session, "SELECT hll(an_int) FROM a_table").columns] == ["hll"]


def test_hll_cardinality_of_a_sketch_column(session):
    rows = run_script(session, _HLL_TABLE + " SELECT hll_cardinality(sketch) AS cardinality FROM hll_table").rows
    assert sorted(rows, reverse=True) == [(6,), (4,)]  # the page's two rows, in its order
    assert run_script(session, "SELECT hll_cardinality(hll_combine(sketch)) FROM hll_table").rows == [(6,)]


def test_hll_cardinality_per_group_from_the_examples(session):
    run_script(session, "CREATE TABLE Sales (customer VARCHAR, country VARCHAR, amount BIGINT);"
                        " INSERT INTO Sales VALUES ('David Joe', 'Greece', 14.5),  ('David Joe', 'Greece', 19.95),"
                        " ('John Doe', 'USA', 29.95), ('John Doe', 'USA', 19.95), ('George Spanos', 'Greece', 9.95),"
                        " ('George Spanos', 'Greece', 2.95)")
    result = run_script(session, "SELECT hll_cardinality(sketch), country FROM (SELECT hll_create_sketch(customer)"
                                 " AS sketch, country FROM Sales GROUP BY country) AS hll_subquery ORDER BY 1")
    assert result.rows == [(1, "USA"), (2, "Greece")]
    assert [c.name for c in result.columns] == ["hll_cardinality", "country"]


def test_hll_combine_sketches_of_the_reference_example(session):
    # r_HLL_COMBINE_SKETCHES.md's query, its sketches counted (the page prints them: see test_a_sketch_is_not_shown)
    rows = run_script(session, """WITH tbl1(x, y) AS (SELECT Hll_create_sketch(1), Hll_create_sketch(2)
        UNION ALL SELECT Hll_create_sketch(3), Hll_create_sketch(4) UNION ALL SELECT Hll_create_sketch(5),
        Hll_create_sketch(6) UNION ALL SELECT Hll_create_sketch(7), Hll_create_sketch(8)),
      tbl2(x, y) AS (SELECT Hll_create_sketch(9), Hll_create_sketch(10) UNION ALL SELECT Hll_create_sketch(11),
        Hll_create_sketch(12) UNION ALL SELECT Hll_create_sketch(13), Hll_create_sketch(14) UNION ALL
        SELECT Hll_create_sketch(15), Hll_create_sketch(16) UNION ALL SELECT Hll_create_sketch(NULL),
        Hll_create_sketch(NULL)),
      tbl3(x, y) AS (SELECT * FROM tbl1 UNION ALL SELECT * FROM tbl2)
      SELECT hll_cardinality(Hll_combine_sketches(x, y)) FROM tbl3""").rows
    assert sorted(rows) == [(0,)] + [(2,)] * 8


def test_sketches_combine_as_sets(session):
    run_script(session, _HLL_TABLE)
    # stored through CREATE TABLE AS too; COUNT, COALESCE and CASE take sketches (usage notes)
    run_script(session, "CREATE TABLE copied AS SELECT b_int, hll_create_sketch(an_int) AS sketch FROM a_table"
                        " GROUP BY b_int")
    assert run_script(session, "SELECT count(sketch), hll_cardinality(hll_combine(CASE WHEN b_int = 1 THEN sketch"
                               " END)) FROM copied").rows == [(2, 4)]
    assert run_script(session, "SELECT hll_cardinality(coalesce(null, hll_create_sketch(an_int))) FROM a_table"
                               " WHERE b_int = 2").rows == [(6,)]


def test_exact_up_to_the_limit_then_refused(session):
    # a sparse sketch's estimate is its exact count while Redshift's hashes share no index (the module's docstring)
    values = "(SELECT generate_series(1, {n}) AS v) AS t"
    assert run_script(session, f"SELECT hll(v) FROM {values.format(n=EXACT_LIMIT)}").rows == [(EXACT_LIMIT,)]
    too_many = values.format(n=EXACT_LIMIT + 1)
    for statement in (f"SELECT hll(v) FROM {too_many}",
                      f"SELECT hll_cardinality(hll_create_sketch(v)) FROM {too_many}",
                      f"SELECT hll_cardinality(hll_combine(s)) FROM (SELECT hll_create_sketch(v) AS s FROM {too_many}"
                      " GROUP BY v % 7) AS u"):
        with pytest.raises(EngineError, match=f"not supported locally: hll.* of more than {EXACT_LIMIT} distinct"):
            run_script(session, statement)


def test_a_sketch_is_not_shown(session):
    run_script(session, _HLL_TABLE)
    for statement in ("SELECT hll_create_sketch(an_int) AS sketch FROM a_table",  # r_HLL_CREATE_SKETCH.md
                      "SELECT hll_combine(sketch) AS sketches FROM hll_table",  # r_HLL_COMBINE.md
                      "SELECT hll_combine_sketches(hll_create_sketch(1), hll_create_sketch(2))",
                      "SELECT sketch::varchar FROM hll_table", "SELECT 'x' || sketch FROM hll_table"):
        with pytest.raises(EngineError, match=_PRINTED):
            run_script(session, statement)
    for statement in ("SELECT hll_create_sketch(an_int)::varchar FROM a_table",
                      "SELECT length(hll_create_sketch(an_int)) FROM a_table"):
        with pytest.raises(NotSupportedLocally, match=_PRINTED):
            run_script(session, statement)
    with pytest.raises(NotSupportedLocally, match="an HLLSKETCH read from text"):
        run_script(session, """SELECT '{"version":1,"logm":15,"sparse":{"indices":[1],"values":[1]}}'::hllsketch""")
    with pytest.raises(EngineError, match="an HLLSKETCH read from text"):
        run_script(session, "SELECT hll_cardinality('abc')")


def test_what_the_reference_does_not_say_is_refused(session):
    run_script(session, _HLL_TABLE)
    assert run_script(session, "SELECT hll_cardinality(null::varchar)").rows == [(None,)]
    with pytest.raises(EngineError, match="not supported locally: hll_combine\\(\\) of no sketch"):
        run_script(session, "SELECT hll_cardinality(hll_combine(sketch)) FROM hll_table WHERE sketch IS NULL")
    with pytest.raises(EngineError, match="not supported locally: hll_combine_sketches\\(\\) of a NULL sketch"):
        run_script(session, "SELECT hll_cardinality(hll_combine_sketches(sketch, null)) FROM hll_table")


def test_equal_values_are_one(session):
    run_script(session, "CREATE TABLE n (d DECIMAL(5,2), e DECIMAL(6,1), i INT, c CHAR(4));"
                        " INSERT INTO n VALUES (1.5, 1.5, 1, 'ab'), (1.50, 2, 1, 'ab'), (2, 2.0, 2, 'b')")
    assert run_script(session, "SELECT hll(d), hll(i), hll(c), hll_cardinality(hll_combine_sketches("
                               "hll_create_sketch(d), hll_create_sketch(e))) FROM n").rows == [(2, 2, 2, 2)]


def test_the_exact_limit_is_where_redshifts_sparse_indices_may_collide():
    # n values share one of the sparse sketch's 2^26 indices with a chance of about n(n - 1) / 2^27: below 1 in
    # 1,000 up to EXACT_LIMIT values, where Redshift's estimate is the exact count (hyperloglog.py's docstring)
    chance = lambda n: n * (n - 1) / 2**27  # noqa: E731
    assert chance(EXACT_LIMIT) < 1 / 1000 <= chance(EXACT_LIMIT + 1)
