"""DuckDB's error messages in Redshift's words, so that a script sees on the DuckDB engine the error text it would see
on Redshift (and on the PostgreSQL engine): `relation "x" does not exist`, not `Catalog Error: Table with name x
does not exist!`. A procedure's SQLERRM and the Data API's Error both show it.

Redshift's own texts where its developer guide prints them (r_enable_case_sensitive_identifier.md: `Relation "x"
already exists`; stored-procedure-trapping-errors.md: `column "invalid" does not exist`; r_NVL_function.md:
`invalid input syntax for integer: "..."`), else PostgreSQL's, the engine Redshift's messages come from and the
other local engine. DuckDB's hints are dropped from every message, translated or not: its `LINE n:` excerpt quotes
the translated SQL, not the user's, and its `Did you mean "..."?` names the emulator's own tables. A message no rule
knows keeps DuckDB's words and class (`Binder Error: ...`), so it never passes for one of Redshift's.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from shiftflow.dataapi.engines.messages import redshift_words

# Where DuckDB's hints start: a new line with "Did you mean", a candidate list, or the LINE excerpt.
_HINTS = re.compile(r"\n\s*(?:Did you mean\b|Candidate (?:functions|tables|bindings)\b|LINE \d+:).*\Z", re.S)
_FIRST_WORDS = re.compile(r"^\s*(\w+)(?:\s+(\w+))?")
_UPDATED_TABLE = re.compile(r"^\s*UPDATE\s+((?:\"[^\"]+\"|[\w$]+)(?:\.(?:\"[^\"]+\"|[\w$]+))*)", re.I)
_SET_OPERATION = re.compile(r"\b(UNION|INTERSECT|EXCEPT)\b", re.I)
# DuckDB's names of argument types, as PostgreSQL names them in "function f(integer) does not exist".
_TYPE_NAMES = {"INTEGER_LITERAL": "integer", "STRING_LITERAL": "unknown", "INTEGER": "integer", "INT32": "integer",
               "BIGINT": "bigint", "SMALLINT": "smallint", "VARCHAR": "character varying", "DOUBLE": "double precision",
               "FLOAT": "real", "BOOLEAN": "boolean", "DATE": "date", "TIMESTAMP": "timestamp without time zone",
               "TIMESTAMP WITH TIME ZONE": "timestamp with time zone", "TIME": "time without time zone",
               "JSON": "super", "BLOB": "varbyte", "\"NULL\"": "unknown", "NULL": "unknown"}


def _name(text: str) -> str:
    return text[1:-1] if len(text) > 1 and text[0] == text[-1] == '"' else text


def _statement(sql: str) -> str:
    """The statement's first two words, upper case ("DROP TABLE", "SELECT 1")."""
    words = _FIRST_WORDS.match(sql or "")
    return " ".join(word.upper() for word in words.groups() if word) if words else ""


def _missing_table(found: re.Match[str], sql: str) -> str:
    noun = "table" if _statement(sql).startswith("DROP") else "relation"  # PostgreSQL's DROP TABLE says "table"
    return f'{noun} "{_name(found["name"])}" does not exist'


def _missing_schema_of_table(found: re.Match[str], sql: str) -> str:
    if _statement(sql).startswith("DROP"):
        return f'schema "{found["schema"]}" does not exist'
    return f'relation "{found["name"]}" does not exist'


def _function_arguments(found: re.Match[str], sql: str) -> str:
    arguments = [argument.strip() for argument in re.split(r",(?![^()]*\))", found["arguments"]) if argument.strip()]
    kinds = [_TYPE_NAMES.get(kind, re.sub(r"^DECIMAL\(.*\)$", "numeric", kind).lower()) for kind in arguments]
    return f"function {found['name'].lower()}({', '.join(kinds)}) does not exist"


def _update_column(found: re.Match[str], sql: str) -> str:
    table = _UPDATED_TABLE.match(sql or "")
    of_relation = f' of relation "{_name(table.group(1).split(".")[-1])}"' if table else ""
    return f'column "{_name(found["column"])}"{of_relation} does not exist'


def _set_operation(found: re.Match[str], sql: str) -> str:
    operation = _SET_OPERATION.search(sql or "")
    return f"each {operation.group(1).upper() if operation else 'UNION'} query must have the same number of columns"


def _fixed(template: str) -> Callable[[re.Match[str], str], str]:
    return lambda found, sql: template.format(**{key: _name(value) for key, value in found.groupdict().items()})


