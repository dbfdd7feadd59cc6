"""Configuration-driven workflows (seed 003): the model and its validation, the configuration table, run plans,
restarts and the audit tables. Plain functions taking boto3 clients, shared by the Lambda functions and the CLI.

CLI entry points:
    validate_file(path, s3=None, bucket=None) -> Workflow      # `shiftflow workflow validate`
    push(dynamodb, config_table, workflow) -> config            # `shiftflow workflow push`
    list_workflows(dynamodb, config_table) -> [summary]         # `shiftflow workflow list`
    show(dynamodb, config_table, workflow_id) -> config         # `shiftflow workflow show`
    run_input(workflow_id, parameters=None, restart_execution_id=None) -> the workflow state machine's input
    restart_plan(dynamodb, tables, workflow_id, execution_id) -> what a restart would run (`--restart` preview)
"""

from shiftflow.workflows.errors import RestartRefused, WorkflowError, WorkflowInvalid, WorkflowNotFound
from shiftflow.workflows.model import Job, Stage, Workflow, parse_workflow
from shiftflow.workflows.restart import Tables, restart_plan, run_input
from shiftflow.workflows.store import list_workflows, push, show, validate_file
from shiftflow.workflows.validation import validate

__all__ = [
    "Job",
    "RestartRefused",
    "Stage",
    "Tables",
    "Workflow",
    "WorkflowError",
    "WorkflowInvalid",
    "WorkflowNotFound",
    "list_workflows",
    "parse_workflow",
    "push",
    "restart_plan",
    "run_input",
    "show",
    "validate",
    "validate_file",
]
