"""AWS's timestamp format in Step Functions data, shared by the gaps that turn moto's datetimes into strings."""

from __future__ import annotations

import datetime
from typing import Any


def iso_timestamp(value: datetime.datetime | datetime.date) -> str:
    """AWS's timestamp format in Step Functions data: ``2026-01-02T03:04:05.678Z`` (UTC, milliseconds)."""
    if not isinstance(value, datetime.datetime):
        return value.isoformat()
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    value = value.astimezone(datetime.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def iso_datetimes(value: Any) -> Any:
    """A copy-free conversion: datetimes inside dicts and lists are replaced in place, the value is returned."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return iso_timestamp(value)
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list, datetime.date)):
                value[key] = iso_datetimes(item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (dict, list, datetime.date)):
                value[index] = iso_datetimes(item)
    return value
