"""How `FaceSearchClient.wait` waits for a job: pluggable pollers.

A poller gets a job id and a `fetch_status` callable (one ``GetFaceSearch`` for the
job's state) and returns the job's final `JobStatus`. Two come with rekoface:

- `BackoffPoller` asks ``GetFaceSearch`` on a schedule that stretches with the time
  waited, so short jobs are noticed quickly and long ones cost few calls.
- `SqsNotificationPoller` listens for the job's completion notification on an SQS
  queue subscribed to the job's SNS topic, the path AWS recommends at scale.

Anything with the `Poller` protocol's ``wait`` method plugs in the same way (Step
Functions, an event loop, a database). This module never imports the client.
"""

from __future__ import annotations

import logging
import math
import random as _random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Protocol, TypeVar, runtime_checkable

import attrs

from . import _sqs
from ._validation import raise_if_any
from .errors import (
    FieldError,
    NotificationError,
    PollTimeoutError,
    RequestValidationError,
    ServiceError,
    TransportError,
)
from .notifications import CompletionNotification, parse_notification
from .results import JobState

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

    from .results import JobStatus

__all__ = ["BackoffPoller", "Poller", "SqsNotificationPoller"]

logger = logging.getLogger("rekoface")

#: Longest sleep between empty receives when long polling is off (``wait_time_seconds=0``).
_IDLE_SLEEP: Final = 1.0
#: A notification said the job ended but ``GetFaceSearch`` did not agree yet: ask again after.
_RECONFIRM_DELAY: Final = 5.0
#: Notifications remembered per queue (for waiters that register late, or jobs already done).
_MEMORY: Final = 1024

_K = TypeVar("_K")
_V = TypeVar("_V")


@runtime_checkable
class Poller(Protocol):
    """Waits until a job is no longer ``IN_PROGRESS`` and returns its status.

    `fetch_status` makes one ``GetFaceSearch`` call for the job's state. A poller
    returns the first status whose state is not ``IN_PROGRESS`` and raises
    `PollTimeoutError` when `timeout` (which overrides any timeout of its own) passes.
    """

    def wait(
        self,
        job_id: str,
        fetch_status: Callable[[str], JobStatus],
        *,
        timeout: float | None = None,
    ) -> JobStatus: ...


# -- polling GetFaceSearch ---------------------------------------------------------------

#: With jitter, a delay is drawn from [0.85, 1] of its base: shorter, never later.
_JITTER_FLOOR = 0.85
#: Jitter is drawn only for delays up to about six initial delays (a little over, so
#: that 10% of 300 s, 30.000000000000004, still counts as six times 5 s).
_JITTER_SPAN = 6.1


@attrs.frozen
class BackoffPoller:
    """Polls ``GetFaceSearch`` with delays that grow with the time waited.

    Each delay is `lag_fraction` of the time waited so far, clamped to
    ``[initial_delay, max_delay]``. With `jitter`, a delay up to six `initial_delay`
    (30 s, the first five minutes, by the defaults) is drawn from its top 15%, never
    below `initial_delay`: that spreads waiters started together, and since later
    delays are a fraction of the time waited, the spread grows by itself, so longer
    delays need none (and a 6 h job costs a twentieth of a fixed 5 s loop's calls,
    not more). So a finished job
    is noticed within ``max(initial_delay, lag_fraction x job length)`` (and never later than
    `max_delay`), while a long job costs few calls. A timeout is kept exactly: the
    last sleep is cut to the deadline, the job is asked once more there, and then
    `PollTimeoutError` is raised.
    """

    initial_delay: float = 5.0
    max_delay: float = 120.0
    lag_fraction: float = 0.1
    jitter: bool = True
    timeout: float | None = None
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, repr=False)
    clock: Callable[[], float] = attrs.field(default=time.monotonic, repr=False)
    random: Callable[[], float] = attrs.field(default=_random.random, repr=False)

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        name = "BackoffPoller"
        initial_ok = _sqs.check_seconds(
            errors, f"{name}.initial_delay", self.initial_delay, zero=False
        )
        max_ok = _sqs.check_seconds(errors, f"{name}.max_delay", self.max_delay, zero=False)
        if initial_ok and max_ok and self.max_delay < self.initial_delay:
            errors.append(
                FieldError(
                    f"{name}.max_delay",
                    f"{self.max_delay!r} is less than initial_delay {self.initial_delay!r}",
                    ">= initial_delay",
                )
            )
        _sqs.check_seconds(errors, f"{name}.lag_fraction", self.lag_fraction, zero=True)
        jitter: object = self.jitter
        if not isinstance(jitter, bool):
            errors.append(
                FieldError(f"{name}.jitter", f"must be a bool, not {type(jitter).__name__}", "bool")
            )
        if self.timeout is not None:
            _sqs.check_seconds(errors, f"{name}.timeout", self.timeout, zero=True)
        for field in ("sleep", "clock", "random"):
            _sqs.check_callable(errors, f"{name}.{field}", getattr(self, field))
        raise_if_any(errors)

    def delay(self, waited: float) -> float:
        """The pause before the next poll, after `waited` seconds of waiting."""
        base = min(max(self.lag_fraction * waited, self.initial_delay), self.max_delay)
        if not self.jitter or base > _JITTER_SPAN * self.initial_delay:
            return base
        low = max(self.initial_delay, _JITTER_FLOOR * base)
        return low + (base - low) * self.random()

    def wait(
        self,
        job_id: str,
        fetch_status: Callable[[str], JobStatus],
        *,
        timeout: float | None = None,
    ) -> JobStatus:
        """Poll until the job ends; `timeout` overrides the poller's own."""
        limit = self.timeout if timeout is None else _checked_timeout(timeout)
        start = self.clock()
        deadline = math.inf if limit is None else start + limit
        status = fetch_status(job_id)
        while status.state == JobState.IN_PROGRESS:
            now = self.clock()
            remaining = deadline - now
            if remaining <= 0:
                raise PollTimeoutError(job_id, now - start)
            pause = self.delay(now - start)
            last = pause >= remaining
            self.sleep(remaining if last else pause)
            status = fetch_status(job_id)
            if last and status.state == JobState.IN_PROGRESS:
                raise PollTimeoutError(job_id, self.clock() - start)
        return status


