"""CREATE [OR REPLACE] PROCEDURE, DROP PROCEDURE and CALL on DuckDB, as session commands: the definition is parsed
(and refused if outside the supported subset) when the statement is translated, and stored or run by run()."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.engines.base import EngineError, EngineSession, QueryResult
from shiftflow.dataapi.principals import access
from shiftflow.dataapi.principals import catalog as principals
from shiftflow.dataapi.procedures import catalog
from shiftflow.dataapi.procedures import syntax as s
from shiftflow.dataapi.procedures.interpreter import CallContext, invoke
from shiftflow.dataapi.procedures.parser import argument_list, parse_procedure
from shiftflow.dataapi.procedures.variables import PLACEHOLDER
from shiftflow.dataapi.translate.commands.tokens import closing_paren, expanded, word
from shiftflow.dataapi.translate.model import EngineSql, NotSupportedLocally, SessionCommand, SqlSyntaxError

Translate = Callable[[str], Any]  # Redshift statement -> what translate(statement, "duckdb") returns


def procedure_command(statement: str, tokens: list[Token], translate: Translate,
                      select: Callable[[str], EngineSql]) -> SessionCommand:
    """CREATE / DROP / ALTER PROCEDURE or CALL for DuckDB. `select` translates a `SELECT <arguments>` (a CALL's
    arguments, with the request's :name parameters)."""
    while len(tokens) > 1 and tokens[-1].token_type == TokenType.SEMICOLON:  # `call p();`: the statement's end
        tokens = tokens[:-1]
        statement = statement[:tokens[-1].end + 1]
    verb = word(tokens[0])
    if verb == "CALL":
        return _call(statement, expanded(statement, tokens), translate, select)
    if verb == "DROP":
        return _drop(statement, tokens)
    if verb == "ALTER":
        return _alter(statement, tokens)
    procedure = parse_procedure(statement)
    replace = [word(t) for t in tokens[1:3]] == ["OR", "REPLACE"]
    return CreateProcedure(statement, procedure, replace)


@dataclass(frozen=True)
class CreateProcedure(SessionCommand):
    definition: str
    procedure: s.Procedure
    replace: bool

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        schema = self.procedure.schema or catalog.current_schema(session)
        catalog.create(session, schema, self.procedure, self.definition, self.replace)
        return QueryResult(rowcount=0)


@dataclass(frozen=True)
class DropProcedure(SessionCommand):
    schema: str | None
    name: str
    arguments: tuple[s.Argument, ...] | None
    if_exists: bool

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        catalog.drop(session, self.schema, self.name, self.arguments, self.if_exists)
        return QueryResult(rowcount=0)


@dataclass(frozen=True)
class RenameProcedure(SessionCommand):
    schema: str | None
    name: str
    arguments: tuple[s.Argument, ...] | None
    new_name: str

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        renamed = catalog.rename(session, self.schema, self.name, self.arguments, self.new_name)
        if principals.ready(session):  # its owner and grants go with it
            principals.rename_object(session, "procedure", access.procedure_key(self.name, renamed.signature),
                                     access.procedure_key(self.new_name, renamed.signature))
        return QueryResult(rowcount=0)


def _drop(statement: str, tokens: list[Token]) -> DropProcedure:
    index = 2
    if_exists = [word(t) for t in tokens[2:4]] == ["IF", "EXISTS"]
    index += 2 if if_exists else 0
    schema, name, arguments, index = _signature(statement, tokens, index)
    if index < len(tokens):
        raise SqlSyntaxError(tokens[index].text, tokens[index].start + 1)
    return DropProcedure(schema, name, arguments, if_exists)


@dataclass(frozen=True)
class OwnerProcedure(SessionCommand):
    """ALTER PROCEDURE name [(arguments)] OWNER TO user: the procedure must exist, then the user; the principals
    catalog keeps the owner, whose privileges a SECURITY DEFINER procedure runs with."""

    schema: str | None
    name: str
    arguments: tuple[s.Argument, ...] | None
    owner: str

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        found = catalog.one(session, self.schema, self.name, self.arguments)
        if found is None:
            raise catalog.missing(self.name, self.arguments)
        principals.require(session, "user", self.owner)
        principals.set_owner(session, "procedure", access.procedure_key(found.name, found.signature), self.owner)
        return QueryResult(rowcount=0)


def _alter(statement: str, tokens: list[Token]) -> RenameProcedure | OwnerProcedure:
    """ALTER PROCEDURE name [(arguments)] RENAME TO new_name | OWNER TO user (r_ALTER_PROCEDURE.md)."""
    schema, name, arguments, index = _signature(statement, tokens, 2)
    rest = [word(t) for t in tokens[index:]]
    if rest[:2] == ["OWNER", "TO"] and len(rest) == 3:
        owner = tokens[index + 2]
        return OwnerProcedure(schema, name, arguments, owner.text if owner.token_type in (
            TokenType.IDENTIFIER, TokenType.STRING) else owner.text.lower())
    if rest[:2] != ["RENAME", "TO"] or len(rest) != 3:
        token = tokens[min(index, len(tokens) - 1)]
        raise SqlSyntaxError(token.text, token.start + 1)
    new = tokens[index + 2]
    return RenameProcedure(schema, name, arguments,
                           new.text if new.token_type == TokenType.IDENTIFIER else new.text.lower())


def _signature(statement: str, tokens: list[Token],
               index: int) -> tuple[str | None, str, tuple[s.Argument, ...] | None, int]:
    """`name [(argument list)]` from tokens[index]: schema, name, arguments (None without a list), next index."""
    schema, name, index = _name(tokens, index)
    arguments = None
    if index < len(tokens) and tokens[index].token_type == TokenType.L_PAREN:
        close = closing_paren(tokens, index)
        if close < 0:
            raise SqlSyntaxError(tokens[-1].text, tokens[-1].start + 1)
        arguments = argument_list(statement, tokens[index + 1 : close])
        index = close + 1
    return schema, name, arguments, index


def _name(tokens: list[Token], index: int) -> tuple[str | None, str, int]:
    parts = []
    while index < len(tokens):
        token = tokens[index]
        parts.append(token.text if token.token_type == TokenType.IDENTIFIER else token.text.lower())
        index += 1
        if index < len(tokens) and tokens[index].token_type == TokenType.DOT:
            index += 1
            continue
        break
    return (parts[-2] if len(parts) > 1 else None), parts[-1], index


@dataclass(frozen=True)
class CallProcedure(SessionCommand):
    """CALL name(arguments): the arguments evaluated by `arguments` (a translated SELECT), the procedure found by
    its name and the arguments' count and types, run by the interpreter; its OUT and INOUT arguments are the
    call's result set, one row (r_CREATE_PROCEDURE.md). session_scoped: a body can leave temp tables, settings
    and cursors behind (through EXECUTE too), which no other Data API call may see."""

    session_scoped = True
    schema: str | None
    name: str
    arguments: EngineSql | None
    translate: Translate

    @property
    def parameter_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.arguments.parameter_names if self.arguments else ()

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        context = CallContext(session, in_transaction, self.translate, resolve, open_transaction=in_transaction)
        return self._invoke(context, parameters)

    def call_in(self, context: CallContext, parameters: Mapping[str, Any]) -> QueryResult:
        """A CALL run by a procedure (EXECUTE 'call ...'): nested in the caller's transaction and depth."""
        return self._invoke(context, parameters)

    def _invoke(self, context: CallContext, parameters: Mapping[str, Any]) -> QueryResult:
        values = []
        if self.arguments is not None:
            bound = {n: parameters[n] for n in self.arguments.parameter_names}
            values = list(self.arguments.execute(context.session, bound).rows[0])
        qualified = f"{self.schema}.{self.name}" if self.schema else self.name
        procedure = resolve(context.session, qualified, values)
        with access.running(context.session, procedure.name, catalog.signature(procedure.arguments),
                            procedure.security_definer):
            outputs = invoke(context, procedure, values)
        if not procedure.outputs:
            return QueryResult(rowcount=0)
        select = ", ".join(f"CAST(:{PLACEHOLDER}{i} AS {_result_type(a.type_text)}) AS \"{_column_name(a, i)}\""
                           for i, a in enumerate(procedure.outputs))
        translated = self.translate(f"SELECT {select}")
        return translated.execute(context.session, {f"{PLACEHOLDER}{i}": v for i, v in enumerate(outputs)})


def _column_name(argument: s.Argument, index: int) -> str:
    """An INOUT argument names its column; Redshift keeps no name for an OUT one (SHOW PROCEDURE prints
    `OUT character varying`): its column is column<n>, as r_CALL_procedure.md's test_sp2 shows (`f2 | column2`)."""
    return argument.name if argument.mode == "INOUT" and argument.name else f"column{index + 1}"


def _result_type(type_text: str) -> str:
    return "varchar(max)" if type_text.strip().lower() == "refcursor" else type_text


def _call(statement: str, tokens: list[Token], translate: Translate, select: Callable[[str], EngineSql]) -> CallProcedure:
    opening = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.L_PAREN), None)
    if opening is None or tokens[-1].token_type != TokenType.R_PAREN:
        raise SqlSyntaxError(tokens[-1].text, tokens[-1].start + 1)
    schema, name, after = _name(tokens, 1)
    if after != opening:
        raise SqlSyntaxError(tokens[after].text, tokens[after].start + 1)
    arguments = statement[tokens[opening].end + 1 : tokens[-1].start]
    return CallProcedure(schema, name, select(f"SELECT {arguments}") if arguments.strip() else None, translate)


