"""Redshift string functions and comparisons (SQL reference: "String functions", "Character types").

- Trailing blanks are insignificant when strings are compared ("Significance of trailing blanks"): in =, <>, <,
  <=, >, >=, IS [NOT] DISTINCT FROM, BETWEEN, IN (...), simple CASE and NULLIF, text literals lose their trailing blanks and every other operand
  that may be text goes through shiftflow_rtrim (text: without trailing blanks; any other type: unchanged). Against
  a subquery (IN (SELECT x ...), = ANY (SELECT x ...)) both the operand and the subquery's value are trimmed.
  Operands that cannot be text (numbers, arithmetic, dates, casts to other types) leave the comparison as it is.
- CONCAT(a, b) is NULL when either is NULL (the engines' concat skips NULLs), like ||.
- SUBSTRING(s, start, n) with start below 1 counts the positions before the string (PostgreSQL's rule; DuckDB
  counts a negative start from the end).
- LEN / LENGTH: an INTEGER, the column named len or length as written.
- `a + ' '`: Redshift's `+` of text concatenates (r_NVL2.md: firstname + ' ' + lastname). A `+` is read as one
  when an operand is a text literal without digits (a number or an interval written as text stays arithmetic) or
  is itself a concatenation.
- QUOTE_IDENT quotes a name unless it is lower case letters, digits, _ and $ and no reserved word (r_pg_keywords.md);
  QUOTE_LITERAL quotes the value's text (a number too), refusing text with a backslash (PostgreSQL writes E'...').
"""

from __future__ import annotations

from sqlglot import exp

_COMPARISONS = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE, exp.NullSafeEQ, exp.NullSafeNEQ)
_TEXT_TYPES = {exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR, exp.DataType.Type.BPCHAR,
               exp.DataType.Type.NVARCHAR, exp.DataType.Type.NCHAR, exp.DataType.Type.TEXT}
# Expressions whose value is never text: comparing them leaves nothing to trim.
_NOT_TEXT = (exp.Binary, exp.Unary, exp.Boolean, exp.Null, exp.Interval, exp.Extract, exp.Count, exp.Sum, exp.Avg,
             exp.Trunc, exp.Round, exp.Length, exp.DateDiff, exp.TsOrDsDiff, exp.DateAdd, exp.TsOrDsAdd,
             exp.CurrentDate, exp.CurrentTimestamp, exp.Subquery, exp.Exists, exp.Star, exp.Tuple, exp.Any,
             exp.All)


def _maybe_text(node: exp.Expression) -> bool:
    if isinstance(node, exp.Paren):
        return _maybe_text(node.this)
    if isinstance(node, exp.Literal):
        return node.is_string
    if isinstance(node, exp.Cast):
        return node.to.this in _TEXT_TYPES
    if isinstance(node, (exp.DPipe, exp.Concat)):
        return True
    return not isinstance(node, _NOT_TEXT)


def _without_trailing_blanks(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Literal) and node.is_string:
        return exp.Literal.string(node.this.rstrip(" "))
    if isinstance(node, exp.Placeholder):
        return node  # a bound value keeps its type unknown to the engine until bound; compared as given
    if isinstance(node, exp.Anonymous) and node.name == "shiftflow_rtrim":
        return node
    return exp.Anonymous(this="shiftflow_rtrim", expressions=[node])


# For grouping.py, which groups by the same rule.
maybe_text = _maybe_text
without_trailing_blanks = _without_trailing_blanks

# `a = b` that is an assignment (UPDATE ... SET, SET name = value, properties), not a comparison.
_ASSIGNMENTS = (exp.Update, exp.SetItem, exp.Set, exp.Properties, exp.Property)


