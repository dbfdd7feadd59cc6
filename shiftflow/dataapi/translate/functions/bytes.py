"""String functions over a string's bytes (r_MD5.md, SHA1.md, r_OCTET_LENGTH.md); the families' interface.

- MD5(string): Redshift converts a non-text argument to VARCHAR (md5(123) is md5('123')); the engines have md5 of
  text and of bytes only, so a visibly non-text argument is cast.
- SHA1(string) and its synonym FUNC_SHA1 (FUNC_SHA1.md): the 40 hexadecimal digits of the SHA-1 of the text's UTF-8
  bytes, a non-text argument cast as MD5's; DuckDB's sha1, PostgreSQL a plpgsql SHA-1 (it has no sha1, and
  pgcrypto does not install with pgserver), named sha1 / func_sha1 unaliased.
- OCTET_LENGTH(string): DuckDB's counts the bytes of BLOBs only: a helper counts a string's UTF-8 bytes.
  PostgreSQL's counts a CHAR value's padding, which Redshift's does not ("Length calculations do not count
  trailing spaces for fixed-length character strings", r_OCTET_LENGTH.md): its helper counts a CHAR as text.
- TO_HEX(integer | varbyte) and FROM_HEX(text) (r_TO_HEX.md, r_FROM_HEX.md): PostgreSQL's to_hex takes integers
  only and it has no from_hex: a helper per argument type, and decode(text, 'hex').
- TO_VARBYTE(string, 'hex' | 'binary' | 'utf8' | 'base64') (r_TO_VARBYTE.md): hex and binary digits padded on the
  left to whole bytes ('4' is 04; on DuckDB a literal format is its own macro, and an unknown one fails when the
  statement is translated); GETBIT(varbyte, index) counts bits from the rightmost (r_GETBIT.md); FROM_HEX
  is PostgreSQL's decode(text, 'hex'). VARBYTE is DuckDB's BLOB, PostgreSQL's bytea.
- VARBYTE operators (r_VARBYTE_OPERATORS.md): + concatenates, & | ~ work bit by bit, LEN counts bytes
  (r_LEN.md: strings.py's LEN). The engines have none of them for binary values: they are rewritten where an
  operand is visibly a VARBYTE (a cast to VARBYTE, TO_VARBYTE, FROM_HEX, or such an operator's result).
  PostgreSQL also has them as operators of the set-up, so VARBYTE columns combine there too; on DuckDB, a column
  whose type the translation cannot see keeps the engine's "no function matches" error. Comparisons and || are the
  engines' own.
"""

from __future__ import annotations

from sqlglot import exp

from shiftflow.dataapi.engines.base import EngineError

_VARBYTE_TYPES = {exp.DataType.Type.VARBINARY, exp.DataType.Type.BINARY}
_TEXT_TYPES = {exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR, exp.DataType.Type.TEXT, exp.DataType.Type.NCHAR,
               exp.DataType.Type.NVARCHAR, exp.DataType.Type.BPCHAR, exp.DataType.Type.VARBINARY,
               exp.DataType.Type.BINARY}


def _md5(node: exp.MD5, engine: str) -> exp.Expression:
    argument = node.this
    if _is_not_text(argument):
        node.set("this", exp.cast(argument, exp.DataType.Type.VARCHAR))
    return node


def _sha1(node: exp.Expression, engine: str) -> exp.Expression:
    """exp.SHA (sqlglot's SHA1) or func_sha1(x)."""
    arguments = [node.this] if isinstance(node, exp.SHA) else list(node.expressions)
    if len(arguments) != 1:
        return node  # the engine's error
    argument = exp.cast(arguments[0], exp.DataType.Type.VARCHAR) if _is_not_text(arguments[0]) else arguments[0]
    return exp.Anonymous(this="sha1" if engine == "duckdb" else "shiftflow_sha1", expressions=[argument])


def _is_not_text(node: exp.Expression) -> bool:
    """Visibly a number, boolean, date ... (a column's type is unknown here: it is left to the engine)."""
    if isinstance(node, exp.Literal):
        return not node.is_string
    if isinstance(node, exp.Cast):
        return node.to.this not in _TEXT_TYPES
    return isinstance(node, (exp.Boolean, exp.Binary, exp.Neg)) and not isinstance(node, exp.DPipe)


def _octet_length(node: exp.Anonymous, engine: str) -> exp.Expression:
    if engine == "postgres" and node.find_ancestor(exp.CheckColumnConstraint):
        return node  # the translator's length CHECK of a column (rewrite.py): PostgreSQL's own count of its bytes
    if len(node.expressions) == 1:
        return exp.Anonymous(this="shiftflow_octet_length", expressions=node.expressions)
    return node


