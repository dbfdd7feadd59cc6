"""Redshift string functions and comparisons (SQL reference: "String functions", "Character types").

- Trailing blanks are insignificant when strings are compared ("Significance of trailing blanks"): in =, <>, <,
  <=, >, >=, IS [NOT] DISTINCT FROM, BETWEEN, IN (...), simple CASE, DECODE and NULLIF, text literals lose their trailing blanks and every other operand
  that may be text goes through shiftflow_rtrim (text: without trailing blanks; any other type: unchanged). Against
  a subquery (IN (SELECT x ...), = ANY (SELECT x ...)) both the operand and the subquery's value are trimmed.
  On DuckDB, a comparison in a subquery whose operand may be a column of an enclosing query (unqualified, or
  qualified by no table of the subquery's own FROM: `l_partkey = ps_partkey` in TPC-H Q20) is one untyped macro
  per operator (shiftflow_compare_eq ...) that trims only when both are VARCHAR: DuckDB picks shiftflow_rtrim's
  typed overload by binding its argument, and an outer reference bound that way fails the query with an INTERNAL
  error. Everywhere else the operands keep shiftflow_rtrim, which DuckDB resolves while binding: the macro's
  typeof() folds only in the optimizer, after an outer join's condition is planned, so a LEFT JOIN on it is a nested
  loop join (the sales fact load 50x slower) where shiftflow_rtrim keeps a hash join.
  Operands that cannot be text (numbers, arithmetic, dates, casts to other types) leave the comparison as it is.
- CONCAT(a, b) is NULL when either is NULL (the engines' concat skips NULLs), like ||. CONCAT of VARBYTE values
  (casts to VARBYTE, FROM_HEX) is their bytes joined; any other VARBYTE argument (a column) fails with "not supported
  locally" rather than be read as its text (shiftflow_concat_text).
- SUBSTRING(s, start, n) with start below 1 counts the positions before the string (PostgreSQL's rule; DuckDB
  counts a negative start from the end).
- LEN / LENGTH: an INTEGER, the column named len or length as written; of a VARBYTE its bytes (bytes.py).
- `a + ' '`: Redshift's `+` of text concatenates (r_NVL2.md: firstname + ' ' + lastname). On both engines the
  tree pass turns a `+` into `||` when an operand is a text literal without digits (a number or an interval
  written as text stays arithmetic) or is itself a concatenation. PostgreSQL also has text + text as an operator
  of the set-up (POSTGRES_SETUP), so two text columns concatenate there; on DuckDB column + column fails.
- QUOTE_IDENT quotes a name unless it is lower case letters, digits, _ and $ and no reserved word (r_pg_keywords.md);
  QUOTE_LITERAL quotes the value's text (a number too), refusing text with a backslash (PostgreSQL writes E'...').
- SOUNDEX(string) (SOUNDEX.md): American Soundex of the string's ASCII letters (every other character ignored, the
  words of a string coded as one): its first letter, then the digits of the letters after it (B F P V 1, C G J K Q S
  X Z 2, D T 3, L 4, M N 5, R 6), a digit dropped when the letter before it had the same one, vowels and Y parting
  two such letters, padded with 0 to four characters; '' without a letter. Whether H and W part them as vowels do
  (PostgreSQL's fuzzystrmatch) or not (the American rule) the page does not show: a string where it matters
  (Ashcraft) fails with "not supported locally". DIFFERENCE(a, b) (DIFFERENCE.md): how many of the two codes' four
  characters are equal, 0 when one string has no letter, 1 when neither has.
"""

from __future__ import annotations

from sqlglot import exp

from shiftflow.dataapi.translate.functions.bytes import is_varbyte
from shiftflow.dataapi.translate.model import NotSupportedLocally

