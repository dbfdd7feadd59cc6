"""The AWS clients a command works through, for a deployed stack and for the local cloud alike (one code path:
the local cloud only adds its endpoint URL and credentials).

They are the clients boto3 makes (boto3.Session.client is botocore's create_client on the session boto3 sets up),
made from botocore directly: importing boto3 imports s3transfer, about a third of `shiftflow status`. An S3 client
still gets boto3's transfer methods (upload_file, download_file, ...), boto3 imported when the first one is made.

botocore's first client in a process walks its data folder (about 900 directory listings, to list the services) and
parses its JSON data files (endpoints.json alone is 1.2 MB, a service's model up to 1 MB): about a third of
`shiftflow status` against a running local cloud (benchmarks/status_latency.py). `CachedLoader` is botocore's own
Loader keeping both across processes, in the user's cache folder (shiftflow.user_cache): each data file pickled
(as plain dicts: `plain_json`), keyed by its path, size and modification time; the list of services keyed by
botocore's version and the search folders with their modification times (a service folder added or removed changes
its folder's). An unreadable entry is read from botocore's file again and replaced; a cache that cannot be written
costs only the next parse.
"""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore
import botocore.session
from botocore.hooks import HierarchicalEmitter
from botocore.loaders import JSONFileLoader, Loader, instance_cache

from shiftflow.user_cache import load_entry, save_entry, user_cache_dir

CACHE_KIND = "botocore-data"
FORMAT = "plain-1"  # in each data file's key: an entry of an earlier format (OrderedDicts) is never read


def client_factory(region: str | None = None, endpoint_url: str | None = None,
                   credentials: dict[str, str] | None = None) -> Callable[[str], Any]:
    """`make_client(service)`: one client per service (botocore clients are thread-safe), from one session whose
    botocore data comes from the cache. `endpoint_url` None: AWS's endpoints (and AWS_ENDPOINT_URL*, as any SDK).
    `credentials`: aws_access_key_id, aws_secret_access_key and optionally aws_session_token, as boto3.Session takes
    them; None: botocore's credential chain (environment, profile, instance role)."""
    session = botocore_session(region, credentials)
    clients: dict[str, Any] = {}

    def make_client(service: str) -> Any:
        if service not in clients:
            clients[service] = session.create_client(service, endpoint_url=endpoint_url)
        return clients[service]

    return make_client


def botocore_session(region: str | None = None, credentials: dict[str, str] | None = None) -> Any:
    """A botocore session set up as boto3.Session sets up its own for clients, reading botocore's data through
    the cache."""
    session = botocore.session.Session(event_hooks=QuickCheckEmitter())  # botocore.session.get_session(), faster
    if credentials:
        session.set_credentials(credentials["aws_access_key_id"], credentials["aws_secret_access_key"],
                                credentials.get("aws_session_token"))
    if region is not None:
        session.set_config_variable("region", region)
    # boto3's S3 client customization (boto3.Session._register_default_handlers); the others are for resources.
    session.register("creating-client-class.s3", _inject_s3_transfer_methods)
    session.register("before-parse", check_whole_body)
    use_cached_data(session)
    return session


class QuickCheckEmitter(HierarchicalEmitter):
    """botocore's event emitter, its check that a handler takes **kwargs answered from the function's code flags:
    botocore checks it with inspect.getfullargspec (a full signature) for each of the 120 handlers a session
    registers, about a third of the session's creation. A callable other than a function or method is checked
    by botocore, as before."""

    def _verify_accept_kwargs(self, func: Any) -> None:
        code = getattr(func, "__code__", None)  # a function's, or a bound method's function's
        if code is not None and code.co_flags & inspect.CO_VARKEYWORDS and not hasattr(func, "__signature__"):
            return
        super()._verify_accept_kwargs(func)


