"""What every figure shares: sizes, results, alternating rounds, and a fake AWS environment."""

from __future__ import annotations

import contextlib
import gc
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from rekoface import JobState, JobStatus

#: Region every client of the harness is built for (no request leaves the process).
REGION = "us-east-1"
#: CPU time of this process: on a busy machine, time spent descheduled is not the code's.
TIMER = time.process_time


@dataclass(frozen=True)
class Sizes:
    """How much work each figure does. `FULL` for the published run, `QUICK` for CI."""

    #: Rounds long enough (about a sixth of a second) that one burst of another
    #: process's work is a small part of one.
    start_calls: int = 500
    start_rounds: int = 30
    iterate_pages: int = 20
    iterate_page_size: int = 1000
    #: Nine rounds, not five: on a shared two-core machine one round in five can be off by
    #: a tenth, and the median of five moves with it (the control's spread shows it).
    iterate_rounds: int = 9
    iterate_all_pages: int = 5
    import_runs: int = 30
    importtime_runs: int = 5
    appearances_pages: int = 100
    appearances_page_size: int = 1000
    appearances_rounds: int = 9
    memory_pages: int = 100
    memory_page_size: int = 1000
    backoff_lengths: tuple[float, ...] = ()
    backoff_seeds: tuple[int, ...] = (1, 2, 3, 4, 5)
    #: Lengths on the fallback schedule (5 min, 1 h, 6 h) and one second after it, the
    #: worst case for a lost notification.
    sqs_short_poll_lengths: tuple[float, ...] = (30.0, 301.0, 3601.0)
    sqs_long_poll_lengths: tuple[float, ...] = (
        30.0,
        300.0,
        301.0,
        3600.0,
        3601.0,
        21600.0,
        21601.0,
    )

    def with_rounds(self, rounds: int) -> Sizes:
        """The same sizes with `rounds` alternating rounds (or process pairs) per timed figure."""
        return replace(
            self,
            start_rounds=rounds,
            iterate_rounds=rounds,
            appearances_rounds=rounds,
            import_runs=rounds,
        )


def sweep_lengths() -> tuple[float, ...]:
    """Poller sweep: every second to 10 min, every 10 s to 1 h, every minute to 6 h."""
    lengths = [float(s) for s in range(1, 601)]
    lengths += [float(s) for s in range(610, 3601, 10)]
    lengths += [float(s) for s in range(3660, 21601, 60)]
    return tuple(lengths)


FULL = Sizes(backoff_lengths=sweep_lengths())
QUICK = Sizes(
    start_calls=20,
    start_rounds=2,
    iterate_pages=2,
    iterate_page_size=25,
    iterate_rounds=2,
    iterate_all_pages=2,
    appearances_pages=2,
    appearances_page_size=25,
    appearances_rounds=2,
    import_runs=1,
    importtime_runs=1,
    memory_pages=4,
    memory_page_size=25,
    backoff_lengths=(1.0, 30.0, 299.0, 300.0, 3600.0, 21600.0),
    backoff_seeds=(1,),
    sqs_short_poll_lengths=(30.0,),
    sqs_long_poll_lengths=(30.0, 700.0),
)


@dataclass(frozen=True)
class FigureResult:
    """One row of the table, the detail under it, and what the two sides produced.

    `checks` holds what each side sent and received, so a test can assert that both
    did the same work (it is not rendered).
    """

    number: str
    title: str
    rekoface: str
    baseline: str
    result: str
    target: str
    passed: bool
    details: tuple[str, ...] = ()
    checks: Mapping[str, Any] = field(default_factory=dict)
    #: The boto3-vs-boto3 control of a timed figure (its ratio text), else "—".
    control: str = "—"
    #: Instructions executed, rekoface over boto3, and their control (`benchmarks.instructions`),
    #: when counted; else "—".
    instructions: str = "—"


