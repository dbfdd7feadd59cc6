"""The project's one SQL splitter, on the cases that break a naive split(';')."""

import pytest

from shiftflow.sql import SqlSplitError, named_parameters, split_statements


def texts(sql: str) -> list[str]:
    return [statement.text for statement in split_statements(sql)]


def test_semicolons_inside_strings_identifiers_and_comments_do_not_split():
    sql = """select 'a;b', "c;d" from t; -- note; not a statement
    /* block; comment */ select 2;"""
    assert texts(sql) == ["select 'a;b', \"c;d\" from t", "-- note; not a statement\n    /* block; comment */ select 2"]


def test_dollar_quoted_bodies_stay_whole():
    sql = """create procedure p() as $$ begin insert into t values (1); raise info 'x;y'; end; $$ language plpgsql;
    create function f() returns int as $body$ select 1; $body$ language sql;
    call p();"""
    result = texts(sql)
    assert len(result) == 3
    assert result[0].endswith("language plpgsql") and "raise info 'x;y'; end;" in result[0]
    assert result[1].startswith("create function f()") and "$body$ select 1; $body$" in result[1]
    assert result[2] == "call p()"


def test_positional_parameters_next_to_each_other_open_no_dollar_quote():
    # a dollar quote's tag is an identifier: `$1,$2` and `$2+':x'+$1` are parameters (sqlglot alone fails on them)
    sql = """create function f_pick(int, int) returns int stable as $$ select greatest($1,$2) $$ language sql;
    create procedure p(a varchar) as $_$ begin r := 'arn:'+$1+':role/'+$1; end; $_$ language plpgsql;
    select f_pick(1,2);"""
    result = texts(sql)
    assert len(result) == 3 and "greatest($1,$2)" in result[0] and "'+$1+':role/'+$1; end; $_$" in result[1]


def test_a_udf_body_with_adjacent_parameters_translates() -> None:
    from shiftflow.dataapi.translate import translate

    body = "create function f_years(timestamp) returns timestamp stable as $$ select dateadd(year, -1*date_part('year', $1)::int+1900,$1) $$ language sql"
    assert "f_years" in translate(body, "duckdb").text


def test_empty_statements_and_trailing_comments_are_dropped():
    assert texts(";;  ; -- only a comment\n;\n/* and another */") == []
    assert texts("select 1;;\n;select 2") == ["select 1", "select 2"]


def test_last_statement_needs_no_semicolon_and_lines_are_reported():
    statements = split_statements("\n\nselect 1;\n\n  update t set a = 1")
    assert [(s.line, s.text) for s in statements] == [(3, "select 1"), (5, "update t set a = 1")]


def test_unterminated_string_is_a_clear_error():
    with pytest.raises(SqlSplitError, match="cannot split SQL script"):
        split_statements("select 'never closed; from t")


def test_named_parameters_skip_casts_strings_and_comments():
    sql = "select a::date, ':fake' from t -- :comment\n where d = :run_date and e = :limit_rows and f = :run_date"
    assert named_parameters(sql) == ["run_date", "limit_rows"]


def test_named_parameters_of_a_call_are_found_in_its_arguments():
    """The tokenizer keeps a CALL's arguments as one string token: its placeholders are still the statement's (a job
    binds them; the Data API refuses a parameter that the SQL does not use)."""
    assert named_parameters("CALL load_sales(:since::date, ':fake', :until) -- :comment") == ["since", "until"]
