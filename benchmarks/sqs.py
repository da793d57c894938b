"""Figure 6: ``GetFaceSearch`` calls per job of `SqsNotificationPoller`, any length.

Simulated time on a real (moto, in-process) SNS topic and SQS queue: the poller's
`sleep` advances the clock, `fetch_status` reports ``IN_PROGRESS`` until the clock
reaches the job's length, and when the clock passes the job's end a Rekognition-shaped
completion is published to the topic, which delivers it to the queue in its SNS
envelope, as the service does. The lost-notification case publishes nothing, so only
the poller's fallback checks can see the job end.

Two ways of receiving are run:

- short polls (``wait_time_seconds=0``): every empty receive is followed by the
  poller's own one-second sleep;
- long polls (``wait_time_seconds=20``, the default): moto would really block, so a
  ``before-parameter-build`` hook on the SQS client plays the server's part: it
  advances the clock by the requested wait, or only to the job's end if the
  notification arrives within it, and sends moto a zero wait.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rekoface import JobState, SqsNotificationPoller

from ._common import REGION, FigureResult, SimulatedJob, Sizes, duration

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

FALLBACK_INTERVAL = 300.0
#: Calls allowed per job besides one per fallback interval.
ALLOWED_EXTRA_CALLS = 3
_LONG_POLL = 20
#: Give up on a simulation that runs this far past the job's end (a poller bug).
_RUNAWAY = 2 * FALLBACK_INTERVAL + 60.0
_names = itertools.count(1)


class NotifyingJob(SimulatedJob):
    """A simulated job that publishes its completion when the clock passes its end."""

    def __init__(
        self,
        job_id: str,
        length: float,
        publish: Callable[[NotifyingJob], None],
        *,
        lost: bool,
    ) -> None:
        super().__init__(length)
        self.job_id = job_id
        self.lost = lost
        self.receives = 0
        self.published = False
        self._publish = publish

    def sleep(self, seconds: float) -> None:
        self._advance_to(self.now + seconds)

    def _advance_to(self, when: float) -> None:
        if when > self.length + _RUNAWAY:  # pragma: no cover - a poller bug
            raise AssertionError(f"job {self.job_id} ended at {self.length}s, still waiting")
        self.now = max(self.now, when)
        if not self.lost and not self.published and self.now >= self.length:
            self.published = True
            self._publish(self)

    def long_poll(self, params: dict[str, Any], **_: Any) -> None:
        """The server's side of a long poll, on the simulated clock (``before-parameter-build``)."""
        self.receives += 1
        wait = params.get("WaitTimeSeconds", 0)
        params["WaitTimeSeconds"] = 0
        if not wait or self.published:
            return  # a message is waiting (or was taken): the server answers at once
        if not self.lost and self.length <= self.now + wait:
            self._advance_to(self.length)  # the notification arrives mid-poll
        else:
            self._advance_to(self.now + wait)


@dataclass(frozen=True)
class Outcome:
    mode: str
    length: float
    lost: bool
    calls: int
    receives: int
    lag: float

    @property
    def allowed(self) -> int:
        return ALLOWED_EXTRA_CALLS + math.floor(self.length / FALLBACK_INTERVAL)


class _Aws:
    """moto's SNS and SQS: a topic and a subscribed queue per job, as a waiter would set up."""

    def __init__(self, sns: SNSClient, sqs: SQSClient) -> None:
        self.sns = sns
        self.sqs = sqs

    def subscribed_queue(self) -> tuple[str, str]:
        """A new topic and a queue subscribed to it: (topic ARN, queue URL)."""
        name = f"AmazonRekognitionBench{next(_names)}"
        topic_arn = self.sns.create_topic(Name=name)["TopicArn"]
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        self.sns.subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=arn["Attributes"]["QueueArn"]
        )
        return topic_arn, url

    def publisher(self, topic_arn: str) -> Callable[[NotifyingJob], None]:
        """Publishes a job's completion to `topic_arn` as Rekognition does."""

        def publish(job: NotifyingJob) -> None:
            message = {
                "JobId": job.job_id,
                "Status": "SUCCEEDED",
                "API": "StartFaceSearch",
                "JobTag": "bench",
                "Timestamp": int(job.now * 1000),
                "Video": {"S3ObjectName": "lobby.mp4", "S3Bucket": "bench-videos"},
            }
            self.sns.publish(TopicArn=topic_arn, Message=json.dumps(message))

        return publish