# -- waiting for the SNS -> SQS notification ----------------------------------------------


class SqsNotificationPoller:
    """Waits for the job's completion notification on an SQS queue of this process.

    Rekognition publishes to the job's SNS topic when it ends; subscribe a queue to
    the topic and pass its URL. The poller asks ``GetFaceSearch`` first (a replayed
    start publishes nothing, and the job may be done already), then long-polls the
    queue. On its job's notification it deletes that message and confirms the state
    with ``GetFaceSearch`` (a notification is a hint). A lost notification cannot
    hang it: it asks ``GetFaceSearch`` every `fallback_interval` seconds anyway.

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
        """Make the SQS client from this session and region, unless there is one already.

        `FaceSearchClient.wait` calls this, so the queue is read with the client's
        credentials. Without a session, boto3's default session is used; without a
        region, the session's, else the one in the queue URL. Thread-safe; idempotent.
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
        limit = self.timeout if timeout is None else _checked_timeout(timeout)
        client = self.sqs_client
        receiver = _receiver_for(self.queue_url)
        start = self.clock()
        deadline = math.inf if limit is None else start + limit
        waiter, unclaimed_handle = receiver.register(job_id)
        finished = False
        try:
            if unclaimed_handle is not None:
                _delete(client, self.queue_url, unclaimed_handle, job_id)
            status = fetch_status(job_id)
            last_fetch = self.clock()
            next_check = last_fetch + self.fallback_interval
            while status.state == JobState.IN_PROGRESS:
                now = self.clock()
                hint = receiver.take_hint(waiter)
                if hint is not None:
                    logger.debug("job %s: notification %s, confirming", job_id, hint.status)
                    status = fetch_status(job_id)
                    last_fetch = self.clock()
                    next_check = last_fetch + min(self.fallback_interval, _RECONFIRM_DELAY)
                elif now >= deadline:
                    if last_fetch < deadline:
                        status = fetch_status(job_id)
                        if status.state != JobState.IN_PROGRESS:
                            break
                    raise PollTimeoutError(job_id, self.clock() - start)
                elif now >= next_check:
                    logger.debug("job %s: no notification yet, asking GetFaceSearch", job_id)
                    status = fetch_status(job_id)
                    last_fetch = self.clock()
                    next_check = last_fetch + self.fallback_interval
                else:
                    receiver.step(self, client, waiter, min(next_check, deadline))
            finished = True
            return status
        finally:
            receiver.unregister(waiter, finished=finished)


class _Waiter:
    """One `wait` call on a queue: its job, the notifications routed to it, when it wakes."""

    __slots__ = ("hints", "job_id", "wake_at")

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.hints: list[CompletionNotification] = []
        self.wake_at = math.inf


