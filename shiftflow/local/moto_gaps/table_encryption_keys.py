"""Gap 31: moto's DynamoDB makes the AWS managed key of an encrypted table at CreateTable, which costs a start.

moto behaviour (checked against moto 5.2.5): CreateTable with ``SSESpecification: {Enabled: true}`` and no
KMSMasterKeyId (what CloudFormation sends for the template's ``SSESpecification: {SSEEnabled: true}``) calls
``Table._get_default_encryption_key`` (moto/dynamodb/models/table.py), which creates the account's ``alias/aws/dynamodb``
key in moto's KMS at once; moto's KMS ``Key`` generates an RSA-2048 private key for every key, symmetric ones too
(moto/kms/models.py ``Key.__init__``), 50 to 300 ms of the local cloud's start on a loaded machine. DescribeTable
then shows AWS's answer (SSEDescription Status ENABLED, SSEType KMS, KMSMasterKeyArn: the AWS managed key, which
DynamoDB creates in the account on the first encrypted table: AWS KMS developer guide, "AWS managed keys").

Fix: ``Table._get_default_encryption_key`` (patched) answers the key's ARN at once, with an id of its own (stable
for the account and Region: a name-based UUID), and the key itself, with its alias ``alias/aws/dynamodb``, is
created in moto's KMS on the first KMS request of that account and Region (``KmsResponse.kms_backend``, patched)
under that id, its KeyManager ``AWS`` (DescribeKey's KeyMetadata in the KMS API reference). A KMS backend that already holds the alias answers as before.

To drop: once moto creates keys without a private key for symmetric keys (or lazily), delete this module: CreateTable
then costs what it should. tests/unit/local/moto_gaps/test_table_encryption_keys.py states the behaviour.
"""

from __future__ import annotations

import uuid

from moto.dynamodb.models.table import Table
from moto.kms.models import KmsBackend, kms_backends
from moto.kms.responses import KmsResponse

from shiftflow.local.moto_gaps._patcher import Patcher
from shiftflow.local.moto_gaps._pending_records import PendingRecords, make_on_first_request

ALIAS = "alias/aws/dynamodb"
_DESCRIPTION = "Default master key that protects my DynamoDB table storage"  # moto's, as in its original
_pending: PendingRecords[bool] = PendingRecords()  # (account, region) whose managed key is still to be made


def managed_key_id(account_id: str, region: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kms:{account_id}:{region}:{ALIAS}"))


def _managed_key_arn(account_id: str, region: str) -> str:
    backend = kms_backends[account_id][region] if (account_id, region) not in _pending else None
    if backend is not None and backend.alias_exists(ALIAS):
        return backend.describe_key(ALIAS).arn
    _pending.update((account_id, region), lambda _: True)
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    return f"arn:{partition}:kms:{region}:{account_id}:key/{managed_key_id(account_id, region)}"


def _make_pending(backend: KmsBackend) -> None:
    key = (backend.account_id, backend.region_name)
    _pending.make(key, lambda _: None if backend.alias_exists(ALIAS) else _make_key(backend, key))


def _make_key(backend: KmsBackend, key: tuple[str, str]) -> None:
    made = backend.create_key(policy="", key_usage="ENCRYPT_DECRYPT", key_spec="SYMMETRIC_DEFAULT",
                              description=_DESCRIPTION, tags=None)
    del backend.keys[made.id]
    made.id = managed_key_id(*key)
    made.arn = made.arn.rsplit("/", 1)[0] + "/" + made.id
    made.key_manager = "AWS"  # an AWS managed key (KeyMetadata.KeyManager), moto says CUSTOMER
    backend.keys[made.id] = made
    backend.create_alias(made.id, ALIAS)


def forget_pending() -> None:
    """When the outermost activation ends: a later moto mock has other backends."""
    _pending.restore()


def apply(patcher: Patcher) -> None:
    def get_default_encryption_key(self: Table, account_id: str, region: str) -> str:
        return _managed_key_arn(account_id, region)

    patcher.set(Table, "_get_default_encryption_key", get_default_encryption_key)
    make_on_first_request(patcher, KmsResponse, "kms_backend", lambda _, backend: _make_pending(backend))
