"""Lambda functions, their environment, the attach-policy function URL and least-privilege roles."""

from __future__ import annotations

import json
import re

from aws_cdk.assertions import Match

from cdk.config import DEFAULT_MODEL_ID
from cdk.sources import load_functions
from localcore.functions import STATE_TABLE, execution_role, load_manifest

ACCOUNT_REGION = "eu-west-1:123456789012"


def _function(synth, name: str) -> tuple[str, dict]:
    spec = load_functions(synth.config.functions_manifest)[name]
    return synth.one("AWS::Lambda::Function", Handler=spec.handler)


def _role_statements(synth, function_name: str) -> list[dict]:
    _, function = _function(synth, function_name)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statements: list[dict]) -> set[str]:
    return {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def test_every_manifest_function_is_deployed_as_written(synth):
    """Handler, timeout, memory and environment from lambdas/iotstream_lambdas/functions.json; Python 3.12; the shared
    STATE_TABLE and IOT_DATA_ENDPOINT (the account's iot:Data-ATS endpoint) added."""
    table_id, _ = synth.one("AWS::DynamoDB::Table")
    (endpoint_id,) = synth.resources("Custom::AWS")
    for spec in load_functions(synth.config.functions_manifest).values():
        _, function = synth.one("AWS::Lambda::Function", Handler=spec.handler)
        (layer,) = synth.text(function["Properties"]["Layers"])
        assert re.fullmatch(
            r"arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:\d+",
            layer,
        )
        synth.template.has_resource_properties(
            "AWS::Lambda::Function",
            {
                "Handler": spec.handler,
                "Runtime": "python3.12",
                "Timeout": spec.timeout_seconds,
                "MemorySize": spec.memory_mb,
                "Environment": {
                    "Variables": Match.object_like(
                        {
                            **{k: Match.any_value() for k in spec.environment},
                            "STATE_TABLE": {"Ref": table_id},
                            "IOT_DATA_ENDPOINT": {"Fn::GetAtt": [endpoint_id, "endpointAddress"]},
                        }
                    )
                },
            },
        )


def test_prompt_function_streams_from_bedrock(synth):
    """The prompt function runs with LLM_PROVIDER=bedrock and the configured model id."""
    _, prompt = _function(synth, "prompt")
    variables = prompt["Properties"]["Environment"]["Variables"]
    assert variables["LLM_PROVIDER"] == "bedrock"
    assert variables["BEDROCK_MODEL_ID"] == DEFAULT_MODEL_ID


def test_iot_data_endpoint_is_looked_up_with_describe_endpoint_ats(synth):
    """IOT_DATA_ENDPOINT comes from iot:DescribeEndpoint with endpointType iot:Data-ATS
    (https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeEndpoint.html)."""
    (resource,) = synth.resources("Custom::AWS").values()
    create = json.loads(resource["Properties"]["Create"])
    assert create["action"] == "describeEndpoint"
    assert create["parameters"] == {"endpointType": "iot:Data-ATS"}


def test_attach_policy_url_uses_iam_auth(synth):
    """The function URL's AuthType is AWS_IAM: only SigV4-signed callers with permission get through
    (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html)."""
    attach_id, _ = _function(synth, "attach_policy")
    synth.template.has_resource_properties(
        "AWS::Lambda::Url", {"AuthType": "AWS_IAM", "TargetFunctionArn": {"Fn::GetAtt": [attach_id, "Arn"]}}
    )
    assert len(synth.resources("AWS::Lambda::Url")) == 1


def test_identity_roles_may_invoke_the_url_and_only_through_the_url(synth):
    """Both identity roles get lambda:InvokeFunctionUrl and, since October 2025 also required,
    lambda:InvokeFunction limited by lambda:InvokedViaFunctionUrl (urls-auth.html)."""
    attach_id, _ = _function(synth, "attach_policy")
    arn = {"Fn::GetAtt": [attach_id, "Arn"]}
    (policy,) = [
        p
        for p in synth.resources("AWS::IAM::Policy").values()
        if any(
            "lambda:InvokeFunctionUrl" in json.dumps(s)
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        )
    ]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "lambda:InvokeFunctionUrl",
            "Effect": "Allow",
            "Resource": arn,
            "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}},
        },
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": arn,
            "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}},
        },
    ]
    identity_roles = {
        logical_id
        for logical_id, role in synth.resources("AWS::IAM::Role").items()
        if "cognito-identity.amazonaws.com" in json.dumps(role["Properties"]["AssumeRolePolicyDocument"])
    }
    assert {ref["Ref"] for ref in policy["Properties"]["Roles"]} == identity_roles


