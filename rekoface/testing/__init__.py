"""An in-process fake of Amazon Rekognition face search, for tests.

``FakeRekognition`` answers ``StartFaceSearch`` and ``GetFaceSearch`` for real boto3
clients (through botocore's event system: no network, no credentials, no moto), with
the service's validation, idempotency, job lifecycle, pagination and completion
notifications, plus fault injection. Its rules come from botocore's service model;
it imports nothing else of rekoface, so it can judge the library rather than echo it.

For pytest: ``pytest_plugins = ["rekoface.testing.pytest_plugin"]`` gives the
``fake_rekognition`` fixture. This module does not import pytest.
"""

from __future__ import annotations

from ._fake import (
    ACCOUNT_ID,
    CallRecord,
    FakeRekognition,
    JobRecord,
    NotificationRecord,
    ResponseDropped,
)

__all__ = [
    "ACCOUNT_ID",
    "CallRecord",
    "FakeRekognition",
    "JobRecord",
    "NotificationRecord",
    "ResponseDropped",
]
