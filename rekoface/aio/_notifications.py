"""`SqsNotificationPoller` for the asyncio client: its plan, driven from the loop.

The wait's decisions are the poller's own (`SqsNotificationPoller.plan`); the
receiving is the process's one receiver of the queue (`rekoface._receiver`), shared
with sync waiters. The async waiters of one loop and queue never pin a thread each:
at most one receiving round runs at a time for all of them (in one worker thread on
a boto3 SQS client, awaited on the loop on an aiobotocore one), and each waits for
that round to end, then looks at its notifications again, as the sync waiters do on
the receiver's condition. Answers awaited on aiobotocore are handed back to the
sync library's own handling (`_Replay`), so error translation, the rule for
transient errors and the deletes' logging are not written twice.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from rekoface import _receiver, _sqs
from rekoface._sqs_poller import Delete, Receive

from ._native import is_async_client

if TYPE_CHECKING:
    from rekoface.pollers import SqsNotificationPoller
    from rekoface.status import JobStatus

__all__ = ["wait_for_notification"]


async def wait_for_notification(
    poller: SqsNotificationPoller,
    job_id: str,
    fetch_status: Callable[[str], Awaitable[JobStatus]],
    *,
    timeout: float | None = None,
) -> JobStatus:
    """`SqsNotificationPoller.wait`, awaited: the same plan, the shared receiver."""
    client: Any = poller.sqs_client
    native = is_async_client(client, "receive_message")
    receiver = _receiver.receiver_for(poller.queue_url)
    rounds = _rounds_for(receiver)
    how = _receiver.Round(client, poller.wait_time_seconds, poller.sleep, poller.clock)
    plan = poller.plan(job_id, receiver, timeout)
    try:
        step = next(plan)
        while True:
            if isinstance(step, Receive):
                await rounds.step(how, step.waiter, step.wake_at, native=native)
                step = next(plan)
            elif isinstance(step, Delete):
                await _delete(client, receiver.queue_url, step.receipt_handle, job_id, native)
                step = next(plan)
            else:
                step = plan.send(await fetch_status(job_id))
    except StopIteration as done:
        status: JobStatus = done.value
        return status
    finally:
        plan.close()


class _Outcome:
    """What an awaited call gave: its answer, or the exception it raised."""

    __slots__ = ("_error", "_value")

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self._value = value
        self._error = error

    def get(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._value


async def _outcome(call: Awaitable[Any]) -> _Outcome:
    try:
        return _Outcome(await call)
    except Exception as err:
        return _Outcome(error=err)


class _Replay:
    """A stand-in client whose every method gives back one outcome already awaited."""

    __slots__ = ("_outcome",)

    def __init__(self, outcome: _Outcome) -> None:
        self._outcome = outcome

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def answer(**_: Any) -> Any:
            return self._outcome.get()

        return answer


async def _delete(client: Any, queue_url: str, handle: str, job_id: str, native: bool) -> None:
    """`_receiver.delete` (a failure only logged), on the loop or in a worker thread."""
    if not native:
        await asyncio.to_thread(_receiver.delete, client, queue_url, handle, job_id)
        return
    done = await _outcome(client.delete_message(QueueUrl=queue_url, ReceiptHandle=handle))
    replay: Any = _Replay(done)
    _receiver.delete(replay, queue_url, handle, job_id)


class _Rounds:
    """The receiving rounds of one queue for the async waiters of one loop."""

    def __init__(self, receiver: _receiver.Receiver) -> None:
        self.receiver = receiver
        self.current: asyncio.Task[None] | None = None
        self.inside: set[_receiver.Waiter] = set()

    async def step(
        self, how: _receiver.Round, waiter: _receiver.Waiter, wake_at: float, *, native: bool
    ) -> None:
        """Until the round in progress (one is started if none is) ends, or `wake_at`."""
        receiver = self.receiver
        with receiver.cond:
            if waiter.hints:
                return
            # Only waiters inside a step have a wake-up time (the sync receiver's rule).
            waiter.wake_at = wake_at
        self.inside.add(waiter)
        try:
            current = self.current
            if current is None or current.done():
                current = self.current = asyncio.ensure_future(self._round(how, native))
            # Real time, as the sync followers: the round ends sooner, or the clock was
            # injected and this only bounds the wait.
            await asyncio.wait({current}, timeout=min(max(0.0, wake_at - how.clock()), 60.0))
            if current.done() and not current.cancelled():
                error = current.exception()
                if error is not None:
                    raise error
        finally:
            self.inside.discard(waiter)
            with receiver.cond:
                waiter.wake_at = math.inf
            if not self.inside and self.current is not None and not self.current.done():
                self.current.cancel()  # nobody waits for it any more

    async def _round(self, how: _receiver.Round, native: bool) -> None:
        receiver = self.receiver
        wake = min((w.wake_at for w in self.inside), default=math.inf)
        if not native:
            # The sync receiver's own round (or the wait for a sync waiter's round).
            await asyncio.to_thread(receiver.step, how, _receiver.Waiter(""), wake)
            return
        with receiver.cond:
            shared = receiver.leading
            if not shared:
                receiver.leading = True
                wake = min(w.wake_at for ws in receiver.waiters.values() for w in ws)
        if shared:  # a sync waiter of this process is receiving: wait for its round
            await asyncio.to_thread(receiver.step, how, _receiver.Waiter(""), wake)
            return
        try:
            await _receive_natively(receiver, how, wake)
        finally:
            with receiver.cond:
                receiver.leading = False
                receiver.cond.notify_all()


async def _receive_natively(
    receiver: _receiver.Receiver, how: _receiver.Round, wake: float
) -> None:
    """`Receiver._receive_round` on an aiobotocore client: the same decisions, awaited."""
    client: Any = how.client
    wait_s = int(min(float(how.wait_time_seconds), max(0.0, wake - how.clock())))
    received = await _outcome(
        client.receive_message(
            QueueUrl=receiver.queue_url,
            WaitTimeSeconds=wait_s,
            MaxNumberOfMessages=_sqs.MAX_MESSAGES,
        )
    )
    if receiver.patience is None:
        receiver.patience = _sqs.Patience(how.sleep, how.clock)
    pauses: list[float] = []
    receiver.patience.sleep, receiver.patience.clock = pauses.append, how.clock
    response = receiver.patience.call("ReceiveMessage", received.get, until=wake)
    if response is None:  # a transient error: its pause is awaited
        for pause in pauses:
            await asyncio.sleep(pause)
        return
    ours, delivered = receiver.claim(response.get("Messages", []))
    for handle, note in ours:
        await _delete(client, receiver.queue_url, handle, note.job_id, native=True)
    if not delivered and wait_s == 0:
        _sqs.pause_until(pauses.append, how.clock, wake)
        for pause in pauses:
            await asyncio.sleep(pause)


_ROUNDS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Rounds]] = (
    weakref.WeakKeyDictionary()
)


def _rounds_for(receiver: _receiver.Receiver) -> _Rounds:
    """This loop's rounds of `receiver`'s queue, made on first use."""
    per_loop = _ROUNDS.setdefault(asyncio.get_running_loop(), {})
    rounds = per_loop.get(receiver.queue_url)
    if rounds is None:
        rounds = per_loop[receiver.queue_url] = _Rounds(receiver)
    return rounds
