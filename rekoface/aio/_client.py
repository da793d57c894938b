"""`AsyncFaceSearchClient`: `FaceSearchClient` for asyncio, on the thread transport."""

from __future__ import annotations

import asyncio
import inspect
from types import TracebackType
from typing import TYPE_CHECKING

from rekoface import _core
from rekoface.client import FaceSearchClient
from rekoface.errors import ConfigurationError

from ._results import AsyncFaceSearchResults

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config
    from mypy_boto3_rekognition import RekognitionClient

    from rekoface.models import FaceSearchJob, FaceSearchRequest
    from rekoface.retry import RetryPolicy
    from rekoface.status import JobStatus

    from ._pollers import AsyncPoller

__all__ = ["AsyncFaceSearchClient"]


class AsyncFaceSearchClient:
    """Start face searches, wait for them and read their matches, without blocking the loop.

    Takes `FaceSearchClient`'s arguments (checked the same way), but `poller` is an
    `AsyncPoller`. Every boto3 call runs in a worker thread under the retry policy
    (whose synchronous sleeps run in that thread too), so concurrent tasks overlap.
    It may be built outside a running loop. ``async with`` closes the boto3 client it
    built (never one passed in) and never suppresses the block's exception.
    """

    def __init__(
        self,
        boto3_client: RekognitionClient | None = None,
        *,
        boto3_session: boto3.Session | None = None,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        config: Config | None = None,
        retry: RetryPolicy | None = None,
        poller: AsyncPoller | None = None,
    ) -> None:
        # The sync client makes every check (one error naming every bad argument) and
        # owns the boto3 client and the retry policy; it never waits with `poller`.
        self._sync = FaceSearchClient(
            boto3_client,
            boto3_session=boto3_session,
            region_name=region_name,
            endpoint_url=endpoint_url,
            config=config,
            retry=retry,
            poller=poller,  # type: ignore[arg-type]
        )
        _check_async_poller("poller", poller)
        self._poller = poller
        self._owns_client = boto3_client is None

    def __repr__(self) -> str:
        return f"<AsyncFaceSearchClient region={self._sync.boto3_client.meta.region_name!r}>"

    @property
    def boto3_client(self) -> RekognitionClient:
        """The boto3 Rekognition client every call goes through (in worker threads)."""
        return self._sync.boto3_client

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy in force: `FaceSearchClient.retry`'s rule."""
        return self._sync.retry

    @property
    def sync(self) -> FaceSearchClient:
        """The `FaceSearchClient` this one runs in worker threads (same boto3 client)."""
        return self._sync

    async def __aenter__(self) -> AsyncFaceSearchClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._owns_client:
            close = getattr(self._sync.boto3_client, "close", None)
            if callable(close):
                await asyncio.to_thread(close)

    # -- the FaceSearchClient methods, as coroutines --------------------------------

    async def start(
        self, request: FaceSearchRequest, *, idempotency_key: str | None = None
    ) -> FaceSearchJob:
        """`FaceSearchClient.start`: one ``StartFaceSearch``, retried with the same token."""
        return await asyncio.to_thread(self._sync.start, request, idempotency_key=idempotency_key)

    async def status(self, job: FaceSearchJob | str) -> JobStatus:
        """The job's state now: one ``GetFaceSearch`` asking for the smallest page."""
        return await asyncio.to_thread(self._sync.status, job)

    async def wait(
        self,
        job: FaceSearchJob | str,
        *,
        poller: AsyncPoller | None = None,
        timeout: float | None = None,
    ) -> JobStatus:
        """Wait until the job ends, and return its final status (`FaceSearchClient.wait`).

        Raises `JobFailedError` if it FAILED and `PollTimeoutError` if `timeout` passes
        first. Cancelling the task stops the wait at once; the client stays usable.
        """
        job_id = _core.job_id_of(job)
        _core.check_wait_timeout(timeout)
        _check_async_poller("poller", poller)
        if poller is not None:
            chosen = poller
        elif self._poller is not None:
            chosen = self._poller
        else:
            from ._pollers import AsyncBackoffPoller

            chosen = AsyncBackoffPoller()
        return _core.final_status(await chosen.wait(job_id, self.status, timeout=timeout))

    def results(
        self,
        job: FaceSearchJob | str,
        *,
        sort_by: str = "TIMESTAMP",
        page_size: int = 1000,
        next_token: str | None = None,
        min_similarity: float | None = None,
    ) -> AsyncFaceSearchResults:
        """The job's matches for ``async for``, fetched lazily page by page (nothing yet)."""
        return AsyncFaceSearchResults(
            self._sync.results(
                job,
                sort_by=sort_by,
                page_size=page_size,
                next_token=next_token,
                min_similarity=min_similarity,
            )
        )

    async def search(
        self,
        request: FaceSearchRequest,
        *,
        idempotency_key: str | None = None,
        poller: AsyncPoller | None = None,
        timeout: float | None = None,
        sort_by: str = "TIMESTAMP",
        page_size: int = 1000,
    ) -> AsyncFaceSearchResults:
        """Start a face search, wait for it to end, and return its results.

        Every argument is checked before the job starts (`FaceSearchClient.search`).
        """
        _core.check_search_arguments(timeout, sort_by, page_size)
        _check_async_poller("poller", poller)
        job = await self.start(request, idempotency_key=idempotency_key)
        await self.wait(job, poller=poller, timeout=timeout)
        return self.results(job, sort_by=sort_by, page_size=page_size)


def _check_async_poller(name: str, poller: object) -> None:
    wait = getattr(poller, "wait", None)
    if poller is not None and not inspect.iscoroutinefunction(wait):
        raise ConfigurationError(
            f"AsyncFaceSearchClient: {name} must be an AsyncPoller (an object with an "
            f"async wait method, e.g. rekoface.aio.AsyncBackoffPoller), "
            f"not {type(poller).__name__}"
        )
