"""Driving the sync library's iterators from the loop, one step per worker-thread call."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from typing import Protocol, TypeVar

__all__ = ["LoopSleep", "iterate_in_threads"]

_T = TypeVar("_T")


def _next_or_none(iterator: Iterator[_T]) -> _T | None:
    """One step of a sync iterator (run in a worker thread); `None` at its end."""
    return next(iterator, None)


class LoopSleep:
    """A synchronous ``sleep`` for the sync engines, that awaits `sleep` on the loop.

    Called from a worker thread: the engine's pauses are the user's coroutine (so a
    test's injected sleep, or ``asyncio.sleep``), and `cancel` ends the ones pending
    at once, so a cancelled iteration frees its thread promptly.
    """

    def __init__(
        self, sleep: Callable[[float], Awaitable[object]], loop: asyncio.AbstractEventLoop
    ) -> None:
        self._sleep = sleep
        self._loop = loop
        self._pending: set[concurrent.futures.Future[None]] = set()

    async def _run(self, seconds: float) -> None:
        await self._sleep(seconds)

    def __call__(self, seconds: float) -> None:
        future = asyncio.run_coroutine_threadsafe(self._run(seconds), self._loop)
        self._pending.add(future)
        try:
            future.result()
        finally:
            self._pending.discard(future)

    def cancel(self) -> None:
        for future in list(self._pending):
            future.cancel()


class Cancellable(Protocol):
    """What the engine waits on from its thread (`LoopSleep`, a `LoopBridge`)."""

    def cancel(self) -> None: ...


async def iterate_in_threads(
    iterator: Iterator[_T], *waits: Cancellable
) -> AsyncGenerator[_T, None]:
    """Each item of a sync `iterator` (that never yields `None`), each step in a worker thread.

    One step at a time and none ahead. When the iteration stops early (``break``,
    cancellation), what the engine waits on in its thread (`waits`: its sleeps, its
    calls on the loop) is cancelled and a generator is closed (in a thread: closing
    may call AWS), as the sync ``for`` loop would.
    """
    try:
        while True:
            item = await asyncio.to_thread(_next_or_none, iterator)
            if item is None:
                return
            yield item
            del item
    finally:
        for wait in waits:
            wait.cancel()
        if inspect.isgenerator(iterator) and not iterator.gi_running:
            await asyncio.to_thread(iterator.close)
