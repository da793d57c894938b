"""`search_many`: many videos under the account's job limit, on the fake and its clock."""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Callable, Generator, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from rekoface import (
    BatchOutcome,
    FaceSearchClient,
    FaceSearchRequest,
    InvalidS3ObjectError,
    JobFailedError,
    PollTimeoutError,
    RequestValidationError,
    RetryPolicy,
    S3Video,
)
from rekoface.testing import FakeRekognition

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `benchmarks/` is not part of the installed wheel
    sys.path.insert(0, str(ROOT))

from benchmarks._fleet_sim import most_in_any_second  # noqa: E402

EPOCH = 1_700_000_000.0


def request(i: int, collection: str = "employees") -> FaceSearchRequest:
    return FaceSearchRequest(S3Video("videos", f"v{i:05d}.mp4"), collection)


def minutes_from_name(params: Mapping[str, Any]) -> float:
    """Each video's length, from its name: v00007.mp4 runs 7 + 5 minutes."""
    name = params["Video"]["S3Object"]["Name"]
    return (int(name[1:6]) % 20 + 5) * 60.0


class World:
    """A fake Rekognition, a client on its clock, and the batch's injected time."""

    def __init__(
        self,
        job_duration: float | Callable[[Mapping[str, Any]], float] = minutes_from_name,
        *,
        max_concurrent_jobs: int = 20,
    ) -> None:
        self.fake = FakeRekognition(
            in_progress_polls=None,
            job_duration=job_duration,
            max_concurrent_jobs=max_concurrent_jobs,
        )
        self.fake.add_collection("employees")
        self.on_sleep: list[Callable[[], None]] = []
        policy = RetryPolicy(sleep=self.sleep, clock=self.clock, random=lambda: 1.0)
        self.client = FaceSearchClient(self.fake.client(), retry=policy)

    def clock(self) -> float:
        return self.fake.now()

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.fake.advance(seconds)
        for hook in self.on_sleep:
            hook()

    def run(self, requests: Any, **kwargs: Any) -> Generator[BatchOutcome, None, None]:
        return self.client.search_many(requests, sleep=self.sleep, clock=self.clock, **kwargs)

    def calls(self, operation: str) -> list[float]:
        return [c.at for c in self.fake.calls if c.operation == operation]


def test_every_item_yields_one_outcome_in_the_order_the_jobs_ended() -> None:
    world = World()
    outcomes = list(world.run(request(i) for i in range(45)))
    assert sorted(o.index for o in outcomes) == list(range(45))
    assert all(o.ok and o.error is None for o in outcomes)
    assert all(o.status is not None and o.status.state == "SUCCEEDED" for o in outcomes)
    assert all(o.job is not None and o.request == request(o.index) for o in outcomes)
    ended = [world.fake.jobs[o.job.job_id].created_at for o in outcomes if o.job]
    lengths = [minutes_from_name(world.fake.jobs[o.job.job_id].request) for o in outcomes if o.job]
    ends = [start + length for start, length in zip(ended, lengths, strict=True)]
    # Learnt in end order, within the detection lag (a small share of each job's length).
    assert all(later >= earlier - 60 for earlier, later in itertools.pairwise(ends))


def test_the_window_and_both_rates_are_kept_at_every_instant() -> None:
    world = World()
    list(world.run((request(i) for i in range(60)), max_in_flight=7, start_rate=2.0))
    jobs = list(world.fake.jobs.values())
    assert len(jobs) == 60
    events = sorted(
        [(j.created_at, 1) for j in jobs]
        + [(j.created_at + minutes_from_name(j.request), -1) for j in jobs]
    )
    running = list(itertools.accumulate(delta for _, delta in events))
    assert max(running) == 7  # kept full, never more
    assert most_in_any_second(world.calls("StartFaceSearch")) <= 2
    assert most_in_any_second(world.calls("GetFaceSearch")) <= 2


def test_retried_starts_count_toward_the_start_rate() -> None:
    world = World()
    world.fake.inject_error("StartFaceSearch", "ThrottlingException", times=6)
    outcomes = list(world.run((request(i) for i in range(10)), start_rate=1.0))
    assert all(o.ok for o in outcomes)
    starts = world.calls("StartFaceSearch")
    assert len(starts) == 16
    assert most_in_any_second(starts) == 1


def test_the_makespan_stays_close_to_a_slot_refilled_the_instant_a_job_ends() -> None:
    world = World(job_duration=600.0)
    list(world.run(request(i) for i in range(100)))
    makespan = world.clock() - EPOCH
    ideal = 5 * 600.0 + 19 / 5.0  # five rounds of 20; the last start of a round is paced
    assert makespan <= 1.03 * ideal


