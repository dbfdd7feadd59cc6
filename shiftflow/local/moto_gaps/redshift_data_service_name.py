"""Gap 2: ``aws-sdk:redshiftdata:*`` tasks fail.

moto behaviour (checked against moto 5.2.5): the ASL service name ``redshiftdata`` is looked up as a boto3 service of
that name, but boto3 names it ``redshift-data``; and the aws-sdk error prefix table has no entry for it, so errors
would not read ``RedshiftData.<Code>`` as on AWS.

Fix: extends ``StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES`` (``.../service/state_task_service.py``) with
``redshiftdata -> redshift-data`` and ``_SERVICE_ERROR_NAMES`` (``.../service/state_task_service_aws_sdk.py``) with
``redshiftdata -> RedshiftData``.

To drop: when both moto tables carry ``redshiftdata``, delete this module and its entry in ``_activation.GAPS``;
tests/unit/local/moto_gaps/test_redshift_data_service_name.py must still pass.
"""

from __future__ import annotations

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)

from shiftflow.local.moto_gaps._patcher import Patcher


def apply(patcher: Patcher) -> None:
    overrides = dict(StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES)
    overrides["redshiftdata"] = "redshift-data"
    patcher.set(StateTaskService, "_SERVICE_NAME_SFN_TO_BOTO_OVERRIDES", overrides)
    error_names = dict(state_task_service_aws_sdk._SERVICE_ERROR_NAMES)
    error_names["redshiftdata"] = "RedshiftData"
    patcher.set(state_task_service_aws_sdk, "_SERVICE_ERROR_NAMES", error_names)
