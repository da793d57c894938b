"""Errors and exit codes: service and transport errors, verbose output, unexpected
errors, Ctrl-C, and the real client factory (credentials, region, profile, endpoint).

Run in-process with tests/cli_support.py's fixtures; tests/test_cli_subprocess.py runs
the real command.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from cli_support import CLI, REQUEST, one_line_error

from rekoface import FaceSearchClient
from rekoface._cli.context import ClientOptions, default_client_factory
from rekoface.cli import main
from rekoface.testing import FakeRekognition

pytest_plugins = ("cli_fixtures",)
pytestmark = pytest.mark.usefixtures("columns_100")


def test_service_errors_exit_1_with_code_request_id_and_a_hint(cli: CLI, done: str) -> None:
    cli.fake.inject_error("GetFaceSearch", "AccessDeniedException")
    run = cli("status", done)
    assert run.code == 1
    line = one_line_error(run)
    assert line.startswith(
        "rekoface status: error: AccessDeniedException: User is not authorized to perform "
        "this action (GetFaceSearch; request id "
    )
    assert line.endswith("; check that your credentials may call rekognition:GetFaceSearch)")


def test_a_missing_collection_is_exit_1_with_the_service_message(cli: CLI) -> None:
    run = cli("start", "s3://my-bucket/k.mp4", "--collection", "nobody")
    assert run.code == 1
    assert "ResourceNotFoundException: The collection id: nobody does not exist" in one_line_error(
        run
    )


def test_an_unknown_service_error_has_no_hint(cli: CLI, done: str) -> None:
    cli.fake.inject_error("GetFaceSearch", "SomethingNew", message="")
    line = one_line_error(cli("status", done))
    assert line.startswith("rekoface status: error: SomethingNew (GetFaceSearch; request id ")
    assert line.endswith(")")


def test_transport_errors_exit_1(cli: CLI, done: str) -> None:
    cli.fake.drop_response("GetFaceSearch", times=2)
    run = cli("status", done)
    assert run.code == 1
    assert one_line_error(run).startswith(
        "rekoface status: error: GetFaceSearch: no answer from the service (ReadTimeoutError"
    )


def test_verbose_shows_the_traceback_and_the_log(cli: CLI, done: str) -> None:
    cli.fake.inject_error("GetFaceSearch", "ThrottlingException", times=2)
    run = cli("-v", "status", done)
    assert run.code == 1
    assert "Traceback (most recent call last)" in run.err
    assert "WARNING rekoface:" in run.err or "INFO rekoface:" in run.err
    assert run.err.splitlines()[-1].startswith("rekoface status: error: ThrottlingException")
    assert logging.getLogger("rekoface").handlers == []


def test_very_verbose_logs_debug(cli: CLI, done: str) -> None:
    run = cli("-vv", "start", "s3://my-bucket/lobby.mp4", "--collection", "people")
    assert run.code == 0
    assert "DEBUG rekoface: StartFaceSearch s3://my-bucket/lobby.mp4 collection=people" in run.err
    assert "INFO rekoface: started face search job" in run.err


def test_an_unexpected_error_is_one_line_unless_verbose(cli: CLI) -> None:
    def broken(options: ClientOptions) -> FaceSearchClient:
        raise RuntimeError("oops")

    code = main(["status", "job-1"], client_factory=broken)
    err = cli._capsys.readouterr().err
    assert code == 1
    assert err == (
        "rekoface status: error: unexpected RuntimeError: oops (run with --verbose for the "
        "traceback, and please report it)\n"
    )


def test_system_exit_is_not_swallowed() -> None:
    def leaving(options: ClientOptions) -> FaceSearchClient:
        raise SystemExit(7)

    with pytest.raises(SystemExit):
        main(["status", "job-1"], client_factory=leaving)


def test_ctrl_c_outside_a_wait_is_exit_130(cli: CLI) -> None:
    def interrupted(options: ClientOptions) -> FaceSearchClient:
        raise KeyboardInterrupt

    assert main(["status", "job-1"], client_factory=interrupted) == 130
    assert cli._capsys.readouterr().err == "rekoface status: interrupted\n"


def test_missing_credentials_exit_2_with_what_to_set(
    no_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "job-1"]) == 2
    assert capsys.readouterr().err == (
        "rekoface status: error: no AWS credentials found: set AWS_PROFILE (or pass --profile), "
        "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws configure` / "
        "`aws sso login`\n"
    )


def test_missing_credentials_for_sqs_are_named_too(
    no_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeRekognition(in_progress_polls=None)
    fake.add_collection("people", 1)
    client = FaceSearchClient(fake.client())  # the fake needs no credentials; SQS does
    job_id = client.start(REQUEST).job_id
    queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/q"
    code = main(["wait", job_id, "--queue-url", queue_url], client_factory=lambda _: client)
    assert code == 2
    assert capsys.readouterr().err.endswith(
        "rekoface wait: error: no AWS credentials found: set AWS_PROFILE (or pass --profile), "
        "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws configure` / "
        "`aws sso login`\n"
    )


def test_missing_region_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert main(["status", "job-1"]) == 2
    assert capsys.readouterr().err.startswith(
        "rekoface status: error: no AWS region: pass --region"
    )


def test_an_unknown_profile_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--profile", "nope", "status", "job-1"]) == 2
    assert capsys.readouterr().err.startswith(
        "rekoface status: error: AWS profile 'nope' not found: check --profile"
    )


def test_a_known_profile_is_used(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.write_text("[profile dev]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    client = default_client_factory(ClientOptions(profile="dev"))
    assert client.boto3_client.meta.region_name == "eu-west-1"


def test_aws_max_attempts_sets_the_retry_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    assert default_client_factory(ClientOptions()).retry.max_attempts == 3
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "many")
    with pytest.raises(Exception, match="AWS_MAX_ATTEMPTS='many' is not a whole number >= 1"):
        default_client_factory(ClientOptions())


def test_a_bad_endpoint_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--endpoint-url", "nope", "status", "job-1"]) == 2
    assert "check endpoint_url" in capsys.readouterr().err
