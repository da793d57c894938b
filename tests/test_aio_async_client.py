"""rekoface.aio on an async client of boto3's shape (no aiobotocore needed).

Any client whose API methods are coroutine functions is awaited natively, as an
aiobotocore one is (test_aio_native.py has the real aiobotocore, in its own nox
session). Here a thin async wrapper around the fake's boto3 client (and a moto SQS
client) stands for such a client, so the main environment runs the native path too.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from aio_support import (
    CHANNEL,
    MISSING_COLLECTION,
    REQUEST,
    awaitable_sleep,
    client_error,
    never_sleeps,
    no_wait_poller,
    queued_fake,
    seeded_fake,
    sync_poller,
    sync_retry_delays,
)
from aio_time import VirtualTimeLoop, run
from moto import mock_aws

from rekoface import (
    FaceSearchClient,
    FaceSearchRequest,
    JobState,
    ResourceNotFoundError,
    RetryPolicy,
    S3Video,
    SqsNotificationPoller,
)
from rekoface.aio import AsyncFaceSearchClient


class AsyncRekognition:
    """An async client of boto3's shape: each call awaited, on whichever thread awaits it."""

    def __init__(self, client: Any, after_look: Callable[[str], None] | None = None) -> None:
        self._client = client
        self.meta = client.meta
        self.threads: list[int] = []
        self._after_look = after_look

    async def start_face_search(self, **params: Any) -> Any:
        self.threads.append(threading.get_ident())
        return self._client.start_face_search(**params)

    async def get_face_search(self, **params: Any) -> Any:
        self.threads.append(threading.get_ident())
        answer = self._client.get_face_search(**params)
        if self._after_look is not None and params.get("MaxResults") == 1:
            self._after_look(params["JobId"])
        return answer


