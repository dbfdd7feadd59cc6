"""typer's coercion of a command's parameters without pydantic for the values it would pass through unchanged.

typer (0.29) coerces every parameter value through a pydantic TypeAdapter, built the first time the parameter is
parsed, defaults included: a `shiftflow status` imports pydantic's schema machinery and builds five adapters to turn
None into None and Path(".") into Path("."), about 65 ms of a command against a running local cloud
(benchmarks/status_latency.py). `defer_pydantic_coercion` makes typer build each parameter's coercion only for a value
it would convert or check; a value that is already what typer's adapter returns (a str for a str, an int within the
bounds for an int, a list of str for a list[str], a Path for a Path, checked by typer's own path check) is passed as
it is, and any other value (a Path given as text, an int given as text, an Enum ...) goes to typer's own coercion.

It relies on two private names of typer, used nowhere else: `typer.core.build_runtime_param` (what a parameter calls
to get its coercion: an object with `coerce(value, param, ctx)`) and `typer._param_types.coerce_cli_path` (the
function typer's Path adapter runs). When either is missing (another typer version) nothing is changed: typer
coerces everything itself, as without this module, only slower.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, get_args, get_origin

_UNCHANGED_SCALARS = (str, int, float)
_NOT_PLAIN = object()


class DeferredCoercion:
    """One parameter's coercion: typer's (`build(descriptor)`) made only for a value it would change or check."""

    def __init__(self, descriptor: Any, build: Callable[[Any], Any], check_path: Callable[..., Any]) -> None:
        self.descriptor = descriptor
        self._build = build
        self._check_path = check_path
        self._built: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None and not (param.multiple or param.nargs == -1):
            return None  # typer's RuntimeParam.coerce answers None before its adapter, for a single value
        plain = self._plain(value, param, ctx)
        if plain is not _NOT_PLAIN:
            return plain
        if self._built is None:
            self._built = self._build(self.descriptor)
        return self._built.coerce(value, param=param, ctx=ctx)

    def _plain(self, value: Any, param: Any, ctx: Any) -> Any:
        """The value typer's adapter would return for `value`, or _NOT_PLAIN when only that adapter can tell."""
        annotation, info = self.descriptor.annotation, self.descriptor.parameter_info
        if self.descriptor.file_annotation is not None or getattr(info, "parser", None) is not None:
            return _NOT_PLAIN
        if annotation in _UNCHANGED_SCALARS:
            return value if type(value) is annotation and _within_bounds(value, info) else _NOT_PLAIN
        if get_origin(annotation) is list and get_args(annotation) == (str,) and isinstance(value, (list, tuple)):
            return list(value) if all(type(item) is str for item in value) else _NOT_PLAIN
        if isinstance(annotation, type) and issubclass(annotation, Path) and isinstance(value, annotation):
            path_type = info.path_type if info.path_type is not None else annotation  # as typer's Path adapter
            return self._check_path(value, info, path_type=path_type, param=param, ctx=ctx)
        return _NOT_PLAIN


def _within_bounds(value: Any, info: Any) -> bool:
    """A str, or a number inside the parameter's min and max (outside: typer's adapter refuses or clamps it)."""
    if isinstance(value, str):
        return True
    return (info.min is None or value >= info.min) and (info.max is None or value <= info.max)


def defer_pydantic_coercion() -> bool:
    """From now on in this process, typer builds a parameter's pydantic coercion only when a value needs it.
    False when this typer lacks the names relied on: then it coerces as it always does."""
    try:
        import typer.core
        from typer._param_types import coerce_cli_path
    except ImportError:
        return False
    build = getattr(typer.core, "build_runtime_param", None)
    if build is None:
        return False
    if isinstance(build, _DeferringBuilder):
        return True
    typer.core.build_runtime_param = _DeferringBuilder(build, coerce_cli_path)
    return True


class _DeferringBuilder:
    """Stands for typer.core.build_runtime_param: a DeferredCoercion around typer's own."""

    def __init__(self, build: Callable[[Any], Any], check_path: Callable[..., Any]) -> None:
        self.build = build
        self.check_path = check_path

    def __call__(self, descriptor: Any) -> DeferredCoercion:
        return DeferredCoercion(descriptor, self.build, self.check_path)