_COMPARISONS = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE, exp.NullSafeEQ, exp.NullSafeNEQ)
_COMPARISON_NAMES = {exp.EQ: "eq", exp.NEQ: "neq", exp.LT: "lt", exp.LTE: "lte", exp.GT: "gt", exp.GTE: "gte",
                     exp.NullSafeEQ: "not_distinct", exp.NullSafeNEQ: "distinct"}
_COMPARISON_OPERATORS = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">=",
                         "not_distinct": "IS NOT DISTINCT FROM", "distinct": "IS DISTINCT FROM"}
_TEXT_TYPES = {exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR, exp.DataType.Type.BPCHAR,
               exp.DataType.Type.NVARCHAR, exp.DataType.Type.NCHAR, exp.DataType.Type.TEXT}
# Expressions whose value is never text: comparing them leaves nothing to trim.
_NOT_TEXT = (exp.Binary, exp.Unary, exp.Boolean, exp.Null, exp.Interval, exp.Extract, exp.Count, exp.Sum, exp.Avg,
             exp.Trunc, exp.Round, exp.Length, exp.DateDiff, exp.TsOrDsDiff, exp.DateAdd, exp.TsOrDsAdd,
             exp.CurrentDate, exp.CurrentTimestamp, exp.Subquery, exp.Exists, exp.Star, exp.Tuple, exp.Any,
             exp.All)


def _visibly_text(node: exp.Expression) -> bool:
    """Text whatever the columns' types: a text literal, a cast to text, a concatenation."""
    if isinstance(node, exp.Paren):
        return _visibly_text(node.this)
    if isinstance(node, exp.Literal):
        return node.is_string
    if isinstance(node, exp.Cast):
        return node.to.this in _TEXT_TYPES
    return isinstance(node, (exp.DPipe, exp.Concat))


def _maybe_text(node: exp.Expression) -> bool:
    if isinstance(node, exp.Paren):
        return _maybe_text(node.this)
    if isinstance(node, exp.Collate):  # x COLLATE c is text (a Binary to sqlglot)
        return True
    return _visibly_text(node) or not isinstance(node, (exp.Literal, exp.Cast, *_NOT_TEXT))


# A subquery in one of these is a FROM source or a statement's query; anywhere else it is a value (IN, EXISTS, a
# scalar, ANY / ALL, LATERAL), and only there may a column be an enclosing query's.
_SOURCE_HOLDERS = (exp.From, exp.Join, exp.CTE, exp.Merge, exp.Insert, exp.Create, exp.Subquery, exp.SetOperation)


def _in_value_subquery(node: exp.Expression) -> bool:
    ancestor = node.parent
    while ancestor is not None:
        parent = ancestor.parent
        if isinstance(ancestor, exp.Subquery) and not isinstance(parent, _SOURCE_HOLDERS):
            return True
        if isinstance(ancestor, exp.Query) and isinstance(parent, exp.Exists):
            return True
        ancestor = parent
    return False


def _may_refer_outside(operand: exp.Expression) -> bool:
    """operand has a column that may be an enclosing query's (a correlated reference): in a subquery used as a
    value, a column qualified by no table of the subquery's own FROM, or one not qualified at all (the text cannot
    tell whose it is)."""
    query = operand.find_ancestor(exp.Query)
    columns = [column for column in operand.find_all(exp.Column) if column.find_ancestor(exp.Query) is query]
    if not columns or not _in_value_subquery(operand):
        return False
    sources = [query.args.get("from_"), *(query.args.get("joins") or [])] if isinstance(query, exp.Select) else []
    own = {source.this.alias_or_name for source in sources if source is not None}
    return any(not column.table or column.table not in own for column in columns)


def _without_trailing_blanks(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Literal) and node.is_string:
        return exp.Literal.string(node.this.rstrip(" "))
    if isinstance(node, exp.Placeholder):
        return node  # a bound value keeps its type unknown to the engine until bound; compared as given
    if isinstance(node, exp.Anonymous) and node.name == "shiftflow_rtrim":
        return node
    if isinstance(node, exp.Collate):  # trimmed inside: the collation stays the comparison's
        node.set("this", _without_trailing_blanks(node.this))
        return node
    return exp.Anonymous(this="shiftflow_rtrim", expressions=[node])


