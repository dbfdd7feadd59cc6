"""SUPER navigation and unnesting (PartiQL), casts from SUPER, and the VARBYTE functions streaming ingestion uses
(SQL reference: "Querying semistructured data", CAN_JSON_PARSE, FROM_VARBYTE).

A SUPER value is the engine's JSON value (DuckDB JSON, PostgreSQL json), as JSON_PARSE makes it. navigate() runs on
the parsed tree before identifiers are folded, because navigation is read from the names:
- `data."OrderID"` where `data` is no table or alias of the statement is the attribute OrderID of the column data
  (`data['OrderID']` alike, PartiQL's bracket form of an attribute);
  `a.payload.dynamodb` where `a` is an alias is column payload of a, then attribute dynamodb; brackets index arrays.
  Attribute names fold to lower case unless quoted while enable_case_sensitive_identifier is on, or keep their
  case as written while enable_case_sensitive_super_attribute is on (r_enable_case_sensitive_super_attribute.md;
  both read when the statement runs: shiftflow_setting_<name> on DuckDB, shiftflow.<name> on PostgreSQL).
  A missing attribute or element is NULL (navigate_super_null_on_error's default lax mode).
- A cast of a navigated value reads its scalar (a string's text, a number's digits; NULL for an object or array) and
  converts it laxly, NULL when it cannot (cast_super_null_on_error's default).
- A number or boolean inserted into a SUPER column is that scalar (PostgreSQL: assignment casts to json).
- `FROM t a, a.arr b` and `LEFT JOIN a."x"."L" b ON true` unnest the array: b is each element (NULL when the
  value is no array), and b."M" navigates into it; `a.arr AS b AT i` also gives i, the element's 0-based index
  (an INT: the page prints 0, 1, 2).
- ARRAY(...), ARRAY_CONCAT(a, b), SUBARRAY(a, start, length) and SPLIT_TO_ARRAY(text, delimiter) make SUPER arrays (JSON arrays, printed as JSON: [1,50,null,100]); a subscript
  of one of them is 0-based, as on Redshift (shiftflow_super_get with the JSONPath index as written). ARRAY_CONCAT
  of a value that is no array fails with "not supported locally".
- GET_ARRAY_LENGTH(array) (get_array_length.md) is its number of elements, a BIGINT; ARRAY_FLATTEN(array of arrays)
  (array_flatten.md) the elements of its arrays in order, one SUPER array. What the pages do not show fails with
  "not supported locally": either of a value that is no array, ARRAY_FLATTEN of several arguments, of an element
  that is no array, or of an array nested two levels deep (flattened once or all the way: the page does not say).
What the pass cannot tell without the catalog stays as it was: a cast of a whole SUPER column (`data::int`) is the
engine's cast of a JSON value, and navigation of a name that is also a table alias reads the table's column.
"""

from __future__ import annotations

from sqlglot import exp

from shiftflow.dataapi.translate.model import CASE_SENSITIVE_IDENTIFIERS, NotSupportedLocally, SuperuserSetup

_CASE_SETTING = {
    "duckdb": "getvariable('shiftflow_setting_enable_case_sensitive_identifier')",
    "postgres": "current_setting('shiftflow.enable_case_sensitive_identifier', true)",
}
_ATTRIBUTE_CASE_SETTING = {
    "duckdb": "getvariable('shiftflow_setting_enable_case_sensitive_super_attribute')",
    "postgres": "current_setting('shiftflow.enable_case_sensitive_super_attribute', true)",
}
_ELEMENT = "shiftflow_element"
_INTEGERS = {exp.DataType.Type.SMALLINT, exp.DataType.Type.INT, exp.DataType.Type.BIGINT, exp.DataType.Type.TINYINT}  # the column of an unnested array's element


def _parts(node: exp.Expression) -> list[exp.Expression] | None:
    """A Column / Dot / Bracket chain as its parts in order: Identifiers, and Brackets' index expressions
    wrapped in exp.Bracket; None when it is anything else."""
    if isinstance(node, exp.Identifier):  # inside a FROM item's name: a."payload"."x"."L"
        return [node]
    if isinstance(node, exp.Column):
        names = [node.args.get(key) for key in ("catalog", "db", "table", "this")]
        return [name for name in names if name is not None] if all(
            isinstance(name, exp.Identifier) or name is None for name in names) else None
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Identifier):
        inner = _parts(node.this)
        return None if inner is None else [*inner, node.expression]
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
        inner = _parts(node.this)
        return None if inner is None else [*inner, exp.Bracket(this=exp.null(), expressions=node.expressions)]
    return None


