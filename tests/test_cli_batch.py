"""``rekoface batch``: many videos from the shell, against the fake on virtual time, with moto's S3
for the prefix listing and s3:// output. Run in-process with tests/cli_support.py's helpers."""

from __future__ import annotations

import io
import json
import shlex
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from cli_support import CLI, PEOPLE, TTY, Run
from faketime import FakeTime
from moto import mock_aws

from rekoface._cli.args import build_parser
from rekoface.testing import FakeRekognition

pytest_plugins = ("cli_fixtures",)
pytestmark = pytest.mark.usefixtures("columns_100")


def minutes_from_name(params: Mapping[str, Any]) -> float:
    """v3.mp4 runs 3 + 1 minutes."""
    name = params["Video"]["S3Object"]["Name"]
    digits = "".join(c for c in name if c.isdigit()) or "0"
    return (int(digits) % 10 + 1) * 60.0


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def fake(time: FakeTime) -> FakeRekognition:
    """Jobs that last their own length on the CLI's virtual clock."""
    fake = FakeRekognition(
        clock=time.clock, in_progress_polls=None, job_duration=minutes_from_name, seed=1
    )
    fake.add_collection("people", PEOPLE)
    time.on_sleep.append(lambda: fake.advance(0))
    return fake


@pytest.fixture
def cli(fake: FakeRekognition, time: FakeTime, capsys: pytest.CaptureFixture[str]) -> CLI:
    cli = CLI(fake, capsys)
    cli.time = time
    return cli


@pytest.fixture
def s3() -> Iterator[Any]:
    import boto3

    with mock_aws():
        client: Any = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="videos")
        yield client


def lines(run: Run) -> list[dict[str, Any]]:
    return [json.loads(line) for line in run.out.splitlines()]


def uris(*numbers: int) -> list[str]:
    return [f"s3://videos/v{n}.mp4" for n in numbers]


def test_every_video_gets_one_line_with_its_appearances(cli: CLI) -> None:
    run = cli("batch", *uris(1, 2, 3), "--collection", "people")
    assert run.code == 0, run.err
    out = lines(run)
    assert sorted(line["Video"] for line in out) == uris(1, 2, 3)
    for line in out:
        assert line["JobStatus"] == "SUCCEEDED"
        assert line["Error"] is None
        assert line["JobId"] in cli.fake.jobs
        assert line["Appearances"]
        assert {"FaceId", "ExternalImageId", "FirstTimestamp"} <= set(line["Appearances"][0])
    assert [line["Video"] for line in out] == uris(1, 2, 3)  # the shortest ended first
    assert run.err == ""  # not a terminal: quiet


def test_a_uri_list_line_that_cannot_be_read_is_reported_by_number_and_skipped(
    cli: CLI, tmp_path: Path
) -> None:
    listing = tmp_path / "videos.txt"
    listing.write_bytes(
        b"# the lobby cameras\n"
        b"s3://videos/v1.mp4\n"
        b"\n"
        b"http://videos/v2.mp4\n"
        b"s3://videos/v\xff.mp4\n"
        b"  s3://videos/v3.mp4  \n"
    )
    run = cli("batch", "--from-file", str(listing), "--collection", "people")
    assert run.code == 1
    assert "Traceback" not in run.err
    errors = run.err.splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"{listing}:4: skipped: 'http://videos/v2.mp4' is not an S3 URI")
    assert errors[1] == f"{listing}:5: skipped: not UTF-8 text"
    out = lines(run)
    assert sorted(line["Video"] for line in out) == uris(1, 3)
    assert all(line["Error"] is None for line in out)


