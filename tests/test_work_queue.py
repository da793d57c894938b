"""`WorkQueue`: workers taking video requests from one SQS queue (moto) and running them on the
library's fake, on virtual time. moto's visibility timeouts run in real time, so a test that
needs a message back "after its visibility ran out" makes it visible itself."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import boto3
import pytest
from faketime import FakeTime
from moto import mock_aws
from moto_world import World

from rekoface import (
    BatchOutcome,
    ConfigurationError,
    FaceSearchClient,
    InvalidS3ObjectError,
    JobFailedError,
    RequestValidationError,
    RetryPolicy,
    ThrottlingError,
    WorkQueue,
)
from rekoface.testing import FakeRekognition


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        yield World()


class Rig:
    """One fake Rekognition on virtual time, and workers (each its own clients) on it."""

    def __init__(self, world: World, job_seconds: float | Callable[[Any], float] = 120.0) -> None:
        self.world = world
        self.time = FakeTime()
        self.fake = FakeRekognition(
            clock=self.time.clock, in_progress_polls=None, job_duration=job_seconds
        )
        self.fake.add_collection("employees")
        self.time.on_sleep.append(lambda: self.fake.advance(0))
        self.handles: dict[str, str] = {}  # MessageId -> the latest receipt handle
        self.visibility_calls: list[tuple[float, int]] = []  # (when, seconds)

    def client(self) -> FaceSearchClient:
        policy = RetryPolicy(
            max_attempts=3, sleep=self.time.sleep, clock=self.time.clock, random=lambda: 1.0
        )
        return FaceSearchClient(self.fake.client(), retry=policy)

    def sqs(self) -> Any:
        client = self.world.client()

        def received(parsed: dict[str, Any], **_: Any) -> None:
            for message in parsed.get("Messages", []):
                self.handles[message["MessageId"]] = message["ReceiptHandle"]

        def visibility(params: dict[str, Any], **_: Any) -> None:
            self.visibility_calls.append((self.time.clock(), params["VisibilityTimeout"]))

        client.meta.events.register("after-call.sqs.ReceiveMessage", received)
        client.meta.events.register("provide-client-params.sqs.ChangeMessageVisibility", visibility)
        return client

    def queue(self, **options: Any) -> WorkQueue:
        settings: dict[str, Any] = {
            "sqs_client": self.sqs(),
            "collection_id": "employees",
            "wait_time_seconds": 0,
            "idle_timeout": 30,
            "heartbeat": False,
            "sleep": self.time.sleep,
            "clock": self.time.clock,
        }
        settings.update(options)
        return WorkQueue(self.world.queue_url, **settings)

    def work(
        self, queue: WorkQueue, client: FaceSearchClient | None = None, **options: Any
    ) -> Iterator[BatchOutcome]:
        return queue.search_many(
            client or self.client(), sleep=self.time.sleep, clock=self.time.clock, **options
        )

    def send(self, *bodies: str) -> list[str]:
        sqs = self.world.sqs
        return [
            sqs.send_message(QueueUrl=self.world.queue_url, MessageBody=b)["MessageId"]
            for b in bodies
        ]

    def reappear(self, message_id: str) -> None:
        """What SQS does when a message's visibility runs out (moto would take real time)."""
        self.world.sqs.change_message_visibility(
            QueueUrl=self.world.queue_url,
            ReceiptHandle=self.handles[message_id],
            VisibilityTimeout=0,
        )

    def dead_letters(self) -> list[Any]:
        answer = self.world.sqs.receive_message(
            QueueUrl=self.world.dlq_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
        )
        return answer.get("Messages", [])


def uri(i: int) -> str:
    return f"s3://videos/v{i:03d}.mp4"


@pytest.fixture
def rig(world: World) -> Rig:
    return Rig(world)


def test_every_message_gets_one_outcome_and_is_deleted_once_settled(rig: Rig) -> None:
    rig.send(
        uri(0),
        json.dumps({"Video": uri(1), "FaceMatchThreshold": 95}),
        json.dumps({"Video": {"S3Object": {"Bucket": "videos", "Name": "v002.mp4"}}}),
    )
    queue = rig.queue()
    settled = []
    videos = []
    for done in rig.work(queue):
        assert done.ok, done.error
        videos.append(done.request.video.uri)
        settled.append(queue.settle(done))
    assert sorted(videos) == [uri(0), uri(1), uri(2)]
    assert settled == ["deleted"] * 3
    assert rig.world.counts() == (0, 0)
    jobs = list(rig.fake.jobs.values())
    assert len(jobs) == 3
    assert {j.request.get("FaceMatchThreshold") for j in jobs} == {None, 95.0}
    assert all(j.request["CollectionId"] == "employees" for j in jobs)


