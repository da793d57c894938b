"""What the fake shows of itself: its account, its operations, and records of its jobs,
calls and notifications (frozen snapshots, safe to keep after the fake moves on)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

import attrs

__all__ = [
    "ACCOUNT_ID",
    "DEFAULT_EPOCH",
    "OPERATIONS",
    "CallRecord",
    "JobRecord",
    "JobState",
    "NotificationRecord",
]

#: The account the fake pretends to be (used in messages).
ACCOUNT_ID: Final = "123456789012"
#: Where the fake's own clock starts (2023-11-14T22:13:20Z).
DEFAULT_EPOCH: Final = 1_700_000_000.0
OPERATIONS: Final = (
    "StartFaceSearch",
    "GetFaceSearch",
    "CreateCollection",
    "DescribeCollection",
    "DeleteCollection",
    "IndexFaces",
    "ListFaces",
    "DeleteFaces",
)

JobState = Literal["IN_PROGRESS", "SUCCEEDED", "FAILED"]


@attrs.frozen
class JobRecord:
    """A snapshot of one job, as `FakeRekognition.jobs` shows it.

    `persons` are the API-shaped `PersonMatch` dicts the job returns (in timestamp
    order); treat them as read-only.
    """

    job_id: str
    request: Mapping[str, Any]
    client_request_token: str | None
    state: JobState
    status_message: str | None
    created_at: float
    finished_at: float | None
    polls: int
    held: bool
    persons: tuple[Mapping[str, Any], ...]


@attrs.frozen
class CallRecord:
    """One call the fake answered: `outcome` is ``"ok"``, an error code or ``"dropped"``."""

    operation: str
    params: Mapping[str, Any]
    outcome: str
    at: float
    job_id: str | None = None


@attrs.frozen
class NotificationRecord:
    """A completion message the fake published (`errors`: sinks that failed to take it)."""

    job_id: str
    topic_arn: str
    message: Mapping[str, Any]
    errors: tuple[str, ...] = ()