def test_input_is_pulled_only_as_it_can_start() -> None:
    world = World(job_duration=60.0)
    pulled = 0

    def endless() -> Iterator[FaceSearchRequest]:
        nonlocal pulled
        for i in itertools.count():
            pulled += 1
            yield request(i)

    batch = world.run(endless(), max_in_flight=5)
    first = list(itertools.islice(batch, 12))
    assert len(first) == 12
    assert pulled <= 12 + 5 + 1
    batch.close()  # starts nothing more
    started = len(world.fake.jobs)
    world.sleep(3600)
    assert len(world.fake.jobs) == started


def test_one_bad_video_never_stops_the_batch() -> None:
    world = World(job_duration=120.0)
    world.fake.inject_error("StartFaceSearch", "InvalidS3ObjectException")
    items: list[Any] = [request(0), "s3://videos/not-a-request.mp4", request(2), request(3)]
    outcomes = {o.index: o for o in world.run(items)}
    assert isinstance(outcomes[0].error, InvalidS3ObjectError)
    assert outcomes[0].job is None
    assert not outcomes[0].ok
    assert isinstance(outcomes[1].error, RequestValidationError)
    assert outcomes[1].error.paths == ("requests[1]",)
    assert outcomes[2].ok
    assert outcomes[3].ok


def test_a_failed_job_and_a_job_past_its_timeout_are_item_errors() -> None:
    world = World(job_duration=lambda p: 10_000.0 if "v00002" in str(p) else 300.0)

    def fail_the_first() -> None:
        jobs = [j for j in world.fake.jobs.values() if "v00000" in str(j.request)]
        if jobs and jobs[0].state == "IN_PROGRESS":
            world.fake.finish(jobs[0].job_id, status="FAILED", status_message="bad codec")

    world.on_sleep.append(fail_the_first)
    outcomes = {o.index: o for o in world.run([request(0), request(1), request(2)], timeout=900)}
    assert isinstance(outcomes[0].error, JobFailedError)
    assert outcomes[0].error.status_message == "bad codec"
    assert outcomes[1].ok
    assert isinstance(outcomes[2].error, PollTimeoutError)
    assert outcomes[2].job is not None
    assert world.fake.jobs[outcomes[2].job.job_id].state == "IN_PROGRESS"  # it goes on


def test_limit_exceeded_from_other_work_is_capacity_not_an_error() -> None:
    world = World(job_duration=lambda p: 900.0 if "foreign" in str(p) else 300.0)
    foreign = FaceSearchClient(world.fake.client(), retry=RetryPolicy.never())
    for i in range(15):  # other work holds 15 of the account's 20 slots for 15 minutes
        foreign.start(FaceSearchRequest(S3Video("videos", f"foreign-{i}.mp4"), "employees"))
    outcomes = list(world.run(request(i) for i in range(30)))
    assert len(outcomes) == 30
    assert all(o.ok for o in outcomes)
    refused = [c for c in world.fake.calls if c.outcome == "LimitExceededException"]
    assert refused  # the batch met the limit ...
    # ... and never kept knocking: one probe per freed slot or minute, not a storm.
    assert len(refused) <= 30
    assert len([j for j in world.fake.jobs.values() if "foreign" not in str(j.request)]) == 30


def test_a_rerun_with_the_same_key_starts_no_job_twice() -> None:
    world = World(job_duration=600.0)
    batch = world.run((request(i) for i in range(30)), key="backfill-1")
    first = list(itertools.islice(batch, 5))
    batch.close()  # Ctrl-C after five outcomes
    assert len(first) == 5
    assert len(world.fake.jobs) == 24  # 20, and a refill for each of the first four ends
    world.sleep(3600)
    again = list(world.run((request(i) for i in range(30)), key="backfill-1"))
    assert sorted(o.index for o in again) == list(range(30))
    assert all(o.ok for o in again)
    assert len(world.fake.jobs) == 30  # no job twice
    assert {o.job.job_id for o in first if o.job} <= {o.job.job_id for o in again if o.job}


def test_identical_requests_under_one_key_share_one_job() -> None:
    world = World(job_duration=300.0)
    outcomes = list(world.run([request(1), request(1), request(2)], key="k"))
    assert len(outcomes) == 3
    assert len(world.fake.jobs) == 2
    one, two = (o for o in outcomes if o.request == request(1))
    assert one.job == two.job
    assert {one.index, two.index} == {0, 1}


