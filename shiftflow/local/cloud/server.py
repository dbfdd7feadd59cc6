"""The local cloud process: the LocalRuntime's assembly served on one 127.0.0.1 endpoint.

    python -m shiftflow.local.cloud.server --project . --state-dir .shiftflow     # what `shiftflow up` runs

One process per state folder (the runtime's lock on it), holding the warehouse, moto's services with the project's
patches, template.yaml deployed (also as the CloudFormation stack `shiftflow-local`, whose outputs the commands read
as they read a deployed stack's: announced in the endpoint file, registered in moto on the first CloudFormation
request), the Data API emulator and the handlers in-process. moto's backends are the same
objects for HTTP requests and for the interpreter's own calls (mock_aws is active in this process), so a state
machine started over HTTP runs here, in-process. SIGTERM and SIGINT stop it cleanly: HTTP first, then the warehouse
closes; what was still running is recorded as aborted when the next cloud starts (shiftflow.local.cloud
.durable_executions), and its status change routed as AWS routes it (the template's heal fails its guard).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import logging
import os
import signal
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiftflow import collector, regex_cache
from shiftflow.local.cloud.client import (Endpoint, hold_serve_lock, refuse_beside_standalone_data_api,
                                         remove_endpoint, write_endpoint)
from shiftflow.local.identity import ACCOUNT_ID, REGION, STACK_NAME

if TYPE_CHECKING:
    from shiftflow.local.runtime import LocalRuntime
    from shiftflow.local.template import StackResource

log = logging.getLogger("shiftflow.cloud")
STARTUP_DELIVERY_SECONDS = 60
STATEMENTS_FOLDER = "statements"  # the Data API's statements (shiftflow.dataapi.store_files)


class LocalCloud:
    """Use as a context manager: entered, it serves on `url`; `serve_until_stopped()` blocks until a signal."""

    def __init__(self, project_root: Path, state_dir: Path, engine: str = "duckdb", port: int = 0,
                 time_scale: float = 1.0, log_level: str = "INFO", schedules: bool = False,
                 time_compression: float = 1.0, serve_lock_fd: int | None = None) -> None:
        """`time_compression`: time runs this many times faster (schedules, Wait states, retry backoff);
        `schedules`: run the template's schedules (shiftflow.local.cloud.schedules); `serve_lock_fd`: the state
        folder's serve lock as the starter took it (else taken here)."""
        self.serve_lock_fd = serve_lock_fd
        self.project_root = project_root.resolve()
        self.state_dir = state_dir.resolve()
        self.engine = engine
        self.port = port
        self.schedules = schedules
        self.time_compression = time_compression
        from shiftflow.local.runtime import LocalRuntime  # here: main() defers the collector before this import

        self.runtime = LocalRuntime(self.project_root, state_dir=self.state_dir, engine=engine,
                                    time_scale=time_scale / time_compression, log_level=log_level, route_events=False)
        self.scheduler: Any = None
        self.deliverer: Any = None  # shiftflow.local.cloud.deliveries.Deliverer, once entered
        self.endpoint: Endpoint | None = None
        self.stopping = threading.Event()
        self._stack_registered = False
        self._stack_lock = threading.Lock()
        self._stack = contextlib.ExitStack()
        self._server: Any = None

    @property
    def url(self) -> str:
        assert self.endpoint is not None, "enter the LocalCloud first"
        return self.endpoint.url

    def __enter__(self) -> LocalCloud:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def _start(self) -> None:
        from shiftflow.local.cloud.schedules import firing_records

        self.state_dir.mkdir(parents=True, exist_ok=True)
        # Before anything of the state folder is read: one cloud per state folder.
        self._stack.enter_context(hold_serve_lock(self.state_dir, self.serve_lock_fd))
        refuse_beside_standalone_data_api(self.state_dir)  # `shiftflow up` too: never two owners of the warehouse
        runtime = self._stack.enter_context(self.runtime)
        assert runtime.deployment is not None
        interrupted = self._restore_and_keep_on_disk(runtime)
        self._report_interrupted(interrupted)
        self._serve_http()
        if self.schedules or firing_records(self.state_dir).records():  # the firings an earlier cloud left go on
            self.start_schedules(self.time_compression, only=None if self.schedules else frozenset())

    def _restore_and_keep_on_disk(self, runtime: LocalRuntime) -> list[dict[str, Any]]:
        """What earlier clouds left (executions, unread notifications; the runtime loaded the tables), then every
        later change written through. Returns the records of the executions an earlier cloud's stop interrupted."""
        from moto.stepfunctions.responses import get_backend

        from shiftflow.local.cloud import durable_executions, durable_inbox, durable_tables, events
        from shiftflow.local.runtime import ACCOUNT_ID, NOTIFICATIONS_QUEUE, REGION

        executions = durable_executions.ExecutionFiles(self.state_dir)
        _, interrupted = durable_executions.restore(executions, get_backend(ACCOUNT_ID, REGION))
        self._stack.enter_context(durable_executions.write_through(executions))
        self.deliverer = runtime.deliverer = runtime.start_deliverer(self.time_compression)
        runtime.data_api_events = self._stack.enter_context(  # after the record: a routed event finds it on disk
            events.route_local_events(runtime.emulator, ACCOUNT_ID, REGION, self.deliverer))
        inbox, sqs = durable_inbox.InboxFile(self.state_dir), runtime.client("sqs")
        queues = {name: durable_inbox.InboxFile(self.state_dir, durable_inbox.queue_file(name))
                  for name in runtime.queue_names}
        for name, kept in {NOTIFICATIONS_QUEUE: inbox, **queues}.items():
            durable_inbox.restore(kept, sqs, sqs.get_queue_url(QueueName=name)["QueueUrl"])
        self._stack.enter_context(durable_inbox.write_through(inbox, NOTIFICATIONS_QUEUE, queues))
        self._stack.enter_context(durable_tables.write_through(durable_tables.TableFiles(self.state_dir),
                                                               runtime.table_names))
        # Last, once events are routed and tables written through: deliveries an earlier cloud left go on, the status
        # changes of statements that died with it reach the rules, and whatever their targets write is kept.
        resumed = self.deliverer.resume()
        if resumed:
            log.warning("deliveries resumed (pending when the local cloud stopped): %d", len(resumed))
        failed = runtime.emulator.keep_statements_on_disk(self.state_dir / STATEMENTS_FOLDER)
        if failed:
            log.warning("statements recorded as failed (the local cloud stopped while they ran): %s",
                        ", ".join(statement.id for statement in failed))
        # At the stop, after the schedules and HTTP: the attempts under way end while what they write is kept.
        self._stack.callback(self.deliverer.stop)
        return interrupted

    def _report_interrupted(self, interrupted: list[dict[str, Any]]) -> None:
        """Executions that died with an earlier cloud ended ABORTED: their status changes go out as AWS sends them,
        so the template's rules act on them (the heal fails their guards and records their runs, the cancel rule
        looks for their statements), before the first command is served; so do the deliveries it left."""
        from shiftflow.local.cloud import events
        from shiftflow.local.runtime import ACCOUNT_ID, REGION

        if interrupted:
            log.warning("executions recorded as aborted (the local cloud stopped): %s",
                        ", ".join(record["executionArn"] for record in interrupted))
            events.put_status_changes(interrupted, ACCOUNT_ID, REGION)
        if not self.deliverer.wait(timeout=STARTUP_DELIVERY_SECONDS):
            log.warning("the rules' targets still run after %d s", STARTUP_DELIVERY_SECONDS)

    def start_schedules(self, time_compression: float, only: frozenset[str] | None = None) -> None:
        """Fire the template's schedules (`only`: those of these names, such as
        {"WorkflowStateMachine-ScheduledStreamLoad"}; an empty set: none), and carry on the firings not yet done that
        an earlier scheduler left on disk. A scheduler already running stops first (what it has pending is on disk for
        this one)."""
        from shiftflow.local.cloud.schedules import Scheduler, firing_records, template_schedules

        if self.scheduler is not None:
            self.scheduler.stop()
        known = template_schedules(self.runtime.template, self.runtime.resolver)
        self.scheduler = Scheduler([schedule for schedule in known if only is None or schedule.name in only],
                                   time_compression, self.runtime.client, firings=firing_records(self.state_dir),
                                   known=known)
        self.scheduler.start()
        self._stack.callback(self.scheduler.stop)  # before HTTP stops: no firing into a cloud that is closing

    def _serve_http(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from shiftflow.local.cloud.wsgi import CloudApplication

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request drowns the function logs
        application = CloudApplication(DomainDispatcherApplication(create_backend_app), self.runtime.emulator,
                                       self.health, prepare=self._prepare_service)
        self._server = http_server(application, self.port)
        port = self._server.server_address[1]
        thread = threading.Thread(target=self._server.serve_forever, name="local-cloud-http", daemon=True)
        thread.start()
        self._stack.callback(self._stop_http, thread)
        self.endpoint = Endpoint(url=f"http://127.0.0.1:{port}", pid=os.getpid(), port=port,
                                 project=str(self.project_root), state_dir=str(self.state_dir), engine=self.engine,
                                 stack=stack_description(self.runtime.deployment.outputs, self.runtime.parameters))
        write_endpoint(self.state_dir, self.endpoint)
        log.info("local cloud of %s on %s (engine %s, state %s)", self.project_root, self.url, self.engine,
                 self.state_dir)

    def _stop_http(self, thread: threading.Thread) -> None:
        remove_endpoint(self.state_dir, os.getpid())  # first: a command arriving now starts a new cloud, not a dead one
        self._server.shutdown()
        self._server.server_close()
        thread.join()

    def _prepare_service(self, service: str) -> None:
        """The CloudFormation stack is registered on the first CloudFormation request, not at start: importing moto's
        CloudFormation imports the model of every service it can create (the costliest import of a start, about a
        second), and commands read the stack's description from the endpoint file (`Endpoint.stack`)."""
        if service != "cloudformation":
            return
        with self._stack_lock:
            if not self._stack_registered:
                deployment = self.runtime.deployment
                assert deployment is not None
                register_stack(self.runtime.client("cloudformation"), deployment.outputs, self.runtime.parameters,
                               self.runtime.stack_resources(), self.runtime.deployed_at)
                self._stack_registered = True

    def health(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "state_dir": str(self.state_dir), "project": str(self.project_root),
                "engine": self.engine, "url": self.url if self.endpoint else ""}

    def serve_until_stopped(self) -> None:
        """Block until SIGTERM or SIGINT (Ctrl-C), or until `stopping` is set."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stopping.set())
        while not self.stopping.wait(1.0):
            pass


def http_server(application: Any, port: int = 0) -> Any:
    """The cloud's HTTP server on 127.0.0.1 (not yet serving): moto's request handler, a thread per connection, and
    the listen backlog of an endpoint hundreds of clients connect to at once (werkzeug's default of 128 made a burst
    of connections wait a second or more for their SYNs to be retried). Each answer leaves in one send
    (shiftflow.dataapi.http.WholeAnswerWriter): werkzeug writes the headers and the body apart, and a kill -9 between
    the two left a client a 200 with no body, which botocore parses as an empty answer."""
    from werkzeug.serving import ThreadedWSGIServer

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from shiftflow.dataapi.http import LISTEN_BACKLOG, send_whole_answers

    class CloudRequestHandler(MotoRequestHandler):
        def setup(self) -> None:
            super().setup()
            send_whole_answers(self)

    class CloudServer(ThreadedWSGIServer):
        daemon_threads = True
        request_queue_size = LISTEN_BACKLOG

    return CloudServer("127.0.0.1", port, application, CloudRequestHandler)


def stack_description(outputs: dict[str, str], parameters: dict[str, str]) -> dict[str, Any]:
    """The stack as `DescribeStacks` describes it once registered (Outputs, Parameters), as plain JSON for the endpoint
    file (shiftflow.cli.connection.describe_stack reads the same two keys from a stack's description)."""
    return {"Outputs": [{"OutputKey": name, "OutputValue": value} for name, value in outputs.items()],
            "Parameters": [{"ParameterKey": name, "ParameterValue": value} for name, value in parameters.items()]}


def register_stack(cloudformation: Any, outputs: dict[str, str], parameters: dict[str, str],
                   resources: Iterable[StackResource] = (), deployed_at: datetime.datetime | None = None) -> None:
    """The deployment as a CloudFormation stack with its outputs and parameters: commands find the local resources
    exactly as they find a deployed stack's (shiftflow.cli.connection.stack_connection). Its resources are already
    created (the runtime deployed them): the stack takes them over as they are (moto gap 28, stack_resources), so
    DescribeStackResources and ListStackResources list them, created when the runtime deployed them."""
    import json

    from shiftflow.local.moto_gaps import adopt_stack_resources

    template = {
        "Parameters": {name: {"Type": "String"} for name in parameters},
        "Resources": {},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    cloudformation.create_stack(
        StackName=STACK_NAME, TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": name, "ParameterValue": value} for name, value in parameters.items()],
    )
    adopt_stack_resources(ACCOUNT_ID, REGION, STACK_NAME, resources,
                          deployed_at or datetime.datetime.now(datetime.timezone.utc))


def main(argv: list[str] | None = None) -> None:
    collector.pause()  # the start-up (moto, the template deployed) makes about 320,000 objects, none garbage
    regex_cache.install()  # about 550 patterns compiled by the start-up's imports: 0.1 s CPU of a cold start
    parser = argparse.ArgumentParser(prog="python -m shiftflow.local.cloud.server",
                                     description="Serve Shiftflow's local cloud on 127.0.0.1.")
    parser.add_argument("--project", type=Path, default=Path("."))
    parser.add_argument("--state-dir", type=Path, default=None)
    parser.add_argument("--engine", default="duckdb")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--schedules", action="store_true", help="run the template's schedules")
    parser.add_argument("--time-compression", type=float, default=1.0,
                        help="time runs this many times faster: schedules, Wait states, retry backoff")
    parser.add_argument("--serve-lock-fd", type=int, default=None,
                        help="the state folder's serve lock, taken by the command that starts this cloud")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    state_dir = args.state_dir or args.project / ".shiftflow"
    with LocalCloud(args.project, state_dir, engine=args.engine, port=args.port, time_scale=args.time_scale,
                    log_level=args.log_level, schedules=args.schedules,
                    time_compression=args.time_compression, serve_lock_fd=args.serve_lock_fd) as cloud:
        collector.resume()
        regex_cache.save()  # now: this process ends by os._exit, without atexit's save
        cloud.serve_until_stopped()
        log.info("stopping the local cloud")
    log.info("local cloud stopped")
    logging.shutdown()
    # Execution threads of moto's interpreter still blocked in a job would keep the process alive: all state that
    # matters is saved by now.
    os._exit(0)


if __name__ == "__main__":
    main()
