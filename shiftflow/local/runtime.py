"""The local runtime: template.yaml's resources created in an in-process moto account, the state machines run by
moto's ASL interpreter (patched in moto_gaps), the Lambda handlers called in-process, and every `redshift-data`
call answered by the Data API emulator over an embedded warehouse. Handlers and state machines act as their roles in
template.yaml (shiftflow.local.iam); the runtime's own clients are the account's administrator.

State survives between commands in a project-local folder (`.shiftflow/` by default): the warehouse file and the
DynamoDB tables (shiftflow.local.cloud.durable_tables), so the job guard and the run history outlive one command.
This is the in-process mode, for tests and benchmarks; the CLI's commands are clients of the local cloud
(shiftflow.local.cloud), a long-lived process that runs this same assembly behind one HTTP endpoint.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3

from shiftflow.aws_clients import use_cached_data
from shiftflow.deployment import Deployment
from shiftflow.local.identity import ACCOUNT_ID, NOTIFICATIONS_QUEUE, REGION, STACK_NAME  # noqa: F401 - re-exported
from shiftflow.local.template import (SAM_RESOURCE_TYPES, PhysicalResource, Resolver, StackResource, Template,
                                      sam_dead_letter_arn, sam_simple_table_key, schedule_name)

# What the template's Redshift parameters are offline: a named "cluster" the emulator accepts.
LOCAL_PARAMETERS = {
    "RedshiftClusterIdentifier": "shiftflow-local",
    "RedshiftDbUser": "shiftflow",
    "RedshiftWorkgroupName": "",
    "RedshiftSecretArn": "",
    "DatabaseName": "dev",
    "NotificationEmail": "",
}


class LocalRuntimeError(RuntimeError):
    """The local runtime cannot start or cannot do what was asked; the message says what to do."""


class LocalRuntime:
    """Use as a context manager; everything it creates lives until exit, then the state is saved to `state_dir`."""

    def __init__(
        self,
        project_root: Path,
        state_dir: Path | None = None,
        engine: str = "duckdb",
        time_scale: float = 1.0,
        persist: bool = True,
        log_level: str = "INFO",
        state_machines: list[str] | None = None,
        data_api_time_scale: float = 1.0,
        route_events: bool = True,
    ) -> None:
        self.project_root = project_root
        self.state_dir = state_dir or project_root / ".shiftflow"
        self.engine_name = engine
        self.time_scale = time_scale
        # Long polls (WaitTimeSeconds) of the emulator: kept apart from time_scale (Wait states, Retry backoff) so
        # that scaling Wait states does not also shorten the 30-s long poll and add polling loops to every job;
        # benchmarks set both to compress time consistently.
        self.data_api_time_scale = data_api_time_scale
        self.persist = persist
        # Events routed as on AWS (shiftflow.local.cloud.events): execution status changes, the emulator's statement
        # events, the template's rules. The local cloud starts them itself, after its own record of every execution.
        self.route_events = route_events
        self.data_api_events: Any = None  # the route of the emulator's events (DataApiEventRoute), once entered
        self.deliverer: Any = None  # shiftflow.local.cloud.deliveries.Deliverer of the rules' targets, once entered
        self.parameters = {**LOCAL_PARAMETERS, "LogLevel": log_level}
        # Which state machines to create (ASL file stems) with what they start; None: all. Parsing a definition
        # is the costliest step of a start (ANTLR), so a command creates only what it runs.
        self.wanted_state_machines = state_machines
        self.template = Template.load(project_root / "template.yaml")
        self.deployment: Deployment | None = None
        self.resolver: Resolver | None = None  # template.yaml's values as deployed here (known once entered)
        self.emulator: Any = None
        self.iam: Any = None  # shiftflow.local.iam.Enforcement: the template's roles, enforced (known once entered)
        self.function_logs: Any = None  # shiftflow.local.function_logs.FunctionLogs (once entered)
        self._stack = contextlib.ExitStack()
        self._tables: dict[str, str] = {}  # logical id -> table name
        self.queue_names: list[str] = []  # the template's SQS queues, as created
        self.state_machines: list[str] = []  # the logical ids of the state machines created
        self.deployed_at: datetime.datetime | None = None  # when the template's resources were created
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()

    # --- lifecycle -------------------------------------------------------------------------------------------

    def __enter__(self) -> LocalRuntime:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self.persist and self.deployment is not None:
                self._save_tables()
        finally:
            self._stack.close()

    def _start(self) -> None:
        from moto import mock_aws

        from shiftflow.local import iam, moto_gaps

        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._stack.enter_context(_exclusive(self.state_dir / "lock"))
        self._stack.enter_context(_environment(_fake_credentials()))
        self._stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True}}))
        # mock_aws gives boto3 a new default session: every client of this process made from it (the runtime's, the
        # handlers', the deliverer's; tens at a start) reads botocore's data files from the user's cache.
        use_cached_data(boto3._get_default_session()._session)  # noqa: SLF001
        self._stack.enter_context(moto_gaps.activate(time_scale=self.time_scale))
        # Before any client exists: its handlers must run ahead of the Data API emulator's routing.
        self.iam = self._stack.enter_context(iam.enforce(iam.Scope(REGION, ACCOUNT_ID)))
        self._stack.enter_context(_interpreter_logs(self.parameters["LogLevel"]))
        # Before the handlers are imported (their Powertools loggers take sys.stdout then), closed after every
        # stop that lets the handlers end: what they wrote reaches CloudWatch Logs.
        self.function_logs = self._stack.enter_context(self._function_logs())
        self.emulator = self._start_emulator()
        self.iam.statement_owners = self.emulator.statements  # kept with the statements, on disk when they are
        self.deployment = self._deploy()
        if self.route_events:
            from shiftflow.local.cloud import events

            self.deliverer = self.start_deliverer(time_compression=1 / self.time_scale)
            self.data_api_events = self._stack.enter_context(
                events.route_local_events(self.emulator, ACCOUNT_ID, REGION, self.deliverer))
            self._stack.callback(self.deliverer.stop)  # first at exit, while what its attempts cause is still routed

    def _function_logs(self) -> Any:
        """The handlers' lines in this account's CloudWatch Logs, as Lambda writes them (shiftflow.local.function_logs);
        each still reaches this process's stdout (the local cloud's log) as before."""
        from shiftflow.local.function_logs import FunctionLogs, role_may_write

        return FunctionLogs(ACCOUNT_ID, REGION, authorize=role_may_write(REGION, ACCOUNT_ID),
                            state_dir=self.state_dir if self.persist else None)

    def start_deliverer(self, time_compression: float) -> Any:
        """The deliverer of the rules' Lambda targets (retries, dead-letter queues, pending deliveries in the state
        folder), stopped with the runtime; a Lambda invocation goes straight to moto's backend."""
        import boto3

        from shiftflow.local.cloud import deliveries

        deliverer = deliveries.Deliverer(
            deliveries.DeliveryFiles(self.state_dir),
            deliveries.function_async_configs(self.template, self.resolver), time_compression,
            lambda service, region: boto3.client(service, region_name=region), invoke=deliveries.invoke_on_backend)
        # What is pending stays on disk for the next cloud. The caller also stops it, waiting for the attempts under
        # way, before its routes close; this one only stops a deliverer whose start went no further.
        self._stack.callback(deliverer.stop, 0.0)
        return deliverer

    def _start_emulator(self) -> Any:
        from shiftflow.dataapi.engines import open_engine
        from shiftflow.dataapi.inprocess import route_in_process
        from shiftflow.dataapi.service import DataApiEmulator
        from shiftflow.dataapi.streams import sources
        from shiftflow.dataapi.streams.auto import AutoRefresher

        # Streaming ingestion reads the state folder's topic store (`shiftflow stream put`) and moto's Kinesis;
        # AUTO REFRESH YES views are refreshed by the AutoRefresher below.
        sources.use(sources.StreamSources(topic_root=self.state_dir / "topics", auto_refresh=True))
        engine = open_engine(self.engine_name, self.state_dir / "warehouse" if self.persist else None)
        # The template's one warehouse (a cluster or a workgroup) exists; a request naming another fails as on AWS.
        warehouses = {"ClusterIdentifier": {self.parameters["RedshiftClusterIdentifier"]} - {""},
                      "WorkgroupName": {self.parameters["RedshiftWorkgroupName"]} - {""}}
        emulator = DataApiEmulator(engine, s3_client=self.client("s3"), time_scale=self.data_api_time_scale,
                                   warehouses=warehouses, secrets=self._secret)
        self._stack.enter_context(emulator)
        self._stack.enter_context(route_in_process(emulator))
        refresher = AutoRefresher(engine, self.parameters["DatabaseName"])
        refresher.start()
        self._stack.callback(refresher.stop)  # before the emulator and its engine close
        return emulator

    def _secret(self, secret_id: str) -> dict[str, Any] | None:
        """A SecretArn's secret in this account's Secrets Manager (the Data API reads its username), None when it
        does not exist; a secret that is not a JSON object holds no username."""
        import json

        client = self.client("secretsmanager")
        try:
            text = client.get_secret_value(SecretId=secret_id).get("SecretString") or ""
        except client.exceptions.ResourceNotFoundException:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def client(self, service: str) -> Any:
        """This process's client of `service` (one per service: boto3 clients are thread-safe, and each costs
        tens of ms to create)."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = boto3.client(service, region_name=REGION)
            return self._clients[service]

    # --- deployment: what template.yaml declares ----------------------------------------------------------------

    def _deploy(self) -> Deployment:
        from shiftflow.local import iam
        from shiftflow.local.moto_gaps import record_roles

        self.deployed_at = datetime.datetime.now(datetime.timezone.utc)
        physical = self._physical_resources()
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": STACK_NAME,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        resolver = Resolver(self.template, self.parameters, physical, pseudo)
        name_log_groups(resolver)
        self.resolver = resolver
        self.iam.roles = iam.template_roles(self.template, resolver, ACCOUNT_ID, STACK_NAME)
        record_roles(ACCOUNT_ID, [record.request() for record in self.iam.roles.records.values()],
                     [policy.request() for policy in self.iam.roles.managed_policies.values()], self.deployed_at)
        self._create_buckets(resolver)
        self._create_tables(resolver)
        self._create_topics()
        self._create_queues(resolver)
        self._create_log_groups(resolver)
        self._register_functions(resolver)
        self._create_state_machines(resolver)
        self._create_event_rules(resolver)
        self._record_schedules(resolver)
        outputs = {
            name: str(resolver.resolve(spec["Value"]))
            for name, spec in self.template.body.get("Outputs", {}).items()
            if "Condition" not in spec or resolver.condition(spec["Condition"])
        }
        if "WorkflowConfigTableName" in outputs:
            self._push_project_workflows(outputs["WorkflowConfigTableName"])
        return Deployment(outputs=outputs)

    def _push_project_workflows(self, table: str) -> None:
        push_project_workflows(self.client("dynamodb"), table, self.project_root)

    def _physical_resources(self) -> dict[str, PhysicalResource]:
        """Local physical names: the logical id, prefixed with the stack name where AWS would generate one."""
        from shiftflow.local.iam import role_id, role_name

        physical: dict[str, PhysicalResource] = {}
        for logical_id, resource in self.template.body.get("Resources", {}).items():
            kind = resource["Type"]
            name = f"{STACK_NAME}-{logical_id}".lower() if kind == "AWS::S3::Bucket" else f"{STACK_NAME}-{logical_id}"
            if kind == "AWS::S3::Bucket":
                physical[logical_id] = PhysicalResource(name, {"Arn": f"arn:aws:s3:::{name}", "DomainName": name})
            elif kind in ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"):
                arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
                physical[logical_id] = PhysicalResource(name, {"Arn": arn, "StreamArn": f"{arn}/stream/local"})
            elif kind == "AWS::SNS::Topic":
                arn = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{name}"
                physical[logical_id] = PhysicalResource(arn, {"TopicArn": arn, "TopicName": name})
            elif kind == "AWS::Serverless::Function":
                arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
                physical[logical_id] = PhysicalResource(name, {"Arn": arn})
            elif kind == "AWS::IAM::Role":
                arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"
                physical[logical_id] = PhysicalResource(name, {"Arn": arn, "RoleId": role_id(name)})
            elif kind == "AWS::IAM::ManagedPolicy":  # Ref is the policy's ARN
                arn = f"arn:aws:iam::{ACCOUNT_ID}:policy/{name}"
                physical[logical_id] = PhysicalResource(arn, {"PolicyArn": arn})
            elif kind == "AWS::SQS::Queue":
                physical[logical_id] = _queue(name)
            elif kind == "AWS::Logs::LogGroup":  # without LogGroupName (set once the resolver exists)
                physical[logical_id] = _log_group(name)
            elif kind == "AWS::Serverless::StateMachine":
                arn = f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{name}"
                physical[logical_id] = PhysicalResource(arn, {"Arn": arn, "Name": name})
            else:
                arn = f"arn:aws:local:{REGION}:{ACCOUNT_ID}:{logical_id}"
                physical[logical_id] = PhysicalResource(name, {"Arn": arn, "Name": name})
            if kind in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine") and "Role" not in resource.get(
                    "Properties", {}):  # the role SAM generates, which the template may name (!Ref <LogicalId>Role)
                role = role_name(STACK_NAME, f"{logical_id}Role")
                physical[f"{logical_id}Role"] = PhysicalResource(
                    role, {"Arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{role}", "RoleId": role_id(role)})
        for logical_id in self.template.generated_dead_letter_queues():  # SAM's, for `DeadLetterConfig: {Type: SQS}`
            physical[logical_id] = _queue(f"{STACK_NAME}-{logical_id}")
        for logical_id, event_id in _event_rules(self.template):  # SAM's AWS::Events::Rule <LogicalId><EventId>
            name = f"{STACK_NAME}-{logical_id}-{event_id}"
            physical[logical_id + event_id] = PhysicalResource(
                name, {"Arn": f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{name}"})
        return physical

    # The CloudFormation types of what this runtime creates (docs/local-fidelity.md lists what it does not).
    _CREATED_TYPES = frozenset({"AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::SNS::Topic", "AWS::SQS::Queue",
                                "AWS::Lambda::Function", "AWS::StepFunctions::StateMachine", "AWS::IAM::Role",
                                "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"})

    def stack_resources(self) -> list[StackResource]:
        """The stack's resources as CloudFormation lists them after `sam deploy` (the types after SAM's transform, the
        resources SAM generates: `<Id>Role`, `<Function><Event>` rules, dead-letter queues), for what this runtime
        created: the template's resources whose Condition holds, their physical ids as Ref gives them here. Not
        listed, because not created locally: log groups, bucket and queue policies, Lambda permissions, event invoke
        configs, the layer, schedules and their roles."""
        from shiftflow.local.iam import role_name

        resolver = self.resolver
        assert resolver is not None, "enter the runtime first"
        listed: list[StackResource] = []

        def add(logical_id: str, resource_type: str) -> None:
            listed.append(StackResource(logical_id, resource_type, str(resolver.resolve({"Ref": logical_id}))))

        for logical_id, resource in self.template.body.get("Resources", {}).items():
            if "Condition" in resource and not resolver.condition(resource["Condition"]):
                continue
            kind = SAM_RESOURCE_TYPES.get(resource["Type"], resource["Type"])
            if kind == "AWS::StepFunctions::StateMachine" and logical_id not in self.state_machines:
                continue
            if kind in self._CREATED_TYPES:
                add(logical_id, kind)
            if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine") and "Role" not in \
                    resource.get("Properties", {}):
                add(f"{logical_id}Role", "AWS::IAM::Role")
        for logical_id, event_id in _event_rules(self.template):
            add(logical_id + event_id, "AWS::Events::Rule")
        for logical_id, _, event_id in self._created_scheduler_events(resolver):
            listed.append(StackResource(logical_id + event_id, "AWS::Scheduler::Schedule",
                                        schedule_name(logical_id, event_id)))
            events = self.template.body["Resources"][logical_id]["Properties"]["Events"]
            if "RoleArn" not in (events[event_id].get("Properties") or {}):
                listed.append(StackResource(f"{logical_id}{event_id}Role", "AWS::IAM::Role",
                                            role_name(STACK_NAME, f"{logical_id}{event_id}Role")))
        for logical_id in self.template.generated_dead_letter_queues():
            add(logical_id, "AWS::SQS::Queue")
        return listed

    def _create_buckets(self, resolver: Resolver) -> None:
        s3 = self.client("s3")
        for logical_id, resource in self.template.resources("AWS::S3::Bucket").items():
            name = resolver.resolve({"Ref": logical_id})
            s3.create_bucket(Bucket=name)
            for operation, request in sam_bucket_requests(resolver.resolve(resource.get("Properties", {}))):
                getattr(s3, operation)(Bucket=name, **request)
        bucket = self._scripts_bucket(resolver)
        if bucket:
            self._stage_scripts(bucket)

    def _scripts_bucket(self, resolver: Resolver) -> str | None:
        variables = self.template.function_globals().get("Environment", {}).get("Variables", {})
        value = variables.get("SCRIPTS_BUCKET")
        return resolver.resolve(value) if value else None

    def _stage_scripts(self, bucket: str) -> None:
        """The scripts folder, as `aws s3 sync scripts/ s3://bucket/` would stage it."""
        s3 = self.client("s3")
        scripts = self.project_root / "scripts"
        for path in sorted(scripts.rglob("*.sql")):
            s3.put_object(Bucket=bucket, Key=path.relative_to(scripts).as_posix(), Body=path.read_bytes())

    def _create_tables(self, resolver: Resolver) -> None:
        dynamodb = self.client("dynamodb")
        for logical_id, resource in self.template.body.get("Resources", {}).items():
            if resource.get("Type") not in ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"):
                continue
            properties = resolver.resolve(resource.get("Properties", {}))
            if resource["Type"] == "AWS::Serverless::SimpleTable":  # the table SAM's transform makes of it
                properties = {**properties, **sam_simple_table_key(logical_id, properties)}
            name = resolver.resolve({"Ref": logical_id})
            request = {
                "TableName": name,
                "KeySchema": properties["KeySchema"],
                "AttributeDefinitions": properties["AttributeDefinitions"],
                "BillingMode": "PAY_PER_REQUEST",
            }
            if properties.get("GlobalSecondaryIndexes"):
                request["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
            sse = properties.get("SSESpecification") or {}
            if sse.get("SSEEnabled"):  # CloudFormation's SSEEnabled is the API's Enabled
                request["SSESpecification"] = {"Enabled": True, "SSEType": sse.get("SSEType", "KMS"),
                                               **({"KMSMasterKeyId": sse["KMSMasterKeyId"]}
                                                  if "KMSMasterKeyId" in sse else {})}
            dynamodb.create_table(**request)
            _table_settings(name, properties)
            self._tables[logical_id] = name
        self._load_tables()

    def _create_topics(self) -> None:
        """Topics, each with a local inbox (an SQS queue subscribed to it) where notifications can be read."""
        sns, sqs = self.client("sns"), self.client("sqs")
        self._inbox = sqs.create_queue(QueueName=NOTIFICATIONS_QUEUE)["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=self._inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for logical_id, resource in self.template.resources("AWS::SNS::Topic").items():
            properties = self.resolver.resolve(resource.get("Properties", {}))
            attributes = {key: str(properties[key]) for key in ("DisplayName", "KmsMasterKeyId") if key in properties}
            topic = sns.create_topic(Name=f"{STACK_NAME}-{logical_id}", Attributes=attributes)["TopicArn"]
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)

    def notifications(self) -> list[dict[str, Any]]:
        """Notifications published since the last call: {subject, message} (message parsed when it is JSON)."""
        return read_notifications(self.client("sqs"), self._inbox)

    @property
    def table_names(self) -> dict[str, str]:
        """The DynamoDB tables: logical id in template.yaml -> table name."""
        return dict(self._tables)

    def _register_functions(self, resolver: Resolver) -> None:
        from shiftflow.local.functions import load_handler
        from shiftflow.local.moto_gaps import record_function, register_lambda_handler

        functions = self.template.resources("AWS::Serverless::Function")
        environment: dict[str, str] = {}
        variables: dict[str, dict[str, str]] = {}  # logical id -> the function's own environment
        for logical_id, resource in functions.items():
            variables[logical_id] = self._function_environment(resolver, resource.get("Properties", {}), environment,
                                                               logical_id)
            environment.update(variables[logical_id])
        # Before the imports: handlers read their configuration (Powertools' service name ...) at import time.
        self._stack.enter_context(_environment(environment))
        for logical_id, resource in functions.items():
            properties = resource.get("Properties", {})
            code_dir = self.template.root / properties["CodeUri"]
            # Handler, Timeout, MemorySize ... as Lambda applies them: the function's own, else Globals (else Lambda's
            # defaults).
            merged = {**self.template.function_globals(), **properties}
            handler = load_handler(code_dir, merged.get("Handler", "app.lambda_handler"))
            name = resolver.resolve({"Ref": logical_id})
            log_group = resolver.resolve((merged.get("LoggingConfig") or {}).get("LogGroup"))
            register_lambda_handler(
                name,
                handler,
                timeout_seconds=resolver.resolve(merged.get("Timeout")),
                memory_mb=resolver.resolve(merged.get("MemorySize")),
                log_group=str(log_group) if log_group else None,
            )
            request = sam_function_request(resolver, merged, name, self.iam.roles.function_roles[name],
                                           variables[logical_id])
            # The AWS::Lambda::Permission SAM generates for each EventBridgeRule event (<Function><Event>Permission).
            request["Permissions"] = [
                {"StatementId": f"{STACK_NAME}-{logical_id}{event_id}Permission", "Action": "lambda:InvokeFunction",
                 "Principal": "events.amazonaws.com",
                 "SourceArn": resolver.resolve({"Fn::GetAtt": [logical_id + event_id, "Arn"]})}
                for function_id, event_id in _event_rules(self.template) if function_id == logical_id]
            if merged.get("EventInvokeConfig"):
                request["EventInvokeConfig"] = sam_event_invoke_config(resolver.resolve(merged["EventInvokeConfig"]))
            record_function(ACCOUNT_ID, REGION, request, code_dir)  # what the Lambda API shows, built when first asked

    def _function_environment(
        self, resolver: Resolver, properties: dict[str, Any], seen: dict[str, str], logical_id: str
    ) -> dict[str, str]:
        """Globals plus the function's own variables. Handlers run in one process and share os.environ, so two
        functions that disagree on a variable cannot both be right: that is refused rather than guessed."""
        variables = {
            **self.template.function_globals().get("Environment", {}).get("Variables", {}),
            **properties.get("Environment", {}).get("Variables", {}),
        }
        resolved = {name: str(resolver.resolve(value)) for name, value in variables.items()}
        for name, value in resolved.items():
            if name in seen and seen[name] != value:
                raise LocalRuntimeError(f"{logical_id} sets {name}={value!r}, another function {seen[name]!r}")
        return resolved

    def _create_state_machines(self, resolver: Resolver) -> None:
        sfn = self.client("stepfunctions")
        machines = self.template.resources("AWS::Serverless::StateMachine")
        for logical_id in self._needed_state_machines(machines):
            properties = machines[logical_id].get("Properties", {})
            path = self.template.root / properties["DefinitionUri"]
            substitutions = resolver.resolve(properties.get("DefinitionSubstitutions", {}))
            definition = substitute(path.read_text(), substitutions)
            sfn.create_state_machine(
                name=f"{STACK_NAME}-{logical_id}",
                definition=definition,
                roleArn=self.iam.roles.state_machine_roles[resolver.resolve({"Ref": logical_id})],
                **sam_state_machine_request(resolver, properties),
            )
            self.state_machines.append(logical_id)

    def _create_queues(self, resolver: Resolver) -> None:
        """The template's SQS queues (the failure queues that rule targets and functions send what they could not
        deliver to)."""
        sqs = self.client("sqs")
        declared = {logical_id: resource.get("Properties", {}).get("MessageRetentionPeriod")
                    for logical_id, resource in self.template.resources("AWS::SQS::Queue").items()}
        generated = dict.fromkeys(self.template.generated_dead_letter_queues())  # SAM sets no property on them
        for logical_id, retention in {**declared, **generated}.items():
            name = str(resolver.resolve({"Fn::GetAtt": [logical_id, "QueueName"]}))
            sqs.create_queue(QueueName=name,
                             Attributes={"MessageRetentionPeriod": str(resolver.resolve(retention))} if retention else {})
            self.queue_names.append(name)

    def _create_log_groups(self, resolver: Resolver) -> None:
        """The template's log groups, with their retention (kept as a setting: moto expires nothing). On moto's
        backend itself: a client's two calls per group cost about 80 ms of every start."""
        from moto.logs.models import logs_backends

        backend = logs_backends[ACCOUNT_ID][REGION]
        for logical_id, resource in self.template.resources("AWS::Logs::LogGroup").items():
            name = resolver.resolve({"Ref": logical_id})
            backend.create_log_group(name, {})
            retention = resolver.resolve(resource.get("Properties", {}).get("RetentionInDays"))
            if retention:
                backend.put_retention_policy(name, int(retention))
        self.function_logs.restore_later()  # what earlier commands or clouds logged, within each group's retention

    def _create_event_rules(self, resolver: Resolver) -> None:
        """The functions' EventBridgeRule events: a rule on the default bus with the event's pattern, targeting the
        function. Delivering to a Lambda target is the local cloud's (shiftflow.local.cloud.events)."""
        events = self.client("events")
        functions = self.template.resources("AWS::Serverless::Function")
        for logical_id, event_id in _event_rules(self.template):
            event = functions[logical_id]["Properties"]["Events"][event_id]
            properties = resolver.resolve(event.get("Properties", {}))
            name = resolver.resolve({"Ref": logical_id + event_id})
            events.put_rule(Name=name, EventPattern=json.dumps(properties["Pattern"]),
                            State=properties.get("State", "ENABLED"))
            function_arn = resolver.resolve({"Fn::GetAtt": [logical_id, "Arn"]})
            # The target's retry policy and dead-letter queue, as SAM passes them to AWS::Events::Rule.
            # SAM's target id (samtranslator's EventBridgeRule: <LogicalId><EventId>LambdaTarget, unless Target.Id).
            target_id = (properties.get("Target") or {}).get("Id", f"{logical_id}{event_id}LambdaTarget")
            target = {"Id": target_id, "Arn": function_arn, **(
                {"RetryPolicy": properties["RetryPolicy"]} if "RetryPolicy" in properties else {})}
            if "DeadLetterConfig" in properties:
                target["DeadLetterConfig"] = {"Arn": resolver.resolve(
                    sam_dead_letter_arn(logical_id + event_id, properties["DeadLetterConfig"]))}
            events.put_targets(Rule=name, Targets=[target])

    def _record_schedules(self, resolver: Resolver) -> None:
        """The ScheduleV2 events as the EventBridge Scheduler schedules SAM makes of them, shown by the Scheduler API
        from its first request (moto gap 33); the local cloud's own scheduler runs them (shiftflow.local.cloud
        .schedules), named as it names them."""
        from shiftflow.local.iam.roles import schedule_role_arn
        from shiftflow.local.moto_gaps import record_schedules

        requests = []
        for logical_id, resource_type, event_id in self._created_scheduler_events(resolver):
            properties = resolver.resolve(
                self.template.resources(resource_type)[logical_id]["Properties"]["Events"][event_id].get(
                    "Properties", {}))
            target: dict[str, Any] = {
                "Arn": resolver.resolve({"Fn::GetAtt": [logical_id, "Arn"]}),
                "RoleArn": properties.get("RoleArn") or schedule_role_arn(logical_id, event_id, ACCOUNT_ID,
                                                                          STACK_NAME)}
            if "Input" in properties:
                target["Input"] = str(properties["Input"])
            if "DeadLetterConfig" in properties:
                target["DeadLetterConfig"] = {"Arn": resolver.resolve(
                    sam_dead_letter_arn(logical_id + event_id, properties["DeadLetterConfig"]))}
            if "RetryPolicy" in properties:
                target["RetryPolicy"] = {key: int(value) for key, value in properties["RetryPolicy"].items()}
            request = {"Name": schedule_name(logical_id, event_id), "Target": target,
                       "FlexibleTimeWindow": properties.get("FlexibleTimeWindow") or {"Mode": "OFF"},
                       **{key: properties[key] for key in ("GroupName", "ScheduleExpression",
                                                           "ScheduleExpressionTimezone", "Description", "State",
                                                           "KmsKeyArn") if key in properties}}
            for key in ("StartDate", "EndDate"):  # ISO 8601 in the template, epoch seconds on the wire
                if key in properties:
                    request[key] = datetime.datetime.fromisoformat(
                        str(properties[key]).replace("Z", "+00:00")).timestamp()
            requests.append(request)
        record_schedules(ACCOUNT_ID, REGION, requests, self.deployed_at)

    def _created_scheduler_events(self, resolver: Resolver) -> list[tuple[str, str, str]]:
        """The ScheduleV2 events of the targets this runtime created."""
        return [(logical_id, resource_type, event_id)
                for logical_id, resource_type, event_id in self.template.scheduler_events()
                if resource_type != "AWS::Serverless::StateMachine" or logical_id in self.state_machines]

    def _needed_state_machines(self, machines: dict[str, dict[str, Any]]) -> list[str]:
        """The wanted state machines and every state machine their DefinitionSubstitutions reference."""
        by_stem = {Path(spec["Properties"]["DefinitionUri"]).name.removesuffix(".asl.json"): logical_id
                   for logical_id, spec in machines.items()}
        if self.wanted_state_machines is None:
            return list(machines)
        unknown = [name for name in self.wanted_state_machines if name not in by_stem]
        if unknown:
            return list(machines)  # an ARN or a name we do not know: create everything, the caller will say
        needed: list[str] = []
        todo = [by_stem[name] for name in self.wanted_state_machines]
        while todo:
            logical_id = todo.pop()
            if logical_id in needed:
                continue
            needed.append(logical_id)
            substitutions = json.dumps(machines[logical_id]["Properties"].get("DefinitionSubstitutions", {}))
            todo += [other for other in machines if f'"{other}"' in substitutions or f'"{other}.Arn"' in substitutions]
        return needed

    # --- persistence of the DynamoDB tables ---------------------------------------------------------------------

    def _load_tables(self) -> None:
        from shiftflow.local.cloud.durable_tables import TableFiles

        if not self.persist:
            return
        files = TableFiles(self.state_dir)
        files.remove_partial_writes()  # the runtime owns the state folder (its lock) from now on
        saved = files.load()
        dynamodb = self.client("dynamodb")
        for logical_id, items in saved.items():
            table = self._tables.get(logical_id)
            if table is None:
                continue  # a table the template no longer declares
            for item in items:
                dynamodb.put_item(TableName=table, Item=item)

    def _save_tables(self) -> None:
        from shiftflow.local.cloud.durable_tables import TableFiles

        files = TableFiles(self.state_dir)
        paginator = self.client("dynamodb").get_paginator("scan")
        for logical_id, table in self._tables.items():
            files.save(logical_id, [item for page in paginator.paginate(TableName=table) for item in page["Items"]])


