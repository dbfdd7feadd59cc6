"""HyperLogLog (hyperloglog-functions.md): the HLLSKETCH type and HLL, HLL_CREATE_SKETCH, HLL_CARDINALITY,
HLL_COMBINE, HLL_COMBINE_SKETCHES, one estimator on both engines.

Redshift's sketch starts sparse (r_HLLSKTECH_type.md: printed as JSON, logm 15, its "indices" 26-bit: the
reference's own outputs reach 50065963 > 2^25) and turns dense when the sparse form outgrows the 2^15 registers.
A sparse sketch's cardinality is linear counting over the 2^26 indices, m ln(m / (m - k)) for k indices taken,
which is k itself, rounded, while k < 8,192 or so: every documented output of a small set is its exact count
(r_HLL_function.md 4, r_HLL_CARDINALITY.md 6 and 4, r_HLL-examples.md 1 and 2). k is the number of distinct values
unless two of them hash to one index, and the hash function is not public: n values share an index with a chance
of about n(n - 1) / 2^27, which stays below 1 in 1,000 up to EXACT_LIMIT (366) distinct values. Beyond, Redshift's
answer is its estimate from hashes nobody outside can compute (r_HLL-examples.md's 1771, 54356, 232152 are of data
the reference does not give), so the emulator does not answer: HLL and HLL_CARDINALITY of a set of more than
EXACT_LIMIT distinct values fail with "not supported locally".

A local sketch is text: SKETCH_PREFIX, then the distinct values' 64-bit hashes (DuckDB's hash(), PostgreSQL's
hashtextextended() of the value as text: what DISTINCT tells apart, a CHAR's trailing blanks aside), comma-separated
and sorted (a DECIMAL as its value: 1.5 and 1.50 are one), or "*" once there are more than EXACT_LIMIT (the sketch
then only knows it is too large to answer). An HLLSKETCH column is a text column holding it; COUNT, COALESCE, NVL
and CASE take it as Redshift's do (hyperloglog-functions-usage-notes.md). Its text cannot be Redshift's (the JSON
indices and the dense Base64 come from that hash), so a result that shows one (a sketch selected, cast to text,
concatenated, unloaded) fails with "not supported locally" (refuse_printed_sketches(), which both engines call on
every result), and a sketch call used as the argument of anything but the HyperLogLog functions, COUNT, COALESCE /
NVL / CASE or a projection fails at translation. A cast to HLLSKETCH (a sketch read from Redshift's own text) fails
too. What the reference does not show fails with "not supported locally": HLL_COMBINE of no sketch at all (no
rows, or only NULLs) and HLL_COMBINE_SKETCHES with a NULL argument. HLL_CREATE_SKETCH of no rows or only NULLs is
the empty sketch (r_HLL_CREATE_SKETCH.md), HLL of them 0 (r_HLL_function.md), HLL_CARDINALITY(NULL) is NULL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from shiftflow.dataapi.engines.base import Column, EngineError
from shiftflow.dataapi.translate.model import NotSupportedLocally

EXACT_LIMIT = 366  # distinct values: n(n - 1) / 2^27 < 1 / 1000
SKETCH_PREFIX = "shiftflow-hllsketch:"
_STRING_TYPES = frozenset({"varchar", "bpchar", "char", "text", "name"})
_TOO_LARGE = (f" of more than {EXACT_LIMIT} distinct values (Redshift's estimate then comes from its"
              " HyperLogLog hash function, which is not public)")
_PRINTED = ("an HLLSKETCH value shown as text (Redshift prints its sparse JSON or dense Base64 form, made with its"
            " HyperLogLog hash function, which is not public)")
_NO_SKETCH = "hll_combine() of no sketch (only NULLs or no rows: the reference does not say what Redshift returns)"
_NULL_SKETCH = "hll_combine_sketches() of a NULL sketch (the reference does not say what Redshift returns)"
_NOT_A_SKETCH = "an HLLSKETCH read from text (Redshift's sketch text comes from its hash function, which is not public)"
_SKETCH_MAKERS = frozenset({"shiftflow_hll_sketch", "shiftflow_hll_combine", "shiftflow_hll_union"})


def _call(name: str, *arguments: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(arguments))


def _sketch(value: exp.Expression, engine: str) -> exp.Expression:
    """HLL_CREATE_SKETCH(value): the sketch of the distinct hashes of the non-NULL values."""
    gather = "list" if engine == "duckdb" else "array_agg"
    hashes = _call(gather, exp.Distinct(expressions=[_call("shiftflow_hll_hash", value)]))
    return _call("shiftflow_hll_sketch", hashes)


def _create_sketch(node: exp.Anonymous, engine: str) -> exp.Expression:
    if len(node.expressions) != 1:
        return node  # the engine's error for the wrong number of arguments
    return _sketch(node.expressions[0], engine)


def _hll(node: exp.Hll, engine: str) -> exp.Expression:
    """HLL(x) is HLL_CARDINALITY(HLL_CREATE_SKETCH(x)): 0 over no rows or only NULLs."""
    if node.expressions:
        return node
    return _call("shiftflow_hll_cardinality", _sketch(node.this, engine), exp.Literal.string("hll()"))


def _cardinality(node: exp.Anonymous, engine: str) -> exp.Expression:
    if len(node.expressions) != 1:
        return node
    return _call("shiftflow_hll_cardinality", node.expressions[0], exp.Literal.string("hll_cardinality()"))


def _combine(node: exp.Anonymous, engine: str) -> exp.Expression:
    if len(node.expressions) != 1:
        return node
    return _call("shiftflow_hll_combine", _call("list" if engine == "duckdb" else "array_agg", node.expressions[0]))


def _combine_sketches(node: exp.Anonymous, engine: str) -> exp.Expression:
    if len(node.expressions) != 2:
        return node
    return _call("shiftflow_hll_union", *node.expressions)


_PASSING = (exp.Paren, exp.Alias, exp.Coalesce, exp.Case, exp.If)  # give the sketch itself as their value
_PASSING_ARGUMENTS = {exp.Case: ("ifs", "default"), exp.If: ("true", "false")}  # not a CASE's conditions


def _takes_sketch(call: exp.Anonymous) -> bool:
    """A rewritten sketch call (`call`) stands where Redshift takes an HLLSKETCH: a projection (shown, stored), the
    HyperLogLog functions, COUNT, or through COALESCE / NVL / CASE to one of these."""
    node, parent = call, call.parent
    while isinstance(parent, _PASSING) and node.arg_key in _PASSING_ARGUMENTS.get(type(parent), (node.arg_key,)):
        node, parent = parent, parent.parent
    if isinstance(parent, exp.Anonymous) and parent.name in ("list", "array_agg"):
        node, parent = parent, parent.parent
        return isinstance(parent, exp.Anonymous) and parent.name == "shiftflow_hll_combine"
    if isinstance(parent, exp.Anonymous):
        return parent.name in ("shiftflow_hll_cardinality", "shiftflow_hll_union")
    return parent is None or isinstance(parent, exp.Count) or (isinstance(parent, exp.Select)
                                                               and node.arg_key == "expressions")


def refuse_misused_sketches(tree: exp.Expression) -> None:
    """After the function rewrite: a sketch call whose value goes where Redshift takes no HLLSKETCH (a cast, a
    string function, an operator) would use the local sketch's text as Redshift's."""
    for call in tree.find_all(exp.Anonymous):
        if call.name in _SKETCH_MAKERS and not _takes_sketch(call):
            raise NotSupportedLocally(_PRINTED)


def column_type(engine: str) -> exp.DataType:
    """The engine type of an HLLSKETCH column: text holding the local sketch."""
    return exp.DataType.build("VARCHAR" if engine == "duckdb" else "TEXT")


def sketch_type(node: exp.DataType, engine: str) -> exp.DataType:
    """HLLSKETCH in a column definition is column_type(); a cast to it reads Redshift's text: refused."""
    if isinstance(node.parent, exp.ColumnDef):
        return column_type(engine)
    raise NotSupportedLocally(_NOT_A_SKETCH)