class _Receiver:
    """The one receiver of a queue URL in this process, shared by its waiters.

    Whichever waiter finds no one receiving becomes the receiver for one round
    (leader/follower: no background thread), receives up to ten messages, deletes
    and hands over those for registered jobs, and leaves every other message alone.
    It remembers notifications no one wanted yet (a waiter that registers just after
    still sees them) and the jobs whose waits ended (a late duplicate of their
    notification is theirs to delete).
    """

    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url
        self.cond = threading.Condition()
        self.waiters: dict[str, list[_Waiter]] = {}
        self.leading = False
        self.unclaimed: OrderedDict[str, tuple[CompletionNotification, str]] = OrderedDict()
        self.finished: OrderedDict[str, None] = OrderedDict()

    def register(self, job_id: str) -> tuple[_Waiter, str | None]:
        """A new waiter, and the receipt handle of its notification if already seen."""
        waiter = _Waiter(job_id)
        with self.cond:
            self.waiters.setdefault(job_id, []).append(waiter)
            seen = self.unclaimed.pop(job_id, None)
            if seen is None:
                return waiter, None
            waiter.hints.append(seen[0])
            return waiter, seen[1]

    def unregister(self, waiter: _Waiter, *, finished: bool) -> None:
        with self.cond:
            others = self.waiters.get(waiter.job_id, [])
            if waiter in others:
                others.remove(waiter)
            if not others:
                self.waiters.pop(waiter.job_id, None)
            if finished:
                _remember(self.finished, waiter.job_id, None)

    def take_hint(self, waiter: _Waiter) -> CompletionNotification | None:
        with self.cond:
            return waiter.hints.pop(0) if waiter.hints else None

    def step(
        self,
        poller: SqsNotificationPoller,
        client: SQSClient,
        waiter: _Waiter,
        wake_at: float,
    ) -> None:
        """Receive one round, or wait for the current receiver's round, until `wake_at`."""
        with self.cond:
            if waiter.hints:
                return
            # Only waiters inside `step` have a wake-up time: one busy elsewhere (asking
            # GetFaceSearch) must not make the receiver cut its long polls to nothing.
            waiter.wake_at = wake_at
            if self.leading:
                # Real time: the receiver notifies after every round, so this only
                # bounds the wait should the injected clock run ahead of it.
                self.cond.wait(timeout=min(max(0.0, wake_at - poller.clock()), 60.0))
                waiter.wake_at = math.inf
                return
            self.leading = True
            wake = min(w.wake_at for ws in self.waiters.values() for w in ws)
        try:
            self._receive_round(poller, client, wake)
        finally:
            with self.cond:
                waiter.wake_at = math.inf
                self.leading = False
                self.cond.notify_all()

    def _receive_round(self, poller: SqsNotificationPoller, client: SQSClient, wake: float) -> None:
        budget = wake - poller.clock()
        wait_s = int(min(float(poller.wait_time_seconds), max(0.0, budget)))
        try:
            response = _sqs.call(
                "ReceiveMessage",
                lambda: client.receive_message(
                    QueueUrl=self.queue_url,
                    WaitTimeSeconds=wait_s,
                    MaxNumberOfMessages=_sqs.MAX_MESSAGES,
                ),
            )
        except (ServiceError, TransportError) as err:
            if isinstance(err, ServiceError) and not err.retryable:
                raise
            logger.warning("receiving from the notification queue failed, will retry: %s", err)
            _pause(poller, wake)
            return
        delivered = self._route(client, response.get("Messages", []))
        if not delivered and wait_s == 0:
            _pause(poller, wake)

    def _route(self, client: SQSClient, messages: list[MessageTypeDef]) -> bool:
        """Delete and hand over the notifications for this process's jobs; leave the rest."""
        ours: list[tuple[str, CompletionNotification]] = []
        with self.cond:
            for message in messages:
                try:
                    note = parse_notification(message.get("Body", ""))
                except NotificationError as err:
                    logger.debug("left a message that is no completion notification: %s", err)
                    continue
                handle = message.get("ReceiptHandle", "")
                if note.job_id in self.waiters or note.job_id in self.finished:
                    ours.append((handle, note))
                else:
                    logger.debug("left the notification of job %s: no waiter here", note.job_id)
                    _remember(self.unclaimed, note.job_id, (note, handle))
        for handle, note in ours:
            _delete(client, self.queue_url, handle, note.job_id)
        delivered = False
        with self.cond:
            for _, note in ours:
                for waiter in self.waiters.get(note.job_id, []):
                    waiter.hints.append(note)
                    delivered = True
            if delivered:
                self.cond.notify_all()
        return delivered


_RECEIVERS: dict[str, _Receiver] = {}
_RECEIVERS_LOCK: Final = threading.Lock()


def _receiver_for(queue_url: str) -> _Receiver:
    with _RECEIVERS_LOCK:
        receiver = _RECEIVERS.get(queue_url)
        if receiver is None:
            receiver = _RECEIVERS[queue_url] = _Receiver(queue_url)
        return receiver


def _delete(client: SQSClient, queue_url: str, handle: str, job_id: str) -> None:
    """Delete a notification of ours; a failure only means it may come again."""
    try:
        _sqs.call(
            "DeleteMessage",
            lambda: client.delete_message(QueueUrl=queue_url, ReceiptHandle=handle),
        )
    except (ServiceError, TransportError) as err:
        logger.warning("could not delete the notification of job %s: %s", job_id, err)


def _pause(poller: SqsNotificationPoller, wake: float) -> None:
    """Sleep a little between receives that cannot wait on the server, never past `wake`."""
    remaining = wake - poller.clock()
    if remaining > 0:
        poller.sleep(min(_IDLE_SLEEP, remaining))


def _remember(memory: OrderedDict[_K, _V], key: _K, value: _V) -> None:
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > _MEMORY:
        memory.popitem(last=False)


# -- validation --------------------------------------------------------------------------


def _checked_timeout(timeout: object) -> float:
    errors: list[FieldError] = []
    if not _sqs.check_seconds(errors, "timeout", timeout, zero=True):
        raise RequestValidationError(errors)
    assert isinstance(timeout, int | float)
    return float(timeout)
