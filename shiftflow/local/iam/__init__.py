"""IAM enforced in the local runtime: handlers and state machines can do what their roles in template.yaml allow.

What AWS does (IAM user guide, "Policy evaluation logic"; Lambda developer guide, "Lambda execution role"; Step
Functions developer guide, "How Step Functions works with IAM"): a Lambda function runs with its execution role's
temporary credentials and a state machine calls its integrated services (lambda:InvokeFunction, states:StartExecution
of a .sync child and the DescribeExecution/StopExecution of it, dynamodb, sns, events, the aws-sdk integrations)
with its role's; every call is allowed only when one of the role's policies allows its action on its resource and
none denies it, else it fails with 403 AccessDenied naming the action and the resource.

Locally (both modes: the local cloud and the in-process LocalRuntime), ``enforce`` (``enforcement``) binds each
handler invocation to its function's role and each interpreter service call to the execution's role, and checks
their calls to S3, DynamoDB, Step Functions, SNS, SQS, EventBridge, Kinesis, Lambda and the Redshift Data API
emulator (``actions``: what each call needs) against the roles the template declares (``roles``: inline
policies, AWS::IAM::Policy, SAM's generated roles and policy templates) with one evaluator (``policy``). Every other
caller (the CLI, the AWS CLI, SDKs, tests; the local endpoint's HTTP clients) is the account's administrator with
any credentials, as before.

Why not moto's own IAM (``INITIAL_NO_AUTH_ACTION_COUNT``, moto/core/authorization.py, moto/iam/access_control.py,
read in moto 5.2.5): it checks every service but S3, SQS, IAM and STS against the resource "*" (BaseResponse
.call_action), so a statement scoped to a table or a function never matches; its denial names no resource; a caller
without a moto-issued key is refused (InvalidClientTokenId), where local clients must be administrators with any
credentials; its JSON-protocol services answer a denial with an XML body; it evaluates no Condition but trust
policies'; our Data API emulator is outside it; and the in-process handlers share one process's credentials.

Not reproduced: resource-based policies (bucket, queue and topic policies, Lambda permissions), permission
boundaries, SCPs and session policies; the Redshift role of COPY/UNLOAD (IAM_ROLE in the SQL); services other than
those above called with a role's credentials fail with "not supported locally". docs/local-fidelity.md lists the
behaviours and their tests (tests/unit/local/iam/, tests/integration/test_local_iam.py).

To drop: once moto evaluates resource-scoped policies and answers as AWS does, give handlers and executions STS
credentials of their roles (moto maps assumed-role keys back to the role) and delete this package; keep its tests.
"""

from __future__ import annotations

from shiftflow.local.iam.actions import Authorization, Scope
from shiftflow.local.iam.enforcement import Enforcement, Principal, acting_as, enforce
from shiftflow.local.iam.policy import Decision, NotSupportedLocally, Statement, evaluate, parse_document
from shiftflow.local.iam.roles import Role, RoleRegistry, role_id, role_name, template_roles

__all__ = [
    "Authorization", "Decision", "Enforcement", "NotSupportedLocally", "Principal", "Role", "RoleRegistry", "Scope",
    "Statement", "acting_as", "enforce", "evaluate", "parse_document", "role_id", "role_name", "template_roles",
]
