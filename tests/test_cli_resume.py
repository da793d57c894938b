"""Resume lines (Ctrl-C, a timeout) read back as the very arguments of the run they resume.

A resumed run with different values is a different run: ``--min-similarity 99.999951``
printed as ``100`` drops every match between the two. Run in-process with
tests/cli_support.py's fixtures.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import shlex
import sys

import pytest
from cli_support import CLI, one_line_error
from hypothesis import given, settings
from hypothesis import strategies as st

from rekoface import FaceSearchClient, FaceSearchRequest, S3Video
from rekoface._cli.args import build_parser
from rekoface._cli.context import ClientOptions, Context, exact_number, resume_words
from rekoface.cli import main
from rekoface.testing import FakeRekognition

pytest_plugins = ("cli_fixtures",)
pytestmark = pytest.mark.usefixtures("columns_100")


def parsed(line: str) -> argparse.Namespace:
    """The arguments of a printed ``rekoface ...`` command line."""
    words = shlex.split(line)
    assert words[0] == "rekoface"
    return build_parser().parse_args(words[1:])


class InterruptedOnSecondFlush(io.StringIO):
    """stdout on which Ctrl-C comes as the second page is written."""

    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        if self.flushes == 2:
            raise KeyboardInterrupt


def resume_line(err: str) -> str:
    marker = "resume with: "
    assert marker in err, err
    return err.splitlines()[-1].split(marker, 1)[1]


def test_a_resumed_min_similarity_is_exactly_the_one_given(
    cli: CLI, done: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", InterruptedOnSecondFlush())
    run = cli("results", done, "--page-size", "10", "--min-similarity", "99.999951")
    assert run.code == 130
    line = resume_line(one_line_error(run))
    assert "--min-similarity 99.999951 " in line
    assert parsed(line).min_similarity == 99.999951


@functools.cache
def finished_job() -> tuple[FaceSearchClient, str]:
    """One client and SUCCEEDED job for every example (building clients is slow)."""
    fake = FakeRekognition(in_progress_polls=None, seed=3)
    fake.add_collection("people", 5)
    client = FaceSearchClient(fake.client())
    job_id = client.start(FaceSearchRequest(S3Video("my-bucket", "v.mp4"), "people")).job_id
    fake.finish(job_id)
    return client, job_id


@settings(max_examples=60, deadline=None)
@given(
    min_similarity=st.floats(min_value=0, max_value=100),
    sort_by=st.sampled_from(["TIMESTAMP", "INDEX"]),
    page_size=st.integers(min_value=1, max_value=12),
    fmt=st.sampled_from(["table", "jsonl", "json", "csv"]),
    profile=st.sampled_from([None, "dev ops", "-odd", "it's"]),
)
def test_a_results_resume_line_reads_back_as_the_same_arguments(
    min_similarity: float, sort_by: str, page_size: int, fmt: str, profile: str | None
) -> None:
    client, job_id = finished_job()
    argv = ["results", job_id, "--sort-by", sort_by, "--page-size", str(page_size)]
    argv += [f"--min-similarity={min_similarity!r}", "--format", fmt]
    argv += ["--region", "eu-west-1", "--endpoint-url", "http://127.0.0.1:4566"]
    if profile is not None:
        argv.append(f"--profile={profile}")
    err = io.StringIO()
    with contextlib.redirect_stdout(InterruptedOnSecondFlush()), contextlib.redirect_stderr(err):
        code = main(argv, client_factory=lambda _: client)
    assert code == 130
    again = parsed(resume_line(err.getvalue()))
    original = build_parser().parse_args(argv)
    for name in ("command", "job_id", "sort_by", "page_size", "format", "region", "profile"):
        assert getattr(again, name) == getattr(original, name), name
    assert again.endpoint_url == original.endpoint_url
    assert again.min_similarity == min_similarity
    # The second page was being written: the resumed run starts again from it.
    assert again.next_token


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_reads_back_exactly(value: float) -> None:
    words = resume_words([("--min-similarity", exact_number(value))])
    assert build_parser().parse_args(["results", "job-1", *words]).min_similarity == value


@pytest.mark.parametrize(
    ("value", "text"),
    [(50.0, "50"), (99.999951, "99.999951"), (1e-05, "1e-05"), (0.1 + 0.2, "0.30000000000000004")],
)
def test_numbers_are_written_as_short_as_they_read_back(value: float, text: str) -> None:
    assert exact_number(value) == text


def test_a_job_id_that_looks_like_an_option_resumes_after_a_double_dash() -> None:
    context = Context(
        args=argparse.Namespace(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        client_factory=lambda _: pytest.fail("no client is needed"),
        sleep=lambda _: None,
        clock=lambda: 0.0,
        options=ClientOptions(region="-weird"),
    )
    line = context.command_line("wait", "-job-1", [("--queue-url", "http://127.0.0.1:1/q")])
    assert line == ("rekoface --region=-weird wait --queue-url http://127.0.0.1:1/q -- -job-1")
    again = parsed(line)
    assert (again.region, again.job_id, again.queue_url) == (
        "-weird",
        "-job-1",
        "http://127.0.0.1:1/q",
    )
