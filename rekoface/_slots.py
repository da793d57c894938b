"""Filling frozen slotted attrs instances without their ``__init__``: the parsers' fast path.

attrs' ``__init__`` of a frozen class sets each field through ``object.__setattr__``
with keyword handling around it; a slot descriptor's own ``__set__`` is about half
the cost. The parsers of service output (never user input: nothing is validated)
build their models with `new` and these setters.

This module imports nothing of the package.
"""

from __future__ import annotations

from collections.abc import Callable

new = object.__new__
set_attribute = object.__setattr__
get_attribute = object.__getattribute__


def setters(cls: type, *names: str) -> tuple[Callable[[object, object], None], ...]:
    """The slot descriptors' setters of `names` on the slotted class `cls`, in that order."""
    return tuple(vars(cls)[name].__set__ for name in names)
