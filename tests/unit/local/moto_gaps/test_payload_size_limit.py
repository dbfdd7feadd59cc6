"""Gap 17 (shiftflow.local.moto_gaps.payload_size_limit): 256 KiB of UTF-8 allowed, one byte more fails with
States.DataLimitExceeded, on a state's output, its input after Parameters and a Parallel's or Map's result."""

from __future__ import annotations

from tests.unit.local.moto_gaps.conftest import Machines, output_of

LIMIT = 256 * 1024
CATCH_ALL = [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "Caught"}]
CAUGHT = {"Caught": {"Type": "Pass", "Result": "caught", "End": True}}


def string_output_of_bytes(size: int) -> str:
    """A string whose JSON text (with its two quotes) is ``size`` bytes of UTF-8."""
    return "x" * (size - 2)


def test_a_state_output_of_exactly_256_kib_passes_and_one_byte_more_fails(machines: Machines) -> None:
    def echo(size: int) -> dict:
        return {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "Result": string_output_of_bytes(size),
                                                         "End": True}}}

    assert len(output_of(machines.run(echo(LIMIT)))) == LIMIT - 2
    over = machines.run(echo(LIMIT + 1))
    assert (over["status"], over["error"]) == ("FAILED", "States.DataLimitExceeded")


def test_multibyte_characters_count_as_their_utf8_bytes(machines: Machines) -> None:
    euros = "\u20ac" * ((LIMIT - 2) // 3 + 1)  # 3 bytes each in UTF-8: just over the limit, far under in characters
    definition = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "Result": euros, "End": True}}}
    over = machines.run(definition)
    assert (over["status"], over["error"]) == ("FAILED", "States.DataLimitExceeded")


def test_parallel_result_over_the_limit_fails_even_when_result_selector_would_shrink_it(machines: Machines) -> None:
    half = string_output_of_bytes(LIMIT // 2)
    branches = [{"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": half, "End": True}}} for _ in range(3)]
    definition = {
        "StartAt": "Stage",
        "States": {
            "Stage": {
                "Type": "Parallel",
                "Branches": branches,
                "ResultSelector": {"count.$": "States.ArrayLength($)"},
                "Catch": CATCH_ALL,
                "End": True,
            },
            **CAUGHT,
        },
    }
    described = machines.run(definition)
    assert (described["status"], described["error"]) == ("FAILED", "States.DataLimitExceeded")
    assert "'Stage' returned a result" in described["cause"]


def test_map_result_over_the_limit_fails_uncaught(machines: Machines) -> None:
    quarter = string_output_of_bytes(LIMIT // 4)
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.jobs",
                "ItemProcessor": {"StartAt": "Run", "States": {"Run": {"Type": "Pass", "Result": quarter,
                                                                          "End": True}}},
                "ResultSelector": {"count.$": "States.ArrayLength($)"},
                "Catch": CATCH_ALL,
                "End": True,
            },
            **CAUGHT,
        },
    }
    assert output_of(machines.run(definition, {"jobs": [1, 2, 3]})) == {"count": 3}
    described = machines.run(definition, {"jobs": [1, 2, 3, 4, 5]})
    assert (described["status"], described["error"]) == ("FAILED", "States.DataLimitExceeded")


def test_state_input_after_parameters_over_the_limit_fails(machines: Machines) -> None:
    definition = {
        "StartAt": "Build",
        "States": {
            "Build": {
                "Type": "Pass",
                "Parameters": {"a.$": "$.half", "b.$": "$.half", "c.$": "$.half"},
                "ResultPath": "$.copies",
                "OutputPath": "$.copies.a",
                "End": True,
            }
        },
    }
    described = machines.run(definition, {"half": "x" * (LIMIT // 3)})
    assert (described["status"], described["error"]) == ("FAILED", "States.DataLimitExceeded")
    assert "after Parameters" in described["cause"]
