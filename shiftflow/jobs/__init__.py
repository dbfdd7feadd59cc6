"""The Redshift Data API contract of a Shiftflow SQL job: submit a script, follow it to the end, read its results.

Used by the Lambda functions (shipped in the shared layer) and by the CLI. Only boto3 and sqlglot are needed here.
"""
