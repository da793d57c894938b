"""`RetryPolicy`: retry transient AWS errors with full-jitter exponential backoff.

Built from the parts others already maintain: what counts as transient is asked of
botocore's ``standard`` retry-mode checkers (`rekoface.errors.is_transient_error`), so
one rekoface layer can replace botocore's own retries without changing what is
retried; the capped exponential is tenacity's ``wait_exponential`` and the attempt
budget its ``stop_after_attempt``; tenacity's ``Retrying`` drives the attempts (its
``AsyncRetrying`` takes the same decision). The deadline is checked here, on the
injected clock: tenacity's ``stop_before_delay`` reads tenacity's own clock. The one
deliberate difference from botocore: ``LimitExceededException`` (too many concurrent
jobs; it clears only as jobs finish) is retried only when the policy opts in, on a
separate schedule of minutes.

The happy path is a plain ``try``: no tenacity object, closure or import happens
unless the first attempt fails with a retryable error, so ``import rekoface`` and a
successful call cost what the boto3 call costs.

This module imports nothing of the package but `rekoface.errors`.
"""

from __future__ import annotations

import logging
import random as _random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

import attrs
from botocore.exceptions import ClientError

from ._validation import is_finite_number, raise_if_any, shown
from .errors import (
    LIMIT_EXCEEDED_CODE,
    FieldError,
    is_transient_error,
    is_transient_exception,
)

if TYPE_CHECKING:
    from tenacity import RetryCallState

__all__ = ["RetryPolicy"]

T = TypeVar("T")

logger = logging.getLogger("rekoface")

# What is transient is decided in `errors` (ServiceError.retryable asks the same).

# Classification results.
_NOT_RETRYABLE: Final = 0
_FAST: Final = 1
_LIMIT: Final = 2


def _classify(exc: BaseException) -> int:
    """`_FAST`, `_LIMIT` or `_NOT_RETRYABLE`, by botocore's standard-mode rules."""
    if isinstance(exc, ClientError):
        code, status = _code_and_status(exc)
        if code == LIMIT_EXCEEDED_CODE:
            return _LIMIT
        return _FAST if is_transient_error(code, status) else _NOT_RETRYABLE
    return _FAST if is_transient_exception(exc) else _NOT_RETRYABLE


def _get(document: object, key: str) -> object:
    """`document[key]` if `document` is a mapping, else `None` (responses can be odd)."""
    if isinstance(document, Mapping):
        return cast("Mapping[str, object]", document).get(key)
    return None


def _code_and_status(exc: ClientError) -> tuple[str, int | None]:
    response: object = exc.response
    code = _get(_get(response, "Error"), "Code")
    status = _get(_get(response, "ResponseMetadata"), "HTTPStatusCode")
    return (
        code if isinstance(code, str) else "",
        status if isinstance(status, int) and not isinstance(status, bool) else None,
    )


def _describe(exc: BaseException) -> str:
    """The error code, or the exception's class name: never its message or request."""
    if isinstance(exc, ClientError):
        code, _ = _code_and_status(exc)
        if code:
            return code
    return type(exc).__name__


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
        kind = _classify(exc)
        return kind == _FAST or (kind == _LIMIT and self.retry_limit_exceeded)

    def call(self, fn: Callable[[], T], *, operation_name: str) -> T:
        """Run `fn`, retrying transient errors; return its result or raise its last error."""
        started = self.clock()
        try:
            return fn()
        except Exception as exc:
            if not _worth_retrying(self, exc):
                raise
            first_error = exc
        # Outside the except block, so the last error is raised without a __context__.
        return _retry(self, fn, first_error, operation_name, started)


def _worth_retrying(policy: RetryPolicy, exc: BaseException) -> bool:
    """Whether a first failure starts retrying at all (its kind has a budget above one)."""
    kind = _classify(exc)
    return (kind == _FAST and policy.max_attempts > 1) or (
        kind == _LIMIT and policy.retry_limit_exceeded and policy.limit_exceeded_max_attempts > 1
    )


async def call_async(
    policy: RetryPolicy,
    fn: Callable[[], Awaitable[T]],
    *,
    operation_name: str,
    sleep: Callable[[float], Awaitable[object]],
) -> T:
    """`RetryPolicy.call` for a coroutine: the same decisions, each delay awaited with `sleep`.

    For `rekoface.aio`'s native (aiobotocore) transport: the policy's own synchronous
    `sleep` is not used; its `clock`, `random` and budgets are.
    """
    started = policy.clock()
    try:
        return await fn()
    except Exception as exc:
        if not _worth_retrying(policy, exc):
            raise
        first_error = exc
    import tenacity

    state = _CallState(policy, operation_name, started)
    pending = [first_error]

    async def attempt() -> T:
        if pending:
            raise pending.pop()
        return await fn()

    async def pause(seconds: float) -> None:
        await sleep(seconds)

    retrying = tenacity.AsyncRetrying(
        sleep=pause,
        retry=state.should_retry,
        wait=state.wait,
        stop=state.stop,
        before_sleep=state.before_sleep,
        reraise=True,
    )
    return await retrying(attempt)


def _retry(
    policy: RetryPolicy,
    fn: Callable[[], T],
    first_error: BaseException,
    operation_name: str,
    started: float,
) -> T:
    """The slow path: hand the failed call to tenacity, replaying the first failure."""
    import tenacity  # lazy: keeps `import rekoface` as cheap as `import boto3`

    state = _CallState(policy, operation_name, started)
    pending = [first_error]

    def attempt() -> T:
        if pending:
            raise pending.pop()
        return fn()

    retrying = tenacity.Retrying(
        sleep=policy.sleep,
        retry=state.should_retry,
        wait=state.wait,
        stop=state.stop,
        before_sleep=state.before_sleep,
        reraise=True,
    )
    return retrying(attempt)


class _CallState:
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
        if _classify(_failure(retry_state)) == _LIMIT:
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
    return _describe(_failure(retry_state))


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
