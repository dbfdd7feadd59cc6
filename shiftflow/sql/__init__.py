"""Redshift SQL text handling shared by the Lambda functions and the local Data API emulator."""

from shiftflow.sql.parameters import named_parameters
from shiftflow.sql.splitter import SqlSplitError, Statement, split_statements

__all__ = ["SqlSplitError", "Statement", "named_parameters", "split_statements"]