# For grouping.py, which groups by the same rule, and conversions.py.
maybe_text = _maybe_text
may_refer_outside = _may_refer_outside
visibly_text = _visibly_text
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
    if engine == "duckdb" and (_may_refer_outside(left) or _may_refer_outside(right)):
        return exp.Anonymous(this=f"shiftflow_compare_{_COMPARISON_NAMES[type(node)]}", expressions=[left, right])
    node.set("this", _without_trailing_blanks(left))
    node.set("expression", _without_trailing_blanks(right))
    return node


def _in(node: exp.In, engine: str) -> exp.Expression:
    values = node.expressions
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


_BINARY_TYPES = {exp.DataType.Type.VARBINARY, exp.DataType.Type.BINARY, exp.DataType.Type.BLOB}


def _visibly_varbyte(node: exp.Expression) -> bool:
    if isinstance(node, exp.Cast):
        return node.to.this in _BINARY_TYPES
    return isinstance(node, exp.Anonymous) and node.name.lower() == "from_hex"


def _concat_operand(value: exp.Expression) -> exp.Expression:
    if isinstance(value, exp.Literal) and value.is_string:
        return value
    if isinstance(value, (exp.Literal, exp.Null)) or _visibly_text(value):
        return exp.cast(value, exp.DataType.Type.VARCHAR)
    return exp.Anonymous(this="shiftflow_concat_text", expressions=[value])


def _literal(node: exp.Literal, engine: str) -> exp.Expression:
    """PostgreSQL text cannot hold a NUL character ('\\0' in Redshift's escapes, r_STRTOL.md): refused there."""
    if engine == "postgres" and node.is_string and "\x00" in node.this:
        raise NotSupportedLocally("a NUL character ('\\0') in text on the PostgreSQL engine")
    return node


def _decode(node: exp.DecodeCase, engine: str) -> exp.Expression:
    """DECODE(expression, search, result [, search, result] ... [, default]): each search compared as = is."""
    values = node.expressions
    searches = values[1:len(values) - 1:2] if len(values) % 2 == 0 else values[1::2]
    searches = [search for search in searches if not isinstance(search, exp.Null)]  # DECODE matches NULL IS NULL
    if not _maybe_text(values[0]) or not all(_maybe_text(search) for search in searches):
        return node
    trimmed = [_without_trailing_blanks(values[0])]
    for index, value in enumerate(values[1:], start=1):
        is_search = index % 2 == 1 and not (len(values) % 2 == 0 and index == len(values) - 1)
        trimmed.append(_without_trailing_blanks(value) if is_search and not isinstance(value, exp.Null) else value)
    node.set("expressions", trimmed)
    return node


def _in_tuples(node: exp.In, engine: str) -> exp.Expression:
    """(a, b) IN ((x, y), ...): each text element compared as = is (the element-wise trim of _in)."""
    subject = node.this
    rows = node.expressions
    if not isinstance(node, exp.In) or not isinstance(subject, exp.Tuple) or not rows or node.args.get("query") is not None or not all(
            isinstance(row, exp.Tuple) and len(row.expressions) == len(subject.expressions) for row in rows):
        return node
    for position, element in enumerate(subject.expressions):
        column = [row.expressions[position] for row in rows]
        if _maybe_text(element) and all(_maybe_text(value) for value in column):
            element.replace(_without_trailing_blanks(element.copy()))
            for value in column:
                value.replace(_without_trailing_blanks(value.copy()))
    return node


def _concat(node: exp.Concat, engine: str) -> exp.Expression:
    if any(_visibly_varbyte(value) for value in node.expressions):
        values = list(node.expressions)  # bytes joined (r_CONCAT: concat('abc'::varbyte, 'def'::varbyte))
    else:
        values = [_concat_operand(value) for value in node.expressions]
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
    if engine == "duckdb" and is_varbyte(node.expressions[0]):  # a VARBYTE's bytes (DuckDB's length takes text)
        return exp.cast(exp.Anonymous(this="octet_length", expressions=node.expressions), "INT")
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


