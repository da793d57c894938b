"""`rekoface wait`: polling with progress, timeouts, Ctrl-C and SQS notifications.

Run in-process with tests/cli_support.py's fixtures; tests/test_cli_subprocess.py runs
the real command.
"""

from __future__ import annotations

import json
import sys

import boto3
import pytest
from cli_support import CLI, PEOPLE, TTY, one_line_error
from moto import mock_aws

from rekoface._cli.context import sqs_endpoint
from rekoface.testing import FakeRekognition

pytest_plugins = ("cli_fixtures",)
pytestmark = pytest.mark.usefixtures("columns_100")


def test_wait_polls_with_backoff_and_prints_a_line_per_state_change(cli: CLI) -> None:
    job_id = cli.start()
    run = cli("wait", job_id)
    assert run.code == 0
    assert cli.time.sleeps == [5.0, 5.0]
    assert run.err == (
        f"job {job_id}: IN_PROGRESS (0s, 1 poll)\njob {job_id}: SUCCEEDED (10s, 3 polls)\n"
    )
    assert run.out.startswith(f"JobId          {job_id}\nJobStatus      SUCCEEDED\n")


def test_wait_on_a_terminal_rewrites_one_line_and_ticks_while_sleeping(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = cli.start()
    tty = TTY()
    monkeypatch.setattr(sys, "stderr", tty)
    run = cli("wait", job_id, "--format", "jsonl")
    assert run.code == 0
    assert cli.time.sleeps == [1.0] * 10  # each 5 s pause in 1 s slices
    err = tty.getvalue()
    assert err.count("\r\x1b[K") >= 10
    assert "\r\x1b[Kwaiting: IN_PROGRESS (4s, 1 poll) for job " in err
    assert "\r\x1b[Kwaiting: IN_PROGRESS (7s, 2 polls) for job " in err
    assert err.endswith(f"\r\x1b[Kjob {job_id}: SUCCEEDED (10s, 3 polls)\n")
    assert json.loads(run.out)["JobStatus"] == "SUCCEEDED"


def test_the_live_line_is_cut_to_the_terminal_width(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    job_id = cli.start()
    tty = TTY()
    monkeypatch.setattr(sys, "stderr", tty)
    cli("wait", job_id, "-q")
    assert tty.getvalue() == ""
    cli("wait", cli.start())
    drawn = [part for part in tty.getvalue().split("\r\x1b[K") if part.startswith("waiting")]
    assert drawn[0] == "waiting: IN_PROGRESS (0s, 1 poll) for …"
    assert all(len(part) == 39 for part in drawn)


def test_wait_quiet_prints_no_progress(cli: CLI) -> None:
    run = cli("-q", "wait", cli.start())
    assert run.code == 0
    assert run.err == ""


def test_wait_on_a_failed_job_exits_3(cli: CLI) -> None:
    job_id = cli.start()
    cli.fake.finish(job_id, status="FAILED", status_message="Unsupported codec")
    run = cli("-q", "wait", job_id)
    assert run.code == 3
    assert run.out == ""
    assert one_line_error(run) == (f"rekoface wait: error: job {job_id} failed: Unsupported codec")


def test_wait_timeout_exits_4_and_names_the_command_that_resumes(cli: CLI) -> None:
    job_id = cli.start()
    cli.fake.hold(job_id)
    run = cli("-q", "--region", "us-east-1", "wait", job_id, "--timeout", "12")
    assert run.code == 4
    assert cli.time.now == 12.0
    assert one_line_error(run) == (
        f"rekoface wait: error: job {job_id} still IN_PROGRESS after 12.0s of waiting; "
        f"the job goes on. Resume with: rekoface --region us-east-1 wait {job_id}"
    )


def test_a_bad_timeout_is_exit_2(cli: CLI) -> None:
    run = cli("wait", cli.start(), "--timeout", "-1")
    assert run.code == 2
    assert "--timeout (timeout)" in one_line_error(run)


def test_ctrl_c_while_waiting_exits_130_with_the_job_id_and_the_resume_command(
    cli: CLI,
) -> None:
    job_id = cli.start()

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    run = cli(
        "--endpoint-url",
        "http://127.0.0.1:4566",
        "--profile",
        "dev ops",
        "wait",
        job_id,
        "-v",
        sleep=interrupted,
    )
    assert run.code == 130
    assert "Traceback" not in run.err
    assert run.err.splitlines()[-1] == (
        f"rekoface wait: interrupted; job {job_id} goes on. Resume with: rekoface "
        f"--profile 'dev ops' --endpoint-url http://127.0.0.1:4566 wait {job_id}"
    )


def test_ctrl_c_on_a_terminal_leaves_the_live_line(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = cli.start()
    tty = TTY()
    monkeypatch.setattr(sys, "stderr", tty)

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    assert cli("wait", job_id, sleep=interrupted).code == 130
    assert tty.getvalue().endswith(
        f"\r\x1b[Krekoface wait: interrupted; job {job_id} goes on. "
        f"Resume with: rekoface wait {job_id}\n"
    )


def test_wait_with_a_queue_url_takes_the_notification_from_sqs(cli: CLI) -> None:
    fake = FakeRekognition(in_progress_polls=1, seed=2)
    fake.add_collection("people", PEOPLE)
    cli.fake = fake
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue_url = sqs.create_queue(QueueName="rekoface-done")["QueueUrl"]
        job_id = cli.start()
        note = {"JobId": job_id, "Status": "SUCCEEDED", "API": "StartFaceSearch"}
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(note))
        run = cli("wait", job_id, "--queue-url", queue_url, "--format", "json")
        assert sqs.receive_message(QueueUrl=queue_url).get("Messages", []) == []
    assert run.code == 0
    assert json.loads(run.out)["JobStatus"] == "SUCCEEDED"
    assert fake.jobs[job_id].polls == 2
    assert cli.time.sleeps == []


def test_a_timeout_with_a_queue_url_resumes_with_the_queue(cli: CLI) -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue_url = sqs.create_queue(QueueName="q")["QueueUrl"]
        job_id = cli.start()
        run = cli("-q", "wait", job_id, "--queue-url", queue_url, "--timeout", "0.001")
    assert run.code == 4
    assert one_line_error(run).endswith(
        f"Resume with: rekoface wait {job_id} --queue-url {queue_url}"
    )


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("https://sqs.us-east-1.amazonaws.com/123456789012/q", None),
        ("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", None),
        ("http://127.0.0.1:5000/123456789012/q", "http://127.0.0.1:5000"),
        ("http://localhost:4566/000000000000/q", "http://localhost:4566"),
        ("not a url", None),
    ],
)
def test_queues_outside_aws_are_reached_at_their_own_origin(url: str, endpoint: str | None) -> None:
    assert sqs_endpoint(url) == endpoint
