"""CREATE [OR REPLACE] FUNCTION: scalar SQL UDFs run, Python UDFs are refused (r_CREATE_FUNCTION.md,
udf-creating-a-scalar-sql-udf.md). DROP FUNCTION [IF EXISTS] name(argument types) drops the DuckDB macro of that
name (r_DROP_FUNCTION.md; a macro holds one definition per name, as CREATE OR REPLACE leaves it).

A SQL UDF's body is one SELECT clause without FROM, reading its arguments as $1, $2 ...; Redshift casts each argument
to its declared type and the value to the return type. PostgreSQL runs it as a LANGUAGE sql function (the body
translated as any query is); DuckDB as a macro whose parameters are cast to the declared types.
Python UDFs (LANGUAGE plpythonu) would need Redshift's Python 2.7 runtime and its libraries: not supported locally.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate.commands.tokens import closing_paren, word
from shiftflow.dataapi.translate.model import EngineSql, NotSupportedLocally

_ARGUMENT = "shiftflow_udf_argument_{}"  # what $n becomes while the body is translated
_VOLATILITY = {"VOLATILE", "STABLE", "IMMUTABLE"}


def is_create_function(tokens: list[Token]) -> bool:
    """CREATE [OR REPLACE] FUNCTION (not EXTERNAL FUNCTION, nor CREATE MODEL ... FUNCTION name)."""
    names = [word(t) for t in tokens[:4]]
    return names[:2] == ["CREATE", "FUNCTION"] or names == ["CREATE", "OR", "REPLACE", "FUNCTION"]


def create_function(statement: str, tokens: list[Token], engine: str,
                    expression_sql: Callable[[str], str], type_sql: Callable[[str], str]) -> EngineSql:
    """expression_sql(redshift_select) -> the engine's text of the SELECT's single expression;
    type_sql(redshift_type) -> the engine's name of the type."""
    words = [word(t) for t in tokens]
    language = words[words.index("LANGUAGE") + 1].lower() if "LANGUAGE" in words[:-1] else ""
    if language.startswith("plpython"):
        raise NotSupportedLocally(f"Python UDFs (CREATE FUNCTION ... LANGUAGE {language})")
    if language != "sql":
        raise NotSupportedLocally(f"CREATE FUNCTION ... LANGUAGE {language or '(none)'}")
    function = words.index("FUNCTION")
    open_paren = function + 2
    if open_paren >= len(tokens) or tokens[open_paren].token_type != TokenType.L_PAREN:
        raise NotSupportedLocally("CREATE FUNCTION without an argument list")
    close_paren = _closing(tokens, open_paren)
    name = statement[tokens[function + 1].start : tokens[function + 1].end + 1].lower()
    arguments = [statement[first.start : last.end + 1] for first, last in _items(tokens, open_paren, close_paren)]
    returns = _returns(statement, tokens, words, close_paren)
    volatility = next((w for w in words[close_paren:] if w in _VOLATILITY), "VOLATILE")
    bodies = [t for t in tokens if t.token_type in {TokenType.HEREDOC_STRING, TokenType.STRING}
              and t.start > tokens[close_paren].start]
    if not bodies:
        raise NotSupportedLocally("CREATE FUNCTION without a $$ body")
    body = _with_cast_arguments(bodies[0].text, arguments)
    value = expression_sql(f"SELECT CAST(({_single_expression(body)}) AS {returns})")
    replace = "OR REPLACE " if "REPLACE" in words[:function] else ""
    if engine == "postgres":
        for number in range(len(arguments), 0, -1):  # $10 before $1
            value = value.replace(_ARGUMENT.format(number), f"${number}")
        types = ", ".join(type_sql(argument) for argument in arguments)
        text = (f"CREATE {replace}FUNCTION {name}({types}) RETURNS {type_sql(returns)} {volatility} "
                f"LANGUAGE sql AS $shiftflow_udf$ SELECT {value} $shiftflow_udf$")
        return EngineSql(text.replace("%", "%%"))
    parameters = ", ".join(_ARGUMENT.format(number) for number in range(1, len(arguments) + 1))
    return EngineSql(f"CREATE {replace}MACRO {name}({parameters}) AS ({value})")