def test_a_client_that_retries_limit_exceeded_does_not_block_the_batch() -> None:
    world = World(job_duration=300.0, max_concurrent_jobs=3)
    world.client = FaceSearchClient(
        world.fake.client(),
        retry=RetryPolicy(sleep=world.sleep, clock=world.clock, retry_limit_exceeded=True),
    )
    outcomes = list(world.run(request(i) for i in range(6)))
    assert all(o.ok for o in outcomes)
    assert world.clock() - EPOCH < 2 * 300 + 120  # two rounds, not 30-minute retry waits


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ({"max_in_flight": 0}, "max_in_flight"),
        ({"max_in_flight": True}, "max_in_flight"),
        ({"start_rate": 0}, "start_rate"),
        ({"status_rate": math.inf}, "status_rate"),
        ({"timeout": -1}, "timeout"),
        ({"key": ""}, "key"),
        ({"queue_url": ""}, "queue_url"),
        ({"queue_url": "http://127.0.0.1:1/q", "wait_time_seconds": 21}, "wait_time_seconds"),
    ],
)
def test_bad_arguments_are_refused_before_any_call(arguments: dict[str, Any], path: str) -> None:
    world = World()
    with pytest.raises(RequestValidationError) as caught:
        world.run([request(0)], **arguments)
    assert path in caught.value.paths
    assert world.fake.calls == []


def test_more_than_the_default_quota_is_allowed_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = World(job_duration=60.0)
    outcomes = list(world.run([request(0)], max_in_flight=50))
    assert outcomes[0].ok
    assert "above the default quota" in caplog.text


def test_with_a_queue_the_batch_waits_on_notifications_and_polls_far_less() -> None:
    from moto import mock_aws
    from moto_world import World as MotoWorld
    from moto_world import completion

    from rekoface import NotificationChannel

    with mock_aws():
        aws = MotoWorld()
        world = World(job_duration=600.0)
        world.fake.connect_sns(aws.sns)
        channel = NotificationChannel(aws.topic_arn, "arn:aws:iam::123456789012:role/Rekognition")
        aws.sns.publish(TopicArn=aws.topic_arn, Message=completion("someone-elses-job"))
        requests = [
            FaceSearchRequest(
                S3Video("videos", f"v{i}.mp4"), "employees", notification_channel=channel
            )
            for i in range(30)
        ]
        outcomes = list(
            world.run(
                requests, queue_url=aws.queue_url, sqs_client=aws.client(), wait_time_seconds=0
            )
        )
        assert sorted(o.index for o in outcomes) == list(range(30))
        assert all(o.ok for o in outcomes)
        status_calls = len(world.calls("GetFaceSearch"))
        # A first check, one fallback (at most every 300 s), then the notification's
        # confirmation: polling would make about sixty a job.
        assert status_calls <= 3 * 30
        assert world.clock() - EPOCH <= 1.03 * (2 * 600.0 + 19 / 5.0)
        # Someone else's notification is left on the queue for its owner: not deleted
        # (it may still be invisible after the batch's receive), the batch's are.
        counts = aws.sqs.get_queue_attributes(
            QueueUrl=aws.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        assert sum(int(n) for n in counts.values()) == 1


def test_progress_is_told_every_change_and_its_counts_match_the_fake() -> None:
    from rekoface import BatchProgress

    world = World(job_duration=300.0)
    seen: list[BatchProgress] = []
    items: list[Any] = [request(i) for i in range(25)] + ["not a request"]
    outcomes = list(world.run(items, max_in_flight=10, progress=seen.append))
    assert len(outcomes) == 26
    last = seen[-1]
    assert last.pulled == 26
    assert (last.succeeded, last.failed, last.done) == (25, 1, 26)
    assert (last.in_flight, last.waiting) == (0, 0)
    assert last.starts == len(world.calls("StartFaceSearch"))
    assert last.status_calls == len(world.calls("GetFaceSearch"))
    assert (last.window, last.limit, last.held_by_others) == (10, 10, 0)
    # Never more in flight than the window, which never exceeds its limit; counts only grow.
    assert all(p.in_flight <= p.window <= p.limit for p in seen)
    for earlier, later in itertools.pairwise(seen):
        assert later.done >= earlier.done
        assert later.starts >= earlier.starts
        assert later.status_calls >= earlier.status_calls
    # The batch was full at some point: ten in flight.
    assert max(p.in_flight for p in seen) == 10


def test_progress_shows_the_slots_others_hold_and_the_items_waiting() -> None:
    from rekoface import BatchProgress

    world = World(job_duration=lambda p: 900.0 if "foreign" in str(p) else 300.0)
    foreign = FaceSearchClient(world.fake.client(), retry=RetryPolicy.never())
    for i in range(15):
        foreign.start(FaceSearchRequest(S3Video("videos", f"foreign-{i}.mp4"), "employees"))
    seen: list[BatchProgress] = []
    list(world.run((request(i) for i in range(10)), progress=seen.append))
    blocked = [p for p in seen if p.waiting]
    assert blocked  # an item waited for a slot ...
    # ... while the window had shrunk to the five slots the account had left.
    assert max(p.held_by_others for p in seen) == 15
    assert min(p.window for p in blocked) == 5
    assert seen[-1].succeeded == 10


def test_a_progress_that_is_not_callable_is_refused_before_any_call() -> None:
    world = World()
    with pytest.raises(RequestValidationError) as caught:
        world.run([request(0)], progress="print")
    assert caught.value.paths == ("progress",)
    assert world.fake.calls == []


def test_starts_and_ends_log_at_info_item_errors_and_capacity_at_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="rekoface")
    world = World(job_duration=300.0, max_concurrent_jobs=2)
    world.fake.inject_error("StartFaceSearch", "InvalidS3ObjectException")
    list(world.run([request(i) for i in range(4)] + ["bad"]))
    by_level = {
        level: [r.getMessage() for r in caplog.records if r.levelno == level]
        for level in (logging.INFO, logging.WARNING)
    }
    assert sum("started" in m for m in by_level[logging.INFO]) == 3
    assert sum("SUCCEEDED" in m for m in by_level[logging.INFO]) == 3
    warnings = by_level[logging.WARNING]
    assert any("could not start" in m for m in warnings)
    assert any("not a FaceSearchRequest" in m for m in warnings)
    assert any("job slots are full" in m for m in warnings)
    # S3 keys only at DEBUG.
    assert not any("v0000" in m for m in by_level[logging.INFO] + warnings)