def test_attach_function_knows_its_pool_roles_and_policies(synth):
    """The attach function resolves identities of this identity pool from ID tokens of this user pool
    (GetId with `Logins={provider name: token}`), accepts callers in its two roles, and attaches the
    deployed policies: every name comes from the deployed resources, not from guesses."""
    _, attach = _function(synth, "attach_policy")
    variables = attach["Properties"]["Environment"]["Variables"]
    user_id, _ = synth.one("AWS::IoT::Policy", PolicyName="iotstream-user")
    dashboard_id, _ = synth.one("AWS::IoT::Policy", PolicyName="iotstream-dashboard")
    pool_id, _ = synth.one("AWS::Cognito::IdentityPool")
    user_pool_id, _ = synth.one("AWS::Cognito::UserPool")
    group_role = synth.one("AWS::Cognito::UserPoolGroup")[1]["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    attachment = synth.one("AWS::Cognito::IdentityPoolRoleAttachment")[1]["Properties"]
    authenticated_role = attachment["Roles"]["authenticated"]["Fn::GetAtt"][0]
    assert variables["IOT_USER_POLICY"] == {"Ref": user_id}
    assert variables["IOT_DASHBOARD_POLICY"] == {"Ref": dashboard_id}
    assert variables["IDENTITY_POOL_ID"] == {"Ref": pool_id}
    assert variables["AUTHENTICATED_ROLE_NAME"] == {"Ref": authenticated_role}
    assert variables["DASHBOARD_ROLE_NAME"] == {"Ref": group_role}
    assert variables["DASHBOARD_GROUP"] == synth.config.dashboard_group
    # the user pool's ProviderName, the same value the identity pool trusts (the `Logins` key of GetId)
    assert variables["USER_POOL_PROVIDER_NAME"] == {"Fn::GetAtt": [user_pool_id, "ProviderName"]}
    providers = synth.resources("AWS::Cognito::IdentityPool")[pool_id]["Properties"][
        "CognitoIdentityProviders"
    ]
    assert [p["ProviderName"] for p in providers] == [variables["USER_POOL_PROVIDER_NAME"]]


def test_prompt_may_publish_only_to_response_and_feed_topics(synth):
    """Least privilege: iot:Publish only on topic/chat/*/response/* and the dashboard feed's
    topic/dashboard/streams/* (never a user's prompt topic), ConverseStream
    (bedrock:InvokeModelWithResponseStream) only on the configured model (its statements are checked in
    test_cdk_model.py), the state table, and sending failed events to its own queue."""
    statements = synth.text(_role_statements(synth, "prompt"))
    publish = [s for s in statements if s["Action"] == "iot:Publish"]
    assert publish == [
        {
            "Action": "iot:Publish",
            "Effect": "Allow",
            "Resource": [
                f"arn:aws:iot:{ACCOUNT_REGION}:topic/chat/*/response/*",
                f"arn:aws:iot:{ACCOUNT_REGION}:topic/dashboard/streams/*",
            ],
        }
    ]
    bedrock = [s for s in statements if "bedrock" in json.dumps(s["Action"])]
    assert {s["Action"] for s in bedrock} == {"bedrock:InvokeModelWithResponseStream"}
    assert {a.split(":")[0] for a in _actions(statements)} == {"iot", "bedrock", "dynamodb", "sqs"}
    resources = [
        r for s in statements for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    ]
    assert "*" not in resources


def test_cancel_may_only_write_state(synth):
    """The cancel function writes the cancel flag and nothing else: no IoT, no Bedrock, no reads."""
    actions = _actions(_role_statements(synth, "cancel"))
    assert actions and all(a.startswith("dynamodb:") for a in actions)
    assert not {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"} & actions


def test_attach_policy_may_only_attach_iot_policies(synth):
    """The attach function's role allows iot:AttachPolicy and nothing else: GetId is a public API that needs
    no grant (https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetId.html). The resource is
    `*` because AttachPolicy is authorised on its *target*, and IAM knows only certificate and thing-group
    targets (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsiot.html); a Cognito
    identity has no ARN to name."""
    statements = _role_statements(synth, "attach_policy")
    assert statements == [{"Action": "iot:AttachPolicy", "Effect": "Allow", "Resource": "*"}]


def test_localcore_gives_each_function_the_table_access_cdk_grants(synth):
    """Local and AWS permissions are the same: for every function, the DynamoDB actions of its synthesized
    role (CDK's grantReadData / grantWriteData / grantReadWriteData, chosen by the manifest's `stateTable`)
    on the state table are exactly those of the execution role localcore mints for it, so a call refused on
    AWS is refused locally too (localcore's DynamoDB front authorizes every request by this role)."""
    table_id, _ = synth.one("AWS::DynamoDB::Table")
    manifest = load_manifest(synth.config.functions_manifest, synth.config.lambdas_dir)
    for name, spec in manifest.items():
        deployed = [s for s in _role_statements(synth, name) if "dynamodb:" in json.dumps(s["Action"])]
        assert all(s["Resource"] == [{"Fn::GetAtt": [table_id, "Arn"]}] for s in deployed), name
        role = execution_role(name, spec, "123456789012", STATE_TABLE)
        local = [
            s for s in (role.policy or {}).get("Statement", []) if "dynamodb:" in json.dumps(s["Action"])
        ]
        assert all(s["Resource"] == f"arn:aws:dynamodb:*:123456789012:table/{STATE_TABLE}" for s in local)
        assert _actions(local) == _actions(deployed), name
    assert _actions(_role_statements(synth, "cancel")) == {
        "dynamodb:BatchWriteItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:DescribeTable",
    }


def test_the_lambda_asset_holds_the_package_the_handlers_name(synth):
    """Every function's code is the `lambdas/` asset, whose root Lambda puts on the path and imports the handler
    from (https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html, "Handler naming conventions"): its
    only top-level entry is the `iotstream_lambdas` package, which holds each handler module; no README, tests
    or bytecode caches."""
    assets = json.loads((synth.outdir / "IotStream.assets.json").read_text())["files"]
    for name, spec in load_functions(synth.config.functions_manifest).items():
        _, function = _function(synth, name)
        asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
        asset = synth.outdir / assets[asset_hash]["source"]["path"]
        assert [entry.name for entry in asset.iterdir()] == ["iotstream_lambdas"], name
        assert (asset / (spec.handler.rpartition(".")[0].replace(".", "/") + ".py")).is_file(), spec.handler
        assert not [path for path in asset.rglob("*") if path.name in ("__pycache__", "README.md", "tests")]
