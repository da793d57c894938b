"""The one moto harness: an SNS topic delivering to an SQS queue with a dead-letter queue.

Use it inside ``mock_aws()`` (the ``world`` fixtures of the test modules do). moto's
SNS wraps what is published in the SNS envelope, as AWS does, so publishing a
Rekognition-shaped completion exercises the path a real job's notification takes.
moto's SQS long poll blocks in real time: receive with ``WaitTimeSeconds=0`` and
inject ``sleep``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3

REGION = "us-east-1"


def completion(
    job_id: str,
    status: str = "SUCCEEDED",
    api: str = "StartFaceSearch",
    *,
    job_tag: str | None = "tests",
) -> str:
    """The JSON Rekognition publishes when a job ends (the shape of AWS's examples)."""
    body: dict[str, Any] = {
        "JobId": job_id,
        "Status": status,
        "API": api,
        "Timestamp": 1510552143106,
        "Video": {"S3ObjectName": "video.mp4", "S3Bucket": "example-videos"},
    }
    if job_tag is not None:
        body["JobTag"] = job_tag
    return json.dumps(body)


class World:
    """A topic subscribed to a queue whose redrive policy sends to a dead-letter queue.

    `client()` makes SQS clients for the code under test that record each call's
    operation name in `calls` and each received message's id in `received`.
    """

    def __init__(
        self, region: str = REGION, *, max_receive_count: int = 2, **queue_attributes: str
    ) -> None:
        self.region = region
        self.sqs = boto3.client("sqs", region_name=region)
        self.sns = boto3.client("sns", region_name=region)
        name = f"rekoface-{uuid.uuid4().hex[:12]}"
        self.dlq_url = self.sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        redrive = {
            "deadLetterTargetArn": self.arn(self.dlq_url),
            "maxReceiveCount": max_receive_count,
        }
        attributes = {"RedrivePolicy": json.dumps(redrive), **queue_attributes}
        self.queue_url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]  # type: ignore[arg-type]
        self.topic_arn = self.sns.create_topic(Name=f"AmazonRekognition-{name}")["TopicArn"]
        self.sns.subscribe(
            TopicArn=self.topic_arn, Protocol="sqs", Endpoint=self.arn(self.queue_url)
        )
        self.calls: list[str] = []
        self.received: list[str] = []

    def arn(self, url: str) -> str:
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return attributes["Attributes"]["QueueArn"]

    def client(self) -> Any:
        """An SQS client in the queue's region that records what it does."""
        client = boto3.client("sqs", region_name=self.region)

        def count(model: Any, **_: Any) -> None:
            self.calls.append(model.name)

        def record(parsed: dict[str, Any], **_: Any) -> None:
            self.received.extend(m["MessageId"] for m in parsed.get("Messages", []))

        client.meta.events.register("before-call.sqs.*", count)
        client.meta.events.register("after-call.sqs.ReceiveMessage", record)
        return client

    def publish(self, body: str) -> None:
        """What Rekognition does when a job ends (moto wraps it in the SNS envelope)."""
        self.sns.publish(TopicArn=self.topic_arn, Message=body)

    def publish_completion(self, job_id: str, status: str = "SUCCEEDED", **kwargs: Any) -> None:
        self.publish(completion(job_id, status, **kwargs))

    def send_raw(self, body: str) -> None:
        """A message straight onto the queue (raw delivery, or anyone with SendMessage)."""
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)

    def counts(self, url: str | None = None) -> tuple[int, int]:
        """(visible, in flight) messages of the queue (or of `url`)."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )

    def drain(self, url: str | None = None) -> list[Any]:
        """Every message visible now, with its receive count (received by this call too)."""
        response = self.sqs.receive_message(
            QueueUrl=url or self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            AttributeNames=["ApproximateReceiveCount"],
        )
        return response.get("Messages", [])

    def visible(self) -> list[str]:
        """The bodies of the messages visible now (receiving them)."""
        return [m["Body"] for m in self.drain()]
