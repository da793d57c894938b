"""`rekoface demo`: the whole flow against the in-process fake.

Run in-process with tests/cli_support.py's fixtures; tests/test_cli_subprocess.py runs
the real command.
"""

from __future__ import annotations

import json
import sys

import pytest
from cli_support import TTY

from rekoface.cli import main

pytest_plugins = ("cli_fixtures",)
pytestmark = pytest.mark.usefixtures("columns_100")


def test_demo_shows_who_was_seen_when_in_simulated_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def no_real_sleep(seconds: float) -> None:
        raise AssertionError("the demo slept for real")

    assert main(["demo"], sleep=no_real_sleep) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split() == [
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
    assert [line.split()[:4] for line in lines[1 : lines.index("")]] == [
        ["alice", "0:00:02.000", "0:00:09.500", "7.5s"],
        ["bob", "0:00:04.000", "0:00:12.000", "8.0s"],
        ["carol", "0:00:15.000", "0:00:21.500", "6.5s"],
        ["alice", "0:00:25.000", "0:00:31.000", "6.0s"],
        ["erin", "0:00:33.000", "0:00:40.000", "7.0s"],
    ]
    assert "SUCCEEDED (15s, 4 polls)" in captured.err


def test_demo_on_a_terminal_and_as_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tty = TTY()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(["demo", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [a["ExternalImageId"] for a in document["Appearances"]] == [
        "alice",
        "bob",
        "carol",
        "alice",
        "erin",
    ]
    assert "waiting: IN_PROGRESS" in tty.getvalue()
