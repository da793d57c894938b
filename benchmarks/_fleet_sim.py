"""A fleet of `search_many` workers as threads, on one `FleetClock`, one fake and one slot table.

Shared by ``tests/test_fleet.py`` and `benchmarks.fleet`. Every worker has its own boto3
clients (a Rekognition client of one shared `rekoface.testing.FakeRekognition`, and a
DynamoDB client of one slot table), its own `DynamoDBSlotStore` and its own share of
the videos (every `workers`-th), all under one batch key.

moto's DynamoDB does not make a conditional write atomic against other threads of its
process (AWS does), so `serialised_dynamodb_client` takes one lock in botocore's
``before-call`` event and gives it back in ``after-call``: the fleet exercises the
store's conditions, not moto's locking. Call it inside ``moto.mock_aws()``.

A worker can be killed: it stops driving its iterator after `Kill.after` outcomes
(nothing is closed or released, as when a machine dies), and a supervisor restarts it
`Kill.restart_after` seconds later as a new worker (a new holder, new clients) on the
same share with the same key: the jobs the dead one started are picked up by their
tokens, and the slots it held come back when their leases run out.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rekoface import (
    BatchOutcome,
    DynamoDBSlotStore,
    FaceSearchClient,
    FaceSearchRequest,
    InMemorySlotStore,
    RetryPolicy,
    S3Video,
    SlotStore,
)

from ._fleet_clock import FleetClock

__all__ = [
    "KEY",
    "TABLE",
    "FleetResult",
    "Kill",
    "most_at_once",
    "most_in_any_second",
    "run_fleet",
    "serialised_dynamodb_client",
]

REGION = "us-east-1"
TABLE = "rekoface-fleet-slots"
KEY = "fleet-backfill"
COLLECTION = "employees"


@dataclass(frozen=True)
class Kill:
    """Worker `worker` dies after its `after`-th outcome; restarted `restart_after` s later."""

    worker: int
    after: int
    restart_after: float


@dataclass
class FleetResult:
    """What the fleet did, as the fake and the slot table saw it."""

    epoch: float
    #: Every outcome yielded, with the name of the worker that yielded it.
    outcomes: list[tuple[str, BatchOutcome]] = field(default_factory=list)
    #: When the last outcome was yielded (the makespan ends there).
    finished: float = 0.0
    #: Jobs the fake created, by video name (a job started twice would count 2).
    jobs_per_video: dict[str, int] = field(default_factory=dict)
    #: (start, end) of every job the fake created, on the fleet's clock.
    job_intervals: list[tuple[float, float]] = field(default_factory=list)
    #: When each StartFaceSearch call reached the fake, retries included.
    start_calls: list[float] = field(default_factory=list)
    #: DynamoDB calls of the whole fleet, by operation.
    dynamodb_calls: dict[str, int] = field(default_factory=dict)
    died_at: float | None = None
    restarted_at: float | None = None

    @property
    def makespan(self) -> float:
        return self.finished - self.epoch


def video_name(index: int) -> str:
    return f"v{index:05d}.mp4"


def request(index: int) -> FaceSearchRequest:
    return FaceSearchRequest(S3Video("videos", video_name(index)), COLLECTION)


def serialised_dynamodb_client(
    lock: threading.Lock, calls: dict[str, int], counting: threading.Lock
) -> Any:
    """A DynamoDB client whose calls take `lock` one at a time and are counted in `calls`."""
    import boto3

    client = boto3.client("dynamodb", region_name=REGION)

    def take(model: Any, **_: Any) -> None:
        lock.acquire()  # returns None: a before-call answer would replace the call
        with counting:
            calls[model.name] = calls.get(model.name, 0) + 1

    def give_back(**_: Any) -> None:
        lock.release()

    events = client.meta.events
    events.register("before-call.dynamodb.*", take)
    events.register("after-call.dynamodb.*", give_back)
    events.register("after-call-error.dynamodb.*", give_back)
    return client


class _Service:
    """The Rekognition the fleet talks to: `client` makes each worker's, `jobs` says what ran."""

    def client(self) -> Any:
        raise NotImplementedError

    def jobs(self) -> list[tuple[str, float, float]]:
        """(video name, start, end) of every job created."""
        raise NotImplementedError

    def start_calls(self) -> list[float]:
        raise NotImplementedError


