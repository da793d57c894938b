"""The checks of a work queue's arguments, each failure named by its field (private)."""

from __future__ import annotations

from collections.abc import Callable

from . import _sqs
from ._validation import raise_if_any
from .errors import FieldError

__all__ = ["check_search_args", "check_settings"]


def check_settings(
    *,
    queue_url: object,
    dead_letter_queue_url: object,
    visibility_timeout: object,
    wait_time_seconds: object,
    idle_timeout: object,
    retry_delay: object,
    sleep: object,
    clock: object,
    on_malformed: Callable[..., object] | None,
) -> None:
    """`WorkQueue`'s own settings; one `RequestValidationError` lists every failure."""
    errors: list[FieldError] = []
    _sqs.check_queue_url(errors, "queue_url", queue_url)
    if dead_letter_queue_url is not None:
        _sqs.check_queue_url(errors, "dead_letter_queue_url", dead_letter_queue_url)
    _sqs.check_int(errors, "visibility_timeout", visibility_timeout, 3, _sqs.MAX_VISIBILITY_TIMEOUT)
    _sqs.check_int(errors, "wait_time_seconds", wait_time_seconds, 0, _sqs.MAX_WAIT_TIME_SECONDS)
    if idle_timeout is not None:
        _sqs.check_seconds(errors, "idle_timeout", idle_timeout, zero=True)
    _sqs.check_int(errors, "retry_delay", retry_delay, 0, _sqs.MAX_VISIBILITY_TIMEOUT)
    _sqs.check_callable(errors, "sleep", sleep)
    _sqs.check_callable(errors, "clock", clock)
    if on_malformed is not None:
        _sqs.check_callable(errors, "on_malformed", on_malformed)
    raise_if_any(errors)


def check_search_args(*, key: object, queue_url: str | None, work_queue_url: str) -> None:
    """`WorkQueue.search_many`'s own rules: no `key`, and completions on another queue."""
    errors: list[FieldError] = []
    if key is not None:
        errors.append(
            FieldError("key", "a work queue's jobs take their tokens from their messages", "None")
        )
    if queue_url is not None and queue_url == work_queue_url:
        errors.append(
            FieldError(
                "queue_url",
                "is the work queue: completions need a queue of their own",
                "the SNS->SQS completions queue",
            )
        )
    raise_if_any(errors)
