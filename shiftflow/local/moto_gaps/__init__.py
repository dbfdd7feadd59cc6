"""Patches that make moto's Step Functions interpreter run Shiftflow's state machines in-process: one module per gap.

Use under ``mock_aws(config={"stepfunctions": {"execute_state_machine": True}})``::

    with mock_aws(config=...), activate(time_scale=0.001):
        register_lambda_handler("SubmitScript", app.handler)
        ... start executions with a boto3 stepfunctions client ...
        wait_for_execution(execution_arn)

Every patch replaces a private moto internal, so moto is pinned exactly: importing this package raises
``MotoVersionError`` unless ``moto.__version__ == EXPECTED_MOTO_VERSION`` (``_version``). Patches are applied by
``install()`` / ``activate()`` (``_activation``) and all originals are restored when the (outermost) activation ends.

The gaps of moto 5.2.5, each closed by its own module (its docstring says which moto behaviour it fixes, what it
replaces, and how to drop it once moto fixes it; its tests are tests/unit/local/moto_gaps/test_<module>.py):

1. ``lambda_in_process``: Lambda tasks and ``lambda.invoke`` run registered Python handlers in-process, within the
   function's Timeout (``Sandbox.Timedout`` past it), each in an execution environment with its log stream (its
   lines, between Lambda's START / END / REPORT, to the runtime's log sink).
2. ``redshift_data_service_name``: ``aws-sdk:redshiftdata:*`` tasks reach boto3's ``redshift-data``.
3. ``sfn_start_execution``: ``states:startExecution`` (plain, ``.sync``, ``.sync:2``) maps its parameters, and a
   ``.sync`` parent resumes as soon as the child ends.
4. ``definite_jsonpath``: a definite JSONPath yields the value, not a one-element list.
5. ``execution_records``: unique names for unnamed executions, ISO-8601 timestamps in execution data, JSON-encoded
   string outputs, paged execution history.
6. ``jsonata_evaluation``: JSONata evaluates (jsonata-python), variables are escaped, errors are catchable.
7. ``scaled_waits``: Wait states and Retry backoff wait ``seconds * time_scale``.
8. ``completion_events``: ``wait_for_execution`` blocks on an event instead of polling.
9. ``states_errors_in_branches``: ``States.*`` errors out of Parallel branches and Map iterations are catchable.
10. ``parse_cache``: one ANTLR parse per definition.
11. ``deferred_batch_models``: importing the interpreter does not import EC2's models (applied once, at import).
12. ``redrive_count``: the context object has ``Execution.RedriveCount``.
13. ``atomic_dynamodb_writes``: each DynamoDB write request is atomic.
14. ``uncatchable_errors``: ``States.ALL`` does not catch or retry ``States.Runtime`` (nothing does) or
    ``States.DataLimitExceeded`` (only a Retrier or Catcher naming it).
15. ``path_runtime_errors``: a ResultPath that cannot be applied, a non-array ItemsPath, a non-string
    ErrorPath/CausePath fail with ``States.Runtime``.
16. ``choice_absent_variable``: a Choice comparison (other than IsPresent) on an absent Variable fails with
    ``States.Runtime`` instead of going to Default.
17. ``payload_size_limit``: 256 KiB allowed, checked also on a state's input after Parameters and on a Parallel's
    or Map's result.
18. ``error_cause_sizes``: Error cut to 256 characters and Cause to 32,768, in history, execution and catchers.
19. ``history_event_limit``: 25,000 events per execution, then ``States.Runtime``.
20. ``stop_ends_callback_waits``: StopExecution ends a ``.waitForTaskToken`` task's wait at once.
21. ``stop_error_and_cause``: StopExecution keeps its error and cause (DescribeExecution, the ExecutionAborted event).
22. ``early_task_success``: a task token completed before its task waits (with a heartbeat) completes the task.
23. ``cached_service_models``: one botocore Loader for moto's service models, reading through the on-disk cache.
24. ``backend_lookup``: looking up an existing moto backend takes no process-wide lock.
25. ``parser_error_names``: the Step Functions parser's errors keep their names (InvalidDefinition, ...) on the wire.
26. ``atomic_execution_starts``: an execution is published only once started; two starts of one name run one.
27. ``function_records``: the in-process functions are Lambda functions to moto's API (ListFunctions, GetFunction,
    GetFunctionConfiguration), recorded on the first Lambda request.
28. ``stack_resources``: a stack registered over resources the runtime created lists them (DescribeStackResource(s),
    ListStackResources) as CloudFormation does.
29. ``kinesis_sequence_numbers``: Kinesis sequence numbers are 56-digit numbers, unique in the stream, growing per
    shard and over time (moto's are 1, 2, 3 ... per shard).
30. ``role_records``: the roles the runtime enforces are IAM roles to moto's API (GetRole, ListRolePolicies,
    GetRolePolicy, ListAttachedRolePolicies), recorded on the first IAM request.
31. ``table_encryption_keys``: an encrypted table's AWS managed key (``alias/aws/dynamodb``) is made on the first
    KMS request, not at CreateTable (moto's KMS generates an RSA key for every key).
32. ``timed_out_stop_dates``: a TIMED_OUT execution has its stopDate in DescribeExecution and ListExecutions.
33. ``schedule_records``: the template's ScheduleV2 schedules are EventBridge Scheduler schedules to moto's API
    (ListSchedules, GetSchedule), recorded on the first Scheduler request.

docs/local-fidelity.md lists every AWS behaviour these reproduce, its source in AWS's documentation and its test.

To drop a gap once moto fixes it: delete its module and its entry in ``_activation.GAPS``, keep its tests (they state
AWS's behaviour) and run them against the new moto. Support modules (no gap of their own): ``_version`` (the pin),
``_patcher`` (records and restores every replaced attribute), ``_timestamps`` (AWS's timestamp format, shared by gaps
3 and 5), ``_failures`` (a ``States.*`` failure as moto builds one, shared by gaps 14-19), ``_pending_records`` (records
made on the first request to a service, shared by gaps 27, 30, 31 and 33), ``_activation``. Imports go one way: ``__init__`` -> ``_activation`` -> gap modules -> support modules
(gap 3 also uses gap 8's ``wait_done``); no module imports this package's ``__init__`` names.

Known limits (not patched): a timed-out handler's thread runs on (its result is dropped); a Lambda function's
Environment variables are not applied (the caller owns ``os.environ``); aws-sdk responses keep
boto3's member names below the top level (e.g. ``Records[0][0].longValue`` of GetStatementResult), which AWS may
PascalCase; optimized-integration timestamps are ISO-8601 strings everywhere; the first parse of each definition still
costs its ANTLR time once per process.

Verified to work unpatched (and tested in tests/unit/local/moto_gaps/test_unpatched_behaviour.py):
``dynamodb:updateItem`` with a ConditionExpression raising a catchable ``DynamoDB.ConditionalCheckFailedException``,
``dynamodb:putItem``, ``sns:publish``, Fail with ErrorPath/CausePath, Parallel and Map with ResultSelector, the
States.* intrinsics, ``$$.Execution.Id`` / ``Name``.
"""

