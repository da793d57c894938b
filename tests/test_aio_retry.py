"""`rekoface.retry.call_async`: `RetryPolicy.call`'s decisions for a coroutine, delays awaited.

The native (aiobotocore) transport retries through it; these tests need no aiobotocore.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import attrs
import pytest
from aio_support import awaitable_sleep, client_error, never_sleeps
from botocore.exceptions import ClientError
from faketime import FakeTime

from rekoface import RetryPolicy
from rekoface.retry import call_async


def _error(code: str, status: int = 400) -> ClientError:
    return client_error(code, "GetFaceSearch", status)


class Failing:
    """Fails with the given errors in turn, then answers ``"ok"``; counts its attempts."""

    def __init__(self, *errors: ClientError) -> None:
        self.errors = list(errors)
        self.attempts = 0

    def __call__(self) -> str:
        self.attempts += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"

    async def awaited(self) -> str:
        return self()


def _both(
    make_policy: Callable[[FakeTime], RetryPolicy], *errors: ClientError
) -> tuple[tuple[object, list[float], int], tuple[object, list[float], int]]:
    """(answer or error, delays, attempts) of the sync and the async driver, same policy."""
    sync_time, async_time = FakeTime(), FakeTime()
    sync_fn, async_fn = Failing(*errors), Failing(*errors)
    sync_policy = make_policy(sync_time)
    try:
        sync_answer: object = sync_policy.call(sync_fn, operation_name="GetFaceSearch")
    except ClientError as err:
        sync_answer = err.response["Error"]["Code"]

    policy = attrs.evolve(make_policy(async_time), sleep=never_sleeps, clock=async_time.clock)
    sleep = awaitable_sleep(async_time.sleep)
    try:
        async_answer: object = asyncio.run(
            call_async(policy, async_fn.awaited, operation_name="GetFaceSearch", sleep=sleep)
        )
    except ClientError as err:
        async_answer = err.response["Error"]["Code"]
    return (
        (sync_answer, sync_time.sleeps, sync_fn.attempts),
        (async_answer, async_time.sleeps, async_fn.attempts),
    )


def _policy(**kwargs: object) -> Callable[[FakeTime], RetryPolicy]:
    def make(time: FakeTime) -> RetryPolicy:
        draws = iter([0.5, 0.9, 0.1, 0.7] * 10)
        return RetryPolicy(
            sleep=time.sleep,
            clock=time.clock,
            random=lambda: next(draws),
            **kwargs,  # type: ignore[arg-type]
        )

    return make


def test_transient_errors_are_retried_with_the_same_delays() -> None:
    errors = [_error("ThrottlingException"), _error("InternalServerError", 500)] * 2
    sync, awaited = _both(_policy(), *errors)
    assert awaited == sync
    assert awaited[0] == "ok"
    assert len(awaited[1]) == 4


def test_the_budget_ends_with_the_last_error_as_in_sync() -> None:
    sync, awaited = _both(_policy(max_attempts=3), *[_error("ThrottlingException")] * 5)
    assert awaited == sync
    assert awaited == ("ThrottlingException", awaited[1], 3)


def test_the_deadline_stops_before_a_delay_that_would_pass_it() -> None:
    errors = [_error("ThrottlingException")] * 20
    sync, awaited = _both(_policy(deadline=3.0, base_delay=1.0), *errors)
    assert awaited == sync
    assert awaited[0] == "ThrottlingException"
    assert sum(awaited[1]) <= 3.0


@pytest.mark.parametrize("code", ["AccessDeniedException", "LimitExceededException"])
def test_what_is_not_retried_fails_at_once(code: str) -> None:
    sync, awaited = _both(_policy(), _error(code))
    assert awaited == sync == (code, [], 1)


def test_one_attempt_policy_never_retries() -> None:
    sync, awaited = _both(lambda _: RetryPolicy.never(), _error("ThrottlingException"))
    assert awaited == sync == ("ThrottlingException", [], 1)
