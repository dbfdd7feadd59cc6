"""Running a parsed procedure on DuckDB: PL/pgSQL's control flow in Python, each embedded statement and expression
through the translator as top-level SQL is, with the variables bound as parameters (variables.py). Only EXECUTE's
dynamic string is SQL text built at run time, as on Redshift.

Transactions follow stored-procedure-transaction-management.md: a CALL outside a transaction block runs in a
transaction of its own, committed when the call ends and rolled back when it fails; inside a block, in the
caller's transaction, where COMMIT, ROLLBACK and TRUNCATE are refused. COMMIT / ROLLBACK / TRUNCATE end the
transaction and start a new one (open cursors close). An EXCEPTION WHEN OTHERS handler is run as
stored-procedure-trapping-errors.md says: the transaction is rolled back, the handler runs in a new one, which is
committed, and the error is raised again (so the CALL fails, with the handler's work kept). A NONATOMIC procedure's
statements commit one by one unless START TRANSACTION (or the caller) opened a block; its handlers do not raise
the error again. RAISE INFO / NOTICE /
WARNING messages go to the session's notices (as PostgreSQL's do), RAISE EXCEPTION fails with its message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shiftflow.dataapi.engines.base import EngineError, EngineSession, QueryResult, StatementTimedOut
from shiftflow.dataapi.procedures import syntax as s
from shiftflow.dataapi.procedures.variables import PLACEHOLDER, Scope, Variable, bind, column_type, record_field
from shiftflow.dataapi.translate.model import NotSupportedLocally
from shiftflow.sql.splitter import split_statements

log = logging.getLogger(__name__)

MAX_NESTING = 16  # r_CALL_procedure.md: "The maximum number of nesting levels allowed is 16"
_RAISED = "P0001"  # PostgreSQL's SQLSTATE of RAISE EXCEPTION
_UNTYPED = {"record", "refcursor", ""}


class _Exit(Exception):
    def __init__(self, label: str | None, continues: bool) -> None:
        super().__init__(label)
        self.label, self.continues = label, continues


class _Return(Exception):
    pass


@dataclass
class CallContext:
    """One top-level CALL: the session, whether it runs inside the caller's transaction block, how deep the calls
    are nested, and how a statement is translated (translate(text) -> what the translator returns)."""

    session: EngineSession
    in_caller_transaction: bool
    translate: Callable[[str], Any]
    resolve: Callable[[EngineSession, str, list[Any]], s.Procedure]
    open_transaction: bool = False  # an engine transaction is open (the caller's, or one the call began)
    depth: int = 0
    portals: int = 0


@dataclass
class _Frame:
    """One procedure invocation: its FOUND and ROW_COUNT, and the error a handler is handling."""

    context: CallContext
    nonatomic: bool = False
    row_count: int = 0
    handling: list[EngineError] = field(default_factory=list)


def invoke(context: CallContext, procedure: s.Procedure, inputs: list[Any]) -> list[Any]:
    """Run `procedure` with the input arguments' values; the output arguments' values, in order."""
    if context.depth >= MAX_NESTING:
        raise EngineError(f"stored procedure nesting level exceeds the limit of {MAX_NESTING}")
    context.depth += 1
    # A procedure in the default mode runs in one transaction: the caller's, or its own (begun here).
    own = not procedure.nonatomic and not context.open_transaction
    if own:
        context.session.begin()
        context.open_transaction = True
    try:
        frame = _Frame(context, procedure.nonatomic)
        scope = Scope()
        scope.variables["found"] = Variable("boolean", False)
        values = iter(_coerce(frame, [(value, a.type_text) for value, a in zip(inputs, procedure.inputs)]))
        for position, argument in enumerate(procedure.arguments, start=1):
            name = argument.name or f"${position}"
            value = next(values) if argument.mode in ("IN", "INOUT") else None
            scope.variables[name] = Variable(_typed(argument.type_text), value)
            scope.positional.append(name)
        try:
            _block(frame, procedure.block, scope)
        except _Return:
            pass
        except _Exit as stray:
            raise EngineError(f"EXIT / CONTINUE label {stray.label or ''} is not in an enclosing loop") from None
        outputs = [scope.get(a.name or f"${i}").value for i, a in enumerate(procedure.arguments, start=1)
                   if a.mode in ("OUT", "INOUT")]
    except BaseException:
        if own and context.open_transaction:
            context.open_transaction = False
            context.session.rollback()
        raise
    finally:
        context.depth -= 1
    if own and context.open_transaction:
        context.open_transaction = False
        context.session.commit()
    return outputs


def _typed(type_text: str) -> str:
    return "" if type_text.strip().lower() in ("refcursor",) else type_text


# ---- blocks and statements --------------------------------------------------------------------------------------

def _block(frame: _Frame, block: s.Block, outer: Scope) -> None:
    scope = outer.child()
    for declaration in block.declarations:
        scope.variables[declaration.name] = _declare(frame, declaration, scope)
    try:
        try:
            _run(frame, block.body, scope)
        except _Exit as leaving:
            if leaving.label is None or leaving.label != block.label or leaving.continues:
                raise
    except EngineError as error:
        if block.handler is None or isinstance(error, StatementTimedOut):
            raise  # OTHERS "matches every error type except query cancellation"
        _handle(frame, block, scope, error)


def _declare(frame: _Frame, declaration: s.Declaration, scope: Scope) -> Variable:
    if declaration.alias_of:
        return scope.get(scope.argument(declaration.alias_of))
    type_text = declaration.type_text
    if declaration.cursor_query is not None:
        return Variable("", declaration.name, query=declaration.cursor_query)  # the portal is named after it
    if type_text.lower() == "refcursor":
        return Variable("", None)
    if type_text.lower() == "record":
        return Variable("record")
    value = None
    if declaration.default is not None:
        value = _evaluate(frame, declaration.default, scope, type_text)
    if declaration.not_null and value is None:
        raise EngineError(f'null value cannot be assigned to variable "{declaration.name}" declared NOT NULL')
    return Variable(type_text, value, declaration.constant, declaration.not_null)


def _handle(frame: _Frame, block: s.Block, scope: Scope, error: EngineError) -> None:
    """Default mode: roll back, run the handler in a new transaction, commit it and raise the error again.
    NONATOMIC: an open transaction block is rolled back (the engine aborted it), the handler runs and the error
    is not raised again (stored-procedure-trapping-errors.md)."""
    context = frame.context
    if context.in_caller_transaction:
        raise NotSupportedLocally("an EXCEPTION handler reached in a procedure called inside a transaction block "
                                  "(Redshift's handler rolls back and commits the transaction)")
    if context.open_transaction:
        context.session.rollback()
        context.open_transaction = False
    if not frame.nonatomic:
        context.session.begin()
        context.open_transaction = True
    handler = scope.child()
    handler.variables["sqlerrm"] = Variable("varchar(max)", str(error))
    handler.variables["sqlstate"] = Variable("varchar(5)", error.code or "XX000")
    frame.handling.append(error)
    try:
        _run(frame, block.handler or (), handler)
    except _Return:
        pass
    finally:
        frame.handling.pop()
    if frame.nonatomic:
        return
    context.session.commit()
    context.session.begin()
    raise error


def _run(frame: _Frame, statements: tuple[object, ...], scope: Scope) -> None:
    for statement in statements:
        _STATEMENTS[type(statement)](frame, statement, scope)


def _sql(frame: _Frame, statement: s.Sql, scope: Scope) -> None:
    bound = bind(statement.text, scope)
    result = _statement(frame, bound.text, bound.values)
    if statement.into:
        row = result.rows[0] if result.rows else None
        _assign_row(frame, scope, statement.into, result, row)
        frame.row_count = 1 if row is not None else 0
        _found(scope, row is not None)
    elif statement.perform:
        frame.row_count = len(result.rows)
        _found(scope, bool(result.rows))
    elif result.has_result_set:
        raise EngineError("query has no destination for result data")  # PostgreSQL's: use PERFORM or INTO
    else:
        frame.row_count = max(result.rowcount, 0)
        _found(scope, frame.row_count > 0)


def _assign(frame: _Frame, statement: s.Assign, scope: Scope) -> None:
    if "." in statement.target:
        name, field_name = statement.target.split(".", 1)
        variable = scope.get(name)
        _, type_text = record_field(variable, name, field_name)
        assert variable.fields is not None
        variable.fields[field_name] = (_evaluate(frame, statement.expression, scope, type_text), type_text)
        return
    variable = scope.get(statement.target)
    _set(variable, statement.target, _evaluate(frame, statement.expression, scope,
                                               "" if variable.is_record else variable.type_text))


def _set(variable: Variable, name: str, value: Any) -> None:
    if variable.constant:
        raise EngineError(f'variable "{name}" is declared CONSTANT')
    if variable.not_null and value is None:
        raise EngineError(f'null value cannot be assigned to variable "{name}" declared NOT NULL')
    variable.value = value


def _if(frame: _Frame, statement: s.If, scope: Scope) -> None:
    for condition, body in statement.branches:
        if _evaluate(frame, condition, scope) is True:
            _run(frame, body, scope)
            return
    if statement.otherwise is not None:
        _run(frame, statement.otherwise, scope)


def _case(frame: _Frame, statement: s.Case, scope: Scope) -> None:
    for values, body in statement.branches:
        if statement.subject is not None:
            condition = " OR ".join(f"({statement.subject}) = ({value})" for value in values)
        else:
            condition = values[0]
        if _evaluate(frame, condition, scope) is True:
            _run(frame, body, scope)
            return
    if statement.otherwise is None:
        raise EngineError("case not found")
    _run(frame, statement.otherwise, scope)


def _loop_iteration(frame: _Frame, body: tuple[object, ...], scope: Scope, label: str | None) -> bool:
    """Run the body once; False when an EXIT leaves this loop."""
    try:
        _run(frame, body, scope)
    except _Exit as leaving:
        if leaving.label is not None and leaving.label != label:
            raise
        return leaving.continues
    return True


def _loop(frame: _Frame, statement: s.Loop, scope: Scope) -> None:
    while statement.condition is None or _evaluate(frame, statement.condition, scope) is True:
        if not _loop_iteration(frame, statement.body, scope, statement.label):
            return


def _for_range(frame: _Frame, statement: s.ForRange, scope: Scope) -> None:
    low = _evaluate(frame, statement.low, scope, "integer")
    high = _evaluate(frame, statement.high, scope, "integer")
    step = _evaluate(frame, statement.step, scope, "integer") if statement.step else 1
    if low is None or high is None or step is None:
        raise EngineError("lower bound of FOR loop cannot be null" if low is None else
                          "upper bound of FOR loop cannot be null")
    if step <= 0:
        raise EngineError("BY value of FOR loop must be greater than zero")
    loop_scope = scope.child()
    variable = Variable("integer", low)
    loop_scope.variables[statement.variable] = variable
    value, ran = low, False
    while (value >= high) if statement.reverse else (value <= high):
        ran = True
        variable.value = value
        if not _loop_iteration(frame, statement.body, loop_scope, statement.label):
            break
        value = value - step if statement.reverse else value + step
    _found(scope, ran)


def _for_query(frame: _Frame, statement: s.ForQuery, scope: Scope) -> None:
    if statement.dynamic:
        result = _dynamic(frame, _evaluate(frame, statement.query, scope))
    else:
        bound = bind(statement.query, scope)
        result = _statement(frame, bound.text, bound.values)
    ran = False
    for row in result.rows:
        ran = True
        _assign_row(frame, scope, statement.targets, result, row)
        if not _loop_iteration(frame, statement.body, scope, statement.label):
            break
    _found(scope, ran)


def _exit(frame: _Frame, statement: s.Exit, scope: Scope) -> None:
    if statement.condition is None or _evaluate(frame, statement.condition, scope) is True:
        raise _Exit(statement.label, statement.continues)


def _return(frame: _Frame, statement: s.Return, scope: Scope) -> None:
    raise _Return()


def _raise(frame: _Frame, statement: s.Raise, scope: Scope) -> None:
    if not statement.level:
        if not frame.handling:
            raise EngineError("RAISE without parameters cannot be used outside an exception handler")
        raise frame.handling[-1]
    texts = [_text(frame, argument, scope) for argument in statement.arguments]
    message = _format(statement.message, texts)
    if statement.level == "EXCEPTION":
        raise EngineError(message, code=_RAISED)
    if statement.level in ("INFO", "NOTICE", "WARNING"):  # LOG and DEBUG go to the server log only
        notices = getattr(frame.context.session, "notices", None)
        if notices is not None:
            notices.append(f"{statement.level}: {message}")
        log.info("stored procedure %s: %s", statement.level, message)


def _format(message: str, texts: list[str]) -> str:
    out, arguments, i = [], iter(texts), 0
    while i < len(message):
        if message[i] == "%":
            if message[i + 1 : i + 2] == "%":
                out.append("%")
                i += 2
                continue
            out.append(next(arguments))
        else:
            out.append(message[i])
        i += 1
    return "".join(out)


def _text(frame: _Frame, expression: str, scope: Scope) -> str:
    """An argument of RAISE as PostgreSQL prints it: its text, t / f for booleans, <NULL> for null."""
    bound = bind(expression, scope, expression=True)
    row = _statement(frame, f"SELECT ({bound.text}), CAST(({bound.text}) AS VARCHAR)", bound.values).rows[0]
    if row[0] is None:
        return "<NULL>"
    if isinstance(row[0], bool):
        return "t" if row[0] else "f"
    return str(row[1])


def _execute(frame: _Frame, statement: s.Execute, scope: Scope) -> None:
    result = _dynamic(frame, _evaluate(frame, statement.command, scope))
    if statement.into:
        row = result.rows[0] if result.rows else None
        _assign_row(frame, scope, statement.into, result, row)
        _found(scope, row is not None)
    frame.row_count = len(result.rows) if result.has_result_set else max(result.rowcount, 0)


def _dynamic(frame: _Frame, command: Any) -> QueryResult:
    """EXECUTE's string: each statement in it translated and run as top-level SQL (no variables substituted)."""
    if command is None:
        raise EngineError("query string argument of EXECUTE is null")
    result = QueryResult()
    statements = split_statements(str(command))
    if not statements:
        raise EngineError("cannot EXECUTE an empty query string")
    for statement in statements:
        result = _statement(frame, statement.text, {}, dynamic=True)
    return result


