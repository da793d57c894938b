"""Setting a client up: every mistake is a `ConfigurationError` that says what to fix."""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest

from rekoface import ConfigurationError, FaceSearchClient


def _profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    config = tmp_path / "config"
    config.write_text(body, encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


def test_a_misspelt_profile_names_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "prodd")
    with pytest.raises(ConfigurationError, match=r"'prodd'.*AWS_PROFILE"):
        FaceSearchClient(region_name="us-east-1")


def test_a_failing_credential_process_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = f'"{sys.executable}" -c "import sys; sys.exit(3)"'
    _profile(tmp_path, monkeypatch, f"[profile broken]\ncredential_process = {failing}\n")
    session = boto3.Session(profile_name="broken", region_name="us-east-1")
    with pytest.raises(ConfigurationError, match="credential_process") as caught:
        # Credentials load with the client: endpoint_url is never reached.
        FaceSearchClient(boto3_session=session, endpoint_url="http://127.0.0.1:9")
    assert "sys.exit" not in str(caught.value)  # the command line is not repeated


def test_a_malformed_region_is_called_malformed() -> None:
    with pytest.raises(ConfigurationError, match="'us east 1' is malformed") as caught:
        FaceSearchClient(region_name="us east 1")
    assert "endpoint_url" not in str(caught.value)


def test_a_bad_endpoint_is_named_and_its_password_masked() -> None:
    with pytest.raises(ConfigurationError, match="endpoint_url") as caught:
        FaceSearchClient(region_name="us-east-1", endpoint_url="http://user:hunter2@")
    assert "hunter2" not in str(caught.value)
    assert "user:***@" in str(caught.value)


@pytest.mark.parametrize(
    ("argument", "value", "wanted"),
    [
        ("region_name", 5, "a str"),
        ("endpoint_url", 5, "a str"),
        ("config", "x", "botocore.config.Config"),
        ("poller", "x", "Poller"),
        ("retry", 3, "RetryPolicy"),
        ("boto3_session", "x", "boto3.Session"),
    ],
)
def test_an_argument_of_the_wrong_kind_is_named(argument: str, value: object, wanted: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"{argument} must be .*{wanted}"):
        FaceSearchClient(**{argument: value})  # type: ignore[arg-type]


def test_a_boto3_client_of_the_wrong_kind_is_named() -> None:
    with pytest.raises(ConfigurationError, match="boto3_client must be"):
        FaceSearchClient(5)  # type: ignore[arg-type]
    sqs = boto3.client("sqs", region_name="us-east-1")
    with pytest.raises(ConfigurationError, match="boto3_client must be"):
        FaceSearchClient(sqs)  # type: ignore[arg-type]


def test_every_wrong_argument_is_named_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        FaceSearchClient(region_name=5, endpoint_url=6, config="x")  # type: ignore[arg-type]
    message = str(caught.value)
    assert all(name in message for name in ("region_name", "endpoint_url", "config"))
