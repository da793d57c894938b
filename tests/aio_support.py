"""Set-up shared by the asyncio tests (tests/test_aio*.py): each side of a comparison built alike.

Most of them hold the async client to what the sync one does on the same seeded fake:
`seeded_fake` is that fake, `REQUEST` the search both sides run, `sync_poller` and
`no_wait_poller` the waits that never wait for real, and `read_sync_search` /
`read_async_search` what a user reads of one search on either side, each transport's
test comparing the two with `assert_read_as_in_sync`. Nothing here needs aiobotocore
(test_aio_native.py skips without it; the other modules must not).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, NamedTuple

import pytest
from botocore.exceptions import ClientError
from faketime import FakeTime

from rekoface import (
    Appearance,
    BackoffPoller,
    FaceSearchClient,
    FaceSearchJob,
    FaceSearchPage,
    FaceSearchRequest,
    JobFailedError,
    JobNotCompleteError,
    JobState,
    NotificationChannel,
    PersonMatch,
    RetryPolicy,
    S3Video,
    VideoMetadata,
)
from rekoface.aio import AsyncBackoffPoller, AsyncFaceSearchClient, AsyncFaceSearchResults
from rekoface.testing import FakeRekognition

REQUEST = FaceSearchRequest(S3Video("my-bucket", "lobby.mp4"), "employees", 80)
MISSING_COLLECTION = FaceSearchRequest(S3Video("my-bucket", "lobby.mp4"), "nobody", 80)
CHANNEL = NotificationChannel(
    "arn:aws:sns:us-east-1:123456789012:AmazonRekognition-done",
    "arn:aws:iam::123456789012:role/rekognition",
)


def seeded_fake(**kwargs: Any) -> FakeRekognition:
    """A fake with the "employees" collection whose jobs end after two looks, seed 7.

    Each keyword overrides one of those defaults or is passed on to `FakeRekognition`.
    """
    fake = FakeRekognition(**{"in_progress_polls": 2, "seed": 7, **kwargs})
    fake.add_collection("employees")
    return fake


def queued_fake(sqs: Any, prefix: str, **kwargs: Any) -> tuple[str, FakeRekognition]:
    """A new queue (its URL) and a `seeded_fake` that sends its completions to it.

    A queue of its own per test: the process's receiver of a URL remembers across tests.
    """
    url: str = sqs.create_queue(QueueName=f"{prefix}-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    fake = seeded_fake(**{"in_progress_polls": None, **kwargs})
    fake.connect_sqs(sqs, url)
    return url, fake


def status_calls(fake: FakeRekognition) -> int:
    """How many GetFaceSearch calls the fake has answered."""
    return sum(1 for call in fake.calls if call.operation == "GetFaceSearch")


async def no_wait(seconds: float) -> None:
    """An injected poller sleep: lets other tasks run, never waits for real."""
    await asyncio.sleep(0)


def no_wait_poller() -> AsyncBackoffPoller:
    return AsyncBackoffPoller(sleep=no_wait)


def sync_poller() -> BackoffPoller:
    """The sync side's poller: its pauses only move a `FakeTime`."""
    return BackoffPoller(sleep=FakeTime().sleep)


def never_sleeps(seconds: float) -> None:
    """A `RetryPolicy` sleep for code on the loop, which must await its delays instead."""
    raise AssertionError(f"the policy's synchronous sleep was called ({seconds}s)")


def awaitable_sleep(sleep: Callable[[float], None]) -> Callable[[float], Coroutine[Any, Any, None]]:
    """An async sleep that passes each pause to `sleep` (injected time), never waiting."""

    async def sleep_on_the_loop(seconds: float) -> None:
        sleep(seconds)

    return sleep_on_the_loop


