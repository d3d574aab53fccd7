"""The rules engine's lambda action drives this runtime through its AsyncInvoker protocol."""

from __future__ import annotations

import pytest

from localcore.lambda_runtime import LambdaRuntime
from localcore.rules.actions import ActionFailed, run_lambda
from tests.support.lambda_helpers import LOCAL_ENV, function, run


def test_rule_lambda_action_invokes_asynchronously_and_a_missing_function_is_an_action_failure() -> None:
    """IoT's Lambda action invokes with InvocationType=Event; a missing function fails the action, which
    the engine reports through errorAction (lambda-rule-action.html, rule-error-handling.html)."""

    async def scenario():
        async with LambdaRuntime([function("prompt", "basic.echo")], LOCAL_ENV) as runtime:
            arn = runtime.function_arn("prompt")
            request_id = await run_lambda({"functionArn": arn}, {"text": "hi"}, lambda s: s, runtime)
            outcome = await runtime.wait_for(request_id)
            missing = arn.replace("prompt", "nope")
            with pytest.raises(ActionFailed) as failed:
                await run_lambda({"functionArn": missing}, {"text": "hi"}, lambda s: s, runtime)
            return outcome, failed.value

    outcome, failed = run(scenario())
    assert outcome.succeeded and outcome.last_result.payload["event"] == {"text": "hi"}
    assert failed.as_failure()["failedAction"] == "LambdaAction"
    message = failed.as_failure()["errorMessage"]
    assert "Function not found: arn:aws:lambda:eu-west-1:000000000000:function:nope" in message
