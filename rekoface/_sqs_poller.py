"""`SqsNotificationPoller`: wait for a job's completion notification on this process's queue.

Private module; the public name is ``rekoface.pollers.SqsNotificationPoller`` (and
``rekoface.SqsNotificationPoller``). Its wait is a plan of steps with no I/O
(`SqsNotificationPoller.plan`), driven by the sync `wait` here and by the asyncio
client alike; the shared receiver (`_receiver`) does the receiving, and `_sqs` makes
the client and waits out transient errors. Never imports the client.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Final, NamedTuple

from . import _receiver, _sqs
from ._validation import raise_if_any
from .errors import FieldError, PollTimeoutError
from .status import JobState

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_sqs import SQSClient

    from .status import JobStatus

__all__ = ["SqsNotificationPoller"]

logger = logging.getLogger("rekoface")

#: A notification said the job ended but ``GetFaceSearch`` did not agree yet: ask again after.
_RECONFIRM_DELAY: Final = 5.0


class SqsNotificationPoller:
    """Waits for the job's completion notification on an SQS queue of this process.

    Rekognition publishes to the job's SNS topic when it ends; subscribe a queue to
    the topic and pass its URL. The poller asks ``GetFaceSearch`` first (a replayed
    start publishes nothing, and the job may be done already), then long-polls the
    queue. On its job's notification it deletes that message and confirms the state
    with ``GetFaceSearch`` (a notification is a hint). A lost notification cannot
    hang it: it asks ``GetFaceSearch`` every `fallback_interval` seconds anyway.
    Transient receive errors (no answer, throttling, server faults) are logged and
    waited out with backoff; other errors are raised, typed.

    The queue must belong to this process (a queue per process, or an SNS
    subscription whose filter policy picks this process's ``JobTag``): every receive
    counts toward the queue's ``maxReceiveCount``, so other processes' messages
    would be pushed toward the dead-letter queue. Messages no waiter here wants are
    neither deleted nor released early. Waiters in one process on the same queue URL
    share one receiver, which hands each notification to its waiter (whichever
    waiter is receiving does so with its own client, ``wait_time_seconds`` and
    ``sleep``); a notification for a job whose wait has ended is deleted too, as it
    is this process's. Worker fleets that share a queue use
    `FaceSearchClient.completions` instead. Thread-safe.
    """

    __slots__ = (
        "_lock",
        "_sqs",
        "clock",
        "fallback_interval",
        "queue_url",
        "sleep",
        "timeout",
        "wait_time_seconds",
    )

    def __init__(
        self,
        queue_url: str,
        *,
        sqs_client: SQSClient | None = None,
        wait_time_seconds: int = 20,
        timeout: float | None = None,
        fallback_interval: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        errors: list[FieldError] = []
        name = "SqsNotificationPoller"
        _sqs.check_queue_url(errors, f"{name}.queue_url", queue_url)
        _sqs.check_int(
            errors, f"{name}.wait_time_seconds", wait_time_seconds, 0, _sqs.MAX_WAIT_TIME_SECONDS
        )
        if timeout is not None:
            _sqs.check_seconds(errors, f"{name}.timeout", timeout, zero=True)
        _sqs.check_seconds(errors, f"{name}.fallback_interval", fallback_interval, zero=False)
        _sqs.check_callable(errors, f"{name}.sleep", sleep)
        _sqs.check_callable(errors, f"{name}.clock", clock)
        raise_if_any(errors)
        self.queue_url = queue_url
        self.wait_time_seconds = wait_time_seconds
        self.timeout = timeout
        self.fallback_interval = fallback_interval
        self.sleep = sleep
        self.clock = clock
        self._sqs = sqs_client
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"SqsNotificationPoller(queue_url={self.queue_url!r}, "
            f"wait_time_seconds={self.wait_time_seconds!r}, timeout={self.timeout!r}, "
            f"fallback_interval={self.fallback_interval!r})"
        )

    def bind_session(self, boto3_session: boto3.Session | None, region_name: str | None) -> None:
        """Make the SQS client from this session, unless there is one already.

        `FaceSearchClient.wait` calls this, so the queue is read with the client's
        credentials. The client is built for the region in the queue URL (a queue
        answers only in its own region); for a URL that names none, `region_name`,
        else the session's. Without a session, boto3's default session is used.
        Thread-safe; idempotent.
        """
        with self._lock:
            if self._sqs is None:
                self._sqs = _sqs.make_sqs_client(boto3_session, region_name, self.queue_url)

    @property
    def sqs_client(self) -> SQSClient:
        """The SQS client, made from boto3's default session if none was given or bound."""
        if self._sqs is None:
            self.bind_session(None, None)
        assert self._sqs is not None
        return self._sqs

    def wait(
        self,
        job_id: str,
        fetch_status: Callable[[str], JobStatus],
        *,
        timeout: float | None = None,
    ) -> JobStatus:
        """Wait for the job's notification (or a fallback check) to show it ended."""
        client = self.sqs_client
        receiver = _receiver.receiver_for(self.queue_url)
        how = _receiver.Round(client, self.wait_time_seconds, self.sleep, self.clock)
        plan = self.plan(job_id, receiver, timeout)
        step = next(plan)
        try:
            while True:
                if isinstance(step, Receive):
                    receiver.step(how, step.waiter, step.wake_at)
                    step = next(plan)
                elif isinstance(step, Delete):
                    _receiver.delete(client, self.queue_url, step.receipt_handle, job_id)
                    step = next(plan)
                else:
                    step = plan.send(fetch_status(job_id))
        except StopIteration as done:
            status: JobStatus = done.value
            return status
        finally:
            plan.close()

    def plan(
        self, job_id: str, receiver: _receiver.Receiver, timeout: float | None = None
    ) -> Generator[Step, JobStatus | None, JobStatus]:
        """The wait's decisions, with no I/O: each step says what to do next.

        `FETCH` wants the job's status sent back; `Delete` a notification deleted and
        `Receive` a receiving round (or the wait for one) until its `wake_at`, both
        answered with ``next``. Returns the final status; raises `PollTimeoutError`.
        Closing it (or its end) unregisters the waiter. The sync `wait` and the
        asyncio client drive the same plan.
        """
        limit = self.timeout if timeout is None else _sqs.checked_timeout(timeout)
        start = self.clock()
        deadline = math.inf if limit is None else start + limit
        waiter, unclaimed_handle = receiver.register(job_id)
        finished = False
        try:
            if unclaimed_handle is not None:
                yield Delete(unclaimed_handle)
            status = yield FETCH
            assert status is not None
            last_fetch = self.clock()
            next_check = last_fetch + self.fallback_interval
            while status.state == JobState.IN_PROGRESS:
                now = self.clock()
                hint = receiver.take_hint(waiter)
                if hint is not None:
                    logger.debug("job %s: notification %s, confirming", job_id, hint.status)
                    status = yield FETCH
                    assert status is not None
                    last_fetch = self.clock()
                    next_check = last_fetch + min(self.fallback_interval, _RECONFIRM_DELAY)
                elif now >= deadline:
                    if last_fetch < deadline:
                        status = yield FETCH
                        assert status is not None
                        if status.state != JobState.IN_PROGRESS:
                            break
                    raise PollTimeoutError(job_id, self.clock() - start)
                elif now >= next_check:
                    logger.debug("job %s: no notification yet, asking GetFaceSearch", job_id)
                    status = yield FETCH
                    assert status is not None
                    last_fetch = self.clock()
                    next_check = last_fetch + self.fallback_interval
                else:
                    yield Receive(waiter, min(next_check, deadline))
            finished = True
            return status
        finally:
            receiver.unregister(waiter, finished=finished)


#: A plan's step that wants the job's status sent back.
FETCH: Final = "fetch"


class Delete(NamedTuple):
    """A plan's step: delete this notification of the job (seen before the wait began)."""

    receipt_handle: str


class Receive(NamedTuple):
    """A plan's step: receive one round (or wait for the current one) until `wake_at`."""

    waiter: _receiver.Waiter
    wake_at: float


Step = str | Delete | Receive
