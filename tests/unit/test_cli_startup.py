"""A command's process start and end (shiftflow.cli.startup): what the CLI imports, the optional imports it skips,
and the exit without the interpreter's teardown, which must keep the exit code, the output and any unfinished work."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from shiftflow.cli import startup
from tests.conftest import ROOT


def _python(code: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name not in ("SHIFTFLOW_LOCAL_MODE", "BOTO_DISABLE_CRT")}
    env.update(PYTHONPATH=str(ROOT), **environment)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


def test_importing_the_cli_imports_neither_boto3_nor_the_server_side() -> None:
    done = _python("""
        import sys
        import shiftflow.cli.app
        heavy = ("boto3", "botocore.session", "yaml", "moto", "duckdb", "sqlglot", "psycopg", "shiftflow.local.runtime")
        print(sorted(name for name in heavy if name in sys.modules))
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_command_process_skips_pyopenssl_and_the_crt_unless_the_crt_is_asked_for() -> None:
    assert startup.unused_optional_imports({}) == [startup.PYOPENSSL, startup.CRT]
    assert startup.unused_optional_imports({"BOTO_DISABLE_CRT": "False"}) == [startup.PYOPENSSL]
    probe = """
        import sys
        from shiftflow.cli import startup
        startup.skip_unused_optional_imports()
        import boto3, botocore.compat, botocore.httpsession, urllib3.util.ssl_
        boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
        print(botocore.compat.HAS_CRT, "OpenSSL" in sys.modules, botocore.httpsession.SSLContext is urllib3.util.ssl_.SSLContext)
    """
    assert _python(probe).stdout.split() == ["False", "False", "True"]
    assert _python(probe, BOTO_DISABLE_CRT="false").stdout.split() == ["True", "False", "True"]
    # The in-process mode runs moto in the command's process: nothing is skipped there.
    assert _python(probe, SHIFTFLOW_LOCAL_MODE="in-process").stdout.split()[0] == "True"


def test_exit_without_teardown_keeps_the_code_the_output_and_the_atexit_handlers() -> None:
    done = _python("""
        import atexit, sys
        from shiftflow.cli import startup
        atexit.register(lambda: print("atexit ran"))
        sys.stdout.write("unflushed output ")
        sys.stderr.write("unflushed error")
        startup.exit_without_teardown(7)
    """)
    assert (done.returncode, done.stdout, done.stderr) == (7, "unflushed output atexit ran\n", "unflushed error")


def test_exit_without_teardown_waits_for_a_thread_still_at_work() -> None:
    done = _python("""
        import hashlib, threading
        from shiftflow.cli import startup

        def work():
            digest = b""
            for _ in range(200_000):
                digest = hashlib.sha256(digest).digest()
            print("thread finished", flush=True)

        threading.Thread(target=work).start()
        startup.exit_without_teardown(3)
    """)
    assert (done.returncode, done.stdout) == (3, "thread finished\n")


def test_the_shiftflow_command_keeps_its_exit_codes() -> None:
    version = subprocess.run([sys.executable, "-m", "shiftflow.cli.app", "version"], capture_output=True, text=True,
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert (version.returncode, version.stdout.startswith("shiftflow ")) == (0, True)
    bad = subprocess.run([sys.executable, "-m", "shiftflow.cli.app", "run", "sales_data_pipeline", "--input", "not json"],
                         capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         timeout=120)
    assert bad.returncode == 2 and "--input is not JSON" in bad.stderr


def test_the_sub_apps_are_imported_when_named_and_listed_by_help() -> None:
    done = _python("""
        import sys
        from typer.testing import CliRunner
        from shiftflow.cli.app import app
        print("shiftflow.cli.workflow_commands" in sys.modules, "shiftflow.workflows.model" in sys.modules)
        runner = CliRunner()
        listed = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
        print(listed.exit_code, all(f" {name} " in listed.output for name in ("workflow", "scripts", "stream", "status")))
        typo = runner.invoke(app, ["workflw"])
        print(typo.exit_code, "Did you mean 'workflow'" in typo.output)
        named = runner.invoke(app, ["workflow", "--help"], env={"COLUMNS": "200"})
        print(named.exit_code, " validate " in named.output)
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:4] == ["False False", "0 True", "2 True", "0 True"]


def test_the_command_process_defers_the_collector_until_connected_then_freezes_its_start_up() -> None:
    done = _python("""
        import gc
        from shiftflow import collector
        from shiftflow.cli import startup
        before = gc.get_threshold()
        collector.resume()  # never paused (the tests' CliRunner): nothing happens
        print(gc.get_freeze_count() == 0, gc.get_threshold() == before)
        startup.begin()
        print(gc.isenabled(), gc.get_threshold()[0] == collector.START_UP_ALLOCATIONS)
        collector.resume()
        print(gc.get_freeze_count() > 0, gc.get_threshold() == before, gc.isenabled())
        frozen = gc.get_freeze_count()
        collector.resume()  # once only
        print(gc.get_freeze_count() == frozen)
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True"] * 8


def test_a_connected_command_collects_again(tmp_path: Path) -> None:
    """Through the session every command opens (here the in-process runtime): once connected, the collector is on."""
    done = _python("""
        import gc
        from pathlib import Path
        from shiftflow import collector
        from shiftflow.cli import common, startup
        startup.begin()
        try:
            with common.session(None, False, Path("."), None, False):
                print(gc.get_threshold()[0] < collector.START_UP_ALLOCATIONS, gc.get_freeze_count() > 0)
        except BaseException as error:
            print("failed", type(error).__name__)
    """, SHIFTFLOW_LOCAL_MODE="in-process", SHIFTFLOW_STATE_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]


def test_a_command_is_converted_alone_under_the_name_typer_gives_it() -> None:
    import typer.main

    from shiftflow.cli.app import CommandGroup, app

    assert app.registered_commands == [] and {"status", "run", "serve-data-api", "up"} <= set(CommandGroup.deferred)
    group = typer.main.get_command(app)
    ctx = group.context_class(group)
    status = group.get_command(ctx, "status")
    assert set(group.commands) == {"status"} and status.name == "status"
    for name, info in CommandGroup.deferred.items():
        assert name == (info.name or typer.main.get_command_name(info.callback.__name__))
        assert group.get_command(ctx, name).name == name
    assert group.list_commands(ctx)[-len(CommandGroup.LAZY_SUBAPPS):] == list(CommandGroup.LAZY_SUBAPPS)
