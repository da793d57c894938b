"""A fleet: several `search_many` workers as threads sharing one fake service and one slot table.

Each worker has its own boto3 clients (Rekognition on one shared
`rekoface.testing.FakeRekognition`, DynamoDB on one moto table) and its own share of
the videos, all under one key. Time is a `FleetClock`: it moves only when every worker
sleeps in its injected sleep, so nothing waits in real time. moto's conditional writes
are not atomic across the threads of one process (DynamoDB's are), so the harness
serialises every DynamoDB call with one lock taken in botocore's ``before-call`` event
and given back in ``after-call``: the test judges the store's conditions, not moto's
locking. The harness lives in ``benchmarks/_fleet_sim.py``, shared with the benchmark.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from rekoface import BatchOutcome, InMemorySlotStore

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `benchmarks/` is not part of the installed wheel
    sys.path.insert(0, str(ROOT))

from benchmarks._fleet_clock import FleetClock  # noqa: E402
from benchmarks._fleet_sim import (  # noqa: E402
    FleetResult,
    Kill,
    most_at_once,
    most_in_any_second,
    run_fleet,
    run_threads,
    video_name,
)

WORKERS = 3
VIDEOS = 24
SLOTS = 5
RATE = 5.0
#: Every job ends well inside a lease (900 s), so a dead worker's leases outlive its jobs.
_SEEDED = random.Random(16)
LENGTHS = [_SEEDED.uniform(60.0, 600.0) for _ in range(VIDEOS)]


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def running_as_the_clock_reaches(result: FleetResult, at: float) -> int:
    """Jobs running when the clock moves to `at`, before any worker acts at `at`."""
    return sum(start < at < end for start, end in result.job_intervals)


def video_of(outcome: BatchOutcome) -> int:
    return int(outcome.request.video.name[1:6])


def assert_every_video_done_once(result: FleetResult) -> None:
    ok = {video_of(outcome) for _, outcome in result.outcomes if outcome.ok}
    assert ok == set(range(VIDEOS))  # no video lost
    assert result.jobs_per_video == {video_name(i): 1 for i in range(VIDEOS)}  # none twice


def test_a_fleet_on_one_table_keeps_the_account_under_its_slots(aws: None) -> None:
    result = run_fleet(LENGTHS, workers=WORKERS, slots=SLOTS)
    assert_every_video_done_once(result)
    assert len(result.outcomes) == VIDEOS
    # At the service: never more jobs IN_PROGRESS at once than slots, and the slots kept full.
    assert most_at_once(result.job_intervals) == SLOTS
    assert {name for name, _ in result.outcomes} == {f"worker-{n}" for n in range(WORKERS)}


def test_at_every_instant_each_running_job_holds_a_live_lease() -> None:
    clock = FleetClock(1_700_000_000.0)
    store = InMemorySlotStore(SLOTS, clock=clock.clock, start_rate=RATE)
    held: list[tuple[float, int]] = []
    clock.on_advance.append(lambda now: held.append((now, store.held())))
    result = run_fleet(
        LENGTHS, workers=WORKERS, slots=SLOTS, clock=clock, dynamodb=False, shared_store=store
    )
    assert_every_video_done_once(result)
    assert held  # the clock moved, with every worker asleep, many times
    assert max(count for _, count in held) == SLOTS
    assert all(running_as_the_clock_reaches(result, at) <= count for at, count in held)
    assert store.held() == 0  # every slot given back


def test_a_killed_worker_loses_no_video_and_starts_no_job_twice(aws: None) -> None:
    kill = Kill(worker=1, after=2, restart_after=60.0)
    result = run_fleet(LENGTHS, workers=WORKERS, slots=SLOTS, kill=kill)
    assert_every_video_done_once(result)
    assert result.died_at is not None
    assert result.restarted_at == result.died_at + 60.0
    dead = {video_of(o): o.job for name, o in result.outcomes if name == "worker-1"}
    again = {video_of(o): o.job for name, o in result.outcomes if name == "worker-1-restarted"}
    assert len(dead) == 2
    assert set(again) == set(range(1, VIDEOS, WORKERS))  # its whole share, re-run
    # What the dead worker had finished comes back with the same job: picked up by token.
    assert all(again[index] == job for index, job in dead.items())
    # Its leases ran out on their own (no release); the account never went over.
    assert most_at_once(result.job_intervals) <= SLOTS


#: Enough slots that a fleet could start more than the rate in its first second.
MANY_SLOTS = 15


def test_the_fleet_keeps_under_the_start_rate_together_retries_included(aws: None) -> None:
    result = run_fleet(LENGTHS, workers=WORKERS, slots=MANY_SLOTS, throttled_starts=6)
    assert_every_video_done_once(result)
    assert len(result.start_calls) == VIDEOS + 6
    assert most_in_any_second(result.start_calls) <= RATE


def test_without_a_shared_rate_the_same_fleet_bursts_past_it() -> None:
    """The control: each worker alone keeps to 5 a second, so together they do not."""
    result = run_fleet(LENGTHS, workers=WORKERS, slots=MANY_SLOTS, dynamodb=False, share_rate=False)
    assert_every_video_done_once(result)
    assert most_in_any_second(result.start_calls) > RATE


def test_the_fleet_clock_moves_only_when_every_member_sleeps() -> None:
    import threading

    clock = FleetClock(100.0)
    seen: list[tuple[str, float]] = []
    go = threading.Event()

    def slow() -> None:
        try:
            go.wait()  # busy in "real" work: the other member's sleep must wait for it
            seen.append(("slow works at", clock.clock()))
            clock.sleep(5.0)
            seen.append(("slow wakes at", clock.clock()))
        finally:
            clock.leave()

    def quick() -> None:
        try:
            go.set()
            clock.sleep(10.0)
            seen.append(("quick wakes at", clock.clock()))
        finally:
            clock.leave()

    members = [slow, quick]
    run_threads(clock, lambda number: members[number](), len(members))
    assert seen == [("slow works at", 100.0), ("slow wakes at", 105.0), ("quick wakes at", 110.0)]
