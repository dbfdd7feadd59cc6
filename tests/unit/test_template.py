"""template.yaml: lint-clean, transformable by SAM, IAM scoped, Rules that reject bad Redshift targets, state
machine substitutions that match the ASL files, and a `sam build` whose layer is pure Python."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from moto.events.models import EventPattern

from shiftflow.jobs.target import RedshiftTarget
from tests.unit.template_helpers import (
    ROOT,
    TEMPLATE_PATH,
    Evaluator,
    as_list,
    asl_placeholders,
    load_template,
    policy_documents,
    sam_transform,
    statements,
)

BIN = Path(sys.executable).parent
TOOL_ENV = {**os.environ, "SAM_CLI_TELEMETRY": "0", "SAM_CLI_POLL_DELAY": "0"}

# Actions that accept no resource ARN, the only ones allowed with Resource "*".
ACTIONS_WITHOUT_RESOURCES = {
    # Statement ids are not IAM resources; narrowed by the statement owner condition instead.
    "redshift-data:DescribeStatement",
    "redshift-data:GetStatementResult",
    "redshift-data:CancelStatement",
    "redshift-data:ListStatements",
    # A task token of a service-integration Task state (event-mode jobs) names no IAM resource.
    "states:SendTaskSuccess",
    # X-Ray segments.
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    # Step Functions log delivery.
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}
# AWS managed policies SAM attaches (state machine tracing); anything else must be written out in the template.
ALLOWED_MANAGED_POLICIES = {"arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"}

STABLE_OUTPUTS = {
    "RedshiftStreamingRoleArn",
    "SalesDataPipelineStateMachineArn",
    "RunSqlJobStateMachineArn",
    "ScriptsBucketName",
    "JobGuardTableName",
    "RunHistoryTableName",
    "NotificationTopicArn",
    "DataApiFunctionRoleName",
    "SubmitSqlJobFunctionName",
    "GetStatementStatusFunctionName",
    "ReadStatementResultFunctionName",
    "CheckValidationResultsFunctionName",
    "DescribeFailureFunctionName",
    "CompletionTableName",
    # configured workflows
    "WorkflowStateMachineArn",
    "WorkflowStageStateMachineArn",
    "WorkflowConfigTableName",
    "WorkflowAuditTableName",
    "JobAuditTableName",
    "LoadWorkflowFunctionName",
    "CloseWorkflowRunFunctionName",
    "RedshiftAccessScope",
}
FUNCTION_ENVIRONMENT = {
    "SCRIPTS_BUCKET",
    "REDSHIFT_DATABASE",
    "REDSHIFT_CLUSTER_ID",
    "REDSHIFT_DB_USER",
    "REDSHIFT_WORKGROUP",
    "REDSHIFT_SECRET_ARN",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_LOG_LEVEL",
}
STATE_MACHINE_FILES = {
    "RunSqlJobStateMachine": "statemachine/run_sql_job.asl.json",
    "SalesDataPipelineStateMachine": "statemachine/sales_data_pipeline.asl.json",
    "WorkflowStateMachine": "statemachine/workflow.asl.json",
    "WorkflowStageStateMachine": "statemachine/workflow_stage.asl.json",
}
# Functions that call no Data API: each has a role of its own, limited to what it touches.
OWN_ROLE_FUNCTIONS = {
    "DescribeFailureFunction": "DescribeFailureFunctionRole",
    "LoadWorkflowFunction": "LoadWorkflowFunctionRole",
    "CloseWorkflowRunFunction": "CloseWorkflowRunFunctionRole",
    "HealEndedRunFunction": "HealEndedRunFunctionRole",
}
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shiftflow-redshift-AbCdEf"
WORKGROUP_ID = "0f1e2d3c-4b5a-6978-8091-a2b3c4d5e6f7"


@pytest.fixture(scope="module")
def template():
    return load_template()


@pytest.fixture(scope="module")
def transformed(template):
    return sam_transform(template)


def resources_of_type(template, resource_type):
    return {name: res for name, res in template["Resources"].items() if res["Type"] == resource_type}


# ---------------------------------------------------------------- linters and the SAM transform


def test_cfn_lint_reports_nothing_not_even_informational():
    result = subprocess.run(
        [BIN / "cfn-lint", "--include-checks", "I", "--", TEMPLATE_PATH],
        capture_output=True, text=True, env=TOOL_ENV, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_lint_is_clean():
    result = subprocess.run(
        [BIN / "sam", "validate", "--lint", "--template", TEMPLATE_PATH],
        capture_output=True, text=True, env=TOOL_ENV, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_sam_transform_produces_the_expected_resources(template, transformed):
    types = {res["Type"] for res in transformed["Resources"].values()}
    assert "Transform" not in transformed
    # The Rules reach CloudFormation unchanged, so they still run before any resource is created.
    assert transformed["Rules"] == template["Rules"]
    assert {
        "AWS::Lambda::Function",
        "AWS::Lambda::LayerVersion",
        "AWS::StepFunctions::StateMachine",
        "AWS::Scheduler::Schedule",
        "AWS::DynamoDB::Table",
        "AWS::S3::Bucket",
        "AWS::SNS::Topic",
    } <= types
    assert len(resources_of_type(transformed, "AWS::Lambda::Function")) == 10
    assert len(resources_of_type(transformed, "AWS::StepFunctions::StateMachine")) == 4


# ---------------------------------------------------------------- IAM


def test_resource_star_only_for_actions_that_accept_no_resource(transformed):
    checked = 0
    for where, document in policy_documents(transformed):
        for statement in statements(document):
            assert statement["Effect"] == "Allow", f"{where}: unexpected {statement['Effect']}"
            assert "NotAction" not in statement and "NotResource" not in statement, where
            if "*" in as_list(statement["Resource"]):
                extra = set(as_list(statement["Action"])) - ACTIONS_WITHOUT_RESOURCES
                assert not extra, f"{where}: {sorted(extra)} with Resource '*'"
                checked += 1
    assert checked >= 4


def test_no_wildcard_actions(transformed):
    for where, document in policy_documents(transformed):
        for statement in statements(document):
            for action in as_list(statement["Action"]):
                assert "*" not in action, f"{where}: wildcard action {action}"


def test_statement_reads_are_limited_to_statements_this_role_ran(transformed):
    """The Data API lets only the role that ran a statement follow it; the condition keeps it that way."""
    policy = transformed["Resources"]["DataApiStatementAccessPolicy"]["Properties"]
    assert policy["Roles"] == [{"Ref": "DataApiFunctionRole"}]
    (statement,) = statements(policy["PolicyDocument"])
    assert statement["Resource"] == "*"
    assert set(as_list(statement["Action"])) == {
        "redshift-data:DescribeStatement", "redshift-data:GetStatementResult", "redshift-data:CancelStatement"}
    assert statement["Condition"] == {
        "StringLike": {"redshift-data:statement-owner-iam-userid": {"Fn::Sub": "${DataApiFunctionRole.RoleId}:*"}}
    }
    for where, document in policy_documents(transformed):
        for other in statements(document):
            actions = {a for a in as_list(other["Action"]) if a.startswith("redshift-data:")}
            if actions & {"redshift-data:DescribeStatement", "redshift-data:GetStatementResult",
                          "redshift-data:CancelStatement"}:
                assert other is statement or where == "DataApiStatementAccessPolicy", where


def test_only_the_xray_managed_policy_is_attached(transformed):
    for name, role in resources_of_type(transformed, "AWS::IAM::Role").items():
        assert set(role["Properties"].get("ManagedPolicyArns", [])) <= ALLOWED_MANAGED_POLICIES, name


def test_every_data_api_function_shares_the_role_that_runs_the_statements(template):
    functions = resources_of_type(template, "AWS::Serverless::Function")
    roles = {name: fn["Properties"]["Role"] for name, fn in functions.items()}
    data_api = {name for name in roles if name not in OWN_ROLE_FUNCTIONS}
    assert {json.dumps(roles[name]) for name in data_api} == {json.dumps({"Fn::GetAtt": ["DataApiFunctionRole", "Arn"]})}
    for name, role in OWN_ROLE_FUNCTIONS.items():
        assert roles[name] == {"Fn::GetAtt": [role, "Arn"]}, name


def test_stopped_sql_jobs_are_cancelled_by_the_role_that_ran_them(template, transformed):
    """An ABORTED, TIMED_OUT or FAILED RunSqlJob execution (and no other state machine's) invokes the cancel function, which
    runs as the statement owner's role and may read only RunSqlJob execution histories beyond it."""
    function = template["Resources"]["CancelAbandonedStatementFunction"]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": ["DataApiFunctionRole", "Arn"]}
    (rule,) = [res["Properties"] for res in resources_of_type(transformed, "AWS::Events::Rule").values()
               if res["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": ["CancelAbandonedStatementFunction", "Arn"]}]
    assert rule["EventPattern"] == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["ABORTED", "TIMED_OUT", "FAILED"], "stateMachineArn": [{"Ref": "RunSqlJobStateMachine"}]},
    }
    policy = transformed["Resources"]["CancelAbandonedStatementPolicy"]["Properties"]
    assert policy["Roles"] == [{"Ref": "DataApiFunctionRole"}]
    granted = {action: statement["Resource"] for statement in statements(policy["PolicyDocument"])
               for action in as_list(statement["Action"])}
    assert granted == {
        "states:GetExecutionHistory": {"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
                                                  "execution:${RunSqlJobStateMachine.Name}:*"},
        "sqs:SendMessage": {"Fn::GetAtt": ["CancelAbandonedStatementFailureQueue", "Arn"]},
    }
    for where, document in policy_documents(transformed):
        for statement in statements(document):
            if "states:GetExecutionHistory" in as_list(statement["Action"]) and "RunSqlJobStateMachine" in json.dumps(
                    statement["Resource"]):
                assert where == "CancelAbandonedStatementPolicy", where
    # Asynchronous: retried, bounded in age, and what still fails is kept with its error.
    (config,) = [config for config in resources_of_type(transformed, "AWS::Lambda::EventInvokeConfig").values()
                 if config["Properties"]["FunctionName"] == {"Ref": "CancelAbandonedStatementFunction"}]
    assert config["Properties"]["MaximumRetryAttempts"] == 2
    assert config["Properties"]["MaximumEventAgeInSeconds"] <= 3600
    assert config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == granted["sqs:SendMessage"]
    # Cancel-and-wait rounds of CANCEL_WAIT_SECONDS fit in the function with room for the history and a retry.
    assert function["Timeout"] >= 60