def _trim_subquery(query: exp.Expression) -> bool:
    """The one value a subquery of IN / ANY / ALL selects, without trailing blanks; False (nothing changed) when
    it is not one plain SELECT of one value."""
    select = query.this if isinstance(query, exp.Subquery) else query
    if not isinstance(select, exp.Select) or len(select.expressions) != 1:
        return False
    projection = select.expressions[0]
    value = projection.this if isinstance(projection, exp.Alias) else projection
    if isinstance(value, exp.Star) or not _maybe_text(value):
        return False
    trimmed = _without_trailing_blanks(value.copy())
    if isinstance(projection, exp.Alias):
        projection.set("this", trimmed)
    else:
        projection.replace(exp.alias_(trimmed, value.alias_or_name or "?column?", quoted=True))
    return True


def _compare(node: exp.Binary, engine: str) -> exp.Expression:
    left, right = node.this, node.expression
    if isinstance(node.parent, _ASSIGNMENTS):
        return node
    if isinstance(right, (exp.Any, exp.All)):
        if _maybe_text(left) and _trim_subquery(right.this):
            node.set("this", _without_trailing_blanks(left))
        return node
    if not (_maybe_text(left) and _maybe_text(right)):
        return node
    node.set("this", _without_trailing_blanks(left))
    node.set("expression", _without_trailing_blanks(right))
    return node


def _in(node: exp.In, engine: str) -> exp.Expression:
    values = node.expressions
    if isinstance(node.parent, exp.Pivot):  # PIVOT (... FOR column IN (values)) names columns, compares nothing
        return node
    query = node.args.get("query")
    if query is not None:
        if _maybe_text(node.this) and _trim_subquery(query):
            node.set("this", _without_trailing_blanks(node.this))
        return node
    if not values or not _maybe_text(node.this) or not all(_maybe_text(v) for v in values):
        return node
    node.set("this", _without_trailing_blanks(node.this))
    node.set("expressions", [_without_trailing_blanks(v) for v in values])
    return node


def _between(node: exp.Between, engine: str) -> exp.Expression:
    bounds = [node.this, node.args.get("low"), node.args.get("high")]
    if not all(bound is not None and _maybe_text(bound) for bound in bounds):
        return node
    for key in ("this", "low", "high"):
        node.set(key, _without_trailing_blanks(node.args[key]))
    return node


def _case(node: exp.Case, engine: str) -> exp.Expression:
    subject = node.this
    if subject is None or not _maybe_text(subject):
        return node
    ifs = node.args.get("ifs") or []
    if not all(_maybe_text(branch.this) for branch in ifs):
        return node
    node.set("this", _without_trailing_blanks(subject))
    for branch in ifs:
        branch.set("this", _without_trailing_blanks(branch.this))
    return node


def _nullif(node: exp.Nullif, engine: str) -> exp.Expression:
    first, second = node.this, node.expression
    if not (_maybe_text(first) and _maybe_text(second)):
        return node
    same = exp.EQ(this=_without_trailing_blanks(first.copy()), expression=_without_trailing_blanks(second))
    return exp.Case(ifs=[exp.If(this=same, true=exp.null())], default=first)


def _concat(node: exp.Concat, engine: str) -> exp.Expression:
    values = [value if isinstance(value, exp.Literal) and value.is_string
              else exp.cast(value, exp.DataType.Type.VARCHAR) for value in node.expressions]
    result = values[0]
    for value in values[1:]:
        result = exp.DPipe(this=result, expression=value, safe=True)
    return exp.Paren(this=result)


def _substring(node: exp.Substring, engine: str) -> exp.Expression:
    start, length = node.args.get("start"), node.args.get("length")
    if engine != "duckdb" or start is None:
        return node
    if isinstance(start, exp.Literal) and not start.is_string and int(start.this) >= 1:
        return node
    first = exp.Greatest(this=start.copy(), expressions=[exp.Literal.number(1)])
    node.set("start", first)
    if length is not None:
        # the positions start .. start + length - 1 that are inside the string
        end = exp.Sub(this=exp.Add(this=exp.Paren(this=start.copy()), expression=exp.Paren(this=length)),
                      expression=first.copy())
        node.set("length", exp.Greatest(this=end, expressions=[exp.Literal.number(0)]))
    return node


