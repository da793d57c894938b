"""Pollers: BackoffPoller's schedule and deadline, SqsNotificationPoller against moto's SNS->SQS.

No test sleeps for real: every poller gets a fake clock and a fake sleep that advances it.
moto's SQS long poll really blocks, so the SQS tests use ``wait_time_seconds=0``.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber
from faketime import FakeTime as FakeClock
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto_world import World
from moto_world import completion as notification

import rekoface
from rekoface import (
    BackoffPoller,
    ConfigurationError,
    JobState,
    JobStatus,
    PollTimeoutError,
    RequestValidationError,
    ServiceError,
    _receiver,
    _sqs,
    pollers,
)
from rekoface.pollers import SqsNotificationPoller

# -- fakes ------------------------------------------------------------------------------


class Job:
    """``fetch_status`` for a job that ends `length` seconds after `clock`'s current time."""

    def __init__(
        self,
        clock: FakeClock,
        length: float = math.inf,
        *,
        job_id: str = "job-1",
        final: JobState = JobState.SUCCEEDED,
        states: list[JobState] | None = None,
    ) -> None:
        self.clock = clock
        self.job_id = job_id
        self.ends_at = clock.now + length
        self.final = final
        self.states = list(states) if states is not None else None
        self.calls: list[float] = []

    def __call__(self, job_id: str) -> JobStatus:
        assert job_id == self.job_id
        self.calls.append(self.clock.now)
        if self.states is not None:
            state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        else:
            state = self.final if self.clock.now >= self.ends_at else JobState.IN_PROGRESS
        return JobStatus(job_id, state)


