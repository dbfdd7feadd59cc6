"""The service's response members for what the emulator knows: DescribeStatement, ListStatements' StatementData."""

from __future__ import annotations

from typing import Any

from shiftflow.dataapi import statements as st
from shiftflow.dataapi.statements import Statement, SubStatement
from shiftflow.dataapi.validation import target_members

_LISTED_REQUEST_MEMBERS = (("StatementName", "StatementName"), ("SecretArn", "SecretArn"),
                           ("Parameters", "QueryParameters"), ("SessionId", "SessionId"))


def submitted(statement: Statement) -> dict[str, Any]:
    """ExecuteStatement / BatchExecuteStatement's answer before any waiting."""
    response: dict[str, Any] = {"Id": statement.id, "CreatedAt": statement.created_at,
                                **target_members(statement.request)}
    if statement.request.get("SessionId"):
        response["SessionId"] = statement.request["SessionId"]
    return response


def described(statement: Statement, sub: SubStatement | None) -> dict[str, Any]:
    """DescribeStatement of a statement, or of one of a batch's sub-statements. Call with the store's lock held."""
    request = statement.request
    response: dict[str, Any] = {**target_members(request), "RedshiftPid": statement.pid,
                                "ResultFormat": statement.result_format}
    if request.get("Parameters"):
        response["QueryParameters"] = request["Parameters"]
    if request.get("SessionId"):
        response["SessionId"] = request["SessionId"]
    if statement.is_batch:
        response["ExecutionMode"] = statement.execution_mode
    if sub is None and statement.is_batch:
        response.update({
            "Id": statement.id, "Status": statement.status, "CreatedAt": statement.created_at,
            "UpdatedAt": statement.updated_at, "Duration": statement.duration_ns,
            "HasResultSet": statement.has_result_set, "ResultRows": -1, "ResultSize": -1,
            "RedshiftQueryId": 0, "SubStatements": [sub_statement_data(s) for s in statement.subs],
        })
        if statement.error:
            response["Error"] = statement.error
        return response
    response.update(sub_statement_data(sub or statement.subs[0]))
    if sub is None:  # a single statement: the parent's status covers cancellation before it started
        response.update({"Status": statement.status, "CreatedAt": statement.created_at,
                         "UpdatedAt": statement.updated_at})
        if statement.error:
            response["Error"] = statement.error
    return response


def sub_statement_data(sub: SubStatement) -> dict[str, Any]:
    data: dict[str, Any] = {
        "Id": sub.id, "Status": sub.status, "CreatedAt": sub.created_at, "UpdatedAt": sub.updated_at,
        "Duration": sub.duration_ns if sub.status in st.ENDED else -1, "QueryString": sub.sql,
        "ResultRows": sub.result_rows, "HasResultSet": sub.has_result_set,
        "ResultSize": sub.size if sub.status == st.FINISHED else -1,
        "RedshiftQueryId": max(sub.query_id, 0),
    }
    if sub.error:
        data["Error"] = sub.error
    return data


def statement_data(statement: Statement) -> dict[str, Any]:
    """ListStatements' StatementData."""
    request = statement.request
    data: dict[str, Any] = {"Id": statement.id, "Status": statement.status, "CreatedAt": statement.created_at,
                            "UpdatedAt": statement.updated_at, "IsBatchStatement": statement.is_batch,
                            "ResultFormat": statement.result_format}
    if statement.is_batch:
        data["QueryStrings"] = [sub.sql for sub in statement.subs]
    else:
        data["QueryString"] = statement.subs[0].sql
    for source, target in _LISTED_REQUEST_MEMBERS:
        if request.get(source):
            data[target] = request[source]
    return data