def _key(identifier: exp.Identifier, sensitive: bool, attributes: bool = False) -> str:
    """sensitive: a quoted name keeps its case (enable_case_sensitive_identifier); attributes: every name does
    (enable_case_sensitive_super_attribute)."""
    name = identifier.name if (attributes or (sensitive and identifier.quoted)) else identifier.name.lower()
    return '."' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _path(steps: list[exp.Expression], sensitive: bool, attributes: bool = False) -> str | None:
    """The JSONPath of the steps; None when an index is not a literal integer."""
    path = "$"
    for step in steps:
        if isinstance(step, exp.Identifier):
            path += _key(step, sensitive, attributes)
        elif isinstance(step.expressions[0], exp.Literal) and step.expressions[0].is_string:
            # PartiQL's x['key']: the attribute, as the quoted name x."key" (not DuckDB's own subscript)
            path += _key(exp.to_identifier(step.expressions[0].this, quoted=True), sensitive, attributes)
        elif isinstance(step.expressions[0], exp.Literal) and not step.expressions[0].is_string:
            path += f"[{int(step.expressions[0].this)}]"
        else:
            return None
    return path


def _path_expression(steps: list[exp.Expression], engine: str) -> exp.Expression | None:
    folded, sensitive, written = _path(steps, False), _path(steps, True), _path(steps, True, True)
    if folded is None or sensitive is None or written is None:
        return None
    if folded == written:
        return exp.Literal.string(folded)
    ifs = [exp.If(this=exp.EQ(this=exp.maybe_parse(_ATTRIBUTE_CASE_SETTING[engine], dialect=engine),
                              expression=exp.Literal.string("on")), true=exp.Literal.string(written))]
    if sensitive != folded:
        ifs.append(exp.If(this=exp.EQ(this=exp.maybe_parse(_CASE_SETTING[engine], dialect=engine),
                                      expression=exp.Literal.string("on")), true=exp.Literal.string(sensitive)))
    return exp.Case(ifs=ifs, default=exp.Literal.string(folded))


def _column(names: list[exp.Identifier]) -> exp.Column:
    return exp.column(names[-1].copy(), table=names[0].copy() if len(names) > 1 else None)


def _table_aliases(tree: exp.Expression) -> set[str]:
    """The lower-case names the statement's tables are referred to by (alias, else name), and subquery aliases."""
    names = {(table.alias or table.name).lower() for table in tree.find_all(exp.Table)}
    names |= {node.alias.lower() for node in tree.find_all(exp.Subquery, exp.CTE, exp.Lateral) if node.alias}
    return names


def _navigation(node: exp.Expression, sources: set[str], unnested: set[str], engine: str,
                outer: set[str]) -> exp.Expression | None:
    """The navigated value `node` stands for, or None when it is a plain column reference."""
    parts = _parts(node)
    if parts is None or not parts or not isinstance(parts[0], exp.Identifier):
        return None
    first = parts[0].name.lower()
    if first in unnested:
        base, steps = exp.column(_ELEMENT, table=parts[0].copy()), parts[1:]
    elif first in sources and len(parts) >= 2 and isinstance(parts[1], exp.Identifier):
        base, steps = _column([parts[0], parts[1]]), parts[2:]
    elif first not in sources and first not in outer and len(parts) > 1:
        base, steps = _column([parts[0]]), parts[1:]
    else:
        return None
    if not steps:
        return base
    path = _path_expression(steps, engine)
    if path is None:
        return None
    return exp.Anonymous(this="shiftflow_super_get", expressions=[base, path])


def _array_table(table: exp.Table, sources: set[str]) -> list[exp.Expression] | None:
    """`a."payload"."x"."L" b` as a FROM item, `a` a source alias: the parts of the array it unnests."""
    head = [table.args[key] for key in ("catalog", "db") if isinstance(table.args.get(key), exp.Identifier)]
    this = table.this
    rest = _parts(this) if isinstance(this, exp.Dot) else ([this] if isinstance(this, exp.Identifier) else None)
    if not head or rest is None or not table.alias or head[0].name.lower() not in sources:
        return None
    return [*head, *rest]


def _lateral(array: exp.Expression, alias: str, engine: str, index: exp.Identifier | None = None) -> exp.Expression:
    """A FROM item with one row per element of `array` (column shiftflow_element), none when it is no array; with
    `index` (`x AS y AT index`), also that column: the element's 0-based position."""
    elements: exp.Expression = exp.Anonymous(this="shiftflow_super_elements", expressions=[array])
    if index is None:
        if engine == "duckdb":
            elements = exp.Unnest(expressions=[elements])
        select = exp.Select(expressions=[exp.Alias(this=elements, alias=exp.to_identifier(_ELEMENT))])
    elif engine == "duckdb":  # generate_subscripts beside UNNEST: one position per element, in step
        position = exp.Anonymous(this="generate_subscripts", expressions=[elements.copy(), exp.Literal.number(1)])
        select = exp.Select(expressions=[
            exp.Alias(this=exp.Unnest(expressions=[elements]), alias=exp.to_identifier(_ELEMENT)),
            exp.Alias(this=exp.cast(exp.Sub(this=position, expression=exp.Literal.number(1)), "INT"),
                      alias=index.copy())])
    else:  # the set-returning function WITH ORDINALITY (1-based)
        # unqualified columns: a qualified one would read as navigation of a SUPER column
        select = exp.select(exp.Alias(this=exp.column("shiftflow_e"), alias=exp.to_identifier(_ELEMENT)),
                            exp.Alias(this=exp.cast(exp.Sub(this=exp.column("shiftflow_n"),
                                                            expression=exp.Literal.number(1)), "INT"),
                                      alias=index.copy())).from_(
            exp.Table(this=elements, alias=exp.TableAlias(this=exp.to_identifier("shiftflow_u"), columns=[
                exp.to_identifier("shiftflow_e"), exp.to_identifier("shiftflow_n")])))
        select.find(exp.From).this.set("ordinality", True)
    return exp.Lateral(this=exp.Subquery(this=select), alias=exp.TableAlias(this=exp.to_identifier(alias)))


