"""Worker fleets: any number of workers sharing one queue of completion notifications.

`iter_completions` (``FaceSearchClient.completions``) yields each face-search
completion that arrives on the queue as a `Completion`, a context manager whose
message is deleted only when its ``with`` block exits without an exception. A crash
or an exception leaves the message on the queue, and SQS delivers it again after its
visibility timeout: delivery is at least once, so make the handling idempotent.

Visibility. A received message is hidden from other workers for the visibility
timeout (the queue's ``VisibilityTimeout``, or `visibility_timeout`). A message handed
out after that ran out may be with another worker already, and deleting it with the
stale receipt handle may do nothing, so: receive only what can be handled in time
(`max_messages`, 1 by default), never hand out a message whose visibility has run out
(it is left for redelivery), and call `Completion.extend_visibility` from a block that
may run longer than the timeout. A completion knows when its visibility runs out (on
the injected clock): acked after that, it logs a warning that the message may be
handled again, and `Completion.acked` stays `False`.

Transient errors (no answer, throttling, server faults) are logged and waited out with
backoff, the rule of the whole SQS layer (`_sqs.Patience`); the loop only raises what
waiting cannot cure, typed, or a transient error still there when `idle_timeout` ends.

Other APIs' notifications and malformed messages are neither deleted nor released:
they are left for the queue's redrive policy (give the queue a dead-letter queue).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

import attrs

from . import _sqs
from ._validation import raise_if_any
from .errors import (
    ConfigurationError,
    FieldError,
    NotificationError,
    ServiceError,
    TransportError,
)
from .notifications import CompletionNotification, parse_notification

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef, ReceiveMessageRequestTypeDef

__all__ = ["Completion", "iter_completions"]

logger = logging.getLogger("rekoface")

#: A message is not handed out (nor an ack trusted) in its last second of visibility, or
#: its last tenth if shorter: the service started counting before the answer came.
_VISIBILITY_MARGIN: Final = 1.0


@attrs.define(eq=False)
class Completion:
    """One face-search completion taken from the queue, to be handled once.

    Use it as a context manager: the message is deleted when the block exits without
    an exception and left for redelivery when it raises (the exception propagates).
    `ack` deletes it explicitly. `visible_until` is the `clock` time its visibility
    runs out (less a margin); `extend_visibility` moves it.
    """

    notification: CompletionNotification
    message_id: str
    receipt_handle: str = attrs.field(repr=False)
    _sqs_client: SQSClient = attrs.field(repr=False, alias="sqs_client")
    _queue_url: str = attrs.field(repr=False, alias="queue_url")
    _visible_until: float = attrs.field(default=math.inf, repr=False, alias="visible_until")
    _clock: Callable[[], float] = attrs.field(default=time.monotonic, repr=False, alias="clock")
    _acked: bool = attrs.field(default=False, init=False, repr=False)

    @property
    def job_id(self) -> str:
        """The finished job's id (``notification.job_id``)."""
        return self.notification.job_id

    @property
    def acked(self) -> bool:
        """Whether the message is known deleted (a delete in time, not a stale one)."""
        return self._acked

    @property
    def visible_until(self) -> float:
        """The `clock` time after which another worker may have the message."""
        return self._visible_until

    def __enter__(self) -> Completion:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.ack()
        else:
            logger.info(
                "job %s: handler raised %s; its notification will be delivered again",
                self.job_id,
                exc_type.__name__,
            )

    async def __aenter__(self) -> Completion:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """``async with`` (`rekoface.aio`): `__exit__`'s rule, its delete in a worker thread."""
        import asyncio

        await asyncio.to_thread(self.__exit__, exc_type, exc, traceback)

    def ack(self) -> None:
        """Delete the message: the completion is handled. Idempotent.

        After its visibility ran out the delete is still sent, but SQS ignores a stale
        receipt handle once the message was received again: a warning says the job
        may be handled again, and `acked` stays `False`.
        """
        if self._acked:
            return
        client, url, handle = self._sqs_client, self._queue_url, self.receipt_handle
        late = self._clock() >= self._visible_until
        _sqs.call(
            "DeleteMessage", lambda: client.delete_message(QueueUrl=url, ReceiptHandle=handle)
        )
        if late:
            logger.warning(
                "job %s: acked after its notification's visibility ran out; another worker "
                "may have received it and may handle the job again (call extend_visibility "
                "from a handler that may run longer)",
                self.job_id,
            )
            return
        self._acked = True

    def extend_visibility(self, seconds: int) -> None:
        """Keep the message hidden from other workers for `seconds` more, from now.

        Call it from a block that may outlast the visibility timeout; otherwise the
        message reappears and another worker handles the job too.
        """
        errors: list[FieldError] = []
        _sqs.check_int(errors, "seconds", seconds, 0, _sqs.MAX_VISIBILITY_TIMEOUT)
        raise_if_any(errors)
        asked_at = self._clock()
        _set_visibility(self._sqs_client, self._queue_url, self.receipt_handle, seconds)
        self._visible_until = asked_at + seconds - _margin(seconds)


def iter_completions(
    sqs_client: SQSClient,
    queue_url: str,
    *,
    wait_time_seconds: int = 20,
    idle_timeout: float | None = None,
    visibility_timeout: int | None = None,
    max_messages: int = 1,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Completion]:
    """Yield each face-search completion arriving on a queue that workers share.

    Long-polls with `wait_time_seconds`; stops once `idle_timeout` seconds pass
    without a completion to hand out (never, by default). `visibility_timeout` is
    sent with each receive; without it the queue's own is read once. Parameters are
    checked here, before the first receive.
    """
    errors: list[FieldError] = []
    _sqs.check_queue_url(errors, "completions.queue_url", queue_url)
    _sqs.check_int(
        errors, "completions.wait_time_seconds", wait_time_seconds, 0, _sqs.MAX_WAIT_TIME_SECONDS
    )
    if idle_timeout is not None:
        _sqs.check_seconds(errors, "completions.idle_timeout", idle_timeout, zero=True)
    if visibility_timeout is not None:
        _sqs.check_int(
            errors,
            "completions.visibility_timeout",
            visibility_timeout,
            1,
            _sqs.MAX_VISIBILITY_TIMEOUT,
        )
    _sqs.check_int(errors, "completions.max_messages", max_messages, 1, _sqs.MAX_MESSAGES)
    _sqs.check_callable(errors, "completions.sleep", sleep)
    _sqs.check_callable(errors, "completions.clock", clock)
    raise_if_any(errors)
    return _completions(
        sqs_client,
        queue_url=queue_url,
        wait_time_seconds=wait_time_seconds,
        idle_timeout=math.inf if idle_timeout is None else float(idle_timeout),
        visibility_timeout=visibility_timeout,
        max_messages=max_messages,
        sleep=sleep,
        clock=clock,
    )


def _completions(
    client: SQSClient,
    *,
    queue_url: str,
    wait_time_seconds: int,
    idle_timeout: float,
    visibility_timeout: int | None,
    max_messages: int,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> Iterator[Completion]:
    patience = _sqs.Patience(sleep, clock)
    idle_since = clock()
    if visibility_timeout is None:
        visibility = _queue_visibility(client, queue_url, patience, idle_since + idle_timeout)
    else:
        visibility = visibility_timeout
    margin = _margin(visibility)
    params: ReceiveMessageRequestTypeDef = {
        "QueueUrl": queue_url,
        "MaxNumberOfMessages": max_messages,
        "WaitTimeSeconds": wait_time_seconds,
    }
    if visibility_timeout is not None:
        params["VisibilityTimeout"] = visibility_timeout
    while True:
        idle_until = idle_since + idle_timeout
        remaining = idle_until - clock()
        params["WaitTimeSeconds"] = int(min(float(wait_time_seconds), max(0.0, remaining)))
        response = patience.call(
            "ReceiveMessage",
            lambda: client.receive_message(**params),
            until=idle_until,
            raise_past_until=True,
        )
        if response is None:  # a transient error, already slept on
            continue
        messages = response.get("Messages", [])
        hidden_until = clock() + visibility - margin
        handed_out = False
        for index, message in enumerate(messages):
            completion = _completion(client, queue_url, message, hidden_until, clock)
            if completion is None:
                continue
            if clock() >= hidden_until:
                logger.warning(
                    "job %s: its notification's visibility ran out before it could be handed "
                    "out; left for redelivery (receive fewer messages at a time)",
                    completion.job_id,
                )
                continue
            handed_out = True
            try:
                yield completion
            except GeneratorExit:
                _release(client, queue_url, messages[index + 1 :])
                raise
            idle_since = clock()
        if handed_out:
            continue
        remaining = idle_since + idle_timeout - clock()
        if remaining <= 0:
            return
        if params["WaitTimeSeconds"] == 0:
            _sqs.pause_until(sleep, clock, idle_since + idle_timeout)


def _margin(visibility: float) -> float:
    return min(_VISIBILITY_MARGIN, visibility / 10)


def _completion(
    client: SQSClient,
    queue_url: str,
    message: MessageTypeDef,
    visible_until: float = math.inf,
    clock: Callable[[], float] = time.monotonic,
) -> Completion | None:
    """The message as a face-search `Completion`, or `None` to leave it on the queue."""
    try:
        note = parse_notification(message.get("Body", ""))
    except NotificationError as err:
        logger.debug("left a message that is no completion notification: %s", err)
        return None
    if not note.is_face_search:
        logger.debug("left the %s notification of job %s", note.api, note.job_id)
        return None
    return Completion(
        note,
        message.get("MessageId", ""),
        message.get("ReceiptHandle", ""),
        sqs_client=client,
        queue_url=queue_url,
        visible_until=visible_until,
        clock=clock,
    )


def _release(client: SQSClient, queue_url: str, messages: list[MessageTypeDef]) -> None:
    """Make completions received but never handed out visible again, for other workers.

    Only face-search completions: other messages are left to the redrive policy.
    """
    for message in messages:
        completion = _completion(client, queue_url, message)
        if completion is None:
            continue
        try:
            _set_visibility(client, queue_url, completion.receipt_handle, 0)
        except (ServiceError, TransportError) as err:  # best effort while closing
            logger.debug("could not release the notification of job %s: %s", completion.job_id, err)


def _set_visibility(client: SQSClient, queue_url: str, handle: str, seconds: int) -> None:
    _sqs.call(
        "ChangeMessageVisibility",
        lambda: client.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=seconds
        ),
    )


def _queue_visibility(
    client: SQSClient, queue_url: str, patience: _sqs.Patience, until: float
) -> int:
    """The queue's ``VisibilityTimeout``, read once per iteration (transient errors waited out)."""
    response: Any = None
    while response is None:
        response = patience.call(
            "GetQueueAttributes",
            lambda: client.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"]
            ),
            until=until,
            raise_past_until=True,
        )
    visibility = int(response.get("Attributes", {}).get("VisibilityTimeout", "30"))
    if visibility < 1:
        raise ConfigurationError(
            "the queue's VisibilityTimeout is 0: every worker would see every message; "
            "set it longer than a handler runs, or pass visibility_timeout="
        )
    return visibility
