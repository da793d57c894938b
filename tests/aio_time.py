"""An event loop on injected time, for tests of code that awaits ``asyncio.sleep``.

Its clock jumps to the next timer when nothing else is ready, so ``asyncio.sleep(30)``
ends at once and `waits` records the 30: code that awaits real delays (the native
transport's retries) runs instantly, deterministically, and its delays can be read.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

_T = TypeVar("_T")


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:  # no timer: only another thread (or a socket) can wake it
            return super().select(None)
        ready: list[tuple[selectors.SelectorKey, int]] = super().select(0)
        if not ready and timeout > 0:
            self._loop.now += timeout
            self._loop.waits.append(timeout)
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose `time` is `now`, moved only by waiting for timers."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []
        super().__init__(selector=_JumpingSelector(self))

    def time(self) -> float:
        return self.now


def run(main: Coroutine[Any, Any, _T], loop: VirtualTimeLoop | None = None) -> _T:
    """`asyncio.run` on a `VirtualTimeLoop` (a new one unless given)."""
    loop = VirtualTimeLoop() if loop is None else loop
    try:
        return loop.run_until_complete(main)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
