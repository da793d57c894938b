"""Injected time for tests: sleeping moves the clock and is recorded; nothing ever waits."""

from __future__ import annotations

import threading


class FakeTime:
    """A clock and a sleep to inject as ``clock=``/``sleep=``; thread-safe.

    The object itself is callable as the clock too, for code that takes ``clock=fake``.
    """

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    __call__ = clock

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds
