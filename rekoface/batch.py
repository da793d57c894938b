"""Many videos: `search_many` keeps the batch's job slots full without breaking a quota.

The account runs at most 20 stored-video jobs at once and takes 5 ``StartFaceSearch``
calls a second; teams hit ``LimitExceededException`` and write their own admission
loops. `iter_search_many` (``FaceSearchClient.search_many``) pulls requests lazily,
starts them as slots free up (paced, retries included), spends one shared status
budget on the jobs most likely to have ended, and yields one `BatchOutcome` per input
in the order it learns that the jobs ended.

This module holds what users see (the outcome and progress records, and the entry
point); the decisions live in `rekoface._schedule` (no I/O), the loop that sequences
calls in `rekoface._batch_run`, the shared slots in `rekoface._batch_slots`, the
notifications in `rekoface._batch_notifications` and the argument checks in
`rekoface._batch_args`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from typing import TYPE_CHECKING

import attrs

from ._batch_args import DEFAULT_JOB_QUOTA, check_batch_arguments
from ._batch_notifications import FALLBACK_INTERVAL

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from .client import FaceSearchClient
    from .errors import RekoFaceError
    from .models import FaceSearchJob, FaceSearchRequest
    from .slots import SlotStore
    from .status import JobStatus

__all__ = [
    "DEFAULT_JOB_QUOTA",
    "FALLBACK_INTERVAL",
    "BatchOutcome",
    "BatchProgress",
    "check_batch_arguments",
    "iter_search_many",
]


@attrs.frozen
class BatchOutcome:
    """How one input item of `search_many` ended.

    `index` is its position in the input; `job` is `None` if it never started and
    `status` the final `JobStatus` (`None` without one); `error` is what stopped it (a
    `RekoFaceError`), `None` when it succeeded. For an item that is not a
    `FaceSearchRequest`, `request` is the item as given and `error` says so.
    """

    index: int
    request: FaceSearchRequest
    job: FaceSearchJob | None = None
    status: JobStatus | None = None
    error: RekoFaceError | None = None

    @property
    def ok(self) -> bool:
        """Whether the job SUCCEEDED (``error is None``)."""
        return self.error is None


@attrs.frozen
class BatchProgress:
    """Where a `search_many` batch stands: passed to its `progress` callback on every change.

    `pulled` items were taken from the input; `waiting` of them wait for a slot (the
    account was full when they tried); `in_flight` of the batch's jobs run now;
    `succeeded` and `failed` items have ended. `window` is how many jobs the batch lets
    run at once now (at most `limit`, its `max_in_flight`); `held_by_others` estimates
    the slots other work holds, from the window's shrink when
    ``LimitExceededException`` came. `starts` and `status_calls` count the
    ``StartFaceSearch`` and ``GetFaceSearch`` attempts made, retries included.
    """

    pulled: int = 0
    waiting: int = 0
    in_flight: int = 0
    succeeded: int = 0
    failed: int = 0
    window: int = 0
    limit: int = 0
    held_by_others: int = 0
    starts: int = 0
    status_calls: int = 0

    @property
    def done(self) -> int:
        """Items that have ended, well or not."""
        return self.succeeded + self.failed


def iter_search_many(
    client: FaceSearchClient,
    requests: Iterable[FaceSearchRequest],
    *,
    key: str | None,
    max_in_flight: int,
    start_rate: float,
    status_rate: float,
    timeout: float | None,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    queue_url: str | None = None,
    sqs_client: SQSClient | None = None,
    wait_time_seconds: int = 20,
    progress: Callable[[BatchProgress], object] | None = None,
    slots: SlotStore | None = None,
) -> Generator[BatchOutcome, None, None]:
    """The engine of `FaceSearchClient.search_many` (arguments checked by the caller).

    Closing the iterator starts nothing more; jobs already running go on at the
    service, and a re-run with the same key picks them up.
    """
    from ._batch_run import Batch

    queue = None
    if queue_url is not None:
        from ._batch_notifications import Notifications

        assert sqs_client is not None  # the client made one for the queue's region
        queue = Notifications(queue_url, sqs_client, wait_time_seconds, sleep, clock)
    leases = None
    if slots is not None:
        from ._batch_slots import Leases

        leases = Leases(slots)
    batch = Batch(
        client,
        queue=queue,
        key=key,
        max_in_flight=max_in_flight,
        start_rate=start_rate,
        status_rate=status_rate,
        timeout=timeout,
        sleep=sleep,
        clock=clock,
        progress=progress,
        leases=leases,
    )
    return batch.run(_numbered(requests))


def _numbered(requests: Iterable[object]) -> Generator[tuple[int, object], None, None]:
    """Each input item with its position; a work queue's "nothing yet" takes none."""
    from ._core import NOTHING_YET

    index = 0
    for item in requests:
        yield index, item
        if item is not NOTHING_YET:
            index += 1