def test_a_message_names_its_own_collection_and_notification_channel(rig: Rig) -> None:
    rig.fake.add_collection("visitors")
    channel = {
        "SNSTopicArn": "arn:aws:sns:us-east-1:123456789012:AmazonRekognitionDone",
        "RoleArn": "arn:aws:iam::123456789012:role/rekognition-sns",
    }
    body = {"Video": uri(0), "CollectionId": "visitors", "NotificationChannel": channel}
    rig.send(json.dumps({**body, "JobTag": "lobby"}))
    queue = rig.queue()
    for done in rig.work(queue):
        queue.settle(done)
    (job,) = rig.fake.jobs.values()
    assert job.request["CollectionId"] == "visitors"
    assert job.request["NotificationChannel"] == channel
    assert job.request["JobTag"] == "lobby"


class DiedError(Exception):
    """A worker's end in the middle of its batch."""


def die_once_a_job_runs(rig: Rig) -> Callable[[], None]:
    def hook() -> None:
        if rig.fake.jobs:
            rig.time.on_sleep.remove(hook)
            raise DiedError

    rig.time.on_sleep.append(hook)
    return hook


def test_a_redelivered_message_starts_no_second_job(rig: Rig) -> None:
    (message_id,) = rig.send(uri(0))
    die_once_a_job_runs(rig)
    with pytest.raises(DiedError):
        for _ in rig.work(rig.queue()):
            pass  # the first worker dies while its job runs: nothing is settled
    assert rig.world.counts() == (0, 1)  # still hidden: not deleted
    rig.reappear(message_id)
    queue = rig.queue()
    (done,) = list(rig.work(queue))
    queue.settle(done)
    (job_id,) = rig.fake.jobs
    assert done.ok
    assert done.job is not None
    assert done.job.job_id == job_id
    starts = [c for c in rig.fake.calls if c.operation == "StartFaceSearch"]
    assert len(starts) == 2  # the second receiver got the first one's job back
    assert rig.world.counts() == (0, 0)


def test_a_message_is_deleted_only_after_its_outcome_is_recorded(rig: Rig) -> None:
    (message_id,) = rig.send(uri(0))
    queue = rig.queue()
    recorded: list[str] = []

    def worker() -> None:
        for done in rig.work(queue):
            record(done)
            queue.settle(done)

    def record(done: BatchOutcome) -> None:
        raise OSError("disk full")  # the worker dies between the outcome and its record

    with pytest.raises(OSError, match="disk full"):
        worker()
    assert rig.world.counts() == (0, 1)  # in flight, not deleted: it comes back
    rig.reappear(message_id)
    second = rig.queue()
    for done in rig.work(second):
        recorded.append(done.request.video.uri)
        assert second.settle(done) == "deleted"
    assert recorded == [uri(0)]
    assert len(rig.fake.jobs) == 1
    assert rig.world.counts() == (0, 0)