def navigate(tree: exp.Expression, engine: str) -> exp.Expression:
    """SUPER navigation, unnesting and casts of `tree` as engine calls (see the module's docstring)."""
    if isinstance(tree, exp.Set):  # SET app.user_id: a setting
        return tree
    if not any(isinstance(node, (exp.Dot, exp.Bracket, exp.Unnest, exp.AtIndex)) or (
            isinstance(node, exp.Column) and node.args.get("table") is not None) or (
            isinstance(node, exp.Table) and node.args.get("db") is not None) for node in tree.walk()):
        return tree
    plain = _table_aliases(tree)
    unnested = _unnest_from_items(tree, plain, engine)
    # A schema's name leads a column reference too (public.t.col): never a SUPER column.
    schemas = {table.db.lower() for table in tree.find_all(exp.Table) if table.db}
    sources = plain | unnested | schemas
    for select in tree.find_all(exp.Select):
        _name_navigations(select, sources, unnested, engine)
    for node in list(tree.find_all(exp.Column, exp.Dot, exp.Bracket)):
        if not _is_outermost(node) or _schema_qualified(node, schemas, plain):
            continue
        value = _navigation(node, sources, unnested, engine, set())
        if value is not None and value != node:
            node.replace(value)
    for cast in list(tree.find_all(exp.Cast)):
        inner = cast.this.unnest()  # `(t)::varchar` as `t::varchar`
        if (isinstance(inner, exp.Anonymous) and inner.name == "shiftflow_super_get") or (
                isinstance(inner, exp.Column) and inner.name == _ELEMENT):
            cast.replace(_lax_cast(inner, cast.to, engine))
    if engine == "duckdb":
        for select in list(tree.find_all(exp.Select)):
            _share_navigations(select)
    return tree


_SHARED = "shiftflow_nav"  # DuckDB: a select's navigations of one column, read in one parse (_share_navigations)


def _share_navigations(select: exp.Select) -> None:
    """Several navigations of one column in a select over a single FROM item read the document once: DuckDB's
    json_extract with a list of paths parses it once, where one call per path parses it once each (a row of six
    attributes: six parses). The FROM item becomes a subquery adding that list (under the item's own name), and
    each navigation its element. Navigations read as text (lax casts: shiftflow_super_text) share a list of texts
    instead (json_extract_string: a scalar's text without a minified JSON copy to take apart). Left as it is:
    a select with joins or *, or whose columns name a schema."""
    source = select.args.get("from_")
    if source is None or any(select.args.get(key) for key in ("joins", "laterals")) or not isinstance(
            source.this, (exp.Table, exp.Subquery)) or not source.this.alias_or_name:
        return
    if any(isinstance(projection, exp.Star) or isinstance(projection.this, exp.Star)
           for projection in select.expressions) or any(
            column.args.get("db") is not None for column in select.find_all(exp.Column)):
        return
    groups: dict[tuple[str, bool], list[exp.Anonymous]] = {}
    for node in select.find_all(exp.Anonymous):
        if node.name == "shiftflow_super_get" and isinstance(node.expressions[0], exp.Column) and \
                node.find_ancestor(exp.Select) is select:
            groups.setdefault((node.expressions[0].sql(), _read_as_text(node)), []).append(node)
    shared = [(number, as_text, nodes) for number, ((_, as_text), nodes) in enumerate(groups.items())
              if len(nodes) > 1]
    if not shared:
        return
    item, name = source.this, source.this.alias_or_name
    inner = exp.Select(expressions=[exp.Star()]).from_(item.copy())
    for number, as_text, nodes in shared:
        # One element per distinct path: a navigation in GROUP BY and the select list stays the same expression.
        paths = {node.expressions[1].sql(): node.expressions[1] for node in nodes}
        index = {text: position for position, text in enumerate(paths, start=1)}
        inner = inner.select(exp.alias_(exp.Anonymous(
            this="shiftflow_super_text_all" if as_text else "shiftflow_super_get_all", expressions=[
                nodes[0].expressions[0].copy(), exp.Anonymous(this="list_value", expressions=[
                    path.copy() for path in paths.values()])]), f"{_SHARED}{number}"), copy=False)
        for node in nodes:
            position = exp.Literal.number(index[node.expressions[1].sql()])
            if as_text:
                node.parent.replace(_text_element(node, exp.column(f"{_SHARED}{number}"), position))
            else:
                node.replace(exp.Anonymous(this="list_extract", expressions=[exp.column(f"{_SHARED}{number}"),
                                                                             position]))
    source.set("this", exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(name))))


