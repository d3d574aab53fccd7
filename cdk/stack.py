"""The iotstream stack: Cognito, IoT policies and rules, DynamoDB, Lambda, and the outputs clients read."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from constructs import Construct

from cdk.config import DeployConfig
from cdk.models import ModelRef
from cdk.parts.detach import PolicyDetacher
from cdk.parts.endpoint import IotDataEndpoint
from cdk.parts.function_url import IamFunctionUrl
from cdk.parts.functions import Functions
from cdk.parts.grants import grant_iot_permissions, grant_state_table, grant_stream_model
from cdk.parts.identity import Identity
from cdk.parts.iot_access import IotPolicies
from cdk.parts.iot_logging import IotLogging
from cdk.parts.monitoring import Monitoring
from cdk.parts.prompt_invocation import PromptInvocation
from cdk.parts.rules import TopicRules
from cdk.parts.state import StateTable
from cdk.sources import FunctionSpec, PolicySources, load_functions
from clients.deployment import OUTPUT_KEYS, TOPICS, DeploySourceError
from iot_rules.definitions import load_rules
from iotstream_lambdas.streaming.status import dashboard_shards

REQUIRED_FUNCTIONS = ("prompt", "cancel", "attach_policy", "detach_policies")
PROMPT_MAX_AGE_MS = 30_000
"""A prompt older than this is answered with `prompt_expired`: the client's idle timeout
(`iotstream_lambdas.streaming.assembler.DEFAULT_IDLE_TIMEOUT_S`), after which nobody listens for the answer."""
OPERATOR_OUTPUTS = {"alarm_topic_arn": "AlarmTopicArn", "dashboard_name": "DashboardName"}
"""Outputs for the operator (not read by the clients, see `clients.deployment.OUTPUT_KEYS`)."""


class IotStreamStack(Stack):
    """Everything iotstream needs in one account and region."""

    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        policies = PolicySources.load(config.policies_dir)
        specs = load_functions(config.functions_manifest)
        missing = [name for name in REQUIRED_FUNCTIONS if name not in specs]
        if missing:
            raise DeploySourceError(str(config.functions_manifest), f"missing functions {missing}")

        identity = Identity(
            self,
            "Identity",
            authenticated_policy=policies.roles["authenticated"],
            dashboard_policy=policies.roles["dashboard"],
            dashboard_group=config.dashboard_group,
            retain=config.retain_data,
            self_sign_up=config.self_sign_up,
            deletion_protection=config.deletion_protection,
        )
        state = StateTable(self, "State", retain=config.retain_data)
        endpoint = IotDataEndpoint(self, "IotDataEndpoint")
        iot_policies = IotPolicies(
            self,
            "IotPolicies",
            documents=policies.iot,
            names={kind: config.iot_policy_name(kind) for kind in policies.iot},
        )
        functions = Functions(
            self,
            "Functions",
            specs=specs,
            asset_dir=config.lambdas_dir,
            layer_arn=config.powertools_arn(self.partition, self.region),
            common_environment={"STATE_TABLE": state.table.table_name, "IOT_DATA_ENDPOINT": endpoint.address},
        )

        for name, spec in specs.items():
            grant_iot_permissions(functions[name], spec.iot_permissions)
            if spec.state_table is not None:
                grant_state_table(state.table, functions[name], spec.state_table)

        prompt = functions["prompt"]
        for key, value in {
            "LLM_PROVIDER": "bedrock",
            "BEDROCK_MODEL_ID": config.bedrock_model_id,
            "MAX_TOKENS_CAP": config.max_tokens_per_answer,
            "MAX_STREAMS_PER_IDENTITY": config.max_streams_per_user,
            "PROMPTS_PER_MINUTE": config.prompts_per_minute,
            "PROMPTS_PER_DAY": config.prompts_per_day,
            "PROMPT_MAX_AGE_MS": PROMPT_MAX_AGE_MS,
        }.items():
            prompt.add_environment(key, str(value))
        grant_stream_model(prompt, ModelRef.parse(config.bedrock_model_id))
        invocation = PromptInvocation(
            self, "PromptInvocation", function=prompt, reserved_concurrency=config.prompt_reserved_concurrency
        )

        # The attach function resolves identities with cognito-identity:GetId, a public API that needs no IAM
        # grant (API_GetId.html: "You do not need any credentials to call this API"); its role may only
        # iot:AttachPolicy (lambdas/iotstream_lambdas/functions.json). Settings: lambdas/iotstream_lambdas/attach_policy/service.py.
        attach = functions["attach_policy"]
        for name, value in {
            "IDENTITY_POOL_ID": identity.identity_pool.ref,
            "USER_POOL_PROVIDER_NAME": identity.user_pool.user_pool_provider_name,
            "AUTHENTICATED_ROLE_NAME": identity.authenticated_role.role_name,
            "DASHBOARD_ROLE_NAME": identity.dashboard_role.role_name,
            "DASHBOARD_GROUP": config.dashboard_group,
            "IOT_USER_POLICY": iot_policies.name("user"),
            "IOT_DASHBOARD_POLICY": iot_policies.name("dashboard"),
        }.items():
            attach.add_environment(name, value)
        attach_url = IamFunctionUrl(
            self,
            "AttachPolicyUrl",
            function=attach,
            callers=[identity.authenticated_role, identity.dashboard_role],
            allowed_origins=config.web_origins,
        )

        PolicyDetacher(
            self,
            "DetachPoliciesOnDelete",
            function=functions["detach_policies"],
            policy_names=[iot_policies.name(kind) for kind in policies.iot],
        )

        rules = load_rules(config.rules_dir)
        TopicRules(self, "Rules", rules=rules, functions=functions.by_name)
        if config.iot_logging:
            IotLogging(self, "IotLogging")
        prompt_spec = specs["prompt"]
        monitoring = Monitoring(
            self,
            "Monitoring",
            rule_names=[rule.name for rule in rules],
            functions=functions.by_name,
            prompt=prompt,
            prompt_timeout=Duration.seconds(prompt_spec.timeout_seconds),
            failed_prompts=invocation.failed_prompts,
            metrics_namespace=_required_variable(prompt_spec, "POWERTOOLS_METRICS_NAMESPACE"),
            metrics_service=_required_variable(prompt_spec, "POWERTOOLS_SERVICE_NAME"),
            alarm_email=config.alarm_email,
        )

        self._outputs(
            region=self.region,
            user_pool_id=identity.user_pool.user_pool_id,
            user_pool_client_id=identity.client.user_pool_client_id,
            identity_pool_id=identity.identity_pool.ref,
            iot_data_endpoint=endpoint.address,
            attach_policy_url=attach_url.url.url,
            dashboard_shards=str(dashboard_shards(specs["prompt"].environment)),
            topics=json.dumps(TOPICS, sort_keys=True),
            alarm_topic_arn=monitoring.topic.topic_arn,
            dashboard_name=monitoring.dashboard.dashboard_name,
        )

    def _outputs(self, **values: str) -> None:
        """One `CfnOutput` per `OUTPUT_KEYS` entry (named as `clients.deployment` reads them), then the
        operator's `OPERATOR_OUTPUTS`."""
        for field, key in {**OUTPUT_KEYS, **OPERATOR_OUTPUTS}.items():
            output = CfnOutput(
                self, f"{key}Output", value=values[field], description=f"iotstream {field.replace('_', ' ')}"
            )
            output.override_logical_id(key)


def _required_variable(spec: FunctionSpec, name: str) -> str:
    """A variable the stack reads from the manifest (e.g. the metrics namespace its dashboard shows)."""
    if not spec.environment.get(name):
        raise DeploySourceError(
            "lambdas/iotstream_lambdas/functions.json", f"{spec.name}.environment.{name} is required"
        )
    return spec.environment[name]
