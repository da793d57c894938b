"""The fake's completion notifications: queued while the lock is held, delivered to the
connected sinks (SNS, or SQS raw or in an SNS envelope) after it is released, and
recorded, delivered or not: the service never fails a poll over a lost notification.
"""

from __future__ import annotations

import datetime
import json
import logging
import random
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._fake_records import NotificationRecord

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

__all__ = ["Notifier", "Sink"]

logger = logging.getLogger("rekoface.testing")

Sink = Callable[[str, str], None]
"""Takes (topic_arn, Rekognition message JSON) and delivers it somewhere."""


class Notifier:
    """Sinks, the messages waiting for them, and the record of what was published.

    `queue` is called with the fake's lock held; `flush` takes the lock itself and
    delivers without it, so a sink may call back into the fake.
    """

    def __init__(self, lock: threading.RLock, rng: random.Random, now: Callable[[], float]) -> None:
        self._lock = lock
        self._rng = rng
        self._now = now
        self._outbox: list[tuple[str, str, dict[str, Any]]] = []
        self._sinks: list[tuple[str, Sink]] = []
        self.records: list[NotificationRecord] = []

    def queue(self, job_id: str, topic_arn: str, message: dict[str, Any]) -> None:
        self._outbox.append((job_id, topic_arn, message))

    def connect_sns(self, sns_client: SNSClient) -> None:
        def sink(topic_arn: str, body: str) -> None:
            sns_client.publish(TopicArn=topic_arn, Message=body)

        with self._lock:
            self._sinks.append(("sns", sink))

    def connect_sqs(self, sqs_client: SQSClient, queue_url: str, *, raw: bool) -> None:
        def sink(topic_arn: str, body: str) -> None:
            if not raw:
                body = json.dumps(self._envelope(topic_arn, body))
            sqs_client.send_message(QueueUrl=queue_url, MessageBody=body)

        with self._lock:
            self._sinks.append((queue_url, sink))

    def flush(self) -> None:
        with self._lock:
            outbox, self._outbox = self._outbox, []
            sinks = list(self._sinks)
        for job_id, topic_arn, message in outbox:
            body = json.dumps(message)
            errors: list[str] = []
            for name, sink in sinks:
                try:
                    sink(topic_arn, body)
                except Exception as err:  # the service never fails a poll over a lost notification
                    logger.warning("fake could not deliver job %s's notification: %r", job_id, err)
                    errors.append(f"{name}: {err!r}")
            with self._lock:
                self.records.append(NotificationRecord(job_id, topic_arn, message, tuple(errors)))

    def _envelope(self, topic_arn: str, body: str) -> dict[str, Any]:
        with self._lock:
            message_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            stamp = self._now()
        millis = int(stamp * 1000) % 1000
        return {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Message": body,
            "Timestamp": _iso(stamp, millis),
            "SignatureVersion": "1",
            "Signature": "RkFLRQ==",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-fake.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
            f"&SubscriptionArn={topic_arn}:fake",
        }


def _iso(stamp: float, millis: int) -> str:
    moment = datetime.datetime.fromtimestamp(int(stamp), tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"
