"""completions: a fleet's worker loop over a shared queue, against moto's SNS -> SQS.

A message is deleted only when its block succeeds; other APIs' notifications and
malformed messages are left for the redrive policy; nothing past its visibility is
handed out. Fake clock and sleep throughout; ``wait_time_seconds=0`` with moto.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber
from faketime import FakeTime as FakeClock
from moto import mock_aws
from moto_world import World
from moto_world import completion as notification

from rekoface import (
    Completion,
    ConfigurationError,
    NotificationStatus,
    RequestValidationError,
    ServiceError,
    TransportError,
)
from rekoface.completions import iter_completions


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def queue(aws: None) -> World:
    return World()


def worker(
    queue: World, clock: FakeClock, client: Any = None, **kwargs: Any
) -> Iterator[Completion]:
    kwargs.setdefault("wait_time_seconds", 0)
    kwargs.setdefault("idle_timeout", 3)
    client = client if client is not None else queue.client()
    return iter_completions(client, queue.queue_url, sleep=clock.sleep, clock=clock, **kwargs)


class TestWorker:
    def test_handled_completions_are_deleted(self, queue: World) -> None:
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

    def test_an_exception_leaves_the_message_for_redelivery(self, queue: World) -> None:
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

    def test_other_apis_and_malformed_messages_are_left_alone(self, queue: World) -> None:
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

    def test_poison_messages_are_left_alone_like_any_foreign_message(self, queue: World) -> None:
        clock = FakeClock()
        queue.send_raw("[" * 100_000)  # RecursionError in json, once
        queue.publish('{"JobId": "j", "Status": "SUCCEEDED", "Timestamp": "' + "9" * 5000 + '"}')
        queue.publish(notification("job-1"))
        seen = []
        for done in worker(queue, clock, max_messages=3):
            with done:
                seen.append(done.job_id)
        assert seen == ["job-1"]
        assert queue.counts() == (0, 2)  # the poison: not deleted, left to the redrive policy

    def test_stops_after_idle_timeout_without_spinning(self, queue: World) -> None:
        clock = FakeClock()
        assert list(worker(queue, clock, idle_timeout=3)) == []
        assert clock.sleeps == [1.0, 1.0, 1.0]
        assert queue.calls.count("ReceiveMessage") == 4

    def test_idle_timeout_zero_drains_what_is_there(self, queue: World) -> None:
        clock = FakeClock()
        for job in ("a", "b"):
            queue.publish(notification(job))
        jobs = []
        for done in worker(queue, clock, idle_timeout=0):
            with done:
                jobs.append(done.job_id)
        assert sorted(jobs) == ["a", "b"]
        assert clock.sleeps == []

    def test_idle_time_restarts_after_each_completion(self, queue: World) -> None:
        clock = FakeClock()
        queue.publish(notification("job-1"))
        for done in worker(queue, clock, idle_timeout=10):
            with done:
                clock.sleep(100)  # a long handler is not idle time
        assert clock.now == 110

    def test_queue_visibility_is_read_once(self, queue: World) -> None:
        clock = FakeClock()
        for job in ("a", "b", "c"):
            queue.publish(notification(job))
        for done in worker(queue, clock):
            with done:
                pass
        assert queue.calls.count("GetQueueAttributes") == 1

    def test_a_given_visibility_timeout_is_sent_with_each_receive(self, queue: World) -> None:
        clock = FakeClock()
        sent: list[dict[str, Any]] = []
        client = queue.client()
        client.meta.events.register(
            "provide-client-params.sqs.ReceiveMessage", lambda params, **_: sent.append(params)
        )
        list(worker(queue, clock, client, idle_timeout=0, visibility_timeout=600, max_messages=4))
        assert sent == [
            {
                "QueueUrl": queue.queue_url,
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
        self, queue: World, caplog: pytest.LogCaptureFixture
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

    def test_nothing_is_handed_out_in_the_last_second_of_visibility(
        self, queue: World, caplog: pytest.LogCaptureFixture
    ) -> None:
        clock = FakeClock()
        for job in ("a", "b"):
            queue.publish(notification(job))
        handled = []
        completions = worker(queue, clock, max_messages=2, visibility_timeout=10, idle_timeout=0)
        with caplog.at_level(logging.WARNING, logger="rekoface"):
            for done in completions:
                with done:
                    handled.append(done.job_id)
                    clock.sleep(9.5)  # b's visibility has half a second left: too little
        assert len(handled) == 1
        assert "visibility ran out before it could be handed out" in caplog.text

    def test_a_zero_queue_visibility_is_refused(self, aws: None) -> None:
        queue = World(VisibilityTimeout="0")
        with pytest.raises(ConfigurationError, match="VisibilityTimeout is 0"):
            next(worker(queue, FakeClock()))

    def test_closing_mid_batch_releases_unhandled_completions_only(self, queue: World) -> None:
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

    def test_two_workers_share_the_queue(self, queue: World) -> None:
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
    def test_ack_is_idempotent(self, queue: World) -> None:
        queue.publish(notification("job-1"))
        done = next(worker(queue, FakeClock()))
        done.ack()
        done.ack()
        with done:
            pass
        assert queue.calls.count("DeleteMessage") == 1

    def test_repr_is_short(self, queue: World) -> None:
        queue.publish(notification("job-1"))
        done = next(worker(queue, FakeClock()))
        text = repr(done)
        assert done.receipt_handle not in text
        assert "job-1" in text
        assert done.message_id in text
        assert "sqs" not in text.lower()

    def test_extend_visibility_keeps_the_message_from_other_workers(self, queue: World) -> None:
        queue.publish(notification("job-1"))
        client = queue.client()
        sent: list[int] = []
        client.meta.events.register(
            "provide-client-params.sqs.ChangeMessageVisibility",
            lambda params, **_: sent.append(params["VisibilityTimeout"]),
        )
        clock = FakeClock()
        done = next(worker(queue, clock, client, visibility_timeout=30))
        done.extend_visibility(900)
        assert sent == [900]
        assert done.visible_until == 900 - 1  # less the margin
        assert queue.visible() == []  # still hidden from every other worker
        done.extend_visibility(0)  # hand it back now
        assert sent == [900, 0]
        assert len(queue.visible()) == 1  # another worker gets it at once
        with pytest.raises(RequestValidationError) as info:
            done.extend_visibility(50_000)
        assert info.value.paths == ("seconds",)

    def test_an_ack_after_the_visibility_ran_out_is_not_claimed(
        self, queue: World, caplog: pytest.LogCaptureFixture
    ) -> None:
        queue.publish(notification("job-1"))
        clock = FakeClock()
        done = next(worker(queue, clock, visibility_timeout=60))
        assert done.visible_until == 59.0
        with caplog.at_level(logging.WARNING, logger="rekoface"), done:
            clock.sleep(61)  # a slow handler: SQS may hand the message to another worker
        assert not done.acked
        assert "job job-1: acked after its notification's visibility ran out" in caplog.text
        assert queue.calls.count("DeleteMessage") == 1  # still sent: it may yet work

    def test_an_ack_within_the_visibility_is_claimed(self, queue: World) -> None:
        queue.publish(notification("job-1"))
        clock = FakeClock()
        done = next(worker(queue, clock, visibility_timeout=60))
        with done:
            clock.sleep(58.9)
        assert done.acked
        assert queue.counts() == (0, 0)

    def test_the_queues_visibility_bounds_the_ack(
        self, aws: None, caplog: pytest.LogCaptureFixture
    ) -> None:
        queue = World(VisibilityTimeout="5")
        queue.publish(notification("job-1"))
        clock = FakeClock()
        done = next(worker(queue, clock))
        with caplog.at_level(logging.WARNING, logger="rekoface"), done:
            clock.sleep(5)
        assert not done.acked
        assert "visibility ran out" in caplog.text

    def test_extend_visibility_moves_the_ack_deadline(self, queue: World) -> None:
        queue.publish(notification("job-1"))
        clock = FakeClock()
        done = next(worker(queue, clock, visibility_timeout=60))
        clock.sleep(50)
        done.extend_visibility(600)
        with done:
            clock.sleep(500)  # 550 s after the receive, 500 s after the extension
        assert done.acked

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


class ScriptedSqs:
    """An SQS client whose receives follow a script (answers or exceptions to raise)."""

    def __init__(self, clock: FakeClock, script: list[Any]) -> None:
        self.clock = clock
        self.script = list(script)
        self.receives = 0

    def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        return {"Attributes": {"VisibilityTimeout": "30"}}

    def receive_message(self, **_: Any) -> dict[str, Any]:
        self.receives += 1
        answer = self.script.pop(0) if self.script else []
        if isinstance(answer, BaseException):
            raise answer
        return {"Messages": answer} if answer else {}


def _client_error(code: str, status: int = 400) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": code},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "ReceiveMessage")


def _message(job_id: str) -> dict[str, Any]:
    return {"MessageId": job_id, "ReceiptHandle": job_id, "Body": notification(job_id)}


class TestTransientErrors:
    URL = "https://sqs.us-east-1.amazonaws.com/1/q"

    def worker(self, sqs: ScriptedSqs, clock: FakeClock, **kwargs: Any) -> Iterator[Completion]:
        return iter_completions(sqs, self.URL, sleep=clock.sleep, clock=clock, **kwargs)  # type: ignore[arg-type]

    def test_are_waited_out_with_backoff_and_logged(self, caplog: pytest.LogCaptureFixture) -> None:
        clock = FakeClock()
        sqs = ScriptedSqs(
            clock,
            [
                EndpointConnectionError(endpoint_url=self.URL),
                _client_error("ThrottlingException"),
                _client_error("InternalError", 500),
                [_message("job-1")],
                ReadTimeoutError(endpoint_url=self.URL),
                [_message("job-2")],
            ],
        )
        completions = self.worker(sqs, clock)
        with caplog.at_level(logging.WARNING, logger="rekoface"):
            first = next(completions)
            assert first.job_id == "job-1"
            assert clock.sleeps == [1.0, 2.0, 4.0]  # doubling while it lasts
            second = next(completions)  # the generator lives on after more errors
        assert second.job_id == "job-2"
        assert clock.sleeps == [1.0, 2.0, 4.0, 1.0]  # a success starts the count again
        assert caplog.text.count("SQS ReceiveMessage failed, will retry") == 4

    def test_an_error_waiting_cannot_cure_is_raised_typed(self) -> None:
        clock = FakeClock()
        sqs = ScriptedSqs(clock, [_client_error("AWS.SimpleQueueService.NonExistentQueue")])
        completions = self.worker(sqs, clock)
        with pytest.raises(ServiceError) as info:
            next(completions)
        assert info.value.code == "AWS.SimpleQueueService.NonExistentQueue"
        assert clock.sleeps == []

    def test_an_error_still_there_when_the_idle_time_is_up_is_raised(self) -> None:
        clock = FakeClock()
        errors = [EndpointConnectionError(endpoint_url=self.URL) for _ in range(10)]
        sqs = ScriptedSqs(clock, list(errors))
        completions = self.worker(sqs, clock, idle_timeout=10)
        with pytest.raises(TransportError):
            next(completions)
        assert clock.sleeps == [1.0, 2.0, 4.0, 3.0]  # never past the idle deadline
        assert clock.now == 10

    def test_draining_with_an_error_raises_rather_than_saying_empty(self) -> None:
        clock = FakeClock()
        sqs = ScriptedSqs(clock, [_client_error("ThrottlingException")])
        completions = self.worker(sqs, clock, idle_timeout=0)
        with pytest.raises(ServiceError):
            next(completions)

    def test_reading_the_queues_visibility_waits_them_out_too(self) -> None:
        clock = FakeClock()
        sqs = ScriptedSqs(clock, [[_message("job-1")]])
        answers: list[Any] = [_client_error("ServiceUnavailable", 503)]

        def get_queue_attributes(**_: Any) -> dict[str, Any]:
            if answers:
                raise answers.pop()
            return {"Attributes": {"VisibilityTimeout": "30"}}

        sqs.get_queue_attributes = get_queue_attributes  # type: ignore[method-assign]
        completions = self.worker(sqs, clock)
        assert next(completions).job_id == "job-1"
        assert clock.sleeps == [1.0]


class TestRegion:
    def test_the_queue_is_read_in_its_own_region(self, aws: None) -> None:
        from rekoface import FaceSearchClient

        queue = World("us-west-2")
        queue.publish(notification("job-1"))
        client = FaceSearchClient(boto3_session=boto3.Session(region_name="us-east-1"))
        completions = client.completions(queue.queue_url, wait_time_seconds=0, idle_timeout=0)
        assert [done.job_id for done in completions] == ["job-1"]
