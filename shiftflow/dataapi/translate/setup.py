"""Per-engine set-up that the translated SQL relies on (Redshift semantics the text alone cannot carry)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shiftflow.dataapi.engines.base import LOCAL_IAM_USER
from shiftflow.dataapi.streams import catalog as streams_catalog
from shiftflow.dataapi.streams import refresh as streams_refresh
from shiftflow.dataapi.translate.catalog import DUCKDB_SETUP as CATALOG_DUCKDB_SETUP
from shiftflow.dataapi.translate.char_columns import DUCKDB_SETUP as CHAR_COLUMNS_DUCKDB_SETUP
from shiftflow.dataapi.translate.declarations import POSTGRES_SETUP as DECLARATIONS_POSTGRES_SETUP
from shiftflow.dataapi.translate.declarations import SETUP as DECLARATIONS_SETUP
from shiftflow.dataapi.translate.functions import DUCKDB_FUNCTIONS
from shiftflow.dataapi.translate.decimals import DUCKDB_FUNCTIONS as DECIMALS_DUCKDB_FUNCTIONS
from shiftflow.dataapi.translate.decimals import DUCKDB_SETUP as DECIMALS_DUCKDB_SETUP
from shiftflow.dataapi.translate.decimals import POSTGRES_SETUP as DECIMALS_POSTGRES_SETUP
from shiftflow.dataapi.translate.functions import DUCKDB_SETUP as FUNCTIONS_DUCKDB_SETUP
from shiftflow.dataapi.translate.functions import POSTGRES_SETUP as FUNCTIONS_POSTGRES_SETUP
from shiftflow.dataapi.translate.system import POSTGRES_SETUP as SYSTEM_POSTGRES_SETUP
from shiftflow.dataapi.translate.types import DUCKDB_SETUP as TYPES_DUCKDB_SETUP

# Run on every new DuckDB connection (settings and TEMP macros are per connection).
DUCKDB_SESSION_SETUP: tuple[str, ...] = (
    "SET integer_division = true",  # Redshift: int / int stays an integer, truncated toward zero
    "SET error_on_division_by_zero = true",  # Redshift raises; rewrite.py covers the decimal / float case
    "SET TimeZone = 'UTC'",  # Redshift sessions are UTC: sysdate, getdate() and timestamptz casts agree
    # DuckDB's common-subexpression pass merges expressions whose constants compare equal, and INTERVAL '1 month'
    # equals INTERVAL '30 days': `d + interval '1 month', d + interval '30 days'` answered twice the same date.
    "SET disabled_optimizers = 'common_subexpressions'",
    "CREATE SCHEMA IF NOT EXISTS public",
    "SET schema = 'public'",  # unqualified names live in public, as on Redshift
    # trunc(timestamp) is a date on Redshift, trunc(number) a number: typed overloads for the temporal types and
    # an untyped one for numbers (a typed DECIMAL overload would first cast to DECIMAL(18,3) and round).
    "CREATE OR REPLACE TEMP MACRO shiftflow_trunc(x TIMESTAMP) AS CAST(x AS DATE), (x TIMESTAMPTZ) AS CAST(x AS DATE),"
    " (x DATE) AS x, (x) AS trunc(x)",
    # text -> integer casts: Redshift raises on anything but an integer; DuckDB would round '12.5' to 13.
    # Untyped, one HUGEINT for the cast to narrow (typeof() is a constant): DuckDB picks a typed overload wrongly
    # for an aggregate or window argument (cast(max(float_col) as int) took the VARCHAR one).
    "CREATE OR REPLACE TEMP MACRO shiftflow_integer_text(x) AS CASE WHEN typeof(x) <> 'VARCHAR'"
    " THEN CAST(x AS HUGEINT) WHEN x IS NULL THEN NULL"
    " WHEN regexp_full_match(CAST(x AS VARCHAR), '\\s*[+-]?[0-9]+\\s*') THEN CAST(trim(CAST(x AS VARCHAR)) AS HUGEINT)"
    " ELSE error('invalid input syntax for integer: \"' || CAST(x AS VARCHAR) || '\"') END",    # JSON text functions (rewrite.py renames them shiftflow_*, with null_if_invalid filled in). DuckDB's json_valid
    # accepts trailing commas and NaN / Infinity, which Redshift rejects: with strings blanked out, such text is
    # refused here. A valid document that is not an array is an "invalid json array object", as on Redshift.
    "CREATE OR REPLACE TEMP MACRO shiftflow_json_strict(x) AS CASE WHEN json_valid(x) THEN NOT regexp_matches("
    "regexp_replace(regexp_replace(x, '\"(?:[^\"\\\\]|\\\\.)*\"', '\"\"', 'g'), 'true|false|null', '0', 'g'),"
    " ',\\s*[\\]}]|[a-df-zA-DF-Z]') ELSE false END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_is_valid_json(x) AS CASE WHEN x IS NULL THEN NULL"
    " WHEN shiftflow_json_strict(x) THEN json_type(x) = 'OBJECT' ELSE false END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_is_valid_json_array(x) AS CASE WHEN x IS NULL THEN NULL"
    " WHEN shiftflow_json_strict(x) THEN json_type(x) = 'ARRAY' ELSE false END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_json_array_length(x, null_if_invalid) AS CASE WHEN x IS NULL THEN NULL"
    " WHEN shiftflow_is_valid_json_array(x) THEN CAST(json_array_length(x) AS INTEGER)"
    " WHEN null_if_invalid THEN NULL ELSE error('invalid json array object ' || x) END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_json_extract_array_element_text(x, pos, null_if_invalid) AS"
    " CASE WHEN x IS NULL OR pos IS NULL THEN NULL"
    " WHEN NOT shiftflow_is_valid_json_array(x) THEN CASE WHEN null_if_invalid THEN NULL"
    " ELSE error('invalid json array object ' || x) END"
    " WHEN pos < 0 THEN NULL ELSE json_extract_string(x, CAST(pos AS BIGINT)) END",
    # json_extract_path_text(x, path, null_if_invalid): path a JSONPath of quoted keys (functions/json.py)
    "CREATE OR REPLACE TEMP MACRO shiftflow_json_extract_path_text(x, path, null_if_invalid) AS"
    " CASE WHEN x IS NULL OR path IS NULL THEN NULL"
    " WHEN NOT shiftflow_is_valid_json(x) THEN CASE WHEN null_if_invalid THEN NULL"
    " ELSE error('invalid json object ' || x) END"
    " ELSE json_extract_string(x, path) END",
    # strtol(text, base), as C's strtol reads it: leading white space, a sign, 0x when the base is 16, then the
    # longest run of digits valid in the base ('' or no digit: 0); BIGINT overflow raises.
    "CREATE OR REPLACE TEMP MACRO shiftflow_strtol_digits(u) AS list_transform(string_split(lower(u), ''),"
    " lambda c: CASE WHEN c = '' THEN -1 ELSE instr('0123456789abcdefghijklmnopqrstuvwxyz', c) - 1 END)",
    "CREATE OR REPLACE TEMP MACRO shiftflow_strtol_value(ds, base) AS list_reduce(ds[1:coalesce(list_position("
    "list_transform(ds, lambda d: d < 0 OR d >= base), true) - 1, len(ds))],"
    " lambda acc, d: acc * base + d, CAST(0 AS BIGINT))",
    "CREATE OR REPLACE TEMP MACRO shiftflow_strtol_unsigned(u, base) AS shiftflow_strtol_value(shiftflow_strtol_digits("
    "CASE WHEN base = 16 AND lower(left(u, 2)) = '0x' THEN u[3:] ELSE u END), base)",
    "CREATE OR REPLACE TEMP MACRO shiftflow_strtol_trimmed(t, base) AS CASE WHEN left(t, 1) = '-'"
    " THEN -shiftflow_strtol_unsigned(t[2:], base) WHEN left(t, 1) = '+' THEN shiftflow_strtol_unsigned(t[2:], base)"
    " ELSE shiftflow_strtol_unsigned(t, base) END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_strtol(s, base) AS CASE WHEN s IS NULL OR base IS NULL THEN NULL"
    " WHEN base < 2 OR base > 36 THEN error('strtol: base must be between 2 and 36')"
    " ELSE shiftflow_strtol_trimmed(ltrim(s, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)), base) END",
    # months_between(a, b): whole months when both are the same day of the month or both a month's last day,
    # otherwise the day and time difference over a 31-day month.
    "CREATE OR REPLACE TEMP MACRO shiftflow_months_between(a, b) AS CAST("
    "(year(a) * 12 + month(a)) - (year(b) * 12 + month(b)) + CASE WHEN day(a) = day(b)"
    " OR (day(a) = day(last_day(a)) AND day(b) = day(last_day(b))) THEN 0"
    " ELSE ((day(a) - day(b)) + (epoch(a) - epoch(date_trunc('day', a)) - epoch(b) + epoch(date_trunc('day', b)))"
    " / 86400.0) / 31.0 END AS DOUBLE)",
    # The request's DbUser and Database, which the engine session records (DuckDBSession.set_user; in memory,
    # DuckDB's own current_database() is "memory").
    # SET SESSION AUTHORIZATION's user first (principals/access.py).
    "CREATE OR REPLACE TEMP MACRO shiftflow_current_user() AS coalesce(getvariable('shiftflow_authorization'),"
    f" getvariable('shiftflow_user'), '{LOCAL_IAM_USER}')",
    # session_user: SET SESSION AUTHORIZATION's user, also inside a SECURITY DEFINER procedure (its owner is
    # current_user there)
    "CREATE OR REPLACE TEMP MACRO shiftflow_session_user() AS coalesce(getvariable('shiftflow_session_authorization'),"
    f" getvariable('shiftflow_user'), '{LOCAL_IAM_USER}')",
    "CREATE OR REPLACE TEMP MACRO shiftflow_current_database() AS"
    " coalesce(getvariable('shiftflow_database'), current_database())",
    # current_schemas(implicit): Redshift's text '{public}' of the search path's schemas, pg_catalog first when
    # implicit ones are asked for; DuckDB's own (main, its system and temp catalogs) are no Redshift schemas.
    "CREATE OR REPLACE TEMP MACRO shiftflow_current_schemas(implicit) AS '{' || array_to_string(CASE WHEN implicit"
    " THEN list_prepend('pg_catalog', list_filter(current_schemas(false), lambda s: s NOT IN ('main', 'pg_catalog')))"
    " ELSE list_filter(current_schemas(false), lambda s: s <> 'main') END, ',') || '}'",
    # add_months(timestamp, int): a month's last day stays the last day of the resulting month (time kept).
    "CREATE OR REPLACE TEMP MACRO shiftflow_add_months(t, n) AS CASE WHEN CAST(t AS DATE) = last_day(t)"
    " THEN CAST(last_day(t + to_months(n)) AS TIMESTAMP) + (t - date_trunc('day', t)) ELSE t + to_months(n) END",
    *FUNCTIONS_DUCKDB_SETUP,
    *CATALOG_DUCKDB_SETUP,  # regclass, obj_description, col_description (catalog.py)
    *TYPES_DUCKDB_SETUP,
    *DECIMALS_DUCKDB_SETUP,  # DECIMAL quotients (decimals.py)
    *CHAR_COLUMNS_DUCKDB_SETUP,  # LIKE operands of CHAR(n) columns (char_columns.py)
    *streams_catalog.DUCKDB_SETUP,  # streaming ingestion's state (streams/catalog.py)
    *DECLARATIONS_SETUP,  # the tables' declarations Redshift keeps (declarations.py)
)


def _postgres_json_text(signature: str, nulls: str, kind: str, result: str) -> str:
    """A JSON text function (x text, ..., null_if_invalid): NULL when `nulls`; text that is no JSON `kind` (object,
    array) is NULL with null_if_invalid, an "invalid json [array] object" error otherwise; then `result` of j."""
    invalid = "invalid json array object" if kind == "array" else "invalid json object"
    return f"""CREATE OR REPLACE FUNCTION public.shiftflow_{signature} LANGUAGE plpgsql IMMUTABLE AS $f$
