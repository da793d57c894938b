"""What a transport adapter needs of the fake: one call in, one answer out.

Adapters (botocore today, perhaps aiobotocore later) depend on this module only, never on
the fake itself, so imports run one way: `_fake` and `_transport` both import this, and
neither imports the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["Handler", "ResponseDropped"]


class ResponseDropped(Exception):  # noqa: N818 - it names an event, not a failure of ours
    """`handle` acted on the request, but its answer is lost (transports: a read timeout)."""

    def __init__(self, operation: str) -> None:
        super().__init__(f"response to {operation} dropped")
        self.operation = operation


class Handler(Protocol):
    """Answers one service call: operation name and JSON body in, status and JSON body out."""

    def handle(self, operation: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """`(HTTP status, JSON body)`; raises `ResponseDropped` for a lost answer."""
        ...
