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

import logging
import math
import threading
import time
from collections.abc import Callable, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from . import _sqs
from ._work_checks import check_search_args, check_settings
from ._work_dead_letter import find_dead_letter_queue, send_to_dead_letter
from ._work_intake import Intake
from ._work_items import Defaults, check_defaults
from ._work_messages import Held, InHand, change_visibility, delete_message
from ._work_visibility import extend_due, return_all, sleeping, start_heartbeat
from .errors import JobError, RekoFaceError, RequestValidationError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from .batch import BatchOutcome, BatchProgress
    from .client import FaceSearchClient
    from .models import FaceSearchRequest, NotificationChannel
    from .slots import SlotStore

__all__ = ["Settled", "WorkQueue"]

logger = logging.getLogger("rekoface")

#: What `WorkQueue.settle` did with a message.
Settled = Literal["deleted", "dead-lettered", "returned"]


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
        check_settings(
            queue_url=queue_url,
            dead_letter_queue_url=dead_letter_queue_url,
            visibility_timeout=visibility_timeout,
            wait_time_seconds=wait_time_seconds,
            idle_timeout=idle_timeout,
            retry_delay=retry_delay,
            sleep=sleep,
            clock=clock,
            on_malformed=on_malformed,
        )
        # The fields' own rules, checked now rather than on the first message.
        self._defaults = Defaults(
            collection_id, face_match_threshold, notification_channel, job_tag
        )
        check_defaults(self._defaults)
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
        self._in_hand = InHand()
        self._beat: threading.Thread | None = None
        self._stop = threading.Event()
        self.dead_lettered = 0

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
        given: object = key  # typed None, so a type checker refuses one; untyped code may not
        check_search_args(key=given, queue_url=queue_url, work_queue_url=self.queue_url)
        batch = client.search_many(
            self._feed(),
            max_in_flight=max_in_flight,
            start_rate=start_rate,
            status_rate=status_rate,
            queue_url=queue_url,
            sqs_client=sqs_client,
            wait_time_seconds=wait_time_seconds,
            timeout=timeout,
            sleep=sleeping(
                sleep if sleep is not None else time.sleep,
                self.visibility_timeout / 3,
                self.keep_visible,
            ),
            clock=clock,
            progress=progress,
            slots=slots,
        )
        return self._outcomes(batch)

    def _outcomes(
        self, batch: Generator[BatchOutcome, None, None]
    ) -> Generator[BatchOutcome, None, None]:
        try:
            for outcome in batch:
                self._in_hand.left_batch(outcome.request.client_request_token)
                yield outcome
        finally:
            batch.close()

    @property
    def in_hand(self) -> int:
        """Messages received and not settled yet."""
        return len(self._in_hand)

    def settle(self, outcome: BatchOutcome) -> Settled:
        """End the message of `outcome`, which is recorded: see the module's rules.

        Returns what was done. An outcome that is not of a message in hand (settled
        already, or not this queue's) is a `RequestValidationError`.
        """
        held = self._in_hand.take(outcome)
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
        held = self._in_hand.take(outcome)
        self._set_visibility(held, self.retry_delay)

    def keep_visible(self) -> None:
        """Extend the visibility of each message in hand that is a third through it.

        The heartbeat thread calls this; so does the worker whenever it asks for work.
        A message can stay hidden at most 12 hours from its receive: past that, SQS shows
        it again (its job is not started twice: the token is the same).
        """
        extend_due(
            self._in_hand,
            now=self._clock(),
            visibility_timeout=self.visibility_timeout,
            change=self._set_visibility,
        )

    def close(self) -> None:
        """Stop the heartbeat and return every message in hand to the queue at once."""
        self._stop.set()
        return_all(self._in_hand, self._set_visibility)

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
        intake = Intake(
            self._sqs,
            self.queue_url,
            self._patience,
            self._in_hand,
            self._defaults,
            visibility_timeout=self.visibility_timeout,
            wait_time_seconds=self.wait_time_seconds,
            idle_timeout=self.idle_timeout,
            keep_visible=self.keep_visible,
            dead_letter=self._dead_letter,
            on_malformed=self._on_malformed,
            on_held=self._start_heartbeat,
            sleep=self._sleep,
            clock=self._clock,
        )
        return intake.feed()

    # -- ending messages --------------------------------------------------------------

    def _delete(self, held: Held) -> None:
        delete_message(self._sqs, self.queue_url, held)

    def _set_visibility(self, held: Held, seconds: int) -> None:
        change_visibility(self._sqs, self.queue_url, held, seconds)

    def _dead_letter(self, held: Held, error: RekoFaceError) -> None:
        """Send the message's body, with its error, to the dead-letter queue; then delete it."""
        send_to_dead_letter(self._sqs, self._dead_letter_queue(), held, error)
        self._delete(held)
        self.dead_lettered += 1
        logger.warning("message %s dead-lettered: %s", held.message_id, type(error).__name__)

    def _dead_letter_queue(self) -> str:
        """The dead-letter queue's URL: the one given, or the queue's redrive target."""
        if self._dead_letter_url is None:
            self._dead_letter_url = find_dead_letter_queue(self._sqs, self.queue_url)
        return self._dead_letter_url

    # -- the heartbeat ----------------------------------------------------------------

    def _start_heartbeat(self) -> None:
        if not self._heartbeat or self._beat is not None or self._stop.is_set():
            return
        self._beat = start_heartbeat(self.keep_visible, self.visibility_timeout / 3, self._stop)
