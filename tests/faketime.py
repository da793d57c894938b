"""Injected time for tests: sleeping moves the clock and is recorded; nothing ever waits."""

from __future__ import annotations

import threading
from collections.abc import Callable


class HangError(AssertionError):
    """An operation slept more often than any bounded schedule would."""


class FakeTime:
    """A clock and a sleep to inject as ``clock=``/``sleep=``; thread-safe.

    The object itself is callable as the clock too, for code that takes ``clock=fake``.
    Each hook of `on_sleep` runs after each sleep, outside the lock: to let a fake
    service's jobs progress as time passes, or to stop code that would wait too long
    by raising. With a `budget`, one operation (until `reset`) may sleep at most that
    many times, so a loop that never ends fails the test instead of spinning.
    """

    def __init__(self, now: float = 0.0, *, budget: int | None = None) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self.on_sleep: list[Callable[[], None]] = []
        self.budget = budget
        self.in_operation = 0
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    __call__ = clock

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        with self._lock:
            self.in_operation += 1
            if self.budget is not None and self.in_operation > self.budget:
                raise HangError(f"{self.in_operation} sleeps in one operation")
            self.sleeps.append(seconds)
            self.now += seconds
        for hook in list(self.on_sleep):
            hook()

    def reset(self) -> None:
        """A new operation: its sleeps count afresh against the budget."""
        with self._lock:
            self.in_operation = 0
