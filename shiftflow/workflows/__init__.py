"""Configuration-driven workflows (seed 003): the model and its validation, the configuration table, run plans,
restarts and the audit tables. Plain functions taking boto3 clients, shared by the Lambda functions and the CLI.

CLI entry points:
    validate_scripts(config, ScriptSource) -> Workflow          # `shiftflow workflow validate`: config and scripts
    preflight(workflow, ScriptSource, parameters, previous=None) # before `shiftflow run`: RunRefused, nothing started
    validate_file(path, s3=None, bucket=None) -> Workflow      # config, and the scripts staged (push)
    push(dynamodb, config_table, workflow) -> config            # `shiftflow workflow push`
    list_workflows(dynamodb, config_table) -> [summary]         # `shiftflow workflow list`
    show(dynamodb, config_table, workflow_id) -> config         # `shiftflow workflow show`
    run_input(workflow_id, parameters=None, restart_execution_id=None) -> the workflow state machine's input
    restart_plan(dynamodb, tables, workflow_id, execution_id) -> what a restart would run (`--restart` preview)
"""

from shiftflow.workflows.errors import RestartRefused, RunRefused, WorkflowError, WorkflowInvalid, WorkflowNotFound
from shiftflow.workflows.model import Job, Stage, Workflow, parse_workflow
from shiftflow.workflows.preflight import preflight
from shiftflow.workflows.restart import Tables, restart_plan, run_input
from shiftflow.workflows.store import list_workflows, push, show, validate_file
from shiftflow.workflows.validation import ScriptSource, validate, validate_scripts

__all__ = [
    "Job",
    "RestartRefused",
    "RunRefused",
    "ScriptSource",
    "Stage",
    "Tables",
    "Workflow",
    "WorkflowError",
    "WorkflowInvalid",
    "WorkflowNotFound",
    "list_workflows",
    "parse_workflow",
    "preflight",
    "push",
    "restart_plan",
    "run_input",
    "show",
    "validate",
    "validate_file",
    "validate_scripts",
]
