"""Reliability: throttle storms, lost answers, restarts, the job limit and SQS waits.

Everything runs against `FakeRekognition` (real boto3 clients, answered in-process) and
moto's SNS and SQS, on an injected clock: nothing sleeps for real and nothing leaves
the process. The invariants, checked by the scenarios below and by a hypothesis state
machine after every step of random schedules:

- never a duplicate job: one job per (request, idempotency key) within the token's
  7 days, and at most one job per `start` call without a key, whatever the faults;
- never a lost or consumed foreign message: the SQS waiter deletes only the
  notifications of jobs it waits for, and every other message stays on the queue;
- never a hang: every call ends within a bounded number of service calls and sleeps,
  and every wait within its timeout plus one retried status call (injected clock).

``REKOFACE_RELIABILITY_EXAMPLES=2000`` runs the state machine on that many schedules
and prints its figures (see docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

import boto3
import pytest
from faketime import FakeTime
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from moto import mock_aws

from rekoface import (
    AccessDeniedError,
    BackoffPoller,
    FaceSearchClient,
    FaceSearchJob,
    FaceSearchRequest,
    IdempotentParameterMismatchError,
    InternalServerError,
    JobFailedError,
    JobNotCompleteError,
    JobState,
    LimitExceededError,
    NotificationChannel,
    PollTimeoutError,
    ResourceNotFoundError,
    RetryPolicy,
    S3Video,
    ServiceError,
    SqsNotificationPoller,
    ThrottlingError,
    TransportError,
)
from rekoface.testing import FakeRekognition

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

COLLECTION: Final = "employees"
ROLE_ARN: Final = "arn:aws:iam::123456789012:role/RekognitionSNS"
#: The fake's wall clock is this plus the injected clock, so its token (7 days), page
#: token (24 hours) and result (7 days) lifetimes run on the same virtual time.
EPOCH: Final = 1_700_000_000.0
#: The Developer Guide's figure for a ClientRequestToken (and for results).
TOKEN_LIFE: Final = 7 * 24 * 3600.0
#: RetryPolicy defaults the bounds below rely on.
MAX_ATTEMPTS: Final = 8
RETRY_DEADLINE: Final = 120.0
REQUEST: Final = FaceSearchRequest(S3Video("my-bucket", "lobby.mp4"), COLLECTION, 90)

#: Figures of the state machine's runs (printed when REKOFACE_RELIABILITY_EXAMPLES is set).
FIGURES: Counter[str] = Counter()
EXAMPLES_ENV: Final = "REKOFACE_RELIABILITY_EXAMPLES"
STEPS_ENV: Final = "REKOFACE_RELIABILITY_STEPS"


def new_fake(time: FakeTime, **kwargs: Any) -> FakeRekognition:
    """A fake whose wall clock follows `time`, with the collection `employees`."""
    fake = FakeRekognition(clock=lambda: EPOCH + time.now, **kwargs)
    fake.add_collection(COLLECTION, faces=5)
    return fake


def new_client(
    fake: FakeRekognition,
    time: FakeTime,
    *,
    rng: random.Random | None = None,
    **policy: Any,
) -> FaceSearchClient:
    """A new caller: its own boto3 client and retry policy, sleeping on `time`."""
    draw = (rng or random.Random(0)).random
    policy.setdefault("random", draw)
    return FaceSearchClient(
        fake.client(),
        retry=RetryPolicy(sleep=time.sleep, clock=time.clock, **policy),
        poller=BackoffPoller(sleep=time.sleep, clock=time.clock, random=draw),
    )


def starts(fake: FakeRekognition) -> list[tuple[str, str, str | None]]:
    """(outcome, token, job id) of every StartFaceSearch the fake answered."""
    return [
        (c.outcome, c.params["ClientRequestToken"], c.job_id)
        for c in fake.calls
        if c.operation == "StartFaceSearch"
    ]


@pytest.fixture
def time() -> FakeTime:
    return FakeTime(budget=10_000)


@pytest.fixture
def fake(time: FakeTime) -> FakeRekognition:
    return new_fake(time)


# -- throttle storms ----------------------------------------------------------------------

STORM: Final = [
    ("ThrottlingException", 400),
    ("ThrottlingException", 500),  # "Service Unavailable"
    ("InternalServerError", 500),
    ("ProvisionedThroughputExceededException", 400),
    ("ServiceUnavailable", 503),  # a code Rekognition does not model: retried by status
]


class TestThrottleStorms:
    def test_a_storm_on_start_starts_the_job_exactly_once(
        self, fake: FakeRekognition, time: FakeTime
    ) -> None:
        for code, status in STORM:
            fake.inject_error("StartFaceSearch", code, http_status=status)
        fake.inject_error("StartFaceSearch", "ThrottlingException", times=2)
        job = new_client(fake, time).start(REQUEST)
        seen = starts(fake)
        assert len(seen) == 8  # seven refusals and the start: the whole default budget
        assert {token for _, token, _ in seen} == {job.client_request_token}
        assert [outcome for outcome, _, _ in seen][-1] == "ok"
        assert list(fake.jobs) == [job.job_id]
        assert len(time.sleeps) == 7

    def test_a_storm_on_status_and_pages_still_gives_every_match(
        self, fake: FakeRekognition, time: FakeTime
    ) -> None:
        client = new_client(fake, time)
        job = client.start(REQUEST)
        for code, status in STORM:
            fake.inject_error("GetFaceSearch", code, http_status=status)
        assert client.wait(job).state is JobState.SUCCEEDED
        results = client.results(job, page_size=4)
        pages = iter(results.pages())
        first = next(pages)
        for code, status in STORM:  # between pages, too
            fake.inject_error("GetFaceSearch", code, http_status=status)
        rest = [match for page in pages for match in page.matches]
        got = [m.timestamp for m in (*first.matches, *rest)]
        assert got == [p["Timestamp"] for p in fake.jobs[job.job_id].persons]
        assert len(got) == 25
        assert len(fake.jobs) == 1

    def test_a_storm_longer_than_the_budget_is_typed_and_starts_nothing(
        self, fake: FakeRekognition, time: FakeTime
    ) -> None:
        fake.inject_error("StartFaceSearch", "ThrottlingException", times=MAX_ATTEMPTS)
        with pytest.raises(ThrottlingError):
            new_client(fake, time).start(REQUEST, idempotency_key="event-1")
        assert fake.jobs == {}
        assert len(starts(fake)) == MAX_ATTEMPTS
        # The caller's own retry (a Lambda retried on the event) starts it once.
        job = new_client(fake, time).start(REQUEST, idempotency_key="event-1")
        assert list(fake.jobs) == [job.job_id]

    def test_a_storm_never_outlives_the_deadline_on_the_injected_clock(
        self, fake: FakeRekognition, time: FakeTime
    ) -> None:
        fake.inject_error("GetFaceSearch", "ThrottlingException", times=1000)
        client = new_client(fake, time, max_attempts=1000, base_delay=10.0, max_delay=60.0)
        client.start(REQUEST)
        with pytest.raises(ThrottlingError):
            client.status(next(iter(fake.jobs)))
        assert time.now <= RETRY_DEADLINE
        assert len(time.sleeps) < 100


# -- dropped responses --------------------------------------------------------------------


class TestDroppedResponses:
    def test_a_lost_answer_is_retried_with_the_same_token_one_job(
        self, fake: FakeRekognition, time: FakeTime
    ) -> None:
        fake.drop_response("StartFaceSearch", times=3)
        job = new_client(fake, time).start(REQUEST)
        assert starts(fake) == [
            ("dropped", job.client_request_token, job.job_id),
            ("dropped", job.client_request_token, job.job_id),
            ("dropped", job.client_request_token, job.job_id),
            ("ok", job.client_request_token, job.job_id),
        ]
        assert list(fake.jobs) == [job.job_id]

    def test_lost_answers_mixed_with_throttles(self, fake: FakeRekognition, time: FakeTime) -> None:
        fake.drop_response("StartFaceSearch", times=2)
        job = new_client(fake, time).start(REQUEST)  # server acted on attempt one
        fake.inject_error("StartFaceSearch", "ThrottlingException", times=2)
        fake.drop_response("StartFaceSearch")
        again = new_client(fake, time).start(REQUEST, idempotency_key="event-2")
        assert len(fake.jobs) == 2
        assert job.job_id != again.job_id
        outcomes = [outcome for outcome, _, _ in starts(fake)]
        assert outcomes[3:] == ["ThrottlingException", "ThrottlingException", "dropped", "ok"]

    def test_answers_lost_more_often_than_the_budget(
        self, fake: FakeRekognition, time: FakeTime
    ) -> None:
        """The server started the job; the caller never heard: one job, and a typed error."""
        fake.drop_response("StartFaceSearch", times=MAX_ATTEMPTS)
        with pytest.raises(TransportError):
            new_client(fake, time).start(REQUEST)
        assert len(fake.jobs) == 1
        assert len({token for _, token, _ in starts(fake)}) == 1

    def test_lost_status_answers_do_not_break_a_wait(
        self, fake: FakeRekognition, time: FakeTime
    ) -> None:
        client = new_client(fake, time)
        job = client.start(REQUEST)
        fake.drop_response("GetFaceSearch", times=4)
        assert client.wait(job).state is JobState.SUCCEEDED
        assert len(list(client.results(job))) == 25


# -- restarts of the caller -----------------------------------------------------------------


class TestRestarts:
    def test_a_new_caller_after_lost_answers_gets_the_same_job(
        self, fake: FakeRekognition, time: FakeTime
    ) -> None:
        fake.drop_response("StartFaceSearch", times=MAX_ATTEMPTS)
        with pytest.raises(TransportError):
            new_client(fake, time).start(REQUEST, idempotency_key="s3-event-1")
        [started] = fake.jobs
        restarted = new_client(fake, time)  # a new process: new boto3 client, new policy
        job = restarted.start(REQUEST, idempotency_key="s3-event-1")
        assert job.job_id == started
        assert list(fake.jobs) == [started]
        assert restarted.wait(job).state is JobState.SUCCEEDED

    def test_without_a_key_a_new_caller_runs_the_search_again(
        self, fake: FakeRekognition, time: FakeTime
    ) -> None:
        """The contrast that makes keys worth using: no key means new work, by design."""
        fake.drop_response("StartFaceSearch", times=MAX_ATTEMPTS)
        with pytest.raises(TransportError):
            new_client(fake, time).start(REQUEST)
        new_client(fake, time).start(REQUEST)
        assert len(fake.jobs) == 2

    def test_a_crash_between_start_and_wait(self, fake: FakeRekognition, time: FakeTime) -> None:
        first = new_client(fake, time).start(REQUEST, idempotency_key="s3-event-2")
        # ... the process dies here; its replacement does the whole thing again.
        restarted = new_client(fake, time)
        results = restarted.search(REQUEST, idempotency_key="s3-event-2")
        assert results.job_id == first.job_id
        assert len(list(results)) == 25
        assert list(fake.jobs) == [first.job_id]
        assert [outcome for outcome, _, _ in starts(fake)] == ["ok", "ok"]

    def test_a_replay_after_the_job_ended_publishes_nothing_new(
        self, fake: FakeRekognition, time: FakeTime
    ) -> None:
        channel = NotificationChannel("arn:aws:sns:us-east-1:123456789012:done", ROLE_ARN)
        request = FaceSearchRequest(REQUEST.video, COLLECTION, notification_channel=channel)
        first = new_client(fake, time).search(request, idempotency_key="k")
        assert len(fake.notifications) == 1
        again = new_client(fake, time)
        job = again.start(request, idempotency_key="k")
        assert job.job_id == first.job_id
        assert again.wait(job).state is JobState.SUCCEEDED  # GetFaceSearch first: no hang
        assert len(fake.notifications) == 1
        assert len(fake.jobs) == 1

    def test_the_same_request_spelled_differently_is_the_same_job(
        self, fake: FakeRekognition, time: FakeTime
    ) -> None:
        spelled = FaceSearchRequest(S3Video.from_uri("s3://my-bucket/lobby.mp4"), COLLECTION, 90.0)
        a = new_client(fake, time).start(REQUEST, idempotency_key="k")
        b = new_client(fake, time).start(spelled, idempotency_key="k")
        assert a.job_id == b.job_id
        assert len(fake.jobs) == 1

    def test_the_same_key_with_another_request_is_another_job(
        self, fake: FakeRekognition, time: FakeTime
    ) -> None:
        other = FaceSearchRequest(S3Video("my-bucket", "door.mp4"), COLLECTION, 90)
        a = new_client(fake, time).start(REQUEST, idempotency_key="k")
        b = new_client(fake, time).start(other, idempotency_key="k")  # no mismatch error
        assert a.job_id != b.job_id
        assert len(fake.jobs) == 2

    def test_one_job_for_the_token_life_then_a_new_one(
        self, fake: FakeRekognition, time: FakeTime
    ) -> None:
        first = new_client(fake, time).start(REQUEST, idempotency_key="k")
        fake.finish(first.job_id)
        time.now += TOKEN_LIFE - 1
        assert new_client(fake, time).start(REQUEST, idempotency_key="k").job_id == first.job_id
        time.now += 1
        later = new_client(fake, time).start(REQUEST, idempotency_key="k")
        assert later.job_id != first.job_id
        assert len(fake.jobs) == 2


# -- the concurrency limit ------------------------------------------------------------------


def _fill(fake: FakeRekognition, time: FakeTime) -> list[FaceSearchJob]:
    client = new_client(fake, time)
    return [client.start(REQUEST, idempotency_key=f"job-{n}") for n in range(20)]


class TestConcurrencyLimit:
    def test_the_21st_start_is_refused_and_not_retried_by_default(
        self, fake: FakeRekognition, time: FakeTime
    ) -> None:
        _fill(fake, time)
        with pytest.raises(LimitExceededError, match="Maximum limit: 20"):
            new_client(fake, time).start(REQUEST, idempotency_key="job-20")
        assert starts(fake)[-1][0] == "LimitExceededException"
        assert len(starts(fake)) == 21  # one attempt
        assert len(fake.jobs) == 20
        assert time.sleeps == []

    def test_opt_in_waits_on_the_slow_schedule_until_a_slot_frees(
        self, fake: FakeRekognition, time: FakeTime
    ) -> None:
        jobs = _fill(fake, time)

        def free_a_slot_on_the_third_sleep() -> None:
            if len(time.sleeps) == 3:
                fake.finish(jobs[0].job_id)

        time.on_sleep.append(free_a_slot_on_the_third_sleep)
        client = new_client(fake, time, retry_limit_exceeded=True, random=lambda: 1.0)
        job = client.start(REQUEST, idempotency_key="job-20")
        assert time.sleeps == [30.0, 60.0, 120.0]  # minutes, not seconds
        mine = [s for s in starts(fake) if s[1] == job.client_request_token]
        assert [outcome for outcome, _, _ in mine] == ["LimitExceededException"] * 3 + ["ok"]
        assert len(fake.jobs) == 21
        assert list(fake.jobs)[-1] == job.job_id

    def test_opt_in_sees_jobs_end_as_time_passes(self, time: FakeTime) -> None:
        fake = new_fake(time, in_progress_polls=None, job_duration=90.0)
        _fill(fake, time)
        fake.inject_error("StartFaceSearch", "ThrottlingException", times=3)
        client = new_client(fake, time, retry_limit_exceeded=True, random=lambda: 1.0)
        job = client.start(REQUEST, idempotency_key="job-20")
        outcomes = [o for o, token, _ in starts(fake) if token == job.client_request_token]
        # Throttled (fast), then refused while 20 run, then started once they ended at 90 s.
        assert outcomes == ["ThrottlingException"] * 3 + ["LimitExceededException"] * 2 + ["ok"]
        assert time.sleeps[3:] == [30.0, 60.0]
        assert len(fake.jobs) == 21

    def test_opt_in_gives_up_within_its_deadline(
        self, fake: FakeRekognition, time: FakeTime
    ) -> None:
        _fill(fake, time)
        client = new_client(fake, time, retry_limit_exceeded=True, random=lambda: 1.0)
        with pytest.raises(LimitExceededError):
            client.start(REQUEST, idempotency_key="job-20")
        assert len(fake.jobs) == 20
        assert time.now <= 1800.0  # limit_exceeded_deadline, on the injected clock
        assert len(starts(fake)) - 20 <= 10  # limit_exceeded_max_attempts


# -- SQS waiting, among other jobs' and malformed messages ------------------------------------


class Aws:
    """An SNS topic delivering to an SQS queue (in moto), and what the waiter's client did.

    The waiter's SQS client records every message it received and every DeleteMessage it
    sent, so a test can tell which messages were consumed.
    """

    def __init__(self, *, dead_letter_queue: bool = True) -> None:
        self.sqs: SQSClient = boto3.client("sqs", region_name="us-east-1")
        self.sns: SNSClient = boto3.client("sns", region_name="us-east-1")
        name = f"rekoface-{uuid.uuid4().hex[:12]}"
        attributes: dict[QueueAttributeNameType, str] = {}
        self.dlq_url: str | None = None
        if dead_letter_queue:
            self.dlq_url = self.sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
            redrive = {"deadLetterTargetArn": self._arn(self.dlq_url), "maxReceiveCount": 2}
            attributes["RedrivePolicy"] = json.dumps(redrive)
        self.queue_url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        self.topic_arn = self.sns.create_topic(Name=f"AmazonRekognition-{name}")["TopicArn"]
        self.sns.subscribe(
            TopicArn=self.topic_arn, Protocol="sqs", Endpoint=self._arn(self.queue_url)
        )
        self.channel = NotificationChannel(self.topic_arn, ROLE_ARN)
        self.foreign: list[str] = []  # a marker in each foreign message's body
        self.received: dict[str, str] = {}  # receipt handle -> body
        self.deleted: list[str] = []  # bodies the waiter's client deleted
        self.waiter_sqs: SQSClient = boto3.client("sqs", region_name="us-east-1")
        events = self.waiter_sqs.meta.events
        events.register("after-call.sqs.ReceiveMessage", self._on_receive)
        events.register("before-parameter-build.sqs.DeleteMessage", self._on_delete)

    def _arn(self, url: str) -> str:
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return attributes["Attributes"]["QueueArn"]

    def _on_receive(self, parsed: Mapping[str, Any], **_: Any) -> None:
        for message in parsed.get("Messages", []):
            self.received[message["ReceiptHandle"]] = message["Body"]

    def _on_delete(self, params: Mapping[str, Any], **_: Any) -> None:
        self.deleted.append(self.received[params["ReceiptHandle"]])

    def add_foreign(self, kind: str) -> None:
        """Put a message on the queue that no waiter of this process may consume."""
        marker = uuid.uuid4().hex
        self.foreign.append(marker)
        notification = {
            "JobId": marker,
            "Status": "SUCCEEDED",
            "API": "StartFaceSearch",
            "Timestamp": 1_700_000_000_000,
            "Video": {"S3ObjectName": "other.mp4", "S3Bucket": "other-bucket"},
        }
        if kind == "other-job":  # another process's job, through SNS
            self.sns.publish(TopicArn=self.topic_arn, Message=json.dumps(notification))
        elif kind == "other-api":  # a label-detection job's completion
            label = {**notification, "API": "StartLabelDetection"}
            self.sns.publish(TopicArn=self.topic_arn, Message=json.dumps(label))
        elif kind == "not-json":
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=f"hello {marker}")
        elif kind == "no-job-id":
            body = json.dumps({"Status": "SUCCEEDED", "Note": marker})
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)
        else:
            raise AssertionError(kind)

    def foreign_deleted(self) -> list[str]:
        return [body for body in self.deleted if any(m in body for m in self.foreign)]

    def on_queue(self, url: str | None = None) -> int:
        """Messages on the queue, visible or in flight."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def poller(self, time: FakeTime, **kwargs: Any) -> SqsNotificationPoller:
        # moto's long poll really blocks: no server-side wait, sleep on the injected clock.
        return SqsNotificationPoller(
            self.queue_url,
            sqs_client=self.waiter_sqs,
            wait_time_seconds=0,
            sleep=time.sleep,
            clock=time.clock,
            **kwargs,
        )