# Lax casts whose result is NULL for the JSON text of an object or array as for the object or array itself (which
# is NULL as text): these read json_extract_string's element as it is.
_NO_CONTAINER_TEXT = exp.DataType.NUMERIC_TYPES | exp.DataType.TEMPORAL_TYPES | {exp.DataType.Type.BOOLEAN}


def _text_element(node: exp.Anonymous, texts: exp.Column, position: exp.Literal) -> exp.Expression:
    """What shiftflow_super_text(node) reads from the shared texts."""
    reader = node.parent.parent
    if (isinstance(reader, exp.TryCast) and reader.to.this in _NO_CONTAINER_TEXT) or (
            isinstance(reader, exp.Anonymous) and reader.name == "shiftflow_super_integer"):
        return exp.Anonymous(this="list_extract", expressions=[texts, position])
    return exp.Anonymous(this="shiftflow_super_text_at", expressions=[
        texts, position, *(arg.copy() for arg in node.expressions)])


def _read_as_text(node: exp.Anonymous) -> bool:
    """A navigation whose value is read as its scalar's text (the argument of a lax cast)."""
    parent = node.parent
    return isinstance(parent, exp.Anonymous) and parent.name == "shiftflow_super_text" and \
        len(parent.expressions) == 1 and parent.expressions[0] is node


def _name_navigations(select: exp.Select, sources: set[str], unnested: set[str], engine: str) -> None:
    """An unaliased navigation (or a cast of one) is named after its last attribute, as Redshift names it."""
    for projection in select.expressions:
        inner = projection.this if isinstance(projection, exp.Cast) else projection
        parts = _parts(inner)
        if parts and isinstance(parts[-1], exp.Bracket) and isinstance(parts[-1].expressions[0], exp.Literal) \
                and parts[-1].expressions[0].is_string:  # x['key'] is named as x."key"
            parts[-1] = exp.to_identifier(parts[-1].expressions[0].this, quoted=True)
        if not parts or not isinstance(parts[-1], exp.Identifier):
            continue
        if _navigation(inner, sources, unnested, engine, set()) in (None, inner):
            continue
        last = parts[-1]
        label = last.name if last.quoted and CASE_SENSITIVE_IDENTIFIERS.get() else last.name.lower()
        projection.replace(exp.alias_(projection.copy(), label, quoted=True))


def _schema_qualified(node: exp.Expression, schemas: set[str], tables: set[str]) -> bool:
    """schema.table.column: a plain column reference."""
    parts = _parts(node)
    return bool(parts) and len(parts) == 3 and all(isinstance(p, exp.Identifier) for p in parts) and \
        parts[0].name.lower() in schemas and parts[1].name.lower() in tables


def _is_outermost(node: exp.Expression) -> bool:
    """The whole of a navigation chain, not one of its inner Dots or Brackets."""
    parent = node.parent
    return not (isinstance(parent, exp.Dot) and parent.this is node) and not (
        isinstance(parent, exp.Bracket) and parent.this is node)


def _unnest_from_items(tree: exp.Expression, plain: set[str], engine: str) -> set[str]:
    """Unnested arrays in FROM made laterals; the aliases of their elements."""
    aliases: set[str] = set()
    for unnest in list(tree.find_all(exp.Unnest)):
        alias = unnest.args.get("alias")
        if alias is None or not alias.columns or len(unnest.expressions) != 1:
            continue
        array = _navigation(unnest.expressions[0], plain, set(), engine, set())
        if array is not None:
            unnest.replace(_lateral(array, alias.columns[0].name, engine))
            aliases.add(alias.columns[0].name.lower())
    for at in list(tree.find_all(exp.AtIndex)):  # `a.arr AS x AT i` (query-super.md): x each element, i its index
        if not isinstance(at.this, exp.Alias) or not isinstance(at.expression, exp.Identifier):
            raise NotSupportedLocally(f"this AT clause of PartiQL ({at.sql('redshift')})")
        array = _navigation(at.this.this, plain, aliases, engine, set())
        if array is None:
            raise NotSupportedLocally(f"AT over what is no SUPER array navigation ({at.sql('redshift')})")
        aliases.add(at.this.alias.lower())
        at.replace(_lateral(array, at.this.alias, engine, at.expression))
    for table in list(tree.find_all(exp.Table)):
        parts = _array_table(table, plain)
        if parts is None:
            continue
        chain: exp.Expression = exp.column(parts[1].copy(), table=parts[0].copy())
        for part in parts[2:]:
            chain = exp.Dot(this=chain, expression=part.copy())
        array = _navigation(chain, plain, set(), engine, set())
        if array is not None:
            aliases.add(table.alias.lower())
            table.replace(_lateral(array, table.alias, engine))
    return aliases


