"""The picture from the shell: ``--format html``, ``demo --html``, batch pages, table bars.

Pages are read back with html.parser (tests/timeline_page.py) and compared with the
command's own JSON appearances of the same job, so each bar is checked against data.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_support import CLI, one_line_error
from timeline_page import Page, parse_page

from rekoface.cli import main

pytest_plugins = ("cli_fixtures",)
pytestmark = pytest.mark.usefixtures("columns_100")

HOSTILE = "<script>alert(1)</script>"


def finish(cli: CLI, job_id: str, seen: list[tuple[int, str]]) -> None:
    faces = {f["ExternalImageId"]: f for f in cli.fake.collections["people"]}
    cli.fake.finish(
        job_id,
        persons=[
            {"Timestamp": ts, "FaceMatches": [{"Similarity": 95.0, "Face": faces[name]}]}
            for ts, name in seen
        ],
    )


def drawn(page: Page) -> list[tuple[str, int, int]]:
    return sorted((lane.person, bar.first, bar.last) for lane in page.lanes for bar in lane.bars)


def from_json(document: dict[str, Any]) -> list[tuple[str, int, int]]:
    return sorted(
        (a["ExternalImageId"], a["FirstTimestamp"], a["LastTimestamp"])
        for a in document["Appearances"]
    )


def test_appearances_as_html_draws_each_interval_of_the_job(cli: CLI, done: str) -> None:
    run = cli("appearances", done, "--format", "html")
    assert run.code == 0, run.err
    page = parse_page(run.out)
    document = json.loads(cli("appearances", done, "--format", "json").out)
    assert drawn(page) == from_json(document)
    assert page.lanes
    assert f"Who was seen when: job {done}" in page.texts
    # The axis spans the video's length as the service reports it.
    status = json.loads(cli("status", done, "--format", "json").out)
    assert page.ticks[-1][0] == status["VideoMetadata"]["DurationMillis"]


def test_html_is_refused_where_there_is_no_picture(cli: CLI, done: str) -> None:
    for argv in (("status", done), ("results", done), ("collection", "describe", "people")):
        run = cli(*argv, "--format", "html")
        assert run.code == 2
        assert "--format html draws who was seen when" in one_line_error(run)
        assert run.out == ""


def test_demo_writes_the_picture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "who.html"
    assert main(["demo", "--html", str(target)]) == 0
    captured = capsys.readouterr()
    assert f"wrote the picture to {target}" in captured.err
    page = parse_page(target.read_text(encoding="utf-8"))
    assert [lane.person for lane in page.lanes] == ["alice", "bob", "carol", "erin"]
    assert [(b.first, b.last) for b in page.lanes[0].bars] == [(2_000, 9_500), (25_000, 31_000)]
    assert main(["demo", "--format", "json"]) == 0
    assert drawn(page) == from_json(json.loads(capsys.readouterr().out))


def test_demo_that_cannot_write_its_page_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing" / "who.html"
    assert main(["demo", "--html", str(target)]) == 1
    err = capsys.readouterr().err
    assert f"cannot write --html {target}" in err
    assert not target.exists()


def test_batch_writes_each_videos_page_next_to_its_matches(cli: CLI, tmp_path: Path) -> None:
    target = tmp_path / "out"
    video = f"s3://videos/{HOSTILE}.mp4"
    run = cli("batch", video, "--collection", "people", "--output", str(target))
    assert run.code == 0, run.err
    (line,) = [json.loads(x) for x in run.out.splitlines()]
    matches = Path(line["Output"])
    page_text = matches.with_name(matches.name[: -len(".json")] + ".html").read_text("utf-8")
    assert HOSTILE not in page_text  # the S3 key in the title is escaped
    page = parse_page(page_text)
    assert f"Who was seen when: {video}" in page.texts
    document = json.loads(cli("appearances", line["JobId"], "--format", "json").out)
    assert drawn(page) == from_json(document)
    assert page.lanes


def test_the_table_ends_with_a_bar_per_person_scaled_to_the_video(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "72")  # 8 for names, 2 apart, 60 cells: one a second
    job_id = cli.start()
    finish(cli, job_id, [(0, "bob"), (10_000, "alice"), (10_500, "alice"), (58_999, "bob")])
    out = cli("appearances", job_id).out
    timeline = out[out.index("\nTIMELINE") + 1 :].splitlines()
    assert timeline[0].split() == ["TIMELINE", "0:00:00.000", "0:01:00.000"]
    bars = {line.split()[0]: line.split()[1] for line in timeline[1:]}
    assert list(bars) == ["bob", "alice"]  # by first appearance
    assert bars["bob"] == "\u2502\u2588" + "\u00b7" * 57 + "\u2588\u00b7\u2502"
    assert bars["alice"] == "\u2502" + "\u00b7" * 10 + "\u2588" + "\u00b7" * 49 + "\u2502"
    assert all(len(line) == 72 for line in timeline[1:])


def test_the_bars_fall_back_to_ascii_when_stdout_cannot_show_blocks(
    cli: CLI, done: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = io.BytesIO()
    ascii_stdout = io.TextIOWrapper(raw, encoding="ascii", errors="strict")
    monkeypatch.setattr(sys, "stdout", ascii_stdout)
    assert cli("appearances", done).code == 0
    ascii_stdout.flush()
    text = raw.getvalue().decode("ascii")
    lanes = text[text.index("\nTIMELINE") + 1 :].splitlines()[1:]
    assert lanes
    assert all(line.split()[1].strip("|#.") == "" for line in lanes)
    assert all("#" in line for line in lanes)


def test_a_job_with_no_one_seen_has_no_bars_under_its_table(cli: CLI) -> None:
    job_id = cli.start()
    cli.fake.finish(job_id, persons=[])
    run = cli("appearances", job_id)
    assert run.code == 0
    assert run.out.split() == [
        "PERSON",
        "FROM",
        "TO",
        "SEEN",
        "FOR",
        "BEST",
        "MATCHES",
        "FACE",
        "ID",
    ]
    page = parse_page(cli("appearances", job_id, "--format", "html").out)
    assert "No one from the collection was seen in this video." in page.texts