def _closing(tokens: list[Token], open_paren: int) -> int:
    index = closing_paren(tokens, open_paren)
    if index < 0:
        raise NotSupportedLocally("CREATE FUNCTION with an unclosed argument list")
    return index


def _items(tokens: list[Token], open_paren: int, close_paren: int) -> list[tuple[Token, Token]]:
    """The comma-separated items between two parentheses, as (first token, last token)."""
    items, start, depth = [], open_paren + 1, 0
    for index in range(open_paren + 1, close_paren + 1):
        kind = tokens[index].token_type
        if kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN and depth:
            depth -= 1
        elif (kind == TokenType.COMMA and depth == 0) or index == close_paren:
            if index > start:
                items.append((tokens[start], tokens[index - 1]))
            start = index + 1
    return items


def _returns(statement: str, tokens: list[Token], words: list[str], close_paren: int) -> str:
    if close_paren + 1 >= len(words) or words[close_paren + 1] != "RETURNS":
        raise NotSupportedLocally("CREATE FUNCTION without RETURNS")
    first = close_paren + 2
    last = first
    while last + 1 < len(tokens) and words[last + 1] not in _VOLATILITY | {"AS", "LANGUAGE"} \
            and tokens[last + 1].token_type != TokenType.ALIAS:
        last += 1
    return statement[tokens[first].start : tokens[last].end + 1]


def _with_cast_arguments(body: str, arguments: list[str]) -> str:
    """$n becomes its argument cast to the declared type, as Redshift passes it."""
    tokens = _tokenize(body)
    pieces, position = [], 0
    for dollar, number in zip(tokens, tokens[1:]):
        if dollar.token_type == TokenType.PARAMETER and number.token_type == TokenType.NUMBER \
                and number.start == dollar.end + 1:
            index = int(number.text)
            if not 1 <= index <= len(arguments):
                raise NotSupportedLocally(f"${index} in a function with {len(arguments)} argument(s)")
            pieces.append(body[position : dollar.start])
            pieces.append(f"CAST({_ARGUMENT.format(index)} AS {arguments[index - 1]})")
            position = number.end + 1
    pieces.append(body[position:])
    return "".join(pieces)


def _single_expression(body: str) -> str:
    """The body's SELECT clause without SELECT: one expression, no FROM (udf-creating-a-scalar-sql-udf.md)."""
    tokens = _tokenize(body)
    if not tokens or tokens[0].token_type != TokenType.SELECT:
        raise NotSupportedLocally("a SQL UDF whose body is not a SELECT clause")
    if any(t.token_type in {TokenType.FROM, TokenType.WHERE, TokenType.GROUP_BY, TokenType.ORDER_BY,
                            TokenType.LIMIT, TokenType.INTO} for t in tokens):
        raise EngineError("the SELECT clause of a SQL function cannot include FROM, INTO, WHERE, GROUP BY, "
                          "ORDER BY or LIMIT")
    return body[tokens[1].start :].strip().rstrip(";")


def _tokenize(text: str) -> list[Token]:
    from shiftflow.sql.splitter import tokenize

    return tokenize(text)


def drop_function_macro(drop: exp.Drop) -> EngineSql | None:
    """DROP FUNCTION on DuckDB, where a SQL UDF is a macro; None for any other DROP."""
    if drop.args.get("kind") != "FUNCTION" or len(drop.args.get("tables") or []) != 1:
        return None
    name = drop.args["tables"][0].sql("duckdb")
    return EngineSql(f"DROP MACRO {'IF EXISTS ' if drop.args.get('exists') else ''}{name}")
