"""Redshift JSON functions on SUPER values, on both engines (JSON_PARSE, r_json_typeof)."""

from __future__ import annotations

import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate import NotSupportedLocally, translate
from shiftflow.dataapi.translate.functions.json import minified_json
from tests.unit.translate.conftest import run_script


def test_json_parse_prints_as_json_text(session):
    result = run_script(session, """
        select json_parse('[10001,10002,"abc"]'), json_parse('{"a" : 1.50, "b": [ true, null ], "c": "x y"}')
    """)
    assert result.rows == [('[10001,10002,"abc"]', '{"a":1.50,"b":[true,null],"c":"x y"}')]
    assert [(c.name, c.type_name) for c in result.columns] == [("json_parse", "super")] * 2


def test_json_typeof_documented_examples(session):
    result = run_script(session, """
        select json_typeof(json_parse('[10001,10002,"abc"]')), json_typeof(json_parse('{"name":"Joe"}')),
               json_typeof(json_parse('"s"')), json_typeof(json_parse('1')), json_typeof(json_parse('1.5')),
               json_typeof(json_parse('true')), json_typeof(json_parse('null'))
    """)
    assert result.rows == [("array", "object", "string", "number", "number", "boolean", "null")]
    assert result.columns[0].name == "json_typeof"


def test_json_parse_refuses_invalid_json(session):
    with pytest.raises(EngineError, match="(?i)json"):
        run_script(session, "select json_parse('{bad')")


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_super_navigation_is_not_supported_locally(engine):
    with pytest.raises(NotSupportedLocally, match="^not supported locally: navigating a SUPER value"):
        translate("select json_parse('[1,2]')[0]", engine)


def test_minified_json_keeps_strings_and_numbers_as_written():
    assert minified_json('{ "a b" : "x \\" y" ,\n "n": 1.50 }') == '{"a b":"x \\" y","n":1.50}'


def test_super_type_information_from_the_reference(session):
    # r_is_array.md, r_is_smallint.md, r_is_scalar.md ...: a SUPER 5 is a smallint, an integer and a bigint.
    five = "5" if session.engine == "duckdb" else "json_parse('5')"  # PostgreSQL's json takes no integer
    result = run_script(session, f"CREATE TABLE t(s super); INSERT INTO t VALUES ({five});"
                                 "SELECT s, is_smallint(s), is_integer(s), is_bigint(s), is_number(s), is_scalar(s),"
                                 " is_boolean(s), is_varchar(s), is_array(s) FROM t")
    assert result.rows == [("5", True, True, True, True, True, False, False, False)]
    assert [c.name for c in result.columns][1:3] == ["is_smallint", "is_integer"]
    run_script(session, "CREATE TABLE o(s super); INSERT INTO o VALUES (JSON_PARSE('{\"name\": \"Joe\"}'))")
    assert run_script(session, "SELECT is_scalar(s.name), is_object(s), is_char(s.name), is_varchar(s.name),"
                               " is_array(s) FROM o").rows == [(True, True, True, True, False)]
    assert run_script(session, "SELECT is_array(JSON_PARSE('[1,2]')), is_array(null), is_scalar(json_parse('null')),"
                               " is_integer(json_parse('3000000000')), is_bigint(json_parse('3000000000')),"
                               " is_smallint(json_parse('1.5')), is_char(json_parse('\"é\"'))").rows == [
        (True, False, False, False, True, False, False)]
    with pytest.raises(NotSupportedLocally, match=r"is_float\(\)"):
        translate("select is_float(s) from t", session.engine)


def test_object_and_json_size_from_the_reference(session):
    # r_object_function.md and r_json_size.md's outputs.
    assert run_script(session, "select object(), object('a', 1, 'b', true, 'c', 3.14)").rows == [
        ("{}", '{"a":1,"b":true,"c":3.14}')]
    assert run_script(session, "select object('a', object('aa', 1), 'c', json_parse('{}'))").rows == [
        ('{"a":{"aa":1},"c":{}}',)]
    run_script(session, "create table bar (k varchar, v super); insert into bar values ('k1', json_parse('[1]')),"
                        " ('k2', json_parse('{}'))")
    assert run_script(session, "select object(k, v) from bar order by k").rows == [('{"k1":[1]}',), ('{"k2":{}}',)]
    with pytest.raises(EngineError, match="OBJECT could not convert type date to super"):
        run_script(session, "select object('k', '2008-12-31'::date)")
    result = run_script(session, "SELECT JSON_SIZE(JSON_PARSE('[10001,10002,\"⬤\"]'))")
    assert result.rows == [(19,)] and (result.columns[0].name, result.columns[0].type_name) == ("json_size", "int4")


