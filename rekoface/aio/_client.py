"""`AsyncFaceSearchClient`: `FaceSearchClient` for asyncio, on threads or on aiobotocore."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from rekoface import _core
from rekoface.client import FaceSearchClient
from rekoface.errors import ConfigurationError

from ._native import LoopBridge, is_async_client, native_call
from ._results import AsyncFaceSearchResults
from ._threads import LoopSleep, iterate_in_threads

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config
    from mypy_boto3_rekognition import RekognitionClient
    from mypy_boto3_sqs import SQSClient

    from rekoface.batch import BatchOutcome, BatchProgress
    from rekoface.completions import Completion
    from rekoface.models import FaceSearchJob, FaceSearchRequest
    from rekoface.pollers import SqsNotificationPoller
    from rekoface.retry import RetryPolicy
    from rekoface.status import JobStatus

    from ._native import AioRekognitionClient, AioSQSClient
    from ._pollers import AsyncPoller

__all__ = ["AsyncFaceSearchClient"]


class AsyncFaceSearchClient:
    """Start face searches, wait for them and read their matches, without blocking the loop.

    Takes `FaceSearchClient`'s arguments (checked the same way), but `poller` is an
    `AsyncPoller`. Every boto3 call runs in a worker thread under the retry policy
    (whose synchronous sleeps run in that thread too), so concurrent tasks overlap.
    An aiobotocore client passed as `boto3_client` (or any client whose methods are
    coroutine functions) is used natively instead: its calls are awaited on the loop,
    and the retry policy's delays are awaited too. It may be
    built outside a running loop. ``async with`` closes the boto3 client it built
    (never one passed in) and never suppresses the block's exception.
    """

    def __init__(
        self,
        boto3_client: RekognitionClient | AioRekognitionClient | None = None,
        *,
        boto3_session: boto3.Session | None = None,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        config: Config | None = None,
        retry: RetryPolicy | None = None,
        poller: AsyncPoller | SqsNotificationPoller | None = None,
    ) -> None:
        _core.check_client_arguments(
            boto3_client=boto3_client,
            boto3_session=boto3_session,
            region_name=region_name,
            endpoint_url=endpoint_url,
            config=config,
            retry=retry,
            poller=poller,
            client_name="AsyncFaceSearchClient",
        )
        _check_async_poller("poller", poller)
        #: The aiobotocore client, when one was given: then the sync client below talks
        #: to it through a bridge, for the parts that run in a worker thread.
        self._aio: Any = (
            boto3_client if is_async_client(boto3_client, "start_face_search") else None
        )
        self._bridge = LoopBridge(boto3_client) if self._aio is not None else None
        # The sync client owns the boto3 client and the retry policy; it never waits.
        self._sync = FaceSearchClient(
            cast("RekognitionClient | None", self._bridge or boto3_client),
            boto3_session=boto3_session,
            region_name=region_name,
            endpoint_url=endpoint_url,
            config=config,
            retry=retry,
        )
        self._poller = poller
        self._session = boto3_session
        self._owns_client = boto3_client is None

    def __repr__(self) -> str:
        return f"<AsyncFaceSearchClient region={self._sync.boto3_client.meta.region_name!r}>"

    @property
    def boto3_client(self) -> RekognitionClient:
        """The Rekognition client every call goes through (the aiobotocore one, if given)."""
        if self._aio is not None:
            return cast("RekognitionClient", self._aio)
        return self._sync.boto3_client

    @property
    def native(self) -> bool:
        """Whether calls are awaited on an aiobotocore client (else run in worker threads)."""
        return self._aio is not None

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy in force: `FaceSearchClient.retry`'s rule."""
        return self._sync.retry

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
        if self._aio is None:
            return await asyncio.to_thread(
                self._sync.start, request, idempotency_key=idempotency_key
            )
        call = _core.start_call(request, idempotency_key)
        response = await native_call(
            self.retry,
            "StartFaceSearch",
            self._aio.start_face_search,
            call.params,
            client_request_token=call.token,
        )
        return _core.new_job(response, call, request)

    async def status(self, job: FaceSearchJob | str) -> JobStatus:
        """The job's state now: one ``GetFaceSearch`` asking for the smallest page."""
        if self._aio is None:
            return await asyncio.to_thread(self._sync.status, job)
        job_id = _core.job_id_of(job)
        response = await native_call(
            self.retry, "GetFaceSearch", self._aio.get_face_search, _core.status_params(job_id)
        )
        return _core.parse_status(response, job_id)

    async def wait(
        self,
        job: FaceSearchJob | str,
        *,
        poller: AsyncPoller | SqsNotificationPoller | None = None,
        timeout: float | None = None,
    ) -> JobStatus:
        """Wait until the job ends, and return its final status (`FaceSearchClient.wait`).

        Raises `JobFailedError` if it FAILED and `PollTimeoutError` if `timeout` passes
        first. Cancelling the task stops the wait at once; the client stays usable.
        With an `SqsNotificationPoller`, the waits of all tasks on its queue share one
        receiving round at a time (no thread per waiter; none at all on an aiobotocore
        SQS client).
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
        if not _is_async_poller(chosen):
            from ._notifications import wait_for_notification

            sqs_poller = cast("SqsNotificationPoller", chosen)
            sqs_poller.bind_session(self._session, self.boto3_client.meta.region_name)
            status = await wait_for_notification(sqs_poller, job_id, self.status, timeout=timeout)
            return _core.final_status(status)
        waiting = cast("AsyncPoller", chosen)
        return _core.final_status(await waiting.wait(job_id, self.status, timeout=timeout))

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
        if self._aio is None or self._bridge is None:
            return AsyncFaceSearchResults(
                self._sync.results(
                    job,
                    sort_by=sort_by,
                    page_size=page_size,
                    next_token=next_token,
                    min_similarity=min_similarity,
                )
            )
        from rekoface.results import FaceSearchResults

        from ._native import PageSource

        job_id = _core.job_id_of(job)
        base = _core.results_params(
            job_id,
            sort_by=sort_by,
            page_size=page_size,
            next_token=next_token,
            min_similarity=min_similarity,
        )
        method, retry = self._aio.get_face_search, self.retry

        async def fetch_page(token: str | None) -> Any:
            params = _core.page_params(base, token)
            return await native_call(retry, "GetFaceSearch", method, params)

        source = PageSource(fetch_page, self._bridge)
        results = FaceSearchResults(
            job_id, source, next_token=next_token, min_similarity=min_similarity
        )
        return AsyncFaceSearchResults(results, source=source, next_token=next_token)

    async def search(
        self,
        request: FaceSearchRequest,
        *,
        idempotency_key: str | None = None,
        poller: AsyncPoller | SqsNotificationPoller | None = None,
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

    # -- many videos, worker fleets: the sync engines, stepped from the loop ----------

    def search_many(
        self,
        requests: Iterable[FaceSearchRequest],
        *,
        key: str | None = None,
        max_in_flight: int = 20,
        start_rate: float = 5.0,
        status_rate: float = 2.0,
        queue_url: str | None = None,
        sqs_client: SQSClient | AioSQSClient | None = None,
        wait_time_seconds: int = 20,
        timeout: float | None = None,
        sleep: Callable[[float], Awaitable[object]] | None = None,
        clock: Callable[[], float] | None = None,
        progress: Callable[[BatchProgress], object] | None = None,
    ) -> AsyncGenerator[BatchOutcome, None]:
        """`FaceSearchClient.search_many` for ``async for``: the same engine and outcomes.

        Arguments are checked now. The engine runs in one worker thread, a step per
        outcome; its pauses await `sleep` (a coroutine function, `asyncio.sleep` by
        default) on the loop, and `progress` is called from that thread. `requests`
        is read from the thread too, so it must be a plain (sync) iterable.
        """
        loop = _running_loop()
        bridge = LoopSleep(asyncio.sleep if sleep is None else sleep, loop)
        bridges = self._bridges(loop, sqs_client)
        engine = self._sync.search_many(
            requests,
            key=key,
            max_in_flight=max_in_flight,
            start_rate=start_rate,
            status_rate=status_rate,
            queue_url=queue_url,
            sqs_client=_blocking_sqs(bridges, sqs_client),
            wait_time_seconds=wait_time_seconds,
            timeout=timeout,
            sleep=bridge,
            clock=clock,
            progress=progress,
        )
        return iterate_in_threads(engine, bridge, *bridges)

    def completions(
        self,
        queue_url: str,
        *,
        sqs_client: SQSClient | AioSQSClient | None = None,
        wait_time_seconds: int = 20,
        idle_timeout: float | None = None,
        visibility_timeout: int | None = None,
        max_messages: int = 1,
        sleep: Callable[[float], Awaitable[object]] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> AsyncGenerator[Completion, None]:
        """`FaceSearchClient.completions` for ``async for``; ``async with completion:``.

        A completion's message is deleted only when its ``async with`` block exits
        without an exception. Each long poll (up to `wait_time_seconds`) holds a worker
        thread while it waits; `sleep` is a coroutine function.
        """
        loop = _running_loop()
        bridge = LoopSleep(asyncio.sleep if sleep is None else sleep, loop)
        bridges = self._bridges(loop, sqs_client)
        engine = self._sync.completions(
            queue_url,
            sqs_client=_blocking_sqs(bridges, sqs_client),
            wait_time_seconds=wait_time_seconds,
            idle_timeout=idle_timeout,
            visibility_timeout=visibility_timeout,
            max_messages=max_messages,
            sleep=bridge,
            clock=clock,
        )
        return iterate_in_threads(engine, bridge, *bridges)

    def _bridges(
        self, loop: asyncio.AbstractEventLoop, sqs_client: object
    ) -> tuple[LoopBridge, ...]:
        """The bridges a sync engine on `loop` reaches aiobotocore clients through.

        The client's own (Rekognition) first, then one for an aiobotocore `sqs_client`.
        """
        found: list[LoopBridge] = []
        if self._bridge is not None:
            self._bridge.loop = loop
            found.append(self._bridge)
        if is_async_client(sqs_client, "receive_message"):
            sqs = LoopBridge(sqs_client)
            sqs.loop = loop
            found.append(sqs)
        return tuple(found)


def _blocking_sqs(bridges: tuple[LoopBridge, ...], sqs_client: Any) -> Any:
    """The SQS client a sync engine calls: the bridge to an aiobotocore one, else as given."""
    for bridge in bridges:
        if bridge.wrapped is sqs_client:
            return bridge
    return sqs_client


def _running_loop() -> asyncio.AbstractEventLoop:
    """The loop the engine's pauses go to: iterators are made inside the loop using them."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        raise ConfigurationError(
            "AsyncFaceSearchClient.search_many and completions are made inside a running "
            "event loop (in a coroutine)"
        ) from None


def _is_async_poller(poller: object) -> bool:
    return inspect.iscoroutinefunction(getattr(poller, "wait", None))


def _check_async_poller(name: str, poller: object) -> None:
    if poller is None or _is_async_poller(poller):
        return
    from rekoface.pollers import SqsNotificationPoller

    if not isinstance(poller, SqsNotificationPoller):
        raise ConfigurationError(
            f"AsyncFaceSearchClient: {name} must be an AsyncPoller (an object with an "
            f"async wait method, e.g. rekoface.aio.AsyncBackoffPoller) or a "
            f"rekoface.SqsNotificationPoller, not {type(poller).__name__}"
        )
