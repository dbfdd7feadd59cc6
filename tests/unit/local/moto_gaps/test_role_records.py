"""Gap 30 (shiftflow.local.moto_gaps.role_records): the roles the local runtime enforces are IAM roles to the IAM API,
as CloudFormation creates them (CreateRole with its RoleId, PutRolePolicy, AttachRolePolicy), recorded on the first
IAM request; an unknown role is still not found."""

from __future__ import annotations

import datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from shiftflow.local.moto_gaps import activate, record_roles, role_records

ACCOUNT = "123456789012"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                  "Action": "sts:AssumeRole"}]}
READ = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject",
                                                 "Resource": "arn:aws:s3:::bucket/*"}]}
DEPLOYED = datetime.datetime(2026, 12, 3, 5, 52, 30, 123456, tzinfo=datetime.timezone.utc)


def role(**more: Any) -> dict[str, Any]:
    return {"RoleName": "stack-FunctionRole", "RoleId": "AROAABCDEFGHIJKLMNOPQ", "Path": "/",
            "AssumeRolePolicyDocument": TRUST, "Description": "Reads", "MaxSessionDuration": 3600,
            "Tags": [{"Key": "team", "Value": "data"}],
            "Policies": [{"PolicyName": "ReadScripts", "PolicyDocument": READ},
                         {"PolicyName": "Extra", "PolicyDocument": READ}],
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
                                  f"arn:aws:iam::{ACCOUNT}:policy/stack-Shared"], **more}


MANAGED = {"PolicyName": "stack-Shared", "Path": "/", "PolicyDocument": READ, "Description": "shared"}


@pytest.fixture
def aws():
    with mock_aws(), activate():
        yield


def test_a_recorded_role_answers_get_role_and_its_policies_as_iam_does(aws: None):
    record_roles(ACCOUNT, [role()], [MANAGED], DEPLOYED)
    iam = boto3.client("iam", region_name="us-east-1")
    got = iam.get_role(RoleName="stack-FunctionRole")["Role"]
    assert {key: got[key] for key in ("RoleName", "RoleId", "Arn", "Path", "AssumeRolePolicyDocument",
                                      "Description", "MaxSessionDuration", "CreateDate")} == {
        "RoleName": "stack-FunctionRole", "RoleId": "AROAABCDEFGHIJKLMNOPQ",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/stack-FunctionRole", "Path": "/", "AssumeRolePolicyDocument": TRUST,
        "Description": "Reads", "MaxSessionDuration": 3600, "CreateDate": DEPLOYED.replace(microsecond=0)}
    assert got["Tags"] == [{"Key": "team", "Value": "data"}]
    assert [listed["RoleName"] for listed in iam.list_roles()["Roles"]] == ["stack-FunctionRole"]
    assert iam.list_role_policies(RoleName="stack-FunctionRole")["PolicyNames"] == ["ReadScripts", "Extra"]
    policy = iam.get_role_policy(RoleName="stack-FunctionRole", PolicyName="ReadScripts")
    assert policy["PolicyDocument"] == READ
    assert iam.list_attached_role_policies(RoleName="stack-FunctionRole")["AttachedPolicies"] == [
        {"PolicyName": "AWSXrayWriteOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"},
        {"PolicyName": "stack-Shared", "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/stack-Shared"}]
    xray = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess")["Policy"]
    assert xray["AttachmentCount"] == 1
    version = iam.get_policy_version(PolicyArn=xray["Arn"], VersionId=xray["DefaultVersionId"])["PolicyVersion"]
    assert {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} <= set(version["Document"]["Statement"][0]["Action"])


def test_an_unknown_role_is_still_not_found(aws: None):
    record_roles(ACCOUNT, [role()], [], DEPLOYED)
    iam = boto3.client("iam", region_name="us-east-1")
    with pytest.raises(ClientError) as raised:
        iam.get_role(RoleName="stack-OtherRole")
    assert raised.value.response["Error"]["Code"] == "NoSuchEntity"


def test_records_are_made_on_the_first_iam_request_not_before(aws: None):
    from moto.iam.models import iam_backends

    record_roles(ACCOUNT, [role(ManagedPolicyArns=[])], [], DEPLOYED)
    assert ACCOUNT in role_records._pending  # noqa: SLF001 - nothing built yet
    boto3.client("iam", region_name="us-east-1").list_roles()
    assert ACCOUNT not in role_records._pending  # noqa: SLF001
    assert [made.name for made in iam_backends[ACCOUNT]["aws"].roles.values()] == ["stack-FunctionRole"]


def test_roles_recorded_in_one_activation_do_not_reach_the_next():
    with mock_aws(), activate():
        record_roles(ACCOUNT, [role()], [MANAGED], DEPLOYED)
    with mock_aws(), activate():
        assert boto3.client("iam", region_name="us-east-1").list_roles()["Roles"] == []
