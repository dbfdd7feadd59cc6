"""Per-engine set-up that the translated SQL relies on (Redshift semantics the text alone cannot carry)."""

from __future__ import annotations

# Run on every new DuckDB connection (settings and TEMP macros are per connection).
DUCKDB_SESSION_SETUP: tuple[str, ...] = (
    "SET integer_division = true",  # Redshift: int / int stays an integer, truncated toward zero
    "SET error_on_division_by_zero = true",  # Redshift raises; rewrite.py covers the decimal / float case
    "SET TimeZone = 'UTC'",  # Redshift sessions are UTC: sysdate, getdate() and timestamptz casts agree
    "CREATE SCHEMA IF NOT EXISTS public",
    "SET schema = 'public'",  # unqualified names live in public, as on Redshift
    # trunc(timestamp) is a date on Redshift, trunc(number) a number: typed overloads for the temporal types and
    # an untyped one for numbers (a typed DECIMAL overload would first cast to DECIMAL(18,3) and round).
    "CREATE OR REPLACE TEMP MACRO shiftflow_trunc(x TIMESTAMP) AS CAST(x AS DATE), (x TIMESTAMPTZ) AS CAST(x AS DATE),"
    " (x DATE) AS x, (x) AS trunc(x)",
    # text -> integer casts: Redshift raises on anything but an integer; DuckDB would round '12.5' to 13.
    "CREATE OR REPLACE TEMP MACRO shiftflow_integer_text(x VARCHAR) AS CASE WHEN x IS NULL THEN NULL"
    " WHEN regexp_full_match(x, '\\s*[+-]?[0-9]+\\s*') THEN trim(x)"
    " ELSE error('invalid input syntax for integer: \"' || x || '\"') END, (x) AS x",
)

# Run on every new PostgreSQL connection.
POSTGRES_SESSION_SETUP: tuple[str, ...] = (
    "SET TimeZone = 'UTC'",
    "SET search_path = public",
)

# Run once per PostgreSQL database (functions are catalog objects; CREATE OR REPLACE from concurrent
# sessions can collide, so the engine does this once, when it first opens the database).
POSTGRES_DATABASE_SETUP: tuple[str, ...] = (
    "CREATE OR REPLACE FUNCTION public.shiftflow_trunc(x timestamp) RETURNS date LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT x::date $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_trunc(x timestamptz) RETURNS date LANGUAGE sql STABLE"
    " AS $f$ SELECT x::date $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_trunc(x date) RETURNS date LANGUAGE sql IMMUTABLE AS $f$ SELECT x $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_trunc(x numeric) RETURNS numeric LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT trunc(x) $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_trunc(x double precision) RETURNS double precision LANGUAGE sql"
    " IMMUTABLE AS $f$ SELECT trunc(x) $f$",
    # shiftflow_avg(avg(x), min(x)): Redshift's AVG of integers is a truncated BIGINT; others keep avg's value.
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_avg(a numeric, v {t}) RETURNS bigint LANGUAGE sql IMMUTABLE"
      " AS $f$ SELECT trunc(a)::bigint $f$" for t in ("smallint", "integer", "bigint")),
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_avg(a {r}, v {t}) RETURNS {r} LANGUAGE sql IMMUTABLE"
      " AS $f$ SELECT a $f$" for r, t in (("double precision", "double precision"), ("double precision", "real"),
                                          ("interval", "interval"))),
    # Redshift's AVG of DECIMAL(p, s) is a DECIMAL(38, s): the value keeps the argument's scale (min(x) has it).
    "CREATE OR REPLACE FUNCTION public.shiftflow_avg(a numeric, v numeric) RETURNS numeric LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT round(a, scale(v)) $f$",
    # Redshift DATEDIFF counts unit boundaries crossed between the two values (not elapsed time).
    """CREATE OR REPLACE FUNCTION public.shiftflow_datediff(unit text, a timestamp, b timestamp) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $f$
DECLARE u text := lower(unit);
BEGIN
  IF u IN ('year', 'years', 'y', 'yr', 'yrs') THEN
    RETURN extract(year FROM b) - extract(year FROM a);
  ELSIF u IN ('quarter', 'quarters', 'qtr', 'qtrs') THEN
    RETURN (extract(year FROM b) * 4 + extract(quarter FROM b)) - (extract(year FROM a) * 4 + extract(quarter FROM a));
  ELSIF u IN ('month', 'months', 'mon', 'mons') THEN
    RETURN (extract(year FROM b) * 12 + extract(month FROM b)) - (extract(year FROM a) * 12 + extract(month FROM a));
  ELSIF u IN ('week', 'weeks', 'w') THEN
    RETURN (date_trunc('week', b)::date - date_trunc('week', a)::date) / 7;
  ELSIF u IN ('day', 'days', 'd') THEN
    RETURN b::date - a::date;
  ELSIF u IN ('hour', 'hours', 'h', 'hr', 'hrs') THEN
    RETURN extract(epoch FROM date_trunc('hour', b) - date_trunc('hour', a))::bigint / 3600;
  ELSIF u IN ('minute', 'minutes', 'm', 'min', 'mins') THEN
    RETURN extract(epoch FROM date_trunc('minute', b) - date_trunc('minute', a))::bigint / 60;
  ELSIF u IN ('second', 'seconds', 's', 'sec', 'secs') THEN
    RETURN extract(epoch FROM date_trunc('second', b) - date_trunc('second', a))::bigint;
  END IF;
  RAISE EXCEPTION 'not supported locally: DATEDIFF unit %', unit;
END $f$""",
    # For procedure bodies, which are plpgsql and not rewritten expression by expression.
    "CREATE OR REPLACE FUNCTION public.nvl(a anyelement, b anyelement) RETURNS anyelement LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT coalesce(a, b) $f$",
    "CREATE OR REPLACE FUNCTION public.getdate() RETURNS timestamp LANGUAGE sql STABLE"
    " AS $f$ SELECT (now() AT TIME ZONE 'UTC')::timestamp(0) $f$",
    # CHECK constraints of VARCHAR(n) / CHAR(n) columns (rewrite.py) fail with Redshift's message. VOLATILE:
    # PostgreSQL folds an IMMUTABLE call with constant arguments at plan time, whichever CASE branch it is in.
    "CREATE OR REPLACE FUNCTION public.shiftflow_raise(message text) RETURNS boolean LANGUAGE plpgsql VOLATILE"
    " AS $f$ BEGIN RAISE EXCEPTION '%', message USING ERRCODE = '22001'; END $f$",
    "CREATE OR REPLACE FUNCTION public.len(s text) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$ SELECT length(s) $f$",
)

# What ANALYZE and VACUUM become: they only maintain Redshift statistics and storage, so doing nothing is exact.
NO_OP: dict[str, str] = {
    "duckdb": "CREATE SCHEMA IF NOT EXISTS public",
    "postgres": "DO $noop$ BEGIN END $noop$",
}


def session_setup(engine: str) -> tuple[str, ...]:
    """Statements a new connection of `engine` must run before any translated SQL."""
    return DUCKDB_SESSION_SETUP if engine == "duckdb" else POSTGRES_SESSION_SETUP
