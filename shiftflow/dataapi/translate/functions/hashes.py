"""Redshift's non-cryptographic hash functions (r_FNV_HASH.md, r_FARMFINGERPRINT64.md: BIGINT results;
crc32-function.md).

- FNV_HASH(value [, seed]): 64-bit FNV-1a over the value's binary representation, from the seed (default the FNV
  offset basis), so that fnv_hash('cd', fnv_hash('ab')) is fnv_hash('abcd'). SMALLINT, INTEGER and BIGINT are
  hashed as 2, 4 and 8 little-endian bytes (the page's fnv_hash(1::smallint), fnv_hash(1), fnv_hash(1::bigint)),
  text as its UTF-8 bytes, trailing blanks included, VARBYTE as its bytes. The page does not show the bytes of
  other types (DECIMAL, floats, dates, BOOLEAN): they fail with "not supported locally".
- FARMFINGERPRINT64(VARCHAR | VARBYTE): farmhash's Fingerprint64 (farmhashna::Hash64) of the bytes (a CHAR's
  with its blanks, as FNV_HASH's: the page does not say).
- MURMUR3_32_HASH(value [, seed]) (MURMUR3_32_HASH.md): MurmurHash3 x86_32 of the value's bytes in Apache Iceberg's
  32-bit hash specification (appendix B), an INT; the seed (an INT, default 0) is MurmurHash3's own seed, its 32
  bits. INTEGER and BIGINT are hashed as 8 little-endian bytes (Iceberg hashes an int as its long), text as its
  UTF-8 bytes (a CHAR's with its blanks, as FNV_HASH's), VARBYTE as its bytes. The live page's values:
  murmur3_32_hash(1) is 1392991556, ('Amazon Redshift') -1563580564, ('abcd') 1139631978, ('cd',
  murmur3_32_hash('ab')) 1711522338; its ('Amazon Redshift', murmur3_32_hash(1)), -1346554171, is not what the
  seed rule gives (-1713130188), nor any seed the page's values lead to (the corpus's older copy of the page printed
  FNV_HASH's values): the seeded form fails with "not supported locally" rather than risk a different answer. SMALLINT and the other types (Iceberg has no SMALLINT; the page names no bytes for DECIMAL,
  floats, dates ...) fail with "not supported locally".
- CRC32(string): CRC-32C (the Castagnoli polynomial, as the page says) of the text's UTF-8 bytes, as 8 lower-case
  hexadecimal digits (crc32('Amazon Redshift') is f2726906). A value that is not text is read as its text (the
  argument is a VARCHAR), a CHAR's without its trailing blanks (its VARCHAR value on both engines).
On DuckDB the byte loops are Python functions registered on each database (DUCKDB_FUNCTIONS), fed by macros that
pick the bytes by the argument's type; on PostgreSQL, plpgsql over unsigned 64-bit arithmetic done in numeric
(bigint arithmetic raises on overflow; xor and shifts are bigint's own). A CHAR(n) value is hashed with its blanks:
PostgreSQL's bpchar has them; DuckDB's CHAR(n) columns are stored unpadded, and char_columns.py pads a table's
CHAR(n) column named directly as the argument (a CHAR value reached otherwise, through a view or an expression,
is hashed unpadded there: char_columns.py's limits).
"""

from __future__ import annotations

from sqlglot import exp

from shiftflow.dataapi.translate.model import NotSupportedLocally

_MASK = (1 << 64) - 1
_MASK32 = (1 << 32) - 1
_FNV_OFFSET_BASIS = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_K0, _K1, _K2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F


def _signed(value: int) -> int:
    """An unsigned 64-bit value as the BIGINT of the same bits."""
    return value - (1 << 64) if value >= 1 << 63 else value


def fnv1a(data: bytes, seed: int) -> int:
    """64-bit FNV-1a of `data` starting from `seed` (a BIGINT: its 64 bits)."""
    value = seed & _MASK
    for byte in data:
        value = ((value ^ byte) * _FNV_PRIME) & _MASK
    return _signed(value)


def _fetch64(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 8], "little")


def _fetch32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "little")


def _rotate(value: int, shift: int) -> int:
    return ((value >> shift) | (value << (64 - shift))) & _MASK