@dataclass(frozen=True)
class Spread:
    """Median, min and max of a sample."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))

    def ratio_text(self) -> str:
        return f"{self.median:.3f} ({self.low:.3f}-{self.high:.3f})"


@dataclass(frozen=True)
class Rounds:
    """Seconds per operation of each side, round by round, and the paired ratios."""

    rekoface: tuple[float, ...]
    baseline: tuple[float, ...]

    @property
    def ratios(self) -> tuple[float, ...]:
        return tuple(r / b for r, b in zip(self.rekoface, self.baseline, strict=True))

    @property
    def ratio(self) -> Spread:
        return Spread.of(self.ratios)


class Sides(NamedTuple):
    """The two sides of a timed figure: each call of one is a round of `operations` operations."""

    rekoface: Callable[[], object]
    baseline: Callable[[], object]
    operations: int


def alternate(
    rekoface: Callable[[], object],
    baseline: Callable[[], object],
    *,
    rounds: int,
    operations: int,
) -> Rounds:
    """Time `rounds` rounds of each side, the side that goes first alternating by round.

    Round 1 runs baseline then rekoface, round 2 rekoface then baseline, and so on, so
    neither side always inherits the other's caches or heap. Each call of a side is one
    round of `operations` operations; a round's CPU time (`TIMER`) is divided by
    `operations`. One untimed round of each side warms caches and lazy imports first.
    The garbage collector stays on (users run with it on) but is emptied before every
    round, so one side does not pay for the other's garbage.
    """
    baseline()
    rekoface()
    reko_times: list[float] = []
    base_times: list[float] = []
    for number in range(rounds):
        sides = ((baseline, base_times), (rekoface, reko_times))
        for side, times in sides if number % 2 == 0 else sides[::-1]:
            gc.collect()
            started = TIMER()
            side()
            times.append((TIMER() - started) / operations)
    return Rounds(tuple(reko_times), tuple(base_times))


def control(baseline: Callable[[], object], *, rounds: int, operations: int) -> Spread:
    """The noise floor: `alternate` with the baseline on both sides (ideally 1.000)."""
    return alternate(baseline, baseline, rounds=rounds, operations=operations).ratio


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def microseconds(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} µs"


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"


def mebibytes(size: float) -> str:
    return f"{size / 2**20:,.2f} MiB"


def duration(seconds: float) -> str:
    """A job length for humans: ``30 s``, ``5 min``, ``1 h``, ``1 h 30 min``."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes:
        parts.append(f"{minutes} min")
    if secs or not parts:
        parts.append(f"{secs} s")
    return " ".join(parts)


#: Environment for the harness and the processes it starts: fake credentials, a fixed
#: region, no shared config files, and no instance-metadata look-ups.
def fake_aws_environ(config_file: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": config_file,
        "AWS_SHARED_CREDENTIALS_FILE": config_file,
    }


_CLEARED = ("AWS_PROFILE", "AWS_REGION", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS", "AWS_ENDPOINT_URL")


@contextlib.contextmanager
def fake_aws_environment() -> Iterator[None]:
    """Set `fake_aws_environ` (and clear what would change botocore's behaviour), then restore."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="rekoface-bench-") as tmp:
        os.environ.update(fake_aws_environ(os.path.join(tmp, "absent")))
        for name in _CLEARED:
            os.environ.pop(name, None)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


class VirtualClock:
    """Simulated time: `sleep` moves `now` at once (the clock to inject is the object)."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    __call__ = clock

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class SimulatedJob(VirtualClock):
    """A job of `length` seconds on a simulated clock, and the calls made to learn its end."""

    def __init__(self, length: float) -> None:
        super().__init__()
        self.length = length
        self.calls = 0

    def fetch_status(self, job_id: str) -> JobStatus:
        self.calls += 1
        done = self.now >= self.length
        return JobStatus(job_id, JobState.SUCCEEDED if done else JobState.IN_PROGRESS)

    @property
    def lag(self) -> float:
        return self.now - self.length
