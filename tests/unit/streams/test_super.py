"""SUPER navigation, lax casts and unnesting on both engines, beyond the seed's statements."""

from __future__ import annotations

from tests.unit.streams.conftest import Warehouse

DOC = ('{"a": {"B": "x", "n": "12", "f": "12.5", "bad": "abc", "t": true, "o": {"k": 1}},'
       ' "arr": [10, 20, {"v": "deep"}], "Mixed": 1}')


def _table(warehouse: Warehouse) -> None:
    warehouse.ok(f"CREATE TABLE docs AS SELECT 1 AS id, JSON_PARSE('{DOC}') AS data")


def test_navigation_and_lax_casts(warehouse: Warehouse) -> None:
    _table(warehouse)
    assert warehouse.rows('SELECT data.a.n::int, data.a.f::int, data.a.bad::int, data.a.f::decimal(5,2),'
                          ' data.a.o::varchar, data.a.t::varchar, data.missing.deeper::int FROM docs') == [
        [12, None, None, "12.50", None, "true", None]]
    assert warehouse.rows("SELECT data.arr[1]::int, data.arr[2].v::varchar, data.arr[9]::int FROM docs") == [
        [20, "deep", None]]
    # Unquoted attribute names fold to lower case: data.a.B looks for b; quoted names need the setting.
    assert warehouse.rows('SELECT data.a.B::varchar, data.a."B"::varchar FROM docs') == [[None, None]]
    warehouse.ok("SET enable_case_sensitive_identifier TO true")
    assert warehouse.rows('SELECT data.a."B"::varchar, data."Mixed"::int FROM docs') == [["x", 1]]


def test_navigations_of_one_column_in_every_clause(warehouse: Warehouse) -> None:
    """Several navigations of one column in a select (DuckDB reads them in one parse of the document) in the select
    list, WHERE, GROUP BY and ORDER BY, over a table and over an aliased subquery."""
    warehouse.ok("""CREATE TABLE events AS SELECT 1 AS id, JSON_PARSE('{"k": "a", "n": "1"}') AS data
 UNION ALL SELECT 2, JSON_PARSE('{"k": "a", "n": "2"}') UNION ALL SELECT 3, JSON_PARSE('{"k": "b", "n": "5", "x": {"y": 7}}')""")
    assert warehouse.rows("SELECT data.k::varchar, sum(data.n::int) FROM events WHERE data.n::int > 1"
                          " OR data.x.y::int = 7 GROUP BY data.k::varchar ORDER BY data.k::varchar") == [
        ["a", 2], ["b", 5]]
    assert warehouse.rows("SELECT e.data.k::varchar, e.data.x.y::int, e.data.nothing::int, e.id"
                          " FROM (SELECT * FROM events) e WHERE e.id = 3") == [["b", 7, None, 3]]


def test_lax_casts_of_one_column_read_together(warehouse: Warehouse) -> None:
    """Lax casts of several attributes of one column (DuckDB: their texts in one parse): an object or an array is
    NULL as text and as a number, a string keeps its text even when it starts like one, escapes read, JSON null
    is NULL."""
    warehouse.ok("""CREATE TABLE shapes AS SELECT JSON_PARSE('{"o": {"k": 1}, "a": [1, 2], "s": "{not an object",
 "l": "[1]", "e": "x\\\\"y\\\\u00e9", "z": null, "i": " 7 ", "d": "2023-01-02", "b": "true"}') AS data""")
    assert warehouse.rows("SELECT data.o::varchar, data.a::varchar, data.s::varchar, data.l::varchar,"
                          " data.e::varchar, data.z::varchar, data.i::int, data.o::int, data.a::float8,"
                          " data.l::int, data.d::date, data.b::boolean, data.o::boolean FROM shapes") == [
        [None, None, "{not an object", "[1]", 'x"y\u00e9', None, 7, None, None, None, "2023-01-02", True, None]]


def test_plain_columns_stay_plain(warehouse: Warehouse) -> None:
    _table(warehouse)
    assert warehouse.rows("SELECT docs.id, public.docs.id, d.id FROM public.docs, docs d") == [[1, 1, 1]]


def test_unnesting_in_from(warehouse: Warehouse) -> None:
    _table(warehouse)
    assert warehouse.rows("SELECT e::varchar FROM docs d, d.data.arr e ORDER BY 1") == [['10'], ['20'], [None]]
    assert warehouse.rows("SELECT count(*) FROM docs d LEFT JOIN d.data.a e ON true") == [[1]]  # no array: none


def test_the_documented_case_sensitive_navigation_example(warehouse: Warehouse) -> None:
    """super-configurations.md: mixed-case attributes with enable_case_sensitive_identifier, then RESET."""
    query = """SELECT json_table.data."ITEMS"."Name",
       json_table.data."price"
FROM
  (SELECT json_parse('{"ITEMS":{"Name":"TV"}, "price": 345}') AS data) AS json_table;"""
    assert warehouse.rows("SHOW enable_case_sensitive_identifier") == [["off"]]
    warehouse.ok("SET enable_case_sensitive_identifier to TRUE;")
    assert warehouse.rows("SHOW enable_case_sensitive_identifier") == [["on"]]
    assert warehouse.rows(query) == [['"TV"', "345"]]
    warehouse.ok("RESET enable_case_sensitive_identifier;")
    assert warehouse.rows(query) == [[None, "345"]]
    assert warehouse.rows("SHOW enable_case_sensitive_identifier") == [["off"]]