def test_json_serialize_documented_examples(session):
    # JSON_SERIALIZE.md: [10001,10002,"abc"], a VARCHAR; JSON_SERIALIZE_TO_VARBYTE.md: its bytes, a VARBYTE printed as
    # 5b31303030312c31303030322c22616263225d, and cast to VARCHAR the text again
    result = run_script(session, "SELECT JSON_SERIALIZE(JSON_PARSE('[10001,10002,\"abc\"]')),"
                                 " JSON_SERIALIZE_TO_VARBYTE(JSON_PARSE('[10001,10002,\"abc\"]')),"
                                 " JSON_SERIALIZE_TO_VARBYTE(JSON_PARSE('[10001,10002,\"abc\"]'))::VARCHAR")
    assert result.rows == [('[10001,10002,"abc"]', b'[10001,10002,"abc"]', '[10001,10002,"abc"]')]
    assert bytes(result.rows[0][1]).hex() == "5b31303030312c31303030322c22616263225d"
    assert [(c.name, c.type_name) for c in result.columns] == [
        ("json_serialize", "varchar"), ("json_serialize_to_varbyte", "varbyte"), ("json_serialize_to_varbyte", "varchar")]
    # the text as printed: no blanks outside strings, numbers as written; a SUPER column; NULL stays NULL
    run_script(session, "create table t (s super); insert into t values (json_parse('{ \"a b\" : [1.50, 1e2] }')), (null)")
    assert run_script(session, "select json_serialize(s), json_size(s) from t order by 1 nulls last").rows == [
        ('{"a b":[1.50,1e2]}', 18), (None, None)]


def test_array_and_array_concat_documented_examples_print_as_super(session):
    # r_array.md and r_array_concat.md: SUPER arrays, printed as JSON
    result = run_script(session, "select array(1,50,null,100), array(1,'abc',true,3.14)")
    assert result.rows == [("[1,50,null,100]", '[1,"abc",true,3.14]')]
    assert [(c.name, c.type_name) for c in result.columns] == [("array", "super")] * 2
    concatenated = run_script(session, """
        select array_concat(array(10001,10002),array(10003,10004)), array_concat(array(10001,10002),array('ab','cd'))
    """)
    assert concatenated.rows == [("[10001,10002,10003,10004]", '[10001,10002,"ab","cd"]')]
    assert concatenated.columns[0].name == "array_concat"
    with pytest.raises(EngineError, match="not supported locally: array_concat of a value that is not an array"):
        run_script(session, "select array_concat(array(1), json_parse('2'))")


def test_subarray_documented_example(session):
    # r_subarray.md: SELECT SUBARRAY(ARRAY('a', 'b', 'c', 'd', 'e', 'f'), 2, 3) is ["c","d","e"]
    result = run_script(session, "SELECT SUBARRAY(ARRAY('a', 'b', 'c', 'd', 'e', 'f'), 2, 3)")
    assert result.rows == [('["c","d","e"]',)]
    assert [(c.name, c.type_name) for c in result.columns] == [("subarray", "super")]
    # a negative start counts from the end; past the end is empty; a value that is no array NULL
    more = run_script(session, """
        select subarray(array(1, 2, 3, 4), -2, 5), subarray(array(1, 2), 5, 1), subarray(json_parse('7'), 0, 1),
               subarray(array(1, 2, 3), 1, 2)[1]
    """)
    assert more.rows == [("[3,4]", "[]", None, "3")]
    # a null element stays JSON's null (DuckDB printed NULL)
    assert run_script(session, "select subarray(array(1, null, 3), 0, 2), array_concat(array(1, null), array(2))"
                      ).rows == [("[1,null]", "[1,null,2]")]


def test_get_array_length_documented_example(session):
    # get_array_length.md: SELECT GET_ARRAY_LENGTH(ARRAY(1,2,3,4,5,6,7,8,9,10)) is 10, a BIGINT
    result = run_script(session, "SELECT GET_ARRAY_LENGTH(ARRAY(1,2,3,4,5,6,7,8,9,10))")
    assert result.rows == [(10,)]
    assert [(c.name, c.type_name) for c in result.columns] == [("get_array_length", "int8")]
    run_script(session, "create table t (s super); insert into t values (json_parse('[1,[2,3],{\"a\":4}]')),"
                        " (json_parse('[]')), (null)")
    assert run_script(session, "select get_array_length(s) from t order by 1 nulls last").rows == [(0,), (3,), (None,)]
    with pytest.raises(EngineError, match="not supported locally: get_array_length of a value that is not an array"):
        run_script(session, "select get_array_length(json_parse('{\"a\":1}'))")


