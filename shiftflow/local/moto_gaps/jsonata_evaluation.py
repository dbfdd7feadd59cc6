"""Gap 6: JSONata does not evaluate, string variables are not escaped, and a throwing expression is uncatchable.

moto behaviour (checked against moto 5.2.5): ``.../asl/jsonata/jsonata.py eval_jsonata_expression`` calls ``None``
(the JVM bridge is stubbed out); ``encode_jsonata_variable_declarations`` writes strings as ``"{value}"``, so a quote
or newline in a value breaks the expression; an expression that throws escapes as an uncatchable ``States.Runtime``.

Fix: rebinds ``eval_jsonata_expression`` (in ``jsonata.py``, ``string_expression.py`` and ``validations.py``) to
jsonata-python, and ``encode_jsonata_variable_declarations`` (in ``jsonata.py``, ``eval/states.py`` and
``eval/variable_store.py``) to a JSON-escaping one; ``StringJSONata._eval_body`` (``.../string/string_expression.py``)
now raises the catchable ``States.QueryEvaluationError`` as AWS does.

Known limit: AWS's extra JSONata functions that jsonata-python lacks (``$uuid``, ``$hash``, ``$random``, ``$parse``)
answer "not supported".

To drop: when moto evaluates JSONata without the JVM, escapes variables and raises ``States.QueryEvaluationError``,
delete this module and its entry in ``_activation.GAPS``; tests/unit/local/moto_gaps/test_jsonata_evaluation.py must
still pass (each of the three parts can also be removed on its own from ``apply``).
"""

from __future__ import annotations

from typing import Any

import jsonata
from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.common.string import string_expression
from moto.stepfunctions.parser.asl.eval import states as asl_states
from moto.stepfunctions.parser.asl.eval import variable_store
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.jsonata import jsonata as asl_jsonata
from moto.stepfunctions.parser.asl.jsonata import validations as asl_jsonata_validations
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

from shiftflow.local.moto_gaps._patcher import Patcher


def _eval_jsonata_expression(expression: str) -> Any:
    try:
        return jsonata.Jsonata(expression).evaluate(None)
    except Exception as exc:  # noqa: BLE001 - moto expects its own exception type for any evaluation error
        raise asl_jsonata.JSONataException("UNKNOWN", str(exc)) from exc


def _encode_jsonata_variable_declarations(bindings: dict[str, Any]) -> str:
    # moto wrote strings as f'"{value}"': a quote or newline in a value broke the expression.
    return "".join(f"{name}:={to_json_str(value, separators=(',', ':'))};" for name, value in bindings.items())


def _query_evaluation_failure(env: Any, expression: str, message: str) -> Exception:
    """The catchable States.QueryEvaluationError AWS raises when a JSONata expression throws."""
    error_name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
    details = EvaluationFailedEventDetails(
        error=error_name.error_name,
        cause=f"The JSONata expression '{expression}' threw an error during evaluation. {message}",
    )
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(evaluationFailedEventDetails=details),
    )
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=error_name,
            event_type=HistoryEventType.EvaluationFailed,
            event_details=EventDetails(evaluationFailedEventDetails=details),
        )
    )


def apply(patcher: Patcher) -> None:
    original_eval_body = string_expression.StringJSONata._eval_body

    def _eval_body(self: Any, env: Any) -> None:
        try:
            original_eval_body(self, env)
        except asl_jsonata.JSONataException as exc:  # moto let it escape as an uncatchable States.Runtime
            raise _query_evaluation_failure(env, self.expression, str(exc.details)) from exc

    patcher.set(string_expression.StringJSONata, "_eval_body", _eval_body)
    patcher.rebind(
        [asl_jsonata, string_expression, asl_jsonata_validations],
        "eval_jsonata_expression",
        asl_jsonata.eval_jsonata_expression,
        _eval_jsonata_expression,
    )
    patcher.rebind(
        [asl_jsonata, asl_states, variable_store],
        "encode_jsonata_variable_declarations",
        asl_jsonata.encode_jsonata_variable_declarations,
        _encode_jsonata_variable_declarations,
    )
