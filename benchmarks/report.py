"""The table and ``docs/performance.md``, rendered from the figures of one run."""

from __future__ import annotations

import datetime as _dt
import os
import platform
from collections.abc import Mapping, Sequence

from ._common import FigureResult

_HEADER = (
    "| # | figure | rekoface | hand-written boto3 | result: median (min-max) "
    "| control, boto3 vs boto3 | instructions (callgrind) | target | met |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_table(results: Sequence[FigureResult]) -> str:
    """The markdown table: one row per figure, with whether its target was met."""
    lines = list(_HEADER)
    for r in results:
        cells = (
            r.number,
            r.title,
            r.rekoface,
            r.baseline,
            r.result,
            r.control,
            r.instructions,
            r.target,
        )
        status = "yes" if r.passed else "**no**"
        lines.append("| " + " | ".join(_cell(c) for c in cells) + f" | {status} |")
    return "\n".join(lines) + "\n"


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    import boto3
    import botocore

    info = {
        "platform": platform.platform(),
        "processor": _cpu_model() or platform.machine(),
        "cpus": str(os.cpu_count()),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "botocore": botocore.__version__,
        "boto3": boto3.__version__,
    }
    if hasattr(os, "getloadavg"):
        info["load average (1, 5, 15 min) at the end"] = ", ".join(
            f"{load:.2f}" for load in os.getloadavg()
        )
    return info


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return None


def render_document(
    results: Sequence[FigureResult],
    *,
    command: str,
    machine_info: Mapping[str, str],
    date: _dt.datetime,
    elapsed: float,
) -> str:
    """``docs/performance.md``: what was measured, how, the table, and how to reproduce it."""
    met = sum(r.passed for r in results)
    parts = [
        "# Performance\n",
        "rekoface is meant to cost almost nothing over the boto3 code it replaces, to hold "
        "one page of results in memory however many there are, and to spend few "
        "`GetFaceSearch` calls while it waits (the API is throttled per account, 20 TPS "
        "by default). These figures come from the benchmark harness in `benchmarks/`; "
        "this page is written by it.\n",
        "## How it measures\n",
        "- Every timed figure is a ratio, rekoface over hand-written boto3, measured in the "
        "same process on the same machine, in alternating rounds (the side that goes "
        "first alternates: boto3 then rekoface, rekoface then boto3, ...), after one "
        "untimed warm-up round per side. The result is the median of the per-round "
        "ratios, with their min and max; a ratio below 1.00 means rekoface was faster. "
        "Next to it, the control: the same alternation with hand-written boto3 on both "
        "sides, whose spread is the noise floor of that figure on that run. Rounds are "
        "timed in CPU time (`time.process_time`; for whole processes, "
        "the children's user + system time from `getrusage`), so time spent descheduled on "
        "a busy machine is not counted; what other processes do to the caches still is, "
        "which the min-max spread shows.\n"
        "- Both sides go through botocore's whole pipeline (parameter validation, "
        "serialisation, SigV4 signing, response parsing) on the same client, built with "
        "botocore's retries off (`total_max_attempts=1`, as rekoface builds its own). Only "
        "the network is replaced: a `before-send` event hook answers with canned HTTP "
        "bytes, the same for both sides.\n"
        "- Result pages are generated deterministically in the shape `GetFaceSearch` "
        "returns: every person has a `FaceDetail` (bounding box, confidence, landmarks, "
        "pose, quality) and one to three face matches with the collection face's record. "
        "Figures 2 and 2b use the attributes face search reports by default (2b also "
        "reads `person.face`); 2c has every `FaceDetail` attribute (`ALL`). Figure 7's "
        "pages have one match per person, each of a face no other person matches.\n"
        "- The pollers run against a simulated clock: `sleep` advances it, `GetFaceSearch` "
        "reports `IN_PROGRESS` until it reaches the job's length, and the detection lag "
        "is the time from the job's end to the call that saw it. `SqsNotificationPoller` "
        "reads a real (moto) SQS queue, to which the completion notification is published "
        "through SNS when the clock reaches the job's end.\n"
        "- The instructions column (with `--instructions`) counts what each side executes "
        "under valgrind's callgrind, for one round in a process of its own, rekoface's over "
        "boto3's, beside the control (boto3's counted again in a third process). Only the "
        "round is counted, not start-up, imports or the warm-up. A count repeats to within a "
        "few parts in ten thousand, where CPU time on a shared machine moves by several "
        "percent, so it shows what the code costs apart from the machine's noise; it does "
        "not see cache misses. A figure with a count is judged on it (the controls of CPU "
        "time spread wider than a target's margin); the line under the figure says whether "
        "its CPU time met the target too. Without `--instructions`, figures are judged on "
        "CPU time.\n"
        "- Targets are reported, never enforced: no test fails on a timing.\n",
        f"## Results ({met} of {len(results)} targets met)\n",
        render_table(results),
    ]
    for r in results:
        if r.details:
            parts.append(f"### {r.number}. {r.title}\n")
            parts.append("\n".join(r.details) + "\n")
    parts += [
        "## Machine\n",
        "\n".join(f"- {name}: {value}" for name, value in machine_info.items()) + "\n",
        f"- date: {date.strftime('%Y-%m-%d %H:%M UTC')}\n"
        f"- wall time of the run: {elapsed:,.0f} s\n",
        "## Reproduce\n",
        "From the repository root, with the development extra installed "
        "(`pip install -e '.[dev]'`):\n",
        f"```\n{command}\n```\n",
        "`--quick` runs every figure with tiny sizes (what CI runs, through "
        "`tests/test_benchmarks.py`); `--rounds N` sets the alternating rounds of the timed "
        "figures; `--no-write` prints the table without writing this page; `--instructions` "
        "adds the instruction counts (it needs valgrind, and about ten more minutes).\n",
    ]
    return "\n".join(parts)
