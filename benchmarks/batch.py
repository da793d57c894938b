"""Figure 8: ``search_many``'s makespan against the ideal greedy schedule, its status calls
per job, and its peak memory over a long generator.

Makespan: 200 videos of 5 to 60 minutes (seeded uniform lengths) on 20 slots at 5
starts a second, on `rekoface.testing.FakeRekognition`'s clock (real botocore
clients; every sleep of the batch advances the fake's time, and jobs end when their
length has passed). The ideal is the greedy schedule with the same order and start
rate in which a slot is refilled the instant its job ends, computed exactly; the
batch pays for detecting each end (its status checks) and for its pacing. The same
batch is run twice: polling (``status_rate=2``), and waiting on SNS→SQS
notifications (moto's topic and queue, in-process; a ``before-parameter-build`` hook
plays the server's part of a long poll on the fake's clock, up to the next job's end).

Memory: `tracemalloc`'s peak while a batch consumes a generator of 100,000 requests,
against the peak over 1,000, with the service answered by an in-memory stand-in of
the boto3 client's two methods (every job has ended at its first check), so that what
is traced is the batch's own state, not a fake's records of 100,000 jobs.
"""

from __future__ import annotations

import gc
import heapq
import itertools
import math
import random
import tracemalloc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from rekoface import FaceSearchClient, FaceSearchRequest, NotificationChannel, RetryPolicy, S3Video

from ._canned import CannedRekognition, rekognition_client
from ._common import FULL, REGION, FigureResult, Sizes, VirtualClock, duration

TARGET = 1.03
MEMORY_TARGET = 1.2
SLOTS = 20
START_RATE = 5.0
SHORTEST, LONGEST = 300.0, 3600.0
_SEED = 12
_ROLE = "arn:aws:iam::123456789012:role/RekognitionPublish"


@dataclass(frozen=True)
class BatchSizes:
    videos: int
    slots: int
    memory_small: int
    memory_large: int


#: The batch's sizes live here rather than in `Sizes` (kept out of that shared file);
#: the quick preset is the one with fewer start calls than the full run.
_FULL = BatchSizes(videos=200, slots=SLOTS, memory_small=1_000, memory_large=100_000)
_QUICK = BatchSizes(videos=24, slots=6, memory_small=100, memory_large=1_000)


def batch_sizes(sizes: Sizes) -> BatchSizes:
    return _QUICK if sizes.start_calls < FULL.start_calls else _FULL


def lengths(videos: int, seed: int = _SEED) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(SHORTEST, LONGEST) for _ in range(videos)]


def greedy_makespan(lengths: list[float], slots: int, start_rate: float) -> float:
    """The ideal: starts in order, ``1 / start_rate`` apart at least, each as soon as a
    slot is free, a slot freed the instant its job ends."""
    free = [0.0] * slots
    previous = -math.inf
    end = 0.0
    for length in lengths:
        start = max(heapq.heappop(free), previous + 1.0 / start_rate)
        previous = start
        heapq.heappush(free, start + length)
        end = max(end, start + length)
    return end


@dataclass(frozen=True)
class BatchRun:
    makespan: float
    status_calls: int
    start_calls: int
    jobs: int
    most_in_flight: int
    ok: int


class _World:
    """A fake Rekognition whose clock the batch's sleeps advance."""

    def __init__(self, lengths: list[float]) -> None:
        from rekoface.testing import FakeRekognition

        self.lengths = lengths
        self.fake = FakeRekognition(
            in_progress_polls=None, job_duration=self.length_of, max_concurrent_jobs=SLOTS
        )
        self.fake.add_collection("employees", 4)
        self.epoch = self.fake.now()
        retry = RetryPolicy(sleep=self.sleep, clock=self.clock)
        self.client = FaceSearchClient(self.fake.client(region_name=REGION), retry=retry)

    def length_of(self, params: Mapping[str, Any]) -> float:
        name = params["Video"]["S3Object"]["Name"]
        return self.lengths[int(name[1:6])]

    def clock(self) -> float:
        return self.fake.now()

    def sleep(self, seconds: float) -> None:
        self.fake.advance(seconds)

    def requests(self, channel: NotificationChannel | None = None) -> list[FaceSearchRequest]:
        return [
            FaceSearchRequest(
                S3Video("videos", f"v{i:05d}.mp4"), "employees", notification_channel=channel
            )
            for i in range(len(self.lengths))
        ]

    def result(self, ok: int) -> BatchRun:
        calls = self.fake.calls
        jobs = self.fake.jobs.values()
        events = sorted(
            [(j.created_at, 1) for j in jobs]
            + [(j.created_at + self.length_of(j.request), -1) for j in jobs]
        )
        return BatchRun(
            makespan=self.clock() - self.epoch,
            status_calls=sum(c.operation == "GetFaceSearch" for c in calls),
            start_calls=sum(c.operation == "StartFaceSearch" for c in calls),
            jobs=len(jobs),
            most_in_flight=max(itertools.accumulate(d for _, d in events)),
            ok=ok,
        )


def run_polling(lengths: list[float], slots: int) -> BatchRun:
    world = _World(lengths)
    batch = world.client.search_many(
        world.requests(),
        max_in_flight=slots,
        start_rate=START_RATE,
        sleep=world.sleep,
        clock=world.clock,
    )
    return world.result(sum(outcome.ok for outcome in batch))


