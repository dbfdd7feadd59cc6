"""Roles as CloudFormation and the SAM transform create them from template.yaml."""

from pathlib import Path

import pytest

from shiftflow.local.iam.policy import Decision, NotSupportedLocally, evaluate
from shiftflow.local.iam.roles import role_id, template_roles
from shiftflow.local.template import PhysicalResource, Resolver, Template, TemplateError
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
      PolicyName: extra
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


GENERATED_ROLE_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Conditions:
  Never: !Equals [a, b]
Resources:
  Guard: {Type: AWS::DynamoDB::Table}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - !Ref PublishPolicy
        - !If [Never, {Statement: [{Effect: Allow, Action: "s3:*", Resource: "*"}]}, !Ref AWS::NoValue]
        - !If [Never, !Ref AWS::NoValue, {Statement: [{Effect: Allow, Action: sqs:SendMessage, Resource: "*"}]}]
  WorkerExtraPolicy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: extra
      Roles: [!Ref WorkerRole]
      PolicyDocument:
        Statement:
          - {Effect: Allow, Action: dynamodb:GetItem, Resource: !GetAtt Guard.Arn}
  PublishPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement:
          - {Effect: Allow, Action: sns:Publish, Resource: "*"}
  MachineRole:
    Type: AWS::IAM::Role
    Properties:
      ManagedPolicyArns: [!Ref PublishPolicy]
"""


def generated_role_registry(text: str, tmp_path: Path):
    path = tmp_path / "template.yaml"
    path.write_text(text)
    template = Template.load(path)
    physical = {
        "Guard": PhysicalResource("st-Guard", {"Arn": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/st-Guard"}),
        "Worker": PhysicalResource("st-Worker", {"Arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:st-Worker"}),
        "WorkerRole": PhysicalResource("st-WorkerRole", {"Arn": f"arn:aws:iam::{ACCOUNT}:role/st-WorkerRole"}),
        "PublishPolicy": PhysicalResource(f"arn:aws:iam::{ACCOUNT}:policy/st-PublishPolicy"),
        "MachineRole": PhysicalResource("st-MachineRole", {"Arn": f"arn:aws:iam::{ACCOUNT}:role/st-MachineRole"}),
    }
    return template_roles(template, Resolver(template, {}, physical, PSEUDO), ACCOUNT, "st")


def test_policies_attached_to_a_role_sam_generates_and_the_templates_managed_policies_are_part_of_it(tmp_path):
    # SAM: a function without Role gets the generated role <LogicalId>Role, which the template may reference
    # (!Ref WorkerRole) and attach AWS::IAM::Policy resources to; CloudFormation attaches them. Policies and
    # ManagedPolicyArns take the ARN of the template's own AWS::IAM::ManagedPolicy (its Ref); Fn::If chooses.
    registry = generated_role_registry(GENERATED_ROLE_TEMPLATE, tmp_path)
    worker = registry.role(registry.function_roles["st-Worker"])
    assert evaluate(worker.statements, "dynamodb:GetItem",
                    f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/st-Guard") is Decision.ALLOWED
    assert evaluate(worker.statements, "sns:Publish", "*") is Decision.ALLOWED
    assert evaluate(worker.statements, "sqs:SendMessage", "*") is Decision.ALLOWED
    assert evaluate(worker.statements, "s3:GetObject", "*") is Decision.IMPLICIT_DENY  # the false branch only
    machine = registry.role(f"arn:aws:iam::{ACCOUNT}:role/st-MachineRole")
    assert evaluate(machine.statements, "sns:Publish", "*") is Decision.ALLOWED


def test_a_policies_entry_that_is_no_policy_is_refused_clearly(tmp_path):
    text = GENERATED_ROLE_TEMPLATE.replace('!If [Never, !Ref AWS::NoValue, {Statement:',
                                           '!If [Never, !Ref AWS::NoValue, {Version: "2012-10-17", Nope:')
    with pytest.raises(TemplateError, match="SAM Policies entry"):
        generated_role_registry(text, tmp_path)