class _Fake(_Service):
    """`rekoface.testing.FakeRekognition` on the fleet's clock: botocore's whole pipeline."""

    def __init__(self, clock: FleetClock, length_of: Callable[[Mapping[str, Any]], float]) -> None:
        from rekoface.testing import FakeRekognition

        self.length_of = length_of
        # The account's concurrency is what is judged, so the fake refuses no start.
        self.fake = FakeRekognition(
            clock=clock.clock,
            in_progress_polls=None,
            job_duration=length_of,
            max_concurrent_jobs=10**6,
        )
        self.fake.add_collection(COLLECTION, 2)

    def client(self) -> Any:
        return self.fake.client(region_name=REGION)

    def jobs(self) -> list[tuple[str, float, float]]:
        return [
            (
                job.request["Video"]["S3Object"]["Name"],
                job.created_at,
                job.created_at + self.length_of(job.request),
            )
            for job in self.fake.jobs.values()
        ]

    def start_calls(self) -> list[float]:
        return [c.at for c in self.fake.calls if c.operation == "StartFaceSearch"]


class _StandIn(_Service):
    """Real boto3 clients whose two Rekognition methods answer from memory, on the clock.

    For runs of thousands of jobs: what is measured is the fleet's scheduling and its
    DynamoDB calls, so the service's own cost (botocore's pipeline, the fake's records)
    is left out. Tokens are idempotent, as at the service.
    """

    def __init__(self, clock: FleetClock, length_of: Callable[[Mapping[str, Any]], float]) -> None:
        self.clock = clock
        self.length_of = length_of
        self.lock = threading.Lock()
        self.by_token: dict[str, str] = {}
        self.created: dict[str, tuple[str, float, float]] = {}
        self.calls: list[float] = []

    def start_face_search(self, **params: Any) -> dict[str, Any]:
        with self.lock:
            now = self.clock.clock()
            self.calls.append(now)
            token = params["ClientRequestToken"]
            job_id = self.by_token.get(token)
            if job_id is None:
                job_id = f"{len(self.created):064x}"
                self.by_token[token] = job_id
                name = params["Video"]["S3Object"]["Name"]
                self.created[job_id] = (name, now, now + self.length_of(params))
            return {"JobId": job_id}

    def get_face_search(self, **params: Any) -> dict[str, Any]:
        with self.lock:
            job_id = params["JobId"]
            ended = self.clock.clock() >= self.created[job_id][2]
        return {"JobStatus": "SUCCEEDED" if ended else "IN_PROGRESS", "JobId": job_id}

    def client(self) -> Any:
        from ._canned import CannedRekognition, rekognition_client

        boto3_client = rekognition_client(CannedRekognition())
        vars(boto3_client).update(
            start_face_search=self.start_face_search, get_face_search=self.get_face_search
        )
        return boto3_client

    def jobs(self) -> list[tuple[str, float, float]]:
        return list(self.created.values())

    def start_calls(self) -> list[float]:
        return list(self.calls)