def _diagnostics(frame: _Frame, statement: s.Diagnostics, scope: Scope) -> None:
    variable = scope.get(statement.target)
    _set(variable, statement.target, _coerce(frame, [(frame.row_count, variable.type_text)])[0])


def _transaction(frame: _Frame, statement: s.Transaction, scope: Scope) -> None:
    if statement.action != "start":
        _end_transaction(frame, statement.action)
    elif not frame.nonatomic:
        raise NotSupportedLocally("START TRANSACTION outside a NONATOMIC procedure")
    elif not frame.context.open_transaction:  # inside an open block it does nothing (no subtransactions)
        frame.context.session.begin()
        frame.context.open_transaction = True


def _end_transaction(frame: _Frame, action: str) -> None:
    """COMMIT / ROLLBACK / TRUNCATE's commit. Default mode: the transaction ends and a new one begins, refused in
    a procedure called inside a transaction block. NONATOMIC: the open block ends (the caller's goes on in a new
    transaction); without one, statements commit on their own already."""
    context = frame.context
    if frame.nonatomic:
        if not context.open_transaction:
            return
        getattr(context.session, action)()
        if context.in_caller_transaction:
            context.session.begin()
        else:
            context.open_transaction = False
        return
    if context.in_caller_transaction:
        raise EngineError("invalid transaction termination")  # a procedure called inside a transaction block
    getattr(context.session, action)()
    context.session.begin()


