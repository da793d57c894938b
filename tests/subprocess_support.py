"""Helpers of the tests that run ``python -m rekoface`` (and moto's server) in subprocesses."""

from __future__ import annotations

import os
import socket
from pathlib import Path

__all__ = ["env", "free_port"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Fake credentials, a fixed region and width, and no real AWS configuration."""
    empty = tmp_path / "empty"
    empty.touch()
    base = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "COLUMNS": "100",
    }
    base.update(extra)
    return base
