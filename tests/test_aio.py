"""rekoface.aio: the asyncio client on the thread transport, measured against the sync one."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from typing import Any

import pytest
from aio_support import (
    MISSING_COLLECTION,
    REQUEST,
    SearchRead,
    assert_read_as_in_sync,
    assert_unfinished_then_failed_jobs_raise,
    awaitable_sleep,
    first_page_only_when_asked,
    no_wait_poller,
    read_async_search,
    read_sync_search,
    seeded_fake,
    start_and_cancel_a_wait,
    status_calls,
)
from faketime import FakeTime

from rekoface import (
    BackoffPoller,
    ConfigurationError,
    FaceSearchClient,
    JobState,
    JobStatus,
    PollTimeoutError,
    RequestValidationError,
    ResourceNotFoundError,
    RetryPolicy,
)
from rekoface.aio import AsyncBackoffPoller, AsyncFaceSearchClient, AsyncPoller


def test_import_rekoface_does_not_import_aio() -> None:
    code = "import sys, rekoface; rekoface.FaceSearchClient; print('rekoface.aio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_aiobotocore_is_never_imported_for_the_thread_transport_or_the_fake() -> None:
    code = (
        "import sys, rekoface.testing, rekoface.aio\n"
        "fake = rekoface.testing.FakeRekognition()\n"
        "client = rekoface.aio.AsyncFaceSearchClient(fake.client())\n"
        "print(client.native, 'aiobotocore' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


class TestParity:
    """The same fake seed gives the async client exactly what it gives the sync one."""

    def test_same_job_and_same_matches_in_the_same_order(self) -> None:
        expected = read_sync_search(seeded_fake())
        async_fake = seeded_fake()

        async def run() -> SearchRead:
            client = AsyncFaceSearchClient(async_fake.client(), poller=no_wait_poller())
            return await read_async_search(client)

        assert_read_as_in_sync(asyncio.run(run()), expected)

    def test_same_key_gives_the_same_job(self) -> None:
        fake = seeded_fake()
        sync_job = FaceSearchClient(fake.client()).start(REQUEST, idempotency_key="k")

        async def run() -> str:
            client = AsyncFaceSearchClient(fake.client())
            return (await client.start(REQUEST, idempotency_key="k")).job_id

        assert asyncio.run(run()) == sync_job.job_id
        assert len(fake.jobs) == 1

    def test_same_typed_errors(self) -> None:
        fake = seeded_fake()
        with pytest.raises(ResourceNotFoundError) as sync_error:
            FaceSearchClient(fake.client()).start(MISSING_COLLECTION)

        async def run() -> None:
            await AsyncFaceSearchClient(fake.client()).start(MISSING_COLLECTION)

        with pytest.raises(ResourceNotFoundError) as async_error:
            asyncio.run(run())
        assert str(async_error.value) == str(sync_error.value)

    def test_failed_job_and_unfinished_results_raise_as_in_sync(self) -> None:
        fake = seeded_fake(in_progress_polls=None)
        client = AsyncFaceSearchClient(fake.client(), poller=no_wait_poller())

        asyncio.run(assert_unfinished_then_failed_jobs_raise(client, fake))

    def test_bad_arguments_are_refused_before_any_call(self) -> None:
        fake = seeded_fake()
        with pytest.raises(ConfigurationError, match="region_name must be a str"):
            AsyncFaceSearchClient(region_name=1)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match=r"region_name must be a str.*poller must"):
            AsyncFaceSearchClient(region_name=1, poller=object())  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="AsyncPoller"):
            AsyncFaceSearchClient(fake.client(), poller=BackoffPoller())  # type: ignore[arg-type]
        client = AsyncFaceSearchClient(fake.client())

        async def run() -> None:
            with pytest.raises(RequestValidationError, match="timeout"):
                await client.search(REQUEST, timeout=-1)
            with pytest.raises(RequestValidationError, match="MaxResults"):
                await client.search(REQUEST, page_size=0)

        asyncio.run(run())
        assert fake.calls == []


def test_fifty_concurrent_searches_overlap_and_never_block_the_loop() -> None:
    fake = seeded_fake(in_progress_polls=1, max_concurrent_jobs=50)
    boto3_client = fake.client()
    in_flight = threading.Semaphore(0)
    loop_ran_during_a_call = threading.Event()
    pair = threading.Barrier(2, timeout=30)

    def gate(**_: object) -> None:
        # Two starts must meet here (so calls overlap), and the loop must run meanwhile.
        in_flight.release()
        pair.wait()
        assert loop_ran_during_a_call.wait(timeout=30)

    boto3_client.meta.events.register("before-call.rekognition.StartFaceSearch", gate)
    client = AsyncFaceSearchClient(boto3_client, poller=no_wait_poller())

    async def ticker(stop: asyncio.Event) -> int:
        ticks = 0
        while not stop.is_set():
            if in_flight.acquire(blocking=False):
                loop_ran_during_a_call.set()
            ticks += 1
            await asyncio.sleep(0)
        return ticks

    async def run() -> tuple[list[list[Any]], int]:
        stop = asyncio.Event()
        ticking = asyncio.create_task(ticker(stop))

        async def one(index: int) -> list[Any]:
            results = await client.search(REQUEST, idempotency_key=f"video-{index}")
            return [match async for match in results]

        found = await asyncio.gather(*(one(index) for index in range(50)))
        stop.set()
        return found, await ticking

    found, ticks = asyncio.run(run())
    assert len(fake.jobs) == 50
    assert all(matches for matches in found)
    assert ticks > 0


class TestCancellation:
    def test_cancelling_a_wait_stops_it_and_leaves_the_client_usable(self) -> None:
        fake = seeded_fake(in_progress_polls=None)
        client = AsyncFaceSearchClient(fake.client())

        async def run() -> JobStatus:
            job = await start_and_cancel_a_wait(client, pause=lambda: asyncio.sleep(0))
            calls = status_calls(fake)
            await asyncio.sleep(0)
            assert status_calls(fake) == calls  # no poll after the cancel
            fake.finish(job.job_id, persons=3)
            return await client.wait(job, poller=no_wait_poller())

        assert asyncio.run(run()).state == JobState.SUCCEEDED

    @pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is 3.11+")
    def test_asyncio_timeout_stops_a_wait(self) -> None:
        fake = seeded_fake(in_progress_polls=None)
        client = AsyncFaceSearchClient(fake.client())

        async def run() -> None:
            job = await client.start(REQUEST)
            loop = asyncio.get_running_loop()

            async def expire_now(seconds: float) -> None:
                deadline.reschedule(loop.time())  # the deadline passes during the pause
                await asyncio.Event().wait()

            with pytest.raises(TimeoutError):
                async with asyncio.timeout(None) as deadline:  # type: ignore[attr-defined,unused-ignore]
                    await client.wait(job, poller=AsyncBackoffPoller(sleep=expire_now))
            assert (await client.status(job)).state == JobState.IN_PROGRESS  # still usable

        asyncio.run(run())

    def test_timeout_of_a_wait_raises_poll_timeout(self) -> None:
        fake = seeded_fake(in_progress_polls=None)
        time = FakeTime()
        poller = AsyncBackoffPoller(
            sleep=awaitable_sleep(time.sleep), clock=time.clock, jitter=False
        )
        client = AsyncFaceSearchClient(fake.client(), poller=poller)

        async def run() -> None:
            await client.wait(await client.start(REQUEST), timeout=12)

        with pytest.raises(PollTimeoutError):
            asyncio.run(run())
        assert sum(time.sleeps) == 12


def test_async_backoff_poller_keeps_the_sync_schedule() -> None:
    statuses = [JobStatus("j", JobState.IN_PROGRESS)] * 30 + [JobStatus("j", JobState.SUCCEEDED)]

    sync_time = FakeTime()
    sync_draws = iter([0.1, 0.9, 0.5, 0.3] * 50)
    sync_answers = iter(statuses)
    sync = BackoffPoller(
        sleep=sync_time.sleep, clock=sync_time.clock, random=lambda: next(sync_draws)
    )
    assert sync.wait("j", lambda _: next(sync_answers)).state == JobState.SUCCEEDED

    async_time = FakeTime()
    async_draws = iter([0.1, 0.9, 0.5, 0.3] * 50)
    async_answers = iter(statuses)

    async def fetch(_: str) -> JobStatus:
        return next(async_answers)

    poller: AsyncPoller = AsyncBackoffPoller(
        sleep=awaitable_sleep(async_time.sleep),
        clock=async_time.clock,
        random=lambda: next(async_draws),
    )
    assert asyncio.run(poller.wait("j", fetch)).state == JobState.SUCCEEDED
    assert async_time.sleeps == sync_time.sleeps
    assert len(sync_time.sleeps) == 30


def test_async_backoff_poller_refuses_what_backoff_poller_refuses() -> None:
    with pytest.raises(RequestValidationError) as refused:
        AsyncBackoffPoller(initial_delay=10, max_delay=1, lag_fraction=-1)
    with pytest.raises(RequestValidationError) as sync_refused:
        BackoffPoller(initial_delay=10, max_delay=1, lag_fraction=-1)
    assert refused.value.paths == tuple(f"Async{path}" for path in sync_refused.value.paths)
    assert refused.value.paths == (
        "AsyncBackoffPoller.max_delay",
        "AsyncBackoffPoller.lag_fraction",
    )


class TestLaziness:
    def test_nothing_is_fetched_before_iteration_and_one_page_per_step(self) -> None:
        fake = seeded_fake(in_progress_polls=0)
        client = AsyncFaceSearchClient(fake.client())

        async def run() -> None:
            results = (await first_page_only_when_asked(client, fake)).results
            matches = results.__aiter__()
            await matches.__anext__()
            await matches.__anext__()
            assert status_calls(fake) == 2  # the first page again, not the second

        asyncio.run(run())


class TestAsyncWith:
    def test_keeps_a_passed_client_open_and_never_suppresses(self) -> None:
        fake = seeded_fake(in_progress_polls=0)
        boto3_client = fake.client()
        closed: list[bool] = []
        boto3_client.close = lambda: closed.append(True)  # type: ignore[method-assign]
        client = AsyncFaceSearchClient(boto3_client)  # built outside any loop

        async def run() -> None:
            async with client as entered:
                assert entered is client
                await client.start(REQUEST)
                raise KeyError("the block's own")

        with pytest.raises(KeyError, match="the block's own"):
            asyncio.run(run())
        assert closed == []

        async def again() -> str:
            async with client:
                return (await client.start(REQUEST)).job_id

        assert asyncio.run(again())  # usable from a second loop too

    def test_closes_the_client_it_built(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        client = AsyncFaceSearchClient(region_name="us-east-1", retry=RetryPolicy.never())
        closed: list[bool] = []
        client.boto3_client.close = lambda: closed.append(True)  # type: ignore[method-assign]

        async def run() -> None:
            async with client:
                pass
            assert len(asyncio.all_tasks()) == 1  # only this one: nothing left running

        asyncio.run(run())
        assert closed == [True]
