"""Policy variables a signed-in caller resolves."""

from __future__ import annotations

from iot_policies.evaluator import CLIENT_ID, COGNITO_AUD, COGNITO_SUB
from localcore.iam.principals import PrincipalPolicies
from localcore.identity.credentials import Caller, Role
from localcore.iot.policies import PolicyStore

POOL = "us-east-1:00000000-0000-4000-8000-000000000001"
IDENTITY = "us-east-1:11111111-2222-3333-4444-555555555555"


def test_cognito_callers_resolve_sub_aud_and_client_id() -> None:
    """`${cognito-identity.amazonaws.com:sub}` is the identity id and `…:aud` the identity pool id
    (iot-policy-variables.html, IAM's Cognito keys); `${iot:ClientId}` the MQTT client id."""
    caller = Caller("cognito", "ASIAEXAMPLE", Role("r"), IDENTITY, POOL, authenticated=True)
    context = PrincipalPolicies(PolicyStore()).context(caller, client_id=f"{IDENTITY}-tab1")
    assert context.lookup[COGNITO_SUB.lower()] == IDENTITY
    assert context.lookup[COGNITO_AUD.lower()] == POOL
    assert context.lookup[CLIENT_ID.lower()] == f"{IDENTITY}-tab1"
