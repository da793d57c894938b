"""A queue of work: any number of workers take video requests from one SQS queue.

Each message asks for one video (its body: an S3 URI, or a JSON object in
``StartFaceSearch``'s shape; see `rekoface._work_items`). A worker runs them with
`WorkQueue.search_many`, which is `FaceSearchClient.search_many` fed from the queue:

    queue = WorkQueue(queue_url, collection_id="employees")
    for done in queue.search_many(client, slots=store):
        record(done)          # your sink
        queue.settle(done)    # only now is the message deleted

- Each job's ``ClientRequestToken`` is derived from the message's ``MessageId``, which
  SQS keeps across redeliveries: a message delivered twice, to one worker or two, starts
  one job, and the second receiver gets that job back.
- A message stays hidden while its job runs: its visibility is extended at a third of
  `visibility_timeout` (whenever the batch sleeps or asks for work, and by a heartbeat
  thread while your loop body runs), never past SQS's 12 hours from its receive. A
  worker that dies stops extending, and the message comes back to another worker
  within `visibility_timeout`.
- `settle` decides each message's end: a recorded outcome (the job SUCCEEDED, FAILED,
  or ran past the batch's `timeout`) is deleted; a request the service refused for good
  (an error retrying cannot cure, such as `InvalidS3ObjectError`) goes to the dead-letter
  queue with its error, then is deleted; a transient failure is returned to the queue,
  to come back after `retry_delay` seconds (the queue's ``maxReceiveCount`` bounds it).
  A malformed body never reaches the batch: it is dead-lettered at once.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Final, Literal

import attrs

from . import _sqs
from ._core import NOTHING_YET
from ._validation import raise_if_any
from ._work_items import Defaults, parse_work_item, token_for_message
from .errors import (
    ConfigurationError,
    FieldError,
    JobError,
    RekoFaceError,
    RequestValidationError,
    ServiceError,
    TransportError,
)

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef, MessageTypeDef

    from .batch import BatchOutcome, BatchProgress
    from .client import FaceSearchClient
    from .models import FaceSearchRequest, NotificationChannel
    from .slots import SlotStore

__all__ = ["Settled", "WorkQueue"]

logger = logging.getLogger("rekoface")

#: What `WorkQueue.settle` did with a message.
Settled = Literal["deleted", "dead-lettered", "returned"]

#: With jobs running, a receive that found nothing is not repeated sooner than this (and
#: never waits): the batch it feeds must get on with its jobs meanwhile.
BUSY_LOOK_INTERVAL: Final = 2.0
#: Longest error message carried to the dead-letter queue.
_MAX_ERROR_TEXT: Final = 1000
_ATTRIBUTE_PREFIX: Final = "rekoface."


@attrs.define
class _Held:
    """A message this worker has received and not settled."""

    message_id: str
    receipt_handle: str = attrs.field(repr=False)
    body: str = attrs.field(repr=False)
    received_at: float
    visible_until: float
    in_batch: bool = True
    stuck: bool = False  # its visibility can no longer be extended


class WorkQueue:
    """Video requests on an SQS queue that any number of workers share.

    `queue_url` is the queue of requests; `sqs_client` is made for its region when not
    given. Requests that the service refuses for good, and malformed messages, go to
    `dead_letter_queue_url`, or else to the queue's own (its ``RedrivePolicy``
    ``deadLetterTargetArn``); with neither, receiving raises `ConfigurationError`.
    `collection_id`, `face_match_threshold`, `notification_channel` and `job_tag` fill
    what a message leaves out. A worker stops (`search_many` ends) once it has nothing
    in hand and the queue gave it nothing for `idle_timeout` seconds (never, by default:
    a worker runs until stopped). `wait_time_seconds` is the long poll while idle (tests
    on moto use 0, with an injected `sleep`). The messages in hand are kept hidden
    whenever the batch sleeps or asks for work; with `heartbeat`, a daemon thread also
    does it while your loop body runs (a slow sink); without it, a body that may outlast
    a third of `visibility_timeout` should call `keep_visible`.
    `on_malformed` is called with the id and error of each message that is no video
    request, once it is dead-lettered (such a message has no outcome).
    """

    def __init__(
        self,
        queue_url: str,
        *,
        sqs_client: SQSClient | None = None,
        dead_letter_queue_url: str | None = None,
        collection_id: str | None = None,
        face_match_threshold: float | None = None,
        notification_channel: NotificationChannel | None = None,
        job_tag: str | None = None,
        visibility_timeout: int = 300,
        wait_time_seconds: int = 20,
        idle_timeout: float | None = None,
        retry_delay: int = 60,
        heartbeat: bool = True,
        on_malformed: Callable[[str, RequestValidationError], object] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        errors: list[FieldError] = []
        _sqs.check_queue_url(errors, "queue_url", queue_url)
        if dead_letter_queue_url is not None:
            _sqs.check_queue_url(errors, "dead_letter_queue_url", dead_letter_queue_url)
        _sqs.check_int(
            errors, "visibility_timeout", visibility_timeout, 3, _sqs.MAX_VISIBILITY_TIMEOUT
        )
        _sqs.check_int(
            errors, "wait_time_seconds", wait_time_seconds, 0, _sqs.MAX_WAIT_TIME_SECONDS
        )
        if idle_timeout is not None:
            _sqs.check_seconds(errors, "idle_timeout", idle_timeout, zero=True)
        _sqs.check_int(errors, "retry_delay", retry_delay, 0, _sqs.MAX_VISIBILITY_TIMEOUT)
        _sqs.check_callable(errors, "sleep", sleep)
        _sqs.check_callable(errors, "clock", clock)
        if on_malformed is not None:
            _sqs.check_callable(errors, "on_malformed", on_malformed)
        raise_if_any(errors)
        # The fields' own rules, checked now rather than on the first message.
        self._defaults = Defaults(
            collection_id, face_match_threshold, notification_channel, job_tag
        )
        self._check_defaults()
        self.queue_url = queue_url
        self._sqs = sqs_client or _sqs.make_sqs_client(None, None, queue_url)
        self._dead_letter_url = dead_letter_queue_url
        self.visibility_timeout = visibility_timeout
        self.wait_time_seconds = wait_time_seconds
        self.idle_timeout = math.inf if idle_timeout is None else float(idle_timeout)
        self.retry_delay = retry_delay
        self._heartbeat = heartbeat
        self._on_malformed = on_malformed
        self._sleep = sleep
        self._clock = clock
        self._patience = _sqs.Patience(sleep, clock)
        self._lock = threading.Lock()
        self._held: dict[str, _Held] = {}
        self._beat: threading.Thread | None = None
        self._stop = threading.Event()
        self.dead_lettered = 0

    def _check_defaults(self) -> None:
        from .models import FaceSearchRequest, S3Video

        d = self._defaults
        FaceSearchRequest(
            S3Video("stand-in", "stand-in"),
            d.collection_id if d.collection_id is not None else "stand-in",
            d.face_match_threshold,
            d.notification_channel,
            d.job_tag,
        )

    # -- the worker's loop ------------------------------------------------------------

    def search_many(
        self,
        client: FaceSearchClient,
        *,
        max_in_flight: int = 20,
        start_rate: float = 5.0,
        status_rate: float = 2.0,
        queue_url: str | None = None,
        sqs_client: SQSClient | None = None,
        wait_time_seconds: int = 20,
        timeout: float | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        progress: Callable[[BatchProgress], object] | None = None,
        slots: SlotStore | None = None,
        key: None = None,
    ) -> Generator[BatchOutcome, None, None]:
        """`client.search_many` over this queue's requests, in completion order.

        The arguments are `search_many`'s (`queue_url` and `sqs_client` are those of
        the jobs' completion notifications, never the work queue), except `key`: each
        request's token comes from its message. Call `settle` with each outcome once
        it is recorded. While its jobs run the worker keeps looking for more work, so
        its share of the slots stays full.
        """
        errors: list[FieldError] = []
        given: object = key  # typed None, so a type checker refuses one; untyped code may not
        if given is not None:
            errors.append(
                FieldError(
                    "key", "a work queue's jobs take their tokens from their messages", "None"
                )
            )
        if queue_url is not None and queue_url == self.queue_url:
            errors.append(
                FieldError(
                    "queue_url",
                    "is the work queue: completions need a queue of their own",
                    "the SNS->SQS completions queue",
                )
            )
        raise_if_any(errors)
        batch = client.search_many(
            self._feed(),
            max_in_flight=max_in_flight,
            start_rate=start_rate,
            status_rate=status_rate,
            queue_url=queue_url,
            sqs_client=sqs_client,
            wait_time_seconds=wait_time_seconds,
            timeout=timeout,
            sleep=self._sleeping(sleep if sleep is not None else time.sleep),
            clock=clock,
            progress=progress,
            slots=slots,
        )
        return self._outcomes(batch)

    def _sleeping(self, sleep: Callable[[float], None]) -> Callable[[float], None]:
        """The batch's sleep, in steps of a third of the visibility timeout at most, the
        messages in hand kept hidden between them: a worker whose window is full (so it
        asks for no work) still extends them, heartbeat thread or not."""
        step = self.visibility_timeout / 3

        def sleeping(seconds: float) -> None:
            while seconds > step:
                sleep(step)
                seconds -= step
                self.keep_visible()
            sleep(seconds)
            self.keep_visible()

        return sleeping

    def _outcomes(
        self, batch: Generator[BatchOutcome, None, None]
    ) -> Generator[BatchOutcome, None, None]:
        try:
            for outcome in batch:
                token = outcome.request.client_request_token
                with self._lock:
                    held = self._held.get(token or "")
                    if held is not None:
                        held.in_batch = False
                yield outcome
        finally:
            batch.close()

    @property
    def in_hand(self) -> int:
        """Messages received and not settled yet."""
        with self._lock:
            return len(self._held)

    def settle(self, outcome: BatchOutcome) -> Settled:
        """End the message of `outcome`, which is recorded: see the module's rules.

        Returns what was done. An outcome that is not of a message in hand (settled
        already, or not this queue's) is a `RequestValidationError`.
        """
        held = self._take(outcome)
        error = outcome.error
        if error is None or isinstance(error, JobError):
            self._delete(held)
            return "deleted"
        if _sqs.is_transient(error):
            logger.warning(
                "message %s: %s; returned to the queue for %d s",
                held.message_id,
                error,
                self.retry_delay,
            )
            self._set_visibility(held, self.retry_delay)
            return "returned"
        self._dead_letter(held, error)
        return "dead-lettered"

    def release(self, outcome: BatchOutcome) -> None:
        """Give the message of `outcome` back, for another try after `retry_delay` seconds.

        For an outcome that could not be recorded (its sink failed): the message comes
        back, to this worker or another, and its job is not started twice.
        """
        held = self._take(outcome)
        self._set_visibility(held, self.retry_delay)

    def keep_visible(self) -> None:
        """Extend the visibility of each message in hand that is a third through it.

        The heartbeat thread calls this; so does the worker whenever it asks for work.
        A message can stay hidden at most 12 hours from its receive: past that, SQS shows
        it again (its job is not started twice: the token is the same).
        """
        now = self._clock()
        renew_at = self.visibility_timeout * 2 / 3
        with self._lock:
            due = [
                h for h in self._held.values() if not h.stuck and h.visible_until - now <= renew_at
            ]
        for held in due:
            left = _sqs.MAX_VISIBILITY_TIMEOUT - (now - held.received_at) - 60
            seconds = int(min(self.visibility_timeout, left))
            if seconds <= 0:
                held.stuck = True
                logger.warning(
                    "message %s: hidden for SQS's 12 hours at most; it becomes visible again "
                    "(its job is not started twice)",
                    held.message_id,
                )
                continue
            try:
                self._set_visibility(held, seconds)
            except (ServiceError, TransportError) as err:
                if not _sqs.is_transient(err):
                    held.stuck = True
                logger.warning(
                    "message %s: could not extend its visibility: %s", held.message_id, err
                )
                continue
            held.visible_until = now + seconds

    def close(self) -> None:
        """Stop the heartbeat and return every message in hand to the queue at once."""
        self._stop.set()
        with self._lock:
            held = list(self._held.values())
            self._held.clear()
        for message in held:
            try:
                self._set_visibility(message, 0)
            except (ServiceError, TransportError) as err:  # best effort: it comes back anyway
                logger.debug("could not return message %s: %s", message.message_id, err)

    def __enter__(self) -> WorkQueue:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- receiving --------------------------------------------------------------------

    def _feed(self) -> Iterator[FaceSearchRequest]:
        """The batch's input: a request per message, `NOTHING_YET` while jobs run."""
        self._dead_letter_queue()  # a queue without one is refused before any receive
        idle_since = self._clock()
        next_look = -math.inf
        while True:
            self.keep_visible()
            now = self._clock()
            busy = self._busy()
            if busy:
                idle_since = now
                if now < next_look:
                    yield NOTHING_YET
                    continue
                wait = 0
            else:
                remaining = max(0.0, idle_since + self.idle_timeout - now)
                wait = int(min(float(self.wait_time_seconds), remaining))
            message = self._receive(wait, idle_since + self.idle_timeout)
            if message is not None:
                request = self._accept(message)
                if request is not None:
                    idle_since = self._clock()
                    yield request
                continue
            if busy:  # nothing now: look again once the batch has got on for a while
                next_look = self._clock() + BUSY_LOOK_INTERVAL
                yield NOTHING_YET
                continue
            idle_until = idle_since + self.idle_timeout
            if self._clock() >= idle_until:
                return  # idle for idle_timeout with nothing in hand: the worker stops
            if wait == 0:
                _sqs.pause_until(self._sleep, self._clock, idle_until)

    def _busy(self) -> bool:
        """Whether the batch fed has requests of this queue that have not ended."""
        with self._lock:
            return any(h.in_batch for h in self._held.values())

    def _receive(self, wait: int, until: float) -> MessageTypeDef | None:
        client, url = self._sqs, self.queue_url
        response = self._patience.call(
            "ReceiveMessage",
            lambda: client.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=1,
                WaitTimeSeconds=wait,
                VisibilityTimeout=self.visibility_timeout,
            ),
            until=until if wait > 0 or not self._busy() else self._clock(),
        )
        if response is None:
            return None
        messages = response.get("Messages", [])
        return messages[0] if messages else None

    def _accept(self, message: MessageTypeDef) -> FaceSearchRequest | None:
        """The message's request, held; `None` when it was dead-lettered or is held already."""
        now = self._clock()
        message_id = message.get("MessageId", "")
        held = _Held(
            message_id,
            message.get("ReceiptHandle", ""),
            message.get("Body", ""),
            received_at=now,
            visible_until=now + self.visibility_timeout,
        )
        token = token_for_message(message_id)
        try:
            request = parse_work_item(held.body, self._defaults, token)
        except RequestValidationError as err:
            logger.warning("message %s is not a video request: %s", message_id, err)
            self._dead_letter(held, err)
            if self._on_malformed is not None:
                self._on_malformed(message_id, err)
            return None
        with self._lock:
            already = self._held.get(token)
            if already is not None:  # back while still in hand: keep the newest receipt
                already.receipt_handle = held.receipt_handle
                already.visible_until = held.visible_until
                already.stuck = False
                return None
            self._held[token] = held
        self._start_heartbeat()
        return request

    # -- ending messages --------------------------------------------------------------

    def _take(self, outcome: BatchOutcome) -> _Held:
        """The message of `outcome`, no longer in hand."""
        token = getattr(getattr(outcome, "request", None), "client_request_token", None)
        with self._lock:
            held = self._held.pop(token, None) if isinstance(token, str) else None
        if held is None:
            raise RequestValidationError(
                [
                    FieldError(
                        "outcome",
                        "is not of a message this worker holds (settled already?)",
                        "an outcome of this queue's search_many",
                    )
                ]
            )
        return held

    def _delete(self, held: _Held) -> None:
        client, url, handle = self._sqs, self.queue_url, held.receipt_handle
        _sqs.call(
            "DeleteMessage", lambda: client.delete_message(QueueUrl=url, ReceiptHandle=handle)
        )

    def _set_visibility(self, held: _Held, seconds: int) -> None:
        client, url, handle = self._sqs, self.queue_url, held.receipt_handle
        _sqs.call(
            "ChangeMessageVisibility",
            lambda: client.change_message_visibility(
                QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=seconds
            ),
        )

    def _dead_letter(self, held: _Held, error: RekoFaceError) -> None:
        """Send the message's body, with its error, to the dead-letter queue; then delete it.

        In that order: a crash between the two leaves the original to come back (and be
        dead-lettered again), never a request lost.
        """
        client, url = self._sqs, self._dead_letter_queue()
        attributes = _error_attributes(error, held.message_id)
        _sqs.call(
            "SendMessage",
            lambda: client.send_message(
                QueueUrl=url, MessageBody=held.body, MessageAttributes=attributes
            ),
        )
        self._delete(held)
        self.dead_lettered += 1
        logger.warning("message %s dead-lettered: %s", held.message_id, type(error).__name__)

    def _dead_letter_queue(self) -> str:
        """The dead-letter queue's URL: the one given, or the queue's redrive target."""
        if self._dead_letter_url is not None:
            return self._dead_letter_url
        client, url = self._sqs, self.queue_url
        answer = _sqs.call(
            "GetQueueAttributes",
            lambda: client.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"]),
        )
        policy = answer.get("Attributes", {}).get("RedrivePolicy")
        arn = None
        if policy:
            try:
                arn = json.loads(policy).get("deadLetterTargetArn")
            except (ValueError, AttributeError):
                arn = None
        if not isinstance(arn, str) or arn.count(":") < 5:
            raise ConfigurationError(
                "the work queue has no dead-letter queue for requests refused for good: give "
                "it a RedrivePolicy, or pass dead_letter_queue_url"
            )
        *_, account, name = arn.split(":")
        found = _sqs.call(
            "GetQueueUrl",
            lambda: client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account),
        )
        self._dead_letter_url = found["QueueUrl"]
        return self._dead_letter_url

    # -- the heartbeat ----------------------------------------------------------------

    def _start_heartbeat(self) -> None:
        if not self._heartbeat or self._beat is not None or self._stop.is_set():
            return
        self._beat = threading.Thread(
            target=self._beating, name="rekoface-work-queue-heartbeat", daemon=True
        )
        self._beat.start()

    def _beating(self) -> None:
        interval = self.visibility_timeout / 3
        while not self._stop.wait(interval):
            try:
                self.keep_visible()
            except Exception as err:  # the heartbeat must outlive one failure
                logger.warning("work queue heartbeat: %s", err)


def _error_attributes(
    error: RekoFaceError, message_id: str
) -> dict[str, MessageAttributeValueTypeDef]:
    """The error a dead-lettered request carries, as message attributes."""
    values = {
        "ErrorType": type(error).__name__,
        "ErrorMessage": str(error)[:_MAX_ERROR_TEXT] or type(error).__name__,
        "SourceMessageId": message_id or "unknown",
    }
    if isinstance(error, ServiceError) and error.code:
        values["ErrorCode"] = error.code
    return {
        _ATTRIBUTE_PREFIX + name: {"DataType": "String", "StringValue": value}
        for name, value in values.items()
    }
