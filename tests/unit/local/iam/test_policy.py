"""Identity-based policy evaluation as the IAM user guide's "Policy evaluation logic" describes it."""

import pytest

from shiftflow.local.iam.policy import Decision, NotSupportedLocally, evaluate, parse_document

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/guard"


def policy(*statements):
    return parse_document({"Version": "2012-10-17", "Statement": list(statements)})


def test_an_allow_on_the_resource_allows_and_anything_else_is_an_implicit_deny():
    statements = policy({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE})
    assert evaluate(statements, "dynamodb:GetItem", TABLE) is Decision.ALLOWED
    assert evaluate(statements, "dynamodb:PutItem", TABLE) is Decision.IMPLICIT_DENY
    assert evaluate(statements, "dynamodb:GetItem", TABLE + "-other") is Decision.IMPLICIT_DENY
    assert evaluate(statements, "dynamodb:GetItem", TABLE + "/index/by_state") is Decision.IMPLICIT_DENY


def test_an_explicit_deny_wins_over_any_allow():
    statements = policy({"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
                        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE})
    assert evaluate(statements, "dynamodb:DeleteItem", TABLE) is Decision.EXPLICIT_DENY
    assert evaluate(statements, "dynamodb:PutItem", TABLE) is Decision.ALLOWED


def test_actions_match_case_insensitively_and_resources_case_sensitively_with_wildcards():
    statements = policy({"Effect": "Allow", "Action": "S3:get*", "Resource": "arn:aws:s3:::scripts/sales/?.sql"})
    assert evaluate(statements, "s3:GetObject", "arn:aws:s3:::scripts/sales/a.sql") is Decision.ALLOWED
    assert evaluate(statements, "s3:GetObject", "arn:aws:s3:::scripts/sales/ab.sql") is Decision.IMPLICIT_DENY
    assert evaluate(statements, "s3:GetObject", "arn:aws:s3:::Scripts/sales/a.sql") is Decision.IMPLICIT_DENY
    # A dot is a dot, not any character.
    dotted = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a.b/*"})
    assert evaluate(dotted, "s3:GetObject", "arn:aws:s3:::axb/key") is Decision.IMPLICIT_DENY


def test_not_action_and_not_resource():
    statements = policy({"Effect": "Allow", "NotAction": "dynamodb:DeleteItem", "NotResource": TABLE + "-audit"})
    assert evaluate(statements, "dynamodb:PutItem", TABLE) is Decision.ALLOWED
    assert evaluate(statements, "dynamodb:DeleteItem", TABLE) is Decision.IMPLICIT_DENY
    assert evaluate(statements, "dynamodb:PutItem", TABLE + "-audit") is Decision.IMPLICIT_DENY


def test_string_like_conditions_read_the_request_context():
    statements = policy({"Effect": "Allow", "Action": "redshift-data:DescribeStatement", "Resource": "*",
                         "Condition": {"StringLike": {"redshift-data:statement-owner-iam-userid": "AROAROLE:*"}}})
    owned = {"redshift-data:statement-owner-iam-userid": "AROAROLE:submit"}
    foreign = {"redshift-data:statement-owner-iam-userid": "AIDAOTHER"}
    assert evaluate(statements, "redshift-data:DescribeStatement", "*", owned) is Decision.ALLOWED
    assert evaluate(statements, "redshift-data:DescribeStatement", "*", foreign) is Decision.IMPLICIT_DENY
    assert evaluate(statements, "redshift-data:DescribeStatement", "*", {}) is Decision.IMPLICIT_DENY


def test_what_cannot_be_decided_as_aws_would_fails_loudly():
    variables = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/*"})
    with pytest.raises(NotSupportedLocally, match="not supported locally: policy variables"):
        evaluate(variables, "s3:GetObject", "arn:aws:s3:::b/k")
    numeric = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                      "Condition": {"NumericLessThan": {"s3:max-keys": "10"}}})
    with pytest.raises(NotSupportedLocally, match="NumericLessThan"):
        evaluate(numeric, "s3:GetObject", "arn:aws:s3:::b/k", {"s3:max-keys": "5"})


def test_brackets_and_other_regex_characters_are_literal():
    statements = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/[a]+(x)*"})
    assert evaluate(statements, "s3:GetObject", "arn:aws:s3:::b/[a]+(x)/y.sql") is Decision.ALLOWED
    assert evaluate(statements, "s3:GetObject", "arn:aws:s3:::b/aa(x)") is Decision.IMPLICIT_DENY


ACCOUNT = "123456789012"


def test_a_wildcard_inside_an_arn_segment_does_not_cross_a_colon():
    # IAM user guide, "IAM JSON policy elements: Resource", Using wildcards in resource ARNs: wildcards are used
    # within the individual segments of an ARN (the parts separated by colons); only a * that is the LAST character
    # of a segment can expand beyond the colon boundaries.
    statements = policy({"Effect": "Allow", "Action": "states:DescribeExecution",
                         "Resource": f"arn:aws:states:us-east-1:{ACCOUNT}:execution:*-RunSqlJob:*"})
    ours = f"arn:aws:states:us-east-1:{ACCOUNT}:execution:st-RunSqlJob:run-1"
    other = f"arn:aws:states:us-east-1:{ACCOUNT}:execution:st-Other:x-RunSqlJob:run-1"
    assert evaluate(statements, "states:DescribeExecution", ours) is Decision.ALLOWED
    assert evaluate(statements, "states:DescribeExecution", ours + ":more") is Decision.ALLOWED  # the ending *
    assert evaluate(statements, "states:DescribeExecution", other) is Decision.IMPLICIT_DENY
    one = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b?c/k"})
    assert evaluate(one, "s3:GetObject", "arn:aws:s3:::b:c/k") is Decision.IMPLICIT_DENY
    assert evaluate(one, "s3:GetObject", "arn:aws:s3:::bxc/k") is Decision.ALLOWED


def test_arn_operators_compare_each_of_the_six_parts_with_wildcards():
    # "IAM JSON policy elements: Condition operators", ARN condition operators: ArnEquals and ArnLike alike check
    # each of the six colon-delimited components separately, each with * and ?.
    machine = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:st-Pipeline"
    for operator in ("ArnEquals", "ArnLike"):
        statements = policy({"Effect": "Allow", "Action": "sns:Publish", "Resource": "*",
                             "Condition": {operator: {"aws:SourceArn": "arn:aws:states:*:*:stateMachine:st-*"}}})
        assert evaluate(statements, "sns:Publish", "*", {"aws:SourceArn": machine}) is Decision.ALLOWED
        # the region part's * cannot take the service's colon: a different service is another ARN
        topic_like = f"arn:aws:sns:us-east-1:{ACCOUNT}:stateMachine:st-x"
        assert evaluate(statements, "sns:Publish", "*", {"aws:SourceArn": topic_like}) is Decision.IMPLICIT_DENY
        assert evaluate(statements, "sns:Publish", "*", {"aws:SourceArn": "not-an-arn"}) is Decision.IMPLICIT_DENY
    negated = policy({"Effect": "Allow", "Action": "sns:Publish", "Resource": "*",
                      "Condition": {"ArnNotEquals": {"aws:SourceArn": f"arn:aws:states:*:{ACCOUNT}:*"}}})
    assert evaluate(negated, "sns:Publish", "*", {"aws:SourceArn": machine}) is Decision.IMPLICIT_DENY
    assert evaluate(negated, "sns:Publish", "*", {"aws:SourceArn": "arn:aws:states:us-east-1:1:x"}) is Decision.ALLOWED
    assert evaluate(negated, "sns:Publish", "*", {}) is Decision.ALLOWED  # absent key: a negated operator holds


def test_condition_key_names_are_case_insensitive():
    # IAM user guide, "IAM JSON policy elements: Condition": condition key names are not case-sensitive.
    statements = policy({"Effect": "Allow", "Action": "states:DescribeExecution", "Resource": "*",
                         "Condition": {"StringEquals": {"aws:principalarn": "arn:aws:iam::1:role/r"}}})
    assert evaluate(statements, "states:DescribeExecution", "*",
                    {"aws:PrincipalArn": "arn:aws:iam::1:role/r"}) is Decision.ALLOWED
    assert evaluate(statements, "states:DescribeExecution", "*",
                    {"aws:PrincipalArn": "arn:aws:iam::1:role/R"}) is Decision.IMPLICIT_DENY  # values: as written
