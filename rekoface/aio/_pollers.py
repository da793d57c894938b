"""Waiting without blocking the loop: the `AsyncPoller` protocol and `AsyncBackoffPoller`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

from rekoface._validation import raise_if_any
from rekoface.errors import FieldError, RequestValidationError
from rekoface.pollers import BackoffPoller

if TYPE_CHECKING:
    from rekoface.status import JobStatus

__all__ = ["AsyncBackoffPoller", "AsyncPoller"]


@runtime_checkable
class AsyncPoller(Protocol):
    """Waits, without blocking the loop, until a job is no longer ``IN_PROGRESS``.

    As `rekoface.Poller`, with coroutines: `fetch_status` awaits one ``GetFaceSearch``.
    """

    async def wait(
        self,
        job_id: str,
        fetch_status: Callable[[str], Awaitable[JobStatus]],
        *,
        timeout: float | None = None,
    ) -> JobStatus: ...


#: `BackoffPoller`'s fields: their defaults are this poller's too (decided once, there).
_SYNC = attrs.fields_dict(BackoffPoller)


def _no_sync_sleep(seconds: float) -> None:  # pragma: no cover - never called
    raise AssertionError("AsyncBackoffPoller sleeps with its own coroutine")


@attrs.frozen
class AsyncBackoffPoller:
    """`rekoface.BackoffPoller`'s schedule, with an awaitable `sleep` (`asyncio.sleep`).

    The same parameters and the same delays (the schedule is `BackoffPoller`'s own,
    not a copy); cancelling the waiting task stops it at once.
    """

    initial_delay: float = attrs.field(default=_SYNC["initial_delay"].default)
    max_delay: float = attrs.field(default=_SYNC["max_delay"].default)
    lag_fraction: float = attrs.field(default=_SYNC["lag_fraction"].default)
    jitter: bool = attrs.field(default=_SYNC["jitter"].default)
    timeout: float | None = attrs.field(default=_SYNC["timeout"].default)
    sleep: Callable[[float], Awaitable[object]] = attrs.field(default=asyncio.sleep, repr=False)
    clock: Callable[[], float] = attrs.field(default=_SYNC["clock"].default, repr=False)
    random: Callable[[], float] = attrs.field(default=_SYNC["random"].default, repr=False)
    _schedule: BackoffPoller = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        sleep: object = self.sleep
        if not callable(sleep):
            raise_if_any(
                [
                    FieldError(
                        "AsyncBackoffPoller.sleep",
                        f"must be a coroutine function, not {type(sleep).__name__}",
                        "callable",
                    )
                ]
            )
        try:
            schedule = BackoffPoller(
                initial_delay=self.initial_delay,
                max_delay=self.max_delay,
                lag_fraction=self.lag_fraction,
                jitter=self.jitter,
                timeout=self.timeout,
                sleep=_no_sync_sleep,
                clock=self.clock,
                random=self.random,
            )
        except RequestValidationError as err:  # BackoffPoller's checks, named for this class
            raise RequestValidationError(
                [e._replace(path=f"Async{e.path}") for e in err.errors]
            ) from None
        object.__setattr__(self, "_schedule", schedule)

    def delay(self, waited: float) -> float:
        """The pause before the next poll, after `waited` seconds (`BackoffPoller.delay`)."""
        return self._schedule.delay(waited)

    async def wait(
        self,
        job_id: str,
        fetch_status: Callable[[str], Awaitable[JobStatus]],
        *,
        timeout: float | None = None,
    ) -> JobStatus:
        """Poll until the job ends; `timeout` overrides the poller's own."""
        plan = self._schedule.plan(job_id, timeout)
        pause = next(plan)
        try:
            while True:
                if pause is not None:
                    await self.sleep(pause)
                pause = plan.send(await fetch_status(job_id))
        except StopIteration as done:
            status: JobStatus = done.value
            return status
