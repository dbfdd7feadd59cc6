"""duckdb_errors: DuckDB's messages in Redshift's words; its hints dropped from every message."""

from __future__ import annotations

from shiftflow.dataapi.engines.duckdb_errors import redshift_message


def test_a_message_no_rule_knows_keeps_duckdbs_words_without_the_hints() -> None:
    text = ("Binder Error: ORDER term out of range - should be between 1 and 1\n\nLINE 1: SELECT a FROM t ORDER BY 5\n"
            "                                 ^")
    assert redshift_message(text) == "Binder Error: ORDER term out of range - should be between 1 and 1"


def test_the_hints_name_no_table_of_the_emulator() -> None:
    text = 'Catalog Error: Table with name orders does not exist!\nDid you mean "shiftflow_stream.views"?'
    assert redshift_message(text, "SELECT * FROM orders") == 'relation "orders" does not exist'


def test_dropping_a_table_of_a_missing_schema_names_the_schema() -> None:
    text = 'Catalog Error: Table with name "s.t" does not exist because schema "s" does not exist.'
    assert redshift_message(text, "DROP TABLE s.t") == 'schema "s" does not exist'
    assert redshift_message(text, "SELECT * FROM s.t") == 'relation "s.t" does not exist'


def test_a_check_constraints_own_error_is_the_message() -> None:
    text = ("Constraint Error: CHECK constraint failed on table t with expression CHECK(...) "
            "(Error: value too long for type character varying(5))")
    assert redshift_message(text) == "value too long for type character varying(5)"


def test_function_argument_types_are_postgresqls_names() -> None:
    text = ("Binder Error: No function matches the given name and argument types 'left(VARCHAR, DOUBLE, DECIMAL(5,2))'."
            " You might need to add explicit type casts.\n\tCandidate functions:\n\tleft(VARCHAR, BIGINT) -> VARCHAR")
    assert redshift_message(text) == "function left(character varying, double precision, numeric) does not exist"


def test_a_syntax_error_in_a_procedure_body_duckdb_parses_is_postgresqls_words() -> None:
    assert redshift_message('Parser Error: syntax error at or near "DEFAULT"') == 'syntax error at or near "DEFAULT"'
