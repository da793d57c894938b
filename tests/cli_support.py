"""Shared set-up of the in-process CLI tests (tests/test_cli_*.py).

`main()` takes a client factory, `sleep` and `clock`, so waiting costs nothing and
exit codes 3 (failed), 4 (not finished) and 130 (Ctrl-C) can be provoked at will.
Helpers here; the fixtures are in tests/cli_fixtures.py, which each module loads as a
plugin (``pytest_plugins = ("cli_fixtures",)``).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import attrs
import pytest
from faketime import FakeTime

from rekoface import FaceSearchClient, FaceSearchRequest, RetryPolicy, S3Video
from rekoface._cli.context import ClientOptions
from rekoface.cli import main
from rekoface.testing import FakeRekognition

__all__ = [
    "CLI",
    "PEOPLE",
    "REQUEST",
    "TTY",
    "Recording",
    "Run",
    "faces",
    "one_line_error",
]

PEOPLE = ["alice", "bob", "carol", "dave", "erin"]
REQUEST = FaceSearchRequest(S3Video("my-bucket", "lobby.mp4"), "people")


@attrs.frozen
class Run:
    code: int
    out: str
    err: str


class CLI:
    """Runs `main` against one fake and records the options the client was built with."""

    def __init__(self, fake: FakeRekognition, capsys: pytest.CaptureFixture[str]) -> None:
        self.fake = fake
        self.time = FakeTime()
        self.options: list[ClientOptions] = []
        self._capsys = capsys

    def client(self, options: ClientOptions | None = None) -> FaceSearchClient:
        if options is not None:
            self.options.append(options)
        policy = RetryPolicy(max_attempts=2, sleep=self.time.sleep, clock=self.time.clock)
        return FaceSearchClient(self.fake.client(), retry=policy)

    def __call__(self, *argv: str, sleep: Callable[[float], None] | None = None) -> Run:
        code = main(
            list(argv),
            client_factory=self.client,
            sleep=sleep or self.time.sleep,
            clock=self.time.clock,
        )
        captured = self._capsys.readouterr()
        return Run(code, captured.out, captured.err)

    def start(self, request: FaceSearchRequest = REQUEST) -> str:
        return self.client().start(request).job_id


def one_line_error(run: Run) -> str:
    """The error output is exactly one line with no traceback; return it."""
    assert "Traceback" not in run.err, run.err
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    return lines[0]


def faces(fake: FakeRekognition) -> dict[str, str]:
    """ExternalImageId -> FaceId of the "people" collection."""
    return {face["ExternalImageId"]: face["FaceId"] for face in fake.collections["people"]}


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class Recording(io.StringIO):
    """stdout that records what was written before each flush."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[int] = []

    def flush(self) -> None:
        self.flushed.append(len(self.getvalue().splitlines()))
