"""Log keys that belong to one Lambda invocation, kept apart from every other invocation running at the same time.

Powertools' `Logger.append_keys` and `inject_lambda_context` keep keys in the formatter, and every Logger of a
service shares one formatter (one `logging.Logger` per service name). On Lambda a process runs one invocation at a
time, so that is harmless; the local runtime runs all handlers in threads of one process, where two parallel jobs
would log each other's job name and request id. Powertools' thread-safe keys live in a ContextVar instead, one value
per thread: the handlers append theirs with `logger.thread_safe_append_keys`, and `invocation_logging` puts the
Lambda context keys there too, cleared at the start of every invocation.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model

Handler = TypeVar("Handler", bound=Callable[..., Any])


def invocation_logging(logger: Logger) -> Callable[[Handler], Handler]:
    """In place of `@logger.inject_lambda_context(clear_state=True)`: the same keys (cold_start, function_name,
    function_memory_size, function_arn, function_request_id), but this invocation's own."""

    def decorate(handler: Handler) -> Handler:
        invocations = itertools.count()  # next() is atomic: one cold start per function even when two start at once

        @functools.wraps(handler)
        def run(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            # A thread runs one invocation after another: nothing of the previous one may stay.
            logger.thread_safe_clear_keys()
            logger.thread_safe_append_keys(
                cold_start=next(invocations) == 0, **vars(build_lambda_context_model(context))
            )
            return handler(event, context, *args, **kwargs)

        return run  # type: ignore[return-value]

    return decorate