def _shift_mix(value: int) -> int:
    return value ^ (value >> 47)


def _hash16(u: int, v: int, mul: int) -> int:
    a = _shift_mix(((u ^ v) * mul) & _MASK)
    b = _shift_mix(((v ^ a) * mul) & _MASK)
    return (b * mul) & _MASK


def _hash0to16(data: bytes) -> int:
    length = len(data)
    if length >= 8:
        mul = _K2 + length * 2
        a = (_fetch64(data, 0) + _K2) & _MASK
        b = _fetch64(data, length - 8)
        c = (_rotate(b, 37) * mul + a) & _MASK
        d = ((_rotate(a, 25) + b) * mul) & _MASK
        return _hash16(c, d, mul)
    if length >= 4:
        mul = _K2 + length * 2
        return _hash16(length + (_fetch32(data, 0) << 3), _fetch32(data, length - 4), mul)
    if length > 0:
        y = data[0] + (data[length >> 1] << 8)
        z = length + (data[length - 1] << 2)
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _MASK) * _K2) & _MASK
    return _K2


def _hash17to32(data: bytes) -> int:
    length = len(data)
    mul = _K2 + length * 2
    a = (_fetch64(data, 0) * _K1) & _MASK
    b = _fetch64(data, 8)
    c = (_fetch64(data, length - 8) * mul) & _MASK
    d = (_fetch64(data, length - 16) * _K2) & _MASK
    return _hash16((_rotate((a + b) & _MASK, 43) + _rotate(c, 30) + d) & _MASK,
                   (a + _rotate((b + _K2) & _MASK, 18) + c) & _MASK, mul)


def _hash33to64(data: bytes) -> int:
    length = len(data)
    mul = _K2 + length * 2
    a = (_fetch64(data, 0) * _K2) & _MASK
    b = _fetch64(data, 8)
    c = (_fetch64(data, length - 8) * mul) & _MASK
    d = (_fetch64(data, length - 16) * _K2) & _MASK
    y = (_rotate((a + b) & _MASK, 43) + _rotate(c, 30) + d) & _MASK
    z = _hash16(y, (a + _rotate((b + _K2) & _MASK, 18) + c) & _MASK, mul)
    e = (_fetch64(data, 16) * mul) & _MASK
    f = _fetch64(data, 24)
    g = ((y + _fetch64(data, length - 32)) * mul) & _MASK
    h = ((z + _fetch64(data, length - 24)) * mul) & _MASK
    return _hash16((_rotate((e + f) & _MASK, 43) + _rotate(g, 30) + h) & _MASK,
                   (e + _rotate((f + a) & _MASK, 18) + g) & _MASK, mul)


def _weak32(data: bytes, at: int, a: int, b: int) -> tuple[int, int]:
    """farmhash's WeakHashLen32WithSeeds over data[at : at + 32]."""
    w, x, y, z = (_fetch64(data, at + i) for i in (0, 8, 16, 24))
    a = (a + w) & _MASK
    b = _rotate((b + a + z) & _MASK, 21)
    c = a
    a = (a + x + y) & _MASK
    b = (b + _rotate(a, 44)) & _MASK
    return (a + z) & _MASK, (b + c) & _MASK


