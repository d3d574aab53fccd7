"""The prompt function's limits and asynchronous invoke configuration in the template."""

from __future__ import annotations

import json

from cdk.config import DeployConfig
from cdk.stack import PROMPT_MAX_AGE_MS
from iotstream_lambdas.streaming.admission import AdmissionLimits
from iotstream_lambdas.streaming.assembler import DEFAULT_IDLE_TIMEOUT_S
from iotstream_lambdas.streaming.service import ServiceConfig


def _prompt(synth) -> tuple[str, dict]:
    return synth.one("AWS::Lambda::Function", Handler="iotstream_lambdas.prompt.handler.handler")


def test_per_identity_limits_and_token_cap_reach_the_prompt_function(synth, tuned):
    """The CDK context values become the service's environment variables (iotstream_lambdas.streaming.admission,
    MAX_TOKENS_CAP); `-c promptsPerMinute=3` changes only that one."""
    defaults = DeployConfig()
    expected = {
        "MAX_TOKENS_CAP": str(defaults.max_tokens_per_answer),
        "MAX_STREAMS_PER_IDENTITY": str(defaults.max_streams_per_user),
        "PROMPTS_PER_MINUTE": str(defaults.prompts_per_minute),
        "PROMPTS_PER_DAY": str(defaults.prompts_per_day),
        "PROMPT_MAX_AGE_MS": str(PROMPT_MAX_AGE_MS),
    }
    variables = _prompt(synth)[1]["Properties"]["Environment"]["Variables"]
    assert {key: variables[key] for key in expected} == expected
    tuned_variables = _prompt(tuned)[1]["Properties"]["Environment"]["Variables"]
    assert tuned_variables["PROMPTS_PER_MINUTE"] == "3"
    assert tuned_variables["PROMPTS_PER_DAY"] == expected["PROMPTS_PER_DAY"]


def test_deploy_defaults_are_the_service_defaults():
    """One documented default per limit: what the stack sets is what the service assumes without it."""
    service = AdmissionLimits()
    config = DeployConfig()
    assert (config.max_streams_per_user, config.prompts_per_minute, config.prompts_per_day) == (
        service.max_streams,
        service.per_minute,
        service.per_day,
    )
    assert PROMPT_MAX_AGE_MS == service.max_age_ms == DEFAULT_IDLE_TIMEOUT_S * 1000
    assert config.max_tokens_per_answer <= ServiceConfig().max_tokens_cap


def test_prompt_rule_stamps_the_time_the_service_checks(synth):
    """The rule adds `timestamp() AS received_at_ms` (iot-sql-functions.html#iot-function-timestamp): the
    rules engine's time, which the service compares with PROMPT_MAX_AGE_MS."""
    _, rule = synth.one("AWS::IoT::TopicRule", RuleName="iotstream_prompt")
    assert "timestamp() AS received_at_ms" in rule["Properties"]["TopicRulePayload"]["Sql"]


def test_reserved_concurrency_is_a_context_choice(synth, tuned):
    """Off by default (Lambda refuses a reservation that leaves fewer than 100 unreserved executions,
    API_PutFunctionConcurrency.html; a new account's quota cannot give it); `-c promptReservedConcurrency=25`
    sets ReservedConcurrentExecutions on the prompt function only."""
    assert "ReservedConcurrentExecutions" not in _prompt(synth)[1]["Properties"]
    assert _prompt(tuned)[1]["Properties"]["ReservedConcurrentExecutions"] == 25
    others = [
        f
        for f in tuned.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") != "iotstream_lambdas.prompt.handler.handler"
    ]
    assert all("ReservedConcurrentExecutions" not in f["Properties"] for f in others)


def test_async_invokes_expire_after_a_minute_are_not_retried_and_land_in_a_queue(synth):
    """EventInvokeConfig (API_PutFunctionEventInvokeConfig.html): MaximumEventAgeInSeconds 60 (the minimum),
    MaximumRetryAttempts 0, OnFailure -> an SQS queue that is encrypted and refuses plain HTTP."""
    prompt_id, _ = _prompt(synth)
    (config,) = synth.resources("AWS::Lambda::EventInvokeConfig").values()
    properties = config["Properties"]
    assert properties["FunctionName"] == {"Ref": prompt_id}
    assert (properties["MaximumEventAgeInSeconds"], properties["MaximumRetryAttempts"]) == (60, 0)
    queue_id = properties["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    queue = synth.json["Resources"][queue_id]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    (policy,) = [
        p
        for p in synth.resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in p["Properties"]["Queues"]
    ]
    assert '"aws:SecureTransport": "false"' in json.dumps(policy)
