"""Per-identity admission: may this identity start one more stream now?

Cost and abuse controls of the prompt service, the same code on AWS and in localcore (state in the state
table, reached through the injected DynamoDB client):

| limit | variable | default | refusal code |
|---|---|---|---|
| prompt older than the client waits (rule `timestamp()`) | `PROMPT_MAX_AGE_MS` | 30000 | `prompt_expired` |
| streams running at once | `MAX_STREAMS_PER_IDENTITY` | 2 | `too_many_streams` |
| prompts per UTC minute | `PROMPTS_PER_MINUTE` | 10 | `rate_limited` |
| prompts per UTC day | `PROMPTS_PER_DAY` | 200 | `rate_limited` |

0 turns a limit off. A refusal is answered with one `error` event carrying the code and, where waiting
helps, `retry_after_ms` (docs/protocol.md). Items (pk `LIMIT#{identity}`), all expiring through
`expires_at` (TTL):

- `STREAMS`: a map `leases` {rid: lease end, epoch ms} and a `version`. A lease ends when its stream does,
  or at the end of its invocation at the latest, so a crashed stream never holds a slot for ever. A prompt
  takes a slot with one conditional update (`size(leases) < limit`), so two prompts racing for the last slot
  cannot both win; leases that ended are removed when the map is full (read, then put conditioned on
  `version`).
- `MINUTE#<yyyy-mm-ddThh:mm>`, `DAY#<yyyy-mm-dd>`: counters `n`, raised together in one transaction, each
  only while below its limit (conditional `ADD`), so a refused prompt counts nowhere.

A full rate window stays full until it ends (counters only rise), so once an identity is refused for a window
the warm execution environment remembers it until the window ends (`remembered`) and refuses its further
prompts without the transaction and without recording them: a user flooding prompts costs one read per refusal
(is the rid someone else's stream?), no write, no dashboard update (docs/security.md, the prompt-flood row of
the attack matrix). Another environment learns it with its own first refusal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from iotstream_lambdas.streaming.wire import E_PROMPT_EXPIRED, E_RATE_LIMITED, E_TOO_MANY_STREAMS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TTL_SLACK_S = 3600
REMEMBERED_IDENTITIES = 10_000
"""At most this many rate-limited identities remembered per execution environment (the oldest forgotten)."""


@dataclass(frozen=True, slots=True)
class AdmissionLimits:
    """The limits (see the module table); 0 turns one off."""

    max_age_ms: int = 30_000
    max_streams: int = 2
    per_minute: int = 10
    per_day: int = 200

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AdmissionLimits:
        defaults = cls()

        def read(key: str, default: int) -> int:
            raw = env.get(key)
            return default if raw in (None, "") else max(0, int(raw))

        return cls(
            max_age_ms=read("PROMPT_MAX_AGE_MS", defaults.max_age_ms),
            max_streams=read("MAX_STREAMS_PER_IDENTITY", defaults.max_streams),
            per_minute=read("PROMPTS_PER_MINUTE", defaults.per_minute),
            per_day=read("PROMPTS_PER_DAY", defaults.per_day),
        )


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a prompt is not answered; `message` is safe to show, `retry_after_ms` None when waiting won't help."""

    code: str
    message: str
    retry_after_ms: int | None = None
    repeated: bool = False
    """This environment already refused the identity for the same rate window: the refusal is neither recorded
    nor shown on the dashboards again (a flood of prompts leaves no table items and no feed updates behind)."""


@dataclass(frozen=True, slots=True)
class Lease:
    """A stream slot held by `rid` until `release` (or until it expires)."""

    identity_id: str
    rid: str


@dataclass(frozen=True, slots=True)
class _Window:
    limit: int
    sort_key: str
    ends_ms: int
    message: str


