"""The match output formats (jsonl, json, csv, table): shapes, streaming page by
page, empty results, and the table layout helpers.

Run in-process with tests/cli_support.py's fixtures; tests/test_cli_subprocess.py runs
the real command.
"""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest
from cli_support import CLI, Recording, faces

from rekoface._cli.output import Column, fit, format_millis
from rekoface._cli.progress import format_elapsed

pytest_plugins = ("cli_fixtures",)
pytestmark = pytest.mark.usefixtures("columns_100")


def test_jsonl_and_json_give_back_the_persons_as_the_api_returns_them(cli: CLI, done: str) -> None:
    persons = json.loads(json.dumps(cli.fake.jobs[done].persons))
    jsonl = cli("results", done, "--format", "jsonl", "--page-size", "10")
    assert [json.loads(line) for line in jsonl.out.splitlines()] == persons
    document = json.loads(cli("results", done, "--format", "json", "--page-size", "7").out)
    assert document["JobId"] == done
    assert document["VideoMetadata"]["DurationMillis"] == 60000
    assert document["Persons"] == persons


def test_csv_has_a_row_per_face_match(cli: CLI, done: str) -> None:
    rows = list(csv.DictReader(io.StringIO(cli("results", done, "--format", "csv").out)))
    assert len(rows) == 25
    assert rows[0] == {
        "Timestamp": "0",
        "PersonIndex": "3",
        "FaceId": "",
        "ExternalImageId": "",
        "Similarity": "",
    }
    assert rows[1] == {
        "Timestamp": "2360",
        "PersonIndex": "2",
        "FaceId": faces(cli.fake)["carol"],
        "ExternalImageId": "carol",
        "Similarity": "88.4272",
    }


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "table", "json"])
def test_every_format_writes_and_flushes_page_by_page(
    cli: CLI, done: str, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = Recording()
    monkeypatch.setattr(sys, "stdout", out)
    assert cli("results", done, "--format", fmt, "--page-size", "10").code == 0
    header = 0 if fmt == "jsonl" else 1
    assert out.flushed[:3] == [header + 10, header + 20, header + 25]


def test_results_of_nothing_still_print_the_header_or_an_empty_document(cli: CLI) -> None:
    job_id = cli.start()
    cli.fake.finish(job_id, persons=0)
    assert (
        cli("results", job_id).out
        == "       TIME  PERSON  MATCH" + " " * 26 + "SIMILARITY  FACE ID\n"
    )
    assert json.loads(cli("results", job_id, "--format", "json").out)["Persons"] == []
    assert cli("results", job_id, "--format", "jsonl").out == ""
    assert cli("results", job_id, "--format", "csv").out.count("\n") == 1


# --------------------------------------------------------------------------- layout helpers


COLUMNS = (
    Column("A", 5),
    Column("NAME", 10, min_width=4, max_width=20),
    Column("ID", 12, drop=1),
)


@pytest.mark.parametrize(
    ("total", "layout"),
    [
        (80, [(0, 5), (1, 20), (2, 12)]),  # room to spare: the flexible column grows
        (31, [(0, 5), (1, 10), (2, 12)]),  # exactly the preferred widths
        (30, [(0, 5), (1, 20)]),  # the id drops before anything shrinks; the name grows
        (12, [(0, 5), (1, 5)]),  # the name shrinks toward its minimum
        (5, [(0, 5), (1, 4)]),  # nothing left to give: overflow
    ],
)
def test_fit(total: int, layout: list[tuple[int, int]]) -> None:
    assert fit(COLUMNS, total) == layout


@pytest.mark.parametrize(
    ("millis", "text"),
    [(0, "0:00:00.000"), (61_001, "0:01:01.001"), (3_723_004, "1:02:03.004"), (None, "-")],
)
def test_format_millis(millis: int | None, text: str) -> None:
    assert format_millis(millis) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.4, "0s"), (59.9, "59s"), (185, "3m05s"), (3720, "1h02m")]
)
def test_format_elapsed(seconds: float, text: str) -> None:
    assert format_elapsed(seconds) == text