from __future__ import annotations

# Order matters: the version check, then gap 11, both before any moto internal is imported.
from shiftflow.local.moto_gaps._version import EXPECTED_MOTO_VERSION, MotoVersionError, check_moto_version
from shiftflow.local.moto_gaps.deferred_batch_models import defer_batch_models

defer_batch_models()

from shiftflow.local.moto_gaps._activation import Installation, activate, install  # noqa: E402
from shiftflow.local.moto_gaps._timestamps import iso_timestamp  # noqa: E402
from shiftflow.local.moto_gaps.completion_events import wait_for_execution  # noqa: E402
from shiftflow.local.moto_gaps.function_records import record_function  # noqa: E402
from shiftflow.local.moto_gaps.lambda_in_process import (  # noqa: E402
    FunctionLimits,
    LambdaContext,
    clear_lambda_handlers,
    register_lambda_handler,
    unregister_lambda_handler,
)
from shiftflow.local.moto_gaps.role_records import record_roles  # noqa: E402
from shiftflow.local.moto_gaps.scaled_waits import time_scale  # noqa: E402
from shiftflow.local.moto_gaps.schedule_records import record_schedules  # noqa: E402
from shiftflow.local.moto_gaps.stack_resources import adopt_stack_resources  # noqa: E402

__all__ = [
    "EXPECTED_MOTO_VERSION",
    "FunctionLimits",
    "Installation",
    "LambdaContext",
    "MotoVersionError",
    "activate",
    "adopt_stack_resources",
    "check_moto_version",
    "clear_lambda_handlers",
    "install",
    "iso_timestamp",
    "record_function",
    "record_roles",
    "record_schedules",
    "register_lambda_handler",
    "time_scale",
    "unregister_lambda_handler",
    "wait_for_execution",
]
