"""Shared test set-up: no test may reach AWS, the instance-metadata address, or a real profile."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, settings

# Property tests judge behaviour, never speed: on a loaded two-core CI machine an example
# may take longer than hypothesis's 200 ms deadline or its data look "too slow" to draw,
# and neither says anything about the code. Both timing checks are off for every test.
settings.register_profile("rekoface", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("rekoface")

# The shared steps of the asyncio tests assert inside a support module: rewrite its asserts
# too, so a failure there shows the values compared, as in a test.
pytest.register_assert_rewrite("aio_support")

_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})


class NetworkAccessError(RuntimeError):
    """A test tried to reach beyond 127.0.0.1 (a bug in the test, never a flake)."""


def _is_loopback(host: object) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port) means the local host
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse name look-ups and connections to anything but the loopback addresses."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            raise NetworkAccessError(f"tests must not look up {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise NetworkAccessError(f"tests must not connect to {address!r}")
        real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(autouse=True)
def _isolated_aws_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Fake credentials, a fixed region, no shared config files or metadata look-ups.

    boto3's default session caches the credentials it first found, so each test gets a
    fresh one: a test that removes the credentials really has none.
    """
    empty = tmp_path_factory.mktemp("aws") / "none"
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
