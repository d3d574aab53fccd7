"""InvocationType=Event: queueing, retries, destinations and their invocation records."""

from __future__ import annotations

import asyncio
import re

from localcore.lambda_runtime import LambdaRuntime, LambdaRuntimeError
from tests.support.lambda_helpers import LOCAL_ENV, function, run

TINY_DELAYS = (0.01, 0.02)
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class Collector:
    """An in-process destination that records what it receives."""

    def __init__(self) -> None:
        self.records: list[dict] = []
        self.received = asyncio.Event()

    async def __call__(self, record: dict) -> None:
        self.records.append(record)
        self.received.set()


def test_failing_event_is_retried_twice_then_sent_to_on_failure_with_the_aws_record() -> None:
    """Lambda retries a failing async event twice, then sends an invocation record with condition
    RetriesExhausted and approximateInvokeCount 3 to the on-failure destination
    (invocation-async-error-handling.html, invocation-async-retain-records.html)."""

    async def scenario():
        collector = Collector()
        config = function("fail", "basic.raise_error", retry_delays_seconds=TINY_DELAYS, on_failure=collector)
        async with LambdaRuntime([config], LOCAL_ENV) as runtime:
            request_id = await runtime.invoke_async("fail", {"why": "always"})
            outcome = await runtime.wait_for(request_id)
            return request_id, outcome, collector.records, runtime.stats("fail"), runtime.recent_logs("fail")

    request_id, outcome, records, stats, logs = run(scenario())
    assert outcome.condition == "RetriesExhausted" and outcome.attempts == 3 and not outcome.succeeded
    assert stats.invocations == 3 and stats.async_retries == 2 and stats.cold_starts == 1
    assert sum(line == f"START RequestId: {request_id} Version: $LATEST" for line in logs) == 3, (
        "retries keep the request id"
    )
    assert records == [outcome.record]
    record = records[0]
    assert set(record) == {
        "version",
        "timestamp",
        "requestContext",
        "requestPayload",
        "responseContext",
        "responsePayload",
    }
    assert record["version"] == "1.0" and TIMESTAMP.match(record["timestamp"])
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": "arn:aws:lambda:eu-west-1:000000000000:function:fail:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == {"why": "always"}
    expected_context = {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responseContext"] == expected_context
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert record["responsePayload"]["errorMessage"] == "boom: always"
    assert isinstance(record["responsePayload"]["stackTrace"], list)


def test_event_that_succeeds_on_a_retry_goes_to_on_success() -> None:
    """A retry that succeeds ends the retries; the on-success record has condition Success and no
    functionError (invocation-async-retain-records.html)."""

    async def scenario():
        collector = Collector()
        config = function(
            "flaky", "basic.fail_until_third", retry_delays_seconds=TINY_DELAYS, on_success=collector
        )
        async with LambdaRuntime([config], LOCAL_ENV) as runtime:
            outcome = await runtime.wait_for(await runtime.invoke_async("flaky", {"n": 1}))
            return outcome, collector.records

    outcome, records = run(scenario())
    assert outcome.succeeded and outcome.attempts == 3
    (record,) = records
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"attempt": 3}


def test_timeouts_are_retried_like_errors_and_retry_count_is_configurable() -> None:
    """Timeouts count as function errors for async retries; MaximumRetryAttempts=0 means one attempt
    (invocation-async-error-handling.html)."""

    async def scenario():
        collector = Collector()
        config = function(
            "hang",
            "basic.maybe_hang",
            timeout_seconds=0.3,
            max_retry_attempts=1,
            retry_delays_seconds=TINY_DELAYS,
            on_failure=collector,
        )
        once = function("once", "basic.raise_error", max_retry_attempts=0, on_failure=collector)
        async with LambdaRuntime([config, once], LOCAL_ENV) as runtime:
            hang = await runtime.wait_for(await runtime.invoke_async("hang", {"hang": True}))
            single = await runtime.wait_for(await runtime.invoke_async("once", {}))
            return hang, single, runtime.stats("hang")

    hang, single, stats = run(scenario())
    assert hang.condition == "RetriesExhausted" and hang.attempts == 2
    assert hang.record is not None and hang.record["responsePayload"]["errorType"] == "Sandbox.Timedout"
    assert stats.timeouts == 2 and stats.cold_starts == 2
    assert single.attempts == 1 and single.record is not None
    assert single.record["requestContext"]["approximateInvokeCount"] == 1


def test_on_failure_destination_can_be_another_function() -> None:
    """A Lambda destination receives the invocation record as its (asynchronous) event."""

    async def scenario():
        functions = [
            function("fail", "basic.raise_error", max_retry_attempts=0, on_failure="dlq"),
            function("dlq", "basic.counter"),
        ]
        async with LambdaRuntime(functions, LOCAL_ENV) as runtime:
            await runtime.invoke_async("fail", {"why": "to dlq"})
            await runtime.wait_idle()
            return runtime.stats("fail"), runtime.stats("dlq")

    fail_stats, dlq_stats = run(scenario())
    assert fail_stats.destination_deliveries == 1
    assert dlq_stats.async_events == 1 and dlq_stats.invocations == 1 and dlq_stats.errors == 0


