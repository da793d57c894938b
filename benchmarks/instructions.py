"""Instructions executed by each side of the in-process timed figures, counted by callgrind.

CPU time on a shared machine moves from run to run by more than a target's margin
(the controls show it); the number of instructions a side executes hardly moves. So
``python -m benchmarks --instructions`` also counts them: each side runs in a process
of its own under ``valgrind --tool=callgrind``, builds the figure, runs one uncounted
warm-up round, then one round through `contextvars.Context.run`. Only what runs inside
that call is counted (``--collect-atstart=no --toggle-collect=context_run``: neither side
calls it otherwise, where `exec`, say, runs the ``-m`` module itself and every attrs
class definition), so interpreter start-up, imports, page generation and the warm-up are
not. The control is
the baseline side counted again in a third process. ``PYTHONHASHSEED`` is fixed, so
dict and set layouts repeat.

Instructions are not time: a cache miss costs no instruction, the garbage collector's
walks do. A counted figure is judged on its count (`verdict`): on this kind of machine
the count tells a 1% difference apart, CPU time not a 5% one. Its CPU time stays beside
it, with the control's spread, and the verdict line says whether time met it too.
"""

from __future__ import annotations

import argparse
import contextvars
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from ._common import FULL, QUICK, Sides, Sizes, fake_aws_environ, fake_aws_environment

ROOT = Path(__file__).resolve().parent.parent
#: Smaller than the timed figures' (a round runs about 50 times slower under callgrind):
#: instructions per match hardly depend on how many pages there are.
COUNTED = replace(FULL, iterate_pages=5, iterate_all_pages=2, appearances_pages=20)
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")
_OPERATIONS = re.compile(r"^operations: (\d+)$", re.MULTILINE)
SIDE_NAMES = ("rekoface", "baseline")


def _start(sizes: Sizes) -> Sides:
    from . import start

    return start.sides(sizes)[0]


#: The variant of figure 2 that each counted iteration figure is.
_VARIANTS = {"iterate": "default", "iterate-face": "face", "iterate-all": "all"}


def _iterate(variant: str) -> Callable[[Sizes], Sides]:
    def sides(sizes: Sizes) -> Sides:
        from . import iterate

        return iterate.sides(sizes, variant)[0]

    return sides


def _appearances(sizes: Sizes) -> Sides:
    from . import appearances

    return appearances.sides(sizes)[0]


def target(figure: str) -> float:
    """The ratio the counted `figure` must not exceed: the figure's own target."""
    if figure == "start":
        from . import start

        return start.TARGET
    if figure == "appearances":
        from . import appearances

        return appearances.TARGET
    from . import iterate

    return iterate.TARGETS[_VARIANTS[figure]][1]


#: The figures counted, by their name in `benchmarks.run.FIGURES`.
FIGURES: dict[str, Callable[[Sizes], Sides]] = {
    "start": _start,
    **{name: _iterate(variant) for name, variant in _VARIANTS.items()},
    "appearances": _appearances,
}


@dataclass(frozen=True)
class Count:
    """Instructions per operation of each side, and of the baseline counted again."""

    rekoface: float
    baseline: float
    control: float

    @property
    def ratio(self) -> float:
        return self.rekoface / self.baseline

    def text(self) -> str:
        """The table's cell: the ratio, then the control's."""
        return f"{self.ratio:.3f} (control {self.control / self.baseline:.3f})"


def valgrind() -> str | None:
    """The valgrind executable, if this machine has one."""
    return shutil.which("valgrind")


def command(figure: str, side: str, *, quick: bool, tool: str = "valgrind") -> list[str]:
    """The process that counts one side of `figure`."""
    child = [sys.executable, "-m", "benchmarks.instructions", figure, side]
    if quick:
        child.append("--quick")
    return [
        tool,
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        "--collect-atstart=no",
        "--toggle-collect=context_run",
        *child,
    ]


def count_side(figure: str, side: str, *, quick: bool, tool: str = "valgrind") -> tuple[int, int]:
    """Instructions one round of `side` of `figure` executes (a process under `tool`), and
    the operations of that round (the counted process says how many)."""
    with_env = {**os.environ, **fake_aws_environ(os.devnull), "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        command(figure, side, quick=quick, tool=tool),
        cwd=ROOT,
        env=with_env,
        capture_output=True,
        text=True,
        check=False,
    )
    found = _COLLECTED.findall(done.stderr)
    operations = _OPERATIONS.findall(done.stdout)
    if done.returncode != 0 or not found or not operations:
        raise RuntimeError(
            f"counting {figure} ({side}) failed with exit {done.returncode}: {done.stderr[-2000:]}"
        )
    return int(found[-1]), int(operations[-1])


def count(
    figures: Sequence[str], *, quick: bool, tool: str = "valgrind", jobs: int = 2
) -> dict[str, Count]:
    """The `Count` of each of `figures` (names of `FIGURES`), `jobs` processes at a time."""
    runs = [(name, side) for name in figures for side in (*SIDE_NAMES, "baseline")]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        counted = list(
            pool.map(lambda run: count_side(run[0], run[1], quick=quick, tool=tool), runs)
        )
    per_operation = [instructions / operations for instructions, operations in counted]
    return {
        name: Count(*per_operation[3 * position : 3 * position + 3])
        for position, name in enumerate(figures)
    }


def detail(figure: str, counted: Count, *, quick: bool) -> str:
    """The line under the figure: what one counted round was, and each side's count."""
    sizes = QUICK if quick else COUNTED
    rounds = {
        "start": f"{sizes.start_calls:,} starts",
        "iterate": f"{sizes.iterate_pages} pages of {sizes.iterate_page_size:,}",
        "iterate-face": f"{sizes.iterate_pages} pages of {sizes.iterate_page_size:,}",
        "iterate-all": f"{sizes.iterate_all_pages} pages of {sizes.iterate_page_size:,}",
        "appearances": f"{sizes.appearances_pages} pages of {sizes.appearances_page_size:,}",
    }
    return (
        f"Instructions (callgrind, one round of {rounds[figure]} per side): "
        f"{counted.rekoface:,.0f} (rekoface) and {counted.baseline:,.0f} (boto3) per "
        f"operation; the control {counted.control:,.0f}."
    )


def verdict(figure: str, counted: Count, *, time_ratio: str, time_met: bool) -> str:
    """The line that says what the figure was judged on, and how CPU time compares."""
    limit = target(figure)
    met = "met" if counted.ratio <= limit else "not met"
    return (
        f"Judged on instructions: {counted.ratio:.3f} against ≤ {limit:.2f}, {met}. "
        f"CPU time: {time_ratio}, {'also within' if time_met else 'over'} the target."
    )


def _run_side(figure: str, side: str, *, quick: bool) -> None:
    """In the counted process: build, warm up, then run one round inside `Context.run`."""
    with fake_aws_environment():
        sides = FIGURES[figure](QUICK if quick else COUNTED)
        chosen = sides.rekoface if side == "rekoface" else sides.baseline
        chosen()
        contextvars.Context().run(chosen)  # the counted region
    print(f"operations: {sides.operations}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions")
    parser.add_argument("figure", choices=sorted(FIGURES))
    parser.add_argument("side", choices=SIDE_NAMES)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    _run_side(args.figure, args.side, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