def _lax_cast(value: exp.Expression, to: exp.DataType, engine: str) -> exp.Expression:
    text = exp.Anonymous(this="shiftflow_super_text", expressions=[value])
    if engine == "duckdb" and to.this in _INTEGERS:  # DuckDB's TRY_CAST would round '12.5' to 13
        return exp.cast(exp.Anonymous(this="shiftflow_super_integer", expressions=[text]), to.copy())
    if engine == "duckdb":
        return exp.TryCast(this=text, to=to.copy())
    typed_null = exp.cast(exp.null(), to.copy())
    return exp.cast(exp.Anonymous(this="shiftflow_try_cast", expressions=[text, typed_null]), to.copy())


def _from_varbyte(args: list[exp.Expression]) -> exp.Expression:
    """FROM_VARBYTE(x, 'utf-8'), the usual form, is a call without the unknown-format error branch (a volatile
    error() call, which DuckDB's TRY in a streaming view's refresh refuses)."""
    if len(args) == 2 and isinstance(args[1], exp.Literal) and args[1].is_string and args[1].name.lower() in (
            "utf-8", "utf8"):
        return exp.Anonymous(this="shiftflow_from_varbyte_utf8", expressions=[args[0]])
    return exp.Anonymous(this="shiftflow_from_varbyte", expressions=args)


_ARRAY_MAKERS = ("shiftflow_super_array", "shiftflow_array_concat", "shiftflow_subarray", "shiftflow_array_flatten")


def _super_array(node: exp.Array, engine: str) -> exp.Expression:
    """ARRAY(...): Redshift has no arrays but SUPER ones, so every ARRAY is a JSON array."""
    builder = "json_array" if engine == "duckdb" else "json_build_array"
    return exp.Anonymous(this="shiftflow_super_array", expressions=[
        exp.Anonymous(this=builder, expressions=list(node.expressions))])


def _split_to_array(node: exp.StringToArray, engine: str) -> exp.Expression:
    """SPLIT_TO_ARRAY(text, delimiter) (split_to_array.md): a SUPER array of the pieces, printed as JSON
    (["12","345","6789"]), not the engine's text array."""
    pieces = exp.Anonymous(this="string_split" if engine == "duckdb" else "string_to_array",
                           expressions=[node.this, node.expression or exp.Literal.string(",")])
    return exp.Anonymous(this="shiftflow_super_array", expressions=[exp.Anonymous(this="to_json",
                                                                                  expressions=[pieces])])


def _array_concat(node: exp.ArrayConcat, engine: str) -> exp.Expression:
    arrays = [node.this, *node.expressions]
    if len(arrays) != 2:
        return node  # Redshift's array_concat takes two arrays: left to fail in the engine
    return exp.Anonymous(this="shiftflow_array_concat", expressions=arrays)


def _subarray(node: exp.Anonymous, engine: str) -> exp.Expression:
    """SUBARRAY(array, start, length) (r_subarray.md): `length` elements from `start`, counted from 0 (a negative
    start from the end); NULL for a value that is no array."""
    if len(node.expressions) != 3:
        return node  # the engine's error
    return exp.Anonymous(this="shiftflow_subarray", expressions=list(node.expressions))


def _get_array_length(node: exp.Anonymous, engine: str) -> exp.Expression:
    if len(node.expressions) != 1:
        return node  # the engine's error
    return exp.Anonymous(this="shiftflow_get_array_length", expressions=list(node.expressions))


def _array_flatten(node: exp.Anonymous, engine: str) -> exp.Expression:
    if len(node.expressions) != 1:
        raise NotSupportedLocally("array_flatten() of more than one argument (array_flatten.md shows one array of"
                                  " arrays)")
    return exp.Anonymous(this="shiftflow_array_flatten", expressions=list(node.expressions))


def _array_subscript(node: exp.Bracket, engine: str) -> exp.Expression:
    """array(...)[n]: element n counted from 0, a SUPER (NULL past the end, lax navigation)."""
    array = node.this
    if not (isinstance(array, exp.Anonymous) and array.name in _ARRAY_MAKERS):
        return node
    index = node.expressions[0] if len(node.expressions) == 1 else None
    if not (isinstance(index, exp.Literal) and not index.is_string):
        raise NotSupportedLocally("a SUPER array subscript that is not an integer literal")
    return exp.Anonymous(this="shiftflow_super_get", expressions=[array, exp.Literal.string(f"$[{int(index.this)}]")])


HANDLERS: dict[object, object] = {exp.Array: _super_array, exp.ArrayConcat: _array_concat, exp.Bracket: _array_subscript,
                                  exp.StringToArray: _split_to_array, "subarray": _subarray,
                                  "get_array_length": _get_array_length, "array_flatten": _array_flatten}
PARSER_FUNCTIONS = {"CAN_JSON_PARSE": lambda args: exp.Anonymous(this="shiftflow_can_json_parse", expressions=args),
                    "FROM_VARBYTE": lambda args: _from_varbyte(args)}
