"""A batch's job slots in a `SlotStore`, shared with every other batch that uses the store.

The batch takes a slot before each start attempt, renews it at a third of the store's
lease while the job runs, and gives it back when the job ends (or when the start fails
for good). When every slot is held it asks again at least every `RETRY_INTERVAL`
seconds, and at once when one of its own jobs ends. A lease lost while the job still
runs (the caller stayed away longer than a lease) is taken again if a slot is free;
if none is, the job goes on unleased: capacity, not an error.

The store's clock is the store's own; the batch's injected clock only says when to
renew. A store that also shares the start rate (`StartRateStore`) is asked for a start
moment before every start attempt (`start_reserver`). This module has no I/O of its own
beyond the store's calls.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .slots import SlotStore

__all__ = ["RETRY_INTERVAL", "Leases"]

logger = logging.getLogger("rekoface")

#: When every slot is held, the batch asks the store again at least this often.
RETRY_INTERVAL: Final = 60.0
#: The lease asked for when a store does not say (`DynamoDBSlotStore`'s default).
DEFAULT_LEASE: Final = 900.0


class Leases:
    """The slots one batch holds: by job id, with the time each is next renewed."""

    __slots__ = ("_held", "holder", "lease", "retry_at", "store")

    def __init__(self, store: SlotStore) -> None:
        self.store = store
        # Unique per batch: a re-run of the batch after a crash is another holder, and
        # the crashed run's leases simply run out.
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        lease = getattr(store, "lease_seconds", DEFAULT_LEASE)
        self.lease = float(lease) if isinstance(lease, int | float) else DEFAULT_LEASE
        self.retry_at = -math.inf
        self._held: dict[str, tuple[str, float]] = {}

    def start_reserver(self) -> Callable[[], float] | None:
        """The store's shared start rate for this batch (`None` if the store has none)."""
        from .slots import StartRateStore

        store = self.store
        if not isinstance(store, StartRateStore):
            return None
        holder = self.holder
        return lambda: store.reserve_start(holder)

    def can_try(self, now: float) -> bool:
        """Whether a start may ask the store for a slot now."""
        return now >= self.retry_at

    def take(self, now: float) -> str | None:
        """A slot for the next start attempt, or `None` (asked again later) when all are held."""
        slot = self.store.acquire(self.holder, lease_seconds=self.lease)
        if slot is None:
            logger.warning(
                "every job slot of the shared store is held; asking again in %.0fs",
                RETRY_INTERVAL,
            )
            self.retry_at = now + RETRY_INTERVAL
        return slot

    def give_back(self, slot: str) -> None:
        """A start that failed for good (or met a full account) releases its slot."""
        self.store.release(slot, self.holder)

    def bind(self, job_id: str, slot: str, now: float) -> None:
        """The slot now belongs to a running job: renew it at a third of the lease."""
        self._held[job_id] = (slot, now + self.lease / 3)

    def job_ended(self, job_id: str) -> None:
        held = self._held.pop(job_id, None)
        if held is not None:
            self.store.release(held[0], self.holder)
        self.retry_at = -math.inf  # a slot just came free: ask at once

    def renew_due(self, now: float) -> None:
        """Renew every lease whose time has come; take a lost one again if a slot is free."""
        for job_id, (slot, renew_at) in list(self._held.items()):
            if renew_at > now:
                continue
            if self.store.renew(slot, self.holder, lease_seconds=self.lease):
                self._held[job_id] = (slot, now + self.lease / 3)
                continue
            again = self.store.acquire(self.holder, lease_seconds=self.lease)
            if again is None:
                logger.warning("job %s lost its slot's lease and no slot is free", job_id)
                del self._held[job_id]
            else:
                logger.info("job %s lost its slot's lease; took slot %s", job_id, again)
                self._held[job_id] = (again, now + self.lease / 3)

    def next_due(self, waiting: bool) -> float:
        """When the batch must wake for the store: a renewal, or a retry while work waits."""
        due = min((at for _, at in self._held.values()), default=math.inf)
        if waiting and self.retry_at > -math.inf:
            due = min(due, self.retry_at)
        return due