# --- a fleet's shared job slots ------------------------------------------------------------


def most_running(world: World, length: Callable[[Mapping[str, Any]], float]) -> int:
    jobs = list(world.fake.jobs.values())
    events = sorted(
        [(j.created_at, 1) for j in jobs] + [(j.created_at + length(j.request), -1) for j in jobs]
    )
    return max(itertools.accumulate(delta for _, delta in events))


def test_a_slot_store_caps_the_batch_below_its_window() -> None:
    from rekoface import InMemorySlotStore

    world = World(job_duration=300.0)
    store = InMemorySlotStore(capacity=4, clock=world.clock)
    outcomes = list(world.run((request(i) for i in range(12)), slots=store))
    assert all(o.ok for o in outcomes)
    assert most_running(world, lambda _: 300.0) == 4
    assert store.held() == 0  # every slot given back as its job ended


def test_two_batches_sharing_a_store_never_hold_more_than_its_slots() -> None:
    from rekoface import InMemorySlotStore

    world = World(job_duration=300.0)
    store = InMemorySlotStore(capacity=6, clock=world.clock)
    first = world.run((request(i) for i in range(10)), slots=store, key="a")
    second = world.run((request(100 + i) for i in range(10)), slots=store, key="b")
    done: list[BatchOutcome] = []
    for a, b in itertools.zip_longest(first, second):  # two workers, taking turns
        done += [o for o in (a, b) if o is not None]
    assert len(done) == 20
    assert all(o.ok for o in done)
    assert most_running(world, lambda _: 300.0) == 6


def test_a_dead_workers_slots_come_back_when_their_leases_run_out() -> None:
    from rekoface import InMemorySlotStore

    world = World(job_duration=300.0)
    store = InMemorySlotStore(capacity=3, clock=world.clock)
    dead = world.run((request(i) for i in range(10)), slots=store)
    next(dead)
    dead.close()  # killed: the leases of its two jobs still running are never given back
    assert store.held() == 2
    outcomes = list(world.run((request(100 + i) for i in range(3)), slots=store))
    assert all(o.ok for o in outcomes)
    # It waited for the leases (InMemorySlotStore.lease_seconds) rather than failing.
    assert world.clock() - EPOCH >= store.lease_seconds


def test_long_jobs_keep_their_leases_by_renewing_them() -> None:
    from rekoface import InMemorySlotStore

    world = World(job_duration=3 * 3600.0)  # far longer than a 900 s lease
    store = InMemorySlotStore(capacity=2, clock=world.clock)
    outcomes = list(world.run((request(i) for i in range(4)), slots=store))
    assert all(o.ok for o in outcomes)
    assert most_running(world, lambda _: 3 * 3600.0) == 2  # never a third job on two slots


