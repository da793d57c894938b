"""Figure 5: ``GetFaceSearch`` calls and detection lag of `BackoffPoller` vs a fixed 5 s loop.

Simulated time: the poller's `sleep` advances a clock, and `fetch_status` reports
``IN_PROGRESS`` until the clock reaches the job's length. The lag is the time from the
job's end to the call that saw it. Every job length of a sweep is run with the
poller's defaults, without jitter and with jitter under a few seeds (its `random` is
injectable), against the loop a hand-written waiter uses: ask, sleep 5 s, ask again.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from rekoface import BackoffPoller, JobState

from ._common import FigureResult, SimulatedJob, Sizes, duration, plural, sweep_lengths

#: The loop a hand-written waiter writes.
FIXED_INTERVAL = 5.0
#: At least this many times fewer calls than the fixed loop on a 6 h job, in every variant.
CALL_RATIO_TARGET = 20.0
TARGET_JOB = 21600.0
#: Jobs this long or longer are summarised in the details.
LONG_JOB = 3600.0
#: Lengths shown one by one in the details.
SHOWN = (30.0, 300.0, 3600.0, 21600.0)
_EPSILON = 1e-6


@dataclass(frozen=True)
class Outcome:
    """Calls made and detection lag for one job length."""

    length: float
    calls: int
    lag: float


def fixed_loop(length: float) -> Outcome:
    """The hand-written waiter: ask, and while in progress, sleep 5 s and ask again."""
    job = SimulatedJob(length)
    while job.fetch_status("job").state is JobState.IN_PROGRESS:
        job.sleep(FIXED_INTERVAL)
    return Outcome(length, job.calls, job.lag)


def backoff(length: float, *, seed: int | None) -> Outcome:
    """`BackoffPoller` with its defaults; `seed` None means ``jitter=False``."""
    job = SimulatedJob(length)
    poller = BackoffPoller(
        jitter=seed is not None,
        sleep=job.sleep,
        clock=job.clock,
        random=random.Random(seed).random,
    )
    status = poller.wait("job", job.fetch_status)
    if status.state is not JobState.SUCCEEDED:  # pragma: no cover - a poller bug
        raise AssertionError(f"poller returned {status.state} for a finished job")
    return Outcome(length, job.calls, job.lag)


def lag_bound(length: float) -> float:
    """The promised worst lag: ``max(initial_delay, lag_fraction x length)``."""
    return max(5.0, 0.1 * length)


@dataclass(frozen=True)
class Variant:
    """One poller configuration over the whole sweep."""

    name: str
    outcomes: tuple[Outcome, ...]


def _sweep(lengths: Sequence[float], run: Callable[[float], Outcome]) -> tuple[Outcome, ...]:
    return tuple(run(length) for length in lengths)


def run(sizes: Sizes) -> FigureResult:
    lengths = tuple(sorted(set(sizes.backoff_lengths) | set(SHOWN)))
    fixed = {o.length: o for o in _sweep(lengths, fixed_loop)}
    variants = [Variant("jitter=False", _sweep(lengths, partial(backoff, seed=None)))]
    variants += [
        Variant(f"jitter=True, seed {seed}", _sweep(lengths, partial(backoff, seed=seed)))
        for seed in sizes.backoff_seeds
    ]
    everything = [o for v in variants for o in v.outcomes]

    long_ratios = [fixed[o.length].calls / o.calls for o in everything if o.length >= LONG_JOB]
    min_ratio = min(long_ratios)
    worst_lag = max(everything, key=lambda o: o.lag / lag_bound(o.length))
    lag_share = worst_lag.lag / lag_bound(worst_lag.length)
    lag_ok = lag_share <= 1 + _EPSILON
    target_ratio = min(
        fixed[o.length].calls / o.calls for o in everything if o.length == TARGET_JOB
    )
    ratio_ok = target_ratio >= CALL_RATIO_TARGET

    def calls_at(length: float) -> list[int]:
        return [o.calls for v in variants for o in v.outcomes if o.length == length]

    if set(sweep_lengths()) <= set(lengths):
        which = "every second to 10 min, every 10 s to 1 h, every minute to 6 h"
    else:
        which = ", ".join(duration(n) for n in lengths)
    details = [
        f"{plural(len(lengths), 'job length')} from {duration(lengths[0])} to "
        f"{duration(lengths[-1])} ({which}); the poller with its defaults (`initial_delay=5`, "
        "`max_delay=120`, `lag_fraction=0.1`), without jitter and with jitter under "
        f"{plural(len(sizes.backoff_seeds), 'seed')} (`random=random.Random(seed).random`).",
        "",
        "| job | 5 s loop: calls | 5 s loop: worst lag | BackoffPoller: calls, no jitter | "
        "calls, jitter (min-max) | fewer calls (worst) | worst lag | lag bound |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for length in SHOWN:
        if length not in fixed:
            continue
        base = fixed[length]
        no_jitter = variants[0].outcomes[lengths.index(length)]
        jittered = calls_at(length)[1:] or [no_jitter.calls]
        worst = max(
            (o for v in variants for o in v.outcomes if o.length == length), key=lambda o: o.lag
        )
        details.append(
            f"| {duration(length)} | {base.calls:,} | {base.lag:.1f} s | {no_jitter.calls:,} | "
            f"{min(jittered):,}-{max(jittered):,} | "
            f"{base.calls / max(calls_at(length)):.1f}x | {worst.lag:.1f} s | "
            f"{lag_bound(length):.1f} s |"
        )
    details += [
        "",
        "Over the whole sweep and every variant: the fewest-times-fewer calls on jobs of an "
        f"hour or more is {min_ratio:.2f}x (at {duration(_argmin_length(everything, fixed))}); "
        f"the worst lag relative to its bound is {lag_share:.1%} of it "
        f"({worst_lag.lag:.1f} s on a {duration(worst_lag.length)} job, "
        f"bound {lag_bound(worst_lag.length):.1f} s).",
    ]
    for variant in variants:
        ratios = [fixed[o.length].calls / o.calls for o in variant.outcomes if o.length >= LONG_JOB]
        if ratios:
            details.append(
                f"- {variant.name}: {min(ratios):.2f}x to {max(ratios):.2f}x fewer calls on jobs "
                f"≥ 1 h (median {statistics.median(ratios):.2f}x)"
            )

    hour = calls_at(LONG_JOB) if LONG_JOB in fixed else []
    six = calls_at(21600.0) if 21600.0 in fixed else []
    return FigureResult(
        number="5",
        title="`GetFaceSearch` calls and worst detection lag, `BackoffPoller` defaults vs a "
        "fixed 5 s loop, job lengths from 1 s to 6 h (simulated clock)",
        rekoface=f"1 h: {min(hour)}-{max(hour)} calls; 6 h: {min(six)}-{max(six)} calls"
        if hour and six
        else "-",
        baseline=f"1 h: {fixed[LONG_JOB].calls:,} calls; 6 h: {fixed[21600.0].calls:,} calls"
        if hour and six
        else "-",
        result=f"6 h: {target_ratio:.2f}x fewer calls (worst variant); worst lag "
        f"{lag_share:.0%} of its bound",
        target=f"6 h: ≥ {CALL_RATIO_TARGET:.0f}x fewer calls; lag ≤ max(5 s, 10% of the job) "
        "at every length",
        passed=ratio_ok and lag_ok,
        details=tuple(details),
        checks={
            "min_ratio": min_ratio,
            "target_ratio": target_ratio,
            "lag_share": lag_share,
            "lengths": len(lengths),
            "variants": [v.name for v in variants],
        },
    )


def _argmin_length(outcomes: Sequence[Outcome], fixed: dict[float, Outcome]) -> float:
    long = [o for o in outcomes if o.length >= LONG_JOB]
    return min(long, key=lambda o: fixed[o.length].calls / o.calls).length