def refuse_printed_sketches(columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> None:
    """A result showing a local sketch's text (its own, or within other text) fails: it is not Redshift's."""
    texts = [index for index, column in enumerate(columns) if column.type_name in _STRING_TYPES]
    if not texts:
        return
    for row in rows:
        for index in texts:
            value = row[index]
            if value.__class__ is str and SKETCH_PREFIX in value:
                raise EngineError(f"not supported locally: {_PRINTED}")


HANDLERS = {exp.Hll: _hll, "hll_create_sketch": _create_sketch, "hll_cardinality": _cardinality,
            "hll_combine": _combine, "hll_combine_sketches": _combine_sketches}
PARSER_FUNCTIONS: dict = {}
COLUMN_NAMES = {exp.Hll: "hll", "hll_create_sketch": "hll_create_sketch", "hll_cardinality": "hll_cardinality",
                "hll_combine": "hll_combine", "hll_combine_sketches": "hll_combine_sketches"}

_PREFIX = f"'{SKETCH_PREFIX}'"


def _duckdb_fail(what: str, argument: str = "") -> str:
    """DuckDB's error() of "not supported locally: <what>", `argument` (SQL) put before `what` when given."""
    quoted = "'" + what.replace("'", "''") + "'"
    return f"error('not supported locally: ' || {argument + ' || ' if argument else ''}{quoted})"


def _postgres_fail(what: str, argument: str = "") -> str:
    """plpgsql's RAISE of "not supported locally: <what>", `argument` put before `what` when given."""
    text = ("not supported locally: " + ("%" if argument else "") + what).replace("'", "''")
    return f"RAISE EXCEPTION '{text}'" + (f", {argument}" if argument else "") + ";"


DUCKDB_SETUP: tuple[str, ...] = (
    # a DECIMAL's text without trailing zeros: 1.5 and 1.50 are one value (DISTINCT's)
    "CREATE OR REPLACE TEMP MACRO shiftflow_hll_hash(x) AS CASE WHEN x IS NULL THEN NULL"
    " WHEN typeof(x) LIKE 'DECIMAL%' AND contains(CAST(x AS VARCHAR), '.')"
    " THEN CAST(hash(rtrim(rtrim(CAST(x AS VARCHAR), '0'), '.')) AS VARCHAR)"
    " ELSE CAST(hash(CAST(x AS VARCHAR)) AS VARCHAR) END",
    # hashes (NULLs among them) -> the sketch's text
    "CREATE OR REPLACE TEMP MACRO shiftflow_hll_of(hashes) AS list_transform([list_distinct(coalesce(hashes,"
    " CAST([] AS VARCHAR[])))], lambda shiftflow_h: CASE WHEN list_contains(shiftflow_h, '*')"
    f" OR len(shiftflow_h) > {EXACT_LIMIT} THEN {_PREFIX} || '*'"
    f" ELSE {_PREFIX} || array_to_string(list_sort(shiftflow_h), ',') END)[1]",
    "CREATE OR REPLACE TEMP MACRO shiftflow_hll_sketch(hashes) AS shiftflow_hll_of(hashes)",
    # the sketch's text -> its hashes ('*' when too large)
    "CREATE OR REPLACE TEMP MACRO shiftflow_hll_hashes(s) AS CASE WHEN s IS NULL THEN NULL"
    f" WHEN NOT starts_with(CAST(s AS VARCHAR), {_PREFIX}) THEN {_duckdb_fail(_NOT_A_SKETCH)}"
    f" WHEN CAST(s AS VARCHAR) = {_PREFIX} THEN CAST([] AS VARCHAR[])"
    f" ELSE string_split(CAST(s AS VARCHAR)[{len(SKETCH_PREFIX) + 1}:], ',') END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_hll_cardinality(s, what) AS CASE WHEN s IS NULL THEN NULL"
    f" WHEN CAST(s AS VARCHAR) = {_PREFIX} || '*' THEN {_duckdb_fail(_TOO_LARGE, 'what')}"
    " ELSE CAST(len(shiftflow_hll_hashes(s)) AS BIGINT) END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_hll_union(a, b) AS CASE WHEN a IS NULL OR b IS NULL"
    f" THEN {_duckdb_fail(_NULL_SKETCH)}"
    " ELSE shiftflow_hll_of(list_concat(shiftflow_hll_hashes(a), shiftflow_hll_hashes(b))) END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_hll_combine(sketches) AS list_transform([list_filter(coalesce(sketches,"
    " CAST([] AS VARCHAR[])), lambda shiftflow_s: shiftflow_s IS NOT NULL)], lambda shiftflow_l:"
    f" CASE WHEN len(shiftflow_l) = 0 THEN {_duckdb_fail(_NO_SKETCH)}"
    " ELSE shiftflow_hll_of(flatten(list_transform(shiftflow_l, lambda shiftflow_s:"
    " shiftflow_hll_hashes(shiftflow_s)))) END)[1]",
)

POSTGRES_SETUP: tuple[str, ...] = (
    # numbers by PostgreSQL's own hash of them, which equal values share (1.5 and 1.50, 0 and -0)
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_hll_hash(x {t}) RETURNS text LANGUAGE sql IMMUTABLE STRICT"
      f" AS $f$ SELECT {h}::text $f$" for t, h in (
          ("anyelement", "hashtextextended(x::text, 0)"), ("text", "hashtextextended(x, 0)"),
          ("numeric", "hash_numeric_extended(x, 0)"), ("double precision", "hashfloat8extended(x, 0)"),
          ("real", "hashfloat4extended(x, 0)"))),
    "CREATE OR REPLACE FUNCTION public.shiftflow_hll_sketch(hashes text[]) RETURNS text LANGUAGE sql IMMUTABLE"
    f" AS $f$ SELECT CASE WHEN coalesce(bool_or(h = '*'), false) OR count(h) > {EXACT_LIMIT} THEN {_PREFIX} || '*'"
    f" ELSE {_PREFIX} || coalesce(string_agg(h, ',' ORDER BY h), '') END"
    " FROM (SELECT DISTINCT h FROM unnest(hashes) AS h WHERE h IS NOT NULL) AS distinct_hashes $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_hll_hashes(s text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE"
    " STRICT AS $f$ BEGIN"
    f" IF left(s, {len(SKETCH_PREFIX)}) <> {_PREFIX} THEN {_postgres_fail(_NOT_A_SKETCH)} END IF;"
    f" RETURN string_to_array(substr(s, {len(SKETCH_PREFIX) + 1}), ','); END $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_hll_cardinality(s text, what text) RETURNS bigint LANGUAGE plpgsql"
    f" IMMUTABLE AS $f$ BEGIN IF s IS NULL THEN RETURN NULL; END IF; IF s = {_PREFIX} || '*' THEN"
    f" {_postgres_fail(_TOO_LARGE, 'what')} END IF;"
    " RETURN coalesce(cardinality(public.shiftflow_hll_hashes(s)), 0); END $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_hll_union(a text, b text) RETURNS text LANGUAGE plpgsql IMMUTABLE"
    f" AS $f$ BEGIN IF a IS NULL OR b IS NULL THEN {_postgres_fail(_NULL_SKETCH)} END IF;"
    " RETURN public.shiftflow_hll_sketch(public.shiftflow_hll_hashes(a) || public.shiftflow_hll_hashes(b));"
    " END $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_hll_combine(sketches text[]) RETURNS text LANGUAGE plpgsql"
    " IMMUTABLE AS $f$ DECLARE s text; hashes text[] := '{}'; seen boolean := false; BEGIN"
    " FOREACH s IN ARRAY coalesce(sketches, '{}') LOOP CONTINUE WHEN s IS NULL; seen := true;"
    " hashes := public.shiftflow_hll_hashes(public.shiftflow_hll_sketch(hashes || public.shiftflow_hll_hashes(s)));"
    f" END LOOP; IF NOT seen THEN {_postgres_fail(_NO_SKETCH)} END IF;"
    " RETURN public.shiftflow_hll_sketch(hashes); END $f$",
)