def _bpcharcmp(node: exp.Anonymous, engine: str) -> exp.Expression:
    """BPCHARCMP(a, b) and its synonym BTTEXT_PATTERN_CMP (r_BTTEXT_PATTERN_CMP.md): -1, 0 or 1 as a is below,
    equal to or above b (r_BPCHARCMP.md), compared as CHAR values
    are, without their trailing blanks, byte by byte ("based on the byte encoding"). PostgreSQL's own answers the
    difference of the first unequal bytes (-2, 14), in the database's collation: its sign, in collation "C"."""
    if len(node.expressions) != 2:
        return node
    return exp.Anonymous(this="shiftflow_bpcharcmp", expressions=node.expressions)


_SOUNDEX_DIGITS = {**dict.fromkeys("BFPV", "1"), **dict.fromkeys("CGJKQSXZ", "2"), **dict.fromkeys("DT", "3"),
                   "L": "4", "M": "5", "N": "5", "R": "6"}
_SOUNDEX_UNDECIDED = "!"  # the code depends on whether H and W part two letters of one digit


def soundex(text: str) -> str:
    """American Soundex as the module's docstring says; _SOUNDEX_UNDECIDED where H / W would decide it."""
    letters = [c for c in text.upper() if "A" <= c <= "Z"]
    if not letters:
        return ""
    code, last, parted_by_h_or_w = letters[0], _SOUNDEX_DIGITS.get(letters[0]), False
    for letter in letters[1:]:
        if len(code) == 4:
            break
        if letter in "HW":
            parted_by_h_or_w = True
            continue
        digit = _SOUNDEX_DIGITS.get(letter)
        if digit is not None and digit == last and parted_by_h_or_w:
            return _SOUNDEX_UNDECIDED
        if digit is not None and digit != last:
            code += digit
        last, parted_by_h_or_w = digit, False
    return code.ljust(4, "0")


def _soundex(node: exp.Soundex, engine: str) -> exp.Expression:
    return exp.Anonymous(this="shiftflow_soundex", expressions=[node.this])


def _difference(node: exp.Anonymous, engine: str) -> exp.Expression:
    if len(node.expressions) != 2:
        return node  # the engine's error
    return exp.Anonymous(this="shiftflow_difference", expressions=list(node.expressions))


HANDLERS = {**dict.fromkeys(_COMPARISONS, _compare), exp.Add: _text_plus, "quote_ident": _quote,
            exp.Soundex: _soundex, "difference": _difference,
            "bpcharcmp": _bpcharcmp, "bttext_pattern_cmp": _bpcharcmp,
            "quote_literal": _quote, exp.In: _in, exp.Between: _between, exp.Case: _case,
            exp.Nullif: _nullif,
            exp.Concat: _concat, exp.Substring: _substring, "len": _length, "length": _length}
PARSER_FUNCTIONS = {"LEN": lambda args: exp.Anonymous(this="len", expressions=args),
                    "LENGTH": lambda args: exp.Anonymous(this="length", expressions=args)}
HANDLERS[exp.DecodeCase] = _decode
HANDLERS[exp.Literal] = _literal
HANDLERS[exp.In] = lambda node, engine: _in_tuples(_in(node, engine), engine)  # _in leaves a tuple IN as written
COLUMN_NAMES = {"len": "len", "length": "length", exp.Concat: "concat", "quote_ident": "quote_ident",
                "quote_literal": "quote_literal", "bpcharcmp": "bpcharcmp",
                "bttext_pattern_cmp": "bttext_pattern_cmp", exp.Soundex: "soundex", "difference": "difference"}
