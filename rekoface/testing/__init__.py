"""An in-process fake of Amazon Rekognition face search, for tests.

``FakeRekognition`` answers ``StartFaceSearch`` and ``GetFaceSearch``, and the
collection calls (``CreateCollection``, ``DescribeCollection``, ``DeleteCollection``,
``IndexFaces``, ``ListFaces``, ``DeleteFaces``), for real boto3 clients (through
botocore's event system: no network, no credentials, no moto), with
the service's validation, idempotency, job lifecycle, pagination and completion
notifications, plus fault injection. Its rules come from botocore's service model;
it imports nothing else of rekoface, so it can judge the library rather than echo it.

Inside, imports run one way: `_fake` (the service: operation and JSON body in, status
and JSON body out) and `_transport` (the botocore adapter) each know only `_handler`
(the `Handler` interface and `ResponseDropped`); `_fake_rekognition` joins the two.

For asyncio with aiobotocore (extra ``rekoface[aiobotocore]``): ``async with
aiobotocore_client(fake) as client`` is an aiobotocore client the same fake answers
(`attach_aiobotocore` wires one you made); aiobotocore is imported only then.

For pytest: ``pytest_plugins = ["rekoface.testing.pytest_plugin"]`` gives the
``fake_rekognition`` fixture. This module does not import pytest.
"""

from __future__ import annotations

from ._aio_adapter import aiobotocore_client, attach_aiobotocore
from ._fake import ACCOUNT_ID, CallRecord, JobRecord, NotificationRecord
from ._fake_rekognition import FakeRekognition
from ._handler import ResponseDropped

__all__ = [
    "ACCOUNT_ID",
    "CallRecord",
    "FakeRekognition",
    "JobRecord",
    "NotificationRecord",
    "ResponseDropped",
    "aiobotocore_client",
    "attach_aiobotocore",
]
