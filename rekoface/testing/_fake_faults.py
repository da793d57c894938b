"""Faults a test asks the fake for: calls refused with an error code before they act,
and calls that act but whose answers are lost.

The caller (`FakeService`) holds the lock; nothing here is thread-safe on its own.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Final

import attrs

from ._fake_records import OPERATIONS

__all__ = ["Faults", "Injected"]

_DEFAULT_MESSAGES: Final[Mapping[str, str]] = {
    "ThrottlingException": "Slow down",
    "ProvisionedThroughputExceededException": "Provisioned rate exceeded",
    "InternalServerError": "Internal server error",
    "AccessDeniedException": "User is not authorized to perform this action",
    "InvalidS3ObjectException": "Unable to get object metadata from S3. Check object key, "
    "region and/or access permissions.",
    "VideoTooLargeException": "The video is too large",
    "InvalidImageFormatException": "Request has invalid image format",
    "ImageTooLargeException": "Image size is too large.",
    "ServiceQuotaExceededException": "The request exceeds a service quota",
}


@attrs.frozen
class Injected:
    """One refusal waiting for its call."""

    code: str
    http_status: int
    message: str


class Faults:
    """Refusals and lost answers waiting, per operation, in the order they were asked for."""

    def __init__(self) -> None:
        self._errors: dict[str, deque[Injected]] = {op: deque() for op in OPERATIONS}
        self._drops: dict[str, int] = dict.fromkeys(OPERATIONS, 0)

    def add_error(
        self, operation: str, code: str, times: int, http_status: int, message: str | None
    ) -> None:
        _check(operation, times)
        text = message if message is not None else _DEFAULT_MESSAGES.get(code, code)
        self._errors[operation].extend([Injected(code, http_status, text)] * times)

    def add_drops(self, operation: str, times: int) -> None:
        _check(operation, times)
        self._drops[operation] += times

    def next_error(self, operation: str) -> Injected | None:
        """The refusal due for this call of `operation`, if any (it is used up)."""
        waiting = self._errors[operation]
        return waiting.popleft() if waiting else None

    def drop_next(self, operation: str) -> bool:
        """Whether this call's answer is lost (a lost answer is used up)."""
        if not self._drops[operation]:
            return False
        self._drops[operation] -= 1
        return True


def _check(operation: str, times: int) -> None:
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {OPERATIONS}, not {operation!r}")
    if times < 1:
        raise ValueError("times must be >= 1")