def test_super_columns(warehouse: Warehouse) -> None:
    warehouse.ok("CREATE TABLE tbl (id INT, col SUPER)")
    warehouse.ok("""INSERT INTO tbl VALUES (1, json_parse('{"a": {"b": [1, 2]}}'))""")
    assert warehouse.rows("SELECT col.a.b[1]::int, col FROM tbl") == [[2, '{"a":{"b":[1,2]}}']]


def test_can_json_parse_is_strict(warehouse: Warehouse) -> None:
    """Redshift's parser refuses trailing commas and NaN / Infinity, which DuckDB's accepts; text that mentions them
    inside strings is still JSON; '' is false and NULL is NULL (CAN_JSON_PARSE's page)."""
    values = ['{"a": 1}', '[1,]', '{"a": 1 , }', '{"a": NaN}', '[-Infinity]', 'inf', '{"a": "nan, inf,]"}',
              '{"Info": [1, 2]}', "", "{bad", "null"]
    selects = " UNION ALL ".join(f"SELECT {n} AS n, CAN_JSON_PARSE('{v}') AS ok" for n, v in enumerate(values))
    assert warehouse.rows(f"SELECT ok FROM ({selects}) ORDER BY n") == [
        [True], [False], [False], [False], [False], [False], [True], [True], [False], [False], [True]]
    assert warehouse.rows("SELECT CAN_JSON_PARSE(NULL::varchar)") == [[None]]


def test_can_json_parse_of_varbyte(warehouse: Warehouse) -> None:
    """CAN_JSON_PARSE of a VARBYTE column (as a stream's kafka_value or kinesis_data) is as strict as of VARCHAR,
    and bytes that are not UTF-8 are false, not an error, beside valid records in one statement."""
    texts = ['{"a": 1}', '[1,]', '{"a": NaN}', '{"a": "nan, inf,]"}', "{bad", ""]
    rows = [f"({n}, TO_VARBYTE('{v}', 'utf8'))" for n, v in enumerate(texts)]
    rows += [f"({len(texts) + n}, TO_VARBYTE('{v}', 'hex'))" for n, v in enumerate(["ff", "7b7dff", "5b315d"])]
    warehouse.ok("CREATE TABLE bytes_values (n INT, v VARBYTE)")
    warehouse.ok(f"INSERT INTO bytes_values VALUES {', '.join(rows)}, (99, NULL)")
    assert warehouse.rows("SELECT CAN_JSON_PARSE(v) FROM bytes_values ORDER BY n") == [
        [True], [False], [False], [True], [False], [False], [False], [False], [True], [None]]


def test_can_json_parse_of_to_varbyte_in_one_expression(warehouse: Warehouse) -> None:
    """CAN_JSON_PARSE(TO_VARBYTE(...)) in one expression: bytes that are not UTF-8 are false, as of a column;
    an unknown format still fails (r_TO_VARBYTE.md's formats are hex, binary, utf-8 and base64)."""
    assert warehouse.rows("SELECT CAN_JSON_PARSE(TO_VARBYTE('7b7d', 'hex')), CAN_JSON_PARSE(TO_VARBYTE('ff', 'HEX')),"
                          " CAN_JSON_PARSE(TO_VARBYTE('[1]', 'utf8')), CAN_JSON_PARSE(TO_VARBYTE('e30=', 'base64'))"
                          ) == [[True, False, True, True]]
    failed = warehouse.run("SELECT CAN_JSON_PARSE(TO_VARBYTE('7b7d', 'octal'))")
    assert failed["Status"] == "FAILED" and "invalid format for to_varbyte: octal" in failed["Error"]


def test_unnesting_with_the_array_index(warehouse: Warehouse) -> None:
    # query-super.md: `x AS y AT z` iterates over array x, z the element's 0-based index
    warehouse.ok("""CREATE TABLE bar AS SELECT json_parse('{"scalar_array": [1, 2.3, 45000000]}') AS data""")
    assert warehouse.rows("SELECT index, element FROM bar AS b, b.data.scalar_array AS element AT index"
                          " ORDER BY index") == [[0, "1"], [1, "2.3"], [2, "45000000"]]
    _table(warehouse)  # a cast of the element in parentheses (aws-samples-style `(t)::VARCHAR(30)`) reads its scalar
    assert warehouse.rows("SELECT i, (e)::varchar(30) FROM docs d, d.data.arr AS e AT i ORDER BY i") == [
        [0, "10"], [1, "20"], [2, None]]
    assert warehouse.rows("SELECT count(*) FROM docs d, d.data.a AS e AT i") == [[0]]  # no array: no rows


def test_bracket_attribute_navigation(warehouse: Warehouse) -> None:
    # aws-samples-style `super_data['user']['id']`: PartiQL's bracket form of an attribute, as data.a."n"; mixed with
    # dots and 0-based array subscripts (DuckDB's own subscripts would count from 1)
    _table(warehouse)
    assert warehouse.rows("SELECT data['a']['n']::int, data['arr'][1]::int, data['arr'][2].v::varchar,"
                          " data['a'].o['k']::int, data['missing']::int FROM docs") == [[12, 20, "deep", 1, None]]
