"""Figure 8 (``search_many`` against the ideal greedy schedule), at the quick sizes: the ideal
is computed right, the runs did the whole batch within the window, and the queue mode's and
the memory's numbers come from real work. No timing is asserted: the figure is on the fake's
clock, and a missed target is a finding for docs/performance.md, never a test failure."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `benchmarks/` is not part of the installed wheel
    sys.path.insert(0, str(ROOT))

from benchmarks import QUICK, FigureResult  # noqa: E402
from benchmarks import batch as figure  # noqa: E402
from benchmarks._common import fake_aws_environment  # noqa: E402


@pytest.mark.parametrize(
    ("lengths", "slots", "rate", "makespan"),
    [
        ([10.0, 10.0, 10.0], 2, 1.0, 20.0),  # the third waits for the first slot to free
        ([10.0, 10.0, 10.0], 3, 0.5, 14.0),  # starts at 0, 2, 4: the rate decides
        ([30.0, 5.0, 5.0, 5.0], 2, 1.0, 30.0),  # the short ones share the second slot
    ],
)
def test_the_ideal_refills_a_slot_the_instant_its_job_ends(
    lengths: list[float], slots: int, rate: float, makespan: float
) -> None:
    assert figure.greedy_makespan(lengths, slots, rate) == pytest.approx(makespan)


@pytest.fixture(scope="module")
def result() -> FigureResult:
    with fake_aws_environment():
        return figure.run(QUICK)


def test_both_batches_ran_every_video_within_the_window(result: FigureResult) -> None:
    checks = result.checks
    for run in (checks["polling"], checks["queue"]):
        assert run.ok == run.jobs == checks["videos"]
        assert run.most_in_flight == checks["slots"]
        # No batch beats the ideal: it is a lower bound, the same order at the same rate.
        assert run.makespan >= checks["ideal"] * (1 - 1e-9)


def test_notifications_make_far_fewer_status_calls_than_polling(result: FigureResult) -> None:
    polling, queue = result.checks["polling"], result.checks["queue"]
    assert queue.status_calls * 5 < polling.status_calls
    assert queue.status_calls >= 2 * queue.jobs  # a first check and the confirmation


def test_memory_is_measured_over_every_item_of_both_inputs(result: FigureResult) -> None:
    memory = result.checks["memory"]
    for items, peak, done in memory.values():
        assert done == items
        assert peak > 0
    assert memory["large"][0] == 10 * memory["small"][0]
