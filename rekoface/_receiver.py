"""The one receiver of an SQS queue URL in this process, shared by its waiters.

Private, used by `SqsNotificationPoller`. Whichever waiter finds no one receiving
becomes the receiver for one round (leader/follower: no background thread),
receives up to ten messages, hands each notification to the waiters of its job,
then deletes those notifications, and leaves every other message alone. Handing
over comes first: an exception while deleting (Ctrl-C, a raw error) must not leave
another waiter's message deleted and that waiter uninformed until its fallback check.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, TypeVar

from . import _sqs
from .errors import NotificationError, ServiceError, TransportError
from .notifications import CompletionNotification, parse_notification

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

logger = logging.getLogger("rekoface")

#: Notifications remembered per queue (for waiters that register late, or jobs already done).
MEMORY: Final = 1024

_K = TypeVar("_K")
_V = TypeVar("_V")


class Waiter:
    """One `wait` call on a queue: its job, the notifications routed to it, when it wakes."""

    __slots__ = ("hints", "job_id", "wake_at")

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.hints: list[CompletionNotification] = []
        self.wake_at = math.inf


class Round:
    """How the waiter that leads a round receives: its client and its time."""

    __slots__ = ("client", "clock", "sleep", "wait_time_seconds")

    def __init__(
        self,
        client: SQSClient,
        wait_time_seconds: int,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self.client = client
        self.wait_time_seconds = wait_time_seconds
        self.sleep = sleep
        self.clock = clock


class Receiver:
    """A queue URL's receiver: its waiters, and what it remembers between rounds.

    It remembers notifications no one wanted yet (a waiter that registers just after
    still sees them) and the jobs whose waits ended (a late duplicate of their
    notification is theirs to delete).
    """

    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url
        self.cond = threading.Condition()
        self.waiters: dict[str, list[Waiter]] = {}
        self.leading = False
        self.unclaimed: OrderedDict[str, tuple[CompletionNotification, str]] = OrderedDict()
        self.finished: OrderedDict[str, None] = OrderedDict()
        self.patience: _sqs.Patience | None = None

    def register(self, job_id: str) -> tuple[Waiter, str | None]:
        """A new waiter, and the receipt handle of its notification if already seen."""
        waiter = Waiter(job_id)
        with self.cond:
            self.waiters.setdefault(job_id, []).append(waiter)
            seen = self.unclaimed.pop(job_id, None)
            if seen is None:
                return waiter, None
            waiter.hints.append(seen[0])
            return waiter, seen[1]

    def unregister(self, waiter: Waiter, *, finished: bool) -> None:
        with self.cond:
            others = self.waiters.get(waiter.job_id, [])
            if waiter in others:
                others.remove(waiter)
            if not others:
                self.waiters.pop(waiter.job_id, None)
            if finished:
                remember(self.finished, waiter.job_id, None)

    def take_hint(self, waiter: Waiter) -> CompletionNotification | None:
        with self.cond:
            return waiter.hints.pop(0) if waiter.hints else None

    def step(self, how: Round, waiter: Waiter, wake_at: float) -> None:
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
                self.cond.wait(timeout=min(max(0.0, wake_at - how.clock()), 60.0))
                waiter.wake_at = math.inf
                return
            self.leading = True
            wake = min(w.wake_at for ws in self.waiters.values() for w in ws)
        try:
            self._receive_round(how, wake)
        finally:
            with self.cond:
                waiter.wake_at = math.inf
                self.leading = False
                self.cond.notify_all()

    def _receive_round(self, how: Round, wake: float) -> None:
        wait_s = int(min(float(how.wait_time_seconds), max(0.0, wake - how.clock())))
        if self.patience is None:
            self.patience = _sqs.Patience(how.sleep, how.clock)
        # The round's leader sleeps on its own sleep and clock.
        self.patience.sleep, self.patience.clock = how.sleep, how.clock
        client, url = how.client, self.queue_url
        response = self.patience.call(
            "ReceiveMessage",
            lambda: client.receive_message(
                QueueUrl=url, WaitTimeSeconds=wait_s, MaxNumberOfMessages=_sqs.MAX_MESSAGES
            ),
            until=wake,
        )
        if response is None:  # a transient error, already slept on
            return
        delivered = self.route(client, response.get("Messages", []))
        if not delivered and wait_s == 0:
            _sqs.pause_until(how.sleep, how.clock, wake)

    def route(self, client: SQSClient, messages: list[MessageTypeDef]) -> bool:
        """Hand over, then delete, the notifications of this process's jobs; leave the rest."""
        ours, delivered = self.claim(messages)
        for handle, note in ours:
            delete(client, self.queue_url, handle, note.job_id)
        return delivered

    def claim(
        self, messages: list[MessageTypeDef]
    ) -> tuple[list[tuple[str, CompletionNotification]], bool]:
        """Hand this process's notifications to their waiters; leave the rest alone.

        Returns each of ours as (receipt handle, notification), to be deleted next (by
        `route`, or awaited by the asyncio client), and whether a waiter got one.
        """
        ours: list[tuple[str, CompletionNotification]] = []
        delivered = False
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
                    for waiter in self.waiters.get(note.job_id, []):
                        waiter.hints.append(note)
                        delivered = True
                else:
                    logger.debug("left the notification of job %s: no waiter here", note.job_id)
                    remember(self.unclaimed, note.job_id, (note, handle))
            if delivered:
                self.cond.notify_all()
        return ours, delivered


_RECEIVERS: dict[str, Receiver] = {}
_RECEIVERS_LOCK: Final = threading.Lock()


def receiver_for(queue_url: str) -> Receiver:
    """This process's receiver of `queue_url`, made on first use."""
    with _RECEIVERS_LOCK:
        receiver = _RECEIVERS.get(queue_url)
        if receiver is None:
            receiver = _RECEIVERS[queue_url] = Receiver(queue_url)
        return receiver


def delete(client: SQSClient, queue_url: str, handle: str, job_id: str) -> None:
    """Delete a notification of ours; a failure only means it may come again."""
    try:
        _sqs.call(
            "DeleteMessage",
            lambda: client.delete_message(QueueUrl=queue_url, ReceiptHandle=handle),
        )
    except (ServiceError, TransportError) as err:
        logger.warning("could not delete the notification of job %s: %s", job_id, err)


def remember(memory: OrderedDict[_K, _V], key: _K, value: _V) -> None:
    """Keep `key` as the newest entry of a memory bounded to `MEMORY` entries."""
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > MEMORY:
        memory.popitem(last=False)