class Admission:
    """Decides, per identity, whether a prompt may stream now. Its checks are conditional writes that
    `iotstream_lambdas.streaming.gate` runs in the same transaction as the claim of the rid: one round trip per
    prompt."""

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        limits: AdmissionLimits,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.table = table
        self.limits = limits
        self.wall_clock = wall_clock
        self._full_windows: dict[str, _Window] = {}
        """Per identity, a rate window it filled (it stays full until it ends)."""

    def expired(self, received_at_ms: int | None, now_ms: int) -> Refusal | None:
        """`prompt_expired` when the rules engine received the prompt more than `max_age_ms` ago."""
        limit = self.limits.max_age_ms
        if limit and received_at_ms is not None and now_ms - received_at_ms > limit:
            return Refusal(
                E_PROMPT_EXPIRED, "This prompt waited too long to be answered; please send it again."
            )
        return None

    def remembered(self, identity_id: str, now_ms: int) -> Refusal | None:
        """`rate_limited` without a DynamoDB call when this environment saw the identity fill a window that has
        not ended yet."""
        window = self._full_windows.get(identity_id)
        if window is None:
            return None
        if window.ends_ms <= now_ms:
            del self._full_windows[identity_id]
            return None
        return Refusal(E_RATE_LIMITED, window.message, window.ends_ms - now_ms, repeated=True)

    def actions(self, identity_id: str, rid: str, now_ms: int, until_ms: int) -> list[dict[str, Any]]:
        """The conditional writes admitting `rid` (held at most until `until_ms`), in `judge`'s order: the
        stream slot, then one counter per rate window."""
        actions = [{"Update": self._take_slot(identity_id, rid, until_ms)}] if self.limits.max_streams else []
        actions += [{"Update": self._count(identity_id, window)} for window in self._windows(now_ms)]
        return actions

    def judge(self, failed: Sequence[bool], identity_id: str, now_ms: int) -> Refusal | None:
        """After `actions` failed (`failed[i]` per action): the refusal, or None when the stream slots only had
        to be tidied (leases that ended) and the prompt may try again."""
        slot_failed = bool(self.limits.max_streams) and failed[0]
        windows = self._windows(now_ms)
        for window, window_failed in zip(windows, failed[len(failed) - len(windows) :], strict=True):
            if window_failed:
                self._remember(identity_id, window)
                return Refusal(E_RATE_LIMITED, window.message, window.ends_ms - now_ms)
        return self._tidy_slots(identity_id, now_ms) if slot_failed else None

    def _remember(self, identity_id: str, window: _Window) -> None:
        self._full_windows.pop(identity_id, None)  # re-inserted last: the dict's order is the age
        self._full_windows[identity_id] = window
        while len(self._full_windows) > REMEMBERED_IDENTITIES:
            del self._full_windows[next(iter(self._full_windows))]

    def release(self, lease: Lease) -> None:
        """Give the slot back (the stream ended); a lease already gone is fine."""
        if self.limits.max_streams:
            self.client.update_item(**self.release_update(lease))

    def release_update(self, lease: Lease) -> dict[str, Any]:
        """The `Update` giving a slot back (no condition: releasing twice is harmless)."""
        expires = int(self.wall_clock()) + TTL_SLACK_S
        return {
            "TableName": self.table,
            "Key": self._key(lease.identity_id, "STREAMS"),
            "UpdateExpression": "REMOVE leases.#rid SET expires_at = if_not_exists(expires_at, :exp) "
            "ADD version :one",
            "ExpressionAttributeNames": {"#rid": lease.rid},
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":exp": {"N": str(expires)}},
        }

    # ------------------------------------------------------------------ streams

    def _key(self, identity_id: str, sort_key: str) -> dict[str, Any]:
        return {"pk": {"S": f"LIMIT#{identity_id}"}, "sk": {"S": sort_key}}

    def _take_slot(self, identity_id: str, rid: str, until_ms: int) -> dict[str, Any]:
        """Add `rid`'s lease while fewer than `max_streams` leases are in the map. Leases that ended still
        count here; `_tidy_slots` removes them when the map is full (and creates the map the first time)."""
        return {
            "TableName": self.table,
            "Key": self._key(identity_id, "STREAMS"),
            "UpdateExpression": "SET leases.#rid = :until, expires_at = :exp ADD version :one",
            "ConditionExpression": "attribute_exists(leases) AND size(leases) < :max",
            "ExpressionAttributeNames": {"#rid": rid},
            "ExpressionAttributeValues": {
                ":until": {"N": str(until_ms)},
                ":exp": {"N": str(until_ms // 1000 + TTL_SLACK_S)},
                ":one": {"N": "1"},
                ":max": {"N": str(self.limits.max_streams)},
            },
        }

    def _tidy_slots(self, identity_id: str, now_ms: int) -> Refusal | None:
        """Read the slots, drop the leases that ended, and write them back (optimistically, on `version`).
        `too_many_streams` when the live leases fill every slot; None when there is room now."""
        limit = self.limits.max_streams
        key = self._key(identity_id, "STREAMS")
        item = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        stored = item.get("leases", {}).get("M", {}) if item else {}
        live = {r: int(v["N"]) for r, v in stored.items() if int(v["N"]) > now_ms}
        if len(live) >= limit:
            return Refusal(
                E_TOO_MANY_STREAMS,
                f"You already have {len(live)} answers streaming (the limit is {limit}); "
                "wait for one to finish.",
                min(live.values()) - now_ms,
            )
        version = int(item["version"]["N"]) if item and "version" in item else 0
        condition: dict[str, Any] = (
            {"ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": {"N": str(version)}}}
            if item
            else {"ConditionExpression": "attribute_not_exists(pk)"}
        )
        ends = max(live.values(), default=now_ms)
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    **key,
                    "leases": {"M": {r: {"N": str(end)} for r, end in live.items()}},
                    "version": {"N": str(version + 1)},
                    "expires_at": {"N": str(ends // 1000 + TTL_SLACK_S)},
                },
                **condition,
            )
        except ClientError as exc:
            if exc.response["Error"].get("Code") != "ConditionalCheckFailedException":
                raise  # else another prompt of this identity changed the slots meanwhile: try again
        return None

    # ------------------------------------------------------------------ rates

    def _windows(self, now_ms: int) -> list[_Window]:
        now = datetime.fromtimestamp(now_ms / 1000, UTC)
        minute = now.replace(second=0, microsecond=0)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        windows = [
            _Window(
                self.limits.per_minute,
                f"MINUTE#{minute:%Y-%m-%dT%H:%M}",
                int((minute + timedelta(minutes=1)).timestamp() * 1000),
                f"Too many prompts this minute (the limit is {self.limits.per_minute}); try again shortly.",
            ),
            _Window(
                self.limits.per_day,
                f"DAY#{day:%Y-%m-%d}",
                int((day + timedelta(days=1)).timestamp() * 1000),
                f"The daily limit of {self.limits.per_day} prompts is reached; try again tomorrow (UTC).",
            ),
        ]
        return [window for window in windows if window.limit]

    def _count(self, identity_id: str, window: _Window) -> dict[str, Any]:
        """Count the prompt in one window, only while the window is below its limit (so a refused prompt
        counts nowhere: the transaction's writes happen together or not at all)."""
        return {
            "TableName": self.table,
            "Key": self._key(identity_id, window.sort_key),
            "UpdateExpression": "SET expires_at = if_not_exists(expires_at, :exp) ADD #n :one",
            "ConditionExpression": "attribute_not_exists(#n) OR #n < :max",
            "ExpressionAttributeNames": {"#n": "n"},
            "ExpressionAttributeValues": {
                ":one": {"N": "1"},
                ":max": {"N": str(window.limit)},
                ":exp": {"N": str(window.ends_ms // 1000 + TTL_SLACK_S)},
            },
        }
