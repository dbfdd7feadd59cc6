"""Static checks of the ASL definitions: structure, names, error handling, and the one run-SQL implementation."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = sorted((ROOT / "statemachine").glob("*.asl.json"))
# Errors that mean the SQL or the request is wrong: retrying would run the same failure again.
NEVER_RETRIED = {
    "States.ALL", "States.TaskFailed", "SqlStatementFailed", "SqlStatementAborted", "SqlSubmitRejected",
    "ScriptTooLarge", "ScriptNotFound", "InvalidJobRequest", "ValidationChecksFailed",
}
GENERIC_NAME = re.compile(r"^(Task|State|Step|Pass|Choice|Wait|Parallel|Map|Fail|Succeed|Lambda|Job)\d*$")
MEANINGFUL_NAME = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+$")  # PascalCase, at least two words


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def scopes(definition: dict) -> Iterator[dict]:
    """The top-level machine and every Parallel branch / Map processor, each with its own StartAt and States."""
    yield definition
    for state in definition["States"].values():
        for branch in state.get("Branches", []):
            yield from scopes(branch)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from scopes(processor)


def all_states(definition: dict) -> Iterator[tuple[str, dict, list[dict]]]:
    """(name, state, enclosing states) for every state, with the Parallel/Map states that enclose it."""

    def walk(scope: dict, enclosing: list[dict]):
        for name, state in scope["States"].items():
            yield name, state, enclosing
            for branch in state.get("Branches", []):
                yield from walk(branch, [*enclosing, state])
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                yield from walk(processor, [*enclosing, state])

    yield from walk(definition, [])


def targets(state: dict) -> list[str]:
    found = [state["Next"]] if "Next" in state else []
    found += [choice["Next"] for choice in state.get("Choices", [])]
    found += [state["Default"]] if "Default" in state else []
    found += [catcher["Next"] for catcher in state.get("Catch", [])]
    return found


@pytest.fixture(params=DEFINITIONS, ids=lambda path: path.name)
def definition(request) -> dict:
    return load(request.param)


def test_there_are_definitions():
    assert {path.name for path in DEFINITIONS} >= {"run_sql_job.asl.json", "sales_data_pipeline.asl.json"}


def test_every_state_is_reachable_and_every_transition_lands(definition):
    for scope in scopes(definition):
        states = scope["States"]
        assert scope["StartAt"] in states
        seen, todo = set(), [scope["StartAt"]]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            for target in targets(states[name]):
                assert target in states, f"{name} goes to {target}, which is not in its scope"
                todo.append(target)
        assert seen == set(states), f"unreachable: {sorted(set(states) - seen)}"


def test_every_state_ends_or_moves_on(definition):
    for name, state, _ in all_states(definition):
        if state["Type"] in ("Choice", "Succeed", "Fail"):
            continue
        assert ("Next" in state) != bool(state.get("End")), f"{name} needs exactly one of Next and End"


def test_names_are_unique_and_meaningful(definition):
    names = [name for name, _, _ in all_states(definition)]
    assert len(names) == len(set(names)), "state names must be unique across branches"
    for name in names:
        assert MEANINGFUL_NAME.match(name) and not GENERIC_NAME.match(name), f"{name!r} does not say what it does"


def test_every_task_has_a_catch_or_sits_in_a_block_that_has_one(definition):
    for name, state, enclosing in all_states(definition):
        if state["Type"] not in ("Task", "Parallel", "Map"):
            continue
        caught = any("States.ALL" in catcher["ErrorEquals"] for catcher in state.get("Catch", []))
        enclosed = any(
            any("States.ALL" in catcher["ErrorEquals"] for catcher in outer.get("Catch", [])) for outer in enclosing
        )
        assert caught or enclosed, f"{name} has no Catch and no enclosing block with one"


def test_retries_are_for_transient_errors_only(definition):
    for name, state, _ in all_states(definition):
        for retrier in state.get("Retry", []):
            wrong = NEVER_RETRIED & set(retrier["ErrorEquals"])
            assert not wrong, f"{name} retries {wrong}: a SQL or request error would just run again"
            assert retrier.get("BackoffRate", 2) > 1 and retrier.get("MaxAttempts", 3) <= 10, name


def test_run_sql_job_long_polls_instead_of_waiting():
    definition = load(ROOT / "statemachine" / "run_sql_job.asl.json")
    waits = {name: state for name, state, _ in all_states(definition) if state["Type"] == "Wait"}
    # The one Wait is the backoff before a conflict retry, which submits a new statement: never a polling loop.
    assert list(waits) == ["WaitBeforeConflictRetry"], "completion must come from long polling, not a Wait loop"
    assert waits["WaitBeforeConflictRetry"]["Next"] == "SubmitSqlScript"
    route = definition["States"]["RouteOnSqlStatus"]
    handled = {
        rule.get("StringEquals") for choice in route["Choices"] for rule in [choice, *choice.get("Or", [])]
    }
    assert {"FINISHED", "FAILED", "ABORTED"} <= handled
    assert route["Default"] == "WaitForSqlCompletion"
    poll = definition["States"]["WaitForSqlCompletion"]["Parameters"]["Payload"]
    assert poll["wait_seconds"] == 30, "the longest long poll keeps transitions at 2 per 30 s of statement time"
    failed = definition["States"]["SqlJobFailed"]
    assert failed["Type"] == "Fail" and failed["CausePath"] == "$.progress.report.message"


def sql_jobs(definition: dict) -> dict[str, dict]:
    return {
        name: state
        for name, state, _ in all_states(definition)
        if state["Type"] == "Task" and "startExecution" in state["Resource"]
    }


# Child executions that are not SQL jobs: a configured workflow runs each stage as a workflow_stage execution,
# whose jobs go through run_sql_job (checked like every other definition).
NOT_SQL_CHILDREN = {"workflow.asl.json": {"${WorkflowStageStateMachineArn}"}}


def test_every_sql_job_runs_through_the_one_run_sql_job_state_machine():
    for path in DEFINITIONS:
        if path.name == "run_sql_job.asl.json":
            continue
        definition = load(path)
        allowed = {"${RunSqlJobStateMachineArn}", *NOT_SQL_CHILDREN.get(path.name, set())}
        for name, state in sql_jobs(definition).items():
            assert state["Resource"] == "arn:aws:states:::states:startExecution.sync:2", name
            assert state["Parameters"]["StateMachineArn"] in allowed, name
        lambdas = [
            state["Parameters"]["FunctionName"]
            for _, state, _ in all_states(definition)
            if state["Type"] == "Task" and state["Resource"] == "arn:aws:states:::lambda:invoke"
        ]
        assert "${SubmitSqlJobFunctionArn}" not in lambdas and "${GetStatementStatusFunctionArn}" not in lambdas


def test_every_sql_job_seeds_its_client_token_from_the_starting_execution_and_its_redrive():
    """A retried start of a job (a second child execution) must find the statement of the first, and a redriven or
    retried job must run anew: the seed names the starting execution, its redrive count and, for configured
    workflows, the job's attempt."""
    seeds = {}
    for path in DEFINITIONS:
        for name, state in sql_jobs(load(path)).items():
            if state["Parameters"]["StateMachineArn"] == "${RunSqlJobStateMachineArn}":
                seeds[f"{path.name}:{name}"] = state["Parameters"]["Input"]["client_token_seed.$"]
    assert len(seeds) == 6  # the sales pipeline's five jobs and a configured workflow's job
    for where, seed in seeds.items():
        assert seed.startswith("States.Format(") and "$$.Execution.RedriveCount" in seed, where
        assert "$$.Execution.Id" in seed or where.startswith("workflow_stage"), where
    # A workflow's jobs: the seed the workflow gives the stage (a retried start of the stage finds the same
    # statements), the stage's own redrive count and the job's attempt.
    job_seed = seeds["workflow_stage.asl.json:RunJobScript"]
    assert "$.stage_token_seed" in job_seed and "$.retry.attempt" in job_seed
    (run_stage,) = sql_jobs(load(ROOT / "statemachine" / "workflow.asl.json")).values()
    stage_seed = run_stage["Parameters"]["Input"]["stage_token_seed.$"]
    assert all(part in stage_seed for part in ("$$.Execution.Id", "$$.Execution.RedriveCount", "$.stage.number"))


