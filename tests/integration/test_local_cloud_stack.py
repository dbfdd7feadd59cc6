"""The deployed SAM application as the AWS CLI and SDKs see it on the local cloud's endpoint, against what `sam deploy`
makes of template.yaml: SAM's own transform (samtranslator, the library `sam deploy` and CloudFormation's
AWS::Serverless transform run) of the repository's template is the reference for the functions' configuration and the
stack's resources.

Each cloud is a process started by a command (as `shiftflow up` starts it) and stopped at teardown.
"""

from __future__ import annotations

import copy
import datetime
import json
import os
from pathlib import Path
from typing import Any

from shiftflow.local.identity import ACCOUNT_ID, REGION, STACK_NAME
from shiftflow.local.runtime import LocalRuntime, name_log_groups
from shiftflow.local.template import Resolver, Template
from tests.conftest import ROOT, aws_cli
from tests.integration.test_local_cloud import Cloud, cloud  # noqa: F401 - the fixture

SERVICE_ERROR = 255  # the AWS CLI version 1's exit code for an error the service returned
# What the local runtime does not create (docs/local-fidelity.md, "Not reproduced"): SAM's transform makes these of
# template.yaml, the local stack does not list them.
NOT_CREATED_TYPES = {"AWS::Logs::LogGroup", "AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::Lambda::Permission",
                     "AWS::Lambda::EventInvokeConfig", "AWS::Lambda::LayerVersion"}


