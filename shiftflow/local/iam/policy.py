"""IAM policy evaluation for identity-based policies, as AWS documents it ("Policy evaluation logic", IAM user guide).

A request is allowed when some statement allows it and none denies it: an explicit Deny wins over any Allow, and
with neither the request is implicitly denied. A statement applies when its Action (or NotAction) matches the
action, case-insensitively, and its Resource (or NotResource) matches the resource ARN, case-sensitively, both with
the `*` and `?` wildcards, and when every one of its Condition operators holds. In a Resource the wildcards match
within one colon-separated segment of the ARN, except a `*` that ends its segment, which may run past colons (IAM
user guide, "IAM JSON policy elements: Resource"); the ARN condition operators compare the six parts of the ARN each
on its own (ArnEquals as ArnLike, "IAM JSON policy elements: Condition operators"). Condition key names are
case-insensitive ("IAM JSON policy elements: Condition").

What this does not evaluate fails loudly ("not supported locally") instead of deciding differently from AWS: policy
variables (`${aws:username}`), condition operators beyond the string, ARN, Bool and Null families, set operators
(ForAnyValue/ForAllValues), and condition keys the local runtime does not supply for the request.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any


class NotSupportedLocally(RuntimeError):
    """The policy uses what the local evaluation cannot decide as AWS would."""

    def __init__(self, what: str) -> None:
        super().__init__(f"not supported locally: {what}")


class Decision(enum.Enum):
    ALLOWED = "allowed"
    IMPLICIT_DENY = "no identity-based policy allows"
    EXPLICIT_DENY = "an explicit deny in an identity-based policy"


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] | None = None
    conditions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sid: str = ""

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Statement:
        effect = raw.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise ValueError(f"policy statement {raw.get('Sid', '')!r} has Effect {effect!r}")
        if "Principal" in raw or "NotPrincipal" in raw:
            raise ValueError(f"policy statement {raw.get('Sid', '')!r}: an identity-based policy has no Principal")
        return cls(
            effect=effect,
            actions=_strings(raw.get("Action", ())),
            not_actions=_strings(raw["NotAction"]) if "NotAction" in raw else None,
            resources=_strings(raw.get("Resource", ())),
            not_resources=_strings(raw["NotResource"]) if "NotResource" in raw else None,
            conditions=raw.get("Condition") or {},
            sid=str(raw.get("Sid", "")),
        )

    def applies_to(self, action: str, resource: str, context: Mapping[str, str]) -> bool:
        if self.not_actions is not None:
            if any(_matches(pattern, action, case_sensitive=False) for pattern in self.not_actions):
                return False
        elif not any(_matches(pattern, action, case_sensitive=False) for pattern in self.actions):
            return False
        if self.not_resources is not None:
            if any(_resource_matches(pattern, resource) for pattern in self.not_resources):
                return False
        elif not any(_resource_matches(pattern, resource) for pattern in self.resources):
            return False
        by_name = {key.lower(): value for key, value in context.items()}
        return all(_condition_holds(operator, keys, by_name) for operator, keys in self.conditions.items())


def parse_document(document: Mapping[str, Any]) -> list[Statement]:
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    return [Statement.parse(statement) for statement in statements]


def evaluate(statements: Iterable[Statement], action: str, resource: str,
             context: Mapping[str, str] | None = None) -> Decision:
    allowed = False
    for statement in statements:
        if not statement.applies_to(action, resource, context or {}):
            continue
        if statement.effect == "Deny":
            return Decision.EXPLICIT_DENY
        allowed = True
    return Decision.ALLOWED if allowed else Decision.IMPLICIT_DENY


def _strings(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(str(item) for item in value)


def _matches(pattern: str, value: str, case_sensitive: bool) -> bool:
    if "${" in pattern:
        raise NotSupportedLocally(f"policy variables in IAM policies ({pattern})")
    return _compiled(pattern, case_sensitive, within_segments=False).fullmatch(value) is not None


def _resource_matches(pattern: str, resource: str) -> bool:
    if "${" in pattern:
        raise NotSupportedLocally(f"policy variables in IAM policies ({pattern})")
    return _compiled(pattern, True, within_segments=True).fullmatch(resource) is not None


def _arn_matches(pattern: str, arn: str) -> bool:
    """ArnLike / ArnEquals: the six parts (arn:partition:service:region:account:resource) each match on their own."""
    pattern_parts, arn_parts = pattern.split(":", 5), arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        return False
    return all(_matches(part, actual, case_sensitive=True) for part, actual in zip(pattern_parts, arn_parts))


@lru_cache(maxsize=4096)
def _compiled(pattern: str, case_sensitive: bool, within_segments: bool) -> re.Pattern[str]:
    # IAM's only wildcards are * (any run of characters) and ? (one character); everything else is literal. Within
    # segments (a Resource): they do not match a colon, but a * that ends its segment does.
    one, run = ("[^:]", "[^:]*") if within_segments else (".", ".*")
    regex = []
    for position, char in enumerate(pattern):
        if char == "*":
            ends_segment = position + 1 == len(pattern) or pattern[position + 1] == ":"
            regex.append(".*" if ends_segment else run)
        else:
            regex.append(one if char == "?" else re.escape(char))
    return re.compile("".join(regex), re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE)


_STRING_OPERATORS = {
    "StringEquals": (True, False, True), "StringNotEquals": (True, False, False),
    "StringEqualsIgnoreCase": (False, False, True), "StringNotEqualsIgnoreCase": (False, False, False),
    "StringLike": (True, True, True), "StringNotLike": (True, True, False),
}  # operator -> (case sensitive, wildcards, positive)
_ARN_OPERATORS = {"ArnEquals": True, "ArnLike": True, "ArnNotEquals": False, "ArnNotLike": False}  # -> positive


def _condition_holds(operator: str, keys: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    """`context`: the request's condition keys by lower-case name."""
    if operator.startswith(("ForAnyValue:", "ForAllValues:")):
        raise NotSupportedLocally(f"IAM condition set operator {operator}")
    base, if_exists = (operator[: -len("IfExists")], True) if operator.endswith("IfExists") else (operator, False)
    for name, expected in keys.items():
        key, values = name.lower(), _strings(expected)
        if base == "Null":
            if (key not in context) != (values[0].lower() == "true"):
                return False
            continue
        if key not in context:
            if if_exists:
                continue
            # An absent key fails every operator but the negated ones (IAM user guide, "Condition operators").
            if (base in _STRING_OPERATORS and not _STRING_OPERATORS[base][2]) or _ARN_OPERATORS.get(base) is False:
                continue
            return False
        actual = context[key]
        if base == "Bool":
            if actual.lower() not in (value.lower() for value in values):
                return False
        elif base in _STRING_OPERATORS:
            case_sensitive, wildcards, positive = _STRING_OPERATORS[base]
            if _any_matches(values, actual, case_sensitive, wildcards) != positive:
                return False
        elif base in _ARN_OPERATORS:
            if any(_arn_matches(pattern, actual) for pattern in values) != _ARN_OPERATORS[base]:
                return False
        else:
            raise NotSupportedLocally(f"IAM condition operator {operator}")
    return True


def _any_matches(patterns: Sequence[str], value: str, case_sensitive: bool, wildcards: bool) -> bool:
    if wildcards:
        return any(_matches(pattern, value, case_sensitive) for pattern in patterns)
    if case_sensitive:
        return value in patterns
    return value.lower() in (pattern.lower() for pattern in patterns)


def condition_keys(statements: Iterable[Statement]) -> set[str]:
    """Every condition key the statements read (to refuse those the local runtime cannot supply)."""
    return {key for statement in statements for keys in statement.conditions.values() for key in keys}
