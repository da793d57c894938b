"""rekoface.aio waiting on SQS completion notifications: SqsNotificationPoller from the loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

import boto3
import pytest
from aio_support import CHANNEL, queued_fake, status_calls
from faketime import FakeTime
from moto import mock_aws

from rekoface import (
    FaceSearchRequest,
    JobState,
    PollTimeoutError,
    S3Video,
    SqsNotificationPoller,
)
from rekoface.aio import AsyncFaceSearchClient
from rekoface.testing import FakeRekognition


def request(i: int) -> FaceSearchRequest:
    return FaceSearchRequest(
        S3Video("videos", f"v{i:03d}.mp4"), "employees", notification_channel=CHANNEL
    )


class Queue:
    """A moto queue the fake sends its completions to, and an SQS client that reads it."""

    def __init__(self) -> None:
        sqs = boto3.client("sqs", region_name="us-east-1")
        self.url, self.fake = queued_fake(sqs, "rekoface-done", seed=5)
        self.reader = boto3.client("sqs", region_name="us-east-1")
        self.receives = 0
        self.reader.meta.events.register("before-call.sqs.ReceiveMessage", self._count)

    def _count(self, **_: Any) -> None:
        self.receives += 1

    def poller(self, time: FakeTime, **kwargs: Any) -> SqsNotificationPoller:
        settings: dict[str, Any] = {"wait_time_seconds": 0, "fallback_interval": 3600.0}
        return SqsNotificationPoller(
            self.url,
            sqs_client=self.reader,
            sleep=time.sleep,
            clock=time.clock,
            **{**settings, **kwargs},
        )


@mock_aws
def test_ten_waits_on_one_queue_need_no_thread_each() -> None:
    queue = Queue()
    fake = queue.fake
    time = FakeTime(budget=200)
    started: list[str] = []

    def finish_once_all_wait(**_: Any) -> None:
        # Every waiter asks GetFaceSearch once before it waits for the queue: the jobs end
        # only when all ten are waiting at once, on a pool of two threads.
        if status_calls(fake) >= 10:
            for job_id in started:
                if fake.jobs[job_id].state == "IN_PROGRESS":
                    fake.finish(job_id)

    queue.reader.meta.events.register("before-call.sqs.ReceiveMessage", finish_once_all_wait)
    client = AsyncFaceSearchClient(fake.client(), poller=queue.poller(time))

    async def main() -> list[Any]:
        asyncio.get_running_loop().set_default_executor(
            concurrent.futures.ThreadPoolExecutor(max_workers=2)
        )
        jobs = [await client.start(request(i)) for i in range(10)]
        started.extend(job.job_id for job in jobs)
        waits = asyncio.gather(*(client.wait(job) for job in jobs))
        return await asyncio.wait_for(waits, timeout=60)  # a guard against a hang only

    statuses = asyncio.run(main())
    assert [s.state for s in statuses] == [JobState.SUCCEEDED] * 10
    assert [s.job_id for s in statuses] == started
    assert status_calls(fake) == 20  # each: one look, one confirmation
    assert queue.receives < 10 + time.sleeps.count(1.0) + 1  # rounds shared, not per waiter
    assert not queue.reader.receive_message(QueueUrl=queue.url).get("Messages")  # all deleted


@mock_aws
def test_a_finished_job_is_returned_without_receiving_and_a_timeout_raises() -> None:
    queue = Queue()
    time = FakeTime(budget=200)
    client = AsyncFaceSearchClient(queue.fake.client())

    async def main() -> None:
        done = await client.start(request(1))
        queue.fake.finish(done.job_id)
        status = await client.wait(done, poller=queue.poller(time))
        assert status.state == JobState.SUCCEEDED
        assert queue.receives == 0
        running = await client.start(request(2))
        with pytest.raises(PollTimeoutError):
            await client.wait(running, poller=queue.poller(time), timeout=5)
        assert queue.receives > 0

    asyncio.run(main())


@mock_aws
def test_cancelling_a_wait_on_the_queue_leaves_no_waiter_and_the_client_usable() -> None:
    queue = Queue()
    time = FakeTime(budget=200)
    client = AsyncFaceSearchClient(queue.fake.client(), poller=queue.poller(time))

    async def main() -> JobState:
        job = await client.start(request(1))
        waiting = asyncio.create_task(client.wait(job))
        while queue.receives == 0:
            await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        from rekoface import _receiver

        assert job.job_id not in _receiver.receiver_for(queue.url).waiters
        queue.fake.finish(job.job_id)
        return (await client.wait(job)).state

    assert asyncio.run(main()) == JobState.SUCCEEDED


def test_the_async_client_refuses_a_poller_of_neither_kind() -> None:
    from rekoface import BackoffPoller, ConfigurationError

    fake = FakeRekognition()
    with pytest.raises(
        ConfigurationError, match=r"AsyncPoller .* or a rekoface\.SqsNotificationPoller"
    ):
        AsyncFaceSearchClient(fake.client(), poller=BackoffPoller())  # type: ignore[arg-type]
