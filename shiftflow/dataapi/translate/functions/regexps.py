"""The parameters of REGEXP_COUNT, REGEXP_INSTR, REGEXP_REPLACE and REGEXP_SUBSTR (REGEXP_*.md): c (case-sensitive),
i (case-insensitive), e (the first subexpression), p (the pattern is PCRE). The families' interface.

PostgreSQL 16 has the four functions with Redshift's positions and occurrences; its regular expressions take the
PCRE constructs Redshift's examples use (look-ahead), so p is dropped and e becomes the subexpression argument.
DuckDB's (RE2) has no look-around or back-references: p is dropped when the pattern has none, and refused
otherwise; sqlglot translates the rest.

REGEXP_SUBSTR answers an empty string when nothing matches (as when the position is past the end, REGEXP_SUBSTR.md)
and NULL when the occurrence is below 1 or above the source's length; the engines answer NULL (PostgreSQL, DuckDB
with an occurrence) or '' (DuckDB without parameters) for no match.
"""

from __future__ import annotations

import re

from sqlglot import exp

from shiftflow.dataapi.translate.model import NotSupportedLocally

_PARAMETER_ARG = {exp.RegexpExtract: "parameters", exp.RegexpCount: "parameters", exp.RegexpInstr: "parameters",
                  exp.RegexpReplace: "modifiers"}
_RE2_LACKS = re.compile(r"\(\?[=!<]|\\[1-9]")  # look-ahead, look-behind, back-references
_GROUP = re.compile(r"(?<!\\)\((?!\?)")


def _regexp(node: exp.Expression, engine: str) -> exp.Expression:
    if engine == "duckdb" and _may_be_case_insensitive(node):
        return _either_case(node)
    return _one_case(node, engine)


def _may_be_case_insensitive(node: exp.Expression) -> bool:
    """A column (whose collation may be case_insensitive) against a pattern with letters, case not chosen by c / i."""
    parameters, pattern = node.args.get(_PARAMETER_ARG[type(node)]), node.expression
    flags = parameters.this.lower() if isinstance(parameters, exp.Literal) and parameters.is_string else None
    return (isinstance(node.this, exp.Column) and (parameters is None or (flags is not None and not set("ci") & set(flags)))
            and isinstance(pattern, exp.Literal) and pattern.is_string and pattern.this.lower() != pattern.this.upper())


def _either_case(node: exp.Expression) -> exp.Expression:
    """On a case_insensitive column, Redshift's REGEXP_* functions match regardless of case (r_CREATE_DATABASE.md).
    DuckDB's ignore collations: a value equal, under its own collation, to both its upper and lower case is a
    NOCASE one (or has no letters, where i changes nothing), and the call then takes the i parameter."""
    argument = _PARAMETER_ARG[type(node)]
    parameters = node.args.get(argument)
    insensitive = node.copy()
    insensitive.set(argument, exp.Literal.string((parameters.this if parameters is not None else "") + "i"))
    subject = node.this
    nocase = exp.and_(exp.EQ(this=subject.copy(), expression=exp.Upper(this=subject.copy())),
                      exp.EQ(this=subject.copy(), expression=exp.Lower(this=subject.copy())))
    return exp.Case(ifs=[exp.If(this=nocase, true=_one_case(insensitive, "duckdb"))],
                    default=_one_case(node.copy(), "duckdb"))


def _one_case(node: exp.Expression, engine: str) -> exp.Expression:
    rewritten = _regexp_call(node, engine)
    if isinstance(node, exp.RegexpExtract) and rewritten is not node:
        return _empty_when_unmatched(rewritten, node)
    return rewritten


def _empty_when_unmatched(result: exp.Expression, node: exp.RegexpExtract) -> exp.Expression:
    source, pattern = node.this, node.expression
    occurrence = node.args.get("occurrence") or exp.Literal.number(1)
    ignored = exp.or_(exp.LT(this=occurrence.copy(), expression=exp.Literal.number(1)),
                      exp.GT(this=occurrence.copy(), expression=exp.Length(this=source.copy())))
    return exp.Case(ifs=[exp.If(this=exp.or_(exp.Is(this=source.copy(), expression=exp.null()),
                                             exp.Is(this=pattern.copy(), expression=exp.null())), true=exp.null()),
                         exp.If(this=ignored, true=exp.null())],
                    default=exp.func("coalesce", result, exp.Literal.string("")))