def test_a_request_refused_for_good_is_dead_lettered_with_its_error(rig: Rig) -> None:
    body = json.dumps({"Video": uri(7)})
    (message_id,) = rig.send(body)
    rig.fake.inject_error("StartFaceSearch", "InvalidS3ObjectException")
    queue = rig.queue()
    outcomes = list(rig.work(queue))
    (done,) = outcomes
    assert isinstance(done.error, InvalidS3ObjectError)
    assert queue.settle(done) == "dead-lettered"
    assert rig.world.counts() == (0, 0)  # the original is gone
    (letter,) = rig.dead_letters()
    assert letter["Body"] == body
    attributes = {k: v["StringValue"] for k, v in letter["MessageAttributes"].items()}
    assert attributes["rekoface.ErrorType"] == "InvalidS3ObjectError"
    assert attributes["rekoface.ErrorCode"] == "InvalidS3ObjectException"
    assert "Unable to get object metadata" in attributes["rekoface.ErrorMessage"]
    assert attributes["rekoface.SourceMessageId"] == message_id
    assert queue.dead_lettered == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not a video", "Body"),
        ("[1, 2]", "Body"),
        (json.dumps({"Video": uri(1), "Colection": "x"}), "Body.Colection"),
        (json.dumps({"Video": "http://videos/v.mp4"}), "Video.S3Object"),
        (json.dumps({"Video": uri(1), "CollectionId": "no spaces allowed"}), "CollectionId"),
        (json.dumps({"Video": uri(1), "ClientRequestToken": "mine"}), "Body.ClientRequestToken"),
        (json.dumps({"Video": uri(1), "FaceMatchThreshold": 101}), "FaceMatchThreshold"),
    ],
)
def test_a_malformed_message_is_dead_lettered_at_once_naming_its_field(
    rig: Rig, body: str, field: str
) -> None:
    rig.send(body, uri(2))
    queue = rig.queue()
    videos = []
    for done in rig.work(queue):
        videos.append(done.request.video.uri)
        queue.settle(done)
    assert videos == [uri(2)]  # the batch went on; the bad message never reached it
    assert len(rig.fake.jobs) == 1
    (letter,) = rig.dead_letters()
    assert letter["Body"] == body
    attributes = {k: v["StringValue"] for k, v in letter["MessageAttributes"].items()}
    assert attributes["rekoface.ErrorType"] == "RequestValidationError"
    assert field in attributes["rekoface.ErrorMessage"]
    assert rig.world.counts() == (0, 0)


def test_a_message_without_a_collection_is_malformed_when_the_worker_has_none(rig: Rig) -> None:
    rig.send(uri(0))
    queue = rig.queue(collection_id=None)
    assert list(rig.work(queue)) == []
    (letter,) = rig.dead_letters()
    assert "CollectionId" in letter["MessageAttributes"]["rekoface.ErrorMessage"]["StringValue"]


def test_a_failed_job_is_a_recorded_outcome_and_its_message_is_deleted(rig: Rig) -> None:
    rig.send(uri(0))

    def fail_running() -> None:
        for job in rig.fake.jobs.values():
            if job.state == "IN_PROGRESS":
                rig.fake.finish(job.job_id, status="FAILED", status_message="bad codec")

    rig.time.on_sleep.append(fail_running)
    queue = rig.queue()
    (done,) = list(rig.work(queue))
    assert isinstance(done.error, JobFailedError)
    assert queue.settle(done) == "deleted"
    assert rig.world.counts() == (0, 0)
    assert rig.dead_letters() == []


def test_a_transient_failure_returns_the_message_for_a_later_try(rig: Rig) -> None:
    rig.send(uri(0))
    rig.fake.inject_error("StartFaceSearch", "ThrottlingException", times=3)
    queue = rig.queue(retry_delay=0)
    (done,) = list(rig.work(queue, max_in_flight=1))
    assert isinstance(done.error, ThrottlingError)
    assert queue.settle(done) == "returned"
    assert rig.world.counts() == (1, 0)  # visible again, for any worker
    assert rig.dead_letters() == []
    again = rig.queue()
    (retried,) = list(rig.work(again))
    assert retried.ok
    assert again.settle(retried) == "deleted"


@pytest.mark.parametrize("max_in_flight", [1, 20])  # 1: a full window asks for no work
def test_visibility_is_extended_while_the_job_runs_and_never_past_12_hours(
    world: World, max_in_flight: int
) -> None:
    rig = Rig(world, job_seconds=13 * 3600.0)
    rig.send(uri(0))
    queue = rig.queue(visibility_timeout=600)
    received = rig.time.clock()
    (done,) = list(rig.work(queue, max_in_flight=max_in_flight))
    assert done.ok
    hidden_until = received + 600
    for at, seconds in rig.visibility_calls:
        assert at <= hidden_until, "the message was visible to others before this extension"
        hidden_until = at + seconds
        assert hidden_until <= received + 12 * 3600
    assert hidden_until >= received + 12 * 3600 - 600  # kept hidden as long as SQS allows
    queue.settle(done)


def test_close_returns_the_messages_in_hand_at_once(rig: Rig) -> None:
    rig.send(uri(0))
    queue = rig.queue()
    die_once_a_job_runs(rig)
    with pytest.raises(DiedError):
        list(rig.work(queue))
    assert queue.in_hand == 1
    queue.close()  # a worker stopping in order: another may take the message now
    assert queue.in_hand == 0
    assert rig.world.counts() == (1, 0)


