"""A real ``python -m moto.server`` on 127.0.0.1 for the subprocess tests, loaded as a plugin
(``pytest_plugins = ("moto_server",)``, never imported: pytest rewrites it) with one server
per test session (per xdist worker). Helpers are in tests/subprocess_support.py."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from subprocess_support import free_port

SERVER_START_TIMEOUT = 10.0


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A ``python -m moto.server`` on a free port, stopped after the session."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:  # bounded: only while the server process comes up
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("moto server did not start")
                time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