def push_project_workflows(dynamodb: Any, table: str, project_root: Path) -> None:
    """Locally, the project's workflows/*.json are what the runtime knows, each command, without a manual push
    (on a stack, `shiftflow workflow push` stays explicit). A file that does not validate is left out, with a
    warning: `shiftflow workflow validate` says why."""
    from shiftflow.workflows import WorkflowError, parse_workflow, push
    from shiftflow.workflows.store import read_file

    for path in sorted((project_root / "workflows").glob("*.json")):
        try:
            push(dynamodb, table, parse_workflow(read_file(path)))
        except (WorkflowError, ValueError) as error:
            logging.getLogger(__name__).warning("workflow file %s left out: %s", path, error)


_FUNCTION_PROPERTIES = ("Runtime", "Handler", "Description", "Timeout", "MemorySize", "Architectures",
                        "EphemeralStorage", "LoggingConfig")  # SAM passes these to AWS::Lambda::Function as they are


def sam_function_request(resolver: Resolver, merged: dict[str, Any], name: str, role_arn: str,
                         variables: dict[str, str]) -> dict[str, Any]:
    """The CreateFunction request CloudFormation makes of a SAM function (`merged`: its properties over Globals; its
    environment resolved in `variables`), as SAM's transform writes its AWS::Lambda::Function: Tracing becomes
    TracingConfig, KmsKeyArn KMSKeyArn, and SAM tags the function `lambda:createdBy: SAM`. Layers are left out: no
    layer is built or published locally."""
    properties = resolver.resolve({key: value for key, value in merged.items()
                                   if key in (*_FUNCTION_PROPERTIES, "Tracing", "KmsKeyArn", "Tags")})
    request: dict[str, Any] = {"FunctionName": name, "Role": role_arn, "PackageType": "Zip"}
    for key in _FUNCTION_PROPERTIES:
        if key in properties:
            request[key] = int(properties[key]) if key in ("Timeout", "MemorySize") else properties[key]
    if variables:
        request["Environment"] = {"Variables": dict(variables)}
    if "Tracing" in properties:
        request["TracingConfig"] = {"Mode": properties["Tracing"]}
    if "KmsKeyArn" in properties:
        request["KMSKeyArn"] = properties["KmsKeyArn"]
    request["Tags"] = {**{str(key): str(value) for key, value in (properties.get("Tags") or {}).items()},
                       "lambda:createdBy": "SAM"}
    return request


