"""Gap 15: paths that cannot be applied do not fail as ``States.Runtime``, or fail with a Python exception's text.

AWS behaviour (Step Functions developer guide, "Handling errors in Step Functions workflows", ``States.Runtime``;
"Fail workflow state": ErrorPath and CausePath "must select a field that contains a string value"; "Map workflow
state", ItemsPath: "must ... select a JSON array"): a ResultPath that cannot be applied to the state input, an
ItemsPath that does not select an array, and an ErrorPath or CausePath that selects a non-string all fail the
execution with ``States.Runtime`` (gap 14 makes it uncatchable).

moto behaviour (checked against moto 5.2.5): ``.../common/path/result_path.py ResultPath`` lets jsonpath-ng's
TypeError escape ("'str' object does not support item assignment"); ``.../state_map/state_map.py`` reports a
non-array ItemsPath as a catchable ``States.QueryEvaluationError``; ``.../state/fail/state_fail.py`` crashes on a
non-string ErrorPath with an AttributeError and passes a non-string CausePath through as the cause.

Fix: ``ResultPath._eval_body``, ``ItemsPath._eval_body``, ``ErrorPath._eval_body`` and ``CausePath._eval_body`` fail
with ``States.Runtime`` and a cause naming the path and the value. AWS's exact cause texts are not documented: these
are ours (docs/local-fidelity.md).

To drop: when moto raises ``States.Runtime`` for these four cases, delete this module and its entry in
``_activation.GAPS``; tests/unit/local/moto_gaps/test_path_runtime_errors.py must still pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.asl.component.common.path.items_path import ItemsPath
from moto.stepfunctions.parser.asl.component.common.path.result_path import ResultPath
from moto.stepfunctions.parser.asl.component.state.fail.cause_decl import CausePath
from moto.stepfunctions.parser.asl.component.state.fail.error_decl import ErrorPath
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.asl.utils.json_path import NoSuchJsonPathError

from shiftflow.local.moto_gaps._failures import runtime_failure
from shiftflow.local.moto_gaps._patcher import Patcher

_SHOWN_INPUT_CHARACTERS = 1_000  # enough of the value to recognise it; the whole input can be 256 KiB


def _shown(value: Any) -> str:
    text = to_json_str(value)
    return text if len(text) <= _SHOWN_INPUT_CHARACTERS else text[:_SHOWN_INPUT_CHARACTERS] + "..."


def _patch_result_path(patcher: Patcher) -> None:
    original = ResultPath._eval_body

    def _eval_body(self: ResultPath, env: Environment) -> None:
        try:
            original(self, env)
        except (TypeError, AttributeError, KeyError, IndexError, ValueError) as error:
            cause = (
                f"Unable to apply ResultPath '{self.result_path_src}' to the state input "
                f"'{_shown(env.states.get_input())}': {error}"
            )
            raise runtime_failure(env, cause) from None

    patcher.set(ResultPath, "_eval_body", _eval_body)


def _patch_items_path(patcher: Patcher) -> None:
    original = ItemsPath._eval_body

    def _eval_body(self: ItemsPath, env: Environment) -> None:
        try:
            original(self, env)
        except NoSuchJsonPathError as missing:
            cause = (
                f"The JSONPath '{missing.json_path}' specified for the field 'ItemsPath' "
                f"could not be found in the input '{_shown(missing.data)}'"
            )
            raise runtime_failure(env, cause) from None
        items = env.stack[-1]
        if not isinstance(items, list):
            path = self.string_sampler.literal_value
            cause = f"The ItemsPath '{path}' must select an array, it selected '{_shown(items)}'"
            raise runtime_failure(env, cause)

    patcher.set(ItemsPath, "_eval_body", _eval_body)


def _string_path(field: str, declaration: type) -> Callable[[Any, Environment], None]:
    original = declaration._eval_body

    def _eval_body(self: Any, env: Environment) -> None:
        original(self, env)
        value = env.stack[-1]
        if not isinstance(value, str):
            path = getattr(self.string_expression, "literal_value", "?")
            cause = f"The {field} '{path}' must select a string, it selected '{_shown(value)}'"
            raise runtime_failure(env, cause)

    return _eval_body


def apply(patcher: Patcher) -> None:
    _patch_result_path(patcher)
    _patch_items_path(patcher)
    patcher.set(ErrorPath, "_eval_body", _string_path("ErrorPath", ErrorPath))
    patcher.set(CausePath, "_eval_body", _string_path("CausePath", CausePath))
