"""NEXT_DAY(date | timestamp, day) (r_NEXT_DAY.md): the first given day of the week after the date, a DATE.
PostgreSQL has no next_day: a helper reads the day's name (any case, full or abbreviated: Mo, Tue, thurs ...);
DuckDB's comes from sqlglot's own translation. The families' interface."""

from __future__ import annotations

from sqlglot import exp



def _next_day(node: exp.NextDay, engine: str) -> exp.Expression:
    """A text date ('2014-08-20', r_NEXT_DAY.md) is read as a DATE: DuckDB cannot pick isodow's overload for text."""
    if engine == "duckdb" and isinstance(node.this, exp.Literal) and node.this.is_string:
        node.set("this", exp.cast(node.this, exp.DataType.Type.DATE))
    return node


PARSER_FUNCTIONS: dict = {}
HANDLERS = {exp.NextDay: _next_day}
COLUMN_NAMES: dict = {}
DUCKDB_SETUP: tuple[str, ...] = ()
POSTGRES_SETUP: tuple[str, ...] = (
    """CREATE OR REPLACE FUNCTION public.next_day(d timestamp, day text) RETURNS date LANGUAGE plpgsql IMMUTABLE
AS $f$
DECLARE wanted integer;
BEGIN
  IF d IS NULL OR day IS NULL THEN RETURN NULL; END IF;
  SELECT n - 1 INTO wanted FROM unnest(ARRAY['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday',
    'saturday']) WITH ORDINALITY AS names(name, n)
    WHERE name LIKE lower(trim(day)) || '%' AND length(trim(day)) >= CASE WHEN lower(left(trim(day), 1)) IN ('t', 's')
      THEN 2 ELSE 1 END;
  IF wanted IS NULL THEN RAISE EXCEPTION 'Invalid day of week: %', day; END IF;
  RETURN d::date + ((wanted - extract(dow FROM d)::integer + 6) % 7) + 1;
END $f$""",
)