def test_a_line_of_the_uri_list_may_be_a_request_of_its_own(cli: CLI, tmp_path: Path) -> None:
    """The JSON a work-queue message carries (one parser for both); options fill the rest."""
    cli.fake.add_collection("visitors", ["zoe"])
    listing = tmp_path / "videos.txt"
    listing.write_text(
        "s3://videos/v1.mp4\n"
        + json.dumps({"Video": "s3://videos/v2.mp4", "FaceMatchThreshold": 99})
        + "\n"
        + json.dumps(
            {
                "Video": {"S3Object": {"Bucket": "videos", "Name": "v3.mp4"}},
                "CollectionId": "visitors",
            }
        )
        + "\n"
        + json.dumps({"Video": "s3://videos/v4.mp4", "Colection": "x"})
        + "\n",
        encoding="utf-8",
    )
    run = cli("batch", "--from-file", str(listing), "--collection", "people", "--threshold", "90")
    assert run.code == 1
    assert run.err.splitlines() == [
        f"{listing}:4: skipped: unknown field Colection (rule: Video, CollectionId, "
        "FaceMatchThreshold, NotificationChannel, JobTag)"
    ]
    assert sorted(line["Video"] for line in lines(run)) == uris(1, 2, 3)
    started = {
        job.request["Video"]["S3Object"]["Name"]: job.request for job in cli.fake.jobs.values()
    }
    assert started["v1.mp4"]["FaceMatchThreshold"] == 90.0
    assert started["v2.mp4"]["FaceMatchThreshold"] == 99.0
    assert started["v3.mp4"]["CollectionId"] == "visitors"
    assert started["v2.mp4"]["CollectionId"] == "people"


def test_the_uri_list_comes_from_stdin_with_a_dash(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO("\n".join(uris(4, 5)).encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    run = cli("batch", "--from-file", "-", *uris(6), "--collection", "people")
    assert run.code == 0, run.err
    assert sorted(line["Video"] for line in lines(run)) == uris(4, 5, 6)


def test_a_prefix_runs_every_video_object_under_it_across_pages(cli: CLI, s3: Any) -> None:
    for i in range(1001):  # more than one ListObjectsV2 page before the videos
        s3.put_object(Bucket="videos", Key=f"cams/a-notes-{i:04d}.txt", Body=b"")
    for key in ("cams/z/v1.mp4", "cams/z/v2.MOV", "cams/z/v3.avi", "cams/z/v4.mkv", "other/v5.mp4"):
        s3.put_object(Bucket="videos", Key=key, Body=b"")
    run = cli("batch", "s3://videos/cams/", "--collection", "people")
    assert run.code == 0, run.err
    expected = [
        "s3://videos/cams/z/v1.mp4",
        "s3://videos/cams/z/v2.MOV",
        "s3://videos/cams/z/v3.avi",
    ]
    assert sorted(line["Video"] for line in lines(run)) == expected
    assert len(cli.fake.jobs) == 3


def test_a_prefix_that_cannot_be_listed_is_reported_and_the_rest_goes_on(cli: CLI, s3: Any) -> None:
    run = cli("batch", "s3://no-such-bucket/", *uris(1), "--collection", "people")
    assert run.code == 1
    assert "Traceback" not in run.err
    (error,) = run.err.splitlines()
    assert error.startswith("s3://no-such-bucket/: cannot list it:")
    assert "NoSuchBucket" in error
    assert [line["Video"] for line in lines(run)] == uris(1)


def raw_persons(fake: FakeRekognition, job_id: str) -> list[dict[str, Any]]:
    """Every Persons item of the job, as GetFaceSearch returns them, page by page."""
    client: Any = fake.client()
    persons: list[dict[str, Any]] = []
    token = None
    while True:
        page = client.get_face_search(JobId=job_id, **({"NextToken": token} if token else {}))
        persons += page["Persons"]
        token = page.get("NextToken")
        if not token:
            return persons


def test_output_dir_gets_one_file_per_video_with_the_services_matches(
    cli: CLI, tmp_path: Path
) -> None:
    target = tmp_path / "out"
    run = cli(
        "batch",
        *uris(1, 2),
        "s3://videos/../v3.mp4",
        "--collection",
        "people",
        "--output",
        str(target),
    )
    assert run.code == 0, run.err
    out = lines(run)
    assert all("Appearances" not in line for line in out)
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    # Each video's matches, and its picture next to them (tests/test_cli_timeline.py).
    assert files == [
        f"videos/{name}.mp4.{kind}"
        for name in ("%2E%2E/v3", "v1", "v2")
        for kind in ("html", "json")
    ]
    for line in out:
        document = json.loads(Path(line["Output"]).read_text(encoding="utf-8"))
        assert document["JobId"] == line["JobId"]
        assert document["Persons"] == raw_persons(cli.fake, line["JobId"])
        assert "DurationMillis" in document["VideoMetadata"]


def test_output_s3_gets_one_object_per_video(cli: CLI, s3: Any) -> None:
    run = cli("batch", *uris(1, 2), "--collection", "people", "--output", "s3://videos/results/")
    assert run.code == 0, run.err
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="videos", Prefix="results/")["Contents"]]
    assert sorted(keys) == [
        f"results/videos/{name}.mp4.{kind}" for name in ("v1", "v2") for kind in ("html", "json")
    ]
    for line in lines(run):
        key = line["Output"].removeprefix("s3://videos/")
        document = json.loads(s3.get_object(Bucket="videos", Key=key)["Body"].read())
        assert document["Persons"] == raw_persons(cli.fake, line["JobId"])


