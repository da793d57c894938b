"""`FakeRekognition`: the fake service plus the boto3 clients it answers.

The one module that imports both the service (`_fake`) and the botocore adapter
(`_transport`), so neither needs the other: the adapter knows only the `Handler`
interface, and the service knows no transport. A second adapter (aiobotocore) would be
wired here the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _transport
from ._fake import FakeService

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from mypy_boto3_rekognition import RekognitionClient

__all__ = ["FakeRekognition"]


class FakeRekognition(FakeService):
    """An in-process Rekognition that answers StartFaceSearch and GetFaceSearch, and the
    collection calls (CreateCollection, DescribeCollection, DeleteCollection, IndexFaces,
    ListFaces, DeleteFaces).

    Wire real boto3 clients to it with `client` or `attach`; every call still goes
    through botocore's serialisation, retries and parsing. State is guarded by a lock,
    so clients may be used from several threads. `handle` answers a call without any
    transport.

    :param clock: wall-clock seconds (default: the fake's own clock, starting at
        `DEFAULT_EPOCH`); `advance` moves the fake's time forward either way.
    :param in_progress_polls: how many `GetFaceSearch` calls see a job `IN_PROGRESS`
        before it succeeds; `None`: until `finish` (or `job_duration`).
    :param max_concurrent_jobs: jobs `IN_PROGRESS` at once before `LimitExceededException`.
    :param seed: makes job ids, faces and generated persons reproducible.
    :param default_persons: person detections a job finds when none are given.
    :param job_duration: if set, a job also succeeds once this many seconds of the fake's
        time have passed since its start (checked on each call and on `advance`), so
        tests that only wait for notifications see jobs end. A callable is called once
        at each job's start with its `StartFaceSearch` parameters as one dict (a copy)
        and returns that job's seconds, so every video can have its own length; an
        answer that is not a finite number >= 0 fails that start with `TypeError` or
        `ValueError`.
    """

    def client(self, region_name: str = "us-east-1", **client_kwargs: Any) -> RekognitionClient:
        """A new boto3 "rekognition" client that this fake answers.

        Built with ``Config(retries={"mode": "standard", "total_max_attempts": 1})``
        merged under any ``config=`` you pass, so botocore does not retry and the retry
        layer under test is the only one; requests are unsigned, so no credentials are
        needed. Other keyword arguments go to botocore's ``create_client`` (as with
        ``boto3.client``).
        """
        return _transport.make_client(self, region_name, **client_kwargs)

    def attach(self, client: BaseClient) -> None:
        """Make an existing "rekognition" client talk to this fake (its config is kept)."""
        _transport.attach(self, client)