DECLARE j json := shiftflow_json(x);
BEGIN
  IF {nulls} THEN RETURN NULL; END IF;
  IF json_typeof(j) IS DISTINCT FROM '{kind}' THEN
    IF null_if_invalid THEN RETURN NULL; END IF;
    RAISE EXCEPTION '{invalid} %', x;
  END IF;
  {result}
END $f$"""


# Run on every new PostgreSQL connection.
POSTGRES_SESSION_SETUP: tuple[str, ...] = (
    "SET TimeZone = 'UTC'",
    "SET search_path = public",
    "SET DateStyle = 'ISO, MDY'",  # Redshift reads '8/2/2003' as August 2 (types.py)
    # The user the session logged in as, the admin user shiftflow_current_user() names as the request's DbUser, or
    # LOCAL_IAM_USER before a request named one (PostgresSession.set_user)
    "SELECT set_config('shiftflow.login', session_user::text, false)",
)

# Run once per PostgreSQL database (functions are catalog objects; CREATE OR REPLACE from concurrent
# sessions can collide, so the engine does this once, when it first opens the database).
POSTGRES_DATABASE_SETUP: tuple[str, ...] = (
    # "By default, all users have CREATE and USAGE permission on the PUBLIC schema" (r_GRANT.md); PostgreSQL 15
    # gives PUBLIC USAGE alone.
    "GRANT CREATE, USAGE ON SCHEMA public TO PUBLIC",
    "CREATE OR REPLACE FUNCTION public.shiftflow_trunc(x timestamp) RETURNS date LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT x::date $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_trunc(x timestamptz) RETURNS date LANGUAGE sql STABLE"
    " AS $f$ SELECT x::date $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_trunc(x date) RETURNS date LANGUAGE sql IMMUTABLE AS $f$ SELECT x $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_trunc(x numeric) RETURNS numeric LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT trunc(x) $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_trunc(x double precision) RETURNS double precision LANGUAGE sql"
    " IMMUTABLE AS $f$ SELECT trunc(x) $f$",
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
    "CREATE OR REPLACE FUNCTION public.len(s text) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$ SELECT length(s) $f$",    # JSON text functions (see the DuckDB macros): PostgreSQL's json input is as strict as Redshift's.
    """CREATE OR REPLACE FUNCTION public.shiftflow_json(x text) RETURNS json LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN RETURN x::json; EXCEPTION WHEN others THEN RETURN NULL; END $f$""",
    "CREATE OR REPLACE FUNCTION public.shiftflow_is_valid_json(x text) RETURNS boolean LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT CASE WHEN x IS NULL THEN NULL ELSE coalesce(json_typeof(shiftflow_json(x)) = 'object', false)"
    " END $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_is_valid_json_array(x text) RETURNS boolean LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT CASE WHEN x IS NULL THEN NULL ELSE coalesce(json_typeof(shiftflow_json(x)) = 'array', false)"
    " END $f$",
    _postgres_json_text("json_array_length(x text, null_if_invalid boolean) RETURNS integer", "x IS NULL", "array",
                        "RETURN json_array_length(j);"),
    _postgres_json_text("json_extract_array_element_text(x text, pos bigint, null_if_invalid boolean) RETURNS text",
                        "x IS NULL OR pos IS NULL", "array",
                        "IF pos < 0 OR pos > 2147483647 THEN RETURN NULL; END IF;\n  RETURN j ->> pos::integer;"),
    _postgres_json_text("json_extract_path_text(x text, path text[], null_if_invalid boolean) RETURNS text",
                        "x IS NULL OR path IS NULL", "object", "RETURN j #>> path;"),
    """CREATE OR REPLACE FUNCTION public.shiftflow_strtol(s text, base integer) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $f$