def test_a_bad_video_and_a_failed_job_are_lines_of_their_own_and_exit_1(cli: CLI) -> None:
    cli.fake.inject_error("StartFaceSearch", "InvalidS3ObjectException")

    def fail_v2() -> None:
        for job in cli.fake.jobs.values():
            if "v2" in str(job.request) and job.state == "IN_PROGRESS":
                cli.fake.finish(job.job_id, status="FAILED", status_message="bad codec")

    cli.time.on_sleep.append(fail_v2)
    run = cli("batch", *uris(1, 2, 3), "--collection", "people")
    assert run.code == 1
    by_video = {line["Video"]: line for line in lines(run)}
    assert by_video[uris(1)[0]]["Error"]["Code"] == "InvalidS3ObjectException"
    assert by_video[uris(1)[0]]["JobId"] is None
    assert by_video[uris(2)[0]]["JobStatus"] == "FAILED"
    assert by_video[uris(2)[0]]["Error"]["Type"] == "JobFailedError"
    assert by_video[uris(3)[0]]["Error"] is None


class InterruptedOnFlush(io.StringIO):
    """stdout on which Ctrl-C comes as the first line is written."""

    def flush(self) -> None:
        raise KeyboardInterrupt


def resume_words(err: str) -> list[str]:
    marker = "Resume with: "
    assert marker in err, err
    return shlex.split(err.splitlines()[-1].split(marker, 1)[1])


def test_ctrl_c_prints_the_command_that_resumes_and_it_starts_no_job_twice(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    videos = uris(*range(1, 9))
    argv = ["batch", *videos, "--collection", "people", "--key", "nightly", "--max-in-flight", "3"]
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", InterruptedOnFlush())
        run = cli(*argv)
    assert run.code == 130
    assert "Traceback" not in run.err
    assert "2 jobs go on at the service" in run.err
    words = resume_words(run.err)
    assert words[0] == "rekoface"
    assert build_parser().parse_args(words[1:]) == build_parser().parse_args(argv)
    started = len(cli.fake.jobs)
    assert started == 3  # the first ended: its line was being written
    cli.time.sleep(3600)
    again = cli(*words[1:])
    assert again.code == 0, again.err
    assert sorted(line["Video"] for line in lines(again)) == videos
    assert len(cli.fake.jobs) == 8  # no job twice


def test_ctrl_c_without_a_key_says_a_rerun_starts_new_jobs(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", InterruptedOnFlush())
    run = cli("batch", *uris(1, 2), "--collection", "people")
    assert run.code == 130
    (line,) = run.err.splitlines()
    assert "Without --key a re-run starts new jobs" in line
    assert "--key next time" in line
    assert "Resume with" not in line


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["batch", "--collection", "people"], "name the videos"),
        (["batch", "http://videos/v1.mp4", "--collection", "people"], "S3_URI (Video.S3Object)"),
        (["batch", *uris(1), "--collection", "people", "--format", "csv"], "--format csv"),
        (["batch", *uris(1), "--collection", "people", "--queue-url", "https://q"], "--sns-topic"),
        (["batch", *uris(1), "--collection", "people", "--max-in-flight", "0"], "--max-in-flight"),
        (["batch", *uris(1), "--collection", "people", "--from-file", "/no/such"], "cannot read"),
        (["batch", *uris(1)], "--collection"),
    ],
)
def test_usage_errors_exit_2_with_one_line_before_any_call(
    cli: CLI, argv: list[str], message: str
) -> None:
    run = cli(*argv)
    assert run.code == 2
    assert "Traceback" not in run.err
    assert message in run.err
    assert len(run.err.splitlines()) == 1
    assert cli.fake.calls == []