def _call(frame: _Frame, statement: s.Call, scope: Scope) -> None:
    bound = bind(", ".join(statement.arguments), scope, expression=True) if statement.arguments else None
    values = list(_statement(frame, f"SELECT {bound.text}", bound.values).rows[0]) if bound else []
    procedure = frame.context.resolve(frame.context.session, statement.name, values)
    outputs = invoke(frame.context, procedure, values)
    inouts = [i for i, a in enumerate(procedure.inputs) if a.mode == "INOUT"]
    if len(procedure.outputs) != len(inouts):
        raise EngineError("a nested CALL of a procedure with OUT arguments (the inner procedure must use INOUT)")
    for index, value in zip(inouts, outputs):
        target = statement.arguments[index].strip().lower()
        variable = scope.find(target)
        if variable is None:
            raise EngineError(f"argument {index + 1} of the nested CALL is INOUT: it must be a variable")
        _set(variable, target, _coerce(frame, [(value, variable.type_text)])[0])


def _open(frame: _Frame, statement: s.Open, scope: Scope) -> None:
    from shiftflow.dataapi.translate.commands.cursors import DeclareCursor

    variable = scope.get(statement.cursor)
    if statement.query is None and variable.query is None:
        raise EngineError(f'cursor "{statement.cursor}" is not bound to a query: OPEN it FOR a query')
    if variable.value is None:
        frame.context.portals += 1
        variable.value = f"unnamed_portal_{frame.context.portals}"
    if statement.dynamic:
        text, values = str(_evaluate(frame, statement.query or "", scope)).strip().rstrip(";"), {}
    else:
        bound = bind(statement.query if statement.query is not None else variable.query or "", scope)
        text, values = bound.text, bound.values
    translated = frame.context.translate(text)
    if not hasattr(translated, "text") or not translated.text.lstrip().upper().startswith(("SELECT", "WITH", "(")):
        raise NotSupportedLocally("a cursor over something other than a query")
    DeclareCursor(str(variable.value).lower(), translated).run(
        frame.context.session, _parameters(translated, values), True)