def fingerprint64(data: bytes) -> int:
    """farmhash's Fingerprint64 of `data`, as a BIGINT."""
    length = len(data)
    if length <= 16:
        return _signed(_hash0to16(data))
    if length <= 32:
        return _signed(_hash17to32(data))
    if length <= 64:
        return _signed(_hash33to64(data))
    seed = 81
    y = (seed * _K1 + 113) & _MASK
    z = (_shift_mix((y * _K2 + 113) & _MASK) * _K2) & _MASK
    v, w = (0, 0), (0, 0)
    x = (seed * _K2 + _fetch64(data, 0)) & _MASK
    end = (length - 1) // 64 * 64  # then 1 to 64 bytes are left, hashed as the last 64
    for at in range(0, end, 64):
        x = (_rotate((x + y + v[0] + _fetch64(data, at + 8)) & _MASK, 37) * _K1) & _MASK
        y = (_rotate((y + v[1] + _fetch64(data, at + 48)) & _MASK, 42) * _K1) & _MASK
        x ^= w[1]
        y = (y + v[0] + _fetch64(data, at + 40)) & _MASK
        z = (_rotate((z + w[0]) & _MASK, 33) * _K1) & _MASK
        v = _weak32(data, at, (v[1] * _K1) & _MASK, (x + w[0]) & _MASK)
        w = _weak32(data, at + 32, (z + w[1]) & _MASK, (y + _fetch64(data, at + 16)) & _MASK)
        z, x = x, z
    mul = _K1 + ((z & 0xFF) << 1)
    at = length - 64
    first = (w[0] + ((length - 1) & 63)) & _MASK
    v = ((v[0] + first) & _MASK, v[1])
    w = ((first + v[0]) & _MASK, w[1])
    x = (_rotate((x + y + v[0] + _fetch64(data, at + 8)) & _MASK, 37) * mul) & _MASK
    y = (_rotate((y + v[1] + _fetch64(data, at + 48)) & _MASK, 42) * mul) & _MASK
    x ^= (w[1] * 9) & _MASK
    y = (y + v[0] * 9 + _fetch64(data, at + 40)) & _MASK
    z = (_rotate((z + w[0]) & _MASK, 33) * mul) & _MASK
    v = _weak32(data, at, (v[1] * mul) & _MASK, (x + w[0]) & _MASK)
    w = _weak32(data, at + 32, (z + w[1]) & _MASK, (y + _fetch64(data, at + 16)) & _MASK)
    z, x = x, z
    return _signed(_hash16((_hash16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & _MASK,
                           (_hash16(v[1], w[1], mul) + x) & _MASK, mul))


def murmur3_32(data: bytes, seed: int) -> int:
    """MurmurHash3 x86_32 of `data` from `seed` (an INT: its 32 bits), as an INT."""
    def mix(k: int) -> int:
        k = (k * 0xCC9E2D51) & _MASK32
        k = ((k << 15) | (k >> 17)) & _MASK32
        return (k * 0x1B873593) & _MASK32

    value, length = seed & _MASK32, len(data)
    whole = length - length % 4
    for at in range(0, whole, 4):
        value ^= mix(int.from_bytes(data[at : at + 4], "little"))
        value = ((value << 13) | (value >> 19)) & _MASK32
        value = (value * 5 + 0xE6546B64) & _MASK32
    if length % 4:
        value ^= mix(int.from_bytes(data[whole:], "little"))
    value ^= length
    value ^= value >> 16
    value = (value * 0x85EBCA6B) & _MASK32
    value ^= value >> 13
    value = (value * 0xC2B2AE35) & _MASK32
    value ^= value >> 16
    return value - (1 << 32) if value >= 1 << 31 else value


def _murmur3_32_hash(node: exp.Anonymous, engine: str) -> exp.Expression:
    arguments = list(node.expressions)
    if len(arguments) == 2:  # the page's two seeded examples follow no one rule (the docstring): refused
        raise NotSupportedLocally("murmur3_32_hash() with a seed (MURMUR3_32_HASH.md's seeded examples follow no one"
                                  " rule the emulator knows)")
    if len(arguments) != 1:
        return node  # the engine's error for the wrong number of arguments
    value, seed = arguments[0], exp.Literal.number(0)
    return exp.Anonymous(this="shiftflow_murmur3_32_hash", expressions=[value, exp.cast(seed, exp.DataType.Type.INT)])


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ (_CRC32C_POLYNOMIAL if value & 1 else 0)
        table.append(value)
    return tuple(table)


_CRC32C_POLYNOMIAL = 0x82F63B78  # CRC-32C (Castagnoli), reflected
_CRC32C = _crc32c_table()


def crc32c(data: bytes) -> str:
    """CRC-32C of `data` as Redshift's CRC32 prints it: 8 lower-case hexadecimal digits."""
    value = 0xFFFFFFFF
    for byte in data:
        value = (value >> 8) ^ _CRC32C[(value ^ byte) & 0xFF]
    return f"{value ^ 0xFFFFFFFF:08x}"


def _crc32(node: exp.Anonymous, engine: str) -> exp.Expression:
    if len(node.expressions) != 1:
        return node  # the engine's error for the wrong number of arguments
    return exp.Anonymous(this="shiftflow_crc32", expressions=[exp.cast(node.expressions[0], exp.DataType.Type.VARCHAR)])


def _fnv_hash(node: exp.Anonymous, engine: str) -> exp.Expression:
    arguments = list(node.expressions)
    if len(arguments) == 1:
        arguments.append(exp.Literal.number(_signed(_FNV_OFFSET_BASIS)))
    if len(arguments) != 2:
        return node  # the engine's error for the wrong number of arguments
    value, seed = arguments
    return exp.Anonymous(this="shiftflow_fnv_hash", expressions=[value, exp.cast(seed, exp.DataType.Type.BIGINT)])


def _farm_fingerprint(node: exp.Expression, engine: str) -> exp.Expression:
    return exp.Anonymous(this="shiftflow_farmfingerprint64", expressions=list(node.expressions))


HANDLERS = {"fnv_hash": _fnv_hash, "farmfingerprint64": _farm_fingerprint, "crc32": _crc32,
            "murmur3_32_hash": _murmur3_32_hash}
PARSER_FUNCTIONS = {"FARMFINGERPRINT64": lambda args: exp.Anonymous(this="farmfingerprint64", expressions=args)}
COLUMN_NAMES = {"fnv_hash": "fnv_hash", "farmfingerprint64": "farmfingerprint64", "crc32": "crc32",
                "murmur3_32_hash": "murmur3_32_hash"}
# DuckDB Python functions: name -> (function, parameter types, return type), registered on each database.
DUCKDB_FUNCTIONS = {
    "shiftflow_fnv1a": (fnv1a, ("BLOB", "BIGINT"), "BIGINT"),
    "shiftflow_fingerprint64": (fingerprint64, ("BLOB",), "BIGINT"),
    "shiftflow_crc32c": (crc32c, ("BLOB",), "VARCHAR"),
    "shiftflow_murmur3_32": (murmur3_32, ("BLOB", "INTEGER"), "INTEGER"),
}
# The argument's bytes by its type. Every branch must bind for any type, hence the casts through VARCHAR (a BLOB
# read back from its text is the same bytes): TRY_CASTs, as DuckDB folds constants in a branch not taken. Each
# macro names the seed once: fnv_hash(c, fnv_hash(b, fnv_hash(a))) would otherwise grow with every level.
_DUCKDB_INTEGER_BYTES = ("unhex(array_to_string(list_transform(range({width}), lambda i: printf('%02x',"
                         " (TRY_CAST(CAST(x AS VARCHAR) AS BIGINT) >> (8 * i)) & 255)), ''))")
DUCKDB_SETUP: tuple[str, ...] = (
    "CREATE OR REPLACE TEMP MACRO shiftflow_hash_bytes(x, f) AS CASE WHEN x IS NULL THEN NULL"
    " WHEN typeof(x) = 'VARCHAR' THEN encode(CAST(x AS VARCHAR))"
    " WHEN typeof(x) = 'BLOB' THEN TRY_CAST(CAST(x AS VARCHAR) AS BLOB)"
    + "".join(f" WHEN typeof(x) = '{t}' THEN {_DUCKDB_INTEGER_BYTES.format(width=w)}"
              for t, w in (("SMALLINT", 2), ("INTEGER", 4), ("BIGINT", 8)))
    + " ELSE error('not supported locally: ' || f || '() of ' || typeof(x) || ' (its bytes are not documented)') END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_fnv_hash(x, seed) AS shiftflow_fnv1a(shiftflow_hash_bytes(x, 'fnv_hash'),"
    " seed)",
    # MURMUR3_32_HASH: Iceberg's bytes; an INTEGER is hashed as its BIGINT
    "CREATE OR REPLACE TEMP MACRO shiftflow_murmur3_32_hash(x, seed) AS shiftflow_murmur3_32(CASE WHEN x IS NULL"
    " THEN NULL WHEN typeof(x) IN ('VARCHAR', 'BLOB') THEN shiftflow_hash_bytes(x, 'murmur3_32_hash')"
    f" WHEN typeof(x) IN ('INTEGER', 'BIGINT') THEN {_DUCKDB_INTEGER_BYTES.format(width=8)}"
    " ELSE error('not supported locally: murmur3_32_hash() of ' || typeof(x) || ' (its bytes are not documented)')"
    " END, seed)",
    "CREATE OR REPLACE TEMP MACRO shiftflow_crc32(x) AS shiftflow_crc32c(encode(x))",
    "CREATE OR REPLACE TEMP MACRO shiftflow_farmfingerprint64(x) AS shiftflow_fingerprint64(CASE"
    " WHEN typeof(x) IN ('VARCHAR', 'BLOB', 'NULL') THEN shiftflow_hash_bytes(x, 'farmfingerprint64')"
    " ELSE error('function farmfingerprint64(' || lower(typeof(x)) || ') does not exist') END)",
)

# PostgreSQL: unsigned 64-bit values kept in bigint's bits; products and sums wrap through numeric.
_U64_WRAP = """CREATE OR REPLACE FUNCTION public.shiftflow_u64(n numeric) RETURNS bigint LANGUAGE sql IMMUTABLE
AS $f$ SELECT (CASE WHEN m >= 9223372036854775808 THEN m - 18446744073709551616 ELSE m END)::bigint
FROM (SELECT mod(mod(n, 18446744073709551616) + 18446744073709551616, 18446744073709551616) AS m) AS wrapped $f$"""
_U64_OPERATIONS = (
    "CREATE OR REPLACE FUNCTION public.shiftflow_u64_mul(a bigint, b bigint) RETURNS bigint LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT public.shiftflow_u64(a::numeric * b::numeric) $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_u64_add(VARIADIC v bigint[]) RETURNS bigint LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT public.shiftflow_u64(sum(x::numeric)) FROM unnest(v) AS x $f$",
    # logical shift right and rotate right by 1 .. 63 bits
    "CREATE OR REPLACE FUNCTION public.shiftflow_u64_shr(a bigint, n int) RETURNS bigint LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT (a >> n) & ~((-1)::bigint << (64 - n)) $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_u64_rotate(a bigint, n int) RETURNS bigint LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT public.shiftflow_u64_shr(a, n) | (a << (64 - n)) $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_u64_fetch(d bytea, at int, width int) RETURNS bigint"
    " LANGUAGE sql IMMUTABLE AS $f$ SELECT bit_or(get_byte(d, at + i)::bigint << (8 * i))"
    " FROM generate_series(0, width - 1) AS i $f$",
)
_FNV = f"""CREATE OR REPLACE FUNCTION public.shiftflow_fnv1a(d bytea, seed bigint) RETURNS bigint LANGUAGE plpgsql
IMMUTABLE STRICT AS $f$ DECLARE h bigint := seed;
BEGIN
  FOR i IN 0 .. length(d) - 1 LOOP
    h := public.shiftflow_u64_mul(h # get_byte(d, i), {_FNV_PRIME});
  END LOOP;
  RETURN h;
END $f$"""
_LITTLE_ENDIAN = """CREATE OR REPLACE FUNCTION public.shiftflow_little_endian(x bigint, width int) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $f$ SELECT decode(string_agg(lpad(to_hex((x >> (8 * i)) & 255), 2, '0'), '' ORDER BY i),
'hex') FROM generate_series(0, width - 1) AS i $f$"""
_POSTGRES_FNV_ARGUMENTS = {  # argument type -> its bytes
    **{t: f"public.shiftflow_little_endian(x, {w})" for t, w in (("smallint", 2), ("integer", 4), ("bigint", 8))},
    "text": "convert_to(x, 'UTF8')",
    # the blank padding: its output function's text (format() of a NULL is '': NULL stays NULL)
    "character": "convert_to(CASE WHEN x IS NOT NULL THEN format('%s', x) END, 'UTF8')",
    "bytea": "x",
}
_K = {"k0": _signed(_K0), "k1": _signed(_K1), "k2": _signed(_K2)}
_MUL, _ADD, _ROT, _SMIX, _FETCH = (f"public.shiftflow_u64_{name}" for name in ("mul", "add", "rotate", "shift_mix",
                                                                             "fetch"))
_FARMHASH = (
    f"CREATE OR REPLACE FUNCTION {_SMIX}(v bigint) RETURNS bigint LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT v # public.shiftflow_u64_shr(v, 47) $f$",
    f"""CREATE OR REPLACE FUNCTION public.shiftflow_farm_hash16(u bigint, v bigint, mul bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $f$ SELECT {_MUL}({_SMIX}({_MUL}(v # a, mul)), mul)
FROM (SELECT {_SMIX}({_MUL}(u # v, mul)) AS a) AS first $f$""",
    f"""CREATE OR REPLACE FUNCTION public.shiftflow_farm_weak32(d bytea, p int, a bigint, b bigint, OUT r1 bigint,
OUT r2 bigint) LANGUAGE plpgsql IMMUTABLE AS $f$ DECLARE c bigint;
BEGIN
  a := {_ADD}(a, {_FETCH}(d, p, 8));
  b := {_ROT}({_ADD}(b, a, {_FETCH}(d, p + 24, 8)), 21);
  c := a;
  a := {_ADD}(a, {_FETCH}(d, p + 8, 8), {_FETCH}(d, p + 16, 8));
  b := {_ADD}(b, {_ROT}(a, 44));
  r1 := {_ADD}(a, {_FETCH}(d, p + 24, 8));
  r2 := {_ADD}(b, c);
END $f$""",
    # farmhashna::Hash64 (hashes.py's fingerprint64, line for line)
    f"""CREATE OR REPLACE FUNCTION public.shiftflow_farmfingerprint64(d bytea) RETURNS bigint LANGUAGE plpgsql
IMMUTABLE STRICT AS $f$ DECLARE
  n int := length(d); mul bigint; a bigint; b bigint; c bigint; e bigint; f bigint; g bigint; h bigint;
  x bigint; y bigint; z bigint; t bigint; v1 bigint := 0; v2 bigint := 0; w1 bigint := 0; w2 bigint := 0;
  p int := 0; stop int;
BEGIN
  IF n <= 16 THEN
    IF n >= 8 THEN
      mul := {_ADD}({_K['k2']}, n * 2);
      a := {_ADD}({_FETCH}(d, 0, 8), {_K['k2']});
      b := {_FETCH}(d, n - 8, 8);
      c := {_ADD}({_MUL}({_ROT}(b, 37), mul), a);
      RETURN public.shiftflow_farm_hash16(c, {_MUL}({_ADD}({_ROT}(a, 25), b), mul), mul);
    ELSIF n >= 4 THEN
      mul := {_ADD}({_K['k2']}, n * 2);
      RETURN public.shiftflow_farm_hash16(n + ({_FETCH}(d, 0, 4) << 3), {_FETCH}(d, n - 4, 4), mul);
    ELSIF n > 0 THEN
      a := get_byte(d, 0) + (get_byte(d, n >> 1) << 8);
      b := n + (get_byte(d, n - 1) << 2);
      RETURN {_MUL}({_SMIX}({_MUL}(a, {_K['k2']}) # {_MUL}(b, {_K['k0']})), {_K['k2']});
    END IF;
    RETURN {_K['k2']};
  END IF;
  mul := {_ADD}({_K['k2']}, n * 2);
  IF n <= 32 THEN
    a := {_MUL}({_FETCH}(d, 0, 8), {_K['k1']});
    b := {_FETCH}(d, 8, 8);
    c := {_MUL}({_FETCH}(d, n - 8, 8), mul);
    e := {_MUL}({_FETCH}(d, n - 16, 8), {_K['k2']});
    RETURN public.shiftflow_farm_hash16({_ADD}({_ROT}({_ADD}(a, b), 43), {_ROT}(c, 30), e),
                                         {_ADD}(a, {_ROT}({_ADD}(b, {_K['k2']}), 18), c), mul);
  END IF;
  IF n <= 64 THEN
    a := {_MUL}({_FETCH}(d, 0, 8), {_K['k2']});
    b := {_FETCH}(d, 8, 8);
    c := {_MUL}({_FETCH}(d, n - 8, 8), mul);
    e := {_MUL}({_FETCH}(d, n - 16, 8), {_K['k2']});
    y := {_ADD}({_ROT}({_ADD}(a, b), 43), {_ROT}(c, 30), e);
    z := public.shiftflow_farm_hash16(y, {_ADD}(a, {_ROT}({_ADD}(b, {_K['k2']}), 18), c), mul);
    e := {_MUL}({_FETCH}(d, 16, 8), mul);
    f := {_FETCH}(d, 24, 8);
    g := {_MUL}({_ADD}(y, {_FETCH}(d, n - 32, 8)), mul);
    h := {_MUL}({_ADD}(z, {_FETCH}(d, n - 24, 8)), mul);
    RETURN public.shiftflow_farm_hash16({_ADD}({_ROT}({_ADD}(e, f), 43), {_ROT}(g, 30), h),
                                         {_ADD}(e, {_ROT}({_ADD}(f, a), 18), g), mul);
  END IF;
  y := {_ADD}({_MUL}(81, {_K['k1']}), 113);
  z := {_MUL}({_SMIX}({_ADD}({_MUL}(y, {_K['k2']}), 113)), {_K['k2']});
  x := {_ADD}({_MUL}(81, {_K['k2']}), {_FETCH}(d, 0, 8));
  stop := (n - 1) / 64 * 64;
  WHILE p < stop LOOP
    x := {_MUL}({_ROT}({_ADD}(x, y, v1, {_FETCH}(d, p + 8, 8)), 37), {_K['k1']});
    y := {_MUL}({_ROT}({_ADD}(y, v2, {_FETCH}(d, p + 48, 8)), 42), {_K['k1']});
    x := x # w2;
    y := {_ADD}(y, v1, {_FETCH}(d, p + 40, 8));
    z := {_MUL}({_ROT}({_ADD}(z, w1), 33), {_K['k1']});
    SELECT * INTO v1, v2 FROM public.shiftflow_farm_weak32(d, p, {_MUL}(v2, {_K['k1']}), {_ADD}(x, w1));
    SELECT * INTO w1, w2 FROM public.shiftflow_farm_weak32(d, p + 32, {_ADD}(z, w2),
                                                           {_ADD}(y, {_FETCH}(d, p + 16, 8)));
    t := z; z := x; x := t;
    p := p + 64;
  END LOOP;
  mul := {_ADD}({_K['k1']}, (z & 255) << 1);
  p := n - 64;
  w1 := {_ADD}(w1, (n - 1) & 63);
  v1 := {_ADD}(v1, w1);
  w1 := {_ADD}(w1, v1);
  x := {_MUL}({_ROT}({_ADD}(x, y, v1, {_FETCH}(d, p + 8, 8)), 37), mul);
  y := {_MUL}({_ROT}({_ADD}(y, v2, {_FETCH}(d, p + 48, 8)), 42), mul);
  x := x # {_MUL}(w2, 9);
  y := {_ADD}(y, {_MUL}(v1, 9), {_FETCH}(d, p + 40, 8));
  z := {_MUL}({_ROT}({_ADD}(z, w1), 33), mul);
  SELECT * INTO v1, v2 FROM public.shiftflow_farm_weak32(d, p, {_MUL}(v2, mul), {_ADD}(x, w1));
  SELECT * INTO w1, w2 FROM public.shiftflow_farm_weak32(d, p + 32, {_ADD}(z, w2), {_ADD}(y, {_FETCH}(d, p + 16, 8)));
  t := z; z := x; x := t;
  RETURN public.shiftflow_farm_hash16(
    {_ADD}(public.shiftflow_farm_hash16(v1, w1, mul), {_MUL}({_SMIX}(y), {_K['k0']}), z),
    {_ADD}(public.shiftflow_farm_hash16(v2, w2, mul), x), mul);
END $f$""",
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_farmfingerprint64(x {t}) RETURNS bigint LANGUAGE sql IMMUTABLE"
      f" AS $f$ SELECT public.shiftflow_farmfingerprint64({_POSTGRES_FNV_ARGUMENTS[t]}) $f$"
      for t in ("text", "character")),
)
# CRC-32C, bit by bit (Redshift's CRC32 takes short strings); xor and shifts are bigint's own.
_CRC32 = f"""CREATE OR REPLACE FUNCTION public.shiftflow_crc32(x text) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT
AS $f$ DECLARE d bytea := convert_to(x, 'UTF8'); c bigint := 4294967295;
BEGIN
  FOR i IN 0 .. length(d) - 1 LOOP
    c := c # get_byte(d, i);
    FOR k IN 1 .. 8 LOOP
      c := (c >> 1) # (CASE WHEN c & 1 = 1 THEN {_CRC32C_POLYNOMIAL} ELSE 0 END);
    END LOOP;
  END LOOP;
  RETURN lpad(to_hex(c # 4294967295), 8, '0');
END $f$"""
# MurmurHash3 x86_32 over unsigned 32-bit values kept in bigint: a product split in 16-bit halves stays below 2^49.
_MURMUR3 = (
    "CREATE OR REPLACE FUNCTION public.shiftflow_u32_mul(a bigint, b bigint) RETURNS bigint LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT (a * (b & 65535) + (((a * (b >> 16)) & 65535) << 16)) & 4294967295 $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_u32_rotl(a bigint, n int) RETURNS bigint LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT ((a << n) | (a >> (32 - n))) & 4294967295 $f$",
    """CREATE OR REPLACE FUNCTION public.shiftflow_murmur3_32(d bytea, seed integer) RETURNS integer
LANGUAGE plpgsql IMMUTABLE STRICT AS $f$ DECLARE h bigint := seed::bigint & 4294967295; k bigint;
  n int := length(d); whole int := n - n % 4;
BEGIN
  FOR i IN 0 .. n - 1 LOOP
    IF i % 4 = 0 THEN k := 0; END IF;
    k := k | (get_byte(d, i)::bigint << (8 * (i % 4)));
    IF i % 4 = 3 OR i = n - 1 THEN
      k := public.shiftflow_u32_mul(public.shiftflow_u32_rotl(public.shiftflow_u32_mul(k, 3432918353), 15), 461845907);
      h := h # k;
      IF i < whole THEN
        h := (public.shiftflow_u32_mul(public.shiftflow_u32_rotl(h, 13), 5) + 3864292196) & 4294967295;
      END IF;
    END IF;
  END LOOP;
  h := h # n;
  h := h # (h >> 16);
  h := public.shiftflow_u32_mul(h, 2246822507);
  h := h # (h >> 13);
  h := public.shiftflow_u32_mul(h, 3266489909);
  h := h # (h >> 16);
  RETURN (CASE WHEN h >= 2147483648 THEN h - 4294967296 ELSE h END)::integer;
END $f$""",
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_murmur3_32_hash(x {t}, seed integer) RETURNS integer"
      f" LANGUAGE sql IMMUTABLE AS $f$ SELECT public.shiftflow_murmur3_32({b}, seed) $f$" for t, b in (
          ("integer", "public.shiftflow_little_endian(x, 8)"), ("bigint", "public.shiftflow_little_endian(x, 8)"),
          ("text", _POSTGRES_FNV_ARGUMENTS["text"]), ("character", _POSTGRES_FNV_ARGUMENTS["character"]),
          ("bytea", "x"))),
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_murmur3_32_hash(x {t}, seed integer) RETURNS integer"
      " LANGUAGE plpgsql IMMUTABLE AS $f$ BEGIN RAISE EXCEPTION"
      " 'not supported locally: murmur3_32_hash() of % (its bytes are not documented)', pg_typeof(x); END $f$"
      for t in ("smallint", "anyelement")),
)
POSTGRES_SETUP: tuple[str, ...] = (
    _U64_WRAP, _CRC32, *_U64_OPERATIONS, _FNV, _LITTLE_ENDIAN,
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_fnv_hash(x {t}, seed bigint) RETURNS bigint LANGUAGE sql"
      f" IMMUTABLE AS $f$ SELECT public.shiftflow_fnv1a({b}, seed) $f$" for t, b in _POSTGRES_FNV_ARGUMENTS.items()),
    # any other type: its bytes are not documented
    "CREATE OR REPLACE FUNCTION public.shiftflow_fnv_hash(x anyelement, seed bigint) RETURNS bigint LANGUAGE plpgsql"
    " IMMUTABLE AS $f$ BEGIN RAISE EXCEPTION 'not supported locally: fnv_hash() of % (its bytes are not documented)',"
    " pg_typeof(x); END $f$",
    *_FARMHASH,
    *_MURMUR3,
)
