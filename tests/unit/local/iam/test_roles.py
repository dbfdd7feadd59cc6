"""Roles as CloudFormation and the SAM transform create them from template.yaml."""

from pathlib import Path

import pytest

from shiftflow.local.iam.policy import Decision, NotSupportedLocally, evaluate
from shiftflow.local.iam.roles import role_id, template_roles
from shiftflow.local.template import PhysicalResource, Resolver, Template
from tests.conftest import ROOT

ACCOUNT = "123456789012"
PSEUDO = {"AWS::Region": "us-east-1", "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws", "AWS::StackName": "st"}
TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Guard: {Type: AWS::DynamoDB::Table}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - DynamoDBReadPolicy: {TableName: !Ref Guard}
        - Statement:
            - {Effect: Allow, Action: sns:Publish, Resource: "*"}
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Role: !GetAtt MachineRole.Arn
  MachineRole:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: invoke
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: lambda:InvokeFunction, Resource: !GetAtt Worker.Arn}
  ExtraMachinePolicy:
    Type: AWS::IAM::Policy
    Properties:
      Roles: [!Ref MachineRole]
      PolicyDocument:
        Statement:
          - {Effect: Deny, Action: dynamodb:*, Resource: "*"}
"""


def registry_for(text: str, tmp_path: Path):
    path = tmp_path / "template.yaml"
    path.write_text(text)
    template = Template.load(path)
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/st-Guard"
    physical = {
        "Guard": PhysicalResource("st-Guard", {"Arn": table}),
        "Worker": PhysicalResource("st-Worker", {"Arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:st-Worker"}),
        "Machine": PhysicalResource(f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:st-Machine"),
        "MachineRole": PhysicalResource("st-MachineRole", {"Arn": f"arn:aws:iam::{ACCOUNT}:role/st-MachineRole",
                                                           "RoleId": role_id("st-MachineRole")}),
    }
    return template_roles(template, Resolver(template, {}, physical, PSEUDO), ACCOUNT, "st")


def test_sam_generates_a_role_from_policy_templates_and_inline_statements(tmp_path):
    registry = registry_for(TEMPLATE, tmp_path)
    role = registry.role(registry.function_roles["st-Worker"])
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/st-WorkerRole"
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/st-Guard"
    assert evaluate(role.statements, "dynamodb:GetItem", table) is Decision.ALLOWED  # DynamoDBReadPolicy
    assert evaluate(role.statements, "dynamodb:PutItem", table) is Decision.IMPLICIT_DENY
    assert evaluate(role.statements, "sns:Publish", "arn:aws:sns:us-east-1:1:t") is Decision.ALLOWED
    # AWSLambdaBasicExecutionRole, which SAM attaches to every role it generates for a function.
    assert evaluate(role.statements, "logs:PutLogEvents", "arn:aws:logs:us-east-1:1:log-group:x") is Decision.ALLOWED


def test_an_explicit_role_collects_its_inline_and_attached_policies(tmp_path):
    registry = registry_for(TEMPLATE, tmp_path)
    machine = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:st-Machine"
    role = registry.role(registry.state_machine_roles[machine])
    assert role.name == "st-MachineRole" and role.role_id == role_id("st-MachineRole")
    worker = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:st-Worker"
    assert evaluate(role.statements, "lambda:InvokeFunction", worker) is Decision.ALLOWED
    assert evaluate(role.statements, "dynamodb:GetItem", "*") is Decision.EXPLICIT_DENY


def test_a_condition_key_the_local_runtime_cannot_supply_is_refused(tmp_path):
    text = TEMPLATE.replace("{Effect: Allow, Action: sns:Publish, Resource: \"*\"}",
                            "{Effect: Allow, Action: sns:Publish, Resource: \"*\", "
                            "Condition: {Bool: {\"aws:SecureTransport\": \"true\"}}}")
    with pytest.raises(NotSupportedLocally, match="aws:SecureTransport"):
        registry_for(text, tmp_path)


def test_the_projects_data_api_role_reads_scripts_and_follows_only_its_own_statements():
    from shiftflow.local.runtime import LocalRuntime

    runtime = LocalRuntime(ROOT, persist=False)
    physical = runtime._physical_resources()
    resolver = Resolver(runtime.template, runtime.parameters, physical, PSEUDO | {"AWS::StackName": "shiftflow-local"})
    registry = template_roles(runtime.template, resolver, ACCOUNT, "shiftflow-local")
    role = registry.role(registry.function_roles["shiftflow-local-SubmitSqlJobFunction"])
    bucket = "arn:aws:s3:::shiftflow-local-scriptsbucket"
    assert evaluate(role.statements, "s3:GetObject", f"{bucket}/sales/load.sql") is Decision.ALLOWED
    assert evaluate(role.statements, "s3:ListBucket", bucket) is Decision.ALLOWED
    assert evaluate(role.statements, "s3:PutObject", f"{bucket}/sales/load.sql") is Decision.IMPLICIT_DENY
    own = {"redshift-data:statement-owner-iam-userid": f"{role.role_id}:shiftflow-local-SubmitSqlJobFunction"}
    assert evaluate(role.statements, "redshift-data:DescribeStatement", "*", own) is Decision.ALLOWED
    foreign = {"redshift-data:statement-owner-iam-userid": "AIDALOCALADMINISTRATOR"}
    assert evaluate(role.statements, "redshift-data:DescribeStatement", "*", foreign) is Decision.IMPLICIT_DENY


def test_a_supplied_condition_key_is_recognised_whatever_its_case(tmp_path):
    # Condition key names are case-insensitive (IAM user guide, "IAM JSON policy elements: Condition").
    text = TEMPLATE.replace("{Effect: Allow, Action: sns:Publish, Resource: \"*\"}",
                            "{Effect: Allow, Action: sns:Publish, Resource: \"*\", "
                            "Condition: {StringEquals: {\"AWS:PRINCIPALACCOUNT\": \"123456789012\"}}}")
    registry = registry_for(text, tmp_path)
    role = registry.role(registry.function_roles["st-Worker"])
    assert evaluate(role.statements, "sns:Publish", "*", {"aws:PrincipalAccount": ACCOUNT}) is Decision.ALLOWED
