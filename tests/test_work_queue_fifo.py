"""`WorkQueue` on FIFO queues (moto): a dead letter keeps its message's group, and each is
its own message however alike the bodies; good requests are settled as on a standard queue."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from faketime import FakeTime
from moto import mock_aws

from rekoface import FaceSearchClient, RetryPolicy, WorkQueue
from rekoface.testing import FakeRekognition

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeFilterType, QueueAttributeNameType

REGION = "us-east-1"


class Fifo:
    """A FIFO work queue whose redrive policy sends to a FIFO dead-letter queue."""

    def __init__(self, *, content_dedup: bool = False) -> None:
        self.sqs: SQSClient = boto3.client("sqs", region_name=REGION)
        name = f"rekoface-{uuid.uuid4().hex[:12]}"
        fifo: dict[QueueAttributeNameType, str] = {
            "FifoQueue": "true",
            "ContentBasedDeduplication": str(content_dedup).lower(),
        }
        self.dlq_url = self.sqs.create_queue(QueueName=f"{name}-dlq.fifo", Attributes=fifo)[
            "QueueUrl"
        ]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["QueueArn"])
        redrive = {
            "deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"],
            "maxReceiveCount": 2,
        }
        self.queue_url = self.sqs.create_queue(
            QueueName=f"{name}.fifo", Attributes={**fifo, "RedrivePolicy": json.dumps(redrive)}
        )["QueueUrl"]
        self.time = FakeTime()
        self.fake = FakeRekognition(
            clock=self.time.clock, in_progress_polls=None, job_duration=120.0
        )
        self.fake.add_collection("employees")
        self.time.on_sleep.append(lambda: self.fake.advance(0))

    def send(self, body: str, group: str) -> str:
        answer = self.sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=body,
            MessageGroupId=group,
            MessageDeduplicationId=uuid.uuid4().hex,
        )
        return answer["MessageId"]

    def queue(self, url: str | None = None, **options: Any) -> WorkQueue:
        settings: dict[str, Any] = {
            "sqs_client": boto3.client("sqs", region_name=REGION),
            "collection_id": "employees",
            "wait_time_seconds": 0,
            "idle_timeout": 30,
            "heartbeat": False,
            "sleep": self.time.sleep,
            "clock": self.time.clock,
            **options,
        }
        return WorkQueue(url or self.queue_url, **settings)

    def work(self, queue: WorkQueue) -> list[str]:
        """Run the worker until idle, settling each outcome; what each settle did."""
        policy = RetryPolicy(max_attempts=3, sleep=self.time.sleep, clock=self.time.clock)
        client = FaceSearchClient(self.fake.client(), retry=policy)
        settled: list[str] = []
        for done in queue.search_many(client, sleep=self.time.sleep, clock=self.time.clock):
            assert done.ok, done.error
            settled.append(queue.settle(done))
        return settled

    def dead_letters(self) -> list[Any]:
        # `AttributeNames`, deprecated, is the name every supported botocore takes (the
        # lowest predates `MessageSystemAttributeNames`).
        answer = self.sqs.receive_message(
            QueueUrl=self.dlq_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
            AttributeNames=cast("list[QueueAttributeFilterType]", ["MessageGroupId"]),
        )
        return answer.get("Messages", [])

    def left(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("content_dedup", [False, True])
def test_a_malformed_message_on_a_fifo_queue_ends_on_the_fifo_dead_letter_queue_in_its_group(
    content_dedup: bool,
) -> None:
    fifo = Fifo(content_dedup=content_dedup)
    bad = fifo.send("not a video", "camera-7")
    fifo.send("s3://videos/v000.mp4", "camera-8")
    queue = fifo.queue()
    assert fifo.work(queue) == ["deleted"]  # the good one ran and was settled
    assert len(fifo.fake.jobs) == 1
    (letter,) = fifo.dead_letters()
    assert letter["Body"] == "not a video"
    assert letter["Attributes"]["MessageGroupId"] == "camera-7"
    attributes = {k: v["StringValue"] for k, v in letter["MessageAttributes"].items()}
    assert attributes["rekoface.ErrorType"] == "RequestValidationError"
    assert "Body" in attributes["rekoface.ErrorMessage"]
    assert attributes["rekoface.SourceMessageId"] == bad
    assert queue.dead_lettered == 1
    assert fifo.left() == 0


@pytest.mark.usefixtures("aws")
def test_alike_dead_letters_of_one_group_are_each_kept() -> None:
    # Deduplication is by source message: two messages with one body are two letters,
    # even on a dead-letter queue that deduplicates by content.
    fifo = Fifo(content_dedup=True)
    first = fifo.send("not a video", "camera-7")
    second = fifo.send("not a video", "camera-7")
    assert fifo.work(fifo.queue()) == []
    letters = fifo.dead_letters()
    sources = [m["MessageAttributes"]["rekoface.SourceMessageId"]["StringValue"] for m in letters]
    assert sources == [first, second]  # in the group's order
    assert {m["Attributes"]["MessageGroupId"] for m in letters} == {"camera-7"}


@pytest.mark.usefixtures("aws")
def test_a_letter_from_a_standard_queue_to_a_fifo_dead_letter_queue_is_its_own_group() -> None:
    fifo = Fifo()
    standard = fifo.sqs.create_queue(QueueName=f"standard-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    bad = fifo.sqs.send_message(QueueUrl=standard, MessageBody="not a video")["MessageId"]
    queue = fifo.queue(standard, dead_letter_queue_url=fifo.dlq_url)
    assert fifo.work(queue) == []
    (letter,) = fifo.dead_letters()
    assert letter["Attributes"]["MessageGroupId"] == bad


@pytest.mark.usefixtures("aws")
def test_a_botocore_without_message_system_attribute_names_still_keeps_the_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before 2024 botocore knew only AttributeNames (now deprecated) for the same ask; its
    # model (which also validates the call) is made to be such a botocore's.
    fifo = Fifo()
    sqs = boto3.client("sqs", region_name=REGION)
    shape = sqs.meta.service_model.operation_model("ReceiveMessage").input_shape
    assert shape is not None
    members = shape.members
    # (The lowest supported botocore is such a botocore already.)
    monkeypatch.delitem(members, "MessageSystemAttributeNames", raising=False)
    fifo.send("not a video", "camera-7")
    assert fifo.work(fifo.queue(sqs_client=sqs)) == []
    (letter,) = fifo.dead_letters()
    assert letter["Attributes"]["MessageGroupId"] == "camera-7"


class _Wrapped:
    """A client wrapper that hides botocore's model (as a lock or metrics proxy does)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:  # every attribute, `meta` too, a call
            return method(*args, **kwargs)

        return call


@pytest.mark.usefixtures("aws")
def test_a_wrapped_client_whose_botocore_is_unknown_still_keeps_the_group() -> None:
    # Without a model to ask, the worker uses the name every botocore accepts (on the
    # lowest supported botocore, the only one).
    fifo = Fifo()
    fifo.send("not a video", "camera-9")
    wrapped = _Wrapped(boto3.client("sqs", region_name=REGION))
    assert fifo.work(fifo.queue(sqs_client=wrapped)) == []
    (letter,) = fifo.dead_letters()
    assert letter["Attributes"]["MessageGroupId"] == "camera-9"
