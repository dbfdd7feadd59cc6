"""Gap 31 (shiftflow.local.moto_gaps.table_encryption_keys): an encrypted table names the account's AWS managed key
(alias/aws/dynamodb) at once; the key itself is made in KMS on the first KMS request, under that ARN."""

from __future__ import annotations

import boto3
from moto import mock_aws

from shiftflow.local.moto_gaps import activate
from shiftflow.local.moto_gaps.table_encryption_keys import managed_key_id

ACCOUNT = "123456789012"
KEY = {"KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
       "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}


def test_encrypted_tables_name_the_managed_key_which_kms_makes_when_first_asked():
    from moto.kms.models import kms_backends

    with mock_aws(), activate():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        for name in ("first", "second"):
            dynamodb.create_table(TableName=name, SSESpecification={"Enabled": True}, **KEY)
        dynamodb.create_table(TableName="plain", **KEY)
        assert not kms_backends[ACCOUNT]["us-east-1"].keys  # no key made at CreateTable
        described = [dynamodb.describe_table(TableName=name)["Table"] for name in ("first", "second", "plain")]
        arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{managed_key_id(ACCOUNT, 'us-east-1')}"
        assert [table.get("SSEDescription") for table in described] == [
            {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": arn}] * 2 + [None]
        metadata = boto3.client("kms", region_name="us-east-1").describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]
        assert (metadata["Arn"], metadata["KeyManager"], metadata["KeyState"]) == (arn, "AWS", "Enabled")
        assert boto3.client("kms", region_name="us-east-1").describe_key(KeyId=arn)["KeyMetadata"]["KeyId"] == \
            managed_key_id(ACCOUNT, "us-east-1")


def test_a_key_made_before_the_table_is_the_one_it_names():
    with mock_aws(), activate():
        kms = boto3.client("kms", region_name="us-east-1")
        made = kms.describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]["Arn"]  # moto makes a reserved alias's key
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(TableName="t", SSESpecification={"Enabled": True}, **KEY)
        assert dynamodb.describe_table(TableName="t")["Table"]["SSEDescription"]["KMSMasterKeyArn"] == made