FOREIGN_KINDS: Final = ("other-job", "other-api", "not-json", "no-job-id")


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield Aws()


class TestSqsWaiting:
    def test_waits_among_foreign_messages_and_consumes_only_its_own(
        self, aws: Aws, time: FakeTime
    ) -> None:
        fake = new_fake(time, in_progress_polls=None)
        fake.connect_sns(aws.sns)
        for kind in FOREIGN_KINDS:
            aws.add_foreign(kind)
        client = new_client(fake, time)
        request = FaceSearchRequest(REQUEST.video, COLLECTION, notification_channel=aws.channel)
        job = client.start(request, idempotency_key="event-1")
        other = client.start(FaceSearchRequest(S3Video("my-bucket", "b.mp4"), COLLECTION, 80))
        fake.finish(other.job_id)  # a job of this process nobody waits for: no channel

        def end_after_five_sleeps() -> None:
            if len(time.sleeps) == 5:
                fake.finish(job.job_id)

        time.on_sleep.append(end_after_five_sleeps)
        status = client.wait(job, poller=aws.poller(time, fallback_interval=300), timeout=600)
        assert status.state is JobState.SUCCEEDED
        assert time.now == 5.0  # noticed by its notification, not by a fallback poll
        assert aws.foreign_deleted() == []
        assert len(aws.deleted) == 1
        assert job.job_id in aws.deleted[0]
        assert aws.on_queue() == len(FOREIGN_KINDS)  # every foreign message still there
        assert aws.dlq_url is not None
        assert aws.on_queue(aws.dlq_url) == 0  # and not pushed towards the dead-letter queue
        assert len(fake.jobs) == 2

    def test_another_jobs_notification_waits_for_its_own_waiter(
        self, aws: Aws, time: FakeTime
    ) -> None:
        fake = new_fake(time, in_progress_polls=None)
        fake.connect_sns(aws.sns)
        client = new_client(fake, time)
        video = S3Video("my-bucket", "a.mp4")
        a = client.start(FaceSearchRequest(video, COLLECTION, notification_channel=aws.channel))
        b = client.start(FaceSearchRequest(video, COLLECTION, 70, notification_channel=aws.channel))
        aws.add_foreign("other-job")
        fake.finish(b.job_id)  # b's notification arrives first, while only a is waited for
        time.on_sleep.append(lambda: fake.finish(a.job_id) if len(time.sleeps) == 3 else None)
        poller = aws.poller(time, fallback_interval=300)
        assert client.wait(a, poller=poller, timeout=600).state is JobState.SUCCEEDED
        assert [a.job_id in body for body in aws.deleted] == [True]
        assert client.wait(b, poller=poller, timeout=600).state is JobState.SUCCEEDED
        assert [b.job_id in body for body in aws.deleted] == [False, True]
        assert aws.foreign_deleted() == []
        assert aws.on_queue() == 1
        assert len(fake.jobs) == 2

    def test_a_replayed_start_does_not_wait_for_a_notification_that_never_comes(
        self, aws: Aws, time: FakeTime
    ) -> None:
        fake = new_fake(time)
        fake.connect_sns(aws.sns)
        request = FaceSearchRequest(REQUEST.video, COLLECTION, notification_channel=aws.channel)
        first = new_client(fake, time).search(request, idempotency_key="event-9")
        aws.add_foreign("not-json")
        # The process died after the job ended; its replacement starts and waits again.
        restarted = new_client(fake, time)
        job = restarted.start(request, idempotency_key="event-9")
        assert job.job_id == first.job_id
        before = time.now
        status = restarted.wait(job, poller=aws.poller(time), timeout=3600)
        assert status.state is JobState.SUCCEEDED
        assert time.now == before  # GetFaceSearch said so at once
        assert len(fake.notifications) == 1
        assert len(fake.jobs) == 1
        assert aws.foreign_deleted() == []

    def test_a_lost_notification_is_caught_by_the_fallback(self, aws: Aws, time: FakeTime) -> None:
        fake = new_fake(time, in_progress_polls=None)  # not connected: nothing is delivered
        aws.add_foreign("other-job")
        client = new_client(fake, time)
        job = client.start(REQUEST)
        time.on_sleep.append(lambda: fake.finish(job.job_id) if len(time.sleeps) == 2 else None)
        poller = aws.poller(time, fallback_interval=30)
        assert client.wait(job, poller=poller, timeout=600).state is JobState.SUCCEEDED
        assert time.now == 30.0
        assert aws.deleted == []
        assert aws.on_queue() == 1

    def test_a_job_that_never_ends_times_out_on_the_injected_clock(
        self, aws: Aws, time: FakeTime
    ) -> None:
        fake = new_fake(time, in_progress_polls=None)
        fake.connect_sns(aws.sns)
        for kind in FOREIGN_KINDS:
            aws.add_foreign(kind)
        client = new_client(fake, time)
        job = client.start(REQUEST)
        fake.inject_error("GetFaceSearch", "ThrottlingException", times=3)
        with pytest.raises(PollTimeoutError) as info:
            client.wait(job, poller=aws.poller(time, fallback_interval=20), timeout=45)
        assert info.value.elapsed == pytest.approx(45, abs=5)
        assert time.now <= 45 + RETRY_DEADLINE
        assert aws.deleted == []
        assert aws.on_queue() == len(FOREIGN_KINDS)


