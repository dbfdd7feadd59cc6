"""Which IAM actions on which resources an API call needs (AWS's Service Authorization Reference, "Actions,
resources, and condition keys" of each service), for the services the local runtime enforces.

``required(service, operation, params, scope)`` gives one ``Authorization`` per (action, resource) the call needs
(the request's condition keys are the enforcement's); an operation of an enforced service that is not mapped here fails with
"not supported locally" rather than being allowed unchecked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from shiftflow.local.iam.policy import NotSupportedLocally


@dataclass(frozen=True)
class Authorization:
    action: str
    resource: str


@dataclass(frozen=True)
class Scope:
    region: str
    account_id: str

    def arn(self, service: str, resource: str, regional: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if regional else ''}:{self.account_id if regional else ''}:{resource}"


Params = Mapping[str, Any]
Mapper = Callable[[str, Params, Scope], list[Authorization]]


def required(service: str, operation: str, params: Params, scope: Scope) -> list[Authorization]:
    mapper = _SERVICES.get(service)
    if mapper is None:
        raise NotSupportedLocally(f"IAM authorization of {service} calls made with a role's credentials")
    return mapper(operation, params, scope)


# --- S3 ---------------------------------------------------------------------------------------------------------------

_S3_OBJECT_ACTIONS = {
    "GetObject": "s3:GetObject", "HeadObject": "s3:GetObject",
    "DeleteObject": "s3:DeleteObject", "GetObjectTagging": "s3:GetObjectTagging",
    "PutObjectTagging": "s3:PutObjectTagging", "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject", "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "ListParts": "s3:ListMultipartUploadParts",
}
_S3_BUCKET_ACTIONS = {
    "ListObjects": "s3:ListBucket", "ListObjectsV2": "s3:ListBucket", "HeadBucket": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions", "GetBucketLocation": "s3:GetBucketLocation",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
}


def s3_object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def s3_bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


# Request members that make a write also set the object's ACL (canned or grants): s3:PutObjectAcl.
_S3_ACL_MEMBERS = ("ACL", "GrantFullControl", "GrantRead", "GrantReadACP", "GrantWriteACP")
_S3_WRITES = ("PutObject", "CopyObject", "CreateMultipartUpload")


def _s3(operation: str, params: Params, scope: Scope) -> list[Authorization]:
    """Service Authorization Reference, Amazon S3: a version's read is s3:GetObjectVersion; a write that sets tags
    or an ACL also needs s3:PutObjectTagging / s3:PutObjectAcl; CopyObject reads its source and writes its target."""
    bucket = params.get("Bucket", "")
    target = s3_object_arn(bucket, params.get("Key", ""))
    if operation in ("GetObject", "HeadObject") and params.get("VersionId"):
        return [Authorization("s3:GetObjectVersion", target)]
    if operation == "CopyObject":
        return [_s3_copy_source(params.get("CopySource", "")), *_s3_write(target, params)]
    if operation in _S3_WRITES:
        return _s3_write(target, params)
    if operation in _S3_OBJECT_ACTIONS:
        return [Authorization(_S3_OBJECT_ACTIONS[operation], target)]
    if operation in _S3_BUCKET_ACTIONS:
        return [Authorization(_S3_BUCKET_ACTIONS[operation], s3_bucket_arn(bucket))]
    if operation == "DeleteObjects":
        return [Authorization("s3:DeleteObject", s3_object_arn(bucket, item["Key"]))
                for item in params.get("Delete", {}).get("Objects", [])]
    if operation == "ListBuckets":
        return [Authorization("s3:ListAllMyBuckets", "*")]
    raise NotSupportedLocally(f"IAM authorization of s3:{operation}")


def _s3_write(target: str, params: Params) -> list[Authorization]:
    needed = [Authorization("s3:PutObject", target)]
    if params.get("Tagging"):
        needed.append(Authorization("s3:PutObjectTagging", target))
    if any(params.get(member) for member in _S3_ACL_MEMBERS):
        needed.append(Authorization("s3:PutObjectAcl", target))
    return needed


def _s3_copy_source(source: str | Mapping[str, Any]) -> Authorization:
    """CopySource as boto3 takes it ({Bucket, Key, VersionId}) or as it is sent ("bucket/key?versionId=v", URL-quoted:
    botocore's handler has already turned the mapping into that text when it runs before ours)."""
    if isinstance(source, Mapping):
        path, version = f"{source['Bucket']}/{source['Key']}", source.get("VersionId")
    else:
        path, _, query = source.lstrip("/").partition("?")
        path, version = unquote(path), parse_qs(query).get("versionId", [None])[0]
    return Authorization("s3:GetObjectVersion" if version else "s3:GetObject", f"arn:aws:s3:::{path}")


# --- DynamoDB -----------------------------------------------------------------------------------------------------------

_DYNAMODB_TABLE_OPERATIONS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "DescribeTable", "Query", "Scan",
                              "UpdateTable", "DeleteTable", "DescribeTimeToLive"}
