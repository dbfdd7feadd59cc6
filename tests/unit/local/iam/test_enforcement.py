"""Who a call acts as: a handler's calls, on any of its threads, are its role's.

On Lambda every call of the function's code, on any of its threads, is signed with the execution role's
credentials: a thread pool of the handler's, or boto3's S3 transfer manager (upload_file, download_file: worker
threads), acts as the role, never as the account's administrator.
"""

import concurrent.futures
import threading

import boto3
import pytest
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError
from moto import mock_aws

from shiftflow.local.iam import RoleRegistry, Scope, enforce
from shiftflow.local.iam.enforcement import acting_as
from shiftflow.local.iam.roles import Role

ACCOUNT = "123456789012"
BUCKET = "review-bucket"


@pytest.fixture
def nobody(monkeypatch, tmp_path):
    """Enforcement on, a bucket, and the principal of a role that allows nothing."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    with mock_aws(), enforce(Scope("us-east-1", ACCOUNT)) as enforcement:
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        arn = f"arn:aws:iam::{ACCOUNT}:role/nothing"
        enforcement.roles = RoleRegistry(roles={arn: Role("nothing", arn, "AROANOTHING")})
        yield enforcement.principal_for_role(arn, "fn")


def test_a_thread_a_handler_starts_acts_as_the_handlers_role(nobody):
    s3 = boto3.client("s3", region_name="us-east-1")
    with acting_as(nobody):
        with pytest.raises(ClientError, match="AccessDenied"):
            s3.list_objects_v2(Bucket=BUCKET)  # on the handler's thread: denied
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            with pytest.raises(ClientError, match="AccessDenied"):
                pool.submit(s3.list_objects_v2, Bucket=BUCKET).result()  # on a thread of its own
        errors: list[Exception] = []

        def list_objects() -> None:
            try:
                s3.list_objects_v2(Bucket=BUCKET)
            except ClientError as error:
                errors.append(error)

        thread = threading.Thread(target=list_objects)
        thread.start()
        thread.join()
        assert "AccessDenied" in str(errors[0])


def test_the_s3_transfer_managers_worker_threads_act_as_the_role(nobody, tmp_path):
    source = tmp_path / "data.csv"
    source.write_text("a,b\n")
    s3 = boto3.client("s3", region_name="us-east-1")
    with acting_as(nobody), pytest.raises(S3UploadFailedError, match="AccessDenied"):
        s3.upload_file(str(source), BUCKET, "data.csv")  # PutObject runs on the transfer manager's threads


def test_a_pool_a_role_started_serves_the_administrator_as_the_administrator(nobody):
    s3 = boto3.client("s3", region_name="us-east-1")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        with acting_as(nobody):
            with pytest.raises(ClientError, match="AccessDenied"):
                pool.submit(s3.list_objects_v2, Bucket=BUCKET).result()  # starts the pool's thread as the role
        assert pool.submit(s3.list_objects_v2, Bucket=BUCKET).result()["KeyCount"] == 0  # submitted by the admin


def test_statement_owners_are_kept_with_the_statements_and_survive_the_process(tmp_path):
    # DescribeStatement, GetStatementResult and CancelStatement read the owner's user id (the condition key
    # redshift-data:statement-owner-iam-userid, Data API reference "Authorizing access"): after the local cloud is
    # killed and restarted, the role that ran a statement still reads it, and no other role does.
    from shiftflow.dataapi.store import StatementStore
    from shiftflow.local.iam import Enforcement, parse_document

    owner_arn, other_arn = f"arn:aws:iam::{ACCOUNT}:role/owner", f"arn:aws:iam::{ACCOUNT}:role/other"

    def role(arn: str, role_id: str) -> Role:
        return Role(arn.rsplit("/", 1)[-1], arn, role_id, tuple(parse_document({"Statement": [{
            "Effect": "Allow", "Action": "redshift-data:DescribeStatement", "Resource": "*",
            "Condition": {"StringLike": {"redshift-data:statement-owner-iam-userid": f"{role_id}:*"}}}]})))

    def enforcement_over(store: StatementStore) -> Enforcement:
        enforcement = Enforcement(Scope("us-east-1", ACCOUNT))
        enforcement.roles = RoleRegistry(roles={owner_arn: role(owner_arn, "AROAOWNER"),
                                                other_arn: role(other_arn, "AROAOTHER")})
        enforcement.statement_owners = store
        return enforcement

    store = StatementStore(max_active=10)
    store.keep_on_disk(tmp_path)
    statement, _ = store.record({"Sql": "select 1", "Database": "dev"}, ["select 1"], False, dict)
    before = enforcement_over(store)
    before.record_statement_owner(statement.id, before.principal_for_role(owner_arn, "fn"))

    restarted = StatementStore(max_active=10)  # a new process over the same folder, as after kill -9
    restarted.keep_on_disk(tmp_path)
    after = enforcement_over(restarted)
    describe = {"Id": statement.id}
    owner, other = after.principal_for_role(owner_arn, "fn"), after.principal_for_role(other_arn, "fn")
    assert after.check("redshift-data", "DescribeStatement", describe, owner) is None
    denial = after.check("redshift-data", "DescribeStatement", describe, other)
    assert denial is not None and denial.authorization.action == "redshift-data:DescribeStatement"


def test_the_interpreters_client_of_a_role_is_made_once_and_acts_as_the_role_as_it_is_at_each_call(monkeypatch):
    from types import SimpleNamespace

    from moto.stepfunctions.parser.asl.utils import boto_client

    from shiftflow.local.iam.policy import parse_document

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    states, other = (f"arn:aws:iam::{ACCOUNT}:role/{name}" for name in ("states", "other"))
    with mock_aws(), enforce(Scope("us-east-1", ACCOUNT)) as enforcement:
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        enforcement.roles = RoleRegistry(roles={states: Role("states", states, "AROASTATES")})
        client = boto_client.boto_client_for(region="us-east-1", service="s3",
                                             state_credentials=SimpleNamespace(role_arn=states))
        assert client is boto_client.boto_client_for(region="us-east-1", service="s3",
                                                     state_credentials=SimpleNamespace(role_arn=states))
        assert client is not boto_client.boto_client_for(region="us-east-1", service="s3",
                                                         state_credentials=SimpleNamespace(role_arn=other))
        with pytest.raises(ClientError, match="AccessDenied"):
            client.list_objects_v2(Bucket=BUCKET)
        allowed = parse_document({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"}]})
        enforcement.roles = RoleRegistry(roles={states: Role("states", states, "AROASTATES", allowed)})
        assert client.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0


def test_list_statements_shows_a_role_its_own_statements_only(monkeypatch):
    """ListStatements' RoleLevel: "If true, all statements run by the caller's IAM role are returned. If false, only
    statements run by the caller's IAM role in the current IAM session are returned" (Data API reference); the
    administrator (the local endpoint's clients) sees every statement."""
    from shiftflow.dataapi.inprocess import route_in_process
    from shiftflow.local.iam import parse_document
    from tests.unit.dataapi.conftest import TARGET, make_emulator

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    anything = tuple(parse_document({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    first_arn, second_arn = f"arn:aws:iam::{ACCOUNT}:role/first", f"arn:aws:iam::{ACCOUNT}:role/second"
    with mock_aws(), enforce(Scope("us-east-1", ACCOUNT)) as enforcement, make_emulator() as emulator, \
            route_in_process(emulator):
        enforcement.roles = RoleRegistry(roles={first_arn: Role("first", first_arn, "AROAFIRST", anything),
                                                second_arn: Role("second", second_arn, "AROASECOND", anything)})
        enforcement.statement_owners = emulator.statements
        data_api = boto3.client("redshift-data", region_name="us-east-1")
        first_a, first_b = (enforcement.principal_for_role(first_arn, s) for s in ("a", "b"))
        second = enforcement.principal_for_role(second_arn, "a")
        ran: dict[str, str] = {}
        for name, principal in (("first a", first_a), ("first b", first_b), ("second", second), ("admin", None)):
            with acting_as(principal):
                ran[name] = data_api.execute_statement(Sql="select 1", **TARGET, WaitTimeSeconds=10)["Id"]

        def listed(principal, **options) -> set[str]:
            with acting_as(principal):
                return {s["Id"] for s in data_api.list_statements(Status="ALL", **options)["Statements"]}

        assert listed(first_b) == {ran["first a"], ran["first b"]}
        assert listed(first_b, RoleLevel=False) == {ran["first b"]}
        assert listed(second) == {ran["second"]}
        assert listed(None) == set(ran.values())


@pytest.mark.parametrize("engine_name", ["duckdb", "postgres"])
def test_a_data_api_call_without_db_user_runs_as_its_callers_iam_identity(monkeypatch, engine_name):
    """ExecuteStatement without DbUser or SecretArn: "The database user name is derived from the IAM identity. For
    example, arn:iam::123456789012:user:foo has the database user name IAM:foo" (Data API reference), a role's
    IAMR:<role> (docs/deploy.md); the local administrator is the IAM user local, IAM:local; a DbUser wins. The same
    on both engines, for a kept session's later calls too."""
    from shiftflow.dataapi import translate
    from shiftflow.dataapi.engines.duckdb import DuckDBEngine
    from shiftflow.dataapi.engines.postgres import PostgresEngine
    from shiftflow.dataapi.inprocess import route_in_process
    from shiftflow.local.iam import parse_document
    from tests.unit.dataapi.conftest import make_emulator, rows

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    anything = tuple(parse_document({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    arn = f"arn:aws:iam::{ACCOUNT}:role/shiftflow-DataApiFunctionRole"
    engine = DuckDBEngine() if engine_name == "duckdb" else PostgresEngine()
    with mock_aws(), enforce(Scope("us-east-1", ACCOUNT)) as enforcement, \
            make_emulator(engine=engine, translator=translate) as emulator, route_in_process(emulator):
        enforcement.roles = RoleRegistry(roles={arn: Role("shiftflow-DataApiFunctionRole", arn, "AROADATAAPI",
                                                          anything)})
        data_api = boto3.client("redshift-data", region_name="us-east-1")
        role = enforcement.principal_for_role(arn, "run_sql_job")

        def who(principal, **target) -> list[list[str]]:
            with acting_as(principal):
                ran = data_api.execute_statement(Sql="select current_user, session_user", Database="dev",
                                                 WaitTimeSeconds=10, **target)
                assert data_api.describe_statement(Id=ran["Id"])["Status"] == "FINISHED"
                return rows(data_api, ran["Id"])

        as_role = [["IAMR:shiftflow-DataApiFunctionRole"] * 2]
        assert who(role, WorkgroupName="shiftflow-local") == as_role
        assert who(role, ClusterIdentifier="shiftflow-local") == as_role
        assert who(role, ClusterIdentifier="shiftflow-local", DbUser="awsuser") == [["awsuser", "awsuser"]]
        assert who(None, WorkgroupName="shiftflow-local") == [["IAM:local", "IAM:local"]]
        with acting_as(role):
            kept = data_api.execute_statement(Sql="select 1", WorkgroupName="shiftflow-local", Database="dev",
                                              SessionKeepAliveSeconds=60, WaitTimeSeconds=10)
            later = data_api.execute_statement(Sql="select current_user", SessionId=kept["SessionId"],
                                               WaitTimeSeconds=10)
            assert rows(data_api, later["Id"]) == [["IAMR:shiftflow-DataApiFunctionRole"]]
