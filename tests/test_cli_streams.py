"""Closed and failing streams keep the documented exit codes, and passwords never show.

In-process: `sys.stdout` / `sys.stderr` set to `None` is what Python gives a process
started with that descriptor closed. tests/test_cli_subprocess.py closes them for real.
"""

from __future__ import annotations

import errno
import io
import socket
import sys

import pytest
from cli_support import CLI, one_line_error

from rekoface._cli.streams import MessageStream, Stdout, mask_passwords
from rekoface.cli import main

pytest_plugins = ("cli_fixtures",)
pytestmark = pytest.mark.usefixtures("columns_100")

SECRET_URL = "http://user:s3cret@127.0.0.1:4566"
MASKED_URL = "http://user:***@127.0.0.1:4566"


# --------------------------------------------------------------------------- closed stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["start", "s3://my-bucket/k.mp4", "--collection", "people", "--sns-topic", "arn:x"],
        ["start", "s3://my-bucket/k.mp4"],  # argparse's own usage error
        ["status", "not a job"],  # a validation error
    ],
)
def test_with_stderr_closed_a_usage_error_still_exits_2(
    cli: CLI, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.setattr(sys, "stderr", None)
    assert cli(*argv).code == 2


def test_with_stderr_closed_a_wait_still_reports_its_outcome_by_code(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = cli.start()
    cli.fake.finish(job_id, status="FAILED", status_message="bad codec")
    monkeypatch.setattr(sys, "stderr", None)
    run = cli("wait", job_id, "-v")  # progress, a log and a traceback: all dropped
    assert run.code == 3


def test_with_stdout_and_stderr_closed_help_still_exits_0(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    assert cli("--help").code == 0
    assert cli("--version").code == 0


# --------------------------------------------------------------------------- stdout


def test_with_stdout_closed_nothing_is_started_and_the_exit_is_2(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", None)
    run = cli("start", "s3://my-bucket/k.mp4", "--collection", "people")
    assert run.code == 2
    assert one_line_error(run) == (
        "rekoface start: error: stdout is closed, so the output (a JobId, the matches) "
        "would be lost; send it to a file or /dev/null instead"
    )
    assert cli.fake.calls == []


class Full(io.StringIO):
    """stdout on a full disk: writes are buffered, flushing fails."""

    def flush(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_write_to_stdout_exits_1_with_one_line(
    cli: CLI, done: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", Full())
    run = cli("status", done)
    assert run.code == 1
    assert one_line_error(run) == (
        "rekoface status: error: cannot write to stdout: [Errno 28] No space left on device"
    )


def test_a_failed_write_while_streaming_names_the_command_that_resumes(
    cli: CLI, done: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", Full())
    run = cli("results", done, "--format", "jsonl")
    assert run.code == 1
    assert one_line_error(run) == (
        "rekoface results: error: cannot write to stdout: [Errno 28] No space left on "
        f"device; resume with: rekoface results {done} --format jsonl"
    )


def test_a_file_closed_under_the_command_is_a_failed_write(
    cli: CLI, done: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stdout", closed)
    run = cli("status", done)
    assert run.code == 1
    assert one_line_error(run).startswith("rekoface status: error: cannot write to stdout: ")


# --------------------------------------------------------------------------- passwords


def test_a_password_in_the_endpoint_is_masked_in_resume_lines(cli: CLI) -> None:
    job_id = cli.start()
    cli.fake.hold(job_id)
    run = cli("-q", "--endpoint-url", SECRET_URL, "wait", job_id, "--timeout", "5")
    assert run.code == 4
    line = one_line_error(run)
    assert "s3cret" not in line
    assert line.endswith(f"Resume with: rekoface --endpoint-url '{MASKED_URL}' wait {job_id}")


def test_a_password_in_the_endpoint_is_masked_in_errors_logs_and_tracebacks(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed_port = f"http://user:s3cret@127.0.0.1:{port}"
    assert main(["--endpoint-url", closed_port, "status", "job-1"]) == 1
    line = capsys.readouterr().err
    assert "s3cret" not in line
    assert f'to the endpoint URL: "http://user:***@127.0.0.1:{port}/"' in line
    assert main(["-vv", "--endpoint-url", closed_port, "status", "job-1"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "s3cret" not in err
    assert f"user:***@127.0.0.1:{port}" in err


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("http://user:pw@host:5000/x", "http://user:***@host:5000/x"),
        ("see 'https://:pw@h' now", "see 'https://:***@h' now"),
        ("http://u:p@ss@host/", "http://u:***@host/"),  # an unencoded @ in the password
        ("http://host:5000/a@b", "http://host:5000/a@b"),  # a port, no password
        ("http://user@host", "http://user@host"),  # a user, no password
        ("no url: a:b@c", "no url: a:b@c"),
    ],
)
def test_mask_passwords(text: str, masked: str) -> None:
    assert mask_passwords(text) == masked


def test_a_pipe_closed_at_the_last_flush_still_ends_quietly(
    cli: CLI, done: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    class ClosedAtFlush(io.StringIO):
        def flush(self) -> None:
            raise BrokenPipeError

    monkeypatch.setattr(sys, "stdout", ClosedAtFlush())
    run = cli("status", done)
    assert run.code == 1
    assert run.err == ""


def test_closed_files_are_not_terminals_and_swallow_messages() -> None:
    closed = io.StringIO()
    closed.close()
    assert not Stdout(closed).isatty()
    messages = MessageStream(closed)
    assert not messages.isatty()
    assert messages.write("lost") == 4
    messages.flush()
    assert not MessageStream(None).isatty()