DECLARE t text; sign integer := 1; result bigint := 0; d integer; i integer;
BEGIN
  IF s IS NULL OR base IS NULL THEN RETURN NULL; END IF;
  IF base < 2 OR base > 36 THEN RAISE EXCEPTION 'strtol: base must be between 2 and 36'; END IF;
  t := ltrim(s, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13));
  IF left(t, 1) IN ('-', '+') THEN
    IF left(t, 1) = '-' THEN sign := -1; END IF;
    t := substr(t, 2);
  END IF;
  IF base = 16 AND lower(left(t, 2)) = '0x' THEN t := substr(t, 3); END IF;
  FOR i IN 1 .. length(t) LOOP
    d := strpos('0123456789abcdefghijklmnopqrstuvwxyz', lower(substr(t, i, 1))) - 1;
    EXIT WHEN d < 0 OR d >= base;
    result := result * base + d;
  END LOOP;
  RETURN sign * result;
END $f$""",
    """CREATE OR REPLACE FUNCTION public.shiftflow_months_between(a timestamp, b timestamp) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $f$
SELECT ((extract(year FROM a) * 12 + extract(month FROM a)) - (extract(year FROM b) * 12 + extract(month FROM b))
  + CASE WHEN extract(day FROM a) = extract(day FROM b)
           OR (a::date = (date_trunc('month', a) + interval '1 month - 1 day')::date
               AND b::date = (date_trunc('month', b) + interval '1 month - 1 day')::date) THEN 0
         ELSE ((extract(day FROM a) - extract(day FROM b))
               + (extract(epoch FROM a - date_trunc('day', a)) - extract(epoch FROM b - date_trunc('day', b))) / 86400)
              / 31 END)::double precision
