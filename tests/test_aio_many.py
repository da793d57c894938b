"""rekoface.aio's search_many and completions: the sync engines' semantics, for async for."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from aio_support import awaitable_sleep, seeded_fake
from faketime import FakeTime
from moto import mock_aws
from moto_world import World
from moto_world import completion as notification

from rekoface import (
    BatchOutcome,
    FaceSearchClient,
    FaceSearchRequest,
    RequestValidationError,
    RetryPolicy,
    S3Video,
)
from rekoface.aio import AsyncFaceSearchClient
from rekoface.testing import FakeRekognition


def request(i: int) -> FaceSearchRequest:
    return FaceSearchRequest(S3Video("videos", f"v{i:05d}.mp4"), "employees")


def minutes_from_name(params: Any) -> float:
    return (int(params["Video"]["S3Object"]["Name"][1:6]) % 7 + 1) * 60.0


class Batch:
    """A fake on its own clock, whose time moves only when the batch sleeps."""

    def __init__(self) -> None:
        self.fake = seeded_fake(in_progress_polls=None, job_duration=minutes_from_name, seed=3)
        self.retry = RetryPolicy(sleep=self.fake.advance, clock=self.fake.now, random=lambda: 1.0)
        self.sleep = awaitable_sleep(self.fake.advance)

    def outcomes_shape(self, outcomes: list[BatchOutcome]) -> list[tuple[int, str | None, bool]]:
        return [(o.index, o.job.job_id if o.job else None, o.ok) for o in outcomes]


def test_search_many_yields_what_the_sync_batch_yields() -> None:
    sync_world, async_world = Batch(), Batch()
    sync = FaceSearchClient(sync_world.fake.client(), retry=sync_world.retry)
    items: list[Any] = [request(i) for i in range(12)]
    items[4] = "not a request"
    expected = list(
        sync.search_many(
            items,
            key="nightly",
            max_in_flight=5,
            sleep=sync_world.fake.advance,
            clock=sync_world.fake.now,
        )
    )

    async def run() -> list[BatchOutcome]:
        client = AsyncFaceSearchClient(async_world.fake.client(), retry=async_world.retry)
        batch = client.search_many(
            items,
            key="nightly",
            max_in_flight=5,
            sleep=async_world.sleep,
            clock=async_world.fake.now,
        )
        return [outcome async for outcome in batch]

    got = asyncio.run(run())
    assert sync_world.outcomes_shape(got) == sync_world.outcomes_shape(expected)
    assert [type(o.error) for o in got] == [type(o.error) for o in expected]
    assert [str(o.error) for o in got] == [str(o.error) for o in expected]
    assert [o.index for o in got if not o.ok] == [4]
    assert sorted(o.index for o in got) == list(range(12))


def test_search_many_checks_its_arguments_at_the_call() -> None:
    client = AsyncFaceSearchClient(Batch().fake.client())

    async def run() -> None:
        with pytest.raises(RequestValidationError, match="max_in_flight"):
            client.search_many([request(1)], max_in_flight=0)

    asyncio.run(run())


def test_stopping_a_batch_early_starts_nothing_more_and_frees_the_client() -> None:
    world = Batch()
    client = AsyncFaceSearchClient(world.fake.client(), retry=world.retry)

    async def run() -> None:
        batch = client.search_many(
            (request(i) for i in range(30)),
            max_in_flight=3,
            sleep=world.sleep,
            clock=world.fake.now,
        )
        async for _ in batch:
            break
        await batch.aclose()
        started = len(world.fake.jobs)
        assert started <= 4
        await asyncio.sleep(0)
        assert len(world.fake.jobs) == started
        assert (await client.start(request(99))).job_id

    asyncio.run(run())


def test_cancelling_a_batch_stops_its_pauses_at_once() -> None:
    world = Batch()
    client = AsyncFaceSearchClient(world.fake.client(), retry=world.retry)
    paused = asyncio.Event()

    async def forever(seconds: float) -> None:
        paused.set()
        await asyncio.Event().wait()  # a pause that only cancellation ends

    async def run() -> None:
        async def consume() -> None:
            async for _ in client.search_many([request(1)], sleep=forever, clock=world.fake.now):
                pass

        task = asyncio.create_task(consume())
        await paused.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())  # returns: the worker thread was freed, so the loop could close


@pytest.fixture
def queue() -> Iterator[World]:
    with mock_aws():
        yield World()


def test_async_with_deletes_a_completion_only_when_its_block_succeeds(queue: World) -> None:
    clock = FakeTime()
    queue.publish(notification("job-1"))
    queue.publish(notification("job-2"))

    async def run() -> list[tuple[str, bool]]:
        client = AsyncFaceSearchClient(FakeRekognition().client())
        seen: list[tuple[str, bool]] = []
        async for done in client.completions(
            queue.queue_url,
            sqs_client=queue.client(),
            wait_time_seconds=0,
            idle_timeout=3,
            sleep=awaitable_sleep(clock.sleep),
            clock=clock,
        ):
            try:
                async with done:
                    if done.job_id == "job-2":
                        raise RuntimeError("handler failed")
            except RuntimeError:
                pass
            seen.append((done.job_id, done.acked))
        return seen

    assert sorted(asyncio.run(run())) == [("job-1", True), ("job-2", False)]
    assert queue.counts() == (0, 1)  # job-2 in flight: delivered again after its visibility