def test_a_slot_store_that_is_not_one_is_refused_before_any_call() -> None:
    world = World()
    with pytest.raises(RequestValidationError) as caught:
        world.run([request(0)], slots=object())
    assert caught.value.paths == ("slots",)
    assert world.fake.calls == []


def test_a_batch_on_a_dynamodb_slot_table() -> None:
    import boto3
    from moto import mock_aws

    from rekoface import DynamoDBSlotStore

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        DynamoDBSlotStore.create_table("rekoface-slots", dynamodb_client=dynamodb)
        world = World(job_duration=300.0)
        store = DynamoDBSlotStore(
            "rekoface-slots", capacity=3, dynamodb_client=dynamodb, clock=world.clock
        )
        outcomes = list(world.run((request(i) for i in range(7)), slots=store))
        assert all(o.ok for o in outcomes)
        assert most_running(world, lambda _: 300.0) == 3
        assert store.held() == 0


# -- the start rate a slot store shares -----------------------------------------------------


def test_batches_sharing_a_store_keep_under_its_start_rate_together() -> None:
    from rekoface import InMemorySlotStore

    world = World(job_duration=300.0, max_concurrent_jobs=100)
    world.fake.inject_error("StartFaceSearch", "ThrottlingException", times=4)
    store = InMemorySlotStore(capacity=40, clock=world.clock, start_rate=2.0)
    first = world.run((request(i) for i in range(15)), slots=store, key="a")
    second = world.run((request(100 + i) for i in range(15)), slots=store, key="b")
    done = [o for pair in itertools.zip_longest(first, second) for o in pair if o is not None]
    assert len(done) == 30
    assert all(o.ok for o in done)
    starts = world.calls("StartFaceSearch")
    assert len(starts) == 34  # the retries too
    # Each batch alone may start 5 a second; together they keep to the store's 2.
    assert most_in_any_second(starts) == 2


def test_a_store_that_shares_no_rate_leaves_each_batch_its_own() -> None:
    from rekoface import InMemorySlotStore

    world = World(job_duration=300.0)
    store = InMemorySlotStore(capacity=20, clock=world.clock, start_rate=None)
    list(world.run((request(i) for i in range(20)), slots=store))
    assert most_in_any_second(world.calls("StartFaceSearch")) == 5


class _OwnStore:
    """A user's own `SlotStore`: the four calls of the protocol and nothing more."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.lease_seconds = store.lease_seconds

    def acquire(self, holder: str, *, lease_seconds: float) -> str | None:
        return self.store.acquire(holder, lease_seconds=lease_seconds)  # type: ignore[no-any-return]

    def renew(self, slot_id: str, holder: str, *, lease_seconds: float) -> bool:
        return self.store.renew(slot_id, holder, lease_seconds=lease_seconds)  # type: ignore[no-any-return]

    def release(self, slot_id: str, holder: str) -> None:
        self.store.release(slot_id, holder)

    def held(self) -> int:
        return self.store.held()  # type: ignore[no-any-return]


class _BrokenRate(_OwnStore):
    """A slot store whose shared start rate fails (say, DynamoDB refuses the call)."""

    def reserve_start(self, holder: str) -> float:
        from rekoface import AccessDeniedError

        raise AccessDeniedError(
            {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "UpdateItem"
        )


def test_a_slot_store_without_a_shared_rate_still_works_and_paces_each_batch() -> None:
    from rekoface import InMemorySlotStore

    world = World(job_duration=300.0)
    store = _OwnStore(InMemorySlotStore(capacity=4, clock=world.clock))
    outcomes = list(world.run((request(i) for i in range(10)), slots=store, start_rate=2.0))
    assert all(o.ok for o in outcomes)
    assert most_running(world, lambda _: 300.0) == 4
    assert most_in_any_second(world.calls("StartFaceSearch")) == 2


def test_a_failing_shared_rate_stops_the_batch_instead_of_failing_videos() -> None:
    from rekoface import AccessDeniedError, InMemorySlotStore

    world = World(job_duration=300.0)
    store = _BrokenRate(InMemorySlotStore(capacity=3, clock=world.clock))
    with pytest.raises(AccessDeniedError):
        next(world.run((request(i) for i in range(3)), slots=store))
    assert world.calls("StartFaceSearch") == []  # nothing sent unpaced
