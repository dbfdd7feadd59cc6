"""Shiftflow: ELT orchestration for Amazon Redshift with Step Functions, the Data API and DynamoDB.

This top-level package stays import-light: the Lambda layer ships `shiftflow.sql` and `shiftflow.jobs`
without the local runtime's heavy dependencies (DuckDB, moto).
"""

__version__ = "0.1.0"