# The ARNs a deployment gives the rule's Refs (any concrete values do: the pattern compares them as strings).
STACK_MACHINES = {
    "SalesDataPipelineStateMachine": "arn:aws:states:us-east-1:123456789012:stateMachine:SalesDataPipelineStateMachine-Ab12",
    "WorkflowStateMachine": "arn:aws:states:us-east-1:123456789012:stateMachine:WorkflowStateMachine-Cd34",
    "RunSqlJobStateMachine": "arn:aws:states:us-east-1:123456789012:stateMachine:RunSqlJobStateMachine-Ef56",
}


def rule_targeting(transformed, function):
    (rule,) = [res["Properties"] for res in resources_of_type(transformed, "AWS::Events::Rule").values()
               if res["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [function, "Arn"]}]
    return rule


def with_machine_arns(value):
    """The rule's pattern with its Refs to state machines as a deployment resolves them."""
    if isinstance(value, list):
        return [with_machine_arns(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return STACK_MACHINES[value["Ref"]]
        return {key: with_machine_arns(item) for key, item in value.items()}
    return value


def status_change(machine_arn, status):
    """A "Step Functions Execution Status Change" event as EventBridge delivers it (events/heal_ended_run.json)."""
    event = json.loads((ROOT / "events" / "heal_ended_run.json").read_text())
    execution = machine_arn.replace(":stateMachine:", ":execution:") + ":3f2c9a7e"
    event["resources"] = [execution]
    event["detail"].update(stateMachineArn=machine_arn, executionArn=execution, status=status)
    return event


def test_runs_that_end_outside_their_failure_path_are_healed(template, transformed):
    """FAILED, TIMED_OUT and ABORTED executions of this stack's pipeline and workflow state machines (no others,
    and not RunSqlJob, whose stopped executions the cancel function handles) invoke the heal function."""
    rule = rule_targeting(transformed, "HealEndedRunFunction")
    assert rule["EventPattern"] == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["FAILED", "TIMED_OUT", "ABORTED"],
                   "stateMachineArn": [{"Ref": "SalesDataPipelineStateMachine"}, {"Ref": "WorkflowStateMachine"}]},
    }
    pattern = json.dumps(with_machine_arns(rule["EventPattern"]))
    other_stack = "arn:aws:states:us-east-1:123456789012:stateMachine:SalesDataPipelineStateMachine-Zz99"
    cases = [(STACK_MACHINES["SalesDataPipelineStateMachine"], status, True) for status in ("FAILED", "TIMED_OUT", "ABORTED")]
    cases += [(STACK_MACHINES["WorkflowStateMachine"], "ABORTED", True),
              (STACK_MACHINES["SalesDataPipelineStateMachine"], "SUCCEEDED", False),
              (STACK_MACHINES["RunSqlJobStateMachine"], "ABORTED", False),
              (other_stack, "ABORTED", False)]
    # moto's matcher, the one its EventBridge routes put events with (moto implements no TestEventPattern).
    matcher = EventPattern.load(pattern)
    for machine, status, matches in cases:
        assert matcher.matches_event(status_change(machine, status)) is matches, (machine, status)

    role = transformed["Resources"]["HealEndedRunFunctionRole"]["Properties"]
    (heal_policy,) = [policy for policy in role["Policies"] if policy["PolicyName"] == "HealGuardsOfEndedRuns"]
    granted: dict[str, list] = {}
    for statement in statements(heal_policy["PolicyDocument"]):
        for action in as_list(statement["Action"]):
            granted.setdefault(action, []).extend(as_list(statement["Resource"]))
    table = lambda name: [{"Fn::GetAtt": [name, "Arn"]}]  # noqa: E731
    executions = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:"
    assert granted == {
        "dynamodb:Scan": table("JobGuardTable"),
        "dynamodb:UpdateItem": table("JobGuardTable") + table("WorkflowAuditTable") + table("JobAuditTable"),
        "dynamodb:PutItem": table("RunHistoryTable") + table("WorkflowAuditTable"),
        "dynamodb:Query": table("JobAuditTable") + table("RunPlanTable"),
        "dynamodb:BatchWriteItem": table("JobAuditTable"),
        "states:GetExecutionHistory": [{"Fn::Sub": executions + "${SalesDataPipelineStateMachine.Name}:*"},
                                       {"Fn::Sub": executions + "${WorkflowStateMachine.Name}:*"}],
        "sns:Publish": [{"Ref": "NotificationTopic"}],
        "sqs:SendMessage": table("HealEndedRunFailureQueue"),
    }
    variables = template["Resources"]["HealEndedRunFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["PIPELINE_STATE_MACHINE_ARN"] == {"Ref": "SalesDataPipelineStateMachine"}
    assert variables["WORKFLOW_STATE_MACHINE_ARN"] == {"Ref": "WorkflowStateMachine"}


def test_every_asynchronous_target_keeps_what_it_could_not_handle(transformed):
    """Every EventBridge rule target and schedule has a dead-letter queue (an event EventBridge could not deliver),
    and every function a rule invokes has an on-failure destination (an event it failed on after its retries),
    retries bounded in number and age."""
    resources = transformed["Resources"]
    targets = [(name, target) for name, rule in resources_of_type(transformed, "AWS::Events::Rule").items()
               for target in rule["Properties"]["Targets"]]
    targets += [(name, schedule["Properties"]["Target"])
                for name, schedule in resources_of_type(transformed, "AWS::Scheduler::Schedule").items()]
    assert len(targets) >= 3
    for name, target in targets:
        queue = target.get("DeadLetterConfig", {}).get("Arn")
        assert queue and queue["Fn::GetAtt"][0] in resources, name
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 86400, name
    configs = {config["Properties"]["FunctionName"]["Ref"]: config["Properties"]
               for config in resources_of_type(transformed, "AWS::Lambda::EventInvokeConfig").values()}
    rules = resources_of_type(transformed, "AWS::Events::Rule")
    for rule_name, rule in rules.items():
        function = rule["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0]
        config = configs[function]
        assert config["MaximumRetryAttempts"] <= 2 and config["MaximumEventAgeInSeconds"] <= 3600, function
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == \
            rule["Properties"]["Targets"][0]["DeadLetterConfig"]["Arn"], function
        # EventBridge sends to a dead-letter queue under the queue's policy, for this rule only.
        queue = rule["Properties"]["Targets"][0]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
        (policy,) = [res["Properties"] for res in resources_of_type(transformed, "AWS::SQS::QueuePolicy").values()
                     if res["Properties"]["Queues"] == [{"Ref": queue}]]
        (statement,) = statements(policy["PolicyDocument"])
        assert statement["Principal"] == {"Service": "events.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
        assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_name, "Arn"]}}}
    for queue in resources_of_type(transformed, "AWS::SQS::Queue").values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        assert queue["Properties"]["MessageRetentionPeriod"] == 1209600  # the longest SQS keeps a message


@pytest.mark.parametrize(
    ("parameters", "scope"),
    [
        ({"RedshiftClusterIdentifier": "analytics", "RedshiftDbUser": "etl"}, "cluster analytics only"),
        ({"RedshiftWorkgroupName": "shiftflow", "RedshiftWorkgroupId": WORKGROUP_ID},
         f"workgroup shiftflow (id {WORKGROUP_ID}) only"),
        ({"RedshiftWorkgroupName": "shiftflow"},
         "any Redshift Serverless workgroup of account 123456789012 in us-east-1, not only shiftflow: set "
         "RedshiftWorkgroupId to that workgroup's id to allow it alone"),
    ],
    ids=["cluster", "workgroup-with-id", "workgroup-without-id"],
)
def test_the_deployment_says_where_the_functions_may_send_sql(template, parameters, scope):
    assert Evaluator(template, parameters)(template["Outputs"]["RedshiftAccessScope"]["Value"]) == scope


def role_actions(template, parameters):
    """Action -> resources of DataApiFunctionRole's policies for one set of parameter values."""
    evaluate = Evaluator(template, parameters)
    found: dict[str, list[str]] = {}
    for policy in evaluate(template["Resources"]["DataApiFunctionRole"]["Properties"]["Policies"]):
        for statement in policy["PolicyDocument"]["Statement"]:
            for action in as_list(statement["Action"]):
                found.setdefault(action, []).extend(as_list(statement["Resource"]))
    return found


def test_cluster_with_db_user_gets_temporary_credentials_for_that_user_and_database_only(template):
    actions = role_actions(template, {"RedshiftClusterIdentifier": "analytics", "RedshiftDbUser": "etl"})
    prefix = "arn:aws:redshift:us-east-1:123456789012"
    assert actions["redshift-data:BatchExecuteStatement"] == [f"{prefix}:cluster:analytics"]
    assert actions["redshift:GetClusterCredentials"] == [f"{prefix}:dbuser:analytics/etl", f"{prefix}:dbname:analytics/dev"]
    assert "redshift-serverless:GetCredentials" not in actions
    assert "secretsmanager:GetSecretValue" not in actions


def test_cluster_with_secret_reads_that_secret_only(template):
    actions = role_actions(template, {"RedshiftClusterIdentifier": "analytics", "RedshiftSecretArn": SECRET})
    assert actions["secretsmanager:GetSecretValue"] == [SECRET]
    assert "redshift:GetClusterCredentials" not in actions


def test_serverless_gets_credentials_for_the_workgroup(template):
    any_workgroup = "arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/*"
    actions = role_actions(template, {"RedshiftWorkgroupName": "shiftflow"})
    assert actions["redshift-data:BatchExecuteStatement"] == [any_workgroup]
    assert actions["redshift-serverless:GetCredentials"] == [any_workgroup]
    one_workgroup = f"arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/{WORKGROUP_ID}"
    actions = role_actions(template, {"RedshiftWorkgroupName": "shiftflow", "RedshiftWorkgroupId": WORKGROUP_ID})
    assert actions["redshift-data:BatchExecuteStatement"] == [one_workgroup]
    assert actions["redshift-serverless:GetCredentials"] == [one_workgroup]
    assert "redshift:GetClusterCredentials" not in actions
    actions = role_actions(template, {"RedshiftWorkgroupName": "shiftflow", "RedshiftSecretArn": SECRET})
    assert "redshift-serverless:GetCredentials" not in actions
    assert actions["secretsmanager:GetSecretValue"] == [SECRET]


def test_functions_read_scripts_from_the_scripts_bucket_only(template):
    actions = role_actions(template, {"RedshiftWorkgroupName": "shiftflow"})
    assert actions["s3:GetObject"] == ["<ScriptsBucket.Arn>/*"]
    # Without ListBucket, S3 answers a missing key with 403 AccessDenied, not the 404 that ScriptNotFound reads.
    assert actions["s3:ListBucket"] == ["<ScriptsBucket.Arn>"]


# Optimized integrations in the ASL files -> the IAM actions their role needs.
INTEGRATION_ACTIONS = {
    "arn:aws:states:::lambda:invoke": {"lambda:InvokeFunction"},
    "arn:aws:states:::dynamodb:getItem": {"dynamodb:GetItem"},
    "arn:aws:states:::dynamodb:putItem": {"dynamodb:PutItem"},
    "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken": {"dynamodb:UpdateItem"},
    "arn:aws:states:::dynamodb:updateItem": {"dynamodb:UpdateItem"},
    "arn:aws:states:::sns:publish": {"sns:Publish"},
    "arn:aws:states:::states:startExecution.sync:2": {
        "states:StartExecution",
        "states:DescribeExecution",
        "states:StopExecution",
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
    },
}


def asl_task_resources(definition):
    for state in definition["States"].values():
        if state["Type"] == "Task":
            yield state["Resource"]
        for branch in state.get("Branches", []):
            yield from asl_task_resources(branch)
        if "ItemProcessor" in state:
            yield from asl_task_resources(state["ItemProcessor"])


@pytest.mark.parametrize("machine", sorted(STATE_MACHINE_FILES))
def test_state_machine_role_covers_every_integration_of_its_definition(template, machine):
    definition = json.loads((ROOT / STATE_MACHINE_FILES[machine]).read_text())
    needed = set()
    for resource in asl_task_resources(definition):
        assert resource in INTEGRATION_ACTIONS, f"{machine}: no IAM mapping known for {resource}"
        needed |= INTEGRATION_ACTIONS[resource]
    granted = {
        action
        for document in template["Resources"][machine]["Properties"]["Policies"]
        for statement in statements(document)
        for action in as_list(statement["Action"])
    }
    assert needed <= granted, sorted(needed - granted)


@pytest.mark.parametrize("machine", sorted(STATE_MACHINE_FILES))
def test_state_machine_invokes_exactly_the_functions_it_is_given(template, machine):
    properties = template["Resources"][machine]["Properties"]
    substituted = {
        json.dumps(value) for key, value in properties["DefinitionSubstitutions"].items() if key.endswith("FunctionArn")
    }
    invoked = {
        json.dumps(resource)
        for document in properties["Policies"]
        for statement in statements(document)
        if "lambda:InvokeFunction" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }
    assert substituted == invoked


# ---------------------------------------------------------------- state machines


@pytest.mark.parametrize("machine", sorted(STATE_MACHINE_FILES))
def test_definition_substitutions_match_the_asl_placeholders(template, machine):
    properties = template["Resources"][machine]["Properties"]
    assert properties["DefinitionUri"] == STATE_MACHINE_FILES[machine]
    placeholders = asl_placeholders(ROOT / properties["DefinitionUri"])
    substitutions = set(properties["DefinitionSubstitutions"])
    assert not placeholders - substitutions, f"not substituted: {sorted(placeholders - substitutions)}"
    assert not substitutions - placeholders, f"unused: {sorted(substitutions - placeholders)}"


@pytest.mark.parametrize("machine", sorted(STATE_MACHINE_FILES))
def test_state_machines_are_standard_logged_and_traced(template, machine):
    properties = template["Resources"][machine]["Properties"]
    assert properties["Type"] == "STANDARD"
    assert properties["Tracing"] == {"Enabled": True}
    assert properties["Logging"]["Level"] == "ALL"
    assert properties["Logging"]["IncludeExecutionData"] is False
    log_group = properties["Logging"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert template["Resources"][log_group]["Properties"]["LogGroupName"]["Fn::Sub"].startswith("/aws/vendedlogs/states/")


def test_schedule_is_off_by_default_and_starts_the_sales_pipeline(template):
    (event,) = template["Resources"]["SalesDataPipelineStateMachine"]["Properties"]["Events"].values()
    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["ScheduleExpression"] == {"Ref": "ScheduleExpression"}
    assert json.loads(event["Properties"]["Input"]) == {"job_id": "sales_data_pipeline"}
    assert template["Parameters"]["EnableSchedule"]["Default"] == "false"
    assert template["Parameters"]["ScheduleExpression"]["Default"] == "rate(1 day)"
    for value, state in (("false", "DISABLED"), ("true", "ENABLED")):
        assert Evaluator(template, {"EnableSchedule": value})(event["Properties"]["State"]) == state


# ---------------------------------------------------------------- Rules: bad Redshift targets fail the deployment

GOOD_TARGETS = [
    {"RedshiftClusterIdentifier": "analytics", "RedshiftDbUser": "etl"},
    {"RedshiftClusterIdentifier": "analytics", "RedshiftSecretArn": SECRET},
    {"RedshiftClusterIdentifier": "analytics", "RedshiftDbUser": "etl", "RedshiftSecretArn": SECRET},
    {"RedshiftWorkgroupName": "shiftflow"},
    {"RedshiftWorkgroupName": "shiftflow", "RedshiftWorkgroupId": WORKGROUP_ID},
    {"RedshiftWorkgroupName": "shiftflow", "RedshiftSecretArn": SECRET},
]
BAD_TARGETS = [
    ({}, {"ExactlyOneRedshiftTarget"}),
    ({"RedshiftSecretArn": SECRET}, {"ExactlyOneRedshiftTarget"}),
    (
        {"RedshiftClusterIdentifier": "analytics", "RedshiftDbUser": "etl", "RedshiftWorkgroupName": "shiftflow"},
        {"ExactlyOneRedshiftTarget"},
    ),
    ({"RedshiftClusterIdentifier": "analytics"}, {"ClusterNeedsCredentials"}),
    ({"RedshiftWorkgroupName": "shiftflow", "RedshiftDbUser": "etl"}, {"DbUserOnlyWithCluster"}),
    ({"RedshiftDbUser": "etl"}, {"ExactlyOneRedshiftTarget", "DbUserOnlyWithCluster"}),
    (
        {"RedshiftClusterIdentifier": "analytics", "RedshiftDbUser": "etl", "RedshiftWorkgroupId": WORKGROUP_ID},
        {"WorkgroupIdOnlyWithWorkgroup"},
    ),
]


def as_target(parameters):
    return RedshiftTarget(
        database="dev",
        cluster_identifier=parameters.get("RedshiftClusterIdentifier", ""),
        db_user=parameters.get("RedshiftDbUser", ""),
        workgroup_name=parameters.get("RedshiftWorkgroupName", ""),
        secret_arn=parameters.get("RedshiftSecretArn", ""),
    )


@pytest.mark.parametrize("parameters", GOOD_TARGETS, ids=lambda p: "+".join(sorted(p)))
def test_rules_accept_a_consistent_target_which_the_functions_accept_too(template, parameters):
    assert Evaluator(template, parameters).failed_rules() == []
    as_target(parameters).check()


@pytest.mark.parametrize(("parameters", "failing"), BAD_TARGETS, ids=lambda p: "+".join(sorted(p)) or "nothing")
def test_rules_reject_an_inconsistent_target(template, parameters, failing):
    assert set(Evaluator(template, parameters).failed_rules()) == failing


def test_every_rule_says_what_to_do(template):
    for name, rule in template["Rules"].items():
        for assertion in rule["Assertions"]:
            description = assertion["AssertDescription"]
            assert len(description) > 40 and "Redshift" in description, name


@pytest.mark.parametrize(
    ("parameter", "value", "valid"),
    [
        ("RedshiftSecretArn", SECRET, True),
        ("RedshiftSecretArn", "my-secret", False),
        ("RedshiftClusterIdentifier", "Analytics Cluster", False),
        ("RedshiftWorkgroupId", "shiftflow", False),
        ("NotificationEmail", "data-team@example.com", True),
        ("NotificationEmail", "not an address", False),
        ("DatabaseName", "dev", True),
        ("DatabaseName", "dev; drop table x", False),
    ],
)
def test_parameter_patterns(template, parameter, value, valid):
    pattern = template["Parameters"][parameter]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is valid


# ---------------------------------------------------------------- functions, storage, outputs


def test_every_function_folder_is_a_function_built_without_requirements(template):
    folders = sorted(path.name for path in (ROOT / "functions").iterdir() if (path / "app.py").is_file())
    code_uris = sorted(
        fn["Properties"]["CodeUri"] for fn in resources_of_type(template, "AWS::Serverless::Function").values()
    )
    assert code_uris == [f"functions/{folder}/" for folder in folders]
    for folder in folders:
        assert not (ROOT / "functions" / folder / "requirements.txt").exists(), folder


def test_function_globals(template):
    globals_ = template["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Handler"] == "app.lambda_handler"
    assert globals_["Layers"] == [{"Ref": "SharedLayer"}]
    variables = globals_["Environment"]["Variables"]
    assert set(variables) == FUNCTION_ENVIRONMENT
    assert variables["POWERTOOLS_SERVICE_NAME"] == "shiftflow"
    assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}
    assert template["Parameters"]["LogLevel"]["Default"] == "INFO"


def test_every_environment_variable_the_code_reads_is_set(template):
    variables = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for function in resources_of_type(template, "AWS::Serverless::Function").values():
        variables |= set(function["Properties"].get("Environment", {}).get("Variables", {}))
    sources = [*ROOT.glob("functions/*/app.py"), *ROOT.glob("shiftflow/jobs/*.py"), *ROOT.glob("shiftflow/sql/*.py"),
               *ROOT.glob("shiftflow/workflows/*.py")]
    read = set()
    for source in sources:
        read |= set(re.findall(r"""environ(?:\.get\(|\[)\s*["']([A-Z_]+)["']""", source.read_text()))
    assert read, "no environment reads found: the pattern is stale"
    assert read <= variables, sorted(read - variables)


def test_long_polling_function_outlives_its_poll(template):
    """Two 30 s long polls (before and after a cancel) fit in the function, and the function in its Task."""
    status = template["Resources"]["GetStatementStatusFunction"]["Properties"]
    task = json.loads((TEMPLATE_PATH.parent / "statemachine" / "run_sql_job.asl.json").read_text())["States"]["WaitForSqlCompletion"]
    assert 2 * 30 < status["Timeout"] < task["TimeoutSeconds"]


def test_storage_is_encrypted_private_and_recoverable(template):
    bucket = template["Resources"]["ScriptsBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(bucket["PublicAccessBlockConfiguration"].values()) and len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    (deny,) = template["Resources"]["ScriptsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    keys = {
        "JobGuardTable": [("JobID", "HASH")],
        "RunHistoryTable": [("JobID", "HASH"), ("RunStart", "RANGE")],
        "WorkflowConfigTable": [("workflow_id", "HASH")],
        "WorkflowAuditTable": [("workflow_execution_id", "HASH")],
        "JobAuditTable": [("workflow_execution_id", "HASH"), ("job_name", "RANGE")],
    }
    for name, key in keys.items():
        table = template["Resources"][name]["Properties"]
        assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == key
        assert table["BillingMode"] == "PAY_PER_REQUEST"
        assert table["SSESpecification"] == {"SSEEnabled": True}
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    topic = template["Resources"]["NotificationTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == "alias/aws/sns"
    assert template["Resources"]["NotificationEmailSubscription"]["Condition"] == "HasNotificationEmail"


def test_outputs_keep_their_names(template):
    assert set(template["Outputs"]) == STABLE_OUTPUTS


# ---------------------------------------------------------------- the layer


def load_layer_builder():
    spec = importlib.util.spec_from_file_location("build_layer", ROOT / "layers" / "shiftflow" / "build_layer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_distribution(root: Path, tag: str, files: dict[str, str]) -> metadata.Distribution:
    info = root / "fake_pkg-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-pkg\nVersion: 1.0\n")
    (info / "WHEEL").write_text(f"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: {tag}\n")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (info / "RECORD").write_text("".join(f"{name},,\n" for name in files) + "fake_pkg-1.0.dist-info/METADATA,,\n")
    return metadata.PathDistribution(info)


def test_layer_builder_copies_a_pure_python_distribution(tmp_path):
    builder = load_layer_builder()
    dist = fake_distribution(tmp_path / "site", "py3-none-any", {"fake_pkg/__init__.py": "x = 1\n"})
    assert builder.copy_distribution(dist, "1.0", tmp_path / "layer") == 2
    assert (tmp_path / "layer" / "fake_pkg" / "__init__.py").read_text() == "x = 1\n"


@pytest.mark.parametrize(
    ("tag", "files", "pinned", "message"),
    [
        ("py3-none-any", {"fake_pkg/_speedups.so": "ELF"}, "1.0", "compiled extension"),
        ("cp311-cp311-manylinux_2_17_x86_64", {"fake_pkg/__init__.py": ""}, "1.0", "not a pure-Python wheel"),
        ("py3-none-any", {"fake_pkg/__init__.py": ""}, "2.0", "requirements-dev.txt pins 2.0"),
        ("py3-none-any", {"fake_pkg/__init__.py": ""}, None, "not pinned"),
    ],
)
def test_layer_builder_refuses_what_would_not_run_everywhere(tmp_path, tag, files, pinned, message):
    builder = load_layer_builder()
    dist = fake_distribution(tmp_path / "site", tag, files)
    with pytest.raises(builder.LayerBuildError, match=message):
        builder.copy_distribution(dist, pinned, tmp_path / "layer")


def test_layer_bytecode_is_compiled_by_the_given_interpreter_and_used_without_its_source_check(template, tmp_path):
    """The compile step, with this interpreter (the build gives it the functions' runtime's, where there is one)."""
    builder = load_layer_builder()
    assert builder.functions_runtime(TEMPLATE_PATH) == template["Globals"]["Function"]["Runtime"]
    interpreter, runtime = sys.executable, f"python{sys.version_info.major}.{sys.version_info.minor}"
    module = tmp_path / "layer" / "fake_pkg" / "__init__.py"
    module.parent.mkdir(parents=True)
    module.write_text("value = 'compiled'\n")
    builder.compile_bytecode(tmp_path / "layer", interpreter)
    compiled = module.parent / "__pycache__" / f"__init__.cpython-{runtime.removeprefix('python').replace('.', '')}.pyc"
    assert int.from_bytes(compiled.read_bytes()[4:8], "little") == 0b01  # hash-based, source never checked
    # The runtime imports the bytecode as compiled, whatever happens to the source's timestamps or text after.
    module.write_text("value = 'source'\n")
    imported = subprocess.run([interpreter, "-I", "-B", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                               "import fake_pkg; print(fake_pkg.value)", str(tmp_path / "layer")],
                              capture_output=True, text=True, timeout=60)
    assert imported.stdout.strip() == "compiled", imported.stderr


def test_layer_bytecode_interpreter_is_the_runtime_version_or_the_build_says_how_to_choose(tmp_path):
    builder = load_layer_builder()
    assert builder.bytecode_interpreter("python3.13", {"LAYER_BYTECODE_PYTHON": "none"}) is None
    with pytest.raises(builder.LayerBuildError, match="LAYER_BYTECODE_PYTHON"):
        builder.bytecode_interpreter("python3.13", {"LAYER_BYTECODE_PYTHON": sys.executable})  # 3.11: not the runtime
    # None of the runtime's version on this machine: sources alone, with a warning.
    assert builder.bytecode_interpreter("python3.99", {"PATH": str(tmp_path), "PYENV_ROOT": str(tmp_path)}) is None


def test_sam_build_offline_gives_a_pure_python_layer_the_functions_run_on(tmp_path):
    build_dir = tmp_path / "build"
    result = subprocess.run(
        [BIN / "sam", "build", "--build-dir", build_dir, "--template", TEMPLATE_PATH],
        capture_output=True, text=True, cwd=tmp_path, timeout=240,
        env={**TOOL_ENV, "LAYER_PYTHON": sys.executable},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    layer = build_dir / "SharedLayer" / "python"
    for path in ("shiftflow/sql/splitter.py", "shiftflow/jobs/submit.py", "shiftflow/workflows/plan.py", "sqlglot", "aws_lambda_powertools", "boto3", "botocore"):
        assert (layer / path).exists(), path
    for left_out in ("shiftflow/dataapi", "shiftflow/local", "shiftflow/cli"):
        assert not (layer / left_out).exists(), left_out
    assert not [p for p in layer.rglob("*") if p.suffix in (".so", ".pyd", ".dylib")]
    # Bytecode for the functions' runtime beside every module (Lambda's /opt is read-only: none is written there),
    # when this machine has an interpreter of that version (as the build finds it); else sources alone.
    builder = load_layer_builder()
    runtime = builder.functions_runtime(TEMPLATE_PATH)
    tag = "cpython-" + runtime.removeprefix("python").replace(".", "")
    modules = [p for p in layer.rglob("*.py") if "__pycache__" not in p.parts]
    uncompiled = [p for p in modules if not (p.parent / "__pycache__" / f"{p.stem}.{tag}.pyc").is_file()]
    assert modules and uncompiled == ([] if builder.bytecode_interpreter(runtime, dict(TOOL_ENV)) else modules)
    # The pinned boto3 (with WaitTimeSeconds), not the runtime's.
    assert (layer / f"boto3-{metadata.version('boto3')}.dist-info").is_dir()
    # Each function folder holds its own code only: shared code comes from the layer.
    for function_dir in build_dir.glob("*Function"):
        assert sorted(p.name for p in function_dir.iterdir() if p.name != "__pycache__") == ["app.py"], function_dir
    # Every handler imports with nothing but the standard library, the layer and its own folder, as on Lambda.
    probe = (
        "import importlib.util, sys\n"
        f"sys.path.insert(0, {str(layer)!r})\n"
        f"for folder in {sorted(p.name for p in build_dir.glob('*Function'))!r}:\n"
        f"    spec = importlib.util.spec_from_file_location(folder, {str(build_dir)!r} + '/' + folder + '/app.py')\n"
        "    module = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(module)\n"
        "    assert callable(module.lambda_handler), folder\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('duckdb', 'moto', 'typer', 'rich')]\n"
        "print('imported', len(sys.modules))\n"
    )
    imported = subprocess.run(
        [sys.executable, "-S", "-E", "-c", probe],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": os.environ.get("PATH", "")},
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr


# ---------------------------------------------------------------- samconfig.toml

ENVIRONMENTS = {"default": "shiftflow", "dev": "shiftflow-dev", "prod": "shiftflow-prod"}


def deploy_settings(environment):
    from samcli.cli.types import CfnParameterOverridesType
    from samcli.lib.config.samconfig import SamConfig

    settings = SamConfig(config_dir=ROOT).get_all(["deploy"], "parameters", env=environment)
    overrides = CfnParameterOverridesType().convert(settings["parameter_overrides"], None, None)
    return settings, overrides


@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
def test_samconfig_environment_deploys_a_valid_parameter_set(template, environment):
    settings, overrides = deploy_settings(environment)
    assert settings["stack_name"] == ENVIRONMENTS[environment]
    assert settings["capabilities"] == "CAPABILITY_IAM"
    assert settings["resolve_s3"] is True
    assert settings["confirm_changeset"] is (environment == "prod")
    for name, value in overrides.items():
        spec = template["Parameters"][name]
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), (name, value)
        if "AllowedValues" in spec:
            assert value in [str(allowed) for allowed in spec["AllowedValues"]], (name, value)
    assert Evaluator(template, overrides).failed_rules() == []


def test_only_prod_runs_on_a_schedule():
    assert {env: deploy_settings(env)[1].get("EnableSchedule") for env in ENVIRONMENTS} == {
        "default": "false",
        "dev": "false",
        "prod": "true",
    }


# ---------------------------------------------------------------- event mode of RunSqlJob


def statement_status_change(statement_name: str, source: str = "aws.redshift-data",
                  detail_type: str = "Redshift Data Statement Status Change") -> dict:
    return {"version": "0", "id": "1", "detail-type": detail_type, "source": source, "account": "123456789012",
            "time": "2026-12-01T21:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"principal": "arn:aws:sts::123456789012:assumed-role/r/s", "statementName": statement_name,
                       "statementId": "d9b6c0c9-0000-4000-8000-000000000001", "redshiftQueryId": 7,
                       "state": "FINISHED", "rows": 1, "expireAt": 1796248848}}


def test_the_statement_event_rule_matches_this_stacks_event_mode_statements_only(template, transformed):
    """The pattern as the stack `shiftflow-prod` deploys it, matched by EventBridge's rules (moto's matcher)."""
    from moto.events.models import EventPattern

    from shiftflow.jobs.completion import event_pattern, event_statement_name

    (rule,) = [res["Properties"] for res in resources_of_type(transformed, "AWS::Events::Rule").values()
               if res["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": ["ResumeSqlJobFunction", "Arn"]}]
    deployed = json.loads(json.dumps(rule["EventPattern"]).replace('{"Fn::Sub": "@${AWS::StackName}"}',
                                                                   '"@shiftflow-prod"'))
    assert deployed == event_pattern("shiftflow-prod")  # the one place the submit's naming and the rule meet
    pattern = EventPattern.load(json.dumps(deployed))
    assert pattern.matches_event(statement_status_change(event_statement_name("sales.load_item", "shiftflow-prod")))
    assert pattern.matches_event(statement_status_change(event_statement_name("x" * 600, "shiftflow-prod")))
    for other in (event_statement_name("sales.load_item", "shiftflow-preprod"),  # another stack, same tail
                  event_statement_name("sales.load_item", "shiftflow-prod-2"),
                  "sales.load_item",  # a poll-mode statement (it sends no event anyway) or anyone else's
                  "sales.load_item@shiftflow-prod.copy"):
        assert not pattern.matches_event(statement_status_change(other)), other
    assert not pattern.matches_event(statement_status_change(event_statement_name("a", "shiftflow-prod"),
                                                             source="aws.states"))
    assert not pattern.matches_event(statement_status_change(event_statement_name("a", "shiftflow-prod"),
                                                             detail_type="Redshift Data Statement Other Change"))


def test_event_mode_jobs_keep_their_tokens_in_a_table_with_ttl_resumed_by_the_statement_owner(template, transformed):
    table = template["Resources"]["CompletionTable"]["Properties"]
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [("statement_id", "HASH")]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    function = template["Resources"]["ResumeSqlJobFunction"]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": ["DataApiFunctionRole", "Arn"]}  # DescribeStatement: owner only
    assert function["Environment"]["Variables"] == {"COMPLETION_TABLE": {"Ref": "CompletionTable"}}
    submit = template["Resources"]["SubmitSqlJobFunction"]["Properties"]
    assert submit["Environment"]["Variables"] == {"SHIFTFLOW_STACK_NAME": {"Ref": "AWS::StackName"}}
    policy = transformed["Resources"]["ResumeSqlJobPolicy"]["Properties"]
    granted = {action: statement["Resource"] for statement in statements(policy["PolicyDocument"])
               for action in as_list(statement["Action"])}
    assert granted == {"dynamodb:UpdateItem": {"Fn::GetAtt": ["CompletionTable", "Arn"]},
                       "states:SendTaskSuccess": "*",
                       "sqs:SendMessage": {"Fn::GetAtt": ["ResumeSqlJobFailureQueue", "Arn"]}}
    machine = template["Resources"]["RunSqlJobStateMachine"]["Properties"]
    assert machine["DefinitionSubstitutions"]["CompletionTableName"] == {"Ref": "CompletionTable"}
