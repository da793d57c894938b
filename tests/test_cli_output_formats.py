"""The match output formats (jsonl, json, csv, table): shapes, streaming page by
page, empty results, and the table layout helpers.

Run in-process with tests/cli_support.py's fixtures; tests/test_cli_subprocess.py runs
the real command.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from cli_support import CLI, Recording, faces

from rekoface import FaceSearchClient
from rekoface._cli.progress import format_elapsed
from rekoface._cli.table import Column, fit, format_millis
from rekoface.cli import main

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


# --------------------------------------------------------------------------- the service's items

EVENTS = Path(__file__).parent / "events"


def captured_pages() -> list[dict[str, Any]]:
    """The three captured GetFaceSearch pages, in the shapes the service really sends.

    A person who matched nobody comes without ``FaceMatches``, a detection may come
    without ``Person``, and a face may carry empty ``Emotions`` and ``Landmarks``.
    """
    pages = [json.loads((EVENTS / f"get_face_search_page{n}.json").read_text()) for n in (1, 2, 3)]
    stranger = pages[0]["Persons"][1]
    del stranger["FaceMatches"]
    face = pages[0]["Persons"][2]["Person"]["Face"]
    face["Emotions"], face["Landmarks"] = [], []
    del pages[2]["Persons"][0]["Person"]
    return pages


def run_stubbed(
    pages: list[dict[str, Any]], capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str]:
    """`rekoface results job-1 ARGV` with a real boto3 client answering `pages` in turn."""
    client = boto3.client("rekognition", region_name="us-east-1")
    stubber = Stubber(client)
    for page in pages:
        stubber.add_response("get_face_search", copy.deepcopy(page))
    with stubber:
        code = main(["results", "job-1", *argv], client_factory=lambda _: FaceSearchClient(client))
        stubber.assert_no_pending_responses()
    return code, capsys.readouterr().out


def test_jsonl_and_json_write_the_service_items_unchanged(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pages = captured_pages()
    items = [person for page in pages for person in page["Persons"]]
    code, out = run_stubbed(pages, capsys, "--format", "jsonl")
    assert code == 0
    written = [json.loads(line) for line in out.splitlines()]
    assert written == items
    assert "FaceMatches" not in written[1]
    assert "Person" not in written[5]
    assert written[2]["Person"]["Face"]["Emotions"] == []
    code, out = run_stubbed(captured_pages(), capsys, "--format", "json")
    assert code == 0
    assert json.loads(out) == {
        "JobId": "job-1",
        "VideoMetadata": pages[0]["VideoMetadata"],
        "Persons": items,
    }


def test_min_similarity_keeps_the_service_items_with_only_their_kept_matches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pages = captured_pages()
    code, out = run_stubbed(pages, capsys, "--format", "jsonl", "--min-similarity", "90")
    assert code == 0
    first, _, third = pages[0]["Persons"]
    fourth, fifth = pages[1]["Persons"]
    (sixth,) = pages[2]["Persons"]
    assert (
        [json.loads(line) for line in out.splitlines()]
        == [
            {**first, "FaceMatches": first["FaceMatches"][:1]},  # 84.5 is dropped
            third,
            fourth,
            {**fifth, "FaceMatches": fifth["FaceMatches"][:1]},  # 88.0 is dropped
            sixth,  # the stranger (no FaceMatches at all) is left out
        ]
    )


def test_tables_and_csv_read_the_same_items_through_the_models(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run_stubbed(captured_pages(), capsys, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(row["Timestamp"], row["PersonIndex"], row["Similarity"]) for row in rows] == [
        ("0", "0", "99.99994659423828"),
        ("0", "0", "84.5"),
        ("200", "1", ""),
        ("400", "0", "99.8"),
        ("3000", "2", "91.25"),
        ("3400", "0", "97.0"),
        ("3400", "0", "88.0"),
        ("3600", "", "93.5"),
    ]
    code, out = run_stubbed(captured_pages(), capsys)
    assert code == 0
    assert "\n0:00:00.200       1  (no match)\n" in out