$f$""",
    # The request's DbUser (PostgresSession.set_user) while the session runs as the user it logged in as; after SET
    # SESSION AUTHORIZATION, the user it became (r_SET_SESSION_AUTHORIZATION.md); in a SECURITY DEFINER procedure,
    # current_user is its owner and session_user the session's user.
    "CREATE OR REPLACE FUNCTION public.shiftflow_current_user() RETURNS text LANGUAGE sql STABLE"
    " AS $f$ SELECT CASE WHEN current_user::text = current_setting('shiftflow.login', true)"
    f" THEN coalesce(nullif(current_setting('shiftflow.user', true), ''), '{LOCAL_IAM_USER}')"
    " ELSE current_user::text END $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_session_user() RETURNS text LANGUAGE sql STABLE"
    " AS $f$ SELECT coalesce(nullif(current_setting('shiftflow.authorization', true), ''),"
    " CASE WHEN session_user::text = current_setting('shiftflow.login', true)"
    f" THEN coalesce(nullif(current_setting('shiftflow.user', true), ''), '{LOCAL_IAM_USER}')"
    " ELSE session_user::text END) $f$",
    # SET [LOCAL] SESSION AUTHORIZATION 'user' | DEFAULT (translate/__init__.py): the session's login role is no
    # superuser (engines/postgres.py), which PostgreSQL's own SET SESSION AUTHORIZATION needs, so it becomes the user
    # with SET ROLE (the login role is a member of each user it creates) and shiftflow.authorization, which
    # session_user names, records it; both are undone with the transaction as a SET is. Inside a SECURITY DEFINER
    # procedure PostgreSQL refuses SET ROLE as it refuses SET SESSION AUTHORIZATION: in the latter's words.
    """CREATE OR REPLACE PROCEDURE public.shiftflow_session_authorization(name text, is_local boolean)
LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM set_config('role', coalesce(name, 'none'), is_local);
  PERFORM set_config('shiftflow.authorization', coalesce(name, ''), is_local);
EXCEPTION WHEN insufficient_privilege THEN
  IF SQLERRM LIKE 'cannot set parameter%within security-definer function' THEN
    RAISE EXCEPTION 'cannot set parameter "session_authorization" within security-definer function'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RAISE;
END $f$""",
    "CREATE OR REPLACE FUNCTION public.shiftflow_current_database() RETURNS text LANGUAGE sql STABLE"
    " AS $f$ SELECT current_database()::text $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_current_schemas(implicit boolean) RETURNS text LANGUAGE sql STABLE"
    " AS $f$ SELECT '{' || array_to_string(current_schemas(implicit), ',') || '}' $f$",
    """CREATE OR REPLACE FUNCTION public.shiftflow_add_months(t timestamp, n integer) RETURNS timestamp
LANGUAGE sql IMMUTABLE AS $f$
SELECT CASE WHEN t::date = (date_trunc('month', t) + interval '1 month - 1 day')::date
  THEN date_trunc('month', t + make_interval(months => n)) + interval '1 month - 1 day' + (t - date_trunc('day', t))
  ELSE t + make_interval(months => n) END
$f$""",
    *DECIMALS_POSTGRES_SETUP,  # DECIMAL quotients (decimals.py)
    *FUNCTIONS_POSTGRES_SETUP,
    *streams_catalog.POSTGRES_SETUP,  # streaming ingestion's state and refresh (streams/)
    *streams_refresh.POSTGRES_SETUP,
    *SYSTEM_POSTGRES_SETUP,  # system tables' refused values (system.py)
    *DECLARATIONS_POSTGRES_SETUP,  # the tables' declarations Redshift keeps (declarations.py)
)

# What ANALYZE and VACUUM become: they only maintain Redshift statistics and storage, so doing nothing is exact.
NO_OP: dict[str, str] = {
    "duckdb": "CREATE SCHEMA IF NOT EXISTS public",
    "postgres": "DO $noop$ BEGIN END $noop$",
}


def session_setup(engine: str) -> tuple[str, ...]:
    """Statements a new connection of `engine` must run before any translated SQL."""
    return DUCKDB_SESSION_SETUP if engine == "duckdb" else POSTGRES_SESSION_SETUP


def duckdb_functions() -> dict[str, tuple[Callable[..., object], tuple[str, ...], str]]:
    """Python functions a new DuckDB database must have (name -> (function, parameter types, return type))."""
    return {**DUCKDB_FUNCTIONS, **DECIMALS_DUCKDB_FUNCTIONS}


def register_duckdb_functions(connection: Any) -> None:
    """The translator's Python functions, registered on a DuckDB database (every cursor of `connection` sees them)."""
    for name, (function, parameters, result) in duckdb_functions().items():
        connection.create_function(name, function, list(parameters), result)


def prepared_duckdb(connection: Any) -> Any:
    """A raw DuckDB connection (a benchmark's baseline) made ready for translated SQL: the translator's Python
    functions registered (as the engine registers them on each database), then the session set-up run."""
    register_duckdb_functions(connection)
    for statement in session_setup("duckdb"):
        connection.execute(statement)
    return connection