def resolve(session: EngineSession, qualified: str, values: list[Any]) -> s.Procedure:
    """The procedure a call means: by name, then the count of input arguments, then their types."""
    schema, _, name = qualified.rpartition(".")
    found = [p for p in (parse_procedure(stored.definition) for stored in
                         catalog.candidates(session, schema or None, name)) if len(p.inputs) == len(values)]
    if len(found) > 1:
        found = [p for p in found if all(_fits(v, a.type_text) for v, a in zip(values, p.inputs))] or found
    if len(found) != 1:
        kinds = ", ".join(_kind_name(v) for v in values)
        if not found:
            raise EngineError(f"procedure {name}({kinds}) does not exist")
        raise EngineError(f"procedure {name}({kinds}) is not unique")
    return found[0]


_NUMERIC = {"smallint", "integer", "bigint", "numeric", "real", "double precision"}


def _fits(value: Any, type_text: str) -> bool:
    """Whether a CALL argument's value is of the argument type's kind (NULL and text fit any)."""
    import datetime
    import decimal

    key = catalog.type_key(type_text)
    if value is None or isinstance(value, str):
        return True
    if isinstance(value, bool):
        return key == "boolean"
    if isinstance(value, (int, float, decimal.Decimal)):
        return key in _NUMERIC
    if isinstance(value, (datetime.date, datetime.datetime)):
        return key in ("date", "timestamp", "timestamptz")
    return True


def _kind_name(value: Any) -> str:
    return {"int": "integer", "str": "unknown", "Decimal": "numeric", "float": "double precision", "bool": "boolean",
            "NoneType": "unknown", "date": "date", "datetime": "timestamp"}.get(type(value).__name__, "unknown")