_NAME = r'(?P<name>"[^"]+"|\S+?)'
# (DuckDB's message, the text it becomes), first match wins; `sql` is the statement DuckDB ran.
_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], str], str]], ...] = tuple(
    (re.compile(pattern, re.S), answer) for pattern, answer in (
        # A CHECK that raised its own error (the translator's VARCHAR(n) length check): that error is the message.
        (r"^Constraint Error: CHECK constraint failed on table .* \(Error: (?P<message>.*)\)$",
         lambda found, sql: found["message"]),
        # A column no FROM item has (stored-procedure-trapping-errors.md: 'column "invalid" does not exist').
        (r'^Binder Error: Referenced column (?P<column>"[^"]*") (?:was )?not found\b', _fixed('column "{column}" does not exist')),
        (r'^Binder Error: Table "(?P<table>[^"]+)" does not have a column named "(?P<column>[^"]+)"',
         _fixed("column {table}.{column} does not exist")),
        (r'^Binder Error: Table "(?P<table>[^"]+)" does not have a column with name "(?P<column>[^"]+)"',
         _fixed('column "{column}" of relation "{table}" does not exist')),
        (r"^Binder Error: Referenced update column (?P<column>\S+) not found in table!", _update_column),
        (rf'^Catalog Error: Table with name "(?P<name>[^"]+)" does not exist because schema "(?P<schema>[^"]+)" does not exist',
         _missing_schema_of_table),
        (rf"^Catalog Error: Table with name {_NAME} does not exist!", _missing_table),
        (rf"^Catalog Error: View with name {_NAME} does not exist!", _fixed('view "{name}" does not exist')),
        (rf"^Catalog Error: Schema with name {_NAME} does not exist!", _fixed('schema "{name}" does not exist')),
        (rf"^Catalog Error: (?:Table|View) with name {_NAME} already exists!", _fixed('relation "{name}" already exists')),
        (rf"^Catalog Error: Schema with name {_NAME} already exists!", _fixed('schema "{name}" already exists')),
        # DuckDB names no argument types here; PostgreSQL would: "function f(integer) does not exist".
        (rf"^Catalog Error: (?:Scalar |Table |Aggregate |Macro )?Function with name {_NAME} does not exist!",
         lambda found, sql: f"function {_name(found['name']).lower()} does not exist"),
        (r"^Binder Error: No function matches the given name and argument types '(?P<name>[\w.]+)\((?P<arguments>.*?)\)'",
         _function_arguments),
        (rf"^Catalog Error: Type with name {_NAME} does not exist!",
         lambda found, sql: f'type "{_name(found["name"]).lower()}" does not exist'),
        (r"^Constraint Error: NOT NULL constraint failed: (?:[^.\s]+\.)*(?P<table>[^.\s]+)\.(?P<column>[^.\s]+)$",
         _fixed('null value in column "{column}" of relation "{table}" violates not-null constraint')),
        (r"^Binder Error: aggregate function calls cannot be nested", _fixed("aggregate function calls cannot be nested")),
        (r'^Binder Error: column "(?P<column>[^"]+)" must appear in the GROUP BY clause or must be part of an aggregate',
         _fixed('column "{column}" must appear in the GROUP BY clause or be used in an aggregate function')),
        (r"^Binder Error: (?P<clause>WHERE|HAVING|GROUP BY) clause cannot contain window functions!",
         _fixed("window functions are not allowed in {clause}")),
        (r'^Binder Error: Ambiguous reference to table "(?:[^"]*\.)?(?P<table>[^".]+)" \(duplicate alias',
         _fixed('table name "{table}" specified more than once')),
        (r"^Binder Error: Set operations can only apply to expressions with the same number of result columns",
         _set_operation),
        (r'^Conversion Error: invalid date field format: "(?P<value>.*)", expected format', _fixed(
            'invalid input syntax for type date: "{value}"')),
        (r'^Conversion Error: invalid timestamp field format: "(?P<value>.*)", expected format', _fixed(
            'invalid input syntax for type timestamp: "{value}"')),
        (r"^Conversion Error: Could not convert string '(?P<value>.*)' to INT(?:8|16|32|64|128)$", _fixed(
            'invalid input syntax for integer: "{value}"')),
        # A file of the machine (a DuckDB table function, a table named like a file): engines/duckdb.py _confine.
        (r'^Permission Error: Cannot access file "(?P<path>[^"]*)" - file system operations are disabled',
         _fixed('permission denied: the warehouse reads no file of the local machine ("{path}")')),
        # Already PostgreSQL's words after DuckDB's class (a procedure body DuckDB parses itself: Parser Error).
        (r"^Parser Error: (?P<message>syntax error at or near .*)$", lambda found, sql: found["message"]),
        (r"^Invalid Input Error: (?P<message>division by zero|unrecognized configuration parameter .*|"
         r"invalid input syntax for .*)$", lambda found, sql: found["message"]),
    ))


def redshift_message(text: str, sql: str = "") -> str:
    """DuckDB's message `text` for statement `sql` as Redshift words it, without DuckDB's hints."""
    message = _HINTS.sub("", text).rstrip()
    for pattern, answer in _RULES:
        found = pattern.match(message)
        if found is not None:
            return redshift_words(answer(found, sql))
    return message
