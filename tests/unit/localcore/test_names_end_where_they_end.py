"""Names validated by a pattern must match it whole: `re.match` with `$` also accepts a trailing newline
(`$` matches before a final "\\n"), so every such check uses `fullmatch` (a rid once passed that way)."""

from __future__ import annotations

import pytest

from iot_rules.definitions import RuleDefinitionError, parse_rule
from localcore.iot.exceptions import IotError
from localcore.iot.policies import PolicyStore
from localcore.lambda_runtime.config import HandlerName
from localcore.lambda_runtime.errors import InvalidFunctionConfig

POLICY = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]}'
)


def test_a_policy_name_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(IotError):
        PolicyStore("us-east-1", "000000000000").create_policy("user\n", POLICY)


def test_a_rule_name_with_a_trailing_newline_is_refused() -> None:
    rule = {"ruleName": "prompt\n", "sql": "SELECT * FROM 'a'", "actions": [{"republish": {"topic": "b"}}]}
    with pytest.raises(RuleDefinitionError):
        parse_rule(rule)


def test_a_handler_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidFunctionConfig):
        HandlerName.parse("prompt.handler.handler\n")
