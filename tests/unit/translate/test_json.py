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


def test_super_array_subscripts_count_from_zero(session):
    # query-super.md: "arrays are 0-based"; past the end is NULL (lax navigation)
    result = run_script(session, "select array(1,50,null,100)[0], array(1,50,null,100)[1], array(1,2)[5]")
    assert result.rows == [("1", "50", None)]
    named = run_script(session, "with t as (select array(10, 20, 30) as a) select a[2] from t")
    assert named.rows == [("30",)]
