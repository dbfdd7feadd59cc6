"""The actions and resources each call needs (Service Authorization Reference)."""

import pytest

from shiftflow.local.iam.actions import Authorization, Scope, required
from shiftflow.local.iam.policy import NotSupportedLocally

SCOPE = Scope("us-east-1", "123456789012")


def test_s3_objects_and_buckets():
    assert required("s3", "GetObject", {"Bucket": "b", "Key": "k/x.sql"}, SCOPE) == [
        Authorization("s3:GetObject", "arn:aws:s3:::b/k/x.sql")]
    assert required("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, SCOPE)[0].action == "s3:GetObject"
    assert required("s3", "ListObjectsV2", {"Bucket": "b"}, SCOPE) == [Authorization("s3:ListBucket", "arn:aws:s3:::b")]
    assert required("s3", "CopyObject", {"Bucket": "d", "Key": "k2", "CopySource": "s/k1"}, SCOPE) == [
        Authorization("s3:GetObject", "arn:aws:s3:::s/k1"), Authorization("s3:PutObject", "arn:aws:s3:::d/k2")]



def test_s3_actions_follow_the_request():
    # Service Authorization Reference, Amazon S3: a version's read is s3:GetObjectVersion; CopyObject reads its
    # source (a version of it: s3:GetObjectVersion) and writes its target; a write setting tags or an ACL needs
    # s3:PutObjectTagging / s3:PutObjectAcl too.
    def actions(operation, **params):
        return [(a.action, a.resource) for a in required("s3", operation, {"Bucket": "b", "Key": "k", **params}, SCOPE)]

    assert actions("GetObject", VersionId="v1") == [("s3:GetObjectVersion", "arn:aws:s3:::b/k")]
    assert actions("HeadObject", VersionId="v1") == [("s3:GetObjectVersion", "arn:aws:s3:::b/k")]
    assert actions("PutObject", Tagging="a=1", ACL="private") == [
        ("s3:PutObject", "arn:aws:s3:::b/k"), ("s3:PutObjectTagging", "arn:aws:s3:::b/k"),
        ("s3:PutObjectAcl", "arn:aws:s3:::b/k")]
    assert actions("PutObject") == [("s3:PutObject", "arn:aws:s3:::b/k")]
    assert actions("CreateMultipartUpload", GrantRead="id=x") == [
        ("s3:PutObject", "arn:aws:s3:::b/k"), ("s3:PutObjectAcl", "arn:aws:s3:::b/k")]
    assert actions("CopyObject", CopySource="src/a%20b.sql?versionId=v2", Tagging="t=1") == [
        ("s3:GetObjectVersion", "arn:aws:s3:::src/a b.sql"), ("s3:PutObject", "arn:aws:s3:::b/k"),
        ("s3:PutObjectTagging", "arn:aws:s3:::b/k")]
    assert actions("CopyObject", CopySource={"Bucket": "src", "Key": "a", "VersionId": "v"})[0] == (
        "s3:GetObjectVersion", "arn:aws:s3:::src/a")

def test_dynamodb_tables_indexes_and_transactions():
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/guard"
    assert required("dynamodb", "Query", {"TableName": "guard", "IndexName": "by_state"}, SCOPE) == [
        Authorization("dynamodb:Query", f"{table}/index/by_state")]
    transaction = {"TransactItems": [{"ConditionCheck": {"TableName": "guard"}}, {"Put": {"TableName": "guard"}}]}
    assert [a.action for a in required("dynamodb", "TransactWriteItems", transaction, SCOPE)] == [
        "dynamodb:ConditionCheckItem", "dynamodb:PutItem"]
    assert required("dynamodb", "BatchWriteItem", {"RequestItems": {"audit": []}}, SCOPE) == [
        Authorization("dynamodb:BatchWriteItem", "arn:aws:dynamodb:us-east-1:123456789012:table/audit")]


def test_lambda_invoke_by_name_partial_or_full_arn():
    arn = "arn:aws:lambda:us-east-1:123456789012:function:submit"
    for name in ("submit", "123456789012:function:submit", arn):
        assert required("lambda", "Invoke", {"FunctionName": name}, SCOPE) == [
            Authorization("lambda:InvokeFunction", arn)]
    assert required("lambda", "Invoke", {"FunctionName": "submit", "Qualifier": "live"}, SCOPE)[0].resource == (
        f"{arn}:live")


def test_the_data_api_needs_the_cluster_and_its_temporary_credentials():
    request = {"ClusterIdentifier": "c1", "DbUser": "etl", "Database": "dev", "Sqls": ["select 1"]}
    assert required("redshift-data", "BatchExecuteStatement", request, SCOPE) == [
        Authorization("redshift-data:BatchExecuteStatement", "arn:aws:redshift:us-east-1:123456789012:cluster:c1"),
        Authorization("redshift:GetClusterCredentials", "arn:aws:redshift:us-east-1:123456789012:dbuser:c1/etl"),
        Authorization("redshift:GetClusterCredentials", "arn:aws:redshift:us-east-1:123456789012:dbname:c1/dev"),
    ]
    secret = {"WorkgroupName": "wg", "SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:s"}
    assert [a.action for a in required("redshift-data", "ExecuteStatement", secret, SCOPE)] == [
        "redshift-data:ExecuteStatement", "secretsmanager:GetSecretValue"]
    assert required("redshift-data", "GetStatementResultV2", {"Id": "x"}, SCOPE) == [
        Authorization("redshift-data:GetStatementResult", "*")]


def test_other_services_and_sqs_queue_urls():
    assert required("sns", "Publish", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t"}, SCOPE)[0].resource == (
        "arn:aws:sns:us-east-1:123456789012:t")
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/dlq"
    assert required("sqs", "SendMessage", {"QueueUrl": url}, SCOPE) == [
        Authorization("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:dlq")]
    assert required("eventbridge", "PutEvents", {"Entries": [{}, {"EventBusName": "default"}]}, SCOPE) == [
        Authorization("events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/default")]
    assert required("sfn", "StopExecution", {"executionArn": "arn:x"}, SCOPE) == [
        Authorization("states:StopExecution", "arn:x")]


def test_an_unmapped_call_is_not_silently_allowed():
    with pytest.raises(NotSupportedLocally, match="not supported locally: IAM authorization of dynamodb:ExecuteStatement"):
        required("dynamodb", "ExecuteStatement", {"Statement": "select * from guard"}, SCOPE)
    with pytest.raises(NotSupportedLocally, match="logs calls"):
        required("logs", "PutLogEvents", {}, SCOPE)