def test_a_worker_keeps_taking_work_while_its_jobs_run(rig: Rig) -> None:
    """A message that comes while a job runs starts before that job ends."""
    rig.send(uri(0))
    sent: list[float] = []

    def send_later() -> None:
        if rig.fake.jobs and not sent and rig.time.clock() > 10:
            sent.append(rig.time.clock())
            rig.send(uri(1))

    rig.time.on_sleep.append(send_later)
    queue = rig.queue()
    for done in rig.work(queue):
        queue.settle(done)
    first, second = rig.fake.jobs.values()
    assert first.finished_at is not None
    assert second.created_at < first.finished_at


def test_outcome_indexes_count_the_requests_taken_without_gaps(rig: Rig) -> None:
    """Waiting for work takes no index: the n-th request taken is index n - 1."""
    rig.send(uri(0))

    def send_later() -> None:
        if len(rig.fake.jobs) == 1 and rig.time.clock() > 10:
            rig.send(uri(1))

    rig.time.on_sleep.append(send_later)
    queue = rig.queue()
    indexes = []
    for done in rig.work(queue):
        indexes.append((done.index, done.request.video.uri))
        queue.settle(done)
    assert sorted(indexes) == [(0, uri(0)), (1, uri(1))]


def test_a_queue_without_a_dead_letter_queue_is_refused_before_any_receive(rig: Rig) -> None:
    url = rig.world.sqs.create_queue(QueueName="no-dlq")["QueueUrl"]
    queue = WorkQueue(url, sqs_client=rig.sqs(), collection_id="employees", heartbeat=False)
    with pytest.raises(ConfigurationError, match="dead_letter_queue_url"):
        next(rig.work(queue))
    dead_letters = rig.world.sqs.create_queue(QueueName="explicit-dlq")["QueueUrl"]
    rig.world.sqs.send_message(QueueUrl=url, MessageBody="not a video")
    explicit = WorkQueue(
        url,
        sqs_client=rig.sqs(),
        dead_letter_queue_url=dead_letters,
        wait_time_seconds=0,
        idle_timeout=0,
        heartbeat=False,
        sleep=rig.time.sleep,
        clock=rig.time.clock,
    )
    assert list(rig.work(explicit)) == []
    got = rig.world.sqs.receive_message(QueueUrl=dead_letters, WaitTimeSeconds=0)
    assert [m["Body"] for m in got["Messages"]] == ["not a video"]


def test_arguments_are_checked_at_once(rig: Rig) -> None:
    with pytest.raises(RequestValidationError) as caught:
        WorkQueue(
            "",
            sqs_client=rig.sqs(),
            visibility_timeout=1,
            wait_time_seconds=21,
            idle_timeout=-1,
            collection_id="no spaces",
        )
    fields = {e.path for e in caught.value.errors}
    assert fields == {"queue_url", "visibility_timeout", "wait_time_seconds", "idle_timeout"}
    with pytest.raises(RequestValidationError, match="CollectionId"):
        WorkQueue(rig.world.queue_url, sqs_client=rig.sqs(), collection_id="no spaces")
    with pytest.raises(RequestValidationError, match="key"):
        next(rig.work(rig.queue(), key="batch-1"))


def test_settling_an_outcome_twice_or_a_stranger_is_refused(rig: Rig) -> None:
    rig.send(uri(0))
    queue = rig.queue()
    (done,) = list(rig.work(queue))
    queue.settle(done)
    with pytest.raises(RequestValidationError, match="outcome"):
        queue.settle(done)


class _Serialised:
    """An SQS client whose calls take one process-wide lock: moto's SQS is not atomic
    across threads, real SQS is (the test is about the workers, not moto).

    Each worker's first receive returns only once every worker has made its first, so
    the work is shared whatever the threads' scheduling (on a loaded machine one worker
    could otherwise drain the queue before the others start).
    """

    lock = threading.Lock()

    def __init__(self, client: Any, first_receives: threading.Barrier) -> None:
        self._client = client
        self._first_receives: threading.Barrier | None = first_receives

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                answer = method(*args, **kwargs)
            if name == "receive_message" and self._first_receives is not None:
                self._first_receives.wait(timeout=30)
                self._first_receives = None
            return answer

        return call


