"""Read a statement's result set back with get-statement-result, every page, as plain Python rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ResultSet:
    columns: list[str]
    rows: list[dict[str, Any]]


def read_result(client: Any, statement_id: str) -> ResultSet:
    """All rows of `statement_id` (a statement or a batch sub-statement `<id>:<n>`), following NextToken."""
    columns: list[str] = []
    rows: list[dict[str, Any]] = []
    for page in _pages(client, statement_id):
        if not columns:
            columns = [column["name"] for column in page.get("ColumnMetadata", [])]
        rows += [dict(zip(columns, map(field_value, record))) for record in page.get("Records", [])]
    return ResultSet(columns=columns, rows=rows)


def _pages(client: Any, statement_id: str) -> Iterator[dict[str, Any]]:
    request: dict[str, Any] = {"Id": statement_id}
    while True:
        page = client.get_statement_result(**request)
        yield page
        if not page.get("NextToken"):
            return
        request["NextToken"] = page["NextToken"]


def field_value(field: dict[str, Any]) -> Any:
    """The Python value of one Data API Field (exactly one member is set)."""
    if field.get("isNull"):
        return None
    for kind in ("stringValue", "longValue", "doubleValue", "booleanValue", "blobValue"):
        if kind in field:
            return field[kind]
    return None
