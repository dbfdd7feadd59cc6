"""The Data API's errors, named as the service names them, in the JSON 1.1 protocol's error form.

boto3 turns `__type` into `client.exceptions.<Name>`; modeled members (ResourceId, StatementId) travel alongside.
"""

from __future__ import annotations

import json


class DataApiError(Exception):
    code = "InternalServerException"
    status = 500

    def __init__(self, message: str, **members: str) -> None:
        super().__init__(message)
        self.message = message
        self.members = members

    def body(self) -> bytes:
        return json.dumps({"__type": self.code, "message": self.message, **self.members}).encode()


class ValidationException(DataApiError):
    code = "ValidationException"
    status = 400


class ResourceNotFoundException(DataApiError):
    code = "ResourceNotFoundException"
    status = 400

    def __init__(self, message: str, resource_id: str) -> None:
        super().__init__(message, ResourceId=resource_id)


class ActiveStatementsExceededException(DataApiError):
    code = "ActiveStatementsExceededException"
    status = 400


class ExecuteStatementException(DataApiError):
    code = "ExecuteStatementException"
    status = 500

    def __init__(self, message: str, statement_id: str) -> None:
        super().__init__(message, StatementId=statement_id)


class BatchExecuteStatementException(DataApiError):
    code = "BatchExecuteStatementException"
    status = 500

    def __init__(self, message: str, statement_id: str) -> None:
        super().__init__(message, StatementId=statement_id)


class InternalServerException(DataApiError):
    code = "InternalServerException"
    status = 500


class UnknownOperationException(DataApiError):
    code = "UnknownOperationException"
    status = 400


def query_not_found(statement_id: str) -> ResourceNotFoundException:
    return ResourceNotFoundException("Query does not exist.", statement_id)


class SerializationException(DataApiError):
    """The body is not a JSON object: the AWS JSON protocol's own error, before any member is looked at."""

    code = "SerializationException"
    status = 400


class RequestEntityTooLargeException(DataApiError):
    code = "RequestEntityTooLargeException"
    status = 413