def test_several_workers_drain_a_queue_each_video_one_outcome_one_job(world: World) -> None:
    def seconds(params: Mapping[str, Any]) -> float:
        return 60.0 + 30 * (int(params["Video"]["S3Object"]["Name"][1:4]) % 5)

    rig = Rig(world, job_seconds=seconds)
    sent = rig.send(*(uri(i) for i in range(40)))
    outcomes: list[tuple[int, BatchOutcome]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def worker(number: int) -> None:
        try:
            client = FaceSearchClient(
                rig.fake.client(),
                retry=RetryPolicy(sleep=rig.time.sleep, clock=rig.time.clock, random=lambda: 1.0),
            )
            sqs = _Serialised(boto3.client("sqs", region_name=world.region), first_receives)
            queue = rig.queue(sqs_client=sqs, idle_timeout=120)
            for done in rig.work(queue, client, max_in_flight=5):
                with lock:
                    outcomes.append((number, done))
                queue.settle(done)
        except BaseException as err:  # reported by the test's thread
            failures.append(err)

    first_receives = threading.Barrier(3)
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    videos = sorted(done.request.video.uri for _, done in outcomes)
    assert videos == [uri(i) for i in range(40)]
    assert all(done.ok for _, done in outcomes)
    assert len(rig.fake.jobs) == 40
    assert len({number for number, _ in outcomes}) > 1  # the work was shared
    assert world.counts() == (0, 0)
    assert len(sent) == 40


def _worker_policy() -> dict[str, Any]:
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "fleets.md").read_text(encoding="utf-8")
    marker = "<!-- iam-policy: work-queue-worker -->\n```json\n"
    policy: dict[str, Any] = json.loads(text.split(marker, 1)[1].split("\n```", 1)[0])
    return {statement["Sid"]: statement for statement in policy["Statement"]}


def test_the_documented_worker_policy_allows_exactly_the_queue_calls_a_worker_makes(
    rig: Rig,
) -> None:
    calls: dict[str, set[str]] = {}  # queue URL -> operations
    client = rig.sqs()

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.setdefault(params.get("QueueUrl", rig.world.dlq_url), set()).add(model.name)

    client.meta.events.register("provide-client-params.sqs.*", record)
    rig.fake.inject_error("StartFaceSearch", "InvalidS3ObjectException")
    rig.send(uri(0), uri(1), "no request")
    queue = rig.queue(sqs_client=client, visibility_timeout=30)
    for done in rig.work(queue, max_in_flight=1):
        queue.settle(done)
    statements = _worker_policy()
    assert sorted(calls[rig.world.queue_url]) == sorted(
        a.removeprefix("sqs:") for a in statements["TakeWork"]["Action"]
    )
    assert sorted(calls[rig.world.dlq_url]) == sorted(
        a.removeprefix("sqs:") for a in statements["DeadLetters"]["Action"]
    )
    assert set(statements["Search"]["Action"]) == {
        f"rekognition:{c.operation}" for c in rig.fake.calls
    }


class _Beats:
    """The heartbeat's timer, stepped by the test: each `wait` is one beat, until `set`."""

    def __init__(self) -> None:
        self.beat = threading.Semaphore(0)
        self.waits = 0
        self.waited = threading.Condition()
        self.stopped = threading.Event()

    def wait(self, timeout: float) -> bool:
        with self.waited:
            self.waits += 1
            self.waited.notify_all()
        self.beat.acquire()
        return self.stopped.is_set()

    def set(self) -> None:
        self.stopped.set()
        self.beat.release()

    def is_set(self) -> bool:
        return self.stopped.is_set()


def test_the_heartbeat_thread_extends_while_the_loop_body_runs_and_stops_on_close(
    rig: Rig,
) -> None:
    rig.send(uri(0))
    queue = rig.queue(heartbeat=True, visibility_timeout=30)
    beats = _Beats()
    queue._stop = beats  # type: ignore[assignment]  # a timer the test steps
    for done in rig.work(queue):
        before = len(rig.visibility_calls)
        rig.time.sleep(25)  # a slow sink: nothing but the heartbeat runs meanwhile
        with beats.waited:
            assert beats.waited.wait_for(lambda: beats.waits == 1, timeout=10)
            beats.beat.release()  # one beat
            assert beats.waited.wait_for(lambda: beats.waits == 2, timeout=10)
        assert len(rig.visibility_calls) == before + 1
        queue.settle(done)
    queue.close()
    assert queue._beat is not None
    queue._beat.join(timeout=10)
    assert not queue._beat.is_alive()
