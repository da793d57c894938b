"""`rekoface search`: start, wait and results in one command.

Run in-process with tests/cli_support.py's fixtures; tests/test_cli_subprocess.py runs
the real command.
"""

from __future__ import annotations

from typing import Any

import pytest
from cli_support import CLI, one_line_error

from rekoface.cli import main

pytest_plugins = ("cli_fixtures",)
pytestmark = pytest.mark.usefixtures("columns_100")


def test_search_starts_waits_and_streams_the_matches(cli: CLI) -> None:
    run = cli("search", "s3://my-bucket/lobby.mp4", "--collection", "people", "--format", "jsonl")
    assert run.code == 0
    (job_id,) = cli.fake.jobs
    assert run.err == (
        f"started job {job_id}\n"
        f"job {job_id}: IN_PROGRESS (0s, 1 poll)\n"
        f"job {job_id}: SUCCEEDED (10s, 3 polls)\n"
    )
    assert len(run.out.splitlines()) == 25


def test_search_timeout_names_wait_then_results(cli: CLI) -> None:
    cli.fake.in_progress_polls = None
    run = cli(
        "-q",
        "search",
        "s3://my-bucket/lobby.mp4",
        "--collection",
        "people",
        "--timeout",
        "30",
        "--format",
        "csv",
        "--idempotency-key",
        "k",
    )
    assert run.code == 4
    (job_id,) = cli.fake.jobs
    assert one_line_error(run).endswith(
        f"Resume with: rekoface wait {job_id} && rekoface results {job_id} --format csv"
    )


def test_search_validates_before_calling(cli: CLI) -> None:
    run = cli("search", "s3://my-bucket/lobby.mp4", "--collection", "x" * 256)
    assert run.code == 2
    assert "--collection (CollectionId): is 256 characters long" in one_line_error(run)
    assert cli.fake.calls == []


def test_ctrl_c_while_starting_says_a_job_may_have_started(cli: CLI) -> None:
    class Ready:
        def check(self) -> None:
            return None

    class Interrupted:
        def collection(self, collection_id: str) -> Ready:
            return Ready()

        def start(self, *args: Any, **kwargs: Any) -> Any:
            raise KeyboardInterrupt

    for command in ("start", "search"):
        code = main(
            [command, "s3://my-bucket/k.mp4", "--collection", "people"],
            client_factory=lambda options: Interrupted(),  # type: ignore[arg-type,return-value]
        )
        assert code == 130
    err = cli._capsys.readouterr().err
    assert err.count("interrupted; a job may have started (with --idempotency-key") == 2


@pytest.mark.parametrize(
    ("collection", "said"),
    [("nobody-here", "does not exist"), ("empty", "holds no faces")],
)
def test_search_refuses_a_collection_that_cannot_find_anyone(
    cli: CLI, collection: str, said: str
) -> None:
    cli.fake.add_collection("empty", faces=0)
    run = cli("search", "s3://my-bucket/lobby.mp4", "--collection", collection)
    assert run.code == 2
    assert said in one_line_error(run)
    assert [c.operation for c in cli.fake.calls] == ["DescribeCollection"]  # no job started


def test_batch_refuses_a_collection_that_cannot_find_anyone(cli: CLI) -> None:
    run = cli("batch", "s3://my-bucket/a.mp4", "--collection", "nobody-here")
    assert run.code == 2
    assert "does not exist" in one_line_error(run)
    assert "StartFaceSearch" not in {c.operation for c in cli.fake.calls}


def test_a_check_the_service_cannot_answer_does_not_stop_the_search(cli: CLI) -> None:
    cli.fake.inject_error("DescribeCollection", "AccessDeniedException")
    run = cli("search", "s3://my-bucket/lobby.mp4", "--collection", "people", "--format", "jsonl")
    assert run.code == 0
    assert run.err.startswith(
        "could not check collection people (AccessDeniedException); starting anyway\n"
    )
    assert len(cli.fake.jobs) == 1
