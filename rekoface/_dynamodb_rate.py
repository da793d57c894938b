"""`DynamoDBSlotStore`'s shared start rate: GCRA on one item of the slot table (private).

The item ``slot = "start-rate"`` holds ``next``, the earliest moment (on the store's
clock) at which the fleet's next ``StartFaceSearch`` may be sent. A reservation moves it
on by one gap (``1 / start_rate``) with one conditional ``UpdateItem``, no read first:

- while the fleet is queueing, ``SET next = next + gap`` if ``next > now``: the moment
  reserved is the old value (DynamoDB returns the new one), and the caller waits for it;
- when it is idle, ``SET next = now + gap`` if ``next <= now`` (or there is no item):
  the start goes at once.

Exactly one of the two conditions holds at any instant, so a lost condition means
another worker reserved first: the other form is tried. Every reservation is therefore
at least one gap after the one before it, whoever made it. The slot items are keyed
``"0"`` to ``str(capacity - 1)``; this one never counts as a slot.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any, Final

from botocore.exceptions import ClientError

from ._dynamodb_items import HOLDER, SLOT, dynamodb_number, lenient_get, number_value
from ._leases import start_gap
from .errors import RekoFaceError

__all__ = ["RATE_ITEM", "SharedStartRate"]

logger = logging.getLogger("rekoface")

#: The key of the rate item in the slot table.
RATE_ITEM: Final = "start-rate"
NEXT: Final = "next"
#: Lost races in a row before a reservation gives up (each one is another worker's win).
MAX_ROUNDS: Final = 20
#: A `next` at least this far ahead of this worker's clock is taken for a clock that is off.
MIN_AHEAD_LIMIT: Final = 60.0
_CONDITION_FAILED: Final = "ConditionalCheckFailedException"
_NAMES: Final = {"#next": NEXT, "#holder": HOLDER}

Call = Callable[[str, Callable[[], Any]], Any]
"""The store's way to make one DynamoDB call: retried, errors translated."""


class SharedStartRate:
    """Reservations of start moments, `rate` a second, shared through the slot table."""

    __slots__ = ("_ahead_limit", "_call", "_client", "_clock", "_gap", "_key", "_seen", "_table")

    def __init__(
        self,
        *,
        client: Any,
        table_name: str,
        rate: float,
        capacity: int,
        clock: Callable[[], float],
        call: Call,
    ) -> None:
        self._client = client
        self._table = table_name
        self._gap = start_gap(rate)
        self._clock = clock
        self._call = call
        self._key = {SLOT: {"S": RATE_ITEM}}
        # A batch reserves only while it holds a slot, so the queue is at most about one
        # reservation per slot; a `next` much further ahead was written by a clock that
        # runs ahead (or by hand), and would stall the fleet: it is reset.
        self._ahead_limit = max(MIN_AHEAD_LIMIT, 2 * capacity * self._gap)
        #: The last `next` this worker saw (or wrote): while it lies ahead, the fleet is
        #: probably queueing and the queueing form is tried first; one call either way.
        self._seen = -math.inf

    def reserve(self, holder: str) -> float:
        """One start's moment reserved for `holder`: the seconds to wait until it."""
        for _ in range(MAX_ROUNDS):
            now = self._clock()
            if self._seen > now:
                after = self._queue(holder, now)
                if after is not None:
                    self._seen = after
                    wait = after - self._gap - now
                    if wait <= self._ahead_limit:
                        return max(0.0, wait)
                    if self._reset(holder, now, after):
                        self._seen = now + self._gap
                        return 0.0
                    continue
                self._seen = -math.inf  # the fleet went idle
            if self._claim(holder, now):
                self._seen = now + self._gap
                return 0.0
            self._seen = math.inf  # another worker's moment lies ahead: queue
        raise RekoFaceError(
            f"DynamoDB table {self._table!r}: no start moment reserved after "
            f"{MAX_ROUNDS} tries (other workers won every race)"
        )

    def _queue(self, holder: str, now: float) -> float | None:
        """``next`` after moving it on by a gap, or `None` if the fleet was idle."""
        answer = self._update(
            "SET #next = #next + :gap, #holder = :holder",
            "#next > :now",
            {":gap": self._gap, ":now": now},
            holder,
            returns=True,
        )
        if answer is None:
            return None
        value = _readable(answer)
        # An answer with no readable number (never from DynamoDB): wait one gap more.
        return value if value is not None else now + 2 * self._gap

    def _claim(self, holder: str, now: float) -> bool:
        """Take the moment `now` if the fleet is idle (``next`` passed, or never set)."""
        answer = self._update(
            "SET #next = :next, #holder = :holder",
            "attribute_not_exists(#next) OR NOT attribute_type(#next, :number) OR #next <= :now",
            {":next": now + self._gap, ":now": now},
            holder,
            extra={":number": {"S": "N"}},
        )
        return answer is not None

    def _reset(self, holder: str, now: float, seen: float) -> bool:
        """Bring a `next` written by a clock far ahead back to this worker's now."""
        logger.warning(
            "the shared start rate of DynamoDB table %r is reserved %.0fs ahead of this "
            "worker's clock: a clock of the fleet is off; resetting it",
            self._table,
            seen - now,
        )
        answer = self._update(
            "SET #next = :next, #holder = :holder",
            "#next = :seen",
            {":next": now + self._gap, ":seen": seen},
            holder,
        )
        return answer is not None

    def _update(
        self,
        expression: str,
        condition: str,
        numbers: Mapping[str, float],
        holder: str,
        *,
        returns: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> Mapping[str, Any] | None:
        """One conditional ``UpdateItem`` of the rate item; `None` if its condition failed."""
        values: dict[str, Any] = {k: {"N": dynamodb_number(v)} for k, v in numbers.items()}
        values[":holder"] = {"S": holder}
        values.update(extra or {})
        params: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key,
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": _NAMES,
            "ExpressionAttributeValues": values,
        }
        if returns:
            params["ReturnValues"] = "UPDATED_NEW"

        def attempt() -> Mapping[str, Any] | None:
            try:
                answer: Mapping[str, Any] = self._client.update_item(**params)
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") == _CONDITION_FAILED:
                    return None
                raise
            return answer

        result: Mapping[str, Any] | None = self._call("UpdateItem", attempt)
        return result


def _readable(answer: Mapping[str, Any]) -> float | None:
    """The new ``next`` in an ``UpdateItem`` answer, leniently."""
    return number_value(lenient_get(lenient_get(answer, "Attributes"), NEXT))