def _to_hex(node: exp.LowerHex, engine: str) -> exp.Expression:
    if engine != "postgres":
        return node
    return exp.Anonymous(this="shiftflow_to_hex", expressions=[node.this])


def _to_varbyte(node: exp.Anonymous, engine: str) -> exp.Expression:
    if len(node.expressions) != 2:
        return node
    string, form = node.expressions
    known = _VARBYTE_FORMATS.get(form.name.lower()) if isinstance(form, exp.Literal) and form.is_string else None
    if engine == "duckdb" and isinstance(form, exp.Literal) and form.is_string:
        # The format's own macro: no error() branch, so TRY can take it (CAN_JSON_PARSE, super.py); an unknown
        # one fails here with the message of the macro's error(), which TRY would refuse.
        if not known:
            raise EngineError(f"invalid format for to_varbyte: {form.name}")
        return _varbyte(exp.Anonymous(this=f"shiftflow_to_varbyte_{known}", expressions=[string]))
    return _varbyte(exp.Anonymous(this="shiftflow_to_varbyte", expressions=node.expressions))


# TO_VARBYTE's formats (r_TO_VARBYTE.md) -> the DuckDB macro of each.
_VARBYTE_FORMATS = {"hex": "hex", "binary": "binary", "utf8": "utf8", "utf-8": "utf8", "base64": "base64"}


def _from_hex(node: exp.Anonymous, engine: str) -> exp.Expression:
    if engine != "postgres" or len(node.expressions) != 1:
        return _varbyte(node)  # DuckDB's own
    return _varbyte(exp.Anonymous(this="decode", expressions=[node.expressions[0], exp.Literal.string("hex")]))


def _varbyte(node: exp.Expression) -> exp.Expression:
    """`node` marked as a VARBYTE value, for the operators around it (they are rewritten after it)."""
    node.meta["varbyte"] = True
    return node


def is_varbyte(node: exp.Expression) -> bool:
    """Visibly a VARBYTE value: a cast to VARBYTE, a function or operator this module marked as one."""
    if isinstance(node, exp.Paren):
        return is_varbyte(node.this)
    if isinstance(node, exp.Cast):
        return node.to.this in _VARBYTE_TYPES
    return bool(node.meta.get("varbyte"))


def _concatenation(node: exp.Add, engine: str) -> exp.Expression:
    """VARBYTE + VARBYTE is their concatenation."""
    if not (is_varbyte(node.this) and is_varbyte(node.expression)):
        return node
    return _varbyte(exp.DPipe(this=node.this, expression=node.expression))


def _bitwise(node: exp.Expression, engine: str) -> exp.Expression:
    """VARBYTE & | ~ VARBYTE bit by bit: DuckDB's over BIT strings, PostgreSQL's over varbit (helpers below)."""
    operands = [node.this] if isinstance(node, exp.BitwiseNot) else [node.this, node.expression]
    if not all(is_varbyte(operand) for operand in operands):
        return node
    if engine == "duckdb":  # sqlglot casts BLOB operands to BIT itself; the result back to a BLOB
        return _varbyte(node if isinstance(node, exp.BitwiseNot) else exp.cast(node, exp.DataType.Type.VARBINARY))
    name = {exp.BitwiseAnd: "and", exp.BitwiseOr: "or", exp.BitwiseNot: "not"}[type(node)]
    return _varbyte(exp.Anonymous(this=f"shiftflow_varbyte_{name}", expressions=operands))


def _length(node: exp.Length, engine: str) -> exp.Expression:
    """LEN / LENGTH of a VARBYTE: its bytes (DuckDB's length takes text only)."""
    if engine != "duckdb" or not is_varbyte(node.this):
        return node
    return exp.Anonymous(this="octet_length", expressions=[node.this])


def _getbit(node: exp.Getbit, engine: str) -> exp.Expression:
    """Redshift's GETBIT counts from the rightmost bit (the engines' get_bit do not)."""
    return exp.Anonymous(this="shiftflow_getbit", expressions=[node.this, node.expression])


PARSER_FUNCTIONS: dict = {}
HANDLERS = {exp.MD5: _md5, exp.SHA: _sha1, "func_sha1": _sha1, "octet_length": _octet_length, exp.LowerHex: _to_hex, "to_varbyte": _to_varbyte,
            exp.Getbit: _getbit, "from_hex": _from_hex, exp.Add: _concatenation,
            **dict.fromkeys((exp.BitwiseAnd, exp.BitwiseOr, exp.BitwiseNot), _bitwise)}
