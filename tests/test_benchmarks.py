"""The benchmark harness, run in-process with tiny sizes (``--quick``): it works, both sides
of every figure do the same work, and the report renders. No timing is asserted: a
missed target is a finding for docs/performance.md, never a test failure."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `benchmarks/` is not part of the installed wheel
    sys.path.insert(0, str(ROOT))

from benchmarks import QUICK, FigureResult, render_table, run_all  # noqa: E402
from benchmarks import run as bench_run  # noqa: E402
from benchmarks._canned import job_id_for_token, page_body  # noqa: E402
from benchmarks._common import alternate  # noqa: E402
from benchmarks.backoff import FIXED_INTERVAL, fixed_loop  # noqa: E402
from benchmarks.imports import _run as run_process  # noqa: E402
from benchmarks.sqs import FALLBACK_INTERVAL  # noqa: E402


@pytest.fixture(scope="module")
def results() -> dict[str, FigureResult]:
    """Every figure, once, at the quick sizes (the harness sets its own fake AWS environment)."""
    return {r.number: r for r in run_all(QUICK)}


def _checks(results: Mapping[str, FigureResult], number: str) -> Mapping[str, Any]:
    return results[number].checks


TIMED = ("1", "2", "2b", "2c", "3", "7")


def test_every_figure_runs_and_reports(results: dict[str, FigureResult]) -> None:
    assert list(results) == ["1", "2", "2b", "2c", "3", "4", "5", "6", "7", "8", "9"]
    for result in results.values():
        assert result.title
        assert result.result
        assert result.target


@pytest.mark.parametrize("number", TIMED)
def test_timed_figures_show_their_control_and_judge_the_median(
    results: dict[str, FigureResult], number: str
) -> None:
    result = results[number]
    control = result.checks["control_ratio"]
    assert result.control == control.ratio_text()
    assert control.low <= control.median <= control.high
    # The verdict is the median ratio against the target, both as printed.
    median = float(result.result.split()[0])
    target = float(result.target.removeprefix("≤ "))
    assert result.passed == (median <= target)


def test_start_sides_send_the_same_request_and_get_their_own_jobs(
    results: dict[str, FigureResult],
) -> None:
    checks = _checks(results, "1")
    for side in ("rekoface", "boto3"):
        jobs = checks[f"{side}_jobs"]
        sent = checks[f"{side}_sent"]
        assert len(jobs) == len(sent) == QUICK.start_calls
        # Every start carried a fresh token, and got back the job the service gives that token.
        tokens = [params["ClientRequestToken"] for params in sent]
        assert len(set(tokens)) == len(tokens)
        assert [token for _, token in jobs] == tokens
        assert [job_id for job_id, _ in jobs] == [job_id_for_token(t) for t in tokens]

    def without_token(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in p.items() if k != "ClientRequestToken"} for p in sent]

    assert without_token(checks["rekoface_sent"]) == without_token(checks["boto3_sent"])
    assert checks["rekoface_sent"][0]["FaceMatchThreshold"] == 85.0


@pytest.mark.parametrize("number", ["2", "2b", "2c"])
def test_iterate_sides_read_identical_matches(
    results: dict[str, FigureResult], number: str
) -> None:
    checks = _checks(results, number)
    pages = QUICK.iterate_all_pages if number == "2c" else QUICK.iterate_pages
    assert checks["rekoface_rows"] == checks["boto3_rows"]
    assert len(checks["rekoface_rows"]) == pages * QUICK.iterate_page_size
    assert checks["rekoface_digest"] == checks["boto3_digest"]
    digest = checks["rekoface_digest"]
    assert digest.persons == pages * QUICK.iterate_page_size
    assert digest.face_matches >= digest.persons  # one to three face matches each
    assert digest.external_id_chars > 0
    assert digest.index_sum > 0
    # Only the figures that read `person.face` see it (and both sides then do).
    assert (digest.face_sum > 0) == (number != "2")
    # Same GetFaceSearch parameters, page by page, NextToken included.
    assert checks["rekoface_sent"] == checks["boto3_sent"]
    assert len(checks["rekoface_sent"]) == pages
    assert "NextToken" not in checks["rekoface_sent"][0]
    assert all("NextToken" in params for params in checks["rekoface_sent"][1:])


def test_memory_reads_every_person_of_every_page(results: dict[str, FigureResult]) -> None:
    checks = _checks(results, "4")
    assert checks["rekoface_digest"].persons == QUICK.memory_pages * QUICK.memory_page_size
    assert checks["rekoface_one_page_digest"] == checks["boto3_one_page_digest"]
    assert checks["rekoface_one_page_digest"].persons == QUICK.memory_page_size


def test_imports_lists_what_rekoface_adds_over_boto3(results: dict[str, FigureResult]) -> None:
    added = {name for name, _, _ in _checks(results, "3")["added_modules"]}
    assert {"rekoface", "rekoface.client", "rekoface.errors"} <= added
    assert not any(name.startswith("boto3") for name in added)


def test_import_processes_may_write_bytecode_caches_as_installed_packages_have(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A stale cache of a checkout's edited module, never rewritten, would be compiled in
    # every timed process of one side only.
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    _, _, stderr = run_process("import sys; print(sys.dont_write_bytecode, file=sys.stderr)")
    assert stderr.strip() == "False"


def test_backoff_sweeps_every_variant(results: dict[str, FigureResult]) -> None:
    checks = _checks(results, "5")
    assert checks["variants"] == ["jitter=False"] + [
        f"jitter=True, seed {seed}" for seed in QUICK.backoff_seeds
    ]
    assert checks["lengths"] >= len(QUICK.backoff_lengths)
    assert checks["min_ratio"] > 0
    assert checks["target_ratio"] >= checks["min_ratio"]


def test_appearances_figure_groups_every_match_into_its_own_face(
    results: dict[str, FigureResult],
) -> None:
    checks = _checks(results, "7")
    total = QUICK.appearances_pages * QUICK.appearances_page_size
    # Every match is of a face no other matches: one appearance, of a distinct face, each.
    assert checks["total"] == total
    assert checks["appearances"] == checks["face_ids"] == total
    assert checks["plain"] == total


@pytest.mark.parametrize("length", [1.0, 5.0, 30.0, 31.0, 3600.0])
def test_fixed_loop_baseline_is_the_five_second_loop(length: float) -> None:
    outcome = fixed_loop(length)
    assert outcome.calls == math.ceil(length / FIXED_INTERVAL) + 1
    assert 0 <= outcome.lag < FIXED_INTERVAL


def test_sqs_runs_every_case_on_moto(results: dict[str, FigureResult]) -> None:
    outcomes = _checks(results, "6")["outcomes"]
    cases = {(o.mode, o.length, o.lost) for o in outcomes}
    expected = {("short", n, lost) for n in QUICK.sqs_short_poll_lengths for lost in (False, True)}
    expected |= {("long", n, lost) for n in QUICK.sqs_long_poll_lengths for lost in (False, True)}
    assert cases == expected
    for outcome in outcomes:
        assert outcome.calls >= 1
        assert outcome.receives >= 1
        assert outcome.lag >= 0
        if outcome.lost:  # only a fallback check can see the end
            assert outcome.lag <= FALLBACK_INTERVAL


def test_pages_are_deterministic_and_chained() -> None:
    first = page_body(0, pages=2, page_size=3)
    assert first == page_body(0, pages=2, page_size=3)
    second = json.loads(page_body(1, pages=2, page_size=3))
    assert "NextToken" in json.loads(first)
    assert "NextToken" not in second
    assert len(second["Persons"]) == 3
    person = second["Persons"][0]
    assert {"BoundingBox", "Confidence", "Landmarks", "Pose", "Quality"} <= set(
        person["Person"]["Face"]
    )
    assert 1 <= len(person["FaceMatches"]) <= 3


def test_alternate_times_each_side_once_per_round_and_alternates_who_goes_first() -> None:
    calls: list[str] = []
    rounds = alternate(
        lambda: calls.append("rekoface"), lambda: calls.append("boto3"), rounds=3, operations=10
    )
    # One warm-up round each, then three rounds, the first side alternating.
    assert calls == ["boto3", "rekoface"] * 2 + ["rekoface", "boto3"] + ["boto3", "rekoface"]
    assert len(rounds.rekoface) == len(rounds.baseline) == len(rounds.ratios) == 3


def test_table_has_a_row_per_figure_with_its_verdict(results: dict[str, FigureResult]) -> None:
    table = render_table(list(results.values()))
    lines = table.strip().splitlines()
    assert len(lines) == 2 + len(results)
    for line, result in zip(lines[2:], results.values(), strict=True):
        assert line.startswith(f"| {result.number} |")
        assert line.endswith("| yes |" if result.passed else "| **no** |")


def test_main_writes_the_report_with_the_command_that_reproduces_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "docs" / "performance.md"
    argv = ["--quick", "--only", "backoff", "--output", str(output)]
    assert bench_run.main(argv) == 0
    document = output.read_text(encoding="utf-8")
    assert f"python -m benchmarks --quick --only backoff --output {output}" in document
    assert "| # | figure |" in document
    assert "## Machine" in document
    assert "botocore" in document
    assert "| 5 |" in capsys.readouterr().out


def test_main_never_fails_on_a_missed_target_and_can_skip_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missed = FigureResult("9", "a figure", "2 s", "1 s", "2.000", "≤ 1.05", passed=False)
    monkeypatch.setattr(bench_run, "FIGURES", {"fake": lambda sizes: missed})
    monkeypatch.setattr(bench_run, "DEFAULT_OUTPUT", tmp_path / "performance.md")
    assert bench_run.main(["--quick", "--no-write"]) == 0
    out = capsys.readouterr().out
    assert "| 9 | a figure |" in out
    assert "missed: 9" in out
    assert not (tmp_path / "performance.md").exists()


def test_the_fleet_figure_runs_every_video_once_within_the_slots_and_the_rate(
    results: dict[str, FigureResult],
) -> None:
    from benchmarks._fleet_sim import most_at_once, most_in_any_second

    checks = _checks(results, "9")
    slots, videos = checks["slots"], checks["videos"]
    for run in (checks["whole"], checks["killed"]):
        done = {o.request.video.name for _, o in run.outcomes if o.ok}
        assert len(done) == videos  # no video lost, even with a worker killed
        assert set(run.jobs_per_video.values()) == {1}  # none started twice
        assert most_at_once(run.job_intervals) <= slots
        assert most_in_any_second(run.start_calls) <= 5
    killed = checks["killed"]
    assert killed.died_at is not None
    assert killed.restarted_at == killed.died_at + 60.0
    assert any(name.endswith("-restarted") for name, _ in killed.outcomes)
    on_dynamodb = checks["dynamodb"]
    calls = on_dynamodb.dynamodb_calls
    # Every job took a slot (a write) and gave it back (a delete) on the table.
    assert calls["PutItem"] >= checks["dynamodb_videos"] == calls["DeleteItem"]
    assert calls["UpdateItem"] >= checks["dynamodb_videos"]  # a start moment each, at least
    ratio = checks["whole"].makespan / checks["ideal"]
    assert results["9"].result == f"{ratio:.4f}"
