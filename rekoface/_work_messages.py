"""The messages a work-queue worker holds, and the SQS calls that end or hide one (private).

`InHand` is the one record of what a worker has received and not settled, keyed by the
job's token (so a redelivered message is recognised); the heartbeat thread reads it too,
so every access takes its lock.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import attrs

from . import _sqs
from .errors import FieldError, RequestValidationError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

__all__ = ["Held", "InHand", "change_visibility", "delete_message"]


@attrs.define
class Held:
    """A message this worker has received and not settled."""

    message_id: str
    receipt_handle: str = attrs.field(repr=False)
    body: str = attrs.field(repr=False)
    received_at: float
    visible_until: float
    in_batch: bool = True
    stuck: bool = False  # its visibility can no longer be extended
    group_id: str | None = None  # a FIFO queue's MessageGroupId


class InHand:
    """The messages received and not settled, by their job's token."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, Held] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)

    def add(self, token: str, held: Held) -> bool:
        """Hold `held`; `False` when its token is in hand already (a redelivery), whose
        record then takes the newest receipt."""
        with self._lock:
            already = self._held.get(token)
            if already is not None:
                already.receipt_handle = held.receipt_handle
                already.visible_until = held.visible_until
                already.stuck = False
                return False
            self._held[token] = held
            return True

    def left_batch(self, token: str | None) -> None:
        """The batch gave the outcome of `token`'s message: its job no longer runs."""
        with self._lock:
            held = self._held.get(token or "")
            if held is not None:
                held.in_batch = False

    def busy(self) -> bool:
        """Whether any message in hand has a job the batch has not ended."""
        with self._lock:
            return any(h.in_batch for h in self._held.values())

    def due(self, now: float, renew_at: float) -> list[Held]:
        """The messages whose visibility ends within `renew_at` seconds of `now`."""
        with self._lock:
            return [
                h for h in self._held.values() if not h.stuck and h.visible_until - now <= renew_at
            ]

    def take(self, outcome: object) -> Held:
        """The message of `outcome` (a `BatchOutcome`), no longer in hand."""
        token = getattr(getattr(outcome, "request", None), "client_request_token", None)
        with self._lock:
            held = self._held.pop(token, None) if isinstance(token, str) else None
        if held is None:
            raise RequestValidationError(
                [
                    FieldError(
                        "outcome",
                        "is not of a message this worker holds (settled already?)",
                        "an outcome of this queue's search_many",
                    )
                ]
            )
        return held

    def take_all(self) -> list[Held]:
        """Every message in hand, none left."""
        with self._lock:
            held = list(self._held.values())
            self._held.clear()
        return held


def delete_message(client: SQSClient, queue_url: str, held: Held) -> None:
    handle = held.receipt_handle
    _sqs.call(
        "DeleteMessage", lambda: client.delete_message(QueueUrl=queue_url, ReceiptHandle=handle)
    )


def change_visibility(client: SQSClient, queue_url: str, held: Held, seconds: int) -> None:
    handle = held.receipt_handle
    _sqs.call(
        "ChangeMessageVisibility",
        lambda: client.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=seconds
        ),
    )