@pytest.fixture(autouse=True)
def _fresh_receivers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no shared receivers (they are per process, keyed by queue URL)."""
    monkeypatch.setattr(_receiver, "_RECEIVERS", {})


# -- the protocol ---------------------------------------------------------------------------


def test_the_sqs_poller_is_importable_from_pollers_and_the_package() -> None:
    # Users import it from rekoface.pollers; its code lives with the SQS layer.
    assert pollers.SqsNotificationPoller is rekoface.SqsNotificationPoller
    assert "SqsNotificationPoller" in pollers.__all__


# -- BackoffPoller --------------------------------------------------------------------------


def backoff(clock: FakeClock, **kwargs: Any) -> BackoffPoller:
    return BackoffPoller(sleep=clock.sleep, clock=clock, **kwargs)


class TestBackoffPoller:
    def test_a_finished_job_costs_one_call_and_no_sleep(self) -> None:
        clock = FakeClock(1000.0)
        job = Job(clock, 0)
        status = backoff(clock).wait("job-1", job)
        assert status.state is JobState.SUCCEEDED
        assert job.calls == [1000.0]
        assert clock.sleeps == []

    def test_failed_is_returned_not_raised(self) -> None:
        clock = FakeClock(1000.0)
        job = Job(clock, 12, final=JobState.FAILED)
        assert backoff(clock).wait("job-1", job).state is JobState.FAILED

    def test_schedule_without_jitter(self) -> None:
        clock = FakeClock(0.0)
        job = Job(clock, 10_000)
        poller = backoff(clock, jitter=False)
        poller.wait("job-1", job)
        # 5 s steps until 10 % of the time waited exceeds 5 s, then 10 %, then 120 s steps.
        assert clock.sleeps[:11] == [5.0] * 11
        assert clock.sleeps[11] == pytest.approx(5.5)
        assert clock.sleeps[12] == pytest.approx(6.05)
        assert clock.sleeps[-2:] == [120.0, 120.0]
        assert all(b >= a for a, b in zip(clock.sleeps, clock.sleeps[1:], strict=False))

    def test_delay_formula(self) -> None:
        poller = BackoffPoller(jitter=False)
        assert poller.delay(0) == 5.0
        assert poller.delay(49) == 5.0
        assert poller.delay(300) == pytest.approx(30.0)
        assert poller.delay(1200) == 120.0
        assert poller.delay(86_400) == 120.0

    @pytest.mark.parametrize(("draw", "expected"), [(0.0, 25.5), (0.5, 27.75), (1.0, 30.0)])
    def test_jitter_stays_in_the_top_15_percent_of_the_delay(
        self, draw: float, expected: float
    ) -> None:
        poller = BackoffPoller(random=lambda: draw)
        assert poller.delay(300) == pytest.approx(expected)

    def test_jitter_never_goes_below_initial_delay(self) -> None:
        poller = BackoffPoller(random=lambda: 0.0)
        assert poller.delay(55) == 5.0  # 0.85 of 5.5 s would be 4.675 s

    def test_timeout_is_kept_exactly(self) -> None:
        clock = FakeClock(0.0)
        job = Job(clock)
        poller = backoff(clock, jitter=False, timeout=63.0)
        with pytest.raises(PollTimeoutError) as info:
            poller.wait("job-1", job)
        assert info.value.job_id == "job-1"
        assert info.value.elapsed == 63.0
        assert clock.now == 63.0  # no overshoot
        assert sum(clock.sleeps) == 63.0
        assert job.calls[-1] == 63.0  # asked once more at the deadline
        # polls at 0, 5, ..., 55, 60.5; the next 6.05 s sleep is cut to the 2.5 s left
        assert job.calls[-2] == pytest.approx(60.5)
        assert clock.sleeps[-1] == pytest.approx(2.5)

    def test_job_ending_at_the_deadline_is_seen(self) -> None:
        clock = FakeClock(0.0)
        job = Job(clock, 63.0)
        status = backoff(clock, jitter=False, timeout=63.0).wait("job-1", job)
        assert status.state is JobState.SUCCEEDED
        assert clock.now == 63.0

    def test_wait_timeout_overrides_the_pollers(self) -> None:
        clock = FakeClock(0.0)
        with pytest.raises(PollTimeoutError):
            backoff(clock, timeout=3600).wait("job-1", Job(clock), timeout=7)
        assert clock.now == 7.0

    def test_zero_timeout_asks_once(self) -> None:
        clock = FakeClock(0.0)
        job = Job(clock)
        with pytest.raises(PollTimeoutError):
            backoff(clock).wait("job-1", job, timeout=0)
        assert job.calls == [0.0]
        assert clock.sleeps == []

    def test_a_slow_status_call_past_the_deadline_ends_the_wait(self) -> None:
        clock = FakeClock(0.0)

        def slow(job_id: str) -> JobStatus:
            clock.sleep(30)  # e.g. retries of a throttled GetFaceSearch
            return JobStatus(job_id, JobState.IN_PROGRESS)

        with pytest.raises(PollTimeoutError) as info:
            backoff(clock).wait("job-1", slow, timeout=20)
        assert info.value.elapsed == 30.0
        assert clock.sleeps == [30.0]  # only the slow call's own time

    @pytest.mark.parametrize("timeout", [-1, math.nan, math.inf, "10", True])
    def test_bad_wait_timeout(self, timeout: Any) -> None:
        with pytest.raises(RequestValidationError) as info:
            BackoffPoller().wait("job-1", Job(FakeClock(1000.0)), timeout=timeout)
        assert info.value.paths == ("timeout",)

    def test_every_bad_field_is_reported(self) -> None:
        with pytest.raises(RequestValidationError) as info:
            BackoffPoller(
                initial_delay=0,
                max_delay=math.inf,
                lag_fraction=-0.1,
                jitter="yes",  # type: ignore[arg-type]
                timeout=-5,
                sleep=None,  # type: ignore[arg-type]
                clock=3,  # type: ignore[arg-type]
                random="r",  # type: ignore[arg-type]
            )
        assert info.value.paths == (
            "BackoffPoller.initial_delay",
            "BackoffPoller.max_delay",
            "BackoffPoller.lag_fraction",
            "BackoffPoller.jitter",
            "BackoffPoller.timeout",
            "BackoffPoller.sleep",
            "BackoffPoller.clock",
            "BackoffPoller.random",
        )

    def test_max_delay_below_initial_delay(self) -> None:
        with pytest.raises(RequestValidationError) as info:
            BackoffPoller(initial_delay=10, max_delay=5)
        assert info.value.paths == ("BackoffPoller.max_delay",)
        assert "less than initial_delay" in str(info.value)

    def test_non_numbers_are_refused(self) -> None:
        with pytest.raises(RequestValidationError) as info:
            BackoffPoller(initial_delay="5")  # type: ignore[arg-type]
        assert info.value.paths == ("BackoffPoller.initial_delay",)

    def test_zero_lag_fraction_polls_at_a_fixed_interval(self) -> None:
        clock = FakeClock(0.0)
        backoff(clock, lag_fraction=0, jitter=False).wait("job-1", Job(clock, 3000))
        assert set(clock.sleeps) == {5.0}

    @settings(max_examples=200, deadline=None)
    @given(
        length=st.floats(0, 3 * 3600),
        initial=st.floats(1, 30),
        extra=st.floats(0, 600),
        fraction=st.floats(0, 0.5),
        seed=st.randoms(use_true_random=False),
        jitter=st.booleans(),
    )
    def test_detection_lag_is_bounded_for_every_job_length(
        self,
        *,
        length: float,
        initial: float,
        extra: float,
        fraction: float,
        seed: Any,
        jitter: bool,
    ) -> None:
        clock = FakeClock(0.0)
        job = Job(clock, length)
        poller = BackoffPoller(
            initial_delay=initial,
            max_delay=initial + extra,
            lag_fraction=fraction,
            jitter=jitter,
            sleep=clock.sleep,
            clock=clock,
            random=seed.random,
        )
        poller.wait("job-1", job)
        lag = clock.now - length
        assert lag >= 0
        bound = min(max(initial, fraction * length), initial + extra)
        assert lag <= bound + 1e-6
        assert len(job.calls) <= length / initial + 2

    @settings(max_examples=200, deadline=None)
    @given(length=st.floats(0, 4 * 3600), timeout=st.floats(0, 4 * 3600))
    def test_never_overshoots_the_timeout(self, length: float, timeout: float) -> None:
        clock = FakeClock(0.0)
        job = Job(clock, length)
        poller = backoff(clock)
        if length > timeout:
            with pytest.raises(PollTimeoutError) as info:
                poller.wait("job-1", job, timeout=timeout)
            assert info.value.elapsed == pytest.approx(timeout)
        else:
            assert poller.wait("job-1", job, timeout=timeout).state is JobState.SUCCEEDED
        assert clock.now <= timeout + 1e-9


# -- SqsNotificationPoller: unit behaviour with a scripted queue -------------------------------


class ScriptedSqs:
    """Just enough of an SQS client: answers receives from a script, records every call.

    An empty long poll advances the fake clock by its WaitTimeSeconds, as SQS would.
    """

    def __init__(self, clock: FakeClock, script: list[Any] | None = None) -> None:
        self.clock = clock
        self.script = list(script or [])
        self.receives: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.released: list[str] = []
        self.delete_error: BaseException | None = None

    def receive_message(self, **params: Any) -> dict[str, Any]:
        self.receives.append(params)
        answer = self.script.pop(0) if self.script else []
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            answer = answer()
        if not answer and params["WaitTimeSeconds"]:
            self.clock.sleep(params["WaitTimeSeconds"])
        return {"Messages": answer} if answer else {}

    def delete_message(self, **params: Any) -> dict[str, Any]:
        if self.delete_error is not None:
            raise self.delete_error
        self.deleted.append(params["ReceiptHandle"])
        return {}

    def change_message_visibility(self, **params: Any) -> dict[str, Any]:
        self.released.append(params["ReceiptHandle"])
        return {}


def message(body: str, handle: str) -> dict[str, Any]:
    return {"MessageId": handle, "ReceiptHandle": handle, "Body": body}


QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/rekoface-tests"


def sqs_poller(clock: FakeClock, client: Any, **kwargs: Any) -> SqsNotificationPoller:
    kwargs.setdefault("wait_time_seconds", 0)
    return SqsNotificationPoller(QUEUE, sqs_client=client, sleep=clock.sleep, clock=clock, **kwargs)


def client_error(code: str, status: int = 400) -> Exception:
    from botocore.exceptions import ClientError

    response: Any = {
        "Error": {"Code": code, "Message": code},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "ReceiveMessage")


class TestSqsPollerUnit:
    def test_a_finished_job_is_returned_without_touching_the_queue(self) -> None:
        clock = FakeClock(1000.0)
        sqs = ScriptedSqs(clock)
        job = Job(clock, 0)
        assert sqs_poller(clock, sqs).wait("job-1", job).state is JobState.SUCCEEDED
        assert sqs.receives == []
        assert len(job.calls) == 1

    def test_notification_is_deleted_then_confirmed(self) -> None:
        clock = FakeClock(1000.0)
        sqs = ScriptedSqs(clock, [[], [message(notification("job-1"), "h1")]])
        job = Job(clock, states=[JobState.IN_PROGRESS, JobState.SUCCEEDED])
        status = sqs_poller(clock, sqs).wait("job-1", job)
        assert status.state is JobState.SUCCEEDED
        assert sqs.deleted == ["h1"]
        assert len(job.calls) == 2
        assert sqs.receives[0] == {
            "QueueUrl": QUEUE,
            "WaitTimeSeconds": 0,
            "MaxNumberOfMessages": 10,
        }
        assert clock.sleeps == [1.0]  # one idle second after the empty receive, no spin

    def test_notification_of_failure_is_confirmed_and_returned(self) -> None:
        clock = FakeClock(1000.0)
        sqs = ScriptedSqs(clock, [[message(notification("job-1", "FAILED"), "h1")]])
        job = Job(clock, states=[JobState.IN_PROGRESS, JobState.FAILED])
        assert sqs_poller(clock, sqs).wait("job-1", job).state is JobState.FAILED

    def test_a_notification_the_service_does_not_confirm_yet_is_rechecked_soon(self) -> None:
        clock = FakeClock(0.0)
        sqs = ScriptedSqs(clock, [[message(notification("job-1"), "h1")]])
        states = [JobState.IN_PROGRESS, JobState.IN_PROGRESS, JobState.SUCCEEDED]
        job = Job(clock, states=states)
        sqs_poller(clock, sqs).wait("job-1", job)
        assert job.calls == [0.0, 0.0, 5.0]

    def test_long_polls_never_wait_past_the_next_check(self) -> None:
        clock = FakeClock(0.0)
        sqs = ScriptedSqs(clock)
        job = Job(clock)
        poller = sqs_poller(clock, sqs, wait_time_seconds=20, fallback_interval=50)
        with pytest.raises(PollTimeoutError) as info:
            poller.wait("job-1", job, timeout=70.5)
        waits = [r["WaitTimeSeconds"] for r in sqs.receives]
        # up to the fallback check at 50 s, then on to the deadline at 70.5 s
        assert waits == [20, 20, 10, 20, 0]
        assert job.calls == [0.0, 50.0, 70.5]
        assert clock.sleeps[-1] == 0.5  # the last half second is slept, not long-polled
        assert info.value.elapsed == 70.5

    def test_lost_notification_falls_back_to_get_face_search(self) -> None:
        clock = FakeClock(0.0)
        sqs = ScriptedSqs(clock)
        job = Job(clock, 1000)
        poller = sqs_poller(clock, sqs, wait_time_seconds=20)
        assert poller.wait("job-1", job).state is JobState.SUCCEEDED
        assert job.calls == [0.0, 300.0, 600.0, 900.0, 1200.0]

    def test_timeout_with_no_notification(self) -> None:
        clock = FakeClock(0.0)
        sqs = ScriptedSqs(clock)
        job = Job(clock)
        with pytest.raises(PollTimeoutError) as info:
            sqs_poller(clock, sqs, timeout=10).wait("job-1", job)
        assert info.value.elapsed == 10.0
        assert clock.now == 10.0
        assert job.calls == [0.0, 10.0]  # once at the start, once at the deadline
        assert clock.sleeps == [1.0] * 10

    def test_wait_timeout_overrides_and_zero_means_one_look(self) -> None:
        clock = FakeClock(0.0)
        sqs = ScriptedSqs(clock)
        job = Job(clock)
        with pytest.raises(PollTimeoutError):
            sqs_poller(clock, sqs, timeout=3600).wait("job-1", job, timeout=0)
        assert job.calls == [0.0]
        assert sqs.receives == []

    def test_a_receive_that_outlasts_the_deadline_is_not_followed_by_a_sleep(self) -> None:
        clock = FakeClock(0.0)

        def slow() -> list[Any]:
            clock.sleep(5)  # e.g. a slow network
            return []

        sqs = ScriptedSqs(clock, [slow])
        with pytest.raises(PollTimeoutError) as info:
            sqs_poller(clock, sqs, timeout=3).wait("job-1", Job(clock))
        assert clock.sleeps == [5]
        assert info.value.elapsed == 5.0

    def test_job_done_at_the_deadline_is_returned(self) -> None:
        clock = FakeClock(0.0)
        sqs = ScriptedSqs(clock)
        job = Job(clock, 10)
        assert sqs_poller(clock, sqs, timeout=10).wait("job-1", job).state is JobState.SUCCEEDED

    def test_other_messages_are_never_deleted(self) -> None:
        clock = FakeClock(1000.0)
        foreign = [
            message("not json", "junk"),
            message(notification("other-job"), "other"),
            message(notification("label-job", api="StartLabelDetection"), "label"),
        ]
        sqs = ScriptedSqs(clock, [foreign, [message(notification("job-1"), "mine")]])
        job = Job(clock, states=[JobState.IN_PROGRESS, JobState.SUCCEEDED])
        sqs_poller(clock, sqs).wait("job-1", job)
        assert sqs.deleted == ["mine"]
        assert sqs.released == []  # never released early

    def test_a_late_duplicate_of_a_finished_job_is_deleted(self) -> None:
        clock = FakeClock(1000.0)
        sqs = ScriptedSqs(clock)
        sqs_poller(clock, sqs).wait("job-1", Job(clock, 0))  # done before any notification
        sqs.script = [[message(notification("job-1"), "late"), message(notification("x"), "x")]]
        job2 = Job(clock, job_id="job-2", states=[JobState.IN_PROGRESS, JobState.SUCCEEDED])
        sqs.script.append([message(notification("job-2"), "two")])
        sqs_poller(clock, sqs).wait("job-2", job2)
        assert sqs.deleted == ["late", "two"]

    def test_a_notification_seen_before_its_waiter_came_is_used(self) -> None:
        clock = FakeClock(1000.0)
        sqs = ScriptedSqs(
            clock,
            [[message(notification("job-1"), "one"), message(notification("job-2"), "two")]],
        )
        sqs_poller(clock, sqs).wait(
            "job-1", Job(clock, states=[JobState.IN_PROGRESS, JobState.SUCCEEDED])
        )
        assert sqs.deleted == ["one"]
        # job-2's waiter arrives later; its message is invisible now, but it was seen.
        job2 = Job(clock, job_id="job-2", states=[JobState.IN_PROGRESS, JobState.SUCCEEDED])
        status = sqs_poller(clock, sqs, fallback_interval=3600, timeout=5).wait("job-2", job2)
        assert status.state is JobState.SUCCEEDED
        assert sqs.deleted == ["one", "two"]
        assert len(job2.calls) == 2

    def test_a_failed_delete_only_logs(self, caplog: pytest.LogCaptureFixture) -> None:
        clock = FakeClock(1000.0)
        sqs = ScriptedSqs(clock, [[message(notification("job-1"), "h1")]])
        sqs.delete_error = client_error("ReceiptHandleIsInvalid")
        job = Job(clock, states=[JobState.IN_PROGRESS, JobState.SUCCEEDED])
        with caplog.at_level(logging.WARNING, logger="rekoface"):
            assert sqs_poller(clock, sqs).wait("job-1", job).state is JobState.SUCCEEDED
        assert "could not delete the notification of job job-1" in caplog.text

    @pytest.mark.parametrize(
        "error",
        [
            client_error("ThrottlingException"),
            client_error("InternalError", 500),
            EndpointConnectionError(endpoint_url=QUEUE),
        ],
    )
    def test_transient_receive_errors_are_waited_out(
        self, error: Exception, caplog: pytest.LogCaptureFixture
    ) -> None:
        clock = FakeClock(1000.0)
        sqs = ScriptedSqs(clock, [error, [message(notification("job-1"), "h1")]])
        job = Job(clock, states=[JobState.IN_PROGRESS, JobState.SUCCEEDED])
        with caplog.at_level(logging.WARNING, logger="rekoface"):
            sqs_poller(clock, sqs, wait_time_seconds=20).wait("job-1", job)
        assert "will retry" in caplog.text
        assert clock.sleeps == [1.0]

    def test_transient_errors_in_a_row_back_off(self, caplog: pytest.LogCaptureFixture) -> None:
        clock = FakeClock(1000.0)
        throttled = [client_error("ThrottlingException") for _ in range(3)]
        sqs = ScriptedSqs(clock, [*throttled, [], [message(notification("job-1"), "h1")]])
        job = Job(clock, states=[JobState.IN_PROGRESS, JobState.SUCCEEDED])
        with caplog.at_level(logging.WARNING, logger="rekoface"):
            sqs_poller(clock, sqs).wait("job-1", job)
        # 1, 2, 4 s while the errors last; then the ordinary idle second
        assert clock.sleeps == [1.0, 2.0, 4.0, 1.0]
        assert caplog.text.count("will retry") == 3

    def test_backoff_never_sleeps_past_the_next_check(self) -> None:
        clock = FakeClock(0.0)
        errors = [EndpointConnectionError(endpoint_url=QUEUE) for _ in range(6)]
        sqs = ScriptedSqs(clock, errors)
        job = Job(clock, 20)
        poller = sqs_poller(clock, sqs, fallback_interval=20)
        assert poller.wait("job-1", job).state is JobState.SUCCEEDED
        assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 5.0]  # cut to the check at 20 s
        assert job.calls == [0.0, 20.0]

    @pytest.mark.parametrize("failure", [KeyboardInterrupt(), RuntimeError("raw")])
    def test_hints_are_handed_over_before_anything_is_deleted(self, failure: BaseException) -> None:
        clock = FakeClock(1000.0)
        receiver = _receiver.receiver_for(QUEUE)
        other, _ = receiver.register("job-b")  # another thread's waiter, between rounds
        sqs = ScriptedSqs(
            clock,
            [[message(notification("job-a"), "ha"), message(notification("job-b"), "hb")]],
        )
        sqs.delete_error = failure  # the first delete is interrupted
        job = Job(clock, job_id="job-a", states=[JobState.IN_PROGRESS, JobState.SUCCEEDED])
        with pytest.raises(type(failure)):
            sqs_poller(clock, sqs).wait("job-a", job)
        assert [hint.job_id for hint in other.hints] == ["job-b"]  # B knows at once
        assert not receiver.leading

    def test_other_receive_errors_raise_and_unregister(self) -> None:
        clock = FakeClock(1000.0)
        sqs = ScriptedSqs(clock, [client_error("AWS.SimpleQueueService.NonExistentQueue")])
        with pytest.raises(ServiceError) as info:
            sqs_poller(clock, sqs).wait("job-1", Job(clock))
        assert info.value.code == "AWS.SimpleQueueService.NonExistentQueue"
        assert _receiver._RECEIVERS[QUEUE].waiters == {}
        assert not _receiver._RECEIVERS[QUEUE].leading

    def test_an_error_in_fetch_status_unregisters(self) -> None:
        clock = FakeClock(1000.0)

        def broken(job_id: str) -> JobStatus:
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            sqs_poller(clock, ScriptedSqs(clock)).wait("job-1", broken)
        assert _receiver._RECEIVERS[QUEUE].waiters == {}
        assert "job-1" not in _receiver._RECEIVERS[QUEUE].finished

    def test_memory_is_bounded(self) -> None:
        memory: Any = OrderedDict()
        for i in range(_receiver.MEMORY + 5):
            _receiver.remember(memory, i, None)
        assert len(memory) == _receiver.MEMORY
        assert next(iter(memory)) == 5

    def test_two_waiters_on_one_job_both_get_it(self) -> None:
        clock = FakeClock(1000.0)
        receiver = _receiver.receiver_for(QUEUE)
        first, _ = receiver.register("job-1")
        second, _ = receiver.register("job-1")
        sqs = ScriptedSqs(clock)
        messages: Any = [message(notification("job-1"), "h")]
        assert receiver.route(sqs, messages)  # type: ignore[arg-type]
        assert sqs.deleted == ["h"]
        assert len(first.hints) == len(second.hints) == 1
        receiver.unregister(first, finished=False)
        assert receiver.waiters == {"job-1": [second]}
        receiver.unregister(second, finished=True)
        assert receiver.waiters == {}
        assert "job-1" in receiver.finished
        receiver.unregister(second, finished=True)  # twice is harmless

    def test_step_returns_at_once_with_a_pending_hint(self) -> None:
        clock = FakeClock(1000.0)
        receiver = _receiver.receiver_for(QUEUE)
        waiter, _ = receiver.register("job-1")
        waiter.hints.append(object())  # type: ignore[arg-type]
        sqs = ScriptedSqs(clock)
        how = _receiver.Round(sqs, 0, clock.sleep, clock)  # type: ignore[arg-type]
        receiver.step(how, waiter, clock.now + 5)
        assert sqs.receives == []


class TestSqsPollerSetUp:
    def test_every_bad_field_is_reported(self) -> None:
        with pytest.raises(RequestValidationError) as info:
            SqsNotificationPoller(
                "",
                wait_time_seconds=21,
                timeout=-1,
                fallback_interval=0,
                sleep=1,  # type: ignore[arg-type]
                clock=None,  # type: ignore[arg-type]
            )
        assert info.value.paths == (
            "SqsNotificationPoller.queue_url",
            "SqsNotificationPoller.wait_time_seconds",
            "SqsNotificationPoller.timeout",
            "SqsNotificationPoller.fallback_interval",
            "SqsNotificationPoller.sleep",
            "SqsNotificationPoller.clock",
        )

    @pytest.mark.parametrize("wait", [-1, 2.5, True, "20"])
    def test_wait_time_seconds_is_a_whole_number_in_sqs_range(self, wait: Any) -> None:
        with pytest.raises(RequestValidationError):
            SqsNotificationPoller(QUEUE, wait_time_seconds=wait)

    def test_repr_is_short_and_has_no_client(self) -> None:
        text = repr(SqsNotificationPoller(QUEUE, sqs_client=object()))  # type: ignore[arg-type]
        assert text == (
            f"SqsNotificationPoller(queue_url={QUEUE!r}, wait_time_seconds=20, "
            "timeout=None, fallback_interval=300.0)"
        )

    def test_bind_session_makes_one_client_from_the_session(self) -> None:
        session = boto3.Session(region_name="eu-west-1")
        made: list[str] = []
        session.events.register("creating-client-class.sqs", lambda **_: made.append("sqs"))
        poller = SqsNotificationPoller(QUEUE)
        threads = [
            threading.Thread(target=poller.bind_session, args=(session, None)) for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        client = poller.sqs_client
        assert made == ["sqs"]  # once, from this session
        poller.bind_session(boto3.Session(), "us-west-2")
        assert poller.sqs_client is client  # idempotent

    def test_the_queue_urls_region_wins(self) -> None:
        # A queue answers only in its own region, whatever the Rekognition client's is.
        poller = SqsNotificationPoller("https://sqs.us-west-2.amazonaws.com/1/q")
        poller.bind_session(boto3.Session(region_name="eu-west-1"), "us-east-1")
        assert poller.sqs_client.meta.region_name == "us-west-2"

    def test_a_url_without_a_region_takes_the_given_one(self) -> None:
        poller = SqsNotificationPoller("http://127.0.0.1:9324/000000000000/q")
        poller.bind_session(boto3.Session(region_name="eu-west-1"), "ap-south-1")
        assert poller.sqs_client.meta.region_name == "ap-south-1"
        other = SqsNotificationPoller("http://127.0.0.1:9324/000000000000/q")
        other.bind_session(boto3.Session(region_name="eu-west-1"), None)
        assert other.sqs_client.meta.region_name == "eu-west-1"

    def test_a_given_client_is_kept(self) -> None:
        given_client = boto3.client("sqs", region_name="us-east-1")
        poller = SqsNotificationPoller(QUEUE, sqs_client=given_client)
        poller.bind_session(boto3.Session(region_name="eu-west-1"), "eu-west-1")
        assert poller.sqs_client is given_client

    def test_default_session_and_region_from_the_queue_url(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("AWS_DEFAULT_REGION")
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
        url = "https://sqs.eu-central-1.amazonaws.com/123456789012/q"
        poller = SqsNotificationPoller(url)
        assert poller.sqs_client.meta.region_name == "eu-central-1"  # no bind: default session
        assert boto3.DEFAULT_SESSION is not None

    def test_no_region_anywhere_is_a_configuration_error(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("AWS_DEFAULT_REGION")
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
        poller = SqsNotificationPoller("http://127.0.0.1:9324/000000000000/q")
        with pytest.raises(ConfigurationError, match="no AWS region for SQS"):
            poller.bind_session(None, None)

    def test_a_malformed_region_is_a_configuration_error(self) -> None:
        poller = SqsNotificationPoller("http://127.0.0.1:9324/000000000000/q")
        with pytest.raises(ConfigurationError, match="cannot build an SQS client"):
            poller.bind_session(None, "not a region!")

    @pytest.mark.parametrize(
        ("url", "region"),
        [
            ("https://sqs.us-east-1.amazonaws.com/1/q", "us-east-1"),
            ("https://sqs.cn-north-1.amazonaws.com.cn/1/q", "cn-north-1"),
            ("https://sqs.us-gov-west-1.amazonaws.com/1/q", "us-gov-west-1"),
            ("https://eu-west-1.queue.amazonaws.com/1/q", "eu-west-1"),
            ("http://localhost:4566/000000000000/q", None),
            ("https://sqs.us-east-1.amazonaws.com.evil.example/1/q", None),
            ("not a url", None),
        ],
    )
    def test_region_from_queue_url(self, url: str, region: str | None) -> None:
        assert _sqs.region_from_queue_url(url) == region


# -- SqsNotificationPoller end to end: moto's SNS delivers to moto's SQS ---------------------


@pytest.fixture
def aws() -> Iterator[World]:
    with mock_aws():
        yield World()


def world_poller(aws: World, clock: FakeClock, **kwargs: Any) -> SqsNotificationPoller:
    """A poller on the world's queue, its own recording client, no long polls."""
    kwargs.setdefault("sqs_client", aws.client())
    return SqsNotificationPoller(
        aws.queue_url, wait_time_seconds=0, sleep=clock.sleep, clock=clock, **kwargs
    )


