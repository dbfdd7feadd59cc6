"""Math and numeric formatting functions the engines lack with Redshift's argument types (r_ROUND.md,
r_TO_NUMBER.md). Same interface as the other families: HANDLERS, COLUMN_NAMES, DUCKDB_SETUP, POSTGRES_SETUP.

- ROUND(number, integer) "returns the same numeric data type as the input": PostgreSQL has it for NUMERIC only, so
  its FLOAT8, FLOAT4 and integer forms are defined (rounding the value's decimal form, as DuckDB does).
- SQRT(number) is a DOUBLE PRECISION (r_SQRT.md); PostgreSQL's sqrt of a NUMERIC is a NUMERIC.
- TO_NUMBER(string, format) is PostgreSQL's own; on DuckDB a literal format in Redshift's numeric model (9 0 . D
  , G S MI PR L $) becomes a DECIMAL cast of the string's digits, scaled as the format's decimals.
- TO_CHAR(number, format) (dates.py sends numeric models here) is PostgreSQL's own (with L printed as Redshift's
  $: postgres_numeric_model); on DuckDB the format is compiled (duckdb_numeric_to_char).
- DEXP, DLOG1, DLOG10, DPOW (r_DEXP.md ...): PostgreSQL's own; on DuckDB its exp, ln, log10 and pow of a DOUBLE.
- TEXT_TO_INT_ALT / TEXT_TO_NUMERIC_ALT without a format (r_TEXT_TO_INT_ALT.md): a trailing or leading sign, an
  exponent, blank text is 0; the integer truncated, the numeric rounded half to even to its scale (default 0).
  A Teradata format phrase is refused.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from shiftflow.dataapi.translate.model import NotSupportedLocally

_NUMERIC_FORMAT = re.compile(r"^(?:FM)?[$L]?\s*[90,G]*(?:[.D][90]*)?\s*(?:S|MI|PR)?$", re.IGNORECASE)


def _to_number(node: exp.ToNumber, engine: str) -> exp.Expression:
    if engine == "postgres":
        return node
    model = node.args.get("format")
    if not (isinstance(model, exp.Literal) and model.is_string):
        raise NotSupportedLocally("TO_NUMBER with a computed format on the DuckDB engine")
    text = model.this.strip()
    if not _NUMERIC_FORMAT.match(text.replace(" ", "")) and not _NUMERIC_FORMAT.match(text):
        raise NotSupportedLocally(f"TO_NUMBER format '{model.this}' on the DuckDB engine")
    decimals = re.split(r"[.D]", text, maxsplit=1, flags=re.IGNORECASE)
    scale = len(re.findall(r"[90]", decimals[1])) if len(decimals) > 1 else 0
    value = exp.cast(node.this, exp.DataType.Type.VARCHAR)
    digits = exp.Anonymous(this="regexp_replace", expressions=[
        value, exp.Literal.string(r"[^0-9.]"), exp.Literal.string(""), exp.Literal.string("g")])
    number = exp.cast(digits, exp.DataType.build(f"DECIMAL(38, {scale})"))
    negative = exp.Anonymous(this="regexp_matches", expressions=[value.copy(), exp.Literal.string(r"-|^\s*<.*>\s*$")])
    return exp.Case(ifs=[exp.If(this=negative, true=exp.Neg(this=exp.Paren(this=number.copy())))], default=number)


def _round(node: exp.Round, engine: str) -> exp.Expression:
    """sqlglot casts ROUND's argument to DECIMAL on PostgreSQL, which changes a FLOAT8 result into NUMERIC: call
    round() by name, for the overloads of POSTGRES_SETUP to keep the type."""
    decimals = node.args.get("decimals")
    if engine != "postgres" or decimals is None:
        return node
    return exp.Anonymous(this="round", expressions=[node.this, decimals])


def _sqrt(node: exp.Sqrt, engine: str) -> exp.Expression:
    if engine == "postgres":
        node.set("this", exp.cast(node.this, exp.DataType.Type.DOUBLE))
    return node


# Redshift's double precision math functions (r_DEXP.md, r_DLOG1.md, r_DLOG10.md, r_DPOW.md) by DuckDB's names.
_DOUBLE_MATH = {"dexp": "exp", "dlog1": "ln", "dlog10": "log10", "dpow": "pow"}


def _double_math(node: exp.Anonymous, engine: str) -> exp.Expression:
    if engine == "postgres":
        return node
    arguments = [exp.cast(argument, exp.DataType.Type.DOUBLE) for argument in node.expressions]
    return exp.Anonymous(this=_DOUBLE_MATH[node.name.lower()], expressions=arguments)


def _text_to_number_alt(node: exp.Anonymous, engine: str) -> exp.Expression:
    """TEXT_TO_INT_ALT(text) and TEXT_TO_NUMERIC_ALT(text [, precision, scale]) on both engines, through the
    shiftflow_text_number helper (the text's number with its sign moved to the front; NULL stays NULL)."""
    name = node.name.lower()
    arguments = list(node.expressions)
    if len(arguments) in (2, 4) or (name == "text_to_int_alt" and len(arguments) != 1) or not arguments:
        raise NotSupportedLocally(f"{name}() with a Teradata format phrase")
    if not all(isinstance(a, exp.Literal) and not a.is_string for a in arguments[1:]):
        raise NotSupportedLocally(f"{name}() with a computed precision or scale")
    text = exp.cast(arguments[0], exp.DataType.Type.VARCHAR)
    number = exp.Anonymous(this="shiftflow_text_number", expressions=[text])
    if name == "text_to_int_alt":
        return exp.cast(exp.Anonymous(this="trunc", expressions=[number]), exp.DataType.Type.INT)
    precision, scale = (arguments[1].this, arguments[2].this) if len(arguments) == 3 else ("38", "0")
    rounding = "round_even" if engine == "duckdb" else "shiftflow_round_even"
    rounded = exp.Anonymous(this=rounding, expressions=[number, exp.Literal.number(scale)])
    return exp.cast(rounded, exp.DataType.build(f"DECIMAL({precision}, {scale})"))


PARSER_FUNCTIONS: dict = {}
HANDLERS = {exp.ToNumber: _to_number, exp.Round: _round, exp.Sqrt: _sqrt,
            **dict.fromkeys(_DOUBLE_MATH, _double_math),
            "text_to_int_alt": _text_to_number_alt, "text_to_numeric_alt": _text_to_number_alt}
COLUMN_NAMES = {exp.ToNumber: "to_number", exp.Sqrt: "sqrt", "text_to_int_alt": "text_to_int_alt",
                "text_to_numeric_alt": "text_to_numeric_alt"}
# The sign may follow the digits ('123-'); blank text is 0; anything else that is no number fails the cast.
_TEXT_NUMBER = ("CASE WHEN trim({t}) = '' THEN 0 WHEN right(trim({t}), 1) IN ('+', '-')"
                " THEN CAST(right(trim({t}), 1) || left(trim({t}), -1) AS {type})"
                " ELSE CAST(trim({t}) AS {type}) END")
DUCKDB_SETUP: tuple[str, ...] = (
    "CREATE OR REPLACE TEMP MACRO shiftflow_text_number(t) AS "
    + _TEXT_NUMBER.format(t="t", type="DECIMAL(38, 10)"),
)
POSTGRES_SETUP: tuple[str, ...] = (
    "CREATE OR REPLACE FUNCTION public.shiftflow_text_number(t text) RETURNS numeric LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT " + _TEXT_NUMBER.format(t="t", type="numeric")
    + " $f$",
    # round half to even (TEXT_TO_NUMERIC_ALT's rule), PostgreSQL's round() of a numeric rounds half away from zero
    "CREATE OR REPLACE FUNCTION public.shiftflow_round_even(x numeric, digits integer) RETURNS numeric LANGUAGE sql"
    " IMMUTABLE AS $f$ SELECT CASE"
    " WHEN abs(x * power(10::numeric, digits) - trunc(x * power(10::numeric, digits))) = 0.5"
    " THEN round(x / 2, digits) * 2 ELSE round(x, digits) END $f$",
    "CREATE OR REPLACE FUNCTION public.round(x double precision, digits integer) RETURNS double precision"
    " LANGUAGE sql IMMUTABLE AS $f$ SELECT round(x::numeric, digits)::double precision $f$",
    "CREATE OR REPLACE FUNCTION public.round(x real, digits integer) RETURNS real"
    " LANGUAGE sql IMMUTABLE AS $f$ SELECT round(x::numeric, digits)::real $f$",
    # the integer types (PostgreSQL would pick the DOUBLE PRECISION overload above: round(avg(int_col), 2))
    *(f"CREATE OR REPLACE FUNCTION public.round(x {kind}, digits integer) RETURNS {kind}"
      f" LANGUAGE sql IMMUTABLE AS $f$ SELECT round(x::numeric, digits)::{kind} $f$"
      for kind in ("smallint", "integer", "bigint")),
)


# ---- TO_CHAR(number, format) ---------------------------------------------------------------------------------

_NUMERIC_MODEL = re.compile(
    r"^(?P<fm>FM)?(?P<currency>[$L])?(?P<lead>S)?(?P<integer>[90,G]*)(?:(?P<point>[.D])(?P<decimals>[90]*))?"
    r"(?P<trail>S|MI|PR)?$", re.IGNORECASE)
_VALUE = "shiftflow_to_char_value"


def postgres_numeric_model(model: str) -> str:
    """The model for PostgreSQL's to_char: Redshift's L is $ (PostgreSQL's C locale prints a blank)."""
    return re.sub(r"(?i)^(FM)?L", lambda m: (m.group(1) or "") + '"$"', model)


def duckdb_numeric_to_char(value: exp.Expression, model: str) -> exp.Expression:
    """TO_CHAR(number, model) on DuckDB, as PostgreSQL's (Redshift's) numeric format model prints it: 9 and 0
    digits (0 keeps leading zeros), . or D, , or G (a blank left of the first digit), S / MI / PR signs, a
    blank for the sign of a positive number, $ or L (Redshift's currency symbol, $), FM (no padding, no trailing
    zeros for 9), and ### when the number does not fit; RN / rn alone (roman numerals). Other elements (EEEE, TH, V,
    literals) are refused."""
    roman = _ROMAN_MODEL.fullmatch(model)
    if roman:
        return _roman(value, roman["case"] == "RN", fill=not roman["fm"])
    match = _NUMERIC_MODEL.match(model)
    if match is None or not any(c in model for c in "90"):
        raise NotSupportedLocally(f"TO_CHAR numeric format '{model}' on the DuckDB engine")
    slots = match["integer"].upper().replace("G", ",")
    decimals = match["decimals"] or ""
    lead, trail = (match["lead"] or "").upper(), (match["trail"] or "").upper()
    fill = not match["fm"]
    digit_slots = sum(1 for c in slots if c in "90")
    first_zero = slots.find("0")
    minimum = sum(1 for c in slots[first_zero:] if c in "90") if first_zero >= 0 else 0
    point = "." if match["point"] else ""
    rounded = f"round(CAST({_VALUE} AS DECIMAL(38, 10)), {len(decimals)})"
    number = f"CAST(abs({rounded}) AS DECIMAL(38, {len(decimals)}))::VARCHAR"
    whole = f"split_part({number}, '.', 1)"
    last_zero = decimals.rfind("0") + 1  # FM keeps the decimals up to the last 0
    if decimals and (fill or minimum or last_zero):  # 0.5 with 999.99 prints .50, 0 with 999 prints 0
        whole = f"(CASE WHEN {whole} = '0' THEN '' ELSE {whole} END)"
    elif decimals:  # FM999.99 prints 0 as 0. and 0.5 as .5
        whole = f"(CASE WHEN {whole} = '0' AND {rounded} <> 0 THEN '' ELSE {whole} END)"
    digits = f"lpad({whole}, CAST(greatest(length({whole}), {minimum}) AS INTEGER), '0')"
    fraction = f"split_part({number}, '.', 2)" if decimals else "''"
    if decimals and not fill:  # FM: no trailing zeros for 9 (the ones up to the last 0 stay)
        trimmed = f"rtrim({fraction}, '0')"
        fraction = f"(CASE WHEN length({trimmed}) >= {last_zero} THEN {trimmed} ELSE substr({fraction}, 1, {last_zero}) END)"
    hashes = "".join("#" if c in "90" else c for c in slots) + point + "#" * len(decimals)
    core = (f"(CASE WHEN length({digits}) > {digit_slots} THEN '{hashes}' "
            f"ELSE {_integer_field(slots, digits)} || '{point}' || {fraction} END)")
    negative = f"({rounded} < 0)"  # after rounding: -0.004 with 9.99 is .00, unsigned
    if trail in {"S", "MI"}:
        positive_mark = "+" if trail == "S" else " "
        text = f"{core} || CASE WHEN {negative} THEN '-' ELSE '{positive_mark}' END"
    else:
        left, right = ("'<'", f"CASE WHEN {negative} THEN '>' ELSE ' ' END") if trail == "PR" else ("'-'", "''")
        positive_mark = "'+'" if lead == "S" else "' '"
        sign = f"CASE WHEN {negative} THEN {left} ELSE {positive_mark} END"
        text = f"lpad({sign} || ltrim({core}), CAST(length({core}) + 1 AS INTEGER), ' ') || {right}"
    if not fill:
        text = f"trim({text})"
    if match["currency"]:
        text = f"'$' || {text}"
    expression = sqlglot.parse_one(text, read="duckdb")
    for column in list(expression.find_all(exp.Column)):
        if column.name == _VALUE:
            column.replace(value.copy())
    return expression


_ROMAN_MODEL = re.compile(r"(?P<fm>FM|fm)?(?P<case>RN|rn)")
_ROMAN_DIGITS = (("", "M", "MM", "MMM"), ("", "C", "CC", "CCC", "CD", "D", "DC", "DCC", "DCCC", "CM"),
                 ("", "X", "XX", "XXX", "XL", "L", "LX", "LXX", "LXXX", "XC"),
                 ("", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"))


def _roman(value: exp.Expression, upper: bool, fill: bool) -> exp.Expression:
    """PostgreSQL's RN: the number rounded to an integer from 1 to 3999 as a roman numeral, right-aligned in 15
    characters (FM: unpadded); any other value is 15 #s (r_TO_CHAR.md: 125 is CXXV, 618.80 is dcxix)."""
    places = [f"{list(digits)!r}[(n // {10 ** (3 - i)}) % 10 + 1]" for i, digits in enumerate(_ROMAN_DIGITS)]
    numeral = " || ".join(places)
    numeral = numeral if upper else f"lower({numeral})"
    shown = f"lpad({numeral}, 15, ' ')" if fill else numeral
    # a float rounds half to even (PostgreSQL's rint), a number half away from zero (its numeric round)
    rounded = (f"CASE WHEN typeof({_VALUE}) IN ('DOUBLE', 'FLOAT') THEN round_even(CAST({_VALUE} AS DOUBLE), 0)"
               f" ELSE round(CAST({_VALUE} AS DECIMAL(38, 10))) END")
    text = (f"list_transform([CAST({rounded} AS BIGINT)], lambda n: CASE WHEN n IS NULL"
            f" THEN NULL WHEN n BETWEEN 1 AND 3999 THEN {shown} ELSE '###############' END)[1]")
    expression = sqlglot.parse_one(text, read="duckdb")
    for column in list(expression.find_all(exp.Column)):
        if column.name == _VALUE:
            column.replace(value.copy())
    return expression


def _integer_field(slots: str, digits: str) -> str:
    """The integer part, slot by slot from the right: a digit or a blank; a separator or a blank."""
    pieces: list[str] = []
    seen = 0  # digit slots to the right
    for slot in reversed(slots):
        if slot in "90":
            seen += 1
            pieces.append(f"CASE WHEN length({digits}) >= {seen} THEN substr({digits}, length({digits}) - {seen - 1},"
                          f" 1) ELSE ' ' END")
        else:
            pieces.append(f"CASE WHEN length({digits}) > {seen} THEN ',' ELSE ' ' END")
    return "(" + " || ".join(reversed(pieces)) + ")" if pieces else "''"