def _length(node: exp.Anonymous, engine: str) -> exp.Expression:
    if len(node.expressions) != 1:
        return node
    return exp.cast(exp.Length(this=node.expressions[0]), "INT")


def _is_concatenation(node: exp.Expression) -> bool:
    if isinstance(node, exp.Paren):
        return _is_concatenation(node.this)
    if isinstance(node, exp.Literal):
        return node.is_string and not any(character.isdigit() for character in node.this)
    return isinstance(node, (exp.DPipe, exp.Concat))


def _text_plus(node: exp.Add, engine: str) -> exp.Expression:
    if not (_is_concatenation(node.this) or _is_concatenation(node.expression)):
        return node
    return exp.DPipe(this=node.this, expression=node.expression, safe=True)


# Amazon Redshift's reserved words (r_pg_keywords.md): QUOTE_IDENT quotes them.
_RESERVED_WORDS = """aes128 aes256 all allowoverwrite analyse analyze and any array as asc authorization az64 backup
    between binary blanksasnull both bytedict bzip2 case cast check collate column connect constraint create
    credentials cross current_date current_time current_timestamp current_user current_user_id default deferrable
    deflate defrag delta delta32k desc disable distinct do else emptyasnull enable encode encrypt encryption end
    except explicit false for foreign freeze from full globaldict256 globaldict64k grant group gzip having identity
    ignore ilike in initially inner intersect interval into is isnull join language leading left like limit
    localtime localtimestamp lun luns lzo lzop minus mostly16 mostly32 mostly8 natural new not notnull null nulls
    off offline offset oid old on only open or order outer overlaps parallel partition percent permissions pivot
    placing primary raw readratio recover references rejectlog resort respect restore right select session_user
    similar snapshot some sysdate system start table tag tdes text255 text32k then timestamp to top trailing true
    truncatecolumns union unique unnest unpivot user using verbose wallet when where with without""".split()


def _quote(node: exp.Anonymous, engine: str) -> exp.Expression:
    if engine != "duckdb" or len(node.expressions) != 1:
        return node  # PostgreSQL's own
    return exp.Anonymous(this=f"shiftflow_{node.name.lower()}", expressions=node.expressions)


HANDLERS = {**dict.fromkeys(_COMPARISONS, _compare), exp.Add: _text_plus, "quote_ident": _quote,
            "quote_literal": _quote, exp.In: _in, exp.Between: _between, exp.Case: _case,
            exp.Nullif: _nullif,
            exp.Concat: _concat, exp.Substring: _substring, "len": _length, "length": _length}
PARSER_FUNCTIONS = {"LEN": lambda args: exp.Anonymous(this="len", expressions=args),
                    "LENGTH": lambda args: exp.Anonymous(this="length", expressions=args)}
COLUMN_NAMES = {"len": "len", "length": "length", exp.Concat: "concat", "quote_ident": "quote_ident",
                "quote_literal": "quote_literal"}

DUCKDB_SETUP = (
    "CREATE OR REPLACE TEMP MACRO shiftflow_rtrim(x VARCHAR) AS rtrim(x, ' '), (x) AS x",
    "CREATE OR REPLACE TEMP MACRO shiftflow_quote_ident(s) AS CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*')"
    " AND s NOT IN (" + ", ".join(f"'{w}'" for w in _RESERVED_WORDS) + ") THEN s"
    """ ELSE '"' || replace(s, '"', '""') || '"' END""",
    r"CREATE OR REPLACE TEMP MACRO shiftflow_quote_literal(x) AS CASE WHEN contains(CAST(x AS VARCHAR), '\')"
    " THEN error('not supported locally: quote_literal() of text with a backslash on the DuckDB engine')"
    """ ELSE '''' || replace(CAST(x AS VARCHAR), '''', '''''') || '''' END""",
)
POSTGRES_SETUP = (
    "CREATE OR REPLACE FUNCTION public.shiftflow_rtrim(x text) RETURNS text LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT rtrim(x, ' ') $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_rtrim(x anyelement) RETURNS anyelement LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT x $f$",
)