def test_array_flatten_documented_example(session):
    # array_flatten.md: ARRAY_FLATTEN(ARRAY(ARRAY(1,2,3,4),ARRAY(5,6,7,8),ARRAY(9,10))) is [1,2,3,4,5,6,7,8,9,10]
    result = run_script(session, "SELECT ARRAY_FLATTEN(ARRAY(ARRAY(1,2,3,4),ARRAY(5,6,7,8),ARRAY(9,10)))")
    assert result.rows == [("[1,2,3,4,5,6,7,8,9,10]",)]
    assert [(c.name, c.type_name) for c in result.columns] == [("array_flatten", "super")]
    more = run_script(session, "select array_flatten(json_parse('[[\"a\",{\"b\":1}],[],[null]]')),"
                               " array_flatten(json_parse('[]')), array_flatten(array(array(1), array(2)))[1]")
    assert more.rows == [('["a",{"b":1},null]', "[]", "2")]
    for value in ("array(1, 2)", "array(array(1), 2)", "array(array(array(1)))", "json_parse('3')"):
        with pytest.raises(EngineError, match="not supported locally: array_flatten of a value that is not"):
            run_script(session, f"select array_flatten({value})")
    with pytest.raises(NotSupportedLocally, match="array_flatten\\(\\) of more than one argument"):
        translate("select array_flatten(array(array(1)), array(array(2)))", session.engine)


def test_split_to_array_documented_example(session):
    # split_to_array.md: SELECT SPLIT_TO_ARRAY('12|345|6789', '|') is ["12","345","6789"], a SUPER value
    result = run_script(session, "SELECT SPLIT_TO_ARRAY('12|345|6789', '|')")
    assert result.rows == [('["12","345","6789"]',)]
    assert [(c.name, c.type_name) for c in result.columns] == [("split_to_array", "super")]
    # the delimiter defaults to a comma; a subscript counts from 0
    assert run_script(session, "select split_to_array('a,b'), split_to_array('a,b,c')[1]").rows == [
        ('["a","b"]', '"b"')]


def test_super_array_subscripts_count_from_zero(session):
    # query-super.md: "arrays are 0-based"; past the end is NULL (lax navigation)
    result = run_script(session, "select array(1,50,null,100)[0], array(1,50,null,100)[1], array(1,2)[5]")
    assert result.rows == [("1", "50", None)]
    named = run_script(session, "with t as (select array(10, 20, 30) as a) select a[2] from t")
    assert named.rows == [("30",)]


def test_enable_case_sensitive_super_attribute_as_the_reference_shows(session):
    # r_enable_case_sensitive_super_attribute.md: on, col.A navigates to "A"; off, to "a"; SHOW answers the value
    run_script(session, """CREATE TABLE tbl (col SUPER);
        INSERT INTO tbl VALUES (json_parse('{"A": "A", "a": "a"}'))""")
    run_script(session, "SET enable_case_sensitive_super_attribute TO ON")
    assert str(run_script(session, "show enable_case_sensitive_super_attribute").rows[0][0]) == "on"
    upper = run_script(session, "SELECT col.A FROM tbl")
    assert [str(v) for v in upper.rows[0]] == ['"A"'] and upper.columns[0].name == "a"
    assert [str(v) for v in run_script(session, "SELECT col.a FROM tbl").rows[0]] == ['"a"']
    run_script(session, "SET enable_case_sensitive_super_attribute TO OFF")
    assert [str(v) for v in run_script(session, "SELECT col.A FROM tbl").rows[0]] == ['"a"']
    assert [str(v) for v in run_script(session, "SELECT col.a FROM tbl").rows[0]] == ['"a"']


def test_json_extract_path_text_documented_examples(session):
    # JSON_EXTRACT_PATH_TEXT.md: the value at 'f4', 'f6'; NULL for invalid JSON with null_if_invalid true (the
    # trailing true is no path element); 'farm', 'barn', 'color' at the third level; NULL for a missing key; a key
    # with a blank
    result = run_script(session, """
        select json_extract_path_text('{"f2":{"f3":1},"f4":{"f5":99,"f6":"star"}}','f4', 'f6'),
               json_extract_path_text('{"f2":{"f3":1},"f4":{"f5":99,"f6":"star"}','f4', 'f6',true),
               json_extract_path_text('{"farm": {"barn": {"color": "red", "feed stocked": true}}}',
                                      'farm', 'barn', 'color'),
               json_extract_path_text('{"farm": {"barn": {}}}', 'farm', 'barn', 'color'),
               json_extract_path_text('{"house": {"appliances": {"washing machine": {"brand": "Any Brand"}}}}',
                                      'house', 'appliances', 'washing machine', 'brand')
    """)
    assert result.rows == [("star", None, "red", None, "Any Brand")]
    assert result.columns[0].name == "json_extract_path_text"
    with pytest.raises(EngineError, match="(?i)json"):  # invalid JSON without null_if_invalid: an error
        run_script(session, """select json_extract_path_text('{"f2":{"f3":1},"f4":{"f5":99,"f6":"star"}','f4', 'f6')""")


def test_json_extract_path_text_of_a_varchar_column(session):
    # aws-samples' SUPER demo: the legacy pattern, JSON held as VARCHAR; on PostgreSQL the column is text, not json
    result = run_script(session, """
        create table demo_events (event_id int, raw_json_str varchar(200));
        insert into demo_events values (1, '{"user": {"name": "Ann"}}'), (2, 'not json'), (3, null);
        select event_id, json_extract_path_text(raw_json_str, 'user', 'name', true) from demo_events order by 1
    """)
    assert result.rows == [(1, "Ann"), (2, None), (3, None)]
