"""`rekoface start`: the request it sends, what it prints, and its bad input.

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


def test_start_prints_the_job_id_alone_so_scripts_can_capture_it(cli: CLI) -> None:
    run = cli("start", "s3://my-bucket/lobby.mp4", "--collection", "people")
    assert run.code == 0
    assert run.err == ""
    assert run.out == f"{next(iter(cli.fake.jobs))}\n"


def test_start_sends_every_option_and_json_shows_the_token(cli: CLI) -> None:
    run = cli(
        "start",
        "s3://my-bucket/videos/lobby.mp4",
        "--collection=people",
        "--threshold=92.5",
        "--job-tag=nightly",
        "--video-version=v7",
        "--sns-topic=arn:aws:sns:us-east-1:123456789012:AmazonRekognitionDone",
        "--role=arn:aws:iam::123456789012:role/rekognition",
        "--format=json",
    )
    assert run.code == 0
    shown = json.loads(run.out)
    job = cli.fake.jobs[shown["JobId"]]
    assert shown["ClientRequestToken"] == job.client_request_token
    assert job.request == {
        "Video": {"S3Object": {"Bucket": "my-bucket", "Name": "videos/lobby.mp4", "Version": "v7"}},
        "CollectionId": "people",
        "FaceMatchThreshold": 92.5,
        "JobTag": "nightly",
        "NotificationChannel": {
            "SNSTopicArn": "arn:aws:sns:us-east-1:123456789012:AmazonRekognitionDone",
            "RoleArn": "arn:aws:iam::123456789012:role/rekognition",
        },
    }


def test_start_with_an_idempotency_key_twice_returns_one_job(cli: CLI) -> None:
    argv = ("start", "s3://my-bucket/lobby.mp4", "--collection", "people", "--format", "jsonl")
    first = cli(*argv, "--idempotency-key", "event-42")
    second = cli(*argv, "--idempotency-key", "event-42")
    assert json.loads(first.out) == json.loads(second.out)
    assert len(cli.fake.jobs) == 1


def test_start_with_a_token_sends_it_verbatim_and_csv_has_a_header(cli: CLI) -> None:
    run = cli("start", "s3://my-bucket/a.mp4", "--collection", "people", "--token", "tok-1")
    assert run.code == 0
    run = cli(
        "start",
        "s3://my-bucket/a.mp4",
        "--collection",
        "people",
        "--token",
        "tok-1",
        "--format",
        "csv",
    )
    rows = list(csv.reader(io.StringIO(run.out)))
    assert rows[0] == ["JobId", "ClientRequestToken"]
    assert rows[1][1] == "tok-1"
    assert len(cli.fake.jobs) == 1


def test_invalid_fields_are_reported_together_in_one_line_with_exit_2(cli: CLI) -> None:
    run = cli("start", "http://x/y.mp4", "--collection", "bad id!", "--threshold", "120")
    assert run.code == 2
    assert run.out == ""
    line = one_line_error(run)
    assert line.startswith("rekoface start: error: 3 invalid values: ")
    assert "S3_URI (Video.S3Object): 'http://x/y.mp4' is not an S3 URI" in line
    assert "--collection (CollectionId): 'bad id!' does not match" in line
    assert "--threshold (FaceMatchThreshold): 120.0 is out of range" in line
    assert cli.fake.calls == []


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["s3://my-bucket/"], "S3_URI key (Video.S3Object.Name): must not be empty"),
        (["s3://b/k.mp4"], "S3_URI bucket (Video.S3Object.Bucket)"),
        (
            ["s3://my-bucket/k.mp4", "--sns-topic", "nope", "--role", "nope"],
            "--sns-topic (NotificationChannel.SNSTopicArn)",
        ),
        (["s3://my-bucket/k.mp4", "--threshold", "nan"], "is not a finite number"),
        (["s3://my-bucket/k.mp4", "--job-tag", "a b"], "--job-tag (JobTag)"),
    ],
)
def test_each_bad_field_is_named_by_its_option(cli: CLI, argv: list[str], expected: str) -> None:
    run = cli("start", *argv, "--collection", "people")
    assert run.code == 2
    assert expected in one_line_error(run)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--sns-topic", "arn:aws:sns:us-east-1:1:t"], "--sns-topic and --role go together"),
        (["--token", "a", "--idempotency-key", "b"], "not allowed with argument"),
        (["--threshold", "high"], "invalid float value: 'high'"),
    ],
)
def test_usage_errors_are_one_line_with_exit_2(cli: CLI, argv: list[str], expected: str) -> None:
    run = cli("start", "s3://my-bucket/k.mp4", "--collection", "people", *argv)
    assert run.code == 2
    line = one_line_error(run)
    assert line.startswith("rekoface start: error: ")
    assert expected in line
    assert line.endswith("(see 'rekoface start --help')")
