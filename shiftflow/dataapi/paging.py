"""NextToken paging: a token names what it pages (an operation's member, a statement's result) and where to go on."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from shiftflow.dataapi.errors import ValidationException


def page_token(scope: str, offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([scope, offset]).encode()).decode()


def page_offset(token: str | None, scope: str) -> int:
    """Where a page starts: 0 without a token; a token of another scope or not ours is the service's error."""
    if not token:
        return 0
    try:
        token_scope, offset = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError):
        raise ValidationException("Invalid NextToken.") from None
    if token_scope != scope or not isinstance(offset, int) or offset < 0:
        raise ValidationException("Invalid NextToken.")
    return offset


def paged(member: str, items: Sequence[Any], request: Mapping[str, Any], default_limit: int) -> dict[str, Any]:
    """One page of `items` as `{member: [...], NextToken}`, from the request's NextToken and MaxResults."""
    start = page_offset(request.get("NextToken"), member)
    limit = request.get("MaxResults") or default_limit
    response: dict[str, Any] = {member: list(items[start:start + limit])}
    if start + limit < len(items):
        response["NextToken"] = page_token(member, start + limit)
    return response