def test_sales_pipeline_order_guard_and_scripts():
    definition = load(ROOT / "statemachine" / "sales_data_pipeline.asl.json")
    states = definition["States"]
    guard = states["AcquireJobGuard"]
    assert guard["Resource"] == "arn:aws:states:::dynamodb:updateItem"
    assert guard["Parameters"]["ConditionExpression"] == "attribute_not_exists(JobID) OR JobState = :ready"
    assert guard["Catch"][0]["ErrorEquals"] == ["DynamoDB.ConditionalCheckFailedException"]
    branches = [branch["StartAt"] for branch in states["LoadDimensions"]["Branches"]]
    assert branches == ["LoadCustomerAddressDimension", "LoadItemDimension"]
    assert states["LoadDimensions"]["Next"] == "LoadStoreSalesFact"
    assert states["LoadStoreSalesFact"]["Next"] == "ValidateSalesLoad"
    assert states["ValidateSalesLoad"]["Next"] == "CheckValidationResults"
    assert states["RunFailed"] == {
        "Type": "Fail",
        "Comment": states["RunFailed"]["Comment"],
        "ErrorPath": "$.failure_summary.error",
        "CausePath": "$.failure_summary.message",
    }
    # The failure path never stops before notifying: each step's Catch moves on to the next.
    for name, following in [("MarkJobGuardFailed", "RecordFailedRun"), ("RecordFailedRun", "NotifyRunFailed"),
                            ("NotifyRunFailed", "ChooseRunErrorName")]:
        assert states[name]["Next"] == following and states[name]["Catch"][0]["Next"] == following
    for name, state in sql_jobs(definition).items():
        script = ROOT / "scripts" / state["Parameters"]["Input"]["script"]
        assert script.is_file(), f"{name} runs {script}, which does not exist"


