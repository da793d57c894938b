"""`rekoface appearances`: who was seen when, in every format and width.

Run in-process with tests/cli_support.py's fixtures; tests/test_cli_subprocess.py runs
the real command.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from cli_support import CLI, one_line_error

pytest_plugins = ("cli_fixtures",)
pytestmark = pytest.mark.usefixtures("columns_100")


def test_appearances_fold_matches_into_intervals(cli: CLI) -> None:
    job_id = cli.start()
    face = {f["ExternalImageId"]: f for f in cli.fake.collections["people"]}
    seen = [
        (0, "alice", 99.0),
        (500, "alice", 97.5),
        (900, "bob", 88.0),
        (5000, "alice", 95.0),
    ]
    cli.fake.finish(
        job_id,
        persons=[
            {"Timestamp": ts, "FaceMatches": [{"Similarity": sim, "Face": face[name]}]}
            for ts, name, sim in seen
        ],
    )
    run = cli("appearances", job_id)
    assert run.code == 0
    assert run.out == (
        "PERSON         FROM           TO  SEEN FOR   BEST  MATCHES  FACE ID\n"
        f"alice   0:00:00.000  0:00:00.500      0.5s  99.00        2  {face['alice']['FaceId']}\n"
        f"bob     0:00:00.900  0:00:00.900      0.0s  88.00        1  {face['bob']['FaceId']}\n"
        f"alice   0:00:05.000  0:00:05.000      0.0s  95.00        1  {face['alice']['FaceId']}\n"
        # Under the table, a bar per person over the fake's 60-second video (88 cells).
        "\n"
        f"TIMELINE   0:00:00.000{' ' * 66}0:01:00.000\n"
        + "alice     \u2502\u2588"
        + "\u00b7" * 6
        + "\u2588"
        + "\u00b7" * 80
        + "\u2502\n"
        + "bob       \u2502\u00b7\u2588"
        + "\u00b7" * 86
        + "\u2502\n"
    )
    document = json.loads(cli("appearances", job_id, "--format", "json", "--max-gap", "5000").out)
    assert document == {
        "JobId": job_id,
        "Appearances": [
            {
                "FaceId": face["alice"]["FaceId"],
                "ExternalImageId": "alice",
                "FirstTimestamp": 0,
                "LastTimestamp": 5000,
                "BestSimilarity": 99.0,
                "Matches": 3,
            },
            {
                "FaceId": face["bob"]["FaceId"],
                "ExternalImageId": "bob",
                "FirstTimestamp": 900,
                "LastTimestamp": 900,
                "BestSimilarity": 88.0,
                "Matches": 1,
            },
        ],
    }
    lines = cli("appearances", job_id, "--format", "jsonl", "--min-similarity", "90").out
    assert [json.loads(x)["ExternalImageId"] for x in lines.splitlines()] == ["alice", "alice"]
    rows = list(csv.reader(io.StringIO(cli("appearances", job_id, "--format", "csv").out)))
    assert rows[0] == [
        "FaceId",
        "ExternalImageId",
        "FirstTimestamp",
        "LastTimestamp",
        "BestSimilarity",
        "Matches",
    ]
    assert rows[1][1:] == ["alice", "0", "500", "99.0", "2"]


def test_appearances_with_a_bad_gap_is_exit_2(cli: CLI, done: str) -> None:
    run = cli("appearances", done, "--max-gap", "-5")
    assert run.code == 2
    assert "--max-gap (max_gap_ms)" in one_line_error(run)


def test_long_appearances_and_names_are_cut_to_the_width(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    job_id = cli.start()
    face = dict(cli.fake.collections["people"][0], ExternalImageId="a-very-long-external-image-id")
    cli.fake.finish(
        job_id,
        persons=[
            {"Timestamp": ts, "FaceMatches": [{"Similarity": 90.0, "Face": face}]}
            for ts in range(0, 90_001, 1000)
        ],
    )
    lines = cli("appearances", job_id).out.splitlines()
    assert lines[: lines.index("")] == [
        "PERSON                    FROM           TO   BEST",
        "a-very-long-exte…  0:00:00.000  0:01:30.000  90.00",
    ]
    monkeypatch.setenv("COLUMNS", "90")  # all but the face id
    lines = cli("appearances", job_id).out.splitlines()
    assert lines[1] == (
        "a-very-long-external-image-id  0:00:00.000  0:01:30.000     1m30s  90.00       91"
    )
