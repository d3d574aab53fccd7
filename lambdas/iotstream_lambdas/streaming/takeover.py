"""Ending the stream of an attempt that died (its lease ran out): the client gets an `error`, not silence.

What the dead attempt published is known to within its reservation (`iotstream_lambdas.streaming.lease`): every event below
`seq_done`, maybe some up to `seq_limit`, none beyond. So the stream is closed without a gap: each number
from `seq_done` to `seq_limit` is published again as an empty placeholder (`start` for seq 0, an empty
`delta` otherwise; a client that already has that number drops the copy as a duplicate, docs/protocol.md
"Delivery rules"), then `error` `stream_interrupted` at `seq_limit + 1`. The dashboards get a final `error`
update numbered above any the dead attempt can have sent, and the identity's stream slot is given back.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from iotstream_lambdas.streaming.admission import Admission, Lease
from iotstream_lambdas.streaming.dashboard_feed import DashboardFeed
from iotstream_lambdas.streaming.errors import PublishError
from iotstream_lambdas.streaming.publisher import PublishClient, publish_with_retry
from iotstream_lambdas.streaming.state import RequestRecord
from iotstream_lambdas.streaming.status import StreamStatus
from iotstream_lambdas.streaming.wire import (
    E_INTERRUPTED,
    Delta,
    Error,
    Event,
    Start,
    encode_event,
    response_topic,
)

INTERRUPTED_MESSAGE = "The answer was interrupted; please ask again."
FEED_N_SLACK = 100
"""Feed updates the dead attempt may have sent after its last heartbeat recorded `feed_n` (one per
`DASHBOARD_INTERVAL_MS` at most): the final update is numbered above all of them."""
ATTEMPTS, BACKOFF_S = 4, 0.05


def closing_events(
    rid: str, record: RequestRecord, wall_clock: Callable[[], float] = time.time
) -> list[Event]:
    """Placeholders for every event that may be missing, then the `error`."""
    events: list[Event] = []
    for seq in range(record.seq_done, record.seq_limit + 1):
        if seq == 0:
            events.append(Start(rid=rid, seq=0, model=record.model, ts=int(wall_clock() * 1000)))
        else:
            events.append(Delta(rid=rid, seq=seq, text=""))
    events.append(Error(rid=rid, seq=record.seq_limit + 1, code=E_INTERRUPTED, message=INTERRUPTED_MESSAGE))
    return events


def end_interrupted(
    iot: PublishClient,
    feed: DashboardFeed,
    admission: Admission | None,
    identity_id: str,
    rid: str,
    record: RequestRecord,
    logger: Logger,
) -> None:
    """Close the dead attempt's stream for its client and its dashboards, and give its slot back."""
    logger.warning(
        "ending a stream whose invocation died",
        extra={"rid": rid, "seq_done": record.seq_done, "seq_limit": record.seq_limit},
    )
    if admission is not None:
        try:
            admission.release(Lease(identity_id, rid))
        except (ClientError, BotoCoreError):  # the slot's own lease ends it later
            logger.exception("could not release the stream slot", extra={"rid": rid})
    topic = response_topic(identity_id, rid)
    try:
        for event in closing_events(rid, record):
            publish_with_retry(iot, topic, 1, encode_event(event), ATTEMPTS, BACKOFF_S)
    except PublishError:
        logger.exception("could not close the interrupted stream", extra={"rid": rid})
    now = feed.now_ms()
    final = StreamStatus(
        rid,
        identity_id,
        record.feed_n + FEED_N_SLACK,
        "error",
        record.model,
        record.created_at * 1000,
        now,
        0,
        record.seq_limit + 2,
        code=E_INTERRUPTED,
    )
    feed.send(final, feed.config.final_attempts)