class TestSqsPollerEndToEnd:
    def test_notification_through_sns_is_picked_up(self, aws: World) -> None:
        clock = FakeClock(0.0)
        aws.publish(notification("job-1"))
        job = Job(clock, states=[JobState.IN_PROGRESS, JobState.SUCCEEDED])
        poller = world_poller(aws, clock)
        assert poller.wait("job-1", job).state is JobState.SUCCEEDED
        assert len(job.calls) == 2
        assert clock.now == 0.0  # found at once: no fallback, no idle sleep
        assert aws.counts() == (0, 0)  # its message was deleted

    def test_raw_delivery_is_picked_up(self, aws: World) -> None:
        clock = FakeClock(0.0)
        aws.send_raw(notification("job-1"))
        job = Job(clock, states=[JobState.IN_PROGRESS, JobState.SUCCEEDED])
        poller = SqsNotificationPoller(
            aws.queue_url, sqs_client=aws.sqs, wait_time_seconds=0, sleep=clock.sleep, clock=clock
        )
        assert poller.wait("job-1", job).state is JobState.SUCCEEDED
        assert aws.counts() == (0, 0)

    def test_foreign_and_malformed_messages_stay_and_never_reach_the_dlq(self, aws: World) -> None:
        clock = FakeClock(0.0)
        aws.publish(notification("someone-elses-job"))
        aws.publish(notification("label-job", api="StartLabelDetection"))
        aws.send_raw("this is not a notification")
        # A 5-minute job whose notification never comes: hundreds of receive rounds.
        job = Job(clock, 300)
        poller = SqsNotificationPoller(
            aws.queue_url,
            sqs_client=aws.client(),
            wait_time_seconds=0,
            fallback_interval=100,
            sleep=clock.sleep,
            clock=clock,
        )
        assert poller.wait("job-1", job).state is JobState.SUCCEEDED
        assert len(clock.sleeps) >= 300  # many rounds, each sleeping instead of spinning
        # Each foreign message was received exactly once by the waiter: never released early,
        # so the waiter's whole wait counted once toward maxReceiveCount=2.
        assert len(aws.received) == 3
        assert len(set(aws.received)) == 3
        assert aws.counts() == (0, 3)  # still on the queue, in flight, not deleted
        assert aws.counts(aws.dlq_url) == (0, 0)

    def test_poison_messages_do_not_stop_the_waiter(self, aws: World) -> None:
        clock = FakeClock(0.0)
        aws.send_raw("[" * 100_000)
        aws.publish('{"JobId": "job-1", "Status": "SUCCEEDED", "Timestamp": "' + "9" * 5000 + '"}')
        aws.publish(notification("job-1"))
        job = Job(clock, states=[JobState.IN_PROGRESS, JobState.SUCCEEDED])
        poller = world_poller(aws, clock)
        assert poller.wait("job-1", job).state is JobState.SUCCEEDED
        assert len(job.calls) == 2  # confirmed on its own notification, no fallback
        assert aws.counts() == (0, 2)  # the two poison messages: left alone

    def test_control_releasing_early_would_send_them_to_the_dlq(self, aws: World) -> None:
        """What the poller must not do: bounce messages at visibility 0 (moto's redrive works)."""
        aws.publish(notification("someone-elses-job"))
        for _ in range(2):
            for m in aws.drain():
                aws.sqs.change_message_visibility(
                    QueueUrl=aws.queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                )
        assert aws.drain() == []  # the third receive moves it to the dead-letter queue
        assert len(aws.drain(aws.dlq_url)) == 1

    def test_two_waiters_share_one_receiver(self, aws: World) -> None:
        clock = FakeClock(0.0)
        ready = threading.Barrier(3, timeout=10)
        in_flight: list[int] = [0]
        most: list[int] = [0]
        lock = threading.Lock()
        client = aws.client()

        def before(**_: Any) -> None:
            with lock:
                in_flight[0] += 1
                most[0] = max(most[0], in_flight[0])

        def after(**_: Any) -> None:
            with lock:
                in_flight[0] -= 1

        client.meta.events.register("before-call.sqs.ReceiveMessage", before)
        client.meta.events.register("after-call.sqs.ReceiveMessage", after)

        def waiter(job_id: str, results: dict[str, Any]) -> None:
            calls = 0

            def fetch(jid: str) -> JobStatus:
                nonlocal calls
                calls += 1
                if calls == 1:
                    ready.wait()  # both are registered before anything is published
                    return JobStatus(jid, JobState.IN_PROGRESS)
                return JobStatus(jid, JobState.SUCCEEDED)

            poller = SqsNotificationPoller(
                aws.queue_url,
                sqs_client=client,
                wait_time_seconds=0,
                fallback_interval=10**6,
                timeout=10**5,
                sleep=clock.sleep,
                clock=clock,
            )
            try:
                results[job_id] = (poller.wait(job_id, fetch), calls)
            except Exception as err:  # pragma: no cover - reported below
                results[job_id] = err

        results: dict[str, Any] = {}
        threads = [threading.Thread(target=waiter, args=(j, results)) for j in ("job-a", "job-b")]
        for thread in threads:
            thread.start()
        ready.wait()
        aws.publish(notification("job-b"))
        aws.publish(notification("job-a"))
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads)
        for job_id in ("job-a", "job-b"):
            status, calls = results[job_id]
            assert status.job_id == job_id
            assert status.state is JobState.SUCCEEDED
            assert calls == 2  # the start, and the confirmation of its own notification
        assert most[0] == 1  # one receiver at a time
        assert aws.counts() == (0, 0)
        assert _receiver._RECEIVERS[aws.queue_url].waiters == {}

    def test_fallback_when_the_notification_is_lost(self, aws: World) -> None:
        clock = FakeClock(0.0)
        job = Job(clock, 40)
        poller = SqsNotificationPoller(
            aws.queue_url,
            sqs_client=aws.sqs,
            wait_time_seconds=0,
            fallback_interval=30,
            sleep=clock.sleep,
            clock=clock,
        )
        assert poller.wait("job-1", job).state is JobState.SUCCEEDED
        assert job.calls == [0.0, 30.0, 60.0]

    def test_timeout_with_moto(self, aws: World) -> None:
        clock = FakeClock(0.0)
        poller = SqsNotificationPoller(
            aws.queue_url, sqs_client=aws.sqs, wait_time_seconds=0, sleep=clock.sleep, clock=clock
        )
        with pytest.raises(PollTimeoutError) as info:
            poller.wait("job-1", Job(clock), timeout=12)
        assert info.value.elapsed == 12.0
        assert clock.now == 12.0

    def test_a_missing_queue_is_a_service_error(self) -> None:
        with mock_aws():
            clock = FakeClock(0.0)
            url = "https://sqs.us-east-1.amazonaws.com/123456789012/missing"
            poller = SqsNotificationPoller(url, wait_time_seconds=0, sleep=clock.sleep, clock=clock)
            poller.bind_session(None, "us-east-1")
            with pytest.raises(ServiceError) as info:
                poller.wait("job-1", Job(clock), timeout=5)
            assert not info.value.retryable


