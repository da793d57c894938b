"""completions: a fleet's worker loop over a shared queue, against moto's SNS -> SQS.

A message is deleted only when its block succeeds; other APIs' notifications and
malformed messages are left for the redrive policy; nothing past its visibility is
handed out. Fake clock and sleep throughout; ``wait_time_seconds=0`` with moto.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from faketime import FakeTime as FakeClock
from moto import mock_aws

from rekoface import (
    Completion,
    ConfigurationError,
    NotificationStatus,
    RequestValidationError,
    ServiceError,
)
from rekoface.completions import iter_completions


def notification(job_id: str, status: str = "SUCCEEDED", api: str = "StartFaceSearch") -> str:
    return json.dumps(
        {
            "JobId": job_id,
            "Status": status,
            "API": api,
            "Timestamp": 1510552143106,
            "Video": {"S3ObjectName": "video.mp4", "S3Bucket": "example-videos"},
        }
    )


class Queue:
    """An SNS topic subscribed to a queue in moto, and a client that counts its calls."""

    def __init__(self, **attributes: str) -> None:
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        sns = boto3.client("sns", region_name="us-east-1")
        name = f"rekoface-{uuid.uuid4().hex[:12]}"
        self.url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]  # type: ignore[arg-type]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.topic = sns.create_topic(Name=f"AmazonRekognition-{name}")["TopicArn"]
        sns.subscribe(TopicArn=self.topic, Protocol="sqs", Endpoint=arn)
        self.sns = sns
        self.calls: list[str] = []
        self.worker = boto3.client("sqs", region_name="us-east-1")
        self.worker.meta.events.register("before-call.sqs.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def publish(self, body: str) -> None:
        self.sns.publish(TopicArn=self.topic, Message=body)

    def send_raw(self, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=body)

    def counts(self) -> tuple[int, int]:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )

    def visible(self) -> list[str]:
        response = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        )
        return [m["Body"] for m in response.get("Messages", [])]


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def queue(aws: None) -> Queue:
    return Queue()


def worker(queue: Queue, clock: FakeClock, **kwargs: Any) -> Iterator[Completion]:
    kwargs.setdefault("wait_time_seconds", 0)
    kwargs.setdefault("idle_timeout", 3)
    return iter_completions(queue.worker, queue.url, sleep=clock.sleep, clock=clock, **kwargs)


class TestWorker:
    def test_handled_completions_are_deleted(self, queue: Queue) -> None:
        clock = FakeClock()
        queue.publish(notification("job-1"))
        queue.send_raw(notification("job-2", "FAILED"))
        handled = []
        for done in worker(queue, clock):
            with done:
                handled.append((done.job_id, done.notification.status))
            assert done.acked
        assert sorted(handled) == [
            ("job-1", NotificationStatus.SUCCEEDED),
            ("job-2", NotificationStatus.FAILED),
        ]
        assert queue.counts() == (0, 0)

    def test_an_exception_leaves_the_message_for_redelivery(self, queue: Queue) -> None:
        clock = FakeClock()
        queue.publish(notification("job-1"))
        completions = worker(queue, clock)
        done = next(completions)
        with pytest.raises(RuntimeError, match="handler failed"), done:
            raise RuntimeError("handler failed")
        assert not done.acked
        assert queue.counts() == (0, 1)  # in flight: back after its visibility timeout
        assert list(completions) == []
        assert "DeleteMessage" not in queue.calls

    def test_other_apis_and_malformed_messages_are_left_alone(self, queue: Queue) -> None:
        clock = FakeClock()
        queue.publish(notification("label-job", api="StartLabelDetection"))
        queue.send_raw("not a notification")
        queue.publish(notification("job-1", api="FACE_SEARCH"))
        seen = []
        for done in worker(queue, clock):
            with done:
                seen.append(done.job_id)
        assert seen == ["job-1"]
        assert queue.counts() == (0, 2)  # received once, neither deleted nor released
        assert "ChangeMessageVisibility" not in queue.calls

    def test_stops_after_idle_timeout_without_spinning(self, queue: Queue) -> None:
        clock = FakeClock()
        assert list(worker(queue, clock, idle_timeout=3)) == []
        assert clock.sleeps == [1.0, 1.0, 1.0]
        assert queue.calls.count("ReceiveMessage") == 4

    def test_idle_timeout_zero_drains_what_is_there(self, queue: Queue) -> None:
        clock = FakeClock()
        for job in ("a", "b"):
            queue.publish(notification(job))
        jobs = []
        for done in worker(queue, clock, idle_timeout=0):
            with done:
                jobs.append(done.job_id)
        assert sorted(jobs) == ["a", "b"]
        assert clock.sleeps == []

    def test_idle_time_restarts_after_each_completion(self, queue: Queue) -> None:
        clock = FakeClock()
        queue.publish(notification("job-1"))
        for done in worker(queue, clock, idle_timeout=10):
            with done:
                clock.sleep(100)  # a long handler is not idle time
        assert clock.now == 110

    def test_queue_visibility_is_read_once(self, queue: Queue) -> None:
        clock = FakeClock()
        for job in ("a", "b", "c"):
            queue.publish(notification(job))
        for done in worker(queue, clock):
            with done:
                pass
        assert queue.calls.count("GetQueueAttributes") == 1

    def test_a_given_visibility_timeout_is_sent_with_each_receive(self, queue: Queue) -> None:
        clock = FakeClock()
        sent: list[dict[str, Any]] = []
        queue.worker.meta.events.register(
            "provide-client-params.sqs.ReceiveMessage", lambda params, **_: sent.append(params)
        )
        list(worker(queue, clock, idle_timeout=0, visibility_timeout=600, max_messages=4))
        assert sent == [
            {
                "QueueUrl": queue.url,
                "MaxNumberOfMessages": 4,
                "WaitTimeSeconds": 0,
                "VisibilityTimeout": 600,
            }
        ]
        assert "GetQueueAttributes" not in queue.calls

    def test_long_polls_never_outlast_the_idle_timeout(self) -> None:
        clock = FakeClock()
        waits: list[int] = []

        class LongPolls:
            """An empty queue whose receives block for their WaitTimeSeconds, as SQS does."""

            def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
                return {"Attributes": {"VisibilityTimeout": "30"}}

            def receive_message(self, **params: Any) -> dict[str, Any]:
                waits.append(params["WaitTimeSeconds"])
                if params["WaitTimeSeconds"]:
                    clock.sleep(params["WaitTimeSeconds"])
                return {}

        url = "https://sqs.us-east-1.amazonaws.com/1/q"
        completions = iter_completions(
            LongPolls(),  # type: ignore[arg-type]
            url,
            idle_timeout=45.5,
            sleep=clock.sleep,
            clock=clock,
        )
        assert list(completions) == []
        assert waits == [20, 20, 5, 0, 0]  # the last look is at the idle deadline
        assert clock.sleeps == [20, 20, 5, 0.5]  # the last half second is slept
        assert clock.now == 45.5

    def test_nothing_is_handed_out_after_its_visibility_ran_out(
        self, queue: Queue, caplog: pytest.LogCaptureFixture
    ) -> None:
        clock = FakeClock()
        for job in ("a", "b", "c"):
            queue.publish(notification(job))
        handled = []
        with caplog.at_level(logging.WARNING, logger="rekoface"):
            for done in worker(queue, clock, max_messages=3, visibility_timeout=60, idle_timeout=0):
                with done:
                    handled.append(done.job_id)
                    clock.sleep(40)  # the batch's other messages lose their visibility
        # a at 0 s, b at 40 s; c's 60 s (less a 1 s margin) had run out at 80 s
        assert handled == ["a", "b"]
        assert "job c: its notification's visibility ran out" in caplog.text
        assert queue.counts() == (0, 1)  # c: not deleted, back after its visibility timeout

    def test_a_zero_queue_visibility_is_refused(self, aws: None) -> None:
        queue = Queue(VisibilityTimeout="0")
        with pytest.raises(ConfigurationError, match="VisibilityTimeout is 0"):
            next(worker(queue, FakeClock()))

    def test_closing_mid_batch_releases_unhandled_completions_only(self, queue: Queue) -> None:
        clock = FakeClock()
        queue.publish(notification("a"))
        queue.publish(notification("b"))
        queue.send_raw("junk")
        completions = worker(queue, clock, max_messages=3)
        first = next(completions)
        with first:
            pass
        completions.close()  # type: ignore[attr-defined]
        left = queue.visible()
        assert [json.loads(json.loads(body)["Message"])["JobId"] for body in left] == ["b"]
        assert queue.counts() == (0, 2)  # b, received again just now, and junk still in flight

    def test_two_workers_share_the_queue(self, queue: Queue) -> None:
        clock = FakeClock()
        for i in range(6):
            queue.publish(notification(f"job-{i}"))
        handled: list[str] = []
        one, two = worker(queue, clock), worker(queue, clock)
        for done_one, done_two in zip(one, two, strict=False):
            for done in (done_one, done_two):
                with done:
                    handled.append(done.job_id)
        assert sorted(handled) == [f"job-{i}" for i in range(6)]  # each exactly once
        assert queue.counts() == (0, 0)


class TestCompletion:
    def test_ack_is_idempotent(self, queue: Queue) -> None:
        queue.publish(notification("job-1"))
        done = next(worker(queue, FakeClock()))
        done.ack()
        done.ack()
        with done:
            pass
        assert queue.calls.count("DeleteMessage") == 1

    def test_repr_is_short(self, queue: Queue) -> None:
        queue.publish(notification("job-1"))
        done = next(worker(queue, FakeClock()))
        text = repr(done)
        assert done.receipt_handle not in text
        assert "job-1" in text
        assert done.message_id in text
        assert "sqs" not in text.lower()

    def test_extend_visibility(self, queue: Queue) -> None:
        queue.publish(notification("job-1"))
        done = next(worker(queue, FakeClock()))
        done.extend_visibility(900)
        assert queue.calls[-1] == "ChangeMessageVisibility"
        with pytest.raises(RequestValidationError) as info:
            done.extend_visibility(50_000)
        assert info.value.paths == ("seconds",)

    def test_a_failed_delete_raises_a_service_error(self) -> None:
        client: Any = botocore.session.get_session().create_client("sqs", region_name="us-east-1")
        done = Completion(
            _note(), "m", "stale", sqs_client=client, queue_url="https://sqs.example/1/q"
        )
        with Stubber(client) as stub:
            stub.add_client_error("delete_message", "ReceiptHandleIsInvalid", "stale handle")
            with pytest.raises(ServiceError) as info, done:
                pass
        assert info.value.code == "ReceiptHandleIsInvalid"
        assert not done.acked


def _note() -> Any:
    from rekoface import parse_notification

    return parse_notification(notification("job-1"))


def test_release_failures_are_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    client: Any = botocore.session.get_session().create_client("sqs", region_name="us-east-1")
    url = "https://sqs.us-east-1.amazonaws.com/1/q"
    messages = [
        {"MessageId": f"m{i}", "ReceiptHandle": f"h{i}", "Body": notification(f"job-{i}")}
        for i in range(2)
    ]
    with Stubber(client) as stub:
        stub.add_response("get_queue_attributes", {"Attributes": {"VisibilityTimeout": "30"}})
        stub.add_response("receive_message", {"Messages": messages})
        stub.add_client_error("change_message_visibility", "ReceiptHandleIsInvalid")
        completions = iter_completions(client, url, max_messages=2, clock=lambda: 0.0)
        next(completions)
        with caplog.at_level(logging.DEBUG, logger="rekoface"):
            completions.close()  # type: ignore[attr-defined]
        stub.assert_no_pending_responses()
    assert "could not release the notification of job job-1" in caplog.text


def test_every_bad_parameter_is_reported_before_any_call() -> None:
    with pytest.raises(RequestValidationError) as info:
        iter_completions(
            None,  # type: ignore[arg-type]
            "",
            wait_time_seconds=30,
            idle_timeout=-1,
            visibility_timeout=0,
            max_messages=11,
            sleep="no",  # type: ignore[arg-type]
            clock=None,  # type: ignore[arg-type]
        )
    assert info.value.paths == (
        "completions.queue_url",
        "completions.wait_time_seconds",
        "completions.idle_timeout",
        "completions.visibility_timeout",
        "completions.max_messages",
        "completions.sleep",
        "completions.clock",
    )
