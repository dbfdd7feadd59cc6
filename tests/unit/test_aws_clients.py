"""shiftflow.aws_clients: botocore's data read through the on-disk cache gives what botocore reads itself; the
clients are botocore's, boto3 imported only for an S3 client's transfer methods."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from botocore.loaders import JSONFileLoader, Loader

from shiftflow.aws_clients import CachedLoader, client_factory
from tests.conftest import ROOT


def _no_json_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("botocore's JSON file was parsed although it is cached")

    monkeypatch.setattr(JSONFileLoader, "_load_file", refuse)


def _service(data: Path, name: str, operations: dict) -> Path:
    folder = data / name / "2020-01-01"
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps({"metadata": {"apiVersion": "2020-01-01"},
                                                       "operations": operations, "shapes": {}}))
    return folder / "service-2.json"


def test_a_second_loader_reads_what_botocore_reads_from_the_cache_alone(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    first = CachedLoader(folder=cache)
    plain = Loader()
    assert first.load_data("endpoints") == plain.load_data("endpoints")
    assert first.load_service_model("dynamodb", "service-2") == plain.load_service_model("dynamodb", "service-2")
    assert first.list_available_services("service-2") == plain.list_available_services("service-2")
    _no_json_parse(monkeypatch)
    second = CachedLoader(folder=cache)
    assert second.load_service_model("dynamodb", "service-2") == plain.load_service_model("dynamodb", "service-2")
    assert "dynamodb" in second.list_available_services("service-2")


def test_a_changed_file_or_a_new_service_is_read_again(tmp_path: Path) -> None:
    data, cache = tmp_path / "models", tmp_path / "cache"
    model = _service(data, "shiftflowtest", {"Ping": {"name": "Ping"}})
    loader = CachedLoader(extra_search_paths=[str(data)], folder=cache)
    assert list(loader.load_service_model("shiftflowtest", "service-2")["operations"]) == ["Ping"]
    model.write_text(model.read_text().replace('"Ping"}}', '"Ping"}, "Pong": {"name": "Pong"}}'))
    os.utime(model, ns=(model.stat().st_atime_ns, model.stat().st_mtime_ns + 1_000_000))
    _service(data, "shiftflowother", {})
    os.utime(data, ns=(data.stat().st_atime_ns, data.stat().st_mtime_ns + 1_000_000))
    again = CachedLoader(extra_search_paths=[str(data)], folder=cache)
    assert list(again.load_service_model("shiftflowtest", "service-2")["operations"]) == ["Ping", "Pong"]
    assert {"shiftflowtest", "shiftflowother"} <= set(again.list_available_services("service-2"))


def test_an_unreadable_entry_is_read_from_botocore_again_and_replaced(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    expected = CachedLoader(folder=cache).load_data("sdk-default-configuration")
    for entry in cache.iterdir():
        entry.write_bytes(b"not a pickle")
    assert CachedLoader(folder=cache).load_data("sdk-default-configuration") == expected
    assert CachedLoader(folder=cache).load_data("sdk-default-configuration") == expected


def test_the_client_factory_makes_one_client_per_service_on_the_endpoint(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIFTFLOW_CACHE_DIR", str(tmp_path))
    make_client = client_factory("eu-west-1", "http://127.0.0.1:9", {"aws_access_key_id": "a",
                                                                     "aws_secret_access_key": "b"})
    dynamodb = make_client("dynamodb")
    assert make_client("dynamodb") is dynamodb and make_client("s3") is not dynamodb
    assert dynamodb.meta.endpoint_url == "http://127.0.0.1:9" and dynamodb.meta.region_name == "eu-west-1"
    assert any((tmp_path / "botocore-data").iterdir())


def test_the_clients_are_botocore_s_without_boto3_and_s3_keeps_boto3_s_transfer_methods(tmp_path: Path) -> None:
    # A process of its own: whether boto3 is imported, and by which client.
    probe = """
        import sys
        from shiftflow.aws_clients import client_factory
        make_client = client_factory("us-east-1", "http://127.0.0.1:9", {"aws_access_key_id": "a",
                                                                         "aws_secret_access_key": "b"})
        dynamodb = make_client("dynamodb")
        print("boto3" in sys.modules, "s3transfer" in sys.modules, type(dynamodb).__name__)
        s3 = make_client("s3")
        print("boto3" in sys.modules, all(hasattr(s3, name) for name in ("upload_file", "download_fileobj")))
    """
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "SHIFTFLOW_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(probe)], capture_output=True, text=True,
                          env=environment, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["False False DynamoDB", "True True"]


def test_the_client_factory_uses_the_credentials_it_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIFTFLOW_CACHE_DIR", str(tmp_path))
    client = client_factory("us-east-1", None, {"aws_access_key_id": "key", "aws_secret_access_key": "secret",
                                                "aws_session_token": "token"})("sts")
    credentials = client._request_signer._credentials  # noqa: SLF001 - what the client signs with
    assert (credentials.access_key, credentials.secret_key, credentials.token) == ("key", "secret", "token")


def test_the_cached_data_is_botocore_s_in_plain_dicts_in_the_same_order(tmp_path: Path) -> None:
    from collections import OrderedDict

    def kinds(value: object) -> set[type]:
        if isinstance(value, dict):
            return {type(value)}.union(*(kinds(item) for item in value.values()))
        if isinstance(value, list):
            return {list}.union(*(kinds(item) for item in value))
        return set()

    botocore_s = Loader().load_service_model("dynamodb", "service-2")
    assert OrderedDict in kinds(botocore_s)
    for loader in (CachedLoader(folder=tmp_path), CachedLoader(folder=tmp_path)):  # computed, then from the cache
        cached = loader.load_service_model("dynamodb", "service-2")
        assert OrderedDict not in kinds(cached) and dict in kinds(cached)
        assert json.dumps(cached) == json.dumps(botocore_s)  # the same content in the same order


def test_the_session_registers_botocore_s_handlers_and_refuses_those_without_kwargs_as_botocore_does() -> None:
    import functools

    import botocore.session

    from shiftflow.aws_clients import botocore_session

    def handlers(session: object) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}

        def walk(node: dict, prefix: list[str]) -> None:
            for part, child in node.get("children", {}).items():
                walk(child, [*prefix, part])
            if node.get("values"):
                values = node["values"]
                found[".".join(prefix)] = [getattr(h, "__qualname__", repr(h))
                                           for h in (*values.first, *values.middle, *values.last)]

        walk(session._events._emitter._handlers._root, [])  # type: ignore[attr-defined]
        return found

    ours, botocores = handlers(botocore_session()), handlers(botocore.session.get_session())
    assert ours.pop("creating-client-class.s3") == [*botocores.pop("creating-client-class.s3"),
                                                    "_inject_s3_transfer_methods"]
    assert ours.pop("before-parse") == [*botocores.pop("before-parse", []), "check_whole_body"]
    assert ours == botocores
    session = botocore_session()

    class Handler:
        def method(self, **kwargs: object) -> None: ...

        def __call__(self, event: object) -> None: ...

    session.register("before-send", Handler().method)  # accepted, as botocore accepts them
    session.register("before-send", functools.partial(lambda **kwargs: None))
    for refused in (lambda event: None, Handler(), functools.partial(lambda event: None)):
        with pytest.raises(ValueError, match="must accept keyword arguments"):
            session.register("before-send", refused)


def test_a_body_shorter_than_its_content_length_is_an_incomplete_read_except_for_head_and_empty_statuses():
    """shiftflow.aws_clients.check_whole_body: HEAD's Content-Length is the resource's (HeadObject of a 5-byte
    object answers no body), 204 and 304 carry none; a whole body, or one longer (decoded), passes."""
    import botocore.session
    from botocore.awsrequest import HTTPHeaders
    from botocore.exceptions import IncompleteReadError

    from shiftflow.aws_clients import check_whole_body

    s3 = botocore.session.get_session().get_service_model("s3")
    sfn = botocore.session.get_session().get_service_model("stepfunctions")

    def answer(body: bytes, length: str, status: int = 200) -> dict:
        headers = HTTPHeaders()
        headers["Content-Length"] = length
        return {"body": body, "headers": headers, "status_code": status}

    describe = sfn.operation_model("DescribeExecution")
    with pytest.raises(IncompleteReadError, match="0 read, but total bytes expected is 120"):
        check_whole_body(answer(b"", "120"), describe)
    with pytest.raises(IncompleteReadError, match="3 read, but total bytes expected is 120"):
        check_whole_body(answer(b'{"s', "120", status=400), describe)
    check_whole_body(answer(b"{}", "2"), describe)
    check_whole_body(answer(b"", "5"), s3.operation_model("HeadObject"))
    check_whole_body(answer(b"", "5", status=304), describe)
    check_whole_body(answer(b"{}", ""), describe)
