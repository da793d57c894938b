"""``rekoface batch --from-queue``: a worker of a fleet, in-process, on moto's SQS and the fake
(virtual time; ``--wait-time-seconds 0``, since moto's long poll blocks in real time)."""

from __future__ import annotations

import errno
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import CLI, Run, one_line_error
from moto import mock_aws
from moto_world import World

pytest_plugins = ("cli_fixtures",)


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        yield World()


def worker(cli: CLI, world: World, *options: str) -> Run:
    return cli(
        "batch",
        "--from-queue",
        world.queue_url,
        "--collection",
        "people",
        "--idle-timeout",
        "30",
        "--wait-time-seconds",
        "0",
        *options,
    )


def lines(run: Run) -> list[dict[str, Any]]:
    return [json.loads(line) for line in run.out.splitlines()]


def send(world: World, *bodies: str) -> None:
    for body in bodies:
        world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=body)


def dead_letters(world: World) -> list[Any]:
    answer = world.sqs.receive_message(
        QueueUrl=world.dlq_url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=0,
        MessageAttributeNames=["All"],
    )
    return answer.get("Messages", [])


def test_each_message_gets_one_line_and_is_deleted(cli: CLI, world: World) -> None:
    send(world, "s3://videos/a.mp4", json.dumps({"Video": "s3://videos/b.mp4"}))
    run = worker(cli, world)
    assert run.code == 0, run.err
    got = lines(run)
    assert sorted(line["Video"] for line in got) == ["s3://videos/a.mp4", "s3://videos/b.mp4"]
    assert all(line["JobStatus"] == "SUCCEEDED" and line["Error"] is None for line in got)
    assert all(isinstance(line["Appearances"], list) for line in got)  # as `batch` writes them
    assert world.counts() == (0, 0)
    assert len(cli.fake.jobs) == 2


def test_outputs_go_to_the_output_sink_before_the_message_is_deleted(
    cli: CLI, world: World, tmp_path: Path
) -> None:
    send(world, "s3://videos/a.mp4")
    run = worker(cli, world, "--output", str(tmp_path / "out"))
    assert run.code == 0, run.err
    (line,) = lines(run)
    assert Path(line["Output"]).is_file()
    assert json.loads(Path(line["Output"]).read_text())["JobId"] == line["JobId"]
    assert world.counts() == (0, 0)


class Full(io.StringIO):
    """stdout on a full disk: the outcome line cannot be flushed."""

    def flush(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_line_that_cannot_be_written_leaves_its_message_on_the_queue(
    cli: CLI, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    send(world, "s3://videos/a.mp4")
    captured = sys.stdout
    monkeypatch.setattr(sys, "stdout", Full())
    run = worker(cli, world)
    assert run.code == 1
    assert "No space left on device" in one_line_error(run)
    assert world.counts() == (1, 0)  # not deleted, and handed back for any worker
    (job,) = cli.fake.jobs.values()
    monkeypatch.setattr(sys, "stdout", captured)
    again = worker(cli, world)
    assert again.code == 0
    (line,) = lines(again)
    assert line["JobId"] == job.job_id  # the same job: the message's token
    assert len(cli.fake.jobs) == 1
    assert world.counts() == (0, 0)


def test_refused_and_malformed_requests_go_to_the_dead_letter_queue(cli: CLI, world: World) -> None:
    cli.fake.inject_error("StartFaceSearch", "InvalidS3ObjectException")
    send(world, "s3://videos/missing.mp4", "hello", "s3://videos/b.mp4")
    run = worker(cli, world, "--max-in-flight", "1")
    assert run.code == 1
    by_video = {line["Video"]: line for line in lines(run)}
    assert set(by_video) == {"s3://videos/missing.mp4", "s3://videos/b.mp4"}
    assert by_video["s3://videos/missing.mp4"]["Error"]["Type"] == "InvalidS3ObjectError"
    assert by_video["s3://videos/b.mp4"]["Error"] is None
    assert "dead-lettered, not a video request: Body: is neither an S3 URI nor JSON" in run.err
    letters = {m["Body"]: m["MessageAttributes"] for m in dead_letters(world)}
    assert set(letters) == {"s3://videos/missing.mp4", "hello"}
    assert letters["hello"]["rekoface.ErrorType"]["StringValue"] == "RequestValidationError"
    assert world.counts() == (0, 0)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["s3://videos/a.mp4"], "give no S3_URI and no --from-file"),
        (["--key", "k"], "--key does not apply to --from-queue"),
        (["--idle-timeout", "-1"], "idle_timeout"),
        (["--wait-time-seconds", "21"], "wait_time_seconds"),
    ],
)
def test_options_that_do_not_fit_a_worker_exit_2(
    cli: CLI, world: World, extra: list[str], expected: str
) -> None:
    send(world, "s3://videos/a.mp4")
    run = worker(cli, world, *extra)
    assert run.code == 2
    assert expected in one_line_error(run)
    assert cli.fake.calls == []
    assert world.counts() == (1, 0)


def test_the_completions_queue_must_not_be_the_work_queue(cli: CLI, world: World) -> None:
    topic = ["--sns-topic", world.topic_arn, "--role", "arn:aws:iam::123456789012:role/r"]
    run = worker(cli, world, "--queue-url", world.queue_url, *topic)
    assert run.code == 2
    assert "must not be the --from-queue work queue" in one_line_error(run)


@pytest.mark.parametrize(
    "option",
    [["--idle-timeout", "5"], ["--wait-time-seconds", "20"], ["--dead-letter-queue", "https://q"]],
)
def test_queue_options_without_from_queue_exit_2(cli: CLI, option: list[str]) -> None:
    run = cli("batch", "s3://videos/a.mp4", "--collection", "people", *option)
    assert run.code == 2
    assert "go with --from-queue" in one_line_error(run)
    assert cli.fake.calls == []


def test_workers_share_the_slots_of_a_slots_table(cli: CLI, world: World) -> None:
    import boto3

    from rekoface import DynamoDBSlotStore

    dynamodb = boto3.client("dynamodb", region_name=world.region)
    DynamoDBSlotStore.create_table("slots", dynamodb_client=dynamodb)
    cli.fake.max_concurrent_jobs = 2  # the account's quota; the table knows it as 2 slots
    send(world, *(f"s3://videos/v{i}.mp4" for i in range(4)))
    run = worker(cli, world, "--slots-table", "slots", "--slots", "2")
    assert run.code == 0, run.err
    assert len(lines(run)) == 4
    outcomes = [c.outcome for c in cli.fake.calls if c.operation == "StartFaceSearch"]
    assert outcomes == ["ok"] * 4  # never a start past the slots (LimitExceededException)
    assert DynamoDBSlotStore("slots", capacity=2, dynamodb_client=dynamodb).held() == 0


def test_a_video_whose_results_cannot_be_written_is_given_back_not_deleted(
    cli: CLI, world: World, tmp_path: Path
) -> None:
    target = tmp_path / "out"
    (target / "videos").mkdir(parents=True)
    (target / "videos" / "cams").write_text("a file where a directory should be")
    send(world, "s3://videos/cams/v1.mp4")
    run = worker(cli, world, "--output", str(target))
    assert run.code == 1
    (line,) = lines(run)
    assert line["JobStatus"] == "SUCCEEDED"
    assert line["Error"]["Type"] in ("FileExistsError", "NotADirectoryError")
    assert world.counts() == (0, 1)  # hidden for the retry delay (60 s), then back
    assert dead_letters(world) == []
