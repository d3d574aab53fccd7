"""The Bedrock model: an Active default through a cross-Region inference profile, end-of-life ids refused by
`cdk synth` in one line, and the IAM statements AWS documents for each kind of model id."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest
from aws_cdk import App, Environment, Stack

from cdk.config import DeployConfig
from cdk.models import DEFAULT_MODEL_ID, END_OF_LIFE, ModelRef, check_model_id, end_of_life
from cdk.parts.grants import bedrock_model_statements
from cdk.sources import REPO_ROOT
from clients.deployment import DeploySourceError
from tests.support.cdk import ACCOUNT, REGION

PROFILE_ARN = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{DEFAULT_MODEL_ID}"
ACTION = "bedrock:InvokeModelWithResponseStream"


def _bedrock_statements(synth) -> list[dict]:
    return [
        statement
        for policy in synth.resources("AWS::IAM::Policy").values()
        for statement in synth.text(policy["Properties"]["PolicyDocument"]["Statement"])
        if statement["Action"] == ACTION
    ]


def test_default_is_amazon_nova_2_lite_through_the_global_profile():
    """Nova 2 Lite is Active and offered through cross-Region inference profiles only (model card
    https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-amazon-nova-2-lite.html); as an Amazon
    model it needs no Anthropic first-use form (https://docs.aws.amazon.com/bedrock/latest/userguide/model-access.html)."""
    model = ModelRef.parse(DEFAULT_MODEL_ID)
    assert (model.kind, model.foundation_model) == ("global-profile", "amazon.nova-2-lite-v1:0")
    assert end_of_life(DEFAULT_MODEL_ID) is None
    assert json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["bedrockModelId"] == DEFAULT_MODEL_ID


def test_prompt_function_calls_converse_stream_with_the_profile_id(synth):
    """ConverseStream takes the inference profile id as `modelId` (geographic-cross-region-inference.html,
    "Use Geographic cross-Region inference"): the function gets the id unchanged."""
    (prompt,) = [
        f
        for f in synth.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "iotstream_lambdas.prompt.handler.handler"
    ]
    assert prompt["Properties"]["Environment"]["Variables"]["BEDROCK_MODEL_ID"] == DEFAULT_MODEL_ID


@pytest.mark.parametrize("entry", END_OF_LIFE, ids=[e.model_id for e in END_OF_LIFE])
def test_end_of_life_models_are_refused_in_any_spelling(entry):
    """A model past its Bedrock EOL date answers every request with ResourceNotFoundException
    (model-lifecycle-legacy.html): refused as a model id, behind a profile prefix, or in an ARN."""
    assert entry.eol <= date(2026, 12, 1)
    assert entry.source.startswith("https://docs.aws.amazon.com/bedrock/")
    spellings = [
        entry.model_id,
        f"us.{entry.model_id}",
        f"global.{entry.model_id}",
        f"arn:aws:bedrock:eu-west-1::foundation-model/{entry.model_id}",
        f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:inference-profile/eu.{entry.model_id}",
    ]
    for spelling in spellings:
        with pytest.raises(DeploySourceError) as refused:
            check_model_id(spelling)
        message = str(refused.value)
        assert "\n" not in message
        assert f"reached end of life on {entry.eol.isoformat()}" in message
        assert DEFAULT_MODEL_ID in message  # the fix is in the message
    with pytest.raises(DeploySourceError, match="bedrockModelId"):
        DeployConfig.from_context({"bedrockModelId": entry.model_id}.get)


def test_cdk_synth_stops_on_an_end_of_life_model_with_one_line(tmp_path):
    """`cdk synth -c bedrockModelId=<EOL model>`: the CDK CLI runs `python -m cdk.app` with the context in
    CDK_CONTEXT_JSON; the app exits non-zero with one line naming the setting, no traceback."""
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({"bedrockModelId": "anthropic.claude-3-haiku-20240307-v1:0"}),
        "CDK_OUTDIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "cdk.app"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    ours = [line for line in done.stderr.splitlines() if line.startswith("iotstream:")]
    assert ours == [
        "iotstream: context bedrockModelId: anthropic.claude-3-haiku-20240307-v1:0 reached end of life on "
        "2026-09-10 (https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-anthropic-claude-3-haiku.html); "
        f"choose an Active model, e.g. -c bedrockModelId={DEFAULT_MODEL_ID}"
    ]


def test_global_profile_gets_the_documented_three_part_policy(synth):
    """global-cross-region-inference.html, "IAM policy requirements for global cross-Region inference": the
    profile in the requesting Region, the Regional foundation model and the Region-less foundation model
    (aws:RequestedRegion "unspecified"), the last two only through the profile."""
    model = "amazon.nova-2-lite-v1:0"
    through = {"bedrock:InferenceProfileArn": PROFILE_ARN}
    assert _bedrock_statements(synth) == [
        {
            "Action": ACTION,
            "Effect": "Allow",
            "Resource": PROFILE_ARN,
            "Condition": {"StringEquals": {"aws:RequestedRegion": REGION}},
        },
        {
            "Action": ACTION,
            "Effect": "Allow",
            "Resource": f"arn:aws:bedrock:{REGION}::foundation-model/{model}",
            "Condition": {"StringEquals": {"aws:RequestedRegion": REGION, **through}},
        },
        {
            "Action": ACTION,
            "Effect": "Allow",
            "Resource": f"arn:aws:bedrock:::foundation-model/{model}",
            "Condition": {"StringEquals": {"aws:RequestedRegion": "unspecified", **through}},
        },
    ]


def test_geographic_profile_gets_the_profile_and_its_models_through_it(tuned):
    """geographic-cross-region-inference.html, "IAM policy requirements for Geographic cross-Region
    inference": the profile, and the foundation model in the source and every destination Region, limited
    to calls through the profile (bedrock:InferenceProfileArn)."""
    profile = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/eu.amazon.nova-2-lite-v1:0"
    assert _bedrock_statements(tuned) == [
        {"Action": ACTION, "Effect": "Allow", "Resource": profile},
        {
            "Action": ACTION,
            "Effect": "Allow",
            "Resource": "arn:aws:bedrock:*::foundation-model/amazon.nova-2-lite-v1:0",
            "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": profile}},
        },
    ]


def test_foundation_model_and_arn_ids_are_granted_as_named():
    """A plain model id is that model in the stack's Region; a full ARN (e.g. an application inference
    profile) is used as given (inference-profiles-prereq.html)."""
    stack = Stack(App(), "S", env=Environment(account=ACCOUNT, region=REGION))
    plain = [
        stack.resolve(s.to_statement_json())
        for s in bedrock_model_statements(stack, ModelRef.parse("amazon.nova-micro-v1:0"))
    ]
    assert json.dumps(plain).count("foundation-model/amazon.nova-micro-v1:0") == 1
    assert '"Ref": "AWS::Partition"' in json.dumps(plain)
    arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/abc"
    (statement,) = bedrock_model_statements(stack, ModelRef.parse(arn))
    assert statement.resources == [arn]
