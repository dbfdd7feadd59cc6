"""Gap 9: a ``States.*`` error out of a Parallel branch or a Map iteration cannot be caught.

moto behaviour (checked against moto 5.2.5): a branch or iteration failing with a reserved error (``States.TaskFailed``
from a child execution, ``States.Timeout`` ...) crashes the whole execution with "Custom Error Names MUST NOT begin
with the prefix 'States.'", so no Catch runs: ``.../state_parallel/branches_decl.py`` and
``.../state_map/iteration/iteration_worker.py`` wrap every branch error in ``CustomErrorName``, and so does
``.../state/fail/state_fail.py`` for a Fail state whose ErrorPath re-raises a caught ``States.*`` error.

Fix: gives those three modules a ``CustomErrorName`` that builds a ``StatesErrorName`` for the reserved names, as AWS
reports them.

To drop: when moto keeps reserved names as ``StatesErrorName`` in those modules, delete this module and its entry in
``_activation.GAPS``; tests/unit/local/moto_gaps/test_states_errors_in_branches.py must still pass.
"""

from __future__ import annotations

from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import iteration_worker
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl
from moto.stepfunctions.parser.asl.component.state.fail import state_fail

from shiftflow.local.moto_gaps._patcher import Patcher


def _branch_error_name(error_name: str) -> ErrorName:  # also called positionally by state_fail.py
    """The error name a failed branch reports: reserved `States.*` names stay Step Functions' own."""
    if isinstance(error_name, str) and error_name.startswith("States."):
        return StatesErrorName(typ=StatesErrorNameType.from_name(error_name))
    return CustomErrorName(error_name=error_name)


def apply(patcher: Patcher) -> None:
    for module in (branches_decl, iteration_worker, state_fail):
        patcher.set(module, "CustomErrorName", _branch_error_name)
