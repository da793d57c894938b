"""Figure 9: a fleet of 4 ``search_many`` workers sharing 20 job slots and the start rate.

1,000 videos of 2 to 8 minutes (seeded uniform lengths), each worker with every fourth
one under one batch key, all on one slot store with ``start_rate=5`` shared; the
workers are threads on one `FleetClock` (virtual time that moves only when every
worker sleeps), so the makespan is the schedule's, not this machine's. The ideal is
the greedy schedule of `benchmarks.batch` (same order and start rate, a slot refilled
the instant its job ends).

- Makespan: the fleet against the ideal, on a shared `InMemorySlotStore` (the same
  protocol and lease rules as the DynamoDB store) and an in-memory stand-in of the two
  Rekognition calls, so that a thousand jobs run in seconds.
- DynamoDB calls per job: the same fleet on `DynamoDBSlotStore`s over moto's DynamoDB,
  on the first videos of the same lengths (moto costs about 10 ms a slot read).
- A worker killed halfway: it stops after half its share's outcomes (no release, no
  close); a supervisor restarts it a minute later on the same share with the same key
  (a new holder): it picks up its started jobs by their tokens, and the slots the dead
  one held come back when their 900 s leases run out. The figure is the extra
  makespan over the run without a death.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass

from ._common import FULL, FigureResult, Sizes, duration
from ._fleet_sim import FleetResult, Kill, most_at_once, most_in_any_second, run_fleet
from .batch import greedy_makespan

TARGET = 1.05
WORKERS = 4
START_RATE = 5.0
SHORTEST, LONGEST = 120.0, 480.0
LEASE = 900.0
RESTART_AFTER = 60.0
_SEED = 9


@dataclass(frozen=True)
class FleetSizes:
    videos: int
    slots: int
    #: Videos of the DynamoDB run (moto's cost per call keeps it smaller).
    dynamodb_videos: int


_FULL = FleetSizes(videos=1_000, slots=20, dynamodb_videos=200)
_QUICK = FleetSizes(videos=40, slots=6, dynamodb_videos=16)


def fleet_sizes(sizes: Sizes) -> FleetSizes:
    return _QUICK if sizes.start_calls < FULL.start_calls else _FULL


def video_lengths(videos: int) -> list[float]:
    """Seeded uniform lengths of 2 to 8 minutes."""
    rng = random.Random(_SEED)
    return [rng.uniform(SHORTEST, LONGEST) for _ in range(videos)]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The fleet logs a warning each time every slot is held: not the benchmark's output."""
    logger = logging.getLogger("rekoface")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def run(sizes: Sizes) -> FigureResult:
    from moto import mock_aws

    chosen = fleet_sizes(sizes)
    times = video_lengths(chosen.videos)
    ideal = greedy_makespan(times, chosen.slots, START_RATE)
    kill = Kill(worker=1, after=chosen.videos // WORKERS // 2, restart_after=RESTART_AFTER)

    def fleet(videos: list[float], *, dynamodb: bool, dies: Kill | None = None) -> FleetResult:
        return run_fleet(
            videos,
            workers=WORKERS,
            slots=chosen.slots,
            lease_seconds=LEASE,
            start_rate=START_RATE,
            kill=dies,
            stand_in=True,
            dynamodb=dynamodb,
        )

    with _quiet():
        whole = fleet(times, dynamodb=False)
        killed = fleet(times, dynamodb=False, dies=kill)
        with mock_aws():
            on_dynamodb = fleet(times[: chosen.dynamodb_videos], dynamodb=True)
    ratio = whole.makespan / ideal
    extra = killed.makespan - whole.makespan
    calls = sum(on_dynamodb.dynamodb_calls.values())
    per_job = calls / chosen.dynamodb_videos
    by_operation = ", ".join(
        f"{name} {count / chosen.dynamodb_videos:.2f}"
        for name, count in sorted(on_dynamodb.dynamodb_calls.items())
    )
    lost = chosen.videos - len({o.request.video.name for _, o in killed.outcomes if o.ok})
    twice = sum(count > 1 for count in killed.jobs_per_video.values())
    return FigureResult(
        number="9",
        title=f"fleet: {WORKERS} workers, {chosen.videos:,} videos (2-8 min), "
        f"{chosen.slots} shared slots, {START_RATE:g} starts/s shared, vs the ideal greedy "
        "schedule",
        rekoface=f"{duration(whole.makespan)}; {per_job:.1f} DynamoDB calls/job; "
        f"a worker killed halfway: +{duration(extra)}",
        baseline=f"{duration(ideal)} (ideal)",
        result=f"{ratio:.4f}",
        target=f"≤ {TARGET:.2f}",
        passed=ratio <= TARGET,
        details=(
            f"Makespan {duration(whole.makespan)} against the ideal {duration(ideal)} "
            f"({ratio:.4f}); most jobs running at once {most_at_once(whole.job_intervals)} "
            f"(slots {chosen.slots}); most StartFaceSearch calls in any second, all "
            f"workers together: {most_in_any_second(whole.start_calls)}.",
            f"DynamoDB calls per job: {per_job:.2f} ({by_operation}), the fleet on "
            f"DynamoDBSlotStores over moto with the first {chosen.dynamodb_videos} videos: "
            "a slot read and write to take, a delete to give back, one update to reserve "
            "a start moment, renewals at a third of the lease, and a read a minute by "
            "each worker while every slot is held.",
            f"Worker 1 killed after {kill.after} of its {chosen.videos // WORKERS} videos "
            f"(at {duration(killed.died_at - killed.epoch if killed.died_at else 0.0)}), "
            f"restarted {RESTART_AFTER:.0f} s later on its share with the same key: "
            f"makespan {duration(killed.makespan)}, +{duration(extra)} "
            f"({extra / ideal:.1%} of the ideal); {lost} videos lost, {twice} jobs "
            f"started twice. The dead worker's slots come back when their {LEASE:.0f} s "
            "leases run out; its finished and running jobs are picked up by their tokens.",
            "Makespans are on a shared InMemorySlotStore (the DynamoDB store's protocol "
            "and lease rules) with an in-memory stand-in of StartFaceSearch and "
            "GetFaceSearch, on virtual time: the ratio is the cost of the fleet's "
            "scheduling (detecting ends, pacing, slots shared by workers that each poll "
            "their own jobs), not of this machine.",
        ),
        checks={
            "ideal": ideal,
            "whole": whole,
            "killed": killed,
            "dynamodb": on_dynamodb,
            "videos": chosen.videos,
            "slots": chosen.slots,
            "dynamodb_videos": chosen.dynamodb_videos,
        },
    )


__all__ = ["FleetSizes", "fleet_sizes", "run", "video_lengths"]
