"""Injected time for tests: sleeping moves the clock and is recorded; nothing ever waits."""

from __future__ import annotations

import threading
from collections.abc import Callable


class FakeTime:
    """A clock and a sleep to inject as ``clock=``/``sleep=``; thread-safe.

    The object itself is callable as the clock too, for code that takes ``clock=fake``.
    ``on_sleep`` (if given) is called after each sleep, outside the lock, with the
    seconds slept: to let a fake service's jobs progress as time passes, or to stop
    code that would wait too long by raising from it.
    """

    def __init__(
        self, now: float = 0.0, *, on_sleep: Callable[[float], None] | None = None
    ) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep
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
        if self.on_sleep is not None:
            self.on_sleep(seconds)