def sam_event_invoke_config(config: dict[str, Any]) -> dict[str, Any]:
    """A SAM function's EventInvokeConfig as SAM's transform writes its AWS::Lambda::EventInvokeConfig: the same
    members, each destination's Type dropped (it tells SAM which policy to add to a role it generates)."""
    request = {key: config[key] for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds") if key in config}
    destinations = {
        kind: {"Destination": destination["Destination"]}
        for kind, destination in (config.get("DestinationConfig") or {}).items() if destination.get("Destination")}
    if destinations:
        request["DestinationConfig"] = destinations
    return request


def _table_settings(name: str, properties: dict[str, Any]) -> None:
    """A table's TimeToLiveSpecification and PointInTimeRecoverySpecification, as CloudFormation applies them after
    CreateTable (UpdateTimeToLive, UpdateContinuousBackups); on moto's backend itself, as a client's calls would cost
    a start a few ms per table."""
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[ACCOUNT_ID][REGION]
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        backend.update_time_to_live(name, {"AttributeName": ttl["AttributeName"], "Enabled": True})
    if (properties.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled"):
        backend.update_continuous_backups(name, {"PointInTimeRecoveryEnabled": True})


# An AWS::S3::Bucket Rule's properties as PutBucketLifecycleConfiguration's members.
_LIFECYCLE_RULE: dict[str, Any] = {
    "Id": lambda value: {"ID": value},
    "Status": lambda value: {"Status": value},
    "Prefix": lambda value: {},
    "ExpirationInDays": lambda value: {"Expiration": {"Days": int(value)}},
    "NoncurrentVersionExpirationInDays": lambda value: {"NoncurrentVersionExpiration": {"NoncurrentDays": int(value)}},
    "NoncurrentVersionExpiration": lambda value: {"NoncurrentVersionExpiration": {
        key: int(days) for key, days in value.items()}},
    "AbortIncompleteMultipartUpload": lambda value: {"AbortIncompleteMultipartUpload": {
        "DaysAfterInitiation": int(value["DaysAfterInitiation"])}},
}


def sam_bucket_requests(properties: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The S3 calls CloudFormation makes after CreateBucket for an AWS::S3::Bucket's BucketEncryption,
    PublicAccessBlockConfiguration, OwnershipControls, VersioningConfiguration and LifecycleConfiguration, in the
    API's member names (boto3 operation, request)."""
    requests: list[tuple[str, dict[str, Any]]] = []
    if "BucketEncryption" in properties:
        requests.append(("put_bucket_encryption", {"ServerSideEncryptionConfiguration": {"Rules": [
            {("ApplyServerSideEncryptionByDefault" if key == "ServerSideEncryptionByDefault" else key): value
             for key, value in rule.items()}
            for rule in properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]]}}))
    if "PublicAccessBlockConfiguration" in properties:
        requests.append(("put_public_access_block", {"PublicAccessBlockConfiguration": {
            key: bool(value) for key, value in properties["PublicAccessBlockConfiguration"].items()}}))
    if "OwnershipControls" in properties:
        requests.append(("put_bucket_ownership_controls", {"OwnershipControls": properties["OwnershipControls"]}))
    if "VersioningConfiguration" in properties:
        requests.append(("put_bucket_versioning", {"VersioningConfiguration": {
            "Status": properties["VersioningConfiguration"]["Status"]}}))
    if "LifecycleConfiguration" in properties:
        rules = []
        for rule in properties["LifecycleConfiguration"]["Rules"]:
            unknown = sorted(set(rule) - set(_LIFECYCLE_RULE))
            if unknown:
                raise LocalRuntimeError(f"not supported locally: the lifecycle rule properties {', '.join(unknown)}")
            api_rule: dict[str, Any] = {"Filter": {"Prefix": rule.get("Prefix", "")}}  # every key without Prefix
            for key, value in rule.items():
                if key != "Prefix":
                    api_rule.update(_LIFECYCLE_RULE[key](value))
            rules.append(api_rule)
        requests.append(("put_bucket_lifecycle_configuration", {"LifecycleConfiguration": {"Rules": rules}}))
    return requests


def sam_state_machine_request(resolver: Resolver, properties: dict[str, Any]) -> dict[str, Any]:
    """CreateStateMachine's members (besides name, definition, role) as CloudFormation passes them after SAM's
    transform of an AWS::Serverless::StateMachine: Type as StateMachineType, Logging as LoggingConfiguration, Tracing
    as TracingConfiguration, its Tags plus `stateMachine:createdBy: SAM`, in the API's member names."""
    resolved = resolver.resolve({key: value for key, value in properties.items()
                                 if key in ("Type", "Logging", "Tracing", "Tags")})
    request: dict[str, Any] = {"type": resolved.get("Type", "STANDARD")}
    logging_config = resolved.get("Logging")
    if logging_config:
        request["loggingConfiguration"] = {
            "level": logging_config.get("Level", "OFF"),
            "includeExecutionData": bool(logging_config.get("IncludeExecutionData", False)),
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": destination["CloudWatchLogsLogGroup"][
                "LogGroupArn"]}} for destination in logging_config.get("Destinations", [])]}
    if "Tracing" in resolved:
        request["tracingConfiguration"] = {"enabled": bool(resolved["Tracing"].get("Enabled", False))}
    tags = {**{str(key): str(value) for key, value in (resolved.get("Tags") or {}).items()},
            "stateMachine:createdBy": "SAM"}
    request["tags"] = [{"key": key, "value": value} for key, value in tags.items()]
    return request


def substitute(definition: str, substitutions: dict[str, Any]) -> str:
    """DefinitionSubstitutions: every ${Name} in the ASL text replaced, every one of them known."""
    for name, value in substitutions.items():
        definition = definition.replace("${" + name + "}", str(value))
    leftover = sorted({part.split("}", 1)[0] for part in definition.split("${")[1:]})
    if leftover:
        raise LocalRuntimeError(f"DefinitionSubstitutions lack {', '.join(leftover)}")
    return definition


def read_notifications(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Drain the local inbox: {subject, message} of every notification delivered since the last read."""
    received: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return received
        for message in batch:
            received.append(_notification(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _notification(body: str) -> dict[str, Any]:
    """The SNS envelope as SQS receives it: the subject, and the message (parsed when it is JSON)."""
    envelope = json.loads(body)
    message = envelope.get("Message", "")
    try:
        message = json.loads(message)
    except ValueError:
        pass
    return {"subject": envelope.get("Subject", ""), "message": message}


def _fake_credentials() -> dict[str, str]:
    """The environment the runtime's clients (its own, the handlers', the deliverer's) are made in: fake
    credentials, and an AWS_ENDPOINT_URL (or a profile's endpoint_url) left by the user for the AWS CLI is not theirs:
    `export AWS_ENDPOINT_URL=$(shiftflow endpoint)` then `shiftflow down` and `up` would send the new cloud's own
    calls to the old one's port (an explicit endpoint_url, as commands give the cloud's, still counts)."""
    return {
        "AWS_ACCESS_KEY_ID": "shiftflow-local",
        "AWS_SECRET_ACCESS_KEY": "shiftflow-local",
        "AWS_SESSION_TOKEN": "shiftflow-local",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
    }


@contextlib.contextmanager
def _interpreter_logs(level: str) -> Iterator[None]:
    """moto's ASL interpreter logs every failed state at ERROR with its whole parsed program; the execution history
    already holds the error, so these logs show only at DEBUG."""
    interpreter = logging.getLogger("moto.stepfunctions.parser")
    before = interpreter.level
    if level != "DEBUG":
        interpreter.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        interpreter.setLevel(before)


@contextlib.contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One command at a time per state folder: two would each load and save the same snapshot."""
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LocalRuntimeError(
                f"another shiftflow command is using {lock_path.parent}; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _event_rules(template: Template) -> list[tuple[str, str]]:
    """(function logical id, event id) of every EventBridgeRule event: SAM makes each an AWS::Events::Rule."""
    return [(logical_id, event_id)
            for logical_id, resource in template.resources("AWS::Serverless::Function").items()
            for event_id, event in resource.get("Properties", {}).get("Events", {}).items()
            if event.get("Type") == "EventBridgeRule"]


def name_log_groups(resolver: Resolver) -> None:
    """The physical names of the log groups with a LogGroupName (a !Sub of the stack's name, at most), once the
    resolver can resolve it."""
    for logical_id, resource in resolver.template.resources("AWS::Logs::LogGroup").items():
        name = resource.get("Properties", {}).get("LogGroupName")
        if name is not None:
            resolver.physical[logical_id] = _log_group(str(resolver.resolve(name)))  # type: ignore[index]


def _log_group(name: str) -> PhysicalResource:
    """A log group's Ref (its name) and Arn (CloudFormation's, ending in `:*`)."""
    return PhysicalResource(name, {"Arn": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*"})


def _queue(name: str) -> PhysicalResource:
    """An SQS queue's Ref (its URL, as CloudFormation gives it) and attributes."""
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
    url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"
    return PhysicalResource(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})
