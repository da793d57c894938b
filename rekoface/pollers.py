"""How `FaceSearchClient.wait` waits for a job: pluggable pollers.

A poller gets a job id and a `fetch_status` callable (one ``GetFaceSearch`` for the
job's state) and returns the job's final `JobStatus`. Two come with rekoface:

- `BackoffPoller` asks ``GetFaceSearch`` on a schedule that stretches with the time
  waited, so short jobs are noticed quickly and long ones cost few calls.
- `SqsNotificationPoller` listens for the job's completion notification on an SQS
  queue subscribed to the job's SNS topic, the path AWS recommends at scale.

Anything with the `Poller` protocol's ``wait`` method plugs in the same way (Step
Functions, an event loop, a database). `SqsNotificationPoller` lives in a module of its
own with the SQS layer and is re-exported here. This module never imports the client.
"""

from __future__ import annotations

import math
import random as _random
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

import attrs

from . import _sqs
from ._sqs import checked_timeout as _checked_timeout
from ._sqs_poller import SqsNotificationPoller
from ._validation import raise_if_any
from .errors import FieldError, PollTimeoutError
from .status import JobState

if TYPE_CHECKING:
    from .status import JobStatus

__all__ = ["BackoffPoller", "Poller", "SqsNotificationPoller"]


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
        plan = self.plan(job_id, timeout)
        pause = next(plan)
        try:
            while True:
                if pause is not None:
                    self.sleep(pause)
                pause = plan.send(fetch_status(job_id))
        except StopIteration as done:
            return cast("JobStatus", done.value)

    def plan(
        self, job_id: str, timeout: float | None = None
    ) -> Generator[float | None, JobStatus, JobStatus]:
        """The wait's decisions without I/O, for any driver (sync here, asyncio in `rekoface.aio`).

        Yields the pause before each poll (`None`: poll now) and is sent each polled
        status; returns the final one, or raises `PollTimeoutError`.
        """
        limit = self.timeout if timeout is None else _checked_timeout(timeout)
        start = self.clock()
        deadline = math.inf if limit is None else start + limit
        status = yield None
        while status.state == JobState.IN_PROGRESS:
            now = self.clock()
            remaining = deadline - now
            if remaining <= 0:
                raise PollTimeoutError(job_id, now - start)
            pause = self.delay(now - start)
            last = pause >= remaining
            status = yield remaining if last else pause
            if last and status.state == JobState.IN_PROGRESS:
                raise PollTimeoutError(job_id, self.clock() - start)
        return status
