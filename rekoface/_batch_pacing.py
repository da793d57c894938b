"""How the batch paces its attempts: its own pacers, and a start rate its store shares (private).

Each attempt first waits for the batch's own `Pacer` (``start_rate``/``status_rate``
of `search_many`); a start attempt then also reserves a moment from a slot store that
shares the fleet's start rate (`rekoface.slots.StartRateStore`) and sleeps until it.
Both run before every attempt, retries included, with the batch's injected sleep.
"""

from __future__ import annotations

from collections.abc import Callable

from . import _schedule
from .errors import RekoFaceError

__all__ = ["StoreFailedError", "paced"]


class StoreFailedError(Exception):
    """The slot store failed while a start was paced: the batch stops with `error`.

    Carried through the start's retry loop as its own type, so the store's failure is
    neither retried as the start's nor taken for that one video's error.
    """

    def __init__(self, error: RekoFaceError) -> None:
        super().__init__(str(error))
        self.error = error


def paced(
    pacer: _schedule.Pacer,
    *,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    counted: Callable[[], None],
    reserve: Callable[[], float] | None = None,
) -> Callable[[], None]:
    """A `before_attempt` hook: wait for `pacer` (and a reserved moment), then count."""

    def wait() -> None:
        pause = pacer.wait_for(clock())
        if pause > 0:
            sleep(pause)
        if reserve is not None:
            try:
                reserved = reserve()
            except RekoFaceError as err:
                raise StoreFailedError(err) from err
            if reserved > 0:
                sleep(reserved)
        pacer.record(clock())
        counted()

    return wait
