"""Argument checks and limits shared by rekoface's slot stores (private)."""

from __future__ import annotations

from typing import Final

from ._validation import is_finite_number, raise_if_any, shown
from .errors import FieldError

#: The lease a batch asks for unless its store says otherwise (it renews at a third).
DEFAULT_LEASE_SECONDS: Final = 900.0
#: Longest lease either store grants: a billion seconds (about 31 years). Longer is a
#: mistake, and DynamoDB could not hold the expiry time as a number.
MAX_LEASE_SECONDS: Final = 1e9
#: The account's default ``StartFaceSearch`` rate, the stores' default shared start rate.
DEFAULT_START_RATE: Final = 5.0
#: Bounds of a shared start rate: one start in about 11.6 days up to a thousand a second
#: (its gap, ``1 / rate``, must stay a number DynamoDB can add to a time).
MIN_START_RATE: Final = 1e-6
MAX_START_RATE: Final = 1000.0
#: Added to each gap between start moments, so rounding of float times never puts two
#: starts closer than ``1 / start_rate`` (a microsecond: nothing a fleet could measure).
START_GAP_MARGIN: Final = 1e-6


def start_gap(rate: float) -> float:
    """Seconds between two start moments at `rate` starts a second."""
    return 1.0 / rate + START_GAP_MARGIN


def check_capacity(errors: list[FieldError], value: object) -> None:
    if type(value) is not int or value < 1:
        errors.append(FieldError("capacity", f"{shown(value)} is not an int >= 1", "int >= 1"))


def check_lease_seconds(errors: list[FieldError], value: object) -> None:
    number = value if is_finite_number(value) and isinstance(value, int | float) else None
    if number is None or not 0 < number <= MAX_LEASE_SECONDS:
        errors.append(
            FieldError(
                "lease_seconds",
                f"{shown(value)} is not a finite number > 0",
                f"finite, > 0, <= {MAX_LEASE_SECONDS:g}",
            )
        )


def check_start_rate(errors: list[FieldError], value: object) -> None:
    """`value` must be ``None`` (starts not shared) or a finite rate within the bounds."""
    if value is None:
        return
    number = value if is_finite_number(value) and isinstance(value, int | float) else None
    if number is None or not MIN_START_RATE <= number <= MAX_START_RATE:
        errors.append(
            FieldError(
                "start_rate",
                f"{shown(value)} is not a start rate",
                f"None, or finite, {MIN_START_RATE:g} <= rate <= {MAX_START_RATE:g}",
            )
        )


def rate_text(rate: float | None) -> str:
    """A start rate as a store's repr shows it."""
    return "None" if rate is None else f"{rate:g}"


def check_holder(holder: object) -> None:
    """One `RequestValidationError` if `holder` is not a non-empty text."""
    errors: list[FieldError] = []
    check_text(errors, "holder", holder)
    raise_if_any(errors)


def check_text(errors: list[FieldError], path: str, value: object) -> None:
    """`value` must be a non-empty `str` that is Unicode text (no lone surrogate)."""
    if not isinstance(value, str):
        errors.append(FieldError(path, f"must be a str, not {type(value).__name__}", "str"))
    elif not value:
        errors.append(FieldError(path, "must not be empty", "non-empty str"))
    else:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            errors.append(FieldError(path, "holds a lone surrogate", "UTF-8 text"))


def check_callable(errors: list[FieldError], path: str, value: object) -> None:
    if not callable(value):
        errors.append(FieldError(path, f"{shown(value)} is not callable", "callable"))


def check_call(
    *, holder: object, lease_seconds: object = DEFAULT_LEASE_SECONDS, slot_id: object = "0"
) -> None:
    """One `RequestValidationError` for every bad argument of one store call."""
    errors: list[FieldError] = []
    check_text(errors, "slot_id", slot_id)
    check_text(errors, "holder", holder)
    check_lease_seconds(errors, lease_seconds)
    raise_if_any(errors)