def test_a_terminal_gets_a_progress_bar_with_counts_window_rate_and_eta(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    stderr = TTY()
    monkeypatch.setattr(sys, "stderr", stderr)
    run = cli("batch", *uris(1, 2, 3, 4), "--collection", "people", "--max-in-flight", "2")
    assert run.code == 0
    drawn = stderr.getvalue()
    assert "\r\x1b[K" in drawn
    assert "batch: 1/4 done (1 ok, 0 failed)" in drawn
    assert "2 running, window 2/2" in drawn
    assert "/min, ETA " in drawn
    assert drawn.endswith("\n")
    assert "batch: 4/4 done (4 ok, 0 failed)" in drawn.splitlines()[-1]


def test_quiet_draws_no_bar_even_on_a_terminal(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = TTY()
    monkeypatch.setattr(sys, "stderr", stderr)
    run = cli("-q", "batch", *uris(1), "--collection", "people")
    assert run.code == 0
    assert stderr.getvalue() == ""


def test_with_a_queue_the_batch_waits_on_notifications_and_polls_far_less(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.sqs.models import SQSBackend
    from moto_world import World as MotoWorld

    original = SQSBackend.receive_message

    def receive(self: Any, queue: str, count: int, wait: int, *args: Any, **kwargs: Any) -> Any:
        """moto's long poll, on the virtual clock: nothing found lasts its wait time."""
        found = original(self, queue, count, 0, *args, **kwargs)
        if found or not wait:
            return found
        cli.time.sleep(wait)
        return original(self, queue, count, 0, *args, **kwargs)

    monkeypatch.setattr(SQSBackend, "receive_message", receive)
    with mock_aws():
        aws = MotoWorld()
        cli.fake.connect_sns(aws.sns)
        role = "arn:aws:iam::123456789012:role/Rekognition"
        videos = uris(*range(10))
        options = ["--queue-url", aws.queue_url, "--sns-topic", aws.topic_arn, "--role", role]
        run = cli("batch", *videos, "--collection", "people", *options)
    assert run.code == 0, run.err
    assert sorted(line["Video"] for line in lines(run)) == sorted(videos)
    status_calls = [
        c for c in cli.fake.calls if c.operation == "GetFaceSearch" and "NextToken" not in c.params
    ]
    # A first check, the confirmation of the notification, and the results' first page
    # (a fallback only every 300 s): polling would make dozens a job.
    assert len(status_calls) <= 4 * len(videos)


def test_an_output_that_cannot_be_written_fails_that_video_only(cli: CLI, tmp_path: Path) -> None:
    target = tmp_path / "out"
    (target / "videos").mkdir(parents=True)
    (target / "videos" / "cams").write_text("a file where a directory should be")
    videos = ["s3://videos/cams/v1.mp4", *uris(2)]
    run = cli("batch", *videos, "--collection", "people", "--output", str(target))
    assert run.code == 1
    by_video = {line["Video"]: line for line in lines(run)}
    assert by_video[videos[0]]["JobStatus"] == "SUCCEEDED"
    assert by_video[videos[0]]["Error"]["Type"] in ("FileExistsError", "NotADirectoryError")
    assert by_video[videos[1]]["Error"] is None
    assert Path(by_video[videos[1]]["Output"]).is_file()


class CountingLines:
    """stdin over many URIs that counts the lines read."""

    def __init__(self, count: int) -> None:
        self.read = 0
        self._lines = (f"s3://videos/v{n}.mp4\n".encode() for n in range(count))

    def __iter__(self) -> Iterator[bytes]:
        for line in self._lines:
            self.read += 1
            yield line


def test_the_uri_list_is_read_only_as_jobs_can_start(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = CountingLines(1_000_000)
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr(sys, "stdout", InterruptedOnFlush())
    run = cli(
        "batch", "--from-file", "-", "--collection", "people", "--max-in-flight", "3", "--key", "k"
    )
    assert run.code == 130
    assert "Resume with: rekoface batch --from-file=- --collection people --key k" in run.err
    assert run.err.rstrip().endswith("(with the same list on stdin)")
    assert stdin.read <= 3 + 1
    assert len(cli.fake.jobs) == 3


def test_a_prefix_has_no_known_total_so_the_bar_shows_no_eta(
    cli: CLI, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in (1, 2):
        s3.put_object(Bucket="videos", Key=f"cams/v{n}.mp4", Body=b"")
    stderr = TTY()
    monkeypatch.setattr(sys, "stderr", stderr)
    run = cli("batch", "s3://videos/cams/", "--collection", "people")
    assert run.code == 0
    drawn = stderr.getvalue()
    assert "batch: 2 done (2 ok, 0 failed)" in drawn
    assert "/min" in drawn
    assert "ETA" not in drawn
