"""Review of the IAM enforcement (issue 11): a thread started by a handler keeps acting as the handler's role.

On Lambda every call of the function's code, on any of its threads, is signed with the execution role's credentials.
Locally the role is bound to the handler's own thread (threading.local): a thread pool, or boto3's S3 transfer
manager (download_file, upload_file: worker threads), runs as the account's administrator. Fails on main (39f69a6).
"""

import concurrent.futures

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from shiftflow.local.iam import RoleRegistry, Scope, enforce
from shiftflow.local.iam.enforcement import acting_as
from shiftflow.local.iam.roles import Role

ACCOUNT = "123456789012"


def test_a_thread_a_handler_starts_acts_as_the_handlers_role(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    with mock_aws(), enforce(Scope("us-east-1", ACCOUNT)) as enforcement:
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="review-bucket")
        arn = f"arn:aws:iam::{ACCOUNT}:role/nothing"
        enforcement.roles = RoleRegistry(roles={arn: Role("nothing", arn, "AROANOTHING")})  # allows nothing
        principal = enforcement.principal_for_role(arn, "fn")
        s3 = boto3.client("s3", region_name="us-east-1")
        with acting_as(principal):
            with pytest.raises(ClientError, match="AccessDenied"):
                s3.list_objects_v2(Bucket="review-bucket")  # on the handler's thread: denied
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                with pytest.raises(ClientError, match="AccessDenied"):
                    pool.submit(s3.list_objects_v2, Bucket="review-bucket").result()  # on a thread of its own
