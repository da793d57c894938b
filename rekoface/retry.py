"""`RetryPolicy`: retry transient AWS errors with full-jitter exponential backoff.

Built from the parts others already maintain: what counts as transient is asked of
botocore's ``standard`` retry-mode checkers (`rekoface.errors.is_transient_error`), so
one rekoface layer can replace botocore's own retries without changing what is
retried; the capped exponential is tenacity's ``wait_exponential`` and the attempt
budget its ``stop_after_attempt``; tenacity's ``Retrying`` drives the attempts (its
``AsyncRetrying`` takes the same decision). The deadline is checked by rekoface, on the
injected clock: tenacity's ``stop_before_delay`` reads tenacity's own clock. The one
deliberate difference from botocore: ``LimitExceededException`` (too many concurrent
jobs; it clears only as jobs finish) is retried only when the policy opts in, on a
separate schedule of minutes.

The happy path is a plain ``try``: no tenacity object, closure or import happens
unless the first attempt fails with a retryable error, so ``import rekoface`` and a
successful call cost what the boto3 call costs.

Its parts are private modules: what kind of failure an exception is (`_retry_kinds`),
the per-attempt decision (`_retry_state`) and the sync and async drivers
(`_retry_drivers`, whose `call_async` is re-exported here). Together they import
nothing of the package but `rekoface.errors` (and the private `_validation`).
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable
from typing import TypeVar

import attrs

from ._retry_drivers import call_async, retry_after_failure
from ._retry_kinds import FAST, LIMIT, classify
from ._retry_state import worth_retrying
from ._validation import is_finite_number, raise_if_any, shown
from .errors import FieldError

__all__ = ["RetryPolicy", "call_async"]

T = TypeVar("T")


@attrs.frozen
class RetryPolicy:
    """Retry transient errors of one AWS call with full-jitter exponential backoff.

    Delay before retry *n* (n = 1, 2, ...) is ``random() * min(max_delay,
    base_delay * 2 ** (n - 1))`` (AWS's "full jitter"). A call makes at most
    `max_attempts` attempts, and never starts one after `deadline` seconds (read on
    the injected `clock`) since the first attempt began: when the next sleep would
    end past the deadline, the policy stops at once and re-raises rather than sleep.

    With ``retry_limit_exceeded=True``, ``LimitExceededException`` gets its own
    budget: `limit_exceeded_max_attempts` attempts that meet it, within
    `limit_exceeded_deadline` seconds of the first attempt, waiting ``random() *
    min(limit_exceeded_max_delay, limit_exceeded_base_delay * 2 ** (n - 1))``. After
    such a wait, the fast budget (attempts, deadline, backoff) starts afresh: a job
    slot may take minutes to free, and throttling after that is a new episode. A
    call therefore makes at most ``limit_exceeded_max_attempts * max_attempts``
    attempts and starts none later than ``limit_exceeded_deadline + deadline``.

    The last exception is re-raised unchanged (botocore's own); non-retryable
    errors propagate at once.
    """

    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 20.0
    deadline: float | None = 120.0
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, eq=False, repr=False)
    clock: Callable[[], float] = attrs.field(default=time.monotonic, eq=False, repr=False)
    retry_limit_exceeded: bool = False
    limit_exceeded_base_delay: float = 30.0
    limit_exceeded_max_delay: float = 300.0
    limit_exceeded_max_attempts: int = 10
    random: Callable[[], float] = attrs.field(default=_random.random, eq=False, repr=False)
    limit_exceeded_deadline: float | None = 1800.0

    def __attrs_post_init__(self) -> None:
        errors = _validate(self)
        raise_if_any(errors)

    @classmethod
    def never(cls) -> RetryPolicy:
        """One attempt, no retries: for a boto3 client that already retries on its own."""
        return cls(max_attempts=1, deadline=None)

    def is_transient(self, exc: BaseException) -> bool:
        """Whether this policy retries `exc` (budget aside)."""
        kind = classify(exc)
        return kind == FAST or (kind == LIMIT and self.retry_limit_exceeded)

    def call(self, fn: Callable[[], T], *, operation_name: str) -> T:
        """Run `fn`, retrying transient errors; return its result or raise its last error."""
        started = self.clock()
        try:
            return fn()
        except Exception as exc:
            if not worth_retrying(self, exc):
                raise
            first_error = exc
        # Outside the except block, so the last error is raised without a __context__.
        return retry_after_failure(self, fn, first_error, operation_name, started)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _validate(policy: RetryPolicy) -> list[FieldError]:
    """Every failing field of `policy`, so one error lists them all."""
    errors: list[FieldError] = []

    def fail(name: str, problem: str, rule: str) -> None:
        errors.append(FieldError(path=f"RetryPolicy.{name}", problem=problem, rule=rule))

    for name in ("max_attempts", "limit_exceeded_max_attempts"):
        value = getattr(policy, name)
        if not isinstance(value, int) or isinstance(value, bool):
            fail(name, f"{value!r} is not an integer", "an int >= 1")
        elif value < 1:
            fail(name, f"{value!r} is less than 1", "an int >= 1")

    for base_name, cap_name in (
        ("base_delay", "max_delay"),
        ("limit_exceeded_base_delay", "limit_exceeded_max_delay"),
    ):
        valid = True
        for name in (base_name, cap_name):
            value = getattr(policy, name)
            rule = "a finite number of seconds >= 0"
            if not _is_number(value):
                fail(name, f"{value!r} is not a number", rule)
                valid = False
            elif not is_finite_number(value) or value < 0:
                fail(name, f"{shown(value)} is negative or not finite", rule)
                valid = False
        base, cap = getattr(policy, base_name), getattr(policy, cap_name)
        if valid and base > cap:
            fail(base_name, f"{base!r} is greater than {cap_name}={cap!r}", f"<= {cap_name}")

    for name in ("deadline", "limit_exceeded_deadline"):
        value = getattr(policy, name)
        rule = "None or a finite number of seconds > 0"
        if value is None:
            continue
        if not _is_number(value):
            fail(name, f"{value!r} is not a number", rule)
        elif not is_finite_number(value) or value <= 0:
            fail(name, f"{shown(value)} is not positive and finite", rule)

    flag: object = policy.retry_limit_exceeded
    if not isinstance(flag, bool):
        fail("retry_limit_exceeded", f"{flag!r} is not a bool", "True or False")

    for name in ("sleep", "clock", "random"):
        value = getattr(policy, name)
        if not callable(value):
            fail(name, f"{type(value).__name__} object is not callable", "a callable")
    return errors
