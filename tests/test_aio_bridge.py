"""The native transport's parts that need no aiobotocore: awaited calls, the bridge, pages.

`native_call` is `FaceSearchClient._call` for a coroutine; `LoopBridge` lets the sync
engines (in a worker thread) call a client that lives on the loop; `PageSource` hands
awaited pages to the sync results object. The aiobotocore client itself is exercised
in test_aio_native.py.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from aio_support import client_error, never_sleeps
from aio_time import VirtualTimeLoop, run
from botocore.exceptions import ReadTimeoutError

from rekoface import RekoFaceError, ResourceNotFoundError, RetryPolicy, TransportError
from rekoface.aio._native import LoopBridge, NeedsPage, PageSource, native_call


class AsyncService:
    """An async client method: fails with `errors` in turn, then answers; records threads."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.threads: list[int] = []
        self.meta = "passed through"

    async def start_face_search(self, **params: Any) -> dict[str, Any]:
        self.threads.append(threading.get_ident())
        await asyncio.sleep(0)
        if self.errors:
            raise self.errors.pop(0)
        return {"JobId": "job-1", **params}


class TestNativeCall:
    def test_transient_errors_are_retried_with_awaited_delays(self) -> None:
        throttled = [client_error("ThrottlingException", "StartFaceSearch") for _ in range(2)]
        service = AsyncService(*throttled)
        loop = VirtualTimeLoop()
        policy = RetryPolicy(clock=loop.time, random=lambda: 1.0, sleep=never_sleeps)

        async def main() -> Any:
            return await native_call(policy, "StartFaceSearch", service.start_face_search, {})

        assert run(main(), loop) == {"JobId": "job-1"}
        assert loop.waits == [0.5, 1.0]  # the policy's full-jitter delays, awaited
        assert set(service.threads) == {threading.get_ident()}

    def test_errors_are_translated_as_the_sync_client_does_with_the_token(self) -> None:
        cases: list[tuple[Exception, type[RekoFaceError]]] = [
            (client_error("ResourceNotFoundException", "StartFaceSearch"), ResourceNotFoundError),
            (ReadTimeoutError(endpoint_url="http://127.0.0.1:1/"), TransportError),
        ]
        for error, typed in cases:
            service = AsyncService(error)

            async def main(service: AsyncService = service) -> Any:
                return await native_call(
                    RetryPolicy.never(),
                    "StartFaceSearch",
                    service.start_face_search,
                    {},
                    client_request_token="token-1",
                )

            with pytest.raises(typed) as raised:
                asyncio.run(main())
            assert raised.value.client_request_token == "token-1"
            assert raised.value.__cause__ is error

    def test_other_exceptions_pass_through_unchanged(self) -> None:
        service = AsyncService(KeyError("not botocore's"))

        async def main() -> Any:
            return await native_call(
                RetryPolicy.never(), "StartFaceSearch", service.start_face_search, {}
            )

        with pytest.raises(KeyError, match="not botocore's"):
            asyncio.run(main())


class TestLoopBridge:
    def test_a_worker_thread_calls_the_client_on_the_loop(self) -> None:
        service = AsyncService()
        bridge = LoopBridge(service)

        async def main() -> tuple[Any, int]:
            bridge.loop = asyncio.get_running_loop()
            answer = await asyncio.to_thread(lambda: bridge.start_face_search(Video="v"))
            return answer, threading.get_ident()

        answer, loop_thread = asyncio.run(main())
        assert answer == {"JobId": "job-1", "Video": "v"}
        assert service.threads == [loop_thread]
        assert bridge.meta == "passed through"
        assert bridge.wrapped is service

    def test_a_call_on_the_loop_thread_is_refused_instead_of_deadlocking(self) -> None:
        bridge = LoopBridge(AsyncService())

        async def main() -> None:
            bridge.loop = asyncio.get_running_loop()
            with pytest.raises(RuntimeError, match="worker thread"):
                bridge.start_face_search()

        asyncio.run(main())  # and no "coroutine never awaited" warning (warnings are errors)
        with pytest.raises(RuntimeError, match="worker thread"):
            LoopBridge(AsyncService()).start_face_search()  # bound to no loop yet

    def test_cancel_ends_a_call_a_thread_waits_for(self) -> None:
        class Hanging:
            async def receive_message(self, **_: Any) -> None:
                await asyncio.Event().wait()

        bridge = LoopBridge(Hanging())

        async def main() -> None:
            bridge.loop = asyncio.get_running_loop()
            waiting = asyncio.ensure_future(asyncio.to_thread(bridge.receive_message))
            while not bridge._pending:  # the thread is waiting for the loop
                await asyncio.sleep(0)
            bridge.cancel()
            with pytest.raises(asyncio.CancelledError):  # the thread's wait ended
                await waiting

        asyncio.run(main())


class TestPageSource:
    def test_a_primed_page_is_handed_over_once_and_others_must_be_awaited(self) -> None:
        fetched: list[str | None] = []

        async def fetch(token: str | None) -> dict[str, Any]:
            fetched.append(token)
            return {"page": token}

        source = PageSource(fetch, LoopBridge(object()))

        async def main() -> None:
            await source.prime(None)
            assert source(None) == {"page": None}
            with pytest.raises(NeedsPage) as needed:
                source(None)  # handed over already: fetch it again, awaited
            assert needed.value.token is None
            await source.prime("t2")
            with pytest.raises(NeedsPage):
                source("t3")  # not the page primed
            source.bind(asyncio.get_running_loop())
            assert await asyncio.to_thread(source, "t4") == {"page": "t4"}  # from a thread

        asyncio.run(main())
        assert fetched == [None, "t2", "t4"]
