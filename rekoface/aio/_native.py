"""The native transport: an aiobotocore client's calls awaited on the loop, no thread.

An aiobotocore client is told apart without importing aiobotocore (a client of its
can exist only once aiobotocore is imported). Its calls run under the same
`RetryPolicy` decisions as the sync client's (`rekoface.retry.call_async`), each
delay awaited, and its failures go through the one translation (aiobotocore raises
botocore's exception classes). Code that must stay synchronous (the batch engine,
the completions loop, the appearances fold, all in one worker thread) reaches the
client through `LoopBridge`, which runs each call on the loop and waits for it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from rekoface._translate import translate
from rekoface.retry import call_async

if TYPE_CHECKING:
    from rekoface.retry import RetryPolicy

__all__ = [
    "AioRekognitionClient",
    "AioSQSClient",
    "LoopBridge",
    "NeedsPage",
    "PageSource",
    "is_aiobotocore_client",
    "is_async_client",
    "native_call",
]

_T = TypeVar("_T")


class AioRekognitionClient(Protocol):
    """What rekoface needs of an aiobotocore "rekognition" client (typed or not)."""

    @property
    def start_face_search(self) -> Callable[..., Awaitable[Any]]: ...

    @property
    def get_face_search(self) -> Callable[..., Awaitable[Any]]: ...


class AioSQSClient(Protocol):
    """What rekoface needs of an aiobotocore "sqs" client (typed or not)."""

    @property
    def receive_message(self) -> Callable[..., Awaitable[Any]]: ...

    @property
    def delete_message(self) -> Callable[..., Awaitable[Any]]: ...


def is_aiobotocore_client(client: object) -> bool:
    """Whether `client` is an aiobotocore client (never imports aiobotocore)."""
    module = sys.modules.get("aiobotocore.client")
    base: object = getattr(module, "AioBaseClient", None)
    return isinstance(base, type) and isinstance(client, base)


def is_async_client(client: object, method: str) -> bool:
    """Whether `client`'s calls are awaited: an aiobotocore client, or any whose `method`
    is a coroutine function (an async client of the same shape, such as a wrapper)."""
    if client is None:
        return False
    return is_aiobotocore_client(client) or inspect.iscoroutinefunction(
        getattr(client, method, None)
    )


async def native_call(
    policy: RetryPolicy,
    operation: str,
    method: Callable[..., Awaitable[_T]],
    params: Mapping[str, Any],
    *,
    client_request_token: str | None = None,
) -> _T:
    """`FaceSearchClient._call` awaited: `method(**params)` under `policy`, errors typed."""
    try:
        return await call_async(
            policy, lambda: method(**params), operation_name=operation, sleep=asyncio.sleep
        )
    except Exception as err:
        typed = translate(err, operation, client_request_token)
        if typed is None:
            raise
        raise typed from err


class LoopBridge:
    """A blocking view of an aiobotocore client, for sync code running in a worker thread.

    Each method whose call makes a coroutine (every API method) becomes a plain call
    that runs that coroutine on `loop` (where the aiobotocore client lives) and waits
    for its answer; other attributes (``meta``) pass through. Called on the loop's own
    thread it refuses (it would deadlock). `cancel` ends the calls pending, so a
    cancelled iteration frees its thread.
    """

    def __init__(self, client: object) -> None:
        self._client = client
        self.loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[concurrent.futures.Future[Any]] = set()

    @property
    def wrapped(self) -> object:
        """The aiobotocore client itself."""
        return self._client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name.startswith("_") or not callable(attr):
            return attr

        def blocking(*args: Any, **kwargs: Any) -> Any:
            answer = attr(*args, **kwargs)  # an API method returns a coroutine, unstarted
            return self.run(answer) if inspect.iscoroutine(answer) else answer

        return blocking

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """Run `coroutine` on the bridge's loop from another thread, and return its answer."""
        loop = self.loop
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if loop is None or on_loop:
            coroutine.close()
            raise RuntimeError(
                "an aiobotocore client is awaited on its event loop: this blocking call "
                "was made outside a worker thread of rekoface.aio"
            )
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        self._pending.add(future)
        try:
            return future.result()
        finally:
            self._pending.discard(future)

    def cancel(self) -> None:
        for future in list(self._pending):
            future.cancel()


class NeedsPage(Exception):  # noqa: N818 - a request, not a failure
    """Raised by `PageSource` on the loop: page `token` must be fetched (awaited) first."""

    def __init__(self, token: str | None) -> None:
        super().__init__(token)
        self.token = token


class PageSource:
    """The `fetch_page` of a `FaceSearchResults` whose pages are awaited.

    The sync results object does all the paging, checking and parsing; this hands it
    the page it asks for: the one `prime` awaited just before (on the loop), or, from
    a worker thread, one fetched on the loop through `bridge`. On the loop, a page not
    primed raises `NeedsPage`, so the caller can await it and ask again.
    """

    __slots__ = ("_bridge", "_fetch", "_ready")

    def __init__(
        self, fetch: Callable[[str | None], Awaitable[Mapping[str, Any]]], bridge: LoopBridge
    ) -> None:
        self._fetch = fetch
        self._bridge = bridge
        self._ready: tuple[str | None, Mapping[str, Any]] | None = None

    async def prime(self, token: str | None) -> None:
        """Fetch page `token` now, for the next `__call__` to hand over."""
        self._ready = (token, await self._fetch(token))

    def __call__(self, token: str | None) -> Mapping[str, Any]:
        ready = self._ready
        if ready is not None and ready[0] == token:
            self._ready = None
            return ready[1]
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._bridge.run(_awaited(self._fetch(token)))
        raise NeedsPage(token)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._bridge.loop = loop


async def _awaited(awaitable: Awaitable[_T]) -> _T:
    return await awaitable