def simulate(aws: _Aws, mode: str, length: float, *, lost: bool) -> Outcome:
    """Wait for one job with `SqsNotificationPoller`; count its calls."""
    topic_arn, url = aws.subscribed_queue()
    job = NotifyingJob(f"bench-job-{next(_names)}", length, aws.publisher(topic_arn), lost=lost)
    event = "before-parameter-build.sqs.ReceiveMessage"
    handler_id = f"rekoface-bench-{job.job_id}"
    aws.sqs.meta.events.register(event, job.long_poll, unique_id=handler_id)
    try:
        poller = SqsNotificationPoller(
            url,
            sqs_client=aws.sqs,
            wait_time_seconds=_LONG_POLL if mode == "long" else 0,
            fallback_interval=FALLBACK_INTERVAL,
            sleep=job.sleep,
            clock=job.clock,
        )
        status = poller.wait(job.job_id, job.fetch_status)
    finally:
        aws.sqs.meta.events.unregister(event, unique_id=handler_id)
        aws.sqs.delete_queue(QueueUrl=url)
        aws.sns.delete_topic(TopicArn=topic_arn)
    if status.state is not JobState.SUCCEEDED:  # pragma: no cover - a poller bug
        raise AssertionError(f"poller returned {status.state}")
    return Outcome(mode, length, lost, job.calls, job.receives, job.lag)


def simulate_all(sizes: Sizes) -> list[Outcome]:
    """Every (receive mode, job length, notified or lost) case of `sizes`."""
    import boto3
    from moto import mock_aws

    cases = [("short", n) for n in sizes.sqs_short_poll_lengths]
    cases += [("long", n) for n in sizes.sqs_long_poll_lengths]
    with mock_aws():
        session = boto3.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - fake, for moto
            region_name=REGION,
        )
        aws = _Aws(session.client("sns"), session.client("sqs"))
        return [
            simulate(aws, mode, length, lost=lost)
            for mode, length in cases
            for lost in (False, True)
        ]


_MODES = {"short": "short polls (`wait_time_seconds=0`)", "long": "long polls (20 s)"}


def run(sizes: Sizes) -> FigureResult:
    outcomes = simulate_all(sizes)
    passed = all(o.calls <= o.allowed for o in outcomes)
    details = [
        f"`fallback_interval={FALLBACK_INTERVAL:.0f}`; allowed calls per job: "
        f"{ALLOWED_EXTRA_CALLS} + ⌊job length / fallback interval⌋. Lag is from the job's "
        "end to the `GetFaceSearch` call that confirmed it; SQS receives are counted too "
        "(they cost money, but not the `GetFaceSearch` quota).",
        "",
        "| receive | job | notification | `GetFaceSearch` calls | allowed | SQS receives | lag |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    details += [
        f"| {_MODES[o.mode]} | {duration(o.length)} | {'lost' if o.lost else 'delivered'} | "
        f"{o.calls} | {o.allowed} | {o.receives:,} | {o.lag:.1f} s |"
        for o in outcomes
    ]

    # The table row shows the longest jobs, where the fallback checks add up.
    longest = sorted({o.length for o in outcomes if o.mode == "long"})[-2:]

    def calls(length: float, *, lost: bool) -> int:
        return next(
            o.calls for o in outcomes if (o.mode, o.length, o.lost) == ("long", length, lost)
        )

    shown = "; ".join(
        f"{duration(n)}: {calls(n, lost=False)} (delivered), {calls(n, lost=True)} (lost)"
        for n in longest
    )

    return FigureResult(
        number="6",
        title="`GetFaceSearch` calls per job of `SqsNotificationPoller` (moto SNS → SQS, "
        "simulated clock), notification delivered or lost",
        rekoface=shown,
        baseline="—",
        result=f"max {max(o.calls - o.allowed + ALLOWED_EXTRA_CALLS for o in outcomes)} "
        "calls beyond one per fallback interval",
        target=f"≤ {ALLOWED_EXTRA_CALLS} + one per fallback interval",
        passed=passed,
        details=tuple(details),
        checks={"outcomes": outcomes},
    )