def _regexp_call(node: exp.Expression, engine: str) -> exp.Expression:
    argument = _PARAMETER_ARG[type(node)]
    parameters = node.args.get(argument)
    if parameters is None:
        # sqlglot's regexp_extract does not exist on PostgreSQL, and its regexp_replace replaces the first match
        # only on both engines (Redshift replaces every one)
        if engine == "postgres":
            return _postgres(node, "")
        if isinstance(node, exp.RegexpExtract) and (node.args.get("position") or node.args.get("occurrence")):
            return _duckdb_substr(node, "")  # sqlglot's DuckDB form drops the position
        return _duckdb_replace(node, "") if isinstance(node, exp.RegexpReplace) else node
    if not (isinstance(parameters, exp.Literal) and parameters.is_string):
        raise NotSupportedLocally("REGEXP parameters that are not a literal")
    flags = parameters.this.lower()
    unknown = set(flags) - set("cipe")
    if unknown:
        raise NotSupportedLocally(f"REGEXP parameter(s) '{''.join(sorted(unknown))}'")
    if engine == "postgres":
        return _postgres(node, flags)
    if "p" in flags:
        pattern = node.expression
        if not (isinstance(pattern, exp.Literal) and pattern.is_string) or _RE2_LACKS.search(pattern.this):
            raise NotSupportedLocally("a PCRE pattern with look-around or back-references on the DuckDB engine")
        flags = flags.replace("p", "")
        node.set(argument, exp.Literal.string(flags) if flags else None)
    if isinstance(node, exp.RegexpExtract) and flags:
        return _duckdb_substr(node, flags)
    if isinstance(node, exp.RegexpReplace):
        return _duckdb_replace(node, flags)
    return node


def _duckdb_replace(node: exp.RegexpReplace, flags: str) -> exp.Expression:
    """Every occurrence from the position on is replaced (sqlglot drops the g option when parameters are given)."""
    one = exp.Literal.number(1)
    position = node.args.get("position") or one
    options = exp.Literal.string("g" + ("i" if "i" in flags else ""))
    replaced = exp.Anonymous(this="regexp_replace", expressions=[
        exp.Substring(this=node.this, start=position), node.expression,
        node.args.get("replacement") or exp.Literal.string(""), options])
    head = exp.Substring(this=node.this.copy(), start=one, length=exp.Sub(this=position.copy(), expression=one))
    return exp.DPipe(this=head, expression=replaced, safe=True)


def _duckdb_substr(node: exp.RegexpExtract, flags: str) -> exp.Expression:
    """REGEXP_SUBSTR with parameters (sqlglot passes them to DuckDB as the group): the occurrence-th match of
    the pattern from the position on, its first subexpression with e, case-insensitive with i."""
    one = exp.Literal.number(1)
    source = exp.Substring(this=node.this, start=node.args.get("position") or one)
    group = exp.Literal.number(1 if "e" in flags and _has_group(node.expression) else 0)
    options = exp.Literal.string("i" if "i" in flags else "")
    matches = exp.Anonymous(this="regexp_extract_all", expressions=[source, node.expression, group, options])
    return exp.Anonymous(this="list_extract", expressions=[matches, node.args.get("occurrence") or one])


def _postgres(node: exp.Expression, flags: str) -> exp.Expression:
    """PostgreSQL's own regexp_* call: flags without e and p (c and i are its own), e as the subexpression."""
    pg_flags = exp.Literal.string(flags.replace("e", "").replace("p", ""))
    pattern = node.expression
    subexpression = exp.Literal.number(1 if "e" in flags and _has_group(pattern) else 0)
    one = exp.Literal.number(1)
    source, position = node.this, node.args.get("position") or one
    if isinstance(node, exp.RegexpCount):
        return exp.Anonymous(this="regexp_count", expressions=[source, pattern, position, pg_flags])
    if isinstance(node, exp.RegexpReplace):
        replacement = node.args.get("replacement") or exp.Literal.string("")
        # Redshift replaces every occurrence: PostgreSQL's N = 0.
        return exp.Anonymous(this="regexp_replace", expressions=[
            source, pattern, replacement, position, exp.Literal.number(0), pg_flags])
    occurrence = node.args.get("occurrence") or one
    if isinstance(node, exp.RegexpInstr):
        option = node.args.get("option") or exp.Literal.number(0)
        return exp.Anonymous(this="regexp_instr", expressions=[
            source, pattern, position, occurrence, option, pg_flags, subexpression])
    return exp.Anonymous(this="regexp_substr", expressions=[
        source, pattern, position, occurrence, pg_flags, subexpression])


def _has_group(pattern: exp.Expression) -> bool:
    return not (isinstance(pattern, exp.Literal) and pattern.is_string) or bool(_GROUP.search(pattern.this))


PARSER_FUNCTIONS: dict = {}
HANDLERS = {kind: _regexp for kind in _PARAMETER_ARG}
COLUMN_NAMES = {exp.RegexpExtract: "regexp_substr", exp.RegexpCount: "regexp_count",
                exp.RegexpInstr: "regexp_instr", exp.RegexpReplace: "regexp_replace"}
DUCKDB_SETUP: tuple[str, ...] = ()
POSTGRES_SETUP: tuple[str, ...] = ()
