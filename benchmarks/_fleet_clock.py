"""Virtual time for a fleet of threads: it moves only when every member is asleep.

Shared by ``tests/test_fleet.py`` and `benchmarks.fleet`. Each worker joins as a
member before its thread starts (`join`), passes `sleep` and `clock` to the code it
runs, and leaves when it ends (`leave`). A member's `sleep` blocks until the clock
reaches its wake time; the clock moves, to the earliest wake time of all, only once
every member sleeps, so what the members do
between two moves happens at one instant and nothing ever waits in real time. A member
blocked on anything else (a lock, a call) holds the clock still until it goes on.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

__all__ = ["FleetClock", "StalledError"]


class StalledError(AssertionError):
    """No member moved for `real_timeout` real seconds, or the clock passed its `limit`."""


class FleetClock:
    """A clock and a sleep for several threads at once (see the module's docstring).

    `on_advance` hooks run each time the clock moves, with every member asleep (so the
    state they see is the state of that instant), under the clock's lock: a hook must
    not sleep. `limit` bounds virtual time (a fleet that never ends fails instead of
    spinning); `real_timeout` bounds a member's real wait (a member that died without
    leaving, or a deadlock, fails instead of hanging).
    """

    def __init__(
        self, now: float = 0.0, *, limit: float = float("inf"), real_timeout: float = 60.0
    ) -> None:
        self._now = now
        self.limit = limit
        self.real_timeout = real_timeout
        self.on_advance: list[Callable[[float], None]] = []
        self._condition = threading.Condition()
        self._members = 0
        self._wakes: list[float] = []  # wake times of the members asleep now
        self.advances = 0

    def clock(self) -> float:
        return self._now

    __call__ = clock

    def join(self) -> None:
        """One more member: call it before the member's thread starts, so that the clock
        cannot move on before that thread first sleeps."""
        with self._condition:
            self._members += 1

    def leave(self) -> None:
        """A member ends (from its own thread): the others no longer wait for it."""
        with self._condition:
            self._members -= 1
            self._advance_if_all_asleep()

    @contextlib.contextmanager
    def member(self) -> Iterator[None]:
        """Take part in the clock for the duration of the block (from its own thread)."""
        self.join()
        try:
            yield
        finally:
            self.leave()

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"sleep of {seconds} s")
        with self._condition:
            wake = self._now + seconds
            if wake <= self._now:
                return
            self._wakes.append(wake)
            try:
                self._advance_if_all_asleep()
                while self._now < wake:
                    if not self._condition.wait(self.real_timeout):
                        raise StalledError(
                            f"no member moved for {self.real_timeout} s "
                            f"({self._members} members, {len(self._wakes)} asleep)"
                        )
            finally:
                self._wakes.remove(wake)

    def _advance_if_all_asleep(self) -> None:
        """With the lock held: if every member sleeps, move to the earliest wake time."""
        if not self._wakes or len(self._wakes) < self._members:
            return
        earliest = min(self._wakes)
        if earliest <= self._now:
            return
        if earliest > self.limit:
            raise StalledError(f"the clock would pass its limit of {self.limit} s")
        self._now = earliest
        self.advances += 1
        for hook in self.on_advance:
            hook(earliest)
        self._condition.notify_all()