def _fetch(frame: _Frame, statement: s.Fetch, scope: Scope) -> None:
    from shiftflow.dataapi.translate.commands.cursors import FetchCursor

    name = scope.get(statement.cursor).value
    result = FetchCursor(str(name).lower(), 1).run(frame.context.session, {}, True)
    row = result.rows[0] if result.rows else None
    _assign_row(frame, scope, statement.into, result, row)
    frame.row_count = 1 if row is not None else 0
    _found(scope, row is not None)


def _close(frame: _Frame, statement: s.Close, scope: Scope) -> None:
    from shiftflow.dataapi.translate.commands.cursors import CloseCursor

    CloseCursor(str(scope.get(statement.cursor).value).lower()).run(frame.context.session, {}, True)


def _null(frame: _Frame, statement: s.Null, scope: Scope) -> None:
    pass


_STATEMENTS: dict[type, Callable[[_Frame, Any, Scope], None]] = {
    s.Block: lambda frame, block, scope: _block(frame, block, scope), s.Sql: _sql, s.Assign: _assign, s.If: _if,
    s.Case: _case, s.Loop: _loop, s.ForRange: _for_range, s.ForQuery: _for_query, s.Exit: _exit,
    s.Return: _return, s.Raise: _raise, s.Execute: _execute, s.Diagnostics: _diagnostics,
    s.Transaction: _transaction, s.Call: _call, s.Open: _open, s.Fetch: _fetch, s.Close: _close, s.Null: _null}


# ---- values -----------------------------------------------------------------------------------------------------

def _found(scope: Scope, value: bool) -> None:
    scope.get("found").value = value


def _evaluate(frame: _Frame, expression: str, scope: Scope, type_text: str = "") -> Any:
    bound = bind(expression, scope, expression=True)
    text = bound.text if type_text.strip().lower() in _UNTYPED else f"CAST(({bound.text}) AS {type_text})"
    result = _statement(frame, f"SELECT {text}", bound.values)
    if len(result.columns) != 1:
        raise EngineError(f"query \"SELECT {expression}\" returned {len(result.columns)} columns")
    if len(result.rows) > 1:
        raise EngineError(f"query \"SELECT {expression}\" returned more than one row")
    return result.rows[0][0] if result.rows else None


def _coerce(frame: _Frame, pairs: list[tuple[Any, str]]) -> list[Any]:
    """Values converted to their variables' types, in one engine query."""
    typed = [(i, value, type_text) for i, (value, type_text) in enumerate(pairs)
             if type_text.strip().lower() not in _UNTYPED]
    values = [value for value, _ in pairs]
    if not typed:
        return values
    text = ", ".join(f"CAST(:{PLACEHOLDER}{i} AS {type_text})" for i, _, type_text in typed)
    row = _statement(frame, f"SELECT {text}", {f"{PLACEHOLDER}{i}": value for i, value, _ in typed}).rows[0]
    for (i, _, _), value in zip(typed, row):
        values[i] = value
    return values


def _assign_row(frame: _Frame, scope: Scope, targets: tuple[str, ...], result: QueryResult,
                row: Any | None) -> None:
    """A row into a record (its columns become fields) or into a list of variables (NULLs when no row)."""
    first = scope.get(targets[0].split(".")[0])
    if len(targets) == 1 and first.is_record and "." not in targets[0]:
        first.fields = {column.name.lower(): (row[i] if row is not None else None, column_type(column))
                        for i, column in enumerate(result.columns)}
        return
    if row is not None and len(row) != len(targets):
        raise EngineError(f"query returned {len(row)} columns, INTO names {len(targets)} variables")
    values = list(row) if row is not None else [None] * len(targets)
    variables = []
    for target in targets:
        if "." in target:
            raise NotSupportedLocally("INTO a record's field")
        variables.append(scope.get(target))
    for target, variable, value in zip(targets, variables,
                                       _coerce(frame, [(v, var.type_text) for v, var in zip(values, variables)])):
        _set(variable, target, value)


# ---- running translated SQL -------------------------------------------------------------------------------------

def _statement(frame: _Frame, text: str, values: dict[str, Any], dynamic: bool = False) -> QueryResult:
    """One Redshift statement, translated and run in the procedure's transaction."""
    from shiftflow.dataapi.translate.model import EngineSql, S3Command, SessionCommand, TransactionControl

    context = frame.context
    translated = context.translate(text)
    if isinstance(translated, TransactionControl):
        raise EngineError(f"{translated.action.upper()} cannot be run as dynamic SQL in a stored procedure"
                          if dynamic else f"{translated.action.upper()} inside a statement of a stored procedure")
    if isinstance(translated, S3Command):
        raise NotSupportedLocally(f"{translated.kind.upper()} inside a stored procedure (the emulator runs it "
                                  "itself: run it as a statement of its own)")
    call = getattr(translated, "call_in", None)
    if call is not None:  # CALL through EXECUTE: nested in this call
        return call(context, values)
    parameters = _parameters(translated, values)
    if isinstance(translated, SessionCommand):
        return translated.run(context.session, parameters, True)
    assert isinstance(translated, EngineSql)
    result = translated.execute(context.session, parameters)
    if translated.commits:  # TRUNCATE commits the transaction it runs in
        _end_transaction(frame, "commit")
    return result


def _parameters(translated: Any, values: dict[str, Any]) -> dict[str, Any]:
    optional = getattr(translated, "optional_parameter_names", ())
    missing = [name for name in translated.parameter_names if name not in values and name not in optional]
    if missing:
        if missing[0].startswith("shiftflow_system_"):
            raise NotSupportedLocally("system tables read inside a stored procedure on the DuckDB engine")
        raise EngineError(f"there is no parameter :{missing[0]} inside a stored procedure")
    return {name: values[name] for name in translated.parameter_names if name in values}
