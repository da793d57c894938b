"""One run of `search_many`: the loop that sequences starts, checks and ends (private).

The decisions live in `rekoface._schedule` (no I/O); the shared slots in
`rekoface._batch_slots`; the notifications in `rekoface._batch_notifications`. This
module only sequences calls and turns their answers into `BatchOutcome`s.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING

import attrs

from . import _core, _schedule
from ._batch_args import not_a_request
from ._batch_notifications import FALLBACK_INTERVAL
from ._batch_pacing import StoreFailedError, paced
from ._batch_progress import Tally
from .batch import BatchOutcome
from .errors import (
    JobFailedError,
    LimitExceededError,
    PollTimeoutError,
    RekoFaceError,
    RequestValidationError,
    ServiceError,
    TransportError,
)
from .models import FaceSearchJob, FaceSearchRequest

if TYPE_CHECKING:
    from ._batch_notifications import Notifications
    from ._batch_slots import Leases
    from .batch import BatchProgress
    from .client import FaceSearchClient
    from .status import JobStatus

__all__ = ["Batch"]

logger = logging.getLogger("rekoface")


@attrs.define
class _Running:
    """A job of the batch that has not ended: the items waiting on it, and its clock."""

    job: FaceSearchJob
    items: list[tuple[int, FaceSearchRequest]]
    first_attempt: float


class Batch:
    """One run of `search_many`: its jobs, window, pacers and outcomes not yet yielded."""

    def __init__(
        self,
        client: FaceSearchClient,
        *,
        key: str | None,
        max_in_flight: int,
        start_rate: float,
        status_rate: float,
        timeout: float | None,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        queue: Notifications | None = None,
        progress: Callable[[BatchProgress], object] | None = None,
        leases: Leases | None = None,
    ) -> None:
        self.client = client
        self.leases = leases
        self.tally = Tally(progress)
        self.queue = queue
        self.key = key
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock
        self.window = _schedule.Window(max_in_flight)
        self.plan = _schedule.CheckPlan(None if queue is None else FALLBACK_INTERVAL)
        reserve = None if leases is None else leases.start_reserver()
        self.pace_start = paced(
            _schedule.Pacer(start_rate),
            sleep=sleep,
            clock=clock,
            counted=self._counter("starts"),
            reserve=reserve,
        )
        self.pace_status = paced(
            _schedule.Pacer(status_rate),
            sleep=sleep,
            clock=clock,
            counted=self._counter("status_calls"),
        )
        self.running: dict[str, _Running] = {}
        retry = client.retry
        if retry.retry_limit_exceeded:
            # A full account is the batch's capacity signal, never a reason to block.
            retry = attrs.evolve(retry, retry_limit_exceeded=False)
        self.retry = retry
        #: Items that met LimitExceededException: started again before any new one.
        self.again: deque[tuple[int, object]] = deque()
        self.ready: deque[BatchOutcome] = deque()

    def _counter(self, name: str) -> Callable[[], None]:
        """Count one more attempt in the tally's `name`, and tell the progress callback."""
        tally = self.tally

        def count() -> None:
            setattr(tally, name, getattr(tally, name) + 1)
            self.changed()

        return count

    def changed(self) -> None:
        """Tell the progress callback (if any) where the batch stands now."""
        self.tally.told(waiting=len(self.again), in_flight=len(self.running), window=self.window)

    def outcome(self, outcome: BatchOutcome) -> None:
        """An item ended: count it, and queue its outcome to be yielded."""
        if outcome.ok:
            self.tally.succeeded += 1
        else:
            self.tally.failed += 1
        self.ready.append(outcome)

    # -- the loop ------------------------------------------------------------------

    def run(self, items: Iterator[tuple[int, object]]) -> Generator[BatchOutcome, None, None]:
        try:
            yield from self._run(items)
        finally:
            if self.queue is not None:
                self.queue.close()

    def _run(self, items: Iterator[tuple[int, object]]) -> Generator[BatchOutcome, None, None]:
        exhausted = False
        while True:
            while self.ready:
                yield self.ready.popleft()
            now = self.clock()
            # Fill the window, pulling from the input only what can start now.
            while not self.ready and self._may_start(now):
                if self.again:
                    index, item = self.again.popleft()
                else:
                    pulled = None if exhausted else next(items, None)
                    if pulled is None:
                        exhausted = True
                        break
                    index, item = pulled
                    if item is _core.NOTHING_YET:  # an input waiting for work (a WorkQueue)
                        break
                    self.tally.pulled += 1
                self.start(index, item)
                now = self.clock()
            if self.ready:
                continue
            if not self.running and exhausted and not self.again:
                return
            if self.leases is not None:
                self.leases.renew_due(now)
            self.expire(now)
            if self.ready:
                continue
            job_id, due = self.plan.most_due(now)
            if job_id is not None:
                self.check(job_id)
                continue
            self.pause(now, due, waiting=bool(self.again) or not exhausted)

    def _may_start(self, now: float) -> bool:
        if not self.window.has_room(len(self.running), now):
            return False
        return self.leases is None or self.leases.can_try(now)

    def pause(self, now: float, due: float, *, waiting: bool) -> None:
        """Sleep until the next check falls due, a blocked window may probe, or a timeout."""
        wake = due
        if self.leases is not None:
            wake = min(wake, self.leases.next_due(waiting))
        window = self.window
        if waiting and len(self.running) < window.size and window.blocked_until > now:
            wake = min(wake, window.blocked_until)
        if self.timeout is not None and self.running:
            first = min(run.first_attempt for run in self.running.values())
            wake = min(wake, first + self.timeout)
        if self.queue is not None and self.running:
            for job_id in self.queue.receive(wake):
                self.plan.hint(job_id)
        elif math.isfinite(wake) and wake > now:
            self.sleep(wake - now)

    # -- steps ---------------------------------------------------------------------

    def start(self, index: int, item: object) -> None:
        if not isinstance(item, FaceSearchRequest):
            logger.warning("item %d is not a FaceSearchRequest: skipped", index)
            error = not_a_request(index, item)
            self.outcome(BatchOutcome(index, item, error=error))  # type: ignore[arg-type]
            self.changed()
            return
        attempted = self.clock()
        slot = None
        if self.leases is not None:
            slot = self.leases.take(attempted)
            if slot is None:  # every shared slot is held: this item starts later
                self.again.appendleft((index, item))
                self.changed()
                return
        try:
            call = _core.start_call(item, self.key)
            response = self.client._call(  # pyright: ignore[reportPrivateUsage]
                "StartFaceSearch",
                self.client.boto3_client.start_face_search,
                call.params,
                client_request_token=call.token,
                retry=self.retry,
                before_attempt=self.pace_start,
            )
        except StoreFailedError as failed:  # the fleet's store, not this video: stop the batch
            raise failed.error from failed.__cause__
        except LimitExceededError:
            logger.warning(
                "the account's job slots are full (%d of them the batch's); "
                "waiting for a job to end",
                len(self.running),
            )
            self.window.limit_exceeded(len(self.running), self.clock())
            self.again.appendleft((index, item))
            self._give_back(slot)
            self.changed()
            return
        except (ServiceError, TransportError, RequestValidationError) as err:
            logger.warning("item %d could not start: %s", index, err)
            self.outcome(BatchOutcome(index, item, error=err))
            self._give_back(slot)
            self.changed()
            return
        job = _core.new_job(response, call, item)
        self.window.started()
        same = self.running.get(job.job_id)
        if same is not None:  # identical requests under one key share one job
            same.items.append((index, item))
            self._give_back(slot)
            self.changed()
            return
        if self.leases is not None and slot is not None:
            self.leases.bind(job.job_id, slot, self.clock())
        # The start itself is logged at INFO by `_core` ("started face search job ...").
        logger.debug("item %d: job %s is %s", index, job.job_id, item.video.uri)
        self.running[job.job_id] = _Running(job, [(index, item)], attempted)
        self.plan.add(job.job_id, attempted)
        if self.queue is not None:
            self.queue.register(job.job_id)
        self.changed()

    def _give_back(self, slot: str | None) -> None:
        if self.leases is not None and slot is not None:
            self.leases.give_back(slot)

    def check(self, job_id: str) -> None:
        run = self.running[job_id]
        try:
            response = self.client._call(  # pyright: ignore[reportPrivateUsage]
                "GetFaceSearch",
                self.client.boto3_client.get_face_search,
                _core.status_params(job_id),
                retry=self.retry,
                before_attempt=self.pace_status,
            )
        except (ServiceError, TransportError) as err:
            if isinstance(err, ServiceError) and not err.retryable:
                self.end(run, None, err)
            else:  # asked again later, within the same budget
                logger.warning("status of job %s unknown for now: %s", job_id, err)
                self.plan.checked(job_id, self.clock())
            return
        status = _core.parse_status(response, job_id)
        if status.state == "SUCCEEDED":
            logger.info("job %s SUCCEEDED", job_id)
            self.end(run, status, None)
        elif status.state == "FAILED":
            logger.warning("job %s FAILED: %s", job_id, status.status_message)
            self.end(run, status, JobFailedError(job_id, status.status_message))
        else:
            self.plan.checked(job_id, self.clock())

    def expire(self, now: float) -> None:
        """End the jobs past `timeout` seconds from their first start attempt."""
        timeout = self.timeout
        if timeout is None:
            return
        for run in [r for r in self.running.values() if now - r.first_attempt >= timeout]:
            job_id = run.job.job_id
            logger.warning(
                "job %s still runs after timeout=%ss; no longer waited for", job_id, timeout
            )
            self.end(run, None, PollTimeoutError(job_id, now - run.first_attempt))

    def end(self, run: _Running, status: JobStatus | None, error: RekoFaceError | None) -> None:
        self.running.pop(run.job.job_id, None)
        self.plan.remove(run.job.job_id)
        if self.queue is not None:
            self.queue.unregister(run.job.job_id, finished=True)
        if self.leases is not None:
            self.leases.job_ended(run.job.job_id)
        self.window.job_ended()
        for index, request in run.items:
            self.outcome(BatchOutcome(index, request, run.job, status, error))
        self.changed()
