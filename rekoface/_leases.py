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
