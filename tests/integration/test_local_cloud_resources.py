"""The template's resources as the AWS CLI and SDKs see them on the local cloud's endpoint, against what `sam deploy`
creates of template.yaml: SAM's own transform of the repository's template (`sam_transform`) resolved as the cloud
resolved it (`local_resolver`) is the reference for each resource's properties; what CloudFormation does with a
property is the AWS API call it makes (the botocore models' member names).

Each cloud is a process started by a command (as `shiftflow up` starts it) and stopped at teardown.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shiftflow.local.cloud.client import wait_until
from shiftflow.local.iam import role_id
from shiftflow.local.identity import ACCOUNT_ID, REGION, STACK_NAME
from shiftflow.local.runtime import substitute
from shiftflow.local.template import Resolver, Template
from tests.conftest import ROOT
from tests.integration.test_local_cloud import Cloud, cloud  # noqa: F401 - the fixture
from tests.integration.test_local_cloud_stack import SERVICE_ERROR, cli, local_resolver, sam_transform, \
    stack_parameters


def _reference(cloud: Cloud, tmp_path: Path) -> tuple[dict[str, Any], Resolver]:
    code, output = cloud.shiftflow("endpoint")  # starts the cloud
    assert code == 0, output
    return sam_transform(Template.load(ROOT / "template.yaml"))["Resources"], local_resolver(stack_parameters(cloud),
                                                                                             tmp_path)


def _created(resource: dict[str, Any], resolver: Resolver) -> bool:
    return "Condition" not in resource or resolver.condition(resource["Condition"])


def test_the_templates_roles_are_iam_roles_with_their_inline_and_attached_policies(cloud: Cloud, tmp_path: Path):
    """get-role, list-roles, list-role-policies, get-role-policy and list-attached-role-policies answer for every role
    (the template's AWS::IAM::Role, the roles SAM generates for the state machines and schedules) as IAM does
    after `sam deploy`: its trust policy, Description, RoleId (what !GetAtt <Role>.RoleId gives), its inline policies
    (its own, SAM's <Role>Policy0, each AWS::IAM::Policy naming it) with their documents, its managed policies
    (AWSXrayWriteOnlyAccess on a traced state machine's role). A role whose Condition is false does not exist."""
    transformed, resolver = _reference(cloud, tmp_path)
    iam = cloud.boto3_client("iam")
    roles = {logical_id: resource for logical_id, resource in transformed.items()
             if resource["Type"] == "AWS::IAM::Role" and _created(resource, resolver)}
    assert {"DataApiFunctionRole", "RunSqlJobStateMachineRole", "SalesDataPipelineStateMachineScheduledRunRole"} <= \
        set(roles)
    inline_of: dict[str, list[str]] = {logical_id: [policy["PolicyName"] for policy in
                                                    resource["Properties"].get("Policies", [])]
                                       for logical_id, resource in roles.items()}
    for resource in transformed.values():
        if resource["Type"] == "AWS::IAM::Policy" and _created(resource, resolver):
            for role in resource["Properties"]["Roles"]:
                inline_of[role["Ref"]].append(resource["Properties"]["PolicyName"])

    listed = {role["RoleName"] for role in iam.list_roles()["Roles"]}
    assert listed == {f"{STACK_NAME}-{logical_id}" for logical_id in roles}
    for logical_id, resource in roles.items():
        properties = resolver.resolve(resource["Properties"])
        name = f"{STACK_NAME}-{logical_id}"
        role = iam.get_role(RoleName=name)["Role"]
        assert role["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"
        # What !GetAtt <Role>.RoleId gives (a schedule's role: none of the template's policies names it).
        assert role["RoleId"] == (resolver.resolve({"Fn::GetAtt": [logical_id, "RoleId"]})
                                  if logical_id in resolver.physical else role_id(name)), logical_id
        assert role["AssumeRolePolicyDocument"] == properties["AssumeRolePolicyDocument"], logical_id
        assert role.get("Description") == properties.get("Description"), logical_id
        assert (role["Path"], role["MaxSessionDuration"]) == ("/", 3600)
        assert {tag["Key"]: tag["Value"] for tag in role.get("Tags", [])} == {
            tag["Key"]: tag["Value"] for tag in properties.get("Tags", [])}, logical_id
        assert iam.list_role_policies(RoleName=name)["PolicyNames"] == inline_of[logical_id], logical_id
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        assert [policy["PolicyArn"] for policy in attached] == properties.get("ManagedPolicyArns", []), logical_id
        for policy in properties.get("Policies", []):
            document = iam.get_role_policy(RoleName=name, PolicyName=policy["PolicyName"])["PolicyDocument"]
            assert document == policy["PolicyDocument"], (logical_id, policy["PolicyName"])

    # What a user types, with the AWS CLI.
    data_api_role = f"{STACK_NAME}-DataApiFunctionRole"
    code, role = cli(cloud, "iam", "get-role", "--role-name", data_api_role)
    assert code == 0, role
    assert role["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    code, names = cli(cloud, "iam", "list-role-policies", "--role-name", data_api_role)
    assert code == 0 and names["PolicyNames"] == [
        "RunSqlScriptsOnRedshift", "WriteLogsAndTraces", "FollowOwnSqlStatements",
        "CancelStatementsOfStoppedSqlJobs", "ResumeSqlJobsOnStatementEvents"], names
    code, policy = cli(cloud, "iam", "get-role-policy", "--role-name", data_api_role, "--policy-name",
                       "FollowOwnSqlStatements")
    assert code == 0, policy
    condition = policy["PolicyDocument"]["Statement"][0]["Condition"]
    assert condition == {"StringLike": {"redshift-data:statement-owner-iam-userid": f"{role['Role']['RoleId']}:*"}}
    machine_role = f"{STACK_NAME}-RunSqlJobStateMachineRole"
    code, attached = cli(cloud, "iam", "list-attached-role-policies", "--role-name", machine_role)
    assert code == 0 and attached["AttachedPolicies"] == [
        {"PolicyName": "AWSXrayWriteOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"}]
    code, names = cli(cloud, "iam", "list-role-policies", "--role-name", machine_role)
    assert code == 0 and names["PolicyNames"] == ["RunSqlJobStateMachineRolePolicy0"], names
    code, output = cli(cloud, "iam", "get-role", "--role-name", f"{STACK_NAME}-RedshiftStreamingRole")
    assert code == SERVICE_ERROR and "(NoSuchEntity)" in output  # its Condition (HasStreamSource) is false


def test_state_machines_are_created_as_sam_transforms_them(cloud: Cloud, tmp_path: Path):
    """describe-state-machine: the definition is the template's ASL with its DefinitionSubstitutions, the role SAM's,
    loggingConfiguration and tracingConfiguration as the template's Logging and Tracing (moto answered level OFF and
    tracing disabled); list-tags-for-resource: SAM's `stateMachine:createdBy: SAM`."""
    transformed, resolver = _reference(cloud, tmp_path)
    sfn = cloud.boto3_client("stepfunctions")
    machines = {logical_id: resource for logical_id, resource in transformed.items()
                if resource["Type"] == "AWS::StepFunctions::StateMachine"}
    listed = {machine["stateMachineArn"] for machine in sfn.list_state_machines()["stateMachines"]}
    assert listed == {str(resolver.resolve({"Ref": logical_id})) for logical_id in machines}
    template = Template.load(ROOT / "template.yaml")
    for logical_id, resource in machines.items():
        properties = resolver.resolve(resource["Properties"])
        arn = str(resolver.resolve({"Ref": logical_id}))
        described = sfn.describe_state_machine(stateMachineArn=arn)
        asl = ROOT / template.body["Resources"][logical_id]["Properties"]["DefinitionUri"]
        assert described["definition"] == substitute(asl.read_text(), properties["DefinitionSubstitutions"])
        assert described["roleArn"] == properties["RoleArn"]
        assert described["type"] == properties["StateMachineType"]
        logging_config = properties["LoggingConfiguration"]
        assert described["loggingConfiguration"] == {
            "level": logging_config["Level"], "includeExecutionData": logging_config["IncludeExecutionData"],
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": destination["CloudWatchLogsLogGroup"][
                "LogGroupArn"]}} for destination in logging_config["Destinations"]]}, logical_id
        assert described["tracingConfiguration"] == {"enabled": properties["TracingConfiguration"]["Enabled"]}
        assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [
            {"key": tag["Key"], "value": tag["Value"]} for tag in properties["Tags"]]

    arn = f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{STACK_NAME}-RunSqlJobStateMachine"
    code, described = cli(cloud, "stepfunctions", "describe-state-machine", "--state-machine-arn", arn)
    assert code == 0, described
    assert described["loggingConfiguration"] == {"level": "ALL", "includeExecutionData": False, "destinations": [
        {"cloudWatchLogsLogGroup": {"logGroupArn": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:"
                                                   f"/aws/vendedlogs/states/{STACK_NAME}-RunSqlJob:*"}}]}
    assert described["tracingConfiguration"] == {"enabled": True}
    assert "${" not in described["definition"]


def test_buckets_tables_and_topics_have_the_templates_properties(cloud: Cloud, tmp_path: Path):
    """The S3 calls CloudFormation makes for an AWS::S3::Bucket's properties (get-bucket-encryption,
    get-public-access-block, get-bucket-ownership-controls, get-bucket-versioning,
    get-bucket-lifecycle-configuration), a table's SSESpecification (SSEDescription with the account's
    aws/dynamodb key, which kms describe-key finds), TimeToLiveSpecification and PointInTimeRecoverySpecification,
    a topic's DisplayName and KmsMasterKeyId: moto answered each as if the property were not there."""
    transformed, resolver = _reference(cloud, tmp_path)
    bucket = str(resolver.resolve({"Ref": "ScriptsBucket"}))
    properties = resolver.resolve(transformed["ScriptsBucket"]["Properties"])
    code, encryption = cli(cloud, "s3api", "get-bucket-encryption", "--bucket", bucket)
    assert code == 0, encryption
    assert [rule["ApplyServerSideEncryptionByDefault"] for rule in encryption[
        "ServerSideEncryptionConfiguration"]["Rules"]] == [
        rule["ServerSideEncryptionByDefault"] for rule in properties["BucketEncryption"][
            "ServerSideEncryptionConfiguration"]] == [{"SSEAlgorithm": "AES256"}]
    code, block = cli(cloud, "s3api", "get-public-access-block", "--bucket", bucket)
    assert code == 0 and block["PublicAccessBlockConfiguration"] == properties["PublicAccessBlockConfiguration"]
    code, ownership = cli(cloud, "s3api", "get-bucket-ownership-controls", "--bucket", bucket)
    assert code == 0 and ownership["OwnershipControls"] == properties["OwnershipControls"]
    code, versioning = cli(cloud, "s3api", "get-bucket-versioning", "--bucket", bucket)
    assert code == 0 and versioning == {"Status": "Enabled"}
    code, lifecycle = cli(cloud, "s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket)
    assert code == 0, lifecycle
    assert lifecycle["Rules"] == [{"ID": "ExpireOldScriptVersions", "Filter": {"Prefix": ""}, "Status": "Enabled",
                                   "NoncurrentVersionExpiration": {"NoncurrentDays": 90}}]
    s3 = cloud.boto3_client("s3")
    staged = s3.head_object(Bucket=bucket, Key=s3.list_objects_v2(Bucket=bucket)["Contents"][0]["Key"])
    assert staged.get("VersionId") not in (None, "null")  # staged into the versioned bucket

    dynamodb = cloud.boto3_client("dynamodb")
    key_arns = set()
    for logical_id, resource in transformed.items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        table_properties = resolver.resolve(resource["Properties"])
        name = str(resolver.resolve({"Ref": logical_id}))
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert table["SSEDescription"]["Status"] == "ENABLED" and table["SSEDescription"]["SSEType"] == "KMS"
        key_arns.add(table["SSEDescription"]["KMSMasterKeyArn"])
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        expected_ttl = table_properties.get("TimeToLiveSpecification")
        assert ttl == ({"TimeToLiveStatus": "ENABLED", "AttributeName": expected_ttl["AttributeName"]}
                       if expected_ttl else {"TimeToLiveStatus": "DISABLED"}), logical_id
        recovery = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        enabled = (table_properties.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
        assert recovery["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == (
            "ENABLED" if enabled else "DISABLED"), logical_id
    code, key = cli(cloud, "kms", "describe-key", "--key-id", "alias/aws/dynamodb")
    assert code == 0, key
    assert key_arns == {key["KeyMetadata"]["Arn"]} and key["KeyMetadata"]["KeyManager"] == "AWS"
    code, ttl = cli(cloud, "dynamodb", "describe-time-to-live", "--table-name", f"{STACK_NAME}-RunPlanTable")
    assert code == 0 and ttl == {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED",
                                                           "AttributeName": "expires_at"}}, ttl

    topic = str(resolver.resolve({"Ref": "NotificationTopic"}))
    code, attributes = cli(cloud, "sns", "get-topic-attributes", "--topic-arn", topic)
    assert code == 0, attributes
    topic_properties = resolver.resolve(transformed["NotificationTopic"]["Properties"])
    assert (attributes["Attributes"]["DisplayName"], attributes["Attributes"]["KmsMasterKeyId"]) == (
        topic_properties["DisplayName"], topic_properties["KmsMasterKeyId"]) == ("Shiftflow", "alias/aws/sns")


def test_functions_have_their_permissions_and_event_invoke_configs_and_rules_their_targets(cloud: Cloud,
                                                                                           tmp_path: Path):
    """get-policy: the AWS::Lambda::Permission SAM generates for each EventBridgeRule event (events.amazonaws.com,
    the rule's ARN as AWS:SourceArn), a function without one ResourceNotFoundException; get-function-event-invoke-config:
    its AWS::Lambda::EventInvokeConfig; list-targets-by-rule: the rule's target as SAM writes it (its Id
    <Function><Event>LambdaTarget, RetryPolicy, DeadLetterConfig)."""
    transformed, resolver = _reference(cloud, tmp_path)
    lambda_, events = cloud.boto3_client("lambda"), cloud.boto3_client("events")
    permissions: dict[str, list[dict[str, Any]]] = {}
    for logical_id, resource in transformed.items():
        if resource["Type"] == "AWS::Lambda::Permission":
            properties = resolver.resolve(resource["Properties"])
            permissions.setdefault(properties["FunctionName"], []).append({
                "Sid": f"{STACK_NAME}-{logical_id}", "Effect": "Allow", "Action": properties["Action"],
                "Principal": {"Service": properties["Principal"]},
                "Resource": str(resolver.resolve({"Fn::GetAtt": [resource["Properties"]["FunctionName"]["Ref"],
                                                                 "Arn"]})),
                "Condition": {"ArnLike": {"AWS:SourceArn": properties["SourceArn"]}}})
    assert len(permissions) == 3
    for function, statements in permissions.items():
        policy = json.loads(lambda_.get_policy(FunctionName=function)["Policy"])
        assert sorted(policy["Statement"], key=lambda statement: statement["Sid"]) == sorted(
            statements, key=lambda statement: statement["Sid"]), function
    code, output = cli(cloud, "lambda", "get-policy", "--function-name", f"{STACK_NAME}-DescribeFailureFunction")
    assert code == SERVICE_ERROR and output == ("An error occurred (ResourceNotFoundException) when calling the "
                                                "GetPolicy operation: The resource you requested does not exist.")

    configs = [resolver.resolve(resource["Properties"]) for resource in transformed.values()
               if resource["Type"] == "AWS::Lambda::EventInvokeConfig"]
    assert len(configs) == 3
    for config in configs:
        code, answer = cli(cloud, "lambda", "get-function-event-invoke-config", "--function-name",
                           config["FunctionName"])
        assert code == 0, answer
        assert answer["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{config['FunctionName']}"
        assert {key: answer[key] for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds",
                                             "DestinationConfig")} == {
            key: config[key] for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")}

    for logical_id, resource in transformed.items():
        if resource["Type"] != "AWS::Events::Rule":
            continue
        properties = resolver.resolve(resource["Properties"])
        targets = events.list_targets_by_rule(Rule=str(resolver.resolve({"Ref": logical_id})))["Targets"]
        assert targets == properties["Targets"], logical_id


def test_the_templates_schedules_are_scheduler_schedules_and_a_timed_out_execution_has_its_stop_date(
        cloud: Cloud, tmp_path: Path):
    """list-schedules and get-schedule: one schedule per ScheduleV2 event, as SAM's AWS::Scheduler::Schedule (its
    expression, State, Description, FlexibleTimeWindow, Target with its role, Input, RetryPolicy and dead-letter
    queue; named as the local cloud's scheduler names it). describe-execution and list-executions of an execution
    that timed out give its stopDate (moto gave none)."""
    transformed, resolver = _reference(cloud, tmp_path)
    schedules = {}  # the role SAM generates is no resource of the template's: its ARN is checked below
    for logical_id, resource in transformed.items():
        if resource["Type"] == "AWS::Scheduler::Schedule":
            properties = dict(resource["Properties"])
            properties["Target"] = {key: value for key, value in properties["Target"].items() if key != "RoleArn"}
            assert resource["Properties"]["Target"]["RoleArn"] == {"Fn::GetAtt": [f"{logical_id}Role", "Arn"]}
            schedules[logical_id] = resolver.resolve(properties)
    assert len(schedules) == 2
    code, listed = cli(cloud, "scheduler", "list-schedules")
    assert code == 0, listed
    names = {schedule["Name"]: schedule for schedule in listed["Schedules"]}
    for logical_id, properties in schedules.items():
        name = next(name for name in names if name.replace("-", "") == logical_id)
        assert names[name]["State"] == properties["State"] == "DISABLED"
        code, schedule = cli(cloud, "scheduler", "get-schedule", "--name", name)
        assert code == 0, schedule
        assert {key: schedule[key] for key in ("ScheduleExpression", "State", "Description", "FlexibleTimeWindow",
                                               "GroupName")} == {
            "ScheduleExpression": properties["ScheduleExpression"], "State": properties["State"],
            "Description": properties["Description"], "FlexibleTimeWindow": properties["FlexibleTimeWindow"],
            "GroupName": "default"}, logical_id
        expected_target = dict(properties["Target"])
        expected_target["RoleArn"] = f"arn:aws:iam::{ACCOUNT_ID}:role/{STACK_NAME}-{logical_id}Role"
        assert schedule["Target"] == expected_target, logical_id
        assert schedule["Arn"] == f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule/default/{name}"

    sfn = cloud.boto3_client("stepfunctions")
    machine = sfn.create_state_machine(
        name="slow", roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/any", definition=json.dumps(
            {"TimeoutSeconds": 1, "StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600,
                                                                          "End": True}}}))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    assert wait_until(lambda: sfn.describe_execution(executionArn=execution)["status"] != "RUNNING", timeout=60)
    code, described = cli(cloud, "stepfunctions", "describe-execution", "--execution-arn", execution)
    assert code == 0 and described["status"] == "TIMED_OUT", described
    assert described["stopDate"] >= described["startDate"] + 1
    code, executions = cli(cloud, "stepfunctions", "list-executions", "--state-machine-arn", machine)
    assert code == 0 and [item["stopDate"] for item in executions["executions"]] == [described["stopDate"]]