# Fail states whose error is already a name of ours: a function's error class (SqlJobFailed), or a job failure
# renamed by ChooseJobErrorName / NameInterruptedJobFailure before the stage decides how it ends.
ERRORS_NAMED_BY_FUNCTIONS = {"SqlJobFailed", "FailJob", "ParallelStageFailed", "ParallelStageFailedWithoutMessage"}


def test_no_fail_state_raises_a_reserved_states_error_name(definition):
    """States.* names are Step Functions' own: a Fail state that re-raises a caught error is reached only through a
    Choice that sends States.* names to a Pass renaming them (the original name stays in the message)."""
    for scope in scopes(definition):
        states = scope["States"]
        for name, state in states.items():
            if state["Type"] != "Fail" or name in ERRORS_NAMED_BY_FUNCTIONS:
                continue
            assert not state.get("Error", "").startswith("States."), name
            if "ErrorPath" not in state:
                continue
            callers = [caller for caller, other in states.items() if name in targets(other)]
            assert callers, name
            for caller in callers:
                if states[caller]["Type"] == "Pass":  # the renamer
                    parameters = states[caller]["Parameters"]
                    error = parameters.get("error", parameters.get("Error"))
                    assert error and not error.startswith("States."), (name, caller)
                    continue
                rule = next(iter(states[caller].get("Choices", [])), {})
                assert (rule.get("Variable"), rule.get("StringMatches")) == (state["ErrorPath"], "States.*"), (name, caller)
                assert states[caller]["Default"] == name and states[rule["Next"]]["Next"] == name, (name, caller)