def test_event_older_than_maximum_age_is_discarded_to_on_failure() -> None:
    """An event that cannot run within MaximumEventAgeInSeconds (here: reserved concurrency 0 keeps it
    queued) is discarded with condition EventAgeExceeded (invocation-async-error-handling.html)."""

    async def scenario():
        collector = Collector()
        config = function(
            "stuck", "basic.echo", reserved_concurrency=0, maximum_event_age_seconds=0.2, on_failure=collector
        )
        async with LambdaRuntime([config], LOCAL_ENV) as runtime:
            outcome = await runtime.wait_for(await runtime.invoke_async("stuck", {"x": 1}))
            return outcome, runtime.stats("stuck")

    outcome, stats = run(scenario())
    assert outcome.condition == "EventAgeExceeded" and outcome.attempts == 0
    assert outcome.record is not None
    assert outcome.record["requestContext"]["approximateInvokeCount"] == 0
    assert outcome.record["requestPayload"] == {"x": 1}
    assert "responseContext" not in outcome.record
    assert stats.invocations == 0 and stats.throttles == 1


def test_close_cancels_queued_events() -> None:
    """Shutting localcore down drops queued events (AWS keeps them; locally they end as Cancelled)."""

    async def scenario():
        config = function("stuck", "basic.echo", reserved_concurrency=0)
        runtime = LambdaRuntime([config], LOCAL_ENV)
        await runtime.start()
        request_id = await runtime.invoke_async("stuck", {})
        await runtime.close()
        return await runtime.wait_for(request_id)

    outcome = run(scenario())
    assert outcome.condition == "Cancelled" and outcome.attempts == 0 and outcome.record is None


def test_a_burst_of_events_is_drained_within_the_concurrency_limit() -> None:
    """Queued events all run, never more than the reserved concurrency at once, reusing warm
    environments (invocation-async.html, lambda-concurrency.html)."""

    async def scenario():
        collector = Collector()
        config = function("count", "basic.counter", reserved_concurrency=2, on_success=collector)
        async with LambdaRuntime([config], LOCAL_ENV) as runtime:
            request_ids = [await runtime.invoke_async("count", {"i": i}) for i in range(12)]
            await runtime.wait_idle()
            outcomes = [await runtime.wait_for(request_id) for request_id in request_ids]
            return outcomes, collector.records, runtime.stats("count")

    outcomes, records, stats = run(scenario())
    assert all(outcome.succeeded for outcome in outcomes)
    assert len(records) == 12 and stats.invocations == 12
    assert stats.workers_started <= 2
    counts = sorted(outcome.last_result.payload["count"] for outcome in outcomes)
    assert counts[-1] >= 6, "warm workers served several events each"


def test_the_failure_record_a_destination_function_gets_has_awss_documented_shape() -> None:
    """The record an on-failure destination *function* is invoked with, against AWS's example invocation record
    (tests/fixtures/aws_events/lambda-async-invocation-record.json, "Example Invocation Record" on
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html): the same fields present,
    none added; the payloads are the caller's and the function's own (compared as maps)."""
    from tests.support.aws_events import assert_same_shape, sample

    async def scenario():
        failing = function("fail", "basic.raise_error", retry_delays_seconds=TINY_DELAYS, on_failure="sink")
        sink = function("sink", "basic.echo")
        async with LambdaRuntime([failing, sink], LOCAL_ENV) as runtime:
            outcome = await runtime.wait_for(await runtime.invoke_async("fail", {"why": "shape"}))
            await runtime.wait_idle()
            return outcome, runtime.recent_logs("sink")

    outcome, sink_logs = run(scenario())
    documented = sample("lambda-async-invocation-record.json")
    assert_same_shape(outcome.record, documented, open_maps={"requestPayload", "responsePayload"})
    assert any(outcome.record["requestContext"]["requestId"] in line for line in sink_logs), "the sink ran"


def test_finished_outcomes_are_kept_up_to_the_history_bound() -> None:
    """The runtime keeps what `wait_for` may still ask about, not every invocation ever: past `outcome_history`
    finished outcomes the oldest are forgotten (localcore's own bound; AWS keeps no such record), so a long
    run's memory stays flat."""

    async def scenario():
        config = function("ok", "basic.echo")
        async with LambdaRuntime([config], LOCAL_ENV, outcome_history=3) as runtime:
            ids = []
            for n in range(8):
                ids.append(await runtime.invoke_async("ok", {"n": n}))
                await runtime.wait_for(ids[-1])
            latest = await runtime.wait_for(ids[-1])
            try:
                await runtime.wait_for(ids[0])
            except LambdaRuntimeError:
                forgotten = True
            else:
                forgotten = False
            return latest, forgotten

    latest, forgotten = run(scenario())
    assert latest.succeeded and latest.last_result is not None
    assert forgotten
