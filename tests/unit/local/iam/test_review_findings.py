"""Review of the IAM enforcement (issue 11): behaviours where the local evaluation differs from AWS's.

Each test states AWS's documented behaviour; each fails on main as of 39f69a6.
"""

from pathlib import Path

from shiftflow.local.iam.actions import Scope, required
from shiftflow.local.iam.policy import Decision, evaluate, parse_document
from shiftflow.local.iam.roles import template_roles
from shiftflow.local.template import PhysicalResource, Resolver, Template

ACCOUNT = "123456789012"
SCOPE = Scope("us-east-1", ACCOUNT)


def statements(resource, action="states:DescribeExecution", **extra):
    return parse_document({"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **extra}]})


TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Guard: {Type: AWS::DynamoDB::Table}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - {Effect: Allow, Action: sns:Publish, Resource: "*"}
  WorkerExtraPolicy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: extra
      Roles: [!Ref WorkerRole]
      PolicyDocument:
        Statement:
          - {Effect: Allow, Action: dynamodb:GetItem, Resource: !GetAtt Guard.Arn}
"""


def test_a_policy_attached_to_a_role_sam_generates_is_part_of_that_role(tmp_path: Path):
    # SAM: a function without Role gets the generated role <LogicalId>Role, which the template may reference
    # (!Ref WorkerRole) and attach AWS::IAM::Policy resources to; CloudFormation attaches them.
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    template = Template.load(path)
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/st-Guard"
    physical = {
        "Guard": PhysicalResource("st-Guard", {"Arn": table}),
        "Worker": PhysicalResource("st-Worker", {"Arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:st-Worker"}),
        "WorkerRole": PhysicalResource("st-WorkerRole", {"Arn": f"arn:aws:iam::{ACCOUNT}:role/st-WorkerRole"}),
    }
    pseudo = {"AWS::Region": "us-east-1", "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws", "AWS::StackName": "st"}
    registry = template_roles(template, Resolver(template, {}, physical, pseudo), ACCOUNT, "st")
    role = registry.role(registry.function_roles["st-Worker"])
    assert evaluate(role.statements, "dynamodb:GetItem", table) is Decision.ALLOWED