@pytest.mark.parametrize("completion", ["poll", "event"])
def test_the_longest_job_its_cancel_and_its_rollback_wait_stay_under_the_history_limit(completion):
    """A 24-hour job (every conflict retry, the statement still running at the deadline; in event mode no event
    ever comes), then the cancel and the wait for the statement's end until the rollback bound, then its failure:
    a path of the definition, under Step Functions' 25,000 events with room to spare."""
    from shiftflow.jobs.history_budget import HISTORY_EVENT_LIMIT, worst_case_events, worst_case_path

    definition = load(ROOT / "statemachine" / "run_sql_job.asl.json")
    path = worst_case_path(completion)
    assert path[0] == definition["StartAt"] and definition["States"][path[-1]]["Type"] == "Fail"
    for here, there in zip(path, path[1:]):
        assert there in targets(definition["States"][here]), f"{here} never goes to {there}"
    events = worst_case_events(definition, completion)
    assert events <= 0.96 * HISTORY_EVENT_LIMIT, events  # 1,000 events to spare


def test_each_visit_of_a_task_may_use_up_its_retries_so_the_polled_checks_are_paced():
    """Step Functions counts a retrier's attempts per visit of its state: 2,880 checks of a 24-hour poll-mode job
    could each fail 6 times. Their retries wait at least a long poll (no jitter), so that failures are no more frequent
    than checks; with the usual jittered backoff the same job would exceed the history limit."""
    import copy

    from shiftflow.jobs.history_budget import (
        HISTORY_EVENT_LIMIT, paced, retry_allowance, retry_sequence_events, worst_case_events,
    )
    from shiftflow.jobs.status import MAX_WAIT_SECONDS

    definition = load(ROOT / "statemachine" / "run_sql_job.asl.json")
    states = definition["States"]
    for name in ("WaitForSqlCompletion", "StopStatementBeforeFailing"):
        assert paced(states[name]), name
        for retrier in states[name]["Retry"]:
            assert retrier["IntervalSeconds"] >= MAX_WAIT_SECONDS and retrier["JitterStrategy"] == "NONE", name
    jittered = copy.deepcopy(definition)
    jittered["States"]["WaitForSqlCompletion"]["Retry"] = copy.deepcopy(states["SubmitSqlScript"]["Retry"])
    assert not paced(jittered["States"]["WaitForSqlCompletion"])
    assert worst_case_events(jittered, "poll") > 2 * HISTORY_EVENT_LIMIT
    assert worst_case_events(definition, "poll") < HISTORY_EVENT_LIMIT
    # Elsewhere every visit counts a full sequence: the submit of each conflict retry, each event-mode wait.
    submit, wait = states["SubmitSqlScript"], states["WaitForStatementEvent"]
    assert retry_allowance(definition, [(["SubmitSqlScript", "WaitForStatementEvent"] * 3, False)]) == 3 * (
        retry_sequence_events(submit) + retry_sequence_events(wait)) == 3 * 3 * (6 + 5)


def test_the_rollback_wait_is_what_bounds_the_cancel_loop():
    """Past the deadline each check costs the same events as before it: without its bound the cancel loop of a
    24-hour poll-mode job would reach the limit within hours of rollback."""
    from shiftflow.jobs.history_budget import CHECK, HISTORY_EVENT_LIMIT, path_events, worst_case_events
    from shiftflow.jobs.status import MAX_WAIT_SECONDS, ROLLBACK_WAIT_SECONDS

    definition = load(ROOT / "statemachine" / "run_sql_job.asl.json")
    per_hour = (path_events(definition, CHECK) - path_events(definition, [])) * 3600 // MAX_WAIT_SECONDS
    room_left_hours = (HISTORY_EVENT_LIMIT - worst_case_events(definition, "poll")) / per_hour
    assert 0 < room_left_hours < ROLLBACK_WAIT_SECONDS / 3600
