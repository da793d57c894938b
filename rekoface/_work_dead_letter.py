"""A work queue's dead-letter queue: where it is, and what a dead-lettered request carries
(private).

A request the service refused for good, or a body that is no request, is sent to the
dead-letter queue with its error as ``rekoface.*`` message attributes; the caller
deletes the original only after that send, so a crash between the two leaves the
original to come back (and be dead-lettered again), never a request lost. On a FIFO
dead-letter queue (its URL ends in ``.fifo``) a letter keeps its message's group.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Final

from . import _sqs
from .errors import ConfigurationError, RekoFaceError, ServiceError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef

    from ._work_messages import Held

__all__ = ["error_attributes", "find_dead_letter_queue", "send_to_dead_letter"]

#: Longest error message carried to the dead-letter queue.
_MAX_ERROR_TEXT: Final = 1000
_ATTRIBUTE_PREFIX: Final = "rekoface."
#: The group of a dead letter whose message had none and no id (a malformed answer).
_FALLBACK_GROUP: Final = "rekoface-dead-letters"


def send_to_dead_letter(
    client: SQSClient, dead_letter_url: str, held: Held, error: RekoFaceError
) -> None:
    """Send the message's body, with its error, to the dead-letter queue."""
    attributes = error_attributes(error, held.message_id)
    if not dead_letter_url.endswith(".fifo"):
        _sqs.call(
            "SendMessage",
            lambda: client.send_message(
                QueueUrl=dead_letter_url, MessageBody=held.body, MessageAttributes=attributes
            ),
        )
        return
    # A FIFO queue needs a group (the message's own, else one per message) and, unless it
    # deduplicates by content, a deduplication id: the source message's, so a letter sent
    # again (a crash before the delete, the message back) is kept once, and alike bodies
    # of different messages are each kept.
    group = held.group_id or held.message_id or _FALLBACK_GROUP
    dedup = hashlib.sha256(f"rekoface-dead-letter:{held.message_id}".encode()).hexdigest()
    _sqs.call(
        "SendMessage",
        lambda: client.send_message(
            QueueUrl=dead_letter_url,
            MessageBody=held.body,
            MessageAttributes=attributes,
            MessageGroupId=group,
            MessageDeduplicationId=dedup,
        ),
    )


def find_dead_letter_queue(client: SQSClient, queue_url: str) -> str:
    """The URL of the queue's redrive target; `ConfigurationError` when it has none."""
    answer = _sqs.call(
        "GetQueueAttributes",
        lambda: client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"]),
    )
    policy = answer.get("Attributes", {}).get("RedrivePolicy")
    arn = None
    if policy:
        try:
            arn = json.loads(policy).get("deadLetterTargetArn")
        except (ValueError, AttributeError):
            arn = None
    if not isinstance(arn, str) or arn.count(":") < 5:
        raise ConfigurationError(
            "the work queue has no dead-letter queue for requests refused for good: give "
            "it a RedrivePolicy, or pass dead_letter_queue_url"
        )
    *_, account, name = arn.split(":")
    found = _sqs.call(
        "GetQueueUrl",
        lambda: client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account),
    )
    return found["QueueUrl"]


def error_attributes(
    error: RekoFaceError, message_id: str
) -> dict[str, MessageAttributeValueTypeDef]:
    """The error a dead-lettered request carries, as message attributes."""
    values = {
        "ErrorType": type(error).__name__,
        "ErrorMessage": str(error)[:_MAX_ERROR_TEXT] or type(error).__name__,
        "SourceMessageId": message_id or "unknown",
    }
    if isinstance(error, ServiceError) and error.code:
        values["ErrorCode"] = error.code
    return {
        _ATTRIBUTE_PREFIX + name: {"DataType": "String", "StringValue": value}
        for name, value in values.items()
    }
