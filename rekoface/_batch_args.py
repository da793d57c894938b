"""The argument checks of `search_many`, all made before any call (private)."""

from __future__ import annotations

import logging
from typing import Final

from ._validation import is_finite_number, raise_if_any, shown
from .errors import FieldError, RequestValidationError

__all__ = ["DEFAULT_JOB_QUOTA", "check_batch_arguments", "not_a_request"]

logger = logging.getLogger("rekoface")

#: The account's default concurrent stored-video jobs; more needs a raised quota.
DEFAULT_JOB_QUOTA: Final = 20


def check_batch_arguments(
    *,
    max_in_flight: object,
    start_rate: object,
    status_rate: object,
    timeout: object,
    key: object,
    progress: object = None,
    slots: object = None,
) -> None:
    """Every bad argument of `search_many`, in one `RequestValidationError`, before any call."""
    errors: list[FieldError] = []
    if isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int) or max_in_flight < 1:
        errors.append(
            FieldError("max_in_flight", f"{shown(max_in_flight)} is not an int >= 1", "int >= 1")
        )
    elif max_in_flight > DEFAULT_JOB_QUOTA:
        logger.warning(
            "max_in_flight=%d is above the default quota of %d concurrent jobs: "
            "make sure the account's quota was raised",
            max_in_flight,
            DEFAULT_JOB_QUOTA,
        )
    for name, value in (("start_rate", start_rate), ("status_rate", status_rate)):
        if not is_finite_number(value) or not value > 0:  # type: ignore[operator]
            errors.append(FieldError(name, f"{shown(value)} is not a positive rate", "finite, > 0"))
    if timeout is not None and (not is_finite_number(timeout) or not timeout > 0):  # type: ignore[operator]
        errors.append(FieldError("timeout", f"{shown(timeout)} is not positive", "finite, > 0"))
    if key is not None and (not isinstance(key, str) or not key):
        errors.append(FieldError("key", f"{shown(key)} is not a non-empty str", "str"))
    if progress is not None and not callable(progress):
        errors.append(FieldError("progress", f"{shown(progress)} is not callable", "callable"))
    if slots is not None and not all(
        callable(getattr(slots, name, None)) for name in ("acquire", "renew", "release", "held")
    ):
        errors.append(
            FieldError("slots", f"{shown(slots)} is not a SlotStore", "acquire/renew/release/held")
        )
    raise_if_any(errors)


def not_a_request(index: int, item: object) -> RequestValidationError:
    """The error of an input item that is not a `FaceSearchRequest` (its own outcome)."""
    field = FieldError(
        f"requests[{index}]",
        f"must be a FaceSearchRequest, not {type(item).__name__}",
        "FaceSearchRequest",
    )
    return RequestValidationError([field])
