"""The entry point: run the figures, print the table, write ``docs/performance.md``."""

from __future__ import annotations

import argparse
import datetime as _dt
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from ._common import FULL, QUICK, FigureResult, Sizes, fake_aws_environment
from .report import machine, render_document, render_table

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "docs" / "performance.md"


def _start(sizes: Sizes) -> FigureResult:
    from . import start

    return start.run(sizes)


def _iterate(sizes: Sizes) -> FigureResult:
    from . import iterate

    return iterate.run(sizes)


def _iterate_face(sizes: Sizes) -> FigureResult:
    from . import iterate

    return iterate.run(sizes, variant="face")


def _iterate_all(sizes: Sizes) -> FigureResult:
    from . import iterate

    return iterate.run(sizes, variant="all")


def _appearances(sizes: Sizes) -> FigureResult:
    from . import appearances

    return appearances.run(sizes)


def _imports(sizes: Sizes) -> FigureResult:
    from . import imports

    return imports.run(sizes)


def _memory(sizes: Sizes) -> FigureResult:
    from . import memory

    return memory.run(sizes)


def _backoff(sizes: Sizes) -> FigureResult:
    from . import backoff

    return backoff.run(sizes)


def _sqs(sizes: Sizes) -> FigureResult:
    from . import sqs

    return sqs.run(sizes)


def _batch(sizes: Sizes) -> FigureResult:
    from . import batch

    return batch.run(sizes)


def _fleet(sizes: Sizes) -> FigureResult:
    from . import fleet

    return fleet.run(sizes)


#: Every figure, in the table's order.
FIGURES: dict[str, Callable[[Sizes], FigureResult]] = {
    "start": _start,
    "iterate": _iterate,
    "iterate-face": _iterate_face,
    "iterate-all": _iterate_all,
    "imports": _imports,
    "memory": _memory,
    "backoff": _backoff,
    "sqs": _sqs,
    "appearances": _appearances,
    "batch": _batch,
    "fleet": _fleet,
}


def run_all(
    sizes: Sizes,
    *,
    only: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
    instructions: bool = False,
) -> list[FigureResult]:
    """Run the figures (all, or those named in `only`) in a fake AWS environment.

    With `instructions`, the in-process timed figures also get their instruction counts
    (`benchmarks.instructions`, after every timed round, so the counting processes
    disturb no timing), and are judged on them (`benchmarks.instructions.verdict`).
    """
    names = [name for name in FIGURES if not only or name in only]
    results = []
    with fake_aws_environment():
        for position, name in enumerate(names, 1):
            started = time.perf_counter()
            result = FIGURES[name](sizes)
            results.append(result)
            if progress is not None:
                seconds = time.perf_counter() - started
                progress(f"[{position}/{len(names)}] {name}: {result.result} ({seconds:.1f} s)")
    if instructions:
        from . import instructions as counting

        counted = [name for name in names if name in counting.FIGURES]
        started = time.perf_counter()
        quick = sizes == QUICK
        counts = counting.count(counted, quick=quick)
        if progress is not None:
            progress(
                f"instructions of {', '.join(counted)} ({time.perf_counter() - started:.1f} s)"
            )
        results = [
            replace(
                result,
                instructions=counts[name].text(),
                passed=counts[name].ratio <= counting.target(name),
                details=(
                    *result.details,
                    counting.detail(name, counts[name], quick=quick),
                    counting.verdict(
                        name, counts[name], time_ratio=result.result, time_met=result.passed
                    ),
                ),
            )
            if name in counts
            else result
            for name, result in zip(names, results, strict=True)
        ]
    return results


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure rekoface against hand-written boto3 and write docs/performance.md.",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the CI smoke run)")
    parser.add_argument(
        "--rounds",
        type=int,
        metavar="N",
        help="alternating rounds per side of the timed figures (and process pairs of the "
        "import figure)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(FIGURES),
        default=[],
        help="run only this figure (repeatable)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each side's instructions under valgrind's callgrind (figures 1, 2, "
        "2b, 2c and 7; adds about ten minutes)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="PATH",
        help="where to write the markdown report (default: docs/performance.md)",
    )
    output.add_argument("--no-write", action="store_true", help="print the table only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print, write. Always 0 when the harness ran: a missed target is a finding."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(args_list)
    sizes = QUICK if args.quick else FULL
    if args.rounds is not None:
        if args.rounds < 1:
            _parser().error("--rounds must be at least 1")
        sizes = sizes.with_rounds(args.rounds)
    if args.instructions:
        from .instructions import valgrind

        if valgrind() is None:
            _parser().error("--instructions needs valgrind (apt-get install valgrind)")
    date = _dt.datetime.now(_dt.timezone.utc)
    started = time.perf_counter()
    results = run_all(
        sizes,
        only=args.only,
        progress=lambda line: print(line, file=sys.stderr),
        instructions=args.instructions,
    )
    elapsed = time.perf_counter() - started
    print(render_table(results))
    missed = [r.number for r in results if not r.passed]
    print(f"targets met: {len(results) - len(missed)} of {len(results)}", end="")
    print(f" (missed: {', '.join(missed)})" if missed else "")
    if not args.no_write:
        command = shlex.join(["python", "-m", "benchmarks", *args_list])
        document = render_document(
            results, command=command, machine_info=machine(), date=date, elapsed=elapsed
        )
        path: Path = args.output
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(document, encoding="utf-8")
        print(f"wrote {path}")
    return 0