COLUMN_NAMES = {exp.MD5: "md5", exp.SHA: "sha1", "func_sha1": "func_sha1", "octet_length": "octet_length", exp.LowerHex: "to_hex", "to_varbyte": "to_varbyte",
                exp.Getbit: "getbit", "from_hex": "from_hex"}
DUCKDB_SETUP: tuple[str, ...] = (
    # VARBYTE is a BLOB: its own octet_length; text: its UTF-8 bytes (strlen), as an INTEGER like Redshift's.
    "CREATE OR REPLACE TEMP MACRO shiftflow_octet_length(x) AS CAST(CASE WHEN typeof(x) = 'BLOB'"
    " THEN octet_length(CAST(x AS BLOB)) ELSE strlen(CAST(x AS VARCHAR)) END AS INTEGER)",
    # One macro per format (a literal format calls its own: the error() of an unknown one is volatile, which TRY
    # refuses around it, CAN_JSON_PARSE's), and the one that dispatches a format known when it runs.
    "CREATE OR REPLACE TEMP MACRO shiftflow_to_varbyte_hex(s) AS"
    " unhex(lpad(s, CAST((length(s) + 1) // 2 * 2 AS INTEGER), '0'))",
    "CREATE OR REPLACE TEMP MACRO shiftflow_to_varbyte_binary(s) AS"
    " CAST(CAST(lpad(s, CAST((length(s) + 7) // 8 * 8 AS INTEGER), '0') AS BIT) AS BLOB)",
    "CREATE OR REPLACE TEMP MACRO shiftflow_to_varbyte_utf8(s) AS encode(s)",
    "CREATE OR REPLACE TEMP MACRO shiftflow_to_varbyte_base64(s) AS from_base64(s)",
    "CREATE OR REPLACE TEMP MACRO shiftflow_to_varbyte(s, f) AS CASE lower(f)"
    " WHEN 'hex' THEN shiftflow_to_varbyte_hex(s) WHEN 'binary' THEN shiftflow_to_varbyte_binary(s)"
    " WHEN 'utf8' THEN shiftflow_to_varbyte_utf8(s) WHEN 'utf-8' THEN shiftflow_to_varbyte_utf8(s)"
    " WHEN 'base64' THEN shiftflow_to_varbyte_base64(s) ELSE error('invalid format for to_varbyte: ' || f) END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_getbit(b, i) AS"
    " get_bit(CAST(b AS BIT), CAST(bit_length(CAST(b AS BIT)) - 1 - i AS INTEGER))",
)
_U32 = 4294967295
# FIPS 180-4's SHA-1 over 32-bit words kept in bigint (the message padded with 0x80, zeros and its bit length).
_POSTGRES_SHA1 = f"""CREATE OR REPLACE FUNCTION public.shiftflow_sha1(x text) RETURNS text LANGUAGE plpgsql IMMUTABLE
STRICT AS $f$ DECLARE m bytea := convert_to(x, 'UTF8'); bits bigint := octet_length(convert_to(x, 'UTF8')) * 8;
  h bigint[] := ARRAY[1732584193, 4023233417, 2562383102, 271733878, 3285377520]; w bigint[];
  a bigint; b bigint; c bigint; d bigint; e bigint; f bigint; k bigint; t bigint; p int;
BEGIN
  m := m || '\\x80'::bytea;
  WHILE length(m) % 64 <> 56 LOOP m := m || '\\x00'::bytea; END LOOP;
  m := m || int8send(bits);
  FOR block IN 0 .. length(m) / 64 - 1 LOOP
    w := array_fill(0::bigint, ARRAY[80]);
    FOR i IN 0 .. 15 LOOP
      p := block * 64 + i * 4;
      w[i + 1] := (get_byte(m, p)::bigint << 24) | (get_byte(m, p + 1)::bigint << 16)
                  | (get_byte(m, p + 2)::bigint << 8) | get_byte(m, p + 3);
    END LOOP;
    FOR i IN 16 .. 79 LOOP
      t := w[i - 2] # w[i - 7] # w[i - 13] # w[i - 15];
      w[i + 1] := ((t << 1) | (t >> 31)) & {_U32};
    END LOOP;
    a := h[1]; b := h[2]; c := h[3]; d := h[4]; e := h[5];
    FOR i IN 0 .. 79 LOOP
      IF i < 20 THEN f := (b & c) | ((b # {_U32}) & d); k := 1518500249;
      ELSIF i < 40 THEN f := b # c # d; k := 1859775393;
      ELSIF i < 60 THEN f := (b & c) | (b & d) | (c & d); k := 2400959708;
      ELSE f := b # c # d; k := 3395469782;
      END IF;
      t := ((((a << 5) | (a >> 27)) & {_U32}) + f + e + k + w[i + 1]) & {_U32};
      e := d; d := c; c := ((b << 30) | (b >> 2)) & {_U32}; b := a; a := t;
    END LOOP;
    h := ARRAY[(h[1] + a) & {_U32}, (h[2] + b) & {_U32}, (h[3] + c) & {_U32}, (h[4] + d) & {_U32},
               (h[5] + e) & {_U32}];
  END LOOP;
  RETURN (SELECT string_agg(lpad(to_hex(v), 8, '0'), '' ORDER BY n) FROM unnest(h) WITH ORDINALITY AS u(v, n));
END $f$"""
POSTGRES_SETUP: tuple[str, ...] = (
    _POSTGRES_SHA1,
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_octet_length(x {argument}) RETURNS integer LANGUAGE sql"
      f" IMMUTABLE AS $f$ SELECT octet_length(x{cast}) $f$"
      for argument, cast in (("text", ""), ("character", "::text"), ("bytea", ""))),
    """CREATE OR REPLACE FUNCTION public.shiftflow_to_varbyte(s text, f text) RETURNS bytea LANGUAGE plpgsql IMMUTABLE
AS $f$ DECLARE bits text; result bytea := ''::bytea;
BEGIN
  CASE lower(f)
  WHEN 'hex' THEN RETURN decode(lpad(s, (ceil(length(s) / 2.0) * 2)::int, '0'), 'hex');
  WHEN 'binary' THEN
    bits := lpad(s, (ceil(length(s) / 8.0) * 8)::int, '0');
    FOR i IN 0 .. length(bits) / 8 - 1 LOOP
      result := result || set_byte('\\x00'::bytea, 0, substr(bits, i * 8 + 1, 8)::bit(8)::int);
    END LOOP;
    RETURN result;
  WHEN 'utf8', 'utf-8' THEN RETURN convert_to(s, 'UTF8');
  WHEN 'base64' THEN RETURN decode(s, 'base64');
  ELSE RAISE EXCEPTION 'invalid format for to_varbyte: %', f;
  END CASE;
END $f$""",
    # PostgreSQL's get_bit counts from the first byte's least significant bit
    "CREATE OR REPLACE FUNCTION public.shiftflow_getbit(b bytea, i integer) RETURNS integer LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT get_bit(b, (length(b) - 1 - i / 8) * 8 + i % 8) $f$",
    # VARBYTE & | ~ (bytes as varbit: 'x6162'::varbit is 0110000101100010) and back through shiftflow_to_varbyte.
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_varbyte_{name}({arguments}) RETURNS bytea LANGUAGE sql IMMUTABLE"
      f" AS $f$ SELECT public.shiftflow_to_varbyte(({bits})::text, 'binary') $f$"
      for name, arguments, bits in (
          ("and", "a bytea, b bytea", "('x' || encode(a, 'hex'))::varbit & ('x' || encode(b, 'hex'))::varbit"),
          ("or", "a bytea, b bytea", "('x' || encode(a, 'hex'))::varbit | ('x' || encode(b, 'hex'))::varbit"),
          ("not", "a bytea", "~('x' || encode(a, 'hex'))::varbit"))),
    # and as operators, for VARBYTE columns the translation cannot see (found on the search path, as text + text is)
    *(f"DO $f$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_operator WHERE oprname = '{operator}'"
      f" AND oprleft = {left} AND oprright = 'bytea'::regtype) THEN CREATE OPERATOR public.{operator} ({arguments},"
      f" FUNCTION = {function}); END IF; END $f$"
      for operator, left, arguments, function in (
          ("+", "'bytea'::regtype", "LEFTARG = bytea, RIGHTARG = bytea", "byteacat"),
          ("&", "'bytea'::regtype", "LEFTARG = bytea, RIGHTARG = bytea", "public.shiftflow_varbyte_and"),
          ("|", "'bytea'::regtype", "LEFTARG = bytea, RIGHTARG = bytea", "public.shiftflow_varbyte_or"),
          ("~", "0", "RIGHTARG = bytea", "public.shiftflow_varbyte_not"))),
    "CREATE OR REPLACE FUNCTION public.shiftflow_to_hex(x bigint) RETURNS text LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT to_hex(x) $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_to_hex(x bytea) RETURNS text LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT encode(x, 'hex') $f$",
)