def client_error(code: str, operation: str, status: int = 400) -> ClientError:
    """The error botocore raises for a service answer with this code and HTTP status."""
    response: Any = {
        "Error": {"Code": code, "Message": f"{code} happened"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)


class SearchRead(NamedTuple):
    """What a user reads of one search: its job, matches, pages of 7, metadata, appearances."""

    job_id: str
    matches: list[PersonMatch]
    pages: list[FaceSearchPage]
    metadata: VideoMetadata | None
    appearances: list[Appearance]


def read_sync_search(fake: FakeRekognition) -> SearchRead:
    """`REQUEST` searched with key "lobby" by a sync client on `fake`, and read."""
    sync = FaceSearchClient(fake.client())
    results = sync.search(REQUEST, idempotency_key="lobby", poller=sync_poller())
    matches = list(results)
    pages = list(sync.results(results.job_id, page_size=7).pages())
    return SearchRead(
        results.job_id,
        matches,
        pages,
        results.video_metadata,
        results.appearances(max_gap_ms=500, group_by="face"),
    )


async def read_async_search(client: AsyncFaceSearchClient) -> SearchRead:
    """The same search and reads as `read_sync_search`, on an async client."""
    results = await client.search(REQUEST, idempotency_key="lobby")
    matches = [match async for match in results]
    pages = [page async for page in client.results(results.job_id, page_size=7).pages()]
    return SearchRead(
        results.job_id,
        matches,
        pages,
        await results.video_metadata(),
        await results.appearances(max_gap_ms=500, group_by="face"),
    )


def assert_read_as_in_sync(got: SearchRead, expected: SearchRead) -> None:
    """The async side read exactly the sync side's job, matches, pages and groupings."""
    assert got.job_id == expected.job_id
    assert got.matches == expected.matches
    assert got.matches
    assert got.pages == expected.pages
    assert len(got.pages) > 1
    assert got.metadata == expected.metadata
    assert got.appearances == expected.appearances


def sync_retry_delays(throttled: int, draw: float) -> tuple[JobState, list[float]]:
    """A sync client's retry delays for a status call throttled `throttled` times, and its answer.

    The policy draws `draw` for every jitter, so an async client's delays can be held to these.
    """
    time = FakeTime()
    fake = seeded_fake(in_progress_polls=None)
    fake.inject_error("GetFaceSearch", "ThrottlingException", times=throttled)
    sync = FaceSearchClient(
        fake.client(),
        retry=RetryPolicy(sleep=time.sleep, clock=time.clock, random=lambda: draw),
    )
    state = sync.status(sync.start(REQUEST)).state
    return state, time.sleeps


async def start_and_cancel_a_wait(
    client: AsyncFaceSearchClient, pause: Callable[[], Awaitable[object]]
) -> FaceSearchJob:
    """Start `REQUEST` and cancel a wait for it in its first pause (`pause`); the job.

    The cancelled wait must end in `asyncio.CancelledError`.
    """
    polled = asyncio.Event()

    async def sleep(seconds: float) -> None:
        polled.set()
        await pause()

    job = await client.start(REQUEST)
    waiting = asyncio.create_task(client.wait(job, poller=AsyncBackoffPoller(sleep=sleep)))
    await polled.wait()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    return job


async def assert_unfinished_then_failed_jobs_raise(
    client: AsyncFaceSearchClient, fake: FakeRekognition
) -> None:
    """Reading an unfinished job's results, then waiting for it once failed, raise as in sync.

    `fake` must keep its jobs running (``in_progress_polls=None``).
    """
    job = await client.start(REQUEST)
    with pytest.raises(JobNotCompleteError):
        [match async for match in client.results(job)]
    fake.finish(job.job_id, status="FAILED", status_message="bad video")
    with pytest.raises(JobFailedError, match="bad video"):
        await client.wait(job)


class FirstPage(NamedTuple):
    """What `first_page_only_when_asked` leaves for the test to go on with."""

    job: FaceSearchJob
    results: AsyncFaceSearchResults
    pages: AsyncIterator[FaceSearchPage]
    first: FaceSearchPage


async def first_page_only_when_asked(
    client: AsyncFaceSearchClient, fake: FakeRekognition
) -> FirstPage:
    """Start `REQUEST` and take its first page of 2: no call before, one call for it."""
    job = await client.start(REQUEST)
    results = client.results(job, page_size=2)
    pages = results.pages()
    assert status_calls(fake) == 0
    first = await pages.__anext__()
    assert status_calls(fake) == 1
    assert first.next_token is not None
    return FirstPage(job, results, pages, first)