class TestWithTheClient:
    def test_wait_binds_the_clients_session(self) -> None:
        from rekoface import FaceSearchClient

        with mock_aws():
            west = World("us-west-2")
            botocore_session = botocore.session.get_session()
            seen: list[str] = []
            botocore_session.register(
                "before-call.sqs.ReceiveMessage", lambda **_: seen.append("session")
            )
            session = boto3.Session(botocore_session=botocore_session, region_name="us-east-1")
            client = FaceSearchClient(boto3_session=session)
            poller = SqsNotificationPoller(west.queue_url, wait_time_seconds=0)
            job = client.start(
                rekoface.FaceSearchRequest(rekoface.S3Video("videos", "a.mp4"), "employees")
            )
            client.wait(job, poller=poller)  # moto's jobs are done at once
            sqs = poller.sqs_client
            assert sqs.meta.region_name == "us-west-2"  # the queue's, not the client's
            sqs.receive_message(QueueUrl=west.queue_url, WaitTimeSeconds=0)
            assert seen == ["session"]  # made from the session FaceSearchClient was given


def test_stubbed_receive_parameters() -> None:
    """The exact ReceiveMessage request botocore sends (validated against the SQS model)."""
    client: Any = botocore.session.get_session().create_client("sqs", region_name="us-east-1")
    clock = FakeClock(0.0)
    with Stubber(client) as stub:
        body = notification("job-1")
        stub.add_response(
            "receive_message",
            {"Messages": [{"MessageId": "m", "ReceiptHandle": "h", "Body": body}]},
            {"QueueUrl": QUEUE, "WaitTimeSeconds": 20, "MaxNumberOfMessages": 10},
        )
        stub.add_response("delete_message", {}, {"QueueUrl": QUEUE, "ReceiptHandle": "h"})
        poller = SqsNotificationPoller(QUEUE, sqs_client=client, sleep=clock.sleep, clock=clock)
        job = Job(clock, states=[JobState.IN_PROGRESS, JobState.SUCCEEDED])
        assert poller.wait("job-1", job).state is JobState.SUCCEEDED
        stub.assert_no_pending_responses()
