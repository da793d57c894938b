"""`rekoface status`: a job's state in every format.

Run in-process with tests/cli_support.py's fixtures; tests/test_cli_subprocess.py runs
the real command.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from cli_support import CLI, REQUEST, one_line_error

from rekoface import FaceSearchRequest

pytest_plugins = ("cli_fixtures",)
pytestmark = pytest.mark.usefixtures("columns_100")


def test_status_table_shows_state_video_and_metadata(cli: CLI, done: str) -> None:
    run = cli("status", done)
    assert run.code == 0
    assert run.out == (
        f"JobId          {done}\n"
        "JobStatus      SUCCEEDED\n"
        "Video          s3://my-bucket/lobby.mp4\n"
        "VideoMetadata  0:01:00.000, 1920x1080, 29.97 fps, h264, QuickTime / MOV\n"
    )


def test_status_of_a_failed_job_exits_0_and_shows_the_message(cli: CLI) -> None:
    job_id = cli.start(FaceSearchRequest(REQUEST.video, "people", job_tag="t1"))
    cli.fake.finish(job_id, status="FAILED", status_message="Video is corrupt")
    run = cli("status", job_id)
    assert run.code == 0
    assert "JobStatus      FAILED\nStatusMessage  Video is corrupt\nJobTag         t1\n" in run.out
    shown = json.loads(cli("status", job_id, "--format", "jsonl").out)
    assert shown == {
        "JobId": job_id,
        "JobStatus": "FAILED",
        "StatusMessage": "Video is corrupt",
        "JobTag": "t1",
        "Video": {"S3Object": {"Bucket": "my-bucket", "Name": "lobby.mp4"}},
    }


def test_status_csv_and_json(cli: CLI, done: str) -> None:
    rows = list(csv.DictReader(io.StringIO(cli("status", done, "--format", "csv").out)))
    assert rows == [
        {
            "JobId": done,
            "JobStatus": "SUCCEEDED",
            "StatusMessage": "",
            "JobTag": "",
            "Video": "s3://my-bucket/lobby.mp4",
            "DurationMillis": "60000",
        }
    ]
    shown = json.loads(cli("status", done, "--format", "json").out)
    assert shown["VideoMetadata"]["DurationMillis"] == 60000
    assert shown["VideoMetadata"]["FrameRate"] == 29.97


def test_a_bad_job_id_is_exit_2(cli: CLI) -> None:
    run = cli("status", "not a job")
    assert run.code == 2
    assert "JOB_ID (JobId): 'not a job' does not match" in one_line_error(run)
