"""Figure 3: a whole process that imports rekoface and builds a client, vs the same with boto3.

Each run is a fresh ``python -c`` process (interpreter start-up included, as a user's
script or Lambda cold start pays it), timed from outside; the two kinds of run
alternate. ``-X importtime`` then shows which modules ``import rekoface`` adds on top
of what boto3 imports anyway, and what they cost.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ._common import REGION, FigureResult, Rounds, Sizes, milliseconds, plural

TARGET = 1.05
ROOT = Path(__file__).resolve().parent.parent

REKOFACE_CODE = f"import rekoface; rekoface.FaceSearchClient(region_name={REGION!r})"
BOTO3_CODE = f"import boto3; boto3.client('rekognition', region_name={REGION!r})"
#: `-X importtime` does not log modules loaded through `importlib.import_module` (as
#: ``rekoface.__getattr__`` loads ``rekoface.client``), so that run names it in an import.
IMPORTTIME_CODE = "import rekoface.client; " + REKOFACE_CODE
#: How many of the modules `import rekoface` adds to list, costliest first.
TOP = 12


def _children_cpu() -> float:
    """CPU seconds (user + system) of every child process waited for so far."""
    if sys.platform == "win32":  # no getrusage: fall back to wall-clock time
        return time.perf_counter()
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _environment() -> dict[str, str]:
    """This environment, but free to write bytecode caches: an installed package has them
    (pip compiles a wheel's modules), so neither side may compile its modules per process
    (``PYTHONDONTWRITEBYTECODE=1`` would leave a source checkout's stale caches stale)."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def _run(code: str, *options: str) -> tuple[float, float, str]:
    """CPU and wall-clock seconds of one ``python -c code`` process, and its stderr."""
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *options, "-c", code],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"`python -c {code!r}` failed:\n{done.stderr}")
    return _children_cpu() - cpu, elapsed, done.stderr


def import_times(stderr: str) -> dict[str, tuple[int, int]]:
    """``-X importtime`` output as {module: (self µs, cumulative µs)}."""
    times: dict[str, tuple[int, int]] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:") :].split("|")
        times[name.strip()] = (int(self_us), int(cumulative_us))
    return times


def added_modules(runs: int) -> list[tuple[str, int, int]]:
    """Modules the rekoface process imports and the boto3 one does not: (name, self µs, cum µs).

    Medians over `runs` runs of each, costliest (self time) first.
    """
    reko: dict[str, list[tuple[int, int]]] = {}
    boto: set[str] = set()
    for _ in range(runs):
        boto.update(import_times(_run(BOTO3_CODE, "-X", "importtime")[2]))
        for name, pair in import_times(_run(IMPORTTIME_CODE, "-X", "importtime")[2]).items():
            reko.setdefault(name, []).append(pair)
    added = [
        (
            name,
            int(statistics.median(p[0] for p in pairs)),
            int(statistics.median(p[1] for p in pairs)),
        )
        for name, pairs in reko.items()
        if name not in boto
    ]
    added.sort(key=lambda item: item[1], reverse=True)
    return added


def _offender_lines(added: Sequence[tuple[str, int, int]]) -> tuple[str, ...]:
    total = sum(self_us for _, self_us, _ in added)
    lines = [
        f"`-X importtime`: the rekoface process imports {plural(len(added), 'module')} that "
        f"the boto3 one does not, {total / 1000:,.1f} ms of self time in all (medians of "
        "a few runs, costliest first; `rekoface.client` is imported by name in that run, "
        "since `-X importtime` does not log modules loaded by `importlib.import_module`):",
        "",
        "| module | self | cumulative |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| `{name}` | {self_us / 1000:,.1f} ms | {cum_us / 1000:,.1f} ms |"
        for name, self_us, cum_us in added[:TOP]
    ]
    return tuple(lines)


def run(sizes: Sizes) -> FigureResult:
    _run(BOTO3_CODE)  # warm the OS file cache and the bytecode caches of both
    _run(REKOFACE_CODE)
    reko_times: list[float] = []
    boto_times: list[float] = []
    reko_wall: list[float] = []
    boto_wall: list[float] = []
    control_times: list[float] = []
    for number in range(sizes.import_runs):
        # Who goes first alternates; a third, boto3 again, is the control (the noise floor).
        for code in (BOTO3_CODE, REKOFACE_CODE) if number % 2 == 0 else (REKOFACE_CODE, BOTO3_CODE):
            cpu, wall, _ = _run(code)
            (boto_times if code == BOTO3_CODE else reko_times).append(cpu)
            (boto_wall if code == BOTO3_CODE else reko_wall).append(wall)
        control_times.append(_run(BOTO3_CODE)[0])
    rounds = Rounds(tuple(reko_times), tuple(boto_times))
    noise = Rounds(tuple(control_times), tuple(boto_times)).ratio
    wall_ratio = Rounds(tuple(reko_wall), tuple(boto_wall)).ratio
    ratio = rounds.ratio
    passed = ratio.median <= TARGET
    added = added_modules(sizes.importtime_runs)
    details = (
        f"{plural(sizes.import_runs, 'process pair')}, alternating (and a third boto3 process "
        "each time, for the control); each process is timed "
        "whole (interpreter start-up, imports, client construction, exit) by its CPU time "
        "(user + system, from `getrusage`), which a busy machine does not inflate. "
        f"Wall-clock: {milliseconds(statistics.median(reko_wall))} vs "
        f"{milliseconds(statistics.median(boto_wall))}, ratio {wall_ratio.ratio_text()}.",
        "",
        f'- rekoface: `python -c "{REKOFACE_CODE}"`',
        f'- boto3: `python -c "{BOTO3_CODE}"`',
        "",
        *_offender_lines(added),
    )
    return FigureResult(
        number="3",
        title='`import rekoface; FaceSearchClient(region_name="us-east-1")` vs `import boto3; '
        'boto3.client("rekognition", region_name="us-east-1")`, whole process',
        rekoface=f"{milliseconds(statistics.median(reko_times))} CPU/process",
        baseline=f"{milliseconds(statistics.median(boto_times))} CPU/process",
        result=ratio.ratio_text(),
        target=f"≤ {TARGET:.2f}",
        passed=passed,
        control=noise.ratio_text(),
        details=details,
        checks={"added_modules": added, "control_ratio": noise},
    )