class AsyncSqs:
    """An async SQS client of boto3's shape over a (moto) boto3 one."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.receive_errors: list[Exception] = []
        self.delete_error: Exception | None = None

    async def receive_message(self, **params: Any) -> Any:
        if self.receive_errors:
            raise self.receive_errors.pop(0)
        return self._client.receive_message(**params)

    async def delete_message(self, **params: Any) -> Any:
        if self.delete_error is not None:
            raise self.delete_error
        return self._client.delete_message(**params)


class _NoThreads(concurrent.futures.ThreadPoolExecutor):
    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a worker thread was asked to run {fn!r}")


def test_an_async_client_is_awaited_natively_with_the_sync_clients_answers() -> None:
    sync_fake, fake = seeded_fake(), seeded_fake()
    sync = FaceSearchClient(sync_fake.client())
    sync_results = sync.search(REQUEST, idempotency_key="k", poller=sync_poller())
    rekognition = AsyncRekognition(fake.client())
    client = AsyncFaceSearchClient(rekognition, poller=no_wait_poller())
    assert client.native
    assert id(client.boto3_client) == id(rekognition)

    async def main() -> tuple[Any, ...]:
        results = await client.search(REQUEST, idempotency_key="k")
        return (
            results.job_id,
            [match async for match in results],
            [page async for page in client.results(results.job_id, page_size=5).pages()],
            await client.results(results.job_id).video_metadata(),
            await results.appearances(group_by="face"),
        )

    job_id, matches, pages, metadata, appearances = asyncio.run(main())
    assert job_id == sync_results.job_id
    assert matches == list(sync_results)
    assert matches
    assert pages == list(sync.results(job_id, page_size=5).pages())
    assert metadata == sync_results.video_metadata
    assert appearances == sync_results.appearances(group_by="face")


def test_retries_are_awaited_on_the_loop_and_errors_typed_as_in_sync() -> None:
    _, sync_delays = sync_retry_delays(throttled=2, draw=0.7)
    fake = seeded_fake(in_progress_polls=None)
    fake.inject_error("GetFaceSearch", "ThrottlingException", times=2)
    rekognition = AsyncRekognition(fake.client())
    loop = VirtualTimeLoop()
    retry = RetryPolicy(sleep=never_sleeps, clock=loop.time, random=lambda: 0.7)
    client = AsyncFaceSearchClient(rekognition, retry=retry)

    async def main() -> None:
        asyncio.get_running_loop().set_default_executor(_NoThreads(max_workers=1))
        job = await client.start(REQUEST)
        assert (await client.status(job)).state == JobState.IN_PROGRESS
        with pytest.raises(ResourceNotFoundError):
            await client.start(MISSING_COLLECTION)

    run(main(), loop)
    assert loop.waits == pytest.approx(sync_delays)  # the sync policy's delays, awaited
    assert len(loop.waits) == 2
    assert set(rekognition.threads) == {threading.get_ident()}


def test_search_many_steps_its_engine_in_a_thread_and_calls_on_the_loop() -> None:
    fake = seeded_fake(in_progress_polls=None, job_duration=60.0, seed=3)
    rekognition = AsyncRekognition(fake.client())
    items = [FaceSearchRequest(S3Video("videos", f"v{i}.mp4"), "employees") for i in range(4)]
    client = AsyncFaceSearchClient(rekognition, retry=RetryPolicy(sleep=fake.advance))

    async def main() -> tuple[list[bool], int]:
        batch = client.search_many(
            items, max_in_flight=2, sleep=awaitable_sleep(fake.advance), clock=fake.now
        )
        return [outcome.ok async for outcome in batch], threading.get_ident()

    oks, loop_thread = asyncio.run(main())
    assert oks == [True] * 4
    assert set(rekognition.threads) == {loop_thread}  # every call made on the loop


class Queue:
    def __init__(self) -> None:
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.url, self.fake = queued_fake(self.sqs, "rekoface-async")
        self.reader = AsyncSqs(self.sqs)

    def finish_after_first_look(self, job_id: str) -> None:
        if self.fake.jobs[job_id].state == "IN_PROGRESS":
            self.fake.finish(job_id)

    def requests(self, count: int) -> list[FaceSearchRequest]:
        return [
            FaceSearchRequest(
                S3Video("videos", f"v{i}.mp4"), "employees", notification_channel=CHANNEL
            )
            for i in range(count)
        ]


@mock_aws
def test_waits_on_an_async_sqs_client_share_rounds_on_the_loop_with_no_thread() -> None:
    queue = Queue()
    rekognition = AsyncRekognition(queue.fake.client(), after_look=queue.finish_after_first_look)
    poller = SqsNotificationPoller(queue.url, sqs_client=queue.reader, wait_time_seconds=0)  # type: ignore[arg-type]
    client = AsyncFaceSearchClient(rekognition, poller=poller)

    async def main() -> list[JobState]:
        asyncio.get_running_loop().set_default_executor(_NoThreads(max_workers=1))
        jobs = [await client.start(r) for r in queue.requests(5)]
        return [s.state for s in await asyncio.gather(*(client.wait(job) for job in jobs))]

    assert run(main()) == [JobState.SUCCEEDED] * 5
    assert not queue.sqs.receive_message(QueueUrl=queue.url).get("Messages")  # all deleted


@mock_aws
def test_transient_receive_errors_are_waited_out_and_a_failed_delete_only_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue = Queue()
    queue.reader.receive_errors = [client_error("ThrottlingException", "ReceiveMessage")] * 2
    queue.reader.delete_error = client_error("AccessDenied", "DeleteMessage", 403)
    rekognition = AsyncRekognition(queue.fake.client(), after_look=queue.finish_after_first_look)
    poller = SqsNotificationPoller(queue.url, sqs_client=queue.reader, wait_time_seconds=0)  # type: ignore[arg-type]
    client = AsyncFaceSearchClient(rekognition, poller=poller)
    loop = VirtualTimeLoop()

    async def main() -> JobState:
        job = await client.start(queue.requests(1)[0])
        return (await client.wait(job)).state

    with caplog.at_level(logging.WARNING, logger="rekoface"):
        assert run(main(), loop) == JobState.SUCCEEDED
    assert loop.waits == pytest.approx([1.0, 2.0])  # the SQS layer's backoff, awaited
    assert "could not delete the notification" in caplog.text
