"""A work-queue worker taking requests in: receiving, parsing and holding messages (private).

`Intake.feed` is the batch's input: one request per message, `NOTHING_YET` while jobs
run and the queue has nothing, and its end once the worker has been idle for its
`idle_timeout`. Each message becomes a held request, or a body that is no request is
dead-lettered at once.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final, cast

import attrs

from . import _sqs
from ._core import NOTHING_YET
from ._work_items import Defaults, parse_work_item, token_for_message
from ._work_messages import Held, InHand
from .errors import RekoFaceError, RequestValidationError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef, ReceiveMessageResultTypeDef

    from .models import FaceSearchRequest

__all__ = ["BUSY_LOOK_INTERVAL", "Intake"]

logger = logging.getLogger("rekoface")

#: With jobs running, a receive that found nothing is not repeated sooner than this (and
#: never waits): the batch it feeds must get on with its jobs meanwhile.
BUSY_LOOK_INTERVAL: Final = 2.0
#: The system attribute asked of each message: its group, on a FIFO queue (a dead letter
#: on a FIFO dead-letter queue keeps it). A standard queue's messages have none.
_GROUP: Final = "MessageGroupId"


def asks_system_attributes(client: Any) -> bool:
    """Whether `client`'s ``ReceiveMessage`` takes ``MessageSystemAttributeNames`` (botocore
    added it in 2024; before, ``AttributeNames``, now deprecated, asked the same)."""
    try:
        model = client.meta.service_model.operation_model("ReceiveMessage")
        return "MessageSystemAttributeNames" in model.input_shape.members
    except Exception:  # a wrapper that hides the model: every botocore takes the old name
        return False


def _group_ask(client: Any) -> dict[str, Any]:
    """The ``ReceiveMessage`` argument that asks for each message's group, in the name
    `client`'s botocore takes."""
    if asks_system_attributes(client):
        return {"MessageSystemAttributeNames": [_GROUP]}
    return {"AttributeNames": [_GROUP]}  # a botocore that predates MessageSystemAttributeNames


def _group(attributes: object) -> str | None:
    """The message's group, read leniently: `None` on a standard queue or odd output."""
    if not isinstance(attributes, dict):
        return None
    value = cast("dict[str, object]", attributes).get(_GROUP)
    return value if isinstance(value, str) and value else None


@attrs.frozen
class Intake:
    """What one worker's feed reads: its queue, its settings and the hooks it calls.

    `keep_visible` runs before each receive; `dead_letter` ends a malformed message
    (then `on_malformed` hears of it); `on_held` runs for each request newly held.
    """

    client: SQSClient
    queue_url: str
    patience: _sqs.Patience
    in_hand: InHand
    defaults: Defaults
    visibility_timeout: int
    wait_time_seconds: int
    idle_timeout: float
    keep_visible: Callable[[], None]
    dead_letter: Callable[[Held, RekoFaceError], None]
    on_malformed: Callable[[str, RequestValidationError], object] | None
    on_held: Callable[[], None]
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    #: How each receive asks for the message's group: the client's botocore says once.
    group_ask: dict[str, Any] = attrs.field(
        init=False, default=attrs.Factory(lambda intake: _group_ask(intake.client), takes_self=True)
    )

    def feed(self) -> Iterator[FaceSearchRequest]:
        """A request per message, `NOTHING_YET` while jobs run and the queue is empty."""
        clock, idle_timeout = self.clock, self.idle_timeout
        idle_since = clock()
        next_look = -math.inf
        while True:
            self.keep_visible()
            now = clock()
            busy = self.in_hand.busy()
            if busy:
                idle_since = now
                if now < next_look:
                    yield NOTHING_YET
                    continue
                wait = 0
            else:
                remaining = max(0.0, idle_since + idle_timeout - now)
                wait = int(min(float(self.wait_time_seconds), remaining))
            message = self.receive(wait, idle_since + idle_timeout)
            if message is not None:
                request = self.accept(message)
                if request is not None:
                    idle_since = clock()
                    yield request
                continue
            if busy:  # nothing now: look again once the batch has got on for a while
                next_look = clock() + BUSY_LOOK_INTERVAL
                yield NOTHING_YET
                continue
            idle_until = idle_since + idle_timeout
            if clock() >= idle_until:
                return  # idle for idle_timeout with nothing in hand: the worker stops
            if wait == 0:
                _sqs.pause_until(self.sleep, clock, idle_until)

    def receive(self, wait: int, until: float) -> MessageTypeDef | None:
        """One message, or `None`: nothing came, or transient errors outlasted `until`
        (at once, without a long poll, while jobs run)."""

        def receive() -> ReceiveMessageResultTypeDef:
            return self.client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=1,
                WaitTimeSeconds=wait,
                VisibilityTimeout=self.visibility_timeout,
                **self.group_ask,
            )

        response = self.patience.call(
            "ReceiveMessage",
            receive,
            until=until if wait > 0 or not self.in_hand.busy() else self.clock(),
        )
        if response is None:
            return None
        messages = response.get("Messages", [])
        return messages[0] if messages else None

    def accept(self, message: MessageTypeDef) -> FaceSearchRequest | None:
        """The message's request, held; `None` when it was dead-lettered or is held already."""
        now = self.clock()
        message_id = message.get("MessageId", "")
        held = Held(
            message_id,
            message.get("ReceiptHandle", ""),
            message.get("Body", ""),
            received_at=now,
            visible_until=now + self.visibility_timeout,
            group_id=_group(message.get("Attributes")),
        )
        token = token_for_message(message_id)
        try:
            request = parse_work_item(held.body, self.defaults, token)
        except RequestValidationError as err:
            logger.warning("message %s is not a video request: %s", message_id, err)
            self.dead_letter(held, err)
            if self.on_malformed is not None:
                self.on_malformed(message_id, err)
            return None
        if not self.in_hand.add(token, held):
            return None  # back while still in hand: the newest receipt kept, no second job
        self.on_held()
        return request
