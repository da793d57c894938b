"""rekoface.aio on an aiobotocore client: calls awaited on the loop, measured against sync.

Needs aiobotocore (extra ``rekoface[aiobotocore]``), which the main dev environment
does not install (it pins botocore): the module skips without it, except where
REKOFACE_REQUIRE_AIOBOTOCORE=1 (the ``aiobotocore`` nox session), where a missing
aiobotocore fails. The clients are real aiobotocore clients answered by the fake.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import os
import threading
import traceback
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest
from aio_support import (
    CHANNEL,
    MISSING_COLLECTION,
    REQUEST,
    assert_read_as_in_sync,
    assert_unfinished_then_failed_jobs_raise,
    awaitable_sleep,
    first_page_only_when_asked,
    never_sleeps,
    no_wait_poller,
    queued_fake,
    read_async_search,
    read_sync_search,
    seeded_fake,
    start_and_cancel_a_wait,
    status_calls,
    sync_retry_delays,
)
from aio_time import VirtualTimeLoop, run

if os.environ.get("REKOFACE_REQUIRE_AIOBOTOCORE") == "1":
    importlib.import_module("aiobotocore")
else:
    pytest.importorskip("aiobotocore")

import rekoface as rekoface_package
from rekoface import (
    BatchOutcome,
    FaceSearchClient,
    FaceSearchRequest,
    JobState,
    RequestValidationError,
    ResourceNotFoundError,
    RetryPolicy,
    S3Video,
    SqsNotificationPoller,
    ThrottlingError,
    TransportError,
)
from rekoface.aio import AsyncFaceSearchClient
from rekoface.testing import FakeRekognition, aiobotocore_client

_T = TypeVar("_T")

pytest_plugins = ("moto_server",)  # the `moto_server` fixture: aiobotocore needs a real endpoint


@asynccontextmanager
async def native(fake: FakeRekognition, **kwargs: Any) -> AsyncIterator[AsyncFaceSearchClient]:
    """An AsyncFaceSearchClient on a new aiobotocore client the fake answers."""
    async with aiobotocore_client(fake) as aio:
        client = AsyncFaceSearchClient(aio, **{"poller": no_wait_poller(), **kwargs})
        assert client.native
        yield client


def with_native(
    fake: FakeRekognition,
    body: Callable[[AsyncFaceSearchClient], Coroutine[Any, Any, _T]],
    **kwargs: Any,
) -> _T:
    async def main() -> _T:
        async with native(fake, **kwargs) as client:
            return await body(client)

    return run(main())


def test_an_aiobotocore_client_is_native_and_a_boto3_one_is_not() -> None:
    fake = seeded_fake()
    assert not AsyncFaceSearchClient(fake.client()).native

    async def main() -> None:
        async with aiobotocore_client(fake) as aio:
            client = AsyncFaceSearchClient(aio)
            assert client.native
            assert client.boto3_client is aio
            assert client.retry == RetryPolicy()  # aiobotocore's own retries are off

    run(main())


class TestParity:
    """The same fake seed gives the native client exactly what it gives the sync one."""

    def test_same_job_and_same_matches_in_the_same_order(self) -> None:
        expected = read_sync_search(seeded_fake())
        assert_read_as_in_sync(with_native(seeded_fake(), read_async_search), expected)

    def test_same_key_gives_the_same_job_as_the_sync_client(self) -> None:
        fake = seeded_fake()
        sync_job = FaceSearchClient(fake.client()).start(REQUEST, idempotency_key="k")

        async def body(client: AsyncFaceSearchClient) -> Any:
            return await client.start(REQUEST, idempotency_key="k")

        job = with_native(fake, body)
        assert job.job_id == sync_job.job_id
        assert job.client_request_token == sync_job.client_request_token
        assert len(fake.jobs) == 1

    def test_same_typed_errors(self) -> None:
        fake = seeded_fake(in_progress_polls=None)
        sync = FaceSearchClient(fake.client())
        with pytest.raises(ResourceNotFoundError) as sync_error:
            sync.start(MISSING_COLLECTION)

        async def body(client: AsyncFaceSearchClient) -> None:
            with pytest.raises(ResourceNotFoundError) as async_error:
                await client.start(MISSING_COLLECTION)
            assert str(async_error.value) == str(sync_error.value)
            await assert_unfinished_then_failed_jobs_raise(client, fake)
            calls = len(fake.calls)
            with pytest.raises(RequestValidationError, match="MaxResults"):
                await client.search(REQUEST, page_size=0)
            assert len(fake.calls) == calls  # refused before any call

        with_native(fake, body)

    def test_a_lost_answer_is_the_same_transport_error_with_the_token(self) -> None:
        fake = seeded_fake()
        fake.drop_response("StartFaceSearch", times=2)
        with pytest.raises(TransportError) as sync_error:
            FaceSearchClient(fake.client(), retry=RetryPolicy.never()).start(
                REQUEST, idempotency_key="lost"
            )

        async def body(client: AsyncFaceSearchClient) -> None:
            with pytest.raises(TransportError) as async_error:
                await client.start(REQUEST, idempotency_key="lost")
            assert async_error.value.client_request_token == sync_error.value.client_request_token
            assert async_error.value.client_request_token is not None

        with_native(fake, body, retry=RetryPolicy.never())
        assert len(fake.jobs) == 1  # both lost answers were of the one job


class TestRetries:
    def test_delays_are_the_sync_policys_awaited_on_the_loop_thread(self) -> None:
        sync_state, sync_delays = sync_retry_delays(throttled=3, draw=0.5)
        assert sync_state == JobState.IN_PROGRESS
        assert len(sync_delays) == 3

        fake = seeded_fake(in_progress_polls=None)
        fake.inject_error("GetFaceSearch", "ThrottlingException", times=3)
        loop = VirtualTimeLoop()
        threads: list[int] = []

        async def main() -> JobState:
            async with aiobotocore_client(fake) as aio:
                aio.meta.events.register(
                    "before-call.rekognition", lambda **_: threads.append(threading.get_ident())
                )
                retry = RetryPolicy(sleep=never_sleeps, clock=loop.time, random=lambda: 0.5)
                client = AsyncFaceSearchClient(aio, retry=retry)
                job = await client.start(REQUEST, idempotency_key="k")
                loop.waits.clear()
                return (await client.status(job)).state

        assert run(main(), loop) == JobState.IN_PROGRESS
        assert loop.waits == pytest.approx(sync_delays)  # the same delays, awaited
        assert len(threads) == 5  # the start, then three throttled status calls and one more
        assert set(threads) == {threading.get_ident()}  # all on the loop's thread

    def test_the_last_error_is_raised_typed_when_the_budget_ends(self) -> None:
        fake = seeded_fake()
        fake.inject_error("StartFaceSearch", "ThrottlingException", times=3)
        retry = RetryPolicy(max_attempts=3, sleep=never_sleeps, random=lambda: 0.0)

        async def body(client: AsyncFaceSearchClient) -> None:
            with pytest.raises(ThrottlingError):
                await client.start(REQUEST)

        with_native(fake, body, retry=retry)
        assert len(fake.jobs) == 0
        assert sum(1 for c in fake.calls if c.operation == "StartFaceSearch") == 3


class TestCancellation:
    def test_cancelling_during_a_retry_delay_stops_it_and_leaves_the_client_usable(self) -> None:
        fake = seeded_fake(in_progress_polls=None)
        loop = VirtualTimeLoop()

        async def main() -> JobState:
            retry = RetryPolicy(sleep=never_sleeps, clock=loop.time, random=lambda: 1.0)
            async with native(fake, retry=retry) as client:
                job = await client.start(REQUEST)
                fake.inject_error("GetFaceSearch", "ThrottlingException", times=1)
                asking = asyncio.create_task(client.status(job))
                while status_calls(fake) == 0:
                    await asyncio.sleep(0)
                asking.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await asking
                assert status_calls(fake) == 1  # no retry after the cancel
                return (await client.status(job)).state

        assert run(main(), loop) == JobState.IN_PROGRESS
        assert loop.waits == []  # the delay was never waited out

    def test_cancelling_a_wait_stops_polling(self) -> None:
        fake = seeded_fake(in_progress_polls=None)

        async def body(client: AsyncFaceSearchClient) -> JobState:
            job = await start_and_cancel_a_wait(client, pause=lambda: asyncio.Event().wait())
            calls = status_calls(fake)
            fake.finish(job.job_id)
            status = await client.wait(job)
            assert status_calls(fake) == calls + 1
            return status.state

        assert with_native(fake, body) == JobState.SUCCEEDED


class TestLaziness:
    def test_nothing_is_fetched_before_iteration_and_one_page_per_step(self) -> None:
        fake = seeded_fake(in_progress_polls=0)

        async def body(client: AsyncFaceSearchClient) -> None:
            job, results, pages, first = await first_page_only_when_asked(client, fake)
            await pages.__anext__()
            assert status_calls(fake) == 2  # no page ahead
            await pages.aclose()  # type: ignore[attr-defined]
            assert await results.video_metadata() == first.video_metadata
            assert status_calls(fake) == 2  # known from the first page fetched
            matches = results.__aiter__()
            await matches.__anext__()
            await matches.__anext__()
            assert status_calls(fake) == 3  # the first page again, not the second
            fresh = client.results(job)
            assert await fresh.video_metadata() == first.video_metadata
            assert await fresh.video_metadata() == first.video_metadata
            assert status_calls(fake) == 4  # fetched once, when first asked

        with_native(fake, body)


def test_search_many_on_an_aiobotocore_client_yields_what_the_sync_batch_yields() -> None:
    def world() -> FakeRekognition:
        return seeded_fake(in_progress_polls=None, job_duration=120.0, seed=3)

    items = [FaceSearchRequest(S3Video("videos", f"v{i:03d}.mp4"), "employees") for i in range(6)]
    sync_fake = world()
    sync = FaceSearchClient(
        sync_fake.client(), retry=RetryPolicy(sleep=sync_fake.advance, clock=sync_fake.now)
    )
    expected = list(
        sync.search_many(
            items, key="nightly", max_in_flight=2, sleep=sync_fake.advance, clock=sync_fake.now
        )
    )
    fake = world()

    async def body(client: AsyncFaceSearchClient) -> list[BatchOutcome]:
        batch = client.search_many(
            items,
            key="nightly",
            max_in_flight=2,
            sleep=awaitable_sleep(fake.advance),
            clock=fake.now,
        )
        return [outcome async for outcome in batch]

    got = with_native(fake, body, retry=RetryPolicy(sleep=fake.advance, clock=fake.now))
    assert [(o.index, o.job and o.job.job_id, o.ok) for o in got] == [
        (o.index, o.job and o.job.job_id, o.ok) for o in expected
    ]
    assert all(o.ok for o in got)


class _ThreadWatch(concurrent.futures.ThreadPoolExecutor):
    """A default executor that records each job rekoface sends to a worker thread.

    aiobotocore itself builds its SSL contexts in one when it opens a connection: that
    is its own, not rekoface's.
    """

    rekoface = str(Path(rekoface_package.__file__).parent)

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.ours: list[str] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        asyncio_dir = str(Path(asyncio.__file__).parent)
        callers = [
            frame
            for frame in traceback.extract_stack()[:-1]
            if not frame.filename.startswith(asyncio_dir)
        ]
        if callers and callers[-1].filename.startswith(self.rekoface):  # the one who sent it
            self.ours.append(f"{callers[-1].filename}:{callers[-1].lineno}")
        return super().submit(fn, *args, **kwargs)


def test_waiting_on_an_aiobotocore_sqs_queue_uses_no_thread_at_all(moto_server: str) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_server)
    url, fake = queued_fake(sqs, "rekoface-native")
    requests = [
        FaceSearchRequest(S3Video("videos", f"v{i}.mp4"), "employees", notification_channel=CHANNEL)
        for i in range(3)
    ]
    session = importlib.import_module("aiobotocore.session").AioSession()
    asked: list[str] = []

    def note_job(params: Any, **_: Any) -> None:
        asked.append(params["JobId"])

    def end_after_the_first_look(**_: Any) -> None:
        # The job ends just after a waiter's first look (IN_PROGRESS), so its notification
        # is on the queue when the waiters receive.
        job_id = asked.pop()
        if fake.jobs[job_id].state == "IN_PROGRESS":
            fake.finish(job_id)

    async def main() -> list[JobState]:
        asyncio.get_running_loop().set_default_executor(threads)
        async with (
            aiobotocore_client(fake) as rekognition,
            session.create_client(
                "sqs", region_name="us-east-1", endpoint_url=moto_server
            ) as aio_sqs,
        ):
            events = rekognition.meta.events
            events.register("provide-client-params.rekognition.GetFaceSearch", note_job)
            events.register("after-call.rekognition.GetFaceSearch", end_after_the_first_look)
            poller = SqsNotificationPoller(url, sqs_client=aio_sqs, wait_time_seconds=0)
            client = AsyncFaceSearchClient(rekognition, poller=poller)
            jobs = [await client.start(r) for r in requests]
            statuses = await asyncio.gather(*(client.wait(job) for job in jobs))
            return [status.state for status in statuses]

    threads = _ThreadWatch()
    assert asyncio.run(main()) == [JobState.SUCCEEDED] * 3
    assert threads.ours == []  # rekoface sent nothing to a worker thread
    assert not sqs.receive_message(QueueUrl=url).get("Messages")  # each notification deleted


def test_completions_on_an_aiobotocore_sqs_client_delete_only_what_was_handled(
    moto_server: str,
) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_server)
    url, fake = queued_fake(sqs, "rekoface-fleet")
    session = importlib.import_module("aiobotocore.session").AioSession()

    async def main() -> list[str]:
        async with (
            aiobotocore_client(fake) as rekognition,
            session.create_client(
                "sqs", region_name="us-east-1", endpoint_url=moto_server
            ) as aio_sqs,
        ):
            client = AsyncFaceSearchClient(rekognition)
            for name in ("a.mp4", "b.mp4"):
                request = FaceSearchRequest(
                    S3Video("videos", name), "employees", notification_channel=CHANNEL
                )
                fake.finish((await client.start(request)).job_id)
            handled: list[str] = []
            completions = client.completions(
                url, sqs_client=aio_sqs, wait_time_seconds=0, idle_timeout=0
            )
            async for completion in completions:
                try:
                    async with completion:
                        video = completion.notification.video
                        if video is not None and video.name == "b.mp4":
                            raise KeyError("this one fails")
                        handled.append(completion.job_id)
                except KeyError:
                    pass
            return handled

    handled = asyncio.run(main())
    assert len(handled) == 1
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]  # type: ignore[arg-type]
    assert sum(int(n) for n in counts.values()) == 1  # the failed one stays for redelivery
