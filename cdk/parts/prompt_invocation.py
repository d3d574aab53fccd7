"""How the IoT rule's asynchronous invokes reach the prompt function: event age, retries, a queue for the
events that failed, and (optionally) reserved concurrency.

Why these values. A client gives up on an answer when no event arrives for `StreamAssembler.idle_timeout`
seconds (30 s by default, `clients/chat_client.py` / `streaming/assembler.py`). An answer that starts later
streams into a conversation nobody listens to, and still costs model tokens. So:

- `MaximumEventAgeInSeconds` = 60, the smallest value Lambda accepts (60-21600 s,
  https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html). Events Lambda holds
  back (throttled by reserved or account concurrency) are retried for at most a minute, then go to the
  failure queue instead of being answered minutes or hours later (the default is six hours). The service
  closes the remaining gap itself: a prompt older than `PROMPT_MAX_AGE_MS` (30 s, the client's idle
  timeout) by the rule's `timestamp()` ends with an `error` event `prompt_expired`, never a late answer.
- `MaximumRetryAttempts` = 0. The handler never raises for a bad prompt (it answers with an `error` event);
  an invocation error means the runtime itself failed (timeout, memory, the state table before the rid was
  claimed). Lambda's first retry comes a minute later
  (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html), after the client
  has given up, and a retry of a rid that was claimed is a no-op anyway (idempotency, docs/protocol.md).
- On failure: an SQS queue (encrypted, TLS only, 14 days), watched by an alarm (`monitoring.py`), so an
  operator sees every prompt that was never answered.
- Reserved concurrency caps what one flood of prompts may cost and keeps other functions of the account
  running. It is off by default: Lambda refuses a reservation that leaves fewer than 100 unreserved
  executions (https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html), which a new
  account's quota cannot give, and a first deploy must not fail on it.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk.parts.nag import acknowledge

MAX_EVENT_AGE = Duration.seconds(60)
RETRY_ATTEMPTS = 0
FAILED_EVENT_RETENTION = Duration.days(14)


class PromptInvocation(Construct):
    """The prompt function's `EventInvokeConfig`, its failure queue and its reserved concurrency."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.Function,
        reserved_concurrency: int | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.failed_prompts = sqs.Queue(
            self,
            "FailedPrompts",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=FAILED_EVENT_RETENTION,
        )
        acknowledge(
            self.failed_prompts,
            "SQS3",
            "This queue is itself the dead-letter destination of the prompt function's async invokes.",
        )
        function.configure_async_invoke(
            max_event_age=MAX_EVENT_AGE,
            retry_attempts=RETRY_ATTEMPTS,
            on_failure=destinations.SqsDestination(self.failed_prompts),
        )
        if reserved_concurrency is not None:
            cfn = function.node.default_child
            assert isinstance(cfn, lambda_.CfnFunction)
            cfn.reserved_concurrent_executions = reserved_concurrency