COLUMN_NAMES = {exp.Array: "array", exp.ArrayConcat: "array_concat", exp.StringToArray: "split_to_array",
                "shiftflow_can_json_parse": "can_json_parse", "shiftflow_from_varbyte": "from_varbyte",
                "shiftflow_from_varbyte_utf8": "from_varbyte",
                "shiftflow_super_get": "shiftflow_super_get", "subarray": "subarray",
                "get_array_length": "get_array_length", "array_flatten": "array_flatten"}

_NOT_AN_ARRAY = "not supported locally: array_concat of a value that is not an array"
_LENGTH_NOT_AN_ARRAY = "not supported locally: get_array_length of a value that is not an array"
_NOT_FLAT = ("not supported locally: array_flatten of a value that is not an array of arrays of values that are not"
             " arrays")
DUCKDB_SETUP = (
    "CREATE OR REPLACE TEMP MACRO shiftflow_super_array(j) AS j",  # a name for the result column and subscripts
    # The elements as json_extract's JSON texts (a cast to JSON[] would make a JSON null a SQL NULL, printed NULL).
    "CREATE OR REPLACE TEMP MACRO shiftflow_array_concat(a, b) AS CASE WHEN a IS NULL OR b IS NULL THEN NULL"
    " WHEN json_type(CAST(a AS JSON)) = 'ARRAY' AND json_type(CAST(b AS JSON)) = 'ARRAY'"
    " THEN to_json(list_concat(json_extract(CAST(a AS JSON), '$[*]'), json_extract(CAST(b AS JSON), '$[*]')))"
    f" ELSE CAST(error('{_NOT_AN_ARRAY}') AS JSON) END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_subarray(a, s, n) AS CASE WHEN json_type(CAST(a AS JSON)) = 'ARRAY'"
    " THEN to_json(list_slice(json_extract(CAST(a AS JSON), '$[*]'), greatest(CASE WHEN s < 0 THEN"
    " json_array_length(CAST(a AS JSON)) + s ELSE s END, 0) + 1, CASE WHEN s < 0 THEN json_array_length(CAST(a AS"
    " JSON)) + s ELSE s END + n)) END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_get_array_length(a) AS CASE WHEN a IS NULL THEN NULL"
    " WHEN json_type(CAST(a AS JSON)) = 'ARRAY' THEN CAST(json_array_length(CAST(a AS JSON)) AS BIGINT)"
    f" ELSE CAST(error('{_LENGTH_NOT_AN_ARRAY}') AS BIGINT) END",
    # every element an array, none of whose elements is one (the elements' JSON texts, as array_concat's)
    "CREATE OR REPLACE TEMP MACRO shiftflow_array_flatten(a) AS CASE WHEN a IS NULL THEN NULL"
    " WHEN json_type(CAST(a AS JSON)) = 'ARRAY' AND list_bool_and(list_transform(json_extract(CAST(a AS JSON),"
    " '$[*]'), lambda e: json_type(e) = 'ARRAY')) IS NOT false AND NOT coalesce(list_bool_or(list_transform("
    "json_extract(CAST(a AS JSON), '$[*][*]'), lambda f: json_type(f) = 'ARRAY')), false)"
    " THEN to_json(json_extract(CAST(a AS JSON), '$[*][*]'))"
    f" ELSE CAST(error('{_NOT_FLAT}') AS JSON) END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_json_parse(x BLOB) AS CAST(decode(x) AS JSON), (x) AS CAST(x AS JSON)",
    "CREATE OR REPLACE TEMP MACRO shiftflow_from_varbyte_utf8(x) AS decode(x)",
    # Redshift's JSON parser is strict (setup.py's shiftflow_json_strict); that check is costly, and only text with
    # a trailing comma or a nan / inf somewhere (DuckDB accepts those) can need it. Three regular expressions, each
    # with no alternation (RE2 then skips to its first character: one with alternatives costs three times as
    # much); on a record's decoded bytes ILIKE costs twice a class regular expression. The text is named in each
    # branch rather than computed once in a lambda: a decode costs a tenth of DuckDB's lambda over a whole record.
    "CREATE OR REPLACE TEMP MACRO shiftflow_json_lax(t) AS regexp_matches(t, ',\\s*[\\]}]')"
    " OR regexp_matches(t, '[nN][aA][nN]') OR regexp_matches(t, '[iI][nN][fF]')",
    "CREATE OR REPLACE TEMP MACRO shiftflow_json_parses(t) AS CASE WHEN t IS NULL THEN NULL"
    " WHEN NOT json_valid(t) THEN false WHEN shiftflow_json_lax(t) THEN shiftflow_json_strict(t) ELSE true END",
    # VARBYTE: the bytes are decoded under TRY (not UTF-8: false) once; CASE evaluates a later branch only for the
    # rows the earlier ones left, so the later decodes see valid UTF-8 and need no TRY (TRY(decode(x)) named in
    # each branch cost a third of the check); they replace what is not UTF-8 (never there), so that a constant
    # argument folded before the CASE runs cannot fail in them. TRY refuses a volatile argument: TO_VARBYTE of a
    # literal format has no error() (bytes.py).
    "CREATE OR REPLACE TEMP MACRO shiftflow_can_json_parse(x BLOB) AS CASE WHEN x IS NULL THEN NULL"
    " WHEN NOT coalesce(json_valid(TRY(decode(x))), false) THEN false"
    " WHEN shiftflow_json_lax(decode(x, 'replace')) THEN shiftflow_json_strict(decode(x, 'replace')) ELSE true END,"
    " (x) AS CASE WHEN x IS NULL THEN NULL ELSE coalesce(shiftflow_json_parses(CAST(x AS VARCHAR)), false) END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_from_varbyte(x, f) AS CASE WHEN lower(f) IN ('utf-8', 'utf8')"
    " THEN decode(x) WHEN lower(f) = 'hex' THEN lower(hex(x))"
    " WHEN lower(f) = 'binary' THEN CAST(CAST(x AS BIT) AS VARCHAR)"
    " ELSE error('invalid format for from_varbyte: ' || f) END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_super_elements(j) AS CASE WHEN json_type(CAST(j AS JSON)) = 'ARRAY'"
    " THEN CAST(j AS JSON[]) END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_super_get(j, p) AS json_extract(CAST(j AS JSON), p)",
    "CREATE OR REPLACE TEMP MACRO shiftflow_super_get_all(j, paths) AS json_extract(CAST(j AS JSON), paths)",
    # The argument of these two is a navigation (a parse of the whole document) or a cast of one; with DuckDB's
    # common-subexpression pass off (setup.py), an argument named twice in a macro's body is computed twice: the
    # body runs as a lambda over a one-element list, which computes the argument once.
    "CREATE OR REPLACE TEMP MACRO shiftflow_super_integer(t) AS list_transform([t], lambda shiftflow_t:"
    " CASE WHEN regexp_full_match(shiftflow_t, '\\s*[+-]?[0-9]+\\s*') THEN TRY_CAST(trim(shiftflow_t) AS BIGINT) END)[1]",
    # A navigated value is json_extract's minified text: its first character says its type (json_type would parse
    # it again).
    "CREATE OR REPLACE TEMP MACRO shiftflow_super_text(j) AS list_transform([j], lambda shiftflow_j:"
    " CASE left(shiftflow_j, 1) WHEN '\"' THEN json_extract_string(shiftflow_j, '$') WHEN '{' THEN NULL"
    " WHEN '[' THEN NULL ELSE CASE WHEN shiftflow_j = 'null' THEN NULL ELSE CAST(shiftflow_j AS VARCHAR) END END)[1]",
    # The texts of several navigations in one parse (_share_navigations): json_extract_string gives a scalar's
    # text as shiftflow_super_text does, and an object's or array's JSON text where shiftflow_super_text gives
    # NULL: read as text, such an element (its text starts with { or [, a string's may too) is read again the
    # long way; cast to a number, date or boolean, it is NULL either way (_text_element).
    "CREATE OR REPLACE TEMP MACRO shiftflow_super_text_all(j, paths) AS json_extract_string(CAST(j AS JSON), paths)",
    "CREATE OR REPLACE TEMP MACRO shiftflow_super_text_at(texts, k, j, p) AS CASE WHEN left(list_extract(texts, k),"
    " 1) IN ('{', '[') THEN shiftflow_super_text(shiftflow_super_get(j, p)) ELSE list_extract(texts, k) END",
)
# A number or boolean stored in a SUPER column is that scalar (INSERT INTO t(s super) VALUES (5): r_IS_BIGINT.md):
# PostgreSQL's json columns take them by these assignment casts (only INSERT / UPDATE targets use them).
_SUPER_SCALARS = ("smallint", "integer", "bigint", "numeric", "real", "double precision", "boolean")
POSTGRES_SETUP = (
    "CREATE OR REPLACE FUNCTION public.shiftflow_super_array(j json) RETURNS json LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT j $f$",
    f"""CREATE OR REPLACE FUNCTION public.shiftflow_get_array_length(a json) RETURNS bigint LANGUAGE plpgsql
IMMUTABLE STRICT AS $f$ BEGIN IF json_typeof(a) <> 'array' THEN RAISE EXCEPTION '{_LENGTH_NOT_AN_ARRAY}'; END IF;
  RETURN json_array_length(a); END $f$""",
    f"""CREATE OR REPLACE FUNCTION public.shiftflow_array_flatten(a json) RETURNS json LANGUAGE plpgsql
IMMUTABLE STRICT AS $f$ BEGIN
  IF json_typeof(a) <> 'array' OR EXISTS (SELECT 1 FROM json_array_elements(a) AS x(e) WHERE CASE
      WHEN json_typeof(e) <> 'array' THEN true
      ELSE EXISTS (SELECT 1 FROM json_array_elements(e) AS y(f) WHERE json_typeof(f) = 'array') END) THEN
    RAISE EXCEPTION '{_NOT_FLAT}';
  END IF;
  RETURN (SELECT coalesce(json_agg(f ORDER BY i, j), '[]'::json) FROM json_array_elements(a) WITH ORDINALITY AS x(e, i),
    LATERAL json_array_elements(e) WITH ORDINALITY AS y(f, j)); END $f$""",
    "CREATE OR REPLACE FUNCTION public.shiftflow_subarray(a json, s integer, n integer) RETURNS json LANGUAGE sql"
    " IMMUTABLE AS $f$ SELECT CASE WHEN json_typeof(a) = 'array' THEN (SELECT coalesce(json_agg(e ORDER BY i),"
    " '[]'::json) FROM json_array_elements(a) WITH ORDINALITY AS x(e, i), LATERAL (SELECT CASE WHEN s < 0"
    " THEN json_array_length(a) + s ELSE s END AS first) AS f WHERE i - 1 >= first AND i - 1 < first + n) END $f$",
    f"""CREATE OR REPLACE FUNCTION public.shiftflow_array_concat(a json, b json) RETURNS json LANGUAGE plpgsql
IMMUTABLE AS $f$ BEGIN IF a IS NULL OR b IS NULL THEN RETURN NULL; END IF;
  IF json_typeof(a) <> 'array' OR json_typeof(b) <> 'array' THEN RAISE EXCEPTION '{_NOT_AN_ARRAY}'; END IF;
  RETURN (SELECT coalesce(json_agg(e ORDER BY part, n), '[]'::json) FROM (
    SELECT e, 1 AS part, n FROM json_array_elements(a) WITH ORDINALITY AS x(e, n)
    UNION ALL SELECT e, 2, n FROM json_array_elements(b) WITH ORDINALITY AS y(e, n)) AS elements); END $f$""",
    # The casts (and so the functions they call, which their owner could change) are the superuser's.
    *(SuperuserSetup(f"CREATE OR REPLACE FUNCTION public.shiftflow_super(x {kind}) RETURNS json LANGUAGE sql"
                     " IMMUTABLE AS $f$ SELECT to_json(x) $f$") for kind in _SUPER_SCALARS),
    *(SuperuserSetup(f"DO $f$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_cast WHERE castsource = '{kind}'::regtype"
                     f" AND casttarget = 'json'::regtype) THEN CREATE CAST ({kind} AS json)"
                     f" WITH FUNCTION public.shiftflow_super({kind}) AS ASSIGNMENT; END IF; END $f$")
      for kind in _SUPER_SCALARS),
    """CREATE OR REPLACE FUNCTION public.shiftflow_can_json_parse(x text) RETURNS boolean LANGUAGE plpgsql
IMMUTABLE AS $f$ BEGIN IF x IS NULL THEN RETURN NULL; END IF; PERFORM x::json; RETURN true;
EXCEPTION WHEN others THEN RETURN false; END $f$""",
    """CREATE OR REPLACE FUNCTION public.shiftflow_can_json_parse(x bytea) RETURNS boolean LANGUAGE plpgsql
IMMUTABLE AS $f$ BEGIN IF x IS NULL THEN RETURN NULL; END IF; PERFORM convert_from(x, 'UTF8')::json; RETURN true;
EXCEPTION WHEN others THEN RETURN false; END $f$""",
    """CREATE OR REPLACE FUNCTION public.shiftflow_from_varbyte(x bytea, f text) RETURNS text LANGUAGE plpgsql
IMMUTABLE AS $f$ BEGIN
  IF lower(f) IN ('utf-8', 'utf8') THEN RETURN convert_from(x, 'UTF8'); END IF;
  IF lower(f) = 'hex' THEN RETURN encode(x, 'hex'); END IF;
  IF lower(f) = 'binary' THEN RETURN ('x' || encode(x, 'hex'))::varbit::text; END IF;
  RAISE EXCEPTION 'invalid format for from_varbyte: %', f; END $f$""",
    "CREATE OR REPLACE FUNCTION public.shiftflow_from_varbyte_utf8(x bytea) RETURNS text LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT convert_from(x, 'UTF8') $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_json_parse(x bytea) RETURNS json LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT convert_from(x, 'UTF8')::json $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_json_parse(x text) RETURNS json LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT x::json $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_super_get(j json, p text) RETURNS json LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT jsonb_path_query_first(j::jsonb, ('strict ' || p)::jsonpath, '{}', true)::json $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_super_elements(j json) RETURNS SETOF json LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT json_array_elements(CASE WHEN json_typeof(j) = 'array' THEN j END) $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_super_text(j json) RETURNS text LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT CASE json_typeof(j) WHEN 'string' THEN j #>> '{}' WHEN 'number' THEN j::text"
    " WHEN 'boolean' THEN j::text END $f$",
    """CREATE OR REPLACE FUNCTION public.shiftflow_try_cast(x text, sample anyelement) RETURNS anyelement
LANGUAGE plpgsql STABLE AS $f$ DECLARE result sample%TYPE;
BEGIN IF x IS NULL THEN RETURN NULL; END IF;
  EXECUTE format('SELECT CAST($1 AS %s)', pg_typeof(sample)) INTO result USING x; RETURN result;
EXCEPTION WHEN others THEN RETURN NULL; END $f$""",
)
