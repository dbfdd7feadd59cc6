"""Math and numeric formatting functions the engines lack with Redshift's argument types (r_ROUND.md,
r_TO_NUMBER.md). Same interface as the other families: HANDLERS, COLUMN_NAMES, DUCKDB_SETUP, POSTGRES_SETUP.

- ROUND(number, integer) "returns the same numeric data type as the input": PostgreSQL has it for NUMERIC only, so
  its FLOAT8 and FLOAT4 forms are defined (rounding the value's decimal form, as DuckDB does).
- TO_NUMBER(string, format) is PostgreSQL's own; on DuckDB a literal format in Redshift's numeric model (9 0 . D
  , G S MI PR L $) becomes a DECIMAL cast of the string's digits, scaled as the format's decimals.
  TO_CHAR with a numeric format is PostgreSQL's own too (the dates family refuses it on DuckDB).
"""

from __future__ import annotations

import re

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


HANDLERS = {exp.ToNumber: _to_number, exp.Round: _round}
COLUMN_NAMES = {exp.ToNumber: "to_number"}
DUCKDB_SETUP: tuple[str, ...] = ()
POSTGRES_SETUP: tuple[str, ...] = (
    "CREATE OR REPLACE FUNCTION public.round(x double precision, digits integer) RETURNS double precision"
    " LANGUAGE sql IMMUTABLE AS $f$ SELECT round(x::numeric, digits)::double precision $f$",
    "CREATE OR REPLACE FUNCTION public.round(x real, digits integer) RETURNS real"
    " LANGUAGE sql IMMUTABLE AS $f$ SELECT round(x::numeric, digits)::real $f$",
)