def check_whole_body(response_dict: dict[str, Any], operation_model: Any, **_: Any) -> None:
    """An answer whose body is shorter than its Content-Length raises botocore's IncompleteReadError (its error for a
    streaming body cut short), as the connection it came on was cut (a server killed mid-answer, a network reset).
    botocore reads the body of any other answer to its end without comparing it with its Content-Length (it turns
    urllib3's check off, botocore.httpsession), so a cut answer parsed as an empty or partial document: a
    DescribeExecution without `status`. Not for HEAD (its Content-Length is the resource's) nor 204 and 304."""
    from botocore.exceptions import IncompleteReadError

    body, expected = response_dict.get("body"), response_dict["headers"].get("content-length", "")
    if (not isinstance(body, (bytes, bytearray)) or not expected.isdigit() or len(body) >= int(expected)
            or response_dict.get("status_code") in (204, 304) or operation_model.http.get("method") == "HEAD"):
        return
    raise IncompleteReadError(actual_bytes=len(body), expected_bytes=int(expected))


def _inject_s3_transfer_methods(class_attributes: dict[str, Any], **kwargs: Any) -> None:
    from boto3.s3.inject import inject_s3_transfer_methods

    inject_s3_transfer_methods(class_attributes, **kwargs)


def use_cached_data(botocore_session: Any) -> None:
    """The clients `botocore_session` creates from now on read botocore's data through the cache."""
    if not isinstance(botocore_session.get_component("data_loader"), CachedData):
        botocore_session.register_component("data_loader", cached_loader(botocore_session.get_config_variable("data_path")))


def cached_loader(data_path: str | None = None) -> Loader:
    """botocore's Loader through the cache; `data_path`: the AWS_DATA_PATH setting, read as
    botocore.loaders.create_loader reads it."""
    extra = [os.path.expanduser(os.path.expandvars(path)) for path in data_path.split(os.pathsep)] if data_path else None
    return CachedLoader(extra_search_paths=extra)


class CachedJSONFileLoader(JSONFileLoader):
    """botocore's JSON file loader, each file's parsed content kept in `folder` for the next process."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load_file(self, file_path: str) -> Any:
        for extension in (".json", ".json.gz"):  # botocore's order (loaders._JSON_OPEN_METHODS)
            path = file_path + extension
            try:
                stat = os.stat(path)
            except OSError:
                continue
            key = [FORMAT, path, stat.st_size, stat.st_mtime_ns]
            parse = super().load_file
            return _cached(self.folder, key, lambda: plain_json(parse(file_path)))
        return None


def plain_json(value: Any) -> Any:
    """botocore's parsed JSON (OrderedDicts: its loader's object_pairs_hook) with plain dicts, in the same order.
    Nothing of botocore's (or moto's) needs an OrderedDict's own methods, and a pickled OrderedDict loads item by
    item: endpoints.json takes 12 ms to unpickle so, 5 ms as plain dicts (every client's process loads it)."""
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_json(item) for item in value]
    return value


class CachedData:
    """Before a botocore Loader class (botocore's, moto's): its files read and its services listed through the
    cache (the user's, unless `folder` is given)."""

    def __init__(self, *args: Any, folder: Path | None = None, **kwargs: Any) -> None:
        self.folder = folder or user_cache_dir(CACHE_KIND)
        super().__init__(*args, file_loader=CachedJSONFileLoader(self.folder), **kwargs)  # type: ignore[call-arg]

    @instance_cache
    def list_available_services(self, type_name: str) -> list[str]:
        folders = []
        for path in self.search_paths:  # type: ignore[attr-defined]
            try:
                folders.append([path, os.stat(path).st_mtime_ns])
            except OSError:
                folders.append([path, None])
        key = ["services", type_name, botocore.__version__, folders]
        return _cached(self.folder, key, lambda: super(CachedData, self).list_available_services(type_name))


class CachedLoader(CachedData, Loader):
    """botocore's Loader through the cache."""


def _cached(folder: Path, key: list[Any], compute: Callable[[], Any]) -> Any:
    entry = folder / (hashlib.sha256(repr(key).encode()).hexdigest() + ".pickle")
    value = load_entry(entry)
    if value is None:
        value = compute()
        if value is not None:
            save_entry(entry, value)
    return value
