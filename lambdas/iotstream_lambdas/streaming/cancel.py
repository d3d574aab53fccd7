"""Cancel requests: flag a stream so its controller ends it with `stop: cancelled`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

from iotstream_lambdas.streaming.errors import ProtocolError
from iotstream_lambdas.streaming.state import StateStore
from iotstream_lambdas.streaming.wire import parse_cancel

_FORBIDDEN_IN_IDENTITY = frozenset("/+#\x00")


def trusted_identity(event: Any) -> str | None:
    """The identity set by the IoT rule (`topic(2) AS identity_id`), or None when unusable.

    This is the only identity the functions trust: the topic policy lets a user publish only on
    `chat/{their own id}/...`, so `topic(2)` cannot be forged by a message body.
    """
    if not isinstance(event, Mapping):
        return None
    identity_id = event.get("identity_id")
    if not isinstance(identity_id, str) or not identity_id or _FORBIDDEN_IN_IDENTITY & set(identity_id):
        return None
    return identity_id


def cancel_request(store: StateStore, event: Any, logger: Logger) -> bool:
    """Flag a stream as cancelled (event: `{"rid": ..., "identity_id": ...}` from the cancel rule)."""
    identity_id = trusted_identity(event)
    if identity_id is None:
        logger.warning("cancel without a usable identity_id; ignored")
        return False
    try:
        request = parse_cancel(event)
    except ProtocolError as exc:
        logger.warning("invalid cancel request", extra={"code": exc.code, "identity_id": identity_id})
        return False
    store.set_cancelled(identity_id, request.rid)
    logger.info("cancel flagged", extra={"identity_id": identity_id, "rid": request.rid})
    return True