_TRANSACT_ACTIONS = {"ConditionCheck": "dynamodb:ConditionCheckItem", "Put": "dynamodb:PutItem",
                     "Update": "dynamodb:UpdateItem", "Delete": "dynamodb:DeleteItem", "Get": "dynamodb:GetItem"}


def _dynamodb(operation: str, params: Params, scope: Scope) -> list[Authorization]:
    def table(name: str, index: str | None = None) -> str:
        arn = name if name.startswith("arn:") else scope.arn("dynamodb", f"table/{name}")
        return f"{arn}/index/{index}" if index else arn

    if operation in _DYNAMODB_TABLE_OPERATIONS:
        return [Authorization(f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName")))]
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [Authorization(f"dynamodb:{operation}", table(name)) for name in params.get("RequestItems", {})]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        needed: list[Authorization] = []
        for item in params.get("TransactItems", []):
            ((kind, request),) = item.items()
            needed.append(Authorization(_TRANSACT_ACTIONS[kind], table(request["TableName"])))
        return needed
    if operation == "ListTables":
        return [Authorization("dynamodb:ListTables", "*")]
    raise NotSupportedLocally(f"IAM authorization of dynamodb:{operation}")


# --- Step Functions -----------------------------------------------------------------------------------------------------

_SFN_BY_PARAMETER = {
    "StartExecution": "stateMachineArn", "StartSyncExecution": "stateMachineArn", "DescribeStateMachine":
    "stateMachineArn", "ListExecutions": "stateMachineArn", "DescribeExecution": "executionArn",
    "StopExecution": "executionArn", "GetExecutionHistory": "executionArn", "RedriveExecution": "executionArn",
    "DescribeStateMachineForExecution": "executionArn",
}


def _sfn(operation: str, params: Params, scope: Scope) -> list[Authorization]:
    if operation in _SFN_BY_PARAMETER:
        return [Authorization(f"states:{operation}", params[_SFN_BY_PARAMETER[operation]])]
    if operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat", "ListStateMachines"):
        return [Authorization(f"states:{operation}", "*")]  # no resource type in the reference
    raise NotSupportedLocally(f"IAM authorization of states:{operation}")


# --- SNS, SQS, EventBridge, Kinesis, Lambda --------------------------------------------------------------------------------

def _sns(operation: str, params: Params, scope: Scope) -> list[Authorization]:
    if operation in ("Publish", "PublishBatch"):
        return [Authorization("sns:Publish", params.get("TopicArn") or params.get("TargetArn", ""))]
    if operation in ("GetTopicAttributes", "ListSubscriptionsByTopic"):
        return [Authorization(f"sns:{operation}", params["TopicArn"])]
    raise NotSupportedLocally(f"IAM authorization of sns:{operation}")


_SQS_ACTIONS = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
                "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}
_SQS_OPERATIONS = {"SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "GetQueueAttributes",
                   "PurgeQueue", *_SQS_ACTIONS}


def _sqs(operation: str, params: Params, scope: Scope) -> list[Authorization]:
    if operation == "GetQueueUrl":
        return [Authorization("sqs:GetQueueUrl", scope.arn("sqs", params["QueueName"]))]
    if operation in _SQS_OPERATIONS:
        path = urlparse(params["QueueUrl"]).path.strip("/").split("/")
        account, name = (path[-2], path[-1]) if len(path) >= 2 else (scope.account_id, path[-1])
        arn = f"arn:aws:sqs:{scope.region}:{account}:{name}"
        return [Authorization(f"sqs:{_SQS_ACTIONS.get(operation, operation)}", arn)]
    raise NotSupportedLocally(f"IAM authorization of sqs:{operation}")


def _events(operation: str, params: Params, scope: Scope) -> list[Authorization]:
    def bus(name: str | None) -> str:
        name = name or "default"
        return name if name.startswith("arn:") else scope.arn("events", f"event-bus/{name}")

    if operation == "PutEvents":
        return [Authorization("events:PutEvents", arn)
                for arn in dict.fromkeys(bus(entry.get("EventBusName")) for entry in params.get("Entries", []))]
    if operation in ("PutRule", "PutTargets", "DescribeRule", "RemoveTargets", "DeleteRule", "ListTargetsByRule"):
        rule = params.get("Name") or params.get("Rule", "")
        on_bus = params.get("EventBusName")
        path = f"rule/{on_bus}/{rule}" if on_bus and on_bus != "default" else f"rule/{rule}"
        return [Authorization(f"events:{operation}", scope.arn("events", path))]
    raise NotSupportedLocally(f"IAM authorization of events:{operation}")


_KINESIS_OPERATIONS = {"PutRecord", "PutRecords", "GetShardIterator", "DescribeStream", "DescribeStreamSummary",
                       "ListShards"}


def _kinesis(operation: str, params: Params, scope: Scope) -> list[Authorization]:
    if operation in _KINESIS_OPERATIONS:
        arn = params.get("StreamARN") or scope.arn("kinesis", f"stream/{params.get('StreamName', '')}")
        return [Authorization(f"kinesis:{operation}", arn)]
    raise NotSupportedLocally(f"IAM authorization of kinesis:{operation}")


def lambda_function_arn(name_or_arn: str, qualifier: str | None, scope: Scope) -> str:
    """FunctionName as Lambda accepts it (name, name:qualifier, partial or full ARN) -> the function's ARN."""
    parts = name_or_arn.split(":")
    if name_or_arn.startswith("arn:"):
        arn = name_or_arn
    elif len(parts) >= 3 and parts[1] == "function":  # 123456789012:function:name[:qualifier]
        arn = f"arn:aws:lambda:{scope.region}:{name_or_arn}"
    else:
        arn = scope.arn("lambda", f"function:{name_or_arn}")
    return f"{arn}:{qualifier}" if qualifier and not arn.endswith(f":{qualifier}") else arn


def _lambda(operation: str, params: Params, scope: Scope) -> list[Authorization]:
    if operation == "Invoke":
        arn = lambda_function_arn(params["FunctionName"], params.get("Qualifier"), scope)
        return [Authorization("lambda:InvokeFunction", arn)]
    if operation == "GetFunction":
        return [Authorization("lambda:GetFunction", lambda_function_arn(params["FunctionName"], None, scope))]
    raise NotSupportedLocally(f"IAM authorization of lambda:{operation}")


# --- Redshift Data API ----------------------------------------------------------------------------------------------------

_DATA_API_SUBMIT = {"ExecuteStatement", "BatchExecuteStatement", "ListDatabases", "ListSchemas", "ListTables",
                    "DescribeTable"}
# GetStatementResult also authorizes GetStatementResultV2 (Data API reference, "Authorizing access").
_DATA_API_OWNED = {"DescribeStatement": "DescribeStatement", "GetStatementResult": "GetStatementResult",
                   "GetStatementResultV2": "GetStatementResult", "CancelStatement": "CancelStatement"}


def _redshift_data(operation: str, params: Params, scope: Scope) -> list[Authorization]:
    if operation in _DATA_API_SUBMIT:
        return _data_api_target(operation, params, scope)
    if operation in _DATA_API_OWNED:
        # The condition key comes from the statement's owner (enforcement adds it: only it knows the owners).
        return [Authorization(f"redshift-data:{_DATA_API_OWNED[operation]}", "*")]
    if operation == "ListStatements":
        return [Authorization("redshift-data:ListStatements", "*")]
    raise NotSupportedLocally(f"IAM authorization of redshift-data:{operation}")


def _data_api_target(operation: str, params: Params, scope: Scope) -> list[Authorization]:
    """The cluster or workgroup the SQL runs on, and the credentials the Data API fetches for the caller."""
    action = f"redshift-data:{operation}"
    cluster, workgroup = params.get("ClusterIdentifier"), params.get("WorkgroupName")
    if cluster:
        needed = [Authorization(action, scope.arn("redshift", f"cluster:{cluster}"))]
        if params.get("DbUser") and not params.get("SecretArn"):
            needed += [
                Authorization("redshift:GetClusterCredentials",
                              scope.arn("redshift", f"dbuser:{cluster}/{params['DbUser']}")),
                Authorization("redshift:GetClusterCredentials",
                              scope.arn("redshift", f"dbname:{cluster}/{params.get('Database', '')}")),
            ]
    elif workgroup:
        # Workgroup ARNs end with the workgroup's id, which exists only on AWS: locally the name stands for it.
        needed = [Authorization(action, scope.arn("redshift-serverless", f"workgroup/{workgroup}"))]
        if not params.get("SecretArn"):
            needed.append(Authorization("redshift-serverless:GetCredentials", needed[0].resource))
    elif params.get("SessionId"):
        return [Authorization(action, "*")]  # a kept session: authorized when it was opened
    else:
        return [Authorization(action, "*")]  # the emulator itself refuses a request with no target
    if params.get("SecretArn"):
        needed.append(Authorization("secretsmanager:GetSecretValue", params["SecretArn"]))
    return needed


_SERVICES: dict[str, Mapper] = {
    "s3": _s3, "dynamodb": _dynamodb, "sfn": _sfn, "sns": _sns, "sqs": _sqs, "eventbridge": _events,
    "kinesis": _kinesis, "lambda": _lambda, "redshift-data": _redshift_data,
}
ENFORCED_SERVICES = frozenset(_SERVICES)