DUCKDB_FUNCTIONS = {"shiftflow_soundex_code": (soundex, ("VARCHAR",), "VARCHAR")}
_SOUNDEX_REFUSED = ("not supported locally: soundex() of a string where H or W parts two letters of one digit (the"
                    " page does not say whether they part them as vowels do)")

# a letter's Soundex digit in SQL (NULL for a vowel, Y, H, W)
_POSTGRES_SOUNDEX_DIGIT = ("CASE WHEN {letter} IN (" + ", ".join(f"'{c}'" for c in "BFPV") + ") THEN '1' WHEN {letter} IN ("
                           + ", ".join(f"'{c}'" for c in "CGJKQSXZ") + ") THEN '2' WHEN {letter} IN ('D', 'T') THEN '3'"
                           " WHEN {letter} = 'L' THEN '4' WHEN {letter} IN ('M', 'N') THEN '5'"
                           " WHEN {letter} = 'R' THEN '6' END")
_VARBYTE_CONCAT = "not supported locally: CONCAT of a VARBYTE value that is not visibly VARBYTE (a column)"
DUCKDB_SETUP = (
    "CREATE OR REPLACE TEMP MACRO shiftflow_rtrim(x VARCHAR) AS rtrim(x, ' '), (x) AS x",
    f"CREATE OR REPLACE TEMP MACRO shiftflow_soundex(s) AS CASE WHEN shiftflow_soundex_code(CAST(s AS VARCHAR))"
    f" = '{_SOUNDEX_UNDECIDED}' THEN error('{_SOUNDEX_REFUSED}') ELSE shiftflow_soundex_code(CAST(s AS VARCHAR)) END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_difference(a, b) AS list_transform([[shiftflow_soundex(a),"
    " shiftflow_soundex(b)]], lambda c: CASE WHEN c[1] = '' AND c[2] = '' THEN 1 WHEN c[1] = '' OR c[2] = '' THEN 0"
    " ELSE CAST(list_sum(list_transform(range(1, 5), lambda i: CASE WHEN c[1][i] = c[2][i] THEN 1 ELSE 0 END))"
    " AS INTEGER) END)[1]",
    "CREATE OR REPLACE TEMP MACRO shiftflow_quote_ident(s) AS CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*')"
    " AND s NOT IN (" + ", ".join(f"'{w}'" for w in _RESERVED_WORDS) + ") THEN s"
    """ ELSE '"' || replace(s, '"', '""') || '"' END""",
    r"CREATE OR REPLACE TEMP MACRO shiftflow_quote_literal(x) AS CASE WHEN contains(CAST(x AS VARCHAR), '\')"
    " THEN error('not supported locally: quote_literal() of text with a backslash on the DuckDB engine')"
    """ ELSE '''' || replace(CAST(x AS VARCHAR), '''', '''''') || '''' END""",
    "CREATE OR REPLACE TEMP MACRO shiftflow_bpcharcmp(a, b) AS CAST(sign(CASE"
    " WHEN rtrim(CAST(a AS VARCHAR), ' ') < rtrim(CAST(b AS VARCHAR), ' ') THEN -1"
    " WHEN rtrim(CAST(a AS VARCHAR), ' ') > rtrim(CAST(b AS VARCHAR), ' ') THEN 1"
    " WHEN a IS NOT NULL AND b IS NOT NULL THEN 0 END) AS INTEGER)",
    # untyped (typeof() is a constant): a typed overload fails on an aggregate or an outer reference
    f"CREATE OR REPLACE TEMP MACRO shiftflow_concat_text(x) AS CASE WHEN typeof(x) = 'BLOB'"
    f" THEN CAST(error('{_VARBYTE_CONCAT}') AS VARCHAR) ELSE CAST(x AS VARCHAR) END",
    *(f"CREATE OR REPLACE TEMP MACRO shiftflow_compare_{name}(a, b) AS CASE WHEN typeof(a) = 'VARCHAR' AND"
      f" typeof(b) = 'VARCHAR' THEN rtrim(CAST(a AS VARCHAR), ' ') {operator} rtrim(CAST(b AS VARCHAR), ' ')"
      f" ELSE a {operator} b END" for name, operator in _COMPARISON_OPERATORS.items()),
)
_POSTGRES_SOUNDEX = f"""CREATE OR REPLACE FUNCTION public.shiftflow_soundex(s text) RETURNS text LANGUAGE plpgsql
IMMUTABLE STRICT AS $f$ DECLARE letters text := regexp_replace(upper(s), '[^A-Z]', '', 'g'); code text;
  last text; digit text; parted boolean := false; letter text;
BEGIN
  IF letters = '' THEN RETURN ''; END IF;
  code := left(letters, 1);
  last := {_POSTGRES_SOUNDEX_DIGIT.format(letter="code")};
  FOR i IN 2 .. length(letters) LOOP
    EXIT WHEN length(code) = 4;
    letter := substr(letters, i, 1);
    IF letter IN ('H', 'W') THEN parted := true; CONTINUE; END IF;
    digit := {_POSTGRES_SOUNDEX_DIGIT.format(letter="letter")};
    IF digit IS NOT NULL AND digit = last AND parted THEN RAISE EXCEPTION '{_SOUNDEX_REFUSED}'; END IF;
    IF digit IS NOT NULL AND digit IS DISTINCT FROM last THEN code := code || digit; END IF;
    last := digit; parted := false;
  END LOOP;
  RETURN rpad(code, 4, '0');
END $f$"""
POSTGRES_SETUP = (
    _POSTGRES_SOUNDEX,
    "CREATE OR REPLACE FUNCTION public.shiftflow_difference(a text, b text) RETURNS integer LANGUAGE sql IMMUTABLE"
    " STRICT AS $f$ SELECT CASE WHEN x = '' AND y = '' THEN 1 WHEN x = '' OR y = '' THEN 0 ELSE (SELECT count(*)"
    " FROM generate_series(1, 4) AS i WHERE substr(x, i, 1) = substr(y, i, 1))::integer END"
    " FROM (SELECT public.shiftflow_soundex(a) AS x, public.shiftflow_soundex(b) AS y) AS codes $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_concat_text(x anyelement) RETURNS text LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT x::text $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_concat_text(x bytea) RETURNS text LANGUAGE plpgsql IMMUTABLE"
    f" AS $f$ BEGIN RAISE EXCEPTION '{_VARBYTE_CONCAT}'; END $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_bpcharcmp(a bpchar, b bpchar) RETURNS integer LANGUAGE sql"
    """ IMMUTABLE AS $f$ SELECT sign(bpcharcmp(a COLLATE "C", b COLLATE "C"))::integer $f$""",
    "CREATE OR REPLACE FUNCTION public.shiftflow_rtrim(x text) RETURNS text LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT rtrim(x, ' ') $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_rtrim(x anyelement) RETURNS anyelement LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT x $f$",
    # text + text concatenates, as on Redshift (`firstname + ' ' + lastname`, r_NVL2.md): an operator of schema
    # public, which PostgreSQL picks only where one operand is text and the other text or an untyped literal (an
    # integer + '1' stays an addition); after a script's SET search_path without public it is not found.
    "CREATE OR REPLACE FUNCTION public.shiftflow_text_plus(a text, b text) RETURNS text LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT a || b $f$",
    "DO $f$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_operator WHERE oprname = '+' AND oprleft = 'text'::regtype"
    " AND oprright = 'text'::regtype) THEN CREATE OPERATOR public.+ (LEFTARG = text, RIGHTARG = text,"
    " FUNCTION = public.shiftflow_text_plus); END IF; END $f$",
    # The catalogs' one-byte "char" (pg_class.relkind) casts to text as implicitly as it matches anyelement.
    "CREATE OR REPLACE FUNCTION public.shiftflow_rtrim(x \"char\") RETURNS \"char\" LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT x $f$",
)