# -- the state machine --------------------------------------------------------------------

#: Idempotency keys the schedules draw from (so replays are common).
KEYS: Final = (None, "event-1", "event-2", "event-3")
#: Faults: (fault name, error code or None for a dropped answer, HTTP status).
FAULTS: Final = (
    ("ThrottlingException", "ThrottlingException", 400),
    ("ThrottlingException (HTTP 500)", "ThrottlingException", 500),
    ("InternalServerError", "InternalServerError", 500),
    ("ProvisionedThroughputExceededException", "ProvisionedThroughputExceededException", 400),
    ("ServiceUnavailable (HTTP 503)", "ServiceUnavailable", 503),
    ("AccessDeniedException (not retried)", "AccessDeniedException", 400),
    ("dropped response", None, 0),
)
#: What a call may raise after its retries are spent, or for an injected refusal.
GIVE_UP: Final = (ThrottlingError, InternalServerError, TransportError, AccessDeniedError)
ADVANCES: Final = (1.0, 30.0, 600.0, 3600.0, 86_400.0, TOKEN_LIFE)


def _gave_up(err: BaseException) -> bool:
    """A retryable error after the budget, a lost answer, or the injected AccessDenied."""
    return isinstance(err, GIVE_UP) or (isinstance(err, ServiceError) and err.retryable)


