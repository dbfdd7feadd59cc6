"""Gap 25: the errors of moto's Step Functions parser reach the client without their name.

moto behaviour (checked against moto 5.2.5): ``moto/stepfunctions/parser/api.py`` imports moto's ``AWSError`` as
``ServiceException``, and its 33 exception classes name themselves with ``code`` and ``status_code``, while
``AWSError`` reads ``TYPE`` and ``STATUS``: the answer's ``__type`` is null and its X-Amzn-ErrorType
``UnknownError``, so the AWS CLI prints "An error occurred () when calling the CreateStateMachine operation" and
boto3 an empty Error Code: CreateStateMachine with an invalid definition (AWS: InvalidDefinition), UpdateStateMachine
with nothing to update (MissingRequiredParameter), StartExecution with an input that is not JSON (InvalidExecutionInput;
gap 5 now checks it first) ... all of them.

Fix: each of those classes gets ``TYPE`` from its ``code`` and ``STATUS`` from its ``status_code``.

To drop: when moto's parser exceptions carry their name (``TYPE``), delete this module and its entry in
``_activation.GAPS``; tests/unit/local/moto_gaps/test_parser_error_names.py must still pass.
"""

from __future__ import annotations

from moto.core.exceptions import AWSError
from moto.stepfunctions.parser import api

from shiftflow.local.moto_gaps._patcher import Patcher


def apply(patcher: Patcher) -> None:
    for error in vars(api).values():
        if isinstance(error, type) and issubclass(error, AWSError) and error is not AWSError \
                and error.TYPE is None and isinstance(error.__dict__.get("code"), str):
            patcher.set(error, "TYPE", error.__dict__["code"])
            patcher.set(error, "STATUS", error.__dict__.get("status_code", 400))
