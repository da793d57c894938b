"""Slot stores: how many face-search jobs a batch, or a fleet of batches, may run at once.

The service runs at most 20 stored-video jobs per account (by default) and has no call
that lists them, so callers that share an account count their own jobs in a store they
all see. A slot is a lease: `acquire` takes one for `lease_seconds`, `renew` extends it
while the job runs, `release` gives it back. A lease that is neither renewed nor
released runs out by the store's clock, so a worker that dies frees its slots.

`InMemorySlotStore` serves one process; `DynamoDBSlotStore` (in `rekoface._dynamodb_slots`,
re-exported here) serves a fleet.

Both also share the account's ``StartFaceSearch`` rate (`StartRateStore`): before each
start attempt a batch reserves the next free moment, so every batch on the store
together keeps under the rate, retries included.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import NamedTuple, Protocol, runtime_checkable

from ._dynamodb_slots import DynamoDBSlotStore
from ._leases import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_START_RATE,
    check_call,
    check_callable,
    check_capacity,
    check_holder,
    check_start_rate,
    rate_text,
    start_gap,
)
from ._validation import raise_if_any
from .errors import FieldError

__all__ = ["DynamoDBSlotStore", "InMemorySlotStore", "SlotStore", "StartRateStore"]


@runtime_checkable
class SlotStore(Protocol):
    """Where a batch takes a job slot before each start and gives it back after.

    `held` counts leases that have not run out by the store's clock. A `renew` or
    `release` by any holder but the lease's does nothing (`renew` returns ``False``).
    """

    def acquire(self, holder: str, *, lease_seconds: float) -> str | None:
        """A slot id leased to `holder`, or ``None`` when every slot is held."""
        ...

    def renew(self, slot_id: str, holder: str, *, lease_seconds: float) -> bool:
        """Extend `holder`'s lease on `slot_id` to `lease_seconds` from now.

        ``False`` when the lease was lost: it ran out, or it is not `holder`'s.
        """
        ...

    def release(self, slot_id: str, holder: str) -> None:
        """Give back `holder`'s lease on `slot_id` (nothing happens if it is not theirs)."""
        ...

    def held(self) -> int:
        """How many leases have not run out."""
        ...


@runtime_checkable
class StartRateStore(Protocol):
    """A store that also shares the ``StartFaceSearch`` rate among everyone who uses it.

    Beside `SlotStore`, not part of it: a `SlotStore` without `reserve_start` still
    works, and each batch then paces only its own starts. `search_many(...,
    slots=store)` calls `reserve_start` before every start attempt, retries included,
    and sleeps the answer before it sends.
    """

    def reserve_start(self, holder: str) -> float:
        """Reserve the next free moment for one start; the seconds to wait until it.

        Reservations are ``1 / start_rate`` seconds apart on the store's clock, so
        starts sent at their moments put at most ``ceil(start_rate)`` in any second.
        """
        ...


# -- one process ---------------------------------------------------------------------------


class _Lease(NamedTuple):
    holder: str
    expires: float


class InMemorySlotStore:
    """`capacity` slots in this process, ``"0"`` to ``str(capacity - 1)``; thread-safe.

    What a lone batch uses: it counts only this process's jobs. Leases run out by
    `clock` (``time.monotonic`` unless a test injects one). The batches of the process
    that share the store also share `start_rate` starts a second (``None``: each
    batch paces only itself); with one clock for all, the bound is exact.
    """

    #: The lease a batch asks of this store (and renews at a third of).
    lease_seconds: float = DEFAULT_LEASE_SECONDS

    def __init__(
        self,
        capacity: int = 20,
        *,
        clock: Callable[[], float] = time.monotonic,
        start_rate: float | None = DEFAULT_START_RATE,
    ) -> None:
        errors: list[FieldError] = []
        check_capacity(errors, capacity)
        check_callable(errors, "clock", clock)
        check_start_rate(errors, start_rate)
        raise_if_any(errors)
        self._capacity = capacity
        self._clock = clock
        self._start_rate = None if start_rate is None else float(start_rate)
        self._lock = threading.Lock()
        self._leases: dict[str, _Lease] = {}
        #: The next free moment for a start (GCRA's "theoretical arrival time").
        self._next_start = -math.inf

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def start_rate(self) -> float | None:
        """Starts a second shared by every batch on the store (``None``: not shared)."""
        return self._start_rate

    def __repr__(self) -> str:
        return (
            f"InMemorySlotStore(capacity={self._capacity}, held={self.held()}, "
            f"start_rate={rate_text(self._start_rate)})"
        )

    def reserve_start(self, holder: str) -> float:
        check_holder(holder)
        if self._start_rate is None:
            return 0.0
        with self._lock:
            now = self._clock()
            at = max(now, self._next_start)
            self._next_start = at + start_gap(self._start_rate)
        return at - now

    def acquire(self, holder: str, *, lease_seconds: float) -> str | None:
        check_call(holder=holder, lease_seconds=lease_seconds)
        with self._lock:
            now = self._clock()
            for index in range(self._capacity):
                slot_id = str(index)
                lease = self._leases.get(slot_id)
                if lease is None or lease.expires <= now:
                    self._leases[slot_id] = _Lease(holder, now + lease_seconds)
                    return slot_id
        return None

    def renew(self, slot_id: str, holder: str, *, lease_seconds: float) -> bool:
        check_call(slot_id=slot_id, holder=holder, lease_seconds=lease_seconds)
        with self._lock:
            now = self._clock()
            lease = self._leases.get(slot_id)
            if lease is None or lease.holder != holder or lease.expires <= now:
                return False
            self._leases[slot_id] = _Lease(holder, now + lease_seconds)
            return True

    def release(self, slot_id: str, holder: str) -> None:
        check_call(slot_id=slot_id, holder=holder)
        with self._lock:
            lease = self._leases.get(slot_id)
            if lease is not None and lease.holder == holder:
                del self._leases[slot_id]

    def held(self) -> int:
        with self._lock:
            now = self._clock()
            return sum(1 for lease in self._leases.values() if lease.expires > now)
