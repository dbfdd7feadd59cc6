"""Errors of workflow configurations and runs. Step Functions sees the class name as the Error of a failed task."""

from __future__ import annotations


class WorkflowError(Exception):
    """Base of the errors a user sees about a workflow; the message names the workflow (and stage and job)."""


class WorkflowInvalid(WorkflowError):
    """The configuration has problems; `problems` lists each, naming the workflow, stage and job."""

    verdict = "is invalid"

    def __init__(self, workflow_id: str, problems: list[str]) -> None:
        self.workflow_id = workflow_id
        self.problems = problems
        super().__init__(f"{self.summary}:\n" + "\n".join(f"- {p}" for p in problems))

    @property
    def summary(self) -> str:
        """`workflow <id> is invalid (3 problems)`: the first line of the message, without the problems."""
        count = f"{len(self.problems)} problem" + ("s" if len(self.problems) != 1 else "")
        return f"workflow {self.workflow_id} {self.verdict} ({count})"


class RunRefused(WorkflowInvalid):
    """A run would fail before its first statement (a parameter unknown or missing, a script its job could not
    submit): nothing was started. `problems` lists each, naming the workflow, stage, job and script."""

    verdict = "cannot start"


class WorkflowNotFound(WorkflowError):
    """No configuration with that workflow_id (or no run with that execution id)."""


class RestartRefused(WorkflowError):
    """The execution cannot be restarted (it did not fail, belongs to another workflow, or is unknown)."""


class Problems:
    """Collects validation problems so that one pass reports all of them."""

    def __init__(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id
        self.items: list[str] = []

    def add(self, where: str, problem: str) -> None:
        prefix = f"workflow {self.workflow_id}" + (f", {where}" if where else "")
        self.items.append(f"{prefix}: {problem}")

    def raise_if_any(self, error: type[WorkflowInvalid] = WorkflowInvalid) -> None:
        if self.items:
            raise error(self.workflow_id, list(self.items))