class ReliabilityMachine(RuleBasedStateMachine):
    """Random schedules of starts, replays, restarts, faults, polls, waits and time.

    The model keeps, per (request, idempotency key), the jobs its starts created; the
    fake is the judge of what the service did. `aws` is moto's, opened once per test.
    """

    aws_factory: ClassVar[Callable[[], Aws] | None] = None

    def __init__(self) -> None:
        super().__init__()
        FIGURES["schedules run"] += 1
        self.time = FakeTime(budget=5_000)
        self.rng = random.Random(0)
        self.fake = new_fake(self.time)
        self.aws: Aws | None = None
        self.requests: list[FaceSearchRequest] = []
        self.clients: list[FaceSearchClient] = []
        self.known: set[str] = set()  # job ids returned to the caller
        self.attributed: set[str] = set()  # jobs some start call created
        self.unacknowledged: set[str] = set()  # created by a start that raised
        self.by_key: dict[tuple[int, str | None], list[tuple[str, float]]] = {}
        self.foreign_sent = 0

    # -- set-up ---------------------------------------------------------------------------

    @initialize(
        seed=st.integers(0, 2**32 - 1),
        in_progress_polls=st.sampled_from([0, 2, 5, None, None]),
        job_duration=st.sampled_from([None, 900.0]),
        max_concurrent_jobs=st.integers(2, 6),
    )
    def set_up(
        self,
        seed: int,
        in_progress_polls: int | None,
        job_duration: float | None,
        max_concurrent_jobs: int,
    ) -> None:
        self.rng = random.Random(seed)
        self.fake = new_fake(
            self.time,
            in_progress_polls=in_progress_polls,
            job_duration=job_duration,
            max_concurrent_jobs=max_concurrent_jobs,
            seed=seed,
            default_persons=9,
        )
        factory = type(self).aws_factory
        self.aws = factory() if factory is not None else None
        channel = None
        if self.aws is not None:
            self.fake.connect_sns(self.aws.sns)
            channel = self.aws.channel
        lobby, door = S3Video("my-bucket", "lobby.mp4"), S3Video("my-bucket", "door.mp4")
        self.requests = [
            FaceSearchRequest(lobby, COLLECTION, 90, notification_channel=channel, job_tag="t1"),
            FaceSearchRequest(door, COLLECTION),
            # An explicit token: the caller manages idempotency itself.
            FaceSearchRequest(
                lobby, COLLECTION, 80, notification_channel=channel, client_request_token="mine-1"
            ),
            # Request 0 spelled another way (a URI, a float threshold): the same work.
            FaceSearchRequest(
                S3Video.from_uri("s3://my-bucket/lobby.mp4"),
                COLLECTION,
                90.0,
                notification_channel=channel,
                job_tag="t1",
            ),
        ]
        self.clients = [new_client(self.fake, self.time, rng=self.rng)]

    # -- helpers --------------------------------------------------------------------------

    def _begin(self) -> tuple[int, float]:
        FIGURES["steps"] += 1
        self.time.reset()
        return len(self.fake.calls), self.time.now

    def _calls_since(self, mark: int) -> int:
        return len(self.fake.calls) - mark

    def _expired(self, job_id: str) -> bool:
        finished = self.fake.jobs[job_id].finished_at
        return finished is not None and EPOCH + self.time.now - finished >= TOKEN_LIFE

    def _pick(self, ids: list[str], index: int) -> str:
        return ids[index % len(ids)]

    # -- rules ----------------------------------------------------------------------------

    @rule(
        which=st.integers(0, 3),
        key=st.sampled_from(KEYS),
        caller=st.integers(0, 3),
        limit_opt_in=st.booleans(),
    )
    def start(self, which: int, key: str | None, caller: int, limit_opt_in: bool) -> None:
        mark, began = self._begin()
        if which == 2:
            key = None  # a request with its own token takes no key
        if caller >= len(self.clients):  # a restart: a new process, its own boto3 client
            FIGURES["restarts (new client)"] += 1
            policy: dict[str, Any] = {"retry_limit_exceeded": True} if limit_opt_in else {}
            self.clients.append(new_client(self.fake, self.time, rng=self.rng, **policy))
            caller = len(self.clients) - 1
        client = self.clients[caller]
        before = set(self.fake.jobs)
        FIGURES["starts"] += 1
        job: FaceSearchJob | None = None
        try:
            job = client.start(self.requests[which], idempotency_key=key)
        except LimitExceededError:
            FIGURES["starts refused: LimitExceededException"] += 1
        except IdempotentParameterMismatchError as err:  # pragma: no cover - the bug we hunt
            raise AssertionError("a replay was refused as a mismatch") from err
        except Exception as err:
            if not _gave_up(err):
                raise
            FIGURES[f"starts given up: {type(err).__name__}"] += 1
        jobs = self.fake.jobs
        created = [job_id for job_id in jobs if job_id not in before]
        calls = self.fake.calls[mark:]
        # One token per start call, on every attempt; at most one job per start call.
        assert len({c.params["ClientRequestToken"] for c in calls}) <= 1
        assert len(created) <= 1, created
        assert all(c.operation == "StartFaceSearch" for c in calls)
        opted = client.retry.retry_limit_exceeded
        assert len(calls) <= MAX_ATTEMPTS * (10 if opted else 1)
        self.attributed.update(created)
        FIGURES["jobs created"] += len(created)
        keyed = key is not None or which == 2
        group = (0 if which == 3 else which, key)
        if keyed:
            self.by_key.setdefault(group, []).extend((c, jobs[c].created_at) for c in created)
        if job is None:
            self.unacknowledged.update(created)
            return
        assert job.job_id in jobs
        self.known.add(job.job_id)
        if not keyed:
            assert created == [job.job_id]  # a start without a key is new work
            return
        if created:
            assert created == [job.job_id]
            return
        # A replay: the group's latest job, which was within its token's life when called.
        FIGURES["replays answered with the existing job"] += 1
        latest, at = self.by_key[group][-1]
        assert job.job_id == latest
        assert EPOCH + began - at < TOKEN_LIFE
        if latest in self.unacknowledged:
            FIGURES["replays recovering a job whose start had raised"] += 1
            self.unacknowledged.discard(latest)

    @rule(
        fault=st.sampled_from(FAULTS),
        operation=st.sampled_from(["StartFaceSearch", "GetFaceSearch"]),
        times=st.integers(1, 9),  # past the 8-attempt budget now and then
    )
    def inject(self, fault: tuple[str, str | None, int], operation: str, times: int) -> None:
        FIGURES["steps"] += 1
        name, code, status = fault
        if code is None:
            self.fake.drop_response(operation, times=times)
        else:
            self.fake.inject_error(operation, code, times=times, http_status=status)
        FIGURES[f"faults injected: {name}"] += times

    @precondition(lambda self: bool(self.known))
    @rule(index=st.integers(0, 1000))
    def status(self, index: int) -> None:
        mark, _ = self._begin()
        job_id = self._pick(sorted(self.known), index)
        FIGURES["status calls"] += 1
        try:
            status = self.clients[index % len(self.clients)].status(job_id)
        except ResourceNotFoundError:
            assert self._expired(job_id)
            return
        except Exception as err:
            if not _gave_up(err):
                raise
            return
        finally:
            assert self._calls_since(mark) <= MAX_ATTEMPTS
        assert status.job_id == job_id
        assert status.state.value == self.fake.jobs[job_id].state

    @precondition(lambda self: bool(self.known))
    @rule(
        index=st.integers(0, 1000),
        timeout=st.sampled_from([30.0, 120.0, 600.0]),
        sqs=st.booleans(),
        fallback=st.sampled_from([10.0, 60.0]),
        end_after=st.one_of(st.none(), st.integers(0, 8)),
        fail=st.booleans(),
    )
    def wait(
        self,
        *,
        index: int,
        timeout: float,
        sqs: bool,
        fallback: float,
        end_after: int | None,
        fail: bool,
    ) -> None:
        mark, began = self._begin()
        job_id = self._pick(sorted(self.known), index)
        client = self.clients[index % len(self.clients)]
        use_sqs = sqs and self.aws is not None
        if use_sqs:
            assert self.aws is not None
            poller: Any = self.aws.poller(self.time, fallback_interval=fallback)
            timeout = min(timeout, 120.0)  # each idle second is a moto receive: keep it quick
            FIGURES["waits (SQS notifications)"] += 1
        else:
            poller = BackoffPoller(
                sleep=self.time.sleep, clock=self.time.clock, random=self.rng.random
            )
            FIGURES["waits (GetFaceSearch backoff)"] += 1
        slept = 0

        def end_the_job() -> None:  # the job ends while the caller waits
            nonlocal slept
            slept += 1
            if slept == end_after and self.fake.jobs[job_id].state == "IN_PROGRESS":
                self.fake.finish(job_id, status="FAILED" if fail else "SUCCEEDED")

        self.time.on_sleep.append(end_the_job)
        timed_out: float | None = None
        try:
            status = client.wait(job_id, poller=poller, timeout=timeout)
            assert status.state is JobState.SUCCEEDED
            assert self.fake.jobs[job_id].state == "SUCCEEDED"
            FIGURES["waits ended: SUCCEEDED"] += 1
        except JobFailedError:
            assert self.fake.jobs[job_id].state == "FAILED"
            FIGURES["waits ended: FAILED"] += 1
        except PollTimeoutError as err:
            timed_out = err.elapsed
            FIGURES["waits ended: timeout"] += 1
        except ResourceNotFoundError:
            assert self._expired(job_id)
            FIGURES["waits ended: results expired"] += 1
        except Exception as err:
            if not _gave_up(err):
                raise
            FIGURES["waits ended: gave up on faults"] += 1
        finally:
            self.time.on_sleep.remove(end_the_job)
        assert timed_out is None or timed_out >= timeout - 1e-6  # a timeout is never early
        # Never a hang: within the timeout plus one retried status call, in bounded calls.
        assert self.time.now - began <= timeout + 2 * RETRY_DEADLINE
        assert self._calls_since(mark) <= MAX_ATTEMPTS * (timeout / 5.0 + 4)

    @precondition(lambda self: bool(self.known))
    @rule(index=st.integers(0, 1000), page_size=st.sampled_from([4, 10, 1000]))
    def results(self, index: int, page_size: int) -> None:
        mark, _ = self._begin()
        job_id = self._pick(sorted(self.known), index)
        FIGURES["result reads"] += 1
        try:
            matches = list(self.clients[-1].results(job_id, page_size=page_size))
        except JobNotCompleteError:
            assert self.fake.jobs[job_id].state == "IN_PROGRESS"
            return
        except JobFailedError:
            assert self.fake.jobs[job_id].state == "FAILED"
            return
        except ResourceNotFoundError:
            assert self._expired(job_id)
            return
        except Exception as err:
            if not _gave_up(err):
                raise
            return
        finally:
            assert self._calls_since(mark) <= MAX_ATTEMPTS * (9 // page_size + 2)
        expected = self.fake.jobs[job_id].persons
        assert [m.timestamp for m in matches] == [p["Timestamp"] for p in expected]

    @precondition(lambda self: bool(self.fake.jobs))
    @rule(index=st.integers(0, 1000), fail=st.booleans(), hold=st.booleans())
    def drive_job(self, index: int, fail: bool, hold: bool) -> None:
        """End a running job (or hold it: it then stays running until ended)."""
        FIGURES["steps"] += 1
        running = [j for j, r in self.fake.jobs.items() if r.state == "IN_PROGRESS"]
        if not running:
            return
        job_id = self._pick(running, index)
        if hold:
            self.fake.hold(job_id)
        else:
            self.fake.finish(job_id, status="FAILED" if fail else "SUCCEEDED")

    @rule(seconds=st.sampled_from(ADVANCES))
    def advance(self, seconds: float) -> None:
        FIGURES["steps"] += 1
        self.time.now += seconds
        self.fake.advance(0)  # jobs due by job_duration end now (and notify)

    @precondition(lambda self: self.aws is not None)
    @rule(kind=st.sampled_from(FOREIGN_KINDS))
    def foreign_message(self, kind: str) -> None:
        FIGURES["steps"] += 1
        assert self.aws is not None
        self.aws.add_foreign(kind)
        FIGURES["foreign messages put on the queue"] += 1

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def no_duplicate_jobs(self) -> None:
        for group, created in self.by_key.items():
            times = sorted(at for _, at in created)
            early = sum(b - a < TOKEN_LIFE for a, b in itertools.pairwise(times))
            FIGURES["duplicate jobs"] += early
            assert early == 0, (group, created)

    @invariant()
    def every_job_came_from_one_start_and_ids_exist(self) -> None:
        jobs = self.fake.jobs
        assert set(jobs) == self.attributed
        assert self.known <= set(jobs)

    @invariant()
    def no_foreign_message_consumed(self) -> None:
        if self.aws is not None:
            lost = self.aws.foreign_deleted()
            FIGURES["messages lost"] += len(lost)
            assert lost == []

    def teardown(self) -> None:
        calls = self.fake.calls
        for call in calls:
            if call.outcome != "ok":
                FIGURES[f"answers other than ok: {call.outcome}"] += 1
        FIGURES["service calls"] += len(calls)
        FIGURES["virtual seconds"] += int(self.time.now)
        if self.aws is not None:
            # Every foreign message is still on the queue: nothing lost, nothing bounced.
            aws = self.aws
            delivered = sum(not n.errors for n in self.fake.notifications)
            missing = len(aws.foreign) + delivered - len(aws.deleted) - aws.on_queue()
            FIGURES["messages lost"] += max(missing, 0)
            assert missing == 0
            FIGURES["notifications deleted by their waiter"] += len(aws.deleted)


def _examples() -> int:
    return int(os.environ.get(EXAMPLES_ENV, "60"))


def test_random_schedules_keep_every_invariant() -> None:
    """Random schedules against the fake and moto's SNS/SQS (see the module docstring)."""
    big = EXAMPLES_ENV in os.environ
    with mock_aws():
        ReliabilityMachine.aws_factory = lambda: Aws(dead_letter_queue=False)
        try:
            run_state_machine_as_test(
                ReliabilityMachine,
                settings=settings(
                    max_examples=_examples(),
                    stateful_step_count=int(os.environ.get(STEPS_ENV, "30")),
                    deadline=None,
                    derandomize=True,
                    database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
                    print_blob=big,
                ),
            )
        finally:
            ReliabilityMachine.aws_factory = None
    assert FIGURES["duplicate jobs"] == 0
    assert FIGURES["messages lost"] == 0


@pytest.fixture(scope="module", autouse=True)
def _print_figures(request: pytest.FixtureRequest) -> Iterator[None]:
    """With REKOFACE_RELIABILITY_EXAMPLES set, print the state machine's figures at the end."""
    yield
    if EXAMPLES_ENV not in os.environ or not FIGURES["schedules run"]:
        return
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    shown = capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()
    with shown:
        print("\nrekoface reliability figures")
        for name in sorted(FIGURES):
            print(f"  {name}: {FIGURES[name]:,}")
