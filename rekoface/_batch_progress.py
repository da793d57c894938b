"""What a batch has done so far, told to its `progress` callback on every change (private)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .batch import BatchProgress

if TYPE_CHECKING:
    from ._schedule import Window

__all__ = ["Tally"]


class Tally:
    """The batch's counts; `told` builds a `BatchProgress` for the callback, if there is one."""

    __slots__ = ("failed", "progress", "pulled", "starts", "status_calls", "succeeded")

    def __init__(self, progress: Callable[[BatchProgress], object] | None) -> None:
        self.progress = progress
        self.pulled = 0
        self.succeeded = 0
        self.failed = 0
        self.starts = 0
        self.status_calls = 0

    def snapshot(self, *, waiting: int, in_flight: int, window: Window) -> BatchProgress:
        return BatchProgress(
            pulled=self.pulled,
            waiting=waiting,
            in_flight=in_flight,
            succeeded=self.succeeded,
            failed=self.failed,
            window=window.size,
            limit=window.limit,
            held_by_others=window.limit - window.size,
            starts=self.starts,
            status_calls=self.status_calls,
        )

    def told(self, *, waiting: int, in_flight: int, window: Window) -> None:
        """Tell the progress callback (if any) where the batch stands now."""
        if self.progress is not None:
            self.progress(self.snapshot(waiting=waiting, in_flight=in_flight, window=window))
