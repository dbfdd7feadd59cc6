"""Gap 16: a Choice rule on an absent Variable is false, so the execution goes to Default.

AWS behaviour (Step Functions developer guide, "Choice workflow state", Choice Rules (JSONPath): "IsPresent" is the
test for a field that may be absent; ``States.Runtime`` in "Handling errors in Step Functions workflows"): any
comparison other than ``IsPresent`` on a Variable that is not in the input fails the execution with
``States.Runtime`` ("Invalid path '$.x': The choice state's condition path references an invalid value.").

moto behaviour (checked against moto 5.2.5): ``.../state/choice/comparison/variable.py`` samples an absent
Variable as ``NoSuchVariable`` and every operator but ``IsPresent`` compares it as false, so the Choice falls
through to Default (or ``States.NoChoiceMatched``).

Fix: ``ComparisonVariable._eval_body`` fails with ``States.Runtime`` when the Variable is absent and the operator
is not ``IsPresent``.

To drop: when moto raises for an absent Choice variable, delete this module and its entry in
``_activation.GAPS``; tests/unit/local/moto_gaps/test_choice_absent_variable.py must still pass.
"""

from __future__ import annotations

from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_operator_type import (
    ComparisonOperatorType,
)
from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_variable import ComparisonVariable
from moto.stepfunctions.parser.asl.component.state.choice.comparison.variable import NoSuchVariable
from moto.stepfunctions.parser.asl.eval.environment import Environment

from shiftflow.local.moto_gaps._failures import runtime_failure
from shiftflow.local.moto_gaps._patcher import Patcher


def _eval_body(self: ComparisonVariable, env: Environment) -> None:
    self.variable.eval(env)
    absent = isinstance(env.stack[-1], NoSuchVariable)
    if absent and self.comparison_function.operator_type != ComparisonOperatorType.IsPresent:
        path = self.variable.string_sampler.literal_value
        raise runtime_failure(
            env, f"Invalid path '{path}': The choice state's condition path references an invalid value."
        )
    self.comparison_function.eval(env)


def apply(patcher: Patcher) -> None:
    patcher.set(ComparisonVariable, "_eval_body", _eval_body)
