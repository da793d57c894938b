"""The batch's decisions, with no I/O and no clock of their own: pacing, the window, checks.

`search_many` (and the asyncio client's after it) asks these objects what to do next
and when; they never call AWS, sleep or read a clock (the time is passed in), so one
scheduler serves a sync and an async driver, and tests can drive it step by step.
"""

from __future__ import annotations

import math
from typing import Final

__all__ = ["CheckPlan", "Pacer", "Window"]

#: Never ask a job's state sooner than this after its start or last check.
MIN_CHECK_GAP: Final = 5.0
#: A running job is due for a check when this share of its age has passed since the last.
CHECK_FRACTION: Final = 0.01
#: How long the batch waits before probing again when other work holds every job slot.
LIMIT_PROBE_INTERVAL: Final = 60.0


class Pacer:
    """Spaces calls at least ``1 / rate`` seconds apart, retries included.

    Calls that far apart put at most ``ceil(rate)`` of them in any one-second window,
    with no bursts after a quiet spell (a token bucket would allow one).
    """

    __slots__ = ("_last", "gap")

    def __init__(self, rate: float) -> None:
        self.gap = 1.0 / rate
        self._last = -math.inf

    def wait_for(self, now: float) -> float:
        """Seconds to wait before the next call may be made."""
        return max(0.0, self._last + self.gap - now)

    def record(self, now: float) -> None:
        """A call was made at `now`."""
        self._last = now


class Window:
    """How many of the batch's jobs may run at once.

    Starts at `limit`. ``LimitExceededException`` shrinks it to what the batch has in
    flight (other work holds the rest of the account's slots); each successful start
    grows it back by one, up to `limit`.
    """

    __slots__ = ("blocked_until", "limit", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = limit
        self.blocked_until = -math.inf

    def has_room(self, in_flight: int, now: float) -> bool:
        return in_flight < self.size and now >= self.blocked_until

    def limit_exceeded(self, in_flight: int, now: float) -> None:
        """The account is full: shrink to what is ours, and wait for an end or a probe."""
        self.size = max(1, in_flight)
        # Nothing to start until one of ours ends (`job_ended`) or the probe interval
        # passes, whichever comes first.
        self.blocked_until = now + LIMIT_PROBE_INTERVAL

    def started(self) -> None:
        self.size = min(self.limit, self.size + 1)

    def job_ended(self) -> None:
        """One of the batch's jobs ended: its slot is free for the batch at once."""
        self.blocked_until = -math.inf


class CheckPlan:
    """When each running job is next worth a ``GetFaceSearch``.

    A job is due once ``max(MIN_CHECK_GAP, CHECK_FRACTION x its age)`` has passed since
    its last check, so detection lag stays a small share of each job's length; the
    shared status budget goes to the most overdue job first (the one whose chance of
    having ended, by that measure, is highest).
    """

    __slots__ = ("_fallback", "_jobs")

    def __init__(self, fallback: float | None = None) -> None:
        # job id -> (started at, last checked at)
        self._jobs: dict[str, tuple[float, float]] = {}
        #: With notifications: after the first check, ask only every `fallback` seconds.
        self._fallback = fallback

    def __len__(self) -> int:
        return len(self._jobs)

    def add(self, job_id: str, started: float) -> None:
        """A job started at `started`: first due ``MIN_CHECK_GAP`` later."""
        self._jobs[job_id] = (started, started)

    def checked(self, job_id: str, now: float) -> None:
        started, _ = self._jobs[job_id]
        self._jobs[job_id] = (started, now)

    def hint(self, job_id: str) -> None:
        """A notification says the job ended: it is due before every other job."""
        if job_id in self._jobs:
            started, _ = self._jobs[job_id]
            self._jobs[job_id] = (started, -math.inf)

    def remove(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)

    def _gap(self, started: float, checked: float) -> float:
        if self._fallback is not None and checked > started:
            # The first check comes soon (a replayed start publishes nothing); then
            # only the fallback, since the notification says when a job ends.
            return self._fallback
        return max(MIN_CHECK_GAP, CHECK_FRACTION * (checked - started))

    def most_due(self, now: float) -> tuple[str | None, float]:
        """The job to check now (or `None`), and the time the next one falls due."""
        best: str | None = None
        best_ratio = 1.0
        next_due = math.inf
        for job_id, (started, checked) in self._jobs.items():
            gap = self._gap(started, checked)
            due = checked + gap
            if due <= now:
                ratio = math.inf if checked == -math.inf else (now - checked) / gap
                if best is None or ratio > best_ratio:
                    best, best_ratio = job_id, ratio
            else:
                next_due = min(next_due, due)
        return best, (now if best is not None else next_due)