def sam_transform(template: Template) -> dict[str, Any]:
    """template.yaml as CloudFormation receives it from `sam deploy`: packaged (local folders become S3 locations, as
    `sam package` uploads them), then SAM's transform."""
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:  # the template names no AWS managed policy
        def load(self) -> dict[str, str]:
            return {}

    body = copy.deepcopy(template.body)
    for logical_id, resource in body["Resources"].items():
        for key in ("CodeUri", "DefinitionUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = f"s3://aws-sam-cli-managed-default/{logical_id}"
    environment = dict(os.environ)
    os.environ["AWS_DEFAULT_REGION"] = REGION  # the transform reads the Region of the deployment
    try:
        return transform(body, {}, NoManagedPolicies())
    finally:
        os.environ.clear()
        os.environ.update(environment)


def stack_parameters(cloud: Cloud) -> dict[str, str]:
    stack = cloud.boto3_client("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    return {parameter["ParameterKey"]: parameter["ParameterValue"] for parameter in stack["Parameters"]}


def local_resolver(parameters: dict[str, str], tmp_path: Path) -> Resolver:
    """template.yaml's intrinsic functions as the cloud resolved them: its parameters, its physical names."""
    runtime = LocalRuntime(ROOT, state_dir=tmp_path / "unused")  # not entered: only its naming
    pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID, "AWS::StackName": STACK_NAME,
              "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
    resolver = Resolver(runtime.template, parameters, runtime._physical_resources(), pseudo)  # noqa: SLF001
    name_log_groups(resolver)
    return resolver


def cli(cloud: Cloud, *args: str) -> tuple[int, Any]:
    done = aws_cli(cloud.endpoint().url, *args)
    if done.returncode != 0:
        return done.returncode, (done.stdout + done.stderr).strip()
    return 0, json.loads(done.stdout) if done.stdout.strip() else None


def test_the_templates_functions_are_lambda_functions_to_the_aws_cli_and_sdks(cloud: Cloud, tmp_path: Path):
    """list-functions, get-function and get-function-configuration show every function of the template as SAM's
    transform configures its AWS::Lambda::Function (Runtime, Handler, Role, Timeout, MemorySize, Environment as
    resolved, Architectures, TracingConfig, Description, LoggingConfig), Active and Successful; Invoke still runs the
    handler; a function not in the template is not found, as on Lambda."""
    code, output = cloud.shiftflow("endpoint")  # starts the cloud
    assert code == 0, output
    template = Template.load(ROOT / "template.yaml")
    transformed = sam_transform(template)["Resources"]
    resolver = local_resolver(stack_parameters(cloud), tmp_path)
    expected = {}
    for logical_id, resource in transformed.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        properties = resolver.resolve({key: value for key, value in resource["Properties"].items()
                                       if key not in ("Code", "Layers")})
        expected[resolver.resolve({"Ref": logical_id})] = properties
    assert len(expected) == len(template.resources("AWS::Serverless::Function"))

    code, listed = cli(cloud, "lambda", "list-functions")
    assert code == 0, listed
    assert sorted(function["FunctionName"] for function in listed["Functions"]) == sorted(expected)
    for configuration in listed["Functions"]:  # each CLI call is a second or two: one listing checks them all
        name = configuration["FunctionName"]
        properties = expected[name]
        assert configuration["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
        assert {key: configuration[key] for key in ("Runtime", "Handler", "Role", "Timeout", "MemorySize",
                                                     "Architectures", "TracingConfig", "Description")} == {
            key: properties[key] for key in ("Runtime", "Handler", "Role", "Timeout", "MemorySize", "Architectures",
                                             "TracingConfig", "Description")}, name
        assert configuration["Environment"] == {"Variables": {key: str(value) for key, value in
                                                              properties["Environment"]["Variables"].items()}}, name
        assert configuration["LoggingConfig"] == {"LogFormat": "Text", **properties["LoggingConfig"]}, name
        assert (configuration["State"], configuration["LastUpdateStatus"], configuration["PackageType"],
                configuration["Version"]) == ("Active", "Successful", "Zip", "$LATEST")
    submit = "shiftflow-local-SubmitSqlJobFunction"
    code, configuration = cli(cloud, "lambda", "get-function-configuration", "--function-name", submit)
    assert code == 0, configuration
    assert configuration == next(function for function in listed["Functions"] if function["FunctionName"] == submit)
    assert expected[submit]["Environment"]["Variables"]["SHIFTFLOW_STACK_NAME"] == STACK_NAME  # the function's own
    assert expected[submit]["Environment"]["Variables"]["REDSHIFT_CLUSTER_ID"] == "shiftflow-local"  # Globals'

    code, function = cli(cloud, "lambda", "get-function", "--function-name",
                         f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{submit}")
    assert code == 0, function
    assert function["Configuration"]["FunctionName"] == submit
    assert function["Code"]["RepositoryType"] == "S3"
    assert function["Tags"] == {"lambda:createdBy": "SAM"}  # as SAM's transform tags it
    boto3_configuration = cloud.boto3_client("lambda").get_function_configuration(FunctionName=submit)
    assert boto3_configuration["Role"] == expected[submit]["Role"]

    describe_failure = "shiftflow-local-DescribeFailureFunction"
    done = aws_cli(cloud.endpoint().url, "lambda", "invoke", "--function-name", describe_failure, "--payload",
                   json.dumps({"Error": "SqlJobFailed", "Cause": "boom"}), str(tmp_path / "answer.json"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["StatusCode"] == 200
    assert json.loads((tmp_path / "answer.json").read_text())["error"] == "SqlJobFailed"  # the handler answered

    for command in ("get-function", "get-function-configuration"):
        code, output = cli(cloud, "lambda", command, "--function-name", "shiftflow-local-NoSuchFunction")
        assert code == SERVICE_ERROR
        operation = "GetFunction" if command == "get-function" else "GetFunctionConfiguration"
        assert output == (f"An error occurred (ResourceNotFoundException) when calling the {operation} operation: "
                          f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:"
                          "shiftflow-local-NoSuchFunction")


def test_the_stack_lists_its_resources_as_cloudformation_does_after_the_sam_transform(cloud: Cloud,
                                                                                     tmp_path: Path):
    """list-stack-resources, describe-stack-resources and describe-stack-resource: every resource the runtime
    created, with its logical id and the type SAM's transform gives it, CREATE_COMPLETE when the stack was created;
    its physical id names the resource its service knows. What SAM's transform makes and the stack does not list is
    what the runtime does not create (NOT_CREATED_TYPES, the schedules' roles) and what a false Condition leaves out."""
    code, output = cloud.shiftflow("endpoint")
    assert code == 0, output
    template = Template.load(ROOT / "template.yaml")
    transformed = sam_transform(template)["Resources"]
    resolver = local_resolver(stack_parameters(cloud), tmp_path)

    code, listed = cli(cloud, "cloudformation", "list-stack-resources", "--stack-name", STACK_NAME)
    assert code == 0, listed
    summaries = listed["StackResourceSummaries"]
    by_id = {summary["LogicalResourceId"]: summary for summary in summaries}
    assert len(by_id) == len(summaries)
    for logical_id, summary in by_id.items():
        assert logical_id in transformed, logical_id
        assert summary["ResourceType"] == transformed[logical_id]["Type"], logical_id
        assert summary["ResourceStatus"] == "CREATE_COMPLETE"
        assert summary["DriftInformation"] == {"StackResourceDriftStatus": "NOT_CHECKED"}
    left_out = {logical_id for logical_id, resource in transformed.items()
                if logical_id not in by_id and resource["Type"] not in NOT_CREATED_TYPES
                and not ("Condition" in resource and not resolver.condition(resource["Condition"]))}
    assert left_out == set(), left_out
    assert {"NotificationEmailSubscription", "RedshiftStreamingRole"}.isdisjoint(by_id)  # their Conditions are false
    types = {summary["ResourceType"] for summary in summaries}
    assert types == {"AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::SNS::Topic", "AWS::SQS::Queue",
                     "AWS::Lambda::Function", "AWS::StepFunctions::StateMachine", "AWS::IAM::Role", "AWS::IAM::Policy",
                     "AWS::Events::Rule", "AWS::Scheduler::Schedule"}
    assert by_id["RunSqlJobStateMachineRole"]["ResourceType"] == "AWS::IAM::Role"  # the role SAM generates

    # Each physical id is what Ref gives and what the resource's own service knows it by.
    s3, dynamodb, sns, sqs = (cloud.boto3_client(service) for service in ("s3", "dynamodb", "sns", "sqs"))
    lambda_, sfn, events = (cloud.boto3_client(service) for service in ("lambda", "stepfunctions", "events"))
    known = {"AWS::S3::Bucket": lambda physical: s3.head_bucket(Bucket=physical),
             "AWS::DynamoDB::Table": lambda physical: dynamodb.describe_table(TableName=physical),
             "AWS::SNS::Topic": lambda physical: sns.get_topic_attributes(TopicArn=physical),
             "AWS::SQS::Queue": lambda physical: sqs.get_queue_url(QueueName=physical.rsplit("/", 1)[1]),
             "AWS::Lambda::Function": lambda physical: lambda_.get_function(FunctionName=physical),
             "AWS::StepFunctions::StateMachine": lambda physical: sfn.describe_state_machine(stateMachineArn=physical),
             "AWS::Events::Rule": lambda physical: events.describe_rule(Name=physical)}
    for logical_id, summary in by_id.items():
        if logical_id in template.body["Resources"]:
            assert summary["PhysicalResourceId"] == str(resolver.resolve({"Ref": logical_id})), logical_id
        if summary["ResourceType"] in known:
            known[summary["ResourceType"]](summary["PhysicalResourceId"])  # raises when the service does not know it
    assert by_id["RunSqlJobStateMachine"]["PhysicalResourceId"] == \
        f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:shiftflow-local-RunSqlJobStateMachine"

    stack = cloud.boto3_client("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    created = stack["CreationTime"]
    assert created <= datetime.datetime.now(datetime.timezone.utc)
    code, described = cli(cloud, "cloudformation", "describe-stack-resources", "--stack-name", STACK_NAME)
    assert code == 0, described
    assert [(resource["LogicalResourceId"], resource["PhysicalResourceId"], resource["ResourceType"])
            for resource in described["StackResources"]] == [
        (summary["LogicalResourceId"], summary["PhysicalResourceId"], summary["ResourceType"]) for summary in summaries]
    assert {(resource["StackName"], resource["StackId"], resource["ResourceStatus"])
            for resource in described["StackResources"]} == {(STACK_NAME, stack["StackId"], "CREATE_COMPLETE")}
    resources = cloud.boto3_client("cloudformation").describe_stack_resources(StackName=STACK_NAME)["StackResources"]
    assert {resource["Timestamp"] for resource in resources} == {created}  # created with the stack

    code, detail = cli(cloud, "cloudformation", "describe-stack-resource", "--stack-name", STACK_NAME,
                       "--logical-resource-id", "SubmitSqlJobFunction")
    assert code == 0, detail
    assert {key: detail["StackResourceDetail"][key] for key in (
        "StackName", "LogicalResourceId", "PhysicalResourceId", "ResourceType", "ResourceStatus")} == {
        "StackName": STACK_NAME, "LogicalResourceId": "SubmitSqlJobFunction",
        "PhysicalResourceId": "shiftflow-local-SubmitSqlJobFunction", "ResourceType": "AWS::Lambda::Function",
        "ResourceStatus": "CREATE_COMPLETE"}
    code, found = cli(cloud, "cloudformation", "describe-stack-resources", "--physical-resource-id",
                      "shiftflow-local-SubmitSqlJobFunction")
    assert code == 0, found
    assert [resource["LogicalResourceId"] for resource in found["StackResources"]] == ["SubmitSqlJobFunction"]

    for logical_id in ("NoSuchResource", "SubmitSqlJobLogGroup"):  # unknown; in the template, not created locally
        code, output = cli(cloud, "cloudformation", "describe-stack-resource", "--stack-name", STACK_NAME,
                           "--logical-resource-id", logical_id)
        assert code == SERVICE_ERROR
        assert output == ("An error occurred (ValidationError) when calling the DescribeStackResource operation: "
                          f"Resource {logical_id} does not exist for stack {STACK_NAME}")


def test_a_simple_table_is_created_and_listed_as_the_dynamodb_table_sam_makes_of_it(tmp_path: Path):
    """AWS::Serverless::SimpleTable: SAM's transform makes it an AWS::DynamoDB::Table keyed by its PrimaryKey (`id`,
    a string, without one); the runtime creates that table and the stack lists it with that type."""
    import boto3

    from tests.integration.test_local_cloud import copy_of_the_project

    project = copy_of_the_project(tmp_path / "project")
    text = (project / "template.yaml").read_text()
    tables = ("  CountersTable:\n    Type: AWS::Serverless::SimpleTable\n"
              "    Properties:\n      PrimaryKey: {Name: counter, Type: Number}\n"
              "  PlainTable:\n    Type: AWS::Serverless::SimpleTable\n")
    (project / "template.yaml").write_text(text.replace("\nResources:\n", "\nResources:\n" + tables, 1))
    template = Template.load(project / "template.yaml")
    transformed = sam_transform(template)["Resources"]
    with LocalRuntime(project, state_dir=tmp_path / "state", persist=False, state_machines=["run_sql_job"]) as runtime:
        listed = {resource.logical_id: resource for resource in runtime.stack_resources()}
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        for logical_id in ("CountersTable", "PlainTable"):
            assert listed[logical_id].resource_type == transformed[logical_id]["Type"] == "AWS::DynamoDB::Table"
            table = dynamodb.describe_table(TableName=listed[logical_id].physical_id)["Table"]
            expected = transformed[logical_id]["Properties"]
            assert table["KeySchema"] == expected["KeySchema"]
            assert table["AttributeDefinitions"] == expected["AttributeDefinitions"]
        assert listed["CountersTable"].physical_id == "shiftflow-local-CountersTable"
        assert transformed["CountersTable"]["Properties"]["KeySchema"] == [{"AttributeName": "counter",
                                                                             "KeyType": "HASH"}]
        # Only the state machines this runtime created are listed (a command creates what it runs).
        machines = {resource.logical_id for resource in listed.values()
                    if resource.resource_type == "AWS::StepFunctions::StateMachine"}
        assert machines == {"RunSqlJobStateMachine"}