def run_queue(lengths: list[float], slots: int) -> BatchRun:
    import boto3
    from moto import mock_aws

    with mock_aws():
        world = _World(lengths)
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="batch-done")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        topic_arn = sns.create_topic(Name="AmazonRekognitionBatch")["TopicArn"]
        sns.subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"]
        )
        world.fake.connect_sns(sns)
        receiver = boto3.client("sqs", region_name=REGION)

        def long_poll(params: dict[str, Any], **_: Any) -> None:
            """The server's side of a long poll, on the fake's clock: it returns when a
            message is there, or at the next job's end, or after the wait."""
            wait = params.get("WaitTimeSeconds", 0)
            params["WaitTimeSeconds"] = 0
            if not wait:
                return
            visible = sqs.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
            if int(visible):
                return
            now = world.clock()
            ends = [
                j.created_at + world.length_of(j.request)
                for j in world.fake.jobs.values()
                if j.state == "IN_PROGRESS"
            ]
            # A hair past the end: the fake ends a job once its length has passed.
            world.sleep(max(1e-6, min([now + wait, *ends]) - now + 1e-6))

        receiver.meta.events.register("before-parameter-build.sqs.ReceiveMessage", long_poll)
        channel = NotificationChannel(topic_arn, _ROLE)
        batch = world.client.search_many(
            world.requests(channel),
            max_in_flight=slots,
            start_rate=START_RATE,
            queue_url=queue_url,
            sqs_client=receiver,
            sleep=world.sleep,
            clock=world.clock,
        )
        return world.result(sum(outcome.ok for outcome in batch))


def _stand_in_client() -> FaceSearchClient:
    """A real boto3 client whose two methods answer from memory: every job has ended."""
    boto3_client = rekognition_client(CannedRekognition())
    numbers = itertools.count()

    def start_face_search(**_: Any) -> dict[str, Any]:
        return {"JobId": f"{next(numbers):064x}"}

    def get_face_search(**params: Any) -> dict[str, Any]:
        return {"JobStatus": "SUCCEEDED", "JobId": params["JobId"]}

    vars(boto3_client).update(start_face_search=start_face_search, get_face_search=get_face_search)
    return FaceSearchClient(boto3_client)


def peak_memory(items: int) -> tuple[int, int]:
    """Peak traced bytes while a batch consumes a generator of `items` requests (and the
    outcomes it yielded)."""
    client = _stand_in_client()

    def requests(n: int) -> Iterator[FaceSearchRequest]:
        for i in range(n):
            yield FaceSearchRequest(S3Video("videos", f"cams/{i:09d}.mp4"), "employees")

    def consume(n: int) -> int:
        clock = VirtualClock()
        batch = client.search_many(requests(n), sleep=clock.sleep, clock=clock)
        return sum(outcome.ok for outcome in batch)

    consume(50)  # untraced warm-up: lazy imports and caches
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        done = consume(items)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, done


def run(sizes: Sizes) -> FigureResult:
    chosen = batch_sizes(sizes)
    video_lengths = lengths(chosen.videos)
    ideal = greedy_makespan(video_lengths, chosen.slots, START_RATE)
    polling = run_polling(video_lengths, chosen.slots)
    queue = run_queue(video_lengths, chosen.slots)
    small_peak, small_done = peak_memory(chosen.memory_small)
    large_peak, large_done = peak_memory(chosen.memory_large)
    ratio = polling.makespan / ideal
    queue_ratio = queue.makespan / ideal
    memory_ratio = large_peak / small_peak
    passed = ratio <= TARGET and queue_ratio <= TARGET and memory_ratio <= MEMORY_TARGET
    per_job = polling.status_calls / polling.jobs
    queue_per_job = queue.status_calls / queue.jobs
    return FigureResult(
        number="8",
        title=f"search_many: makespan of {chosen.videos} videos (5-60 min) on {chosen.slots} "
        f"slots at {START_RATE:g} starts/s vs the ideal greedy schedule",
        rekoface=f"{duration(polling.makespan)} polling, {duration(queue.makespan)} with SQS",
        baseline=f"{duration(ideal)} (ideal)",
        result=f"{ratio:.4f} polling, {queue_ratio:.4f} SQS",
        target=f"≤ {TARGET:.2f}; memory ≤ {MEMORY_TARGET:.1f}x",
        passed=passed,
        details=(
            f"Status calls per job: {per_job:.1f} polling (status_rate=2/s, all jobs "
            f"together), {queue_per_job:.1f} waiting on SNS→SQS notifications. "
            f"Most jobs in flight: {polling.most_in_flight} (limit {chosen.slots}); "
            f"StartFaceSearch calls: {polling.start_calls} for {polling.jobs} jobs.",
            f"Peak traced memory consuming a generator of {chosen.memory_large:,} requests: "
            f"{large_peak / 1024:,.1f} KiB, against {small_peak / 1024:,.1f} KiB for "
            f"{chosen.memory_small:,} ({memory_ratio:.2f}x): the input is pulled only as "
            "slots free up, and outcomes are not kept.",
            "The ideal is computed exactly (same order and start rate, a slot refilled the "
            "instant its job ends); the batch's runs are on the fake's clock, so the ratio "
            "is the cost of detecting ends and of pacing, not of this machine.",
        ),
        checks={
            "ideal": ideal,
            "polling": polling,
            "queue": queue,
            "videos": chosen.videos,
            "slots": chosen.slots,
            "memory": {
                "small": (chosen.memory_small, small_peak, small_done),
                "large": (chosen.memory_large, large_peak, large_done),
            },
        },
    )


__all__ = ["BatchRun", "greedy_makespan", "lengths", "peak_memory", "run"]
