"""One retried call's bookkeeping: the one "retry this?" decision per attempt (private).

`CallState` gives tenacity its ``retry``, ``wait``, ``stop`` and ``before_sleep``
strategies, deciding each attempt once so the delay checked against the deadline is the
delay slept; the sync and the async driver (`_retry_drivers`) share it unchanged.
The capped exponential is tenacity's ``wait_exponential``, the attempt budget its
``stop_after_attempt``; tenacity is imported only once a call has failed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from ._retry_kinds import FAST, LIMIT, classify, describe

if TYPE_CHECKING:
    from tenacity import RetryCallState

    from .retry import RetryPolicy

__all__ = ["CallState", "worth_retrying"]

logger = logging.getLogger("rekoface")


def worth_retrying(policy: RetryPolicy, exc: BaseException) -> bool:
    """Whether a first failure starts retrying at all (its kind has a budget above one)."""
    kind = classify(exc)
    return (kind == FAST and policy.max_attempts > 1) or (
        kind == LIMIT and policy.retry_limit_exceeded and policy.limit_exceeded_max_attempts > 1
    )


class CallState:
    """Per-call retry bookkeeping; built only once a call has failed transiently.

    `wait` and `stop` share one decision per attempt (tenacity's order of the two
    varies between releases), so the delay that is checked against the deadline is
    the delay that is slept.
    """

    __slots__ = (
        "_decided",
        "_delay",
        "_detail",
        "_fast_failures",
        "_fast_origin",
        "_limit_failures",
        "_operation_name",
        "_policy",
        "_started",
        "_stop_reason",
    )

    def __init__(self, policy: RetryPolicy, operation_name: str, started: float) -> None:
        self._policy = policy
        self._operation_name = operation_name
        self._started = started
        self._fast_origin = started
        self._fast_failures = 0
        self._limit_failures = 0
        self._decided = 0
        self._delay = 0.0
        self._stop_reason: str | None = None
        self._detail = ""

    def strategies(self) -> dict[str, Any]:
        """Tenacity's arguments for this call, but the sleep (the drivers differ only there)."""
        return {
            "retry": self.should_retry,
            "wait": self.wait,
            "stop": self.stop,
            "before_sleep": self.before_sleep,
            "reraise": True,
        }

    def should_retry(self, retry_state: RetryCallState) -> bool:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None and outcome.failed else None
        return exc is not None and self._policy.is_transient(exc)

    def wait(self, retry_state: RetryCallState) -> float:
        self._decide(retry_state)
        return self._delay

    def stop(self, retry_state: RetryCallState) -> bool:
        self._decide(retry_state)
        if self._stop_reason is None:
            return False
        if retry_state.attempt_number > 1:
            logger.info(
                "%s attempt %d failed with %s; giving up: %s",
                self._operation_name,
                retry_state.attempt_number,
                _last_error_name(retry_state),
                self._stop_reason,
                extra=self._extra(retry_state, None),
            )
        return True

    def before_sleep(self, retry_state: RetryCallState) -> None:
        level = logging.WARNING if self._detail else logging.INFO
        logger.log(
            level,
            "%s attempt %d failed with %s%s; retrying in %.2fs",
            self._operation_name,
            retry_state.attempt_number,
            _last_error_name(retry_state),
            self._detail,
            self._delay,
            extra=self._extra(retry_state, self._delay),
        )

    def _extra(self, retry_state: RetryCallState, delay: float | None) -> dict[str, Any]:
        return {
            "rekoface_operation": self._operation_name,
            "rekoface_error_code": _last_error_name(retry_state),
            "rekoface_attempt": retry_state.attempt_number,
            "rekoface_delay": delay,
        }

    def _decide(self, retry_state: RetryCallState) -> None:
        if self._decided == retry_state.attempt_number:
            return
        self._decided = retry_state.attempt_number
        policy = self._policy
        now = policy.clock()
        if classify(_failure(retry_state)) == LIMIT:
            self._limit_failures += 1
            count = self._limit_failures
            limit = policy.limit_exceeded_max_attempts
            limit_name = "limit_exceeded_max_attempts"
            base, cap = policy.limit_exceeded_base_delay, policy.limit_exceeded_max_delay
            deadline, deadline_name = policy.limit_exceeded_deadline, "limit_exceeded_deadline"
            origin = self._started
            self._detail = f" (too many concurrent jobs; {count} of {limit})"
        else:
            self._fast_failures += 1
            count = self._fast_failures
            limit, limit_name = policy.max_attempts, "max_attempts"
            base, cap = policy.base_delay, policy.max_delay
            deadline, deadline_name = policy.deadline, "deadline"
            origin = self._fast_origin
            self._detail = ""
        if _stop_after(limit, count):
            self._delay = 0.0
            self._stop_reason = f"{limit_name}={limit} reached"
            return
        # AWS's full jitter: a uniform share of tenacity's capped exponential.
        delay = policy.random() * _capped_exponential(base, cap, count)
        self._delay = delay
        if deadline is not None and now + delay > origin + deadline:
            self._stop_reason = (
                f"the next attempt would start after {deadline_name}={deadline}s "
                f"(in {delay:.2f}s, with {origin + deadline - now:.2f}s left)"
            )
        else:
            self._stop_reason = None
            if self._detail:
                # A job-slot wait ends this run of fast failures: the next starts afresh.
                self._fast_failures = 0
                self._fast_origin = now + delay


class _Attempt:
    """The one field of tenacity's `RetryCallState` its strategies read: the attempt number.

    Each budget (fast, job slots) counts its own attempts, and the fast one starts
    afresh after a job-slot wait, so the strategies are asked with that count rather
    than tenacity's running total.
    """

    __slots__ = ("attempt_number",)

    def __init__(self, attempt_number: int) -> None:
        self.attempt_number = attempt_number


def _capped_exponential(base: float, cap: float, failures: int) -> float:
    """``min(cap, base * 2 ** (failures - 1))``, by tenacity (which guards the overflow)."""
    import tenacity

    wait = tenacity.wait_exponential(multiplier=base, max=cap, exp_base=2)
    return float(wait(cast("RetryCallState", _Attempt(failures))))


def _stop_after(limit: int, failures: int) -> bool:
    """Whether `failures` attempts have used a budget of `limit`, by tenacity."""
    import tenacity

    return bool(tenacity.stop_after_attempt(limit)(cast("RetryCallState", _Attempt(failures))))


def _failure(retry_state: RetryCallState) -> BaseException:
    """The exception of the attempt tenacity asks about (it asks only after failures)."""
    outcome = retry_state.outcome
    assert outcome is not None
    exc = outcome.exception()
    assert exc is not None
    return exc


def _last_error_name(retry_state: RetryCallState) -> str:
    return describe(_failure(retry_state))