def run_fleet(
    lengths: list[float],
    *,
    workers: int,
    slots: int,
    lease_seconds: float = 900.0,
    start_rate: float = 5.0,
    share_rate: bool = True,
    kill: Kill | None = None,
    clock: FleetClock | None = None,
    stand_in: bool = False,
    dynamodb: bool = True,
    shared_store: InMemorySlotStore | None = None,
    throttled_starts: int = 0,
) -> FleetResult:
    """Run the fleet to the end; every worker on its own thread.

    The service is `rekoface.testing.FakeRekognition`, or with `stand_in` an in-memory
    stand-in of the two calls (for the benchmark's thousand jobs). The slot store is a
    `DynamoDBSlotStore` per worker on one table (call inside ``mock_aws()``), or
    without `dynamodb` one `InMemorySlotStore` the threads share: the same protocol and
    lease rules, without moto's cost per call (about 10 ms for a read of 20 slots);
    `shared_store` is that store if the caller wants to watch it. Every worker paces its
    own starts at `start_rate`; the store shares that rate too unless `share_rate` is
    off. The fake answers the first `throttled_starts` starts with
    ``ThrottlingException`` (retried, and paced).
    """
    clock = clock if clock is not None else FleetClock(1_700_000_000.0)

    def length_of(params: Mapping[str, Any]) -> float:
        return lengths[int(params["Video"]["S3Object"]["Name"][1:6])]

    service = (_StandIn if stand_in else _Fake)(clock, length_of)
    moto_lock, counting = threading.Lock(), threading.Lock()
    result = FleetResult(epoch=clock.clock())
    store_rate = start_rate if share_rate else None
    shared = shared_store or InMemorySlotStore(slots, clock=clock.clock, start_rate=store_rate)
    shared.lease_seconds = lease_seconds
    if throttled_starts:
        assert isinstance(service, _Fake)
        service.fake.inject_error("StartFaceSearch", "ThrottlingException", times=throttled_starts)
    if dynamodb:
        DynamoDBSlotStore.create_table(
            TABLE, dynamodb_client=serialised_dynamodb_client(moto_lock, {}, counting)
        )
    recorded = threading.Lock()
    failures: list[BaseException] = []

    def batch(share: list[int]) -> Iterator[BatchOutcome]:
        retry = RetryPolicy(sleep=clock.sleep, clock=clock.clock)
        store: SlotStore = shared
        if dynamodb:
            store = DynamoDBSlotStore(
                TABLE,
                capacity=slots,
                lease_seconds=lease_seconds,
                dynamodb_client=serialised_dynamodb_client(
                    moto_lock, result.dynamodb_calls, counting
                ),
                clock=clock.clock,
                retry=retry,
                start_rate=store_rate,
            )
        client = FaceSearchClient(service.client(), retry=retry)
        return client.search_many(
            (request(i) for i in share),
            key=KEY,
            start_rate=start_rate,
            slots=store,
            sleep=clock.sleep,
            clock=clock.clock,
        )

    def record(name: str, outcome: BatchOutcome) -> None:
        with recorded:
            result.outcomes.append((name, outcome))
            result.finished = max(result.finished, clock.clock())

    def work(number: int) -> None:
        share = list(range(number, len(lengths), workers))
        name = f"worker-{number}"
        try:
            try:
                outcomes = batch(share)
                for count, outcome in enumerate(outcomes, 1):
                    record(name, outcome)
                    if kill is not None and kill.worker == number and count == kill.after:
                        break
                else:
                    return
                assert kill is not None
                result.died_at = clock.clock()  # `outcomes` is left as it is: no release
                clock.sleep(kill.restart_after)
                result.restarted_at = clock.clock()
                for outcome in batch(share):
                    record(f"{name}-restarted", outcome)
                del outcomes
            finally:
                clock.leave()
        except BaseException as err:  # reported by the caller's thread
            failures.append(err)

    run_threads(clock, work, workers)
    if failures:
        raise failures[0]
    return _collected(result, service)


def run_threads(clock: FleetClock, work: Callable[[int], None], workers: int) -> None:
    """Every worker joins the clock before any thread starts; wait for them all."""
    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(workers)]
    for _ in threads:
        clock.join()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _collected(result: FleetResult, service: _Service) -> FleetResult:
    for name, start, end in service.jobs():
        result.jobs_per_video[name] = result.jobs_per_video.get(name, 0) + 1
        result.job_intervals.append((start, end))
    result.start_calls = service.start_calls()
    return result


def most_in_any_second(times: list[float]) -> int:
    """The most of `times` in one half-open second ``[t, t + 1)``."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    """The most half-open ``[start, end)`` intervals that overlap at any instant."""
    events = sorted([(end, -1) for _, end in intervals] + [(start, 1) for start, _ in intervals])
    return max(itertools.accumulate(delta for _, delta in events), default=0)
