"""Small named checks that collect failures instead of stopping at the first.

Each check appends `FieldError`s to a list; the caller raises one
`RequestValidationError` with all of them, so a user fixes a request in one go.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence

from ._constraints import CONSTRAINTS
from .errors import FieldError, RequestValidationError


def shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_unicode(value: str) -> bool:
    """Whether `value` encodes as UTF-8 (a lone surrogate such as ``"\\udcff"`` does not)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _string_passes(path: str) -> Callable[[object], bool]:
    """Whether a value passes `path`'s string rule: `check_string`'s quick yes, no message."""
    rule = CONSTRAINTS[path]
    low = int(rule.min) if rule.min is not None else 0
    high = int(rule.max) if rule.max is not None else sys.maxsize
    compiled = rule.compiled
    fullmatch = compiled.fullmatch if compiled is not None else None
    allowed = frozenset(rule.enum) if rule.enum is not None else None

    def passes(value: object) -> bool:
        return (
            type(value) is str
            and low <= len(value) <= high
            and (fullmatch is None or fullmatch(value) is not None)
            and (allowed is None or value in allowed)
            and (value.isascii() or _is_unicode(value))
        )

    return passes


class _Checks(dict[str, Callable[[object], bool]]):
    """One pass/fail check per string rule, each built (its pattern compiled) on first use."""

    def __missing__(self, path: str) -> Callable[[object], bool]:
        passes = self[path] = _string_passes(path)  # two threads may both build it: alike
        return passes


#: The quick check of each string rule; messages are built only on failure.
_PASSES = _Checks()


def string_passes(path: str) -> Callable[[object], bool]:
    """`path`'s quick check. A model runs these on every field first and collects
    messages (`check_string`) only when one fails: a valid request builds no list."""
    return _PASSES[path]


def number_passes(path: str) -> Callable[[object], bool]:
    """Whether a value passes `path`'s number rule: `check_number`'s quick yes."""
    rule = CONSTRAINTS[path]
    # A NaN fails every comparison; an infinity, or an int past a float's range, the bounds.
    low = rule.min if rule.min is not None else -sys.float_info.max
    high = rule.max if rule.max is not None else sys.float_info.max

    def passes(value: object) -> bool:
        kind = type(value)
        return (kind is float or kind is int) and low <= value <= high  # type: ignore[operator]

    return passes


def check_string(errors: list[FieldError], path: str, value: object) -> None:
    """`value` must be a `str` within the length bounds and pattern of `path`'s rule."""
    if _PASSES[path](value):
        return
    rule = CONSTRAINTS[path]
    if not isinstance(value, str):
        errors.append(FieldError(path, f"must be a str, not {type(value).__name__}", "str"))
        return
    if not _is_unicode(value):
        errors.append(
            FieldError(path, "holds a lone surrogate, so it is not Unicode text", "UTF-8 text")
        )
        return
    if rule.min is not None and len(value) < rule.min:
        problem = "must not be empty" if not value else f"is {len(value)} characters long"
        errors.append(FieldError(path, problem, f"length >= {int(rule.min)}"))
        return
    if rule.max is not None and len(value) > rule.max:
        errors.append(
            FieldError(path, f"is {len(value)} characters long", f"length <= {int(rule.max)}")
        )
        return
    compiled = rule.compiled
    if compiled is not None and compiled.fullmatch(value) is None:
        errors.append(FieldError(path, f"{shown(value)} does not match", f"{rule.pattern}"))
    if rule.enum is not None and value not in rule.enum:
        errors.append(FieldError(path, f"{shown(value)} is not allowed", rule.describe()))


def is_finite_number(value: object) -> bool:
    """An `int` or `float` (never `bool`) that a float can hold: finite, and not so huge
    that converting it raises `OverflowError` (``math.isfinite(10**400)`` does)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    # An int compares with a float exactly, without converting: no OverflowError.
    return isinstance(value, int) and -sys.float_info.max <= value <= sys.float_info.max


def check_number(errors: list[FieldError], path: str, value: object) -> None:
    """`value` must be a finite `int` or `float` (not `bool`) within `path`'s bounds."""
    rule = CONSTRAINTS[path]
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(
            FieldError(path, f"must be a number, not {type(value).__name__}", "int or float")
        )
        return
    if not is_finite_number(value):
        errors.append(FieldError(path, f"{shown(value)} is not a finite number", "finite"))
        return
    low_ok = rule.min is None or value >= rule.min
    high_ok = rule.max is None or value <= rule.max
    if not (low_ok and high_ok):
        errors.append(FieldError(path, f"{value!r} is out of range", rule.describe()))


def check_type(errors: list[FieldError], path: str, value: object, expected: type) -> bool:
    """Record a failure unless `value` is an `expected`; say whether it is."""
    if isinstance(value, expected):
        return True
    errors.append(
        FieldError(
            path, f"must be a {expected.__name__}, not {type(value).__name__}", expected.__name__
        )
    )
    return False


def raise_if_any(errors: Sequence[FieldError]) -> None:
    """Raise one `RequestValidationError` listing every failure, if there are any."""
    if errors:
        raise RequestValidationError(list(errors))
