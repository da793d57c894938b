"""What kind of failure an exception is, for `RetryPolicy` (private).

Transient or not is asked of botocore's ``standard`` retry-mode checkers (through
`rekoface.errors`); ``LimitExceededException`` is a kind of its own, retried only when a
policy opts in. Service output is read leniently: an odd error response is no crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, cast

from botocore.exceptions import ClientError

from .errors import LIMIT_EXCEEDED_CODE, is_transient_error, is_transient_exception

__all__ = ["FAST", "LIMIT", "NOT_RETRYABLE", "classify", "describe"]

# Classification results.
NOT_RETRYABLE: Final = 0
FAST: Final = 1
LIMIT: Final = 2


def classify(exc: BaseException) -> int:
    """`_FAST`, `_LIMIT` or `_NOT_RETRYABLE`, by botocore's standard-mode rules."""
    if isinstance(exc, ClientError):
        code, status = _code_and_status(exc)
        if code == LIMIT_EXCEEDED_CODE:
            return LIMIT
        return FAST if is_transient_error(code, status) else NOT_RETRYABLE
    return FAST if is_transient_exception(exc) else NOT_RETRYABLE


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


def describe(exc: BaseException) -> str:
    """The error code, or the exception's class name: never its message or request."""
    if isinstance(exc, ClientError):
        code, _ = _code_and_status(exc)
        if code:
            return code
    return type(exc).__name__
