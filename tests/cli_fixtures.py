"""The fixtures of the in-process CLI tests, loaded as a plugin by each tests/test_cli_*.py.

A plugin module (never imported by the tests themselves), so pytest rewrites it and
the fixture names stay parameters, not imports; the helpers are in tests/cli_support.py.
"""

from __future__ import annotations

import pytest
from cli_support import CLI, PEOPLE

from rekoface.testing import FakeRekognition


@pytest.fixture
def fake() -> FakeRekognition:
    fake = FakeRekognition(in_progress_polls=2, seed=1)
    fake.add_collection("people", PEOPLE)
    return fake


@pytest.fixture
def cli(fake: FakeRekognition, capsys: pytest.CaptureFixture[str]) -> CLI:
    return CLI(fake, capsys)


@pytest.fixture
def done(cli: CLI) -> str:
    """A SUCCEEDED job with the fake's 25 default person detections."""
    job_id = cli.start()
    cli.fake.finish(job_id)
    return job_id


@pytest.fixture
def columns_100(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 100-column terminal (each CLI test module uses it for all its tests)."""
    monkeypatch.setenv("COLUMNS", "100")


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
