"""The real ``rekoface`` command in subprocesses (``python -m rekoface``).

start -> status -> wait -> results (and search, appearances) run against a real
``python -m moto.server`` on 127.0.0.1; the demo runs with an empty environment. Exit
codes moto cannot provoke (service error, failed job, timeout) come from a tiny
HTTP server in this process that answers with canned Rekognition JSON. Closed and
failing streams come from a POSIX shell's redirections (``2>&-``, ``>&-``, ``>/dev/full``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from subprocess_support import env, free_port

pytest_plugins = ("moto_server",)


def rekoface(
    environment: dict[str, str], *argv: str, check: int | None = 0
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "rekoface", *argv],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check is not None:
        assert done.returncode == check, done.stderr
    return done


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


# --------------------------------------------------------------------------- moto


MOTO_RESULTS_TABLE = """\
       TIME  PERSON  MATCH                          SIMILARITY  FACE ID
0:00:00.000       0  Dave_Bloggs                        100.00  f2489050-020e-4c14-8693-63339847a59d
0:00:00.000       0  Dave_Bloggs                        100.00  f0d22a6a-3436-4d23-ae5b-c5cb2e795581
0:00:00.000       0  Dave_Bloggs                        100.00  c48162bd-a16a-4e04-ad3c-967761895295
0:00:00.000       0  Dave_Bloggs                         99.37  651314bb-28d4-405d-9b13-c32e9ff28299
"""


def test_start_status_wait_results_against_a_moto_server(moto_server: str, tmp_path: Path) -> None:
    e = env(tmp_path)
    endpoint = ("--endpoint-url", moto_server)
    started = rekoface(e, *endpoint, "start", "s3://my-bucket/lobby.mp4", "--collection", "staff")
    job_id = started.stdout.strip()
    assert started.stdout == job_id + "\n"
    assert started.stderr == ""

    status = rekoface(e, "status", job_id, *endpoint)  # global option after the command
    assert status.stdout.splitlines()[:2] == [
        f"JobId          {job_id}",
        "JobStatus      SUCCEEDED",
    ]
    waited = rekoface(e, *endpoint, "wait", job_id, "--format", "json")
    assert json.loads(waited.stdout)["JobStatus"] == "SUCCEEDED"
    assert waited.stderr == f"job {job_id}: SUCCEEDED (0s, 1 poll)\n"

    table = rekoface(e, *endpoint, "results", job_id)
    assert table.stdout == MOTO_RESULTS_TABLE
    assert table.stderr == ""
    lines = rekoface(e, *endpoint, "results", job_id, "--format", "jsonl").stdout.splitlines()
    assert [len(json.loads(x)["FaceMatches"]) for x in lines] == [4]
    document = json.loads(rekoface(e, *endpoint, "results", job_id, "--format", "json").stdout)
    assert document["VideoMetadata"]["DurationMillis"] == 15020
    assert document["Persons"][0]["Person"]["Index"] == 0
    rows = list(
        csv.DictReader(
            io.StringIO(rekoface(e, *endpoint, "results", job_id, "--format", "csv").stdout)
        )
    )
    assert [row["ExternalImageId"] for row in rows] == ["Dave_Bloggs"] * 4

    seen = rekoface(e, *endpoint, "appearances", job_id, "--format", "jsonl")
    assert {json.loads(x)["ExternalImageId"] for x in seen.stdout.splitlines()} == {"Dave_Bloggs"}


def test_search_against_a_moto_server(moto_server: str, tmp_path: Path) -> None:
    done = rekoface(
        env(tmp_path),
        "search",
        "s3://my-bucket/lobby.mp4",
        "--collection",
        "staff",
        "--format",
        "jsonl",
        "--endpoint-url",
        moto_server,
    )
    assert len(done.stdout.splitlines()) == 1
    lines = done.stderr.splitlines()
    # moto's server has no DescribeCollection: the preflight says so and goes on.
    assert lines[0] == "could not check collection staff (500); starting anyway"
    assert lines[1].startswith("started job ")
    assert done.stderr.endswith(": SUCCEEDED (0s, 1 poll)\n")


def test_start_json_carries_the_token(moto_server: str, tmp_path: Path) -> None:
    done = rekoface(
        env(tmp_path),
        "--endpoint-url",
        moto_server,
        "--format",
        "json",
        "start",
        "s3://my-bucket/lobby.mp4",
        "--collection",
        "staff",
        "--token",
        "tok-123",
    )
    assert json.loads(done.stdout)["ClientRequestToken"] == "tok-123"


def test_missing_credentials_exit_2_with_the_hint(moto_server: str, tmp_path: Path) -> None:
    e = env(tmp_path)
    del e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"]
    done = rekoface(e, "--endpoint-url", moto_server, "status", "job-1", check=2)
    assert one_line(done).startswith(
        "rekoface status: error: no AWS credentials found: set AWS_PROFILE"
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["start", "bucket/key.mp4", "--collection", "staff"],
            "rekoface start: error: invalid value: S3_URI (Video.S3Object): 'bucket/key.mp4' "
            "is not an S3 URI (rule: s3://bucket/key)",
        ),
        (
            ["start", "s3://my-bucket/k.mp4", "--collection", "a/b", "--threshold", "-1"],
            "rekoface start: error: 2 invalid values: --collection (CollectionId): 'a/b' does "
            "not match (rule: [a-zA-Z0-9_.\\-]+); --threshold (FaceMatchThreshold): -1.0 is out "
            "of range (rule: 0..100)",
        ),
        (
            ["results", "job-1", "--format", "xml"],
            # Python 3.12.8+ lists the choices without quotes: match up to there.
            "rekoface results: error: argument --format: invalid choice: 'xml' (choose from ",
        ),
        (["--profile", "nope", "status", "job-1"], "rekoface status: error: AWS profile 'nope'"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, argv: list[str], expected: str) -> None:
    done = rekoface(env(tmp_path), *argv, check=2)
    assert done.stdout == ""
    assert one_line(done).startswith(expected)


def test_a_transport_error_exits_1(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    done = rekoface(
        env(tmp_path, AWS_MAX_ATTEMPTS="1"), "--endpoint-url", closed, "status", "job-1", check=1
    )
    assert one_line(done).startswith(
        "rekoface status: error: GetFaceSearch: no answer from the service (EndpointConnectionError"
    )


# --------------------------------------------------------------------------- canned answers


class Canned(BaseHTTPRequestHandler):
    """Answers every Rekognition call with `answer` (status, JSON body)."""

    answer: tuple[int, dict[str, Any]] = (200, {})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, body = self.answer
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", "req-1234")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def canned() -> Iterator[tuple[str, type[Canned]]]:
    handler = type("Handler", (Canned,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_a_service_error_exits_1_with_code_and_request_id(
    canned: tuple[str, type[Canned]], tmp_path: Path
) -> None:
    url, handler = canned
    handler.answer = (
        400,
        {"__type": "AccessDeniedException", "Message": "User is not authorized"},
    )
    done = rekoface(env(tmp_path), "--endpoint-url", url, "status", "job-1", check=1)
    assert one_line(done) == (
        "rekoface status: error: AccessDeniedException: User is not authorized "
        "(GetFaceSearch; request id req-1234; check that your credentials may call "
        "rekognition:GetFaceSearch)"
    )


def test_a_failed_job_exits_3(canned: tuple[str, type[Canned]], tmp_path: Path) -> None:
    url, handler = canned
    handler.answer = (200, {"JobStatus": "FAILED", "StatusMessage": "Unsupported codec"})
    done = rekoface(env(tmp_path), "--endpoint-url", url, "wait", "job-1", check=3)
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "job job-1: FAILED (0s, 1 poll)",
        "rekoface wait: error: job job-1 failed: Unsupported codec",
    ]


def test_a_timeout_exits_4_and_says_how_to_resume(
    canned: tuple[str, type[Canned]], tmp_path: Path
) -> None:
    url, handler = canned
    handler.answer = (200, {"JobStatus": "IN_PROGRESS"})
    done = rekoface(
        env(tmp_path), "-q", "--endpoint-url", url, "wait", "job-1", "--timeout", "0.01", check=4
    )
    line = one_line(done)
    assert line.startswith("rekoface wait: error: job job-1 still IN_PROGRESS after ")
    assert line.endswith(f"the job goes on. Resume with: rekoface --endpoint-url {url} wait job-1")


# --------------------------------------------------------------------------- closed streams


posix_shell = pytest.mark.skipif(not Path("/bin/sh").exists(), reason="needs a POSIX shell")


def rekoface_with(
    environment: dict[str, str], shell_redirect: str, *argv: str
) -> subprocess.CompletedProcess[str]:
    """The command with a POSIX shell redirection, such as ``2>&-`` (close stderr)."""
    line = " ".join(shlex.quote(word) for word in (sys.executable, "-m", "rekoface", *argv))
    return subprocess.run(
        ["/bin/sh", "-c", f"exec {line} {shell_redirect}"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@posix_shell
def test_with_stderr_closed_usage_errors_exit_2(tmp_path: Path) -> None:
    e = env(tmp_path)
    start = ("start", "s3://my-bucket/k.mp4", "--collection", "staff")
    assert rekoface_with(e, "2>&-", *start, "--sns-topic", "arn:x").returncode == 2
    assert rekoface_with(e, "2>&-", *start, "--format", "xml").returncode == 2


@posix_shell
def test_with_stdout_closed_the_exit_is_2_with_one_line(tmp_path: Path) -> None:
    done = rekoface_with(env(tmp_path), ">&-", "demo")
    assert done.returncode == 2
    assert one_line(done) == (
        "rekoface demo: error: stdout is closed, so the output (a JobId, the matches) "
        "would be lost; send it to a file or /dev/null instead"
    )


@posix_shell
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_exits_1_with_one_line(tmp_path: Path) -> None:
    done = rekoface_with(env(tmp_path), "> /dev/full", "-q", "demo")
    assert done.returncode == 1
    assert one_line(done) == (
        "rekoface demo: error: cannot write to stdout: [Errno 28] No space left on device"
    )


def test_an_endpoint_password_never_shows(canned: tuple[str, type[Canned]], tmp_path: Path) -> None:
    url, handler = canned
    handler.answer = (200, {"JobStatus": "IN_PROGRESS"})
    secret = url.replace("http://", "http://user:s3cret@")
    done = rekoface(
        env(tmp_path),
        "-v",
        "--endpoint-url",
        secret,
        "wait",
        "job-1",
        "--timeout",
        "0.01",
        check=4,
    )
    assert "s3cret" not in done.stderr
    masked = url.replace("http://", "http://user:***@")
    assert done.stderr.splitlines()[-1].endswith(
        f"Resume with: rekoface --endpoint-url '{masked}' wait job-1"
    )


# --------------------------------------------------------------------------- demo


def test_demo_runs_with_an_empty_environment(tmp_path: Path) -> None:
    # No wall-clock assertion: tests assert behaviour, timing belongs in benchmarks.
    bare = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path / "nohome")}
    done = subprocess.run(
        [sys.executable, "-m", "rekoface", "demo"],
        env=bare,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    names = [line.split()[0] for line in lines[1 : lines.index("")]]
    assert names == ["alice", "bob", "carol", "alice", "erin"]
    assert "SUCCEEDED (15s, 4 polls)" in done.stderr


def test_help_lists_every_command_and_the_exit_codes(tmp_path: Path) -> None:
    done = rekoface(env(tmp_path), "--help")
    for command in ("start", "status", "wait", "results", "search", "appearances", "demo"):
        assert command in done.stdout
    assert "130  interrupted" in done.stdout
