"""Loading the sources of truth, the context knobs, and the outputs file the clients read (no synth)."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_lambda as lambda_

from cdk.config import DEFAULT_MODEL_ID, DeployConfig
from cdk.parts.rules import TopicRules
from cdk.sources import PolicySources, load_functions, read_policy_document
from clients.deployment import OUTPUT_KEYS, TOPICS, Deployment, DeploySourceError
from iot_rules.definitions import parse_rule


def test_policy_document_without_statements_is_refused(tmp_path):
    """IoT and IAM policy grammar: a document is an object with a Statement list."""
    path = tmp_path / "user.json"
    path.write_text(json.dumps({"Version": "2012-10-17"}))
    with pytest.raises(DeploySourceError, match="Statement"):
        read_policy_document(path)
    path.write_text("{not json")
    with pytest.raises(DeploySourceError, match="not valid JSON"):
        read_policy_document(path)


def test_missing_policy_file_names_the_file(tmp_path):
    """Synth fails early and clearly when iot_policies/ lacks a document the stack needs."""
    with pytest.raises(DeploySourceError, match=r"user\.json: file not found"):
        PolicySources.load(tmp_path)


def test_functions_manifest_is_validated(tmp_path):
    """Lambda needs a handler 'module.function', a positive timeout and memory, string env vars; reserved
    concurrency (`ReservedConcurrentExecutions`, PutFunctionConcurrency: 0 or more) is optional; `stateTable`
    is one of the table grants (read, write, readWrite)."""
    manifest = tmp_path / "functions.json"
    good = {
        "handler": "iotstream_lambdas.prompt.handler.handler",
        "timeoutSeconds": 30,
        "memoryMB": 256,
        "environment": {"A": "b"},
    }
    manifest.write_text(json.dumps({"prompt": good}))
    assert load_functions(manifest)["prompt"].timeout_seconds == 30
    assert load_functions(manifest)["prompt"].reserved_concurrency is None
    manifest.write_text(json.dumps({"prompt": {**good, "reservedConcurrency": 5}}))
    assert load_functions(manifest)["prompt"].reserved_concurrency == 5
    for broken in (
        {"reservedConcurrency": -1},
        {"reservedConcurrency": "5"},
        {"timeoutSeconds": 0},
        {"handler": "nodot"},
        {"environment": {"A": 1}},
        {"memoryMB": True},
        {"stateTable": "admin"},
    ):
        manifest.write_text(json.dumps({"prompt": {**good, **broken}}))
        with pytest.raises(DeploySourceError, match="prompt"):
            load_functions(manifest)


def test_context_overrides_and_defaults():
    """CDK context (`-c key=value` arrives as a string, cdk.json gives JSON types) overrides the defaults."""
    context = {
        "bedrockModelId": "us.amazon.nova-2-lite-v1:0",
        "retainData": "false",
        "webOrigins": "https://a, https://b",
        "selfSignUp": False,
        "promptReservedConcurrency": "40",
        "promptsPerMinute": "0",
        "maxTokensPerAnswer": 512,
        "alarmEmail": "ops@example.com",
    }
    config = DeployConfig.from_context(context.get)
    assert (config.bedrock_model_id, config.retain_data) == ("us.amazon.nova-2-lite-v1:0", False)
    assert config.web_origins == ("https://a", "https://b")
    assert (config.self_sign_up, config.prompt_reserved_concurrency) == (False, 40)
    assert (config.prompts_per_minute, config.max_tokens_per_answer) == (0, 512)
    assert config.alarm_email == "ops@example.com"
    assert config.deletion_protection is False  # follows retainData unless set
    defaults = DeployConfig.from_context({}.get)
    assert defaults.bedrock_model_id == DEFAULT_MODEL_ID
    assert (defaults.prompt_reserved_concurrency, defaults.deletion_protection) == (None, True)
    assert (
        DeployConfig.from_context({"promptReservedConcurrency": "none"}.get).prompt_reserved_concurrency
        is None
    )
    for key, bad, reason in [
        ("retainData", "maybe", "true or false"),
        ("promptReservedConcurrency", "0", "at least 1"),
        ("promptsPerDay", "-1", "0 or more"),
        ("maxTokensPerAnswer", "lots", "whole number"),
    ]:
        with pytest.raises(DeploySourceError, match=f"context {key}: must be .*{reason}"):
            DeployConfig.from_context({key: bad}.get)
    assert (
        DeployConfig()
        .powertools_arn("aws-cn", "cn-north-1")
        .startswith("arn:aws-cn:lambda:cn-north-1:017000801446:layer:")
    )
    assert DeployConfig(powertools_layer_arn="arn:x").powertools_arn("aws", "eu-west-1") == "arn:x"


def _stack() -> Stack:
    return Stack(App(), "S", env=Environment(account="123456789012", region="eu-west-1"))


def test_rule_naming_an_unknown_function_is_refused():
    """A Lambda action must resolve to a function of the manifest; otherwise synth stops with the name."""
    stack = _stack()
    known = {
        "prompt": lambda_.Function.from_function_arn(
            stack, "F", "arn:aws:lambda:eu-west-1:123456789012:function:p"
        )
    }
    rule = parse_rule(
        {"ruleName": "r", "sql": "SELECT * FROM 'a'", "actions": [{"lambda": {"function": "ghost"}}]}
    )
    with pytest.raises(DeploySourceError, match="ghost"):
        TopicRules(stack, "Rules", rules=[rule], functions=known)


def test_outputs_file_round_trip(tmp_path, synth):
    """`cdk deploy --outputs-file` writes {stack: {OutputKey: value}}; the template declares every key the
    clients read, and `Deployment.from_outputs_file` reads them back."""
    assert set(OUTPUT_KEYS.values()) <= set(synth.json["Outputs"])
    values = {key: f"value-of-{key}" for key in OUTPUT_KEYS.values()}
    values["Topics"] = synth.json["Outputs"]["Topics"]["Value"]
    values["DashboardShards"] = synth.json["Outputs"]["DashboardShards"]["Value"]
    path = tmp_path / "cdk-outputs.json"
    path.write_text(json.dumps({"IotStream": values}))
    deployment = Deployment.from_outputs_file(path)
    assert deployment.identity_pool_id == "value-of-IdentityPoolId"
    assert deployment.topics == TOPICS
    assert deployment.topics["dashboardStreams"] == "dashboard/streams/{shard}"
    assert deployment.dashboard_shards == 8  # the prompt function's DASHBOARD_SHARDS
    path.write_text(json.dumps({"IotStream": {**values, "DashboardShards": "none"}}))
    with pytest.raises(DeploySourceError, match="DashboardShards"):
        Deployment.from_outputs_file(path)
    path.write_text(json.dumps({"IotStream": {"Region": "eu-west-1"}}))
    with pytest.raises(DeploySourceError, match="missing outputs"):
        Deployment.from_outputs_file(path)
