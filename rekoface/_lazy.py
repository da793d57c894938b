"""How the result models are built fast: slot setters, and parsing on first access.

attrs' ``__init__`` of a frozen class sets each field through ``object.__setattr__``
with keyword handling around it; a slot descriptor's own ``__set__`` is about half
the cost. The parsers of service output (never user input: nothing is validated)
build their models with `new` and `setters`, and leave what is costly and often
unread as unset slots that `Lazy` or `LazyFields` fill on first access.

This module imports nothing of the package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

new = object.__new__
get_attribute = object.__getattribute__


def setters(cls: type, *names: str) -> tuple[Callable[[object, object], None], ...]:
    """The slot descriptors' setters of `names` on the slotted class `cls`, in that order."""
    return tuple(vars(cls)[name].__set__ for name in names)


def _no_attribute(obj: object, name: str) -> AttributeError:
    return AttributeError(f"{type(obj).__name__!r} object has no attribute {name!r}")


class Lazy:
    """Base of models that keep their raw dict and parse all their lazy fields at once.

    The lazy fields are real attrs slots left unset; reading an unset slot falls back
    to ``__getattr__``, which parses every lazy field of the object (`_materialize`),
    stores them, and drops the raw dict. Later reads are plain slot reads.
    """

    __slots__ = ("_raw",)

    _lazy_fields: ClassVar[frozenset[str]] = frozenset()

    def _materialize(self, raw: Mapping[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    if not TYPE_CHECKING:  # pragma: no branch - hidden from type checkers (typos stay errors)

        def __getattr__(self, name: str) -> Any:
            if name in self._lazy_fields:
                raw = self._raw
                if raw is not None:
                    self._materialize(raw)
                    SET_RAW(self, None)
                # Another thread may have parsed it meanwhile: read the slot, never recurse.
                return get_attribute(self, name)
            raise _no_attribute(self, name)


(SET_RAW,) = setters(Lazy, "_raw")


class LazyFields:
    """Base of models with many parts, each parsed from its raw dict on its own first access.

    `_parsers` maps a field to (the API's key, its parser, the slot's setter). The raw
    dict stays referenced (it is part of the page the caller already holds).
    """

    __slots__ = ("_raw_fields",)

    _parsers: ClassVar[Mapping[str, tuple[str, Callable[[Any], Any], Callable[[Any, Any], None]]]]

    if not TYPE_CHECKING:  # pragma: no branch - hidden from type checkers

        def __getattr__(self, name: str) -> Any:
            entry = self._parsers.get(name)
            if entry is None:
                raise _no_attribute(self, name)
            key, parse, set_field = entry
            value = parse(self._raw_fields.get(key))
            set_field(self, value)  # two threads may both parse it: to equal values
            return value


(SET_RAW_FIELDS,) = setters(LazyFields, "_raw_fields")

#: (the API's key, its parser, the slot's setter) of one lazily parsed field.
FieldParser = tuple[str, Callable[[Any], Any], Callable[[Any, Any], None]]


def lazy_fields(cls: type[LazyFields], parsers: Mapping[str, FieldParser]) -> None:
    """Declare how `cls` parses each of its lazy fields on first access."""
    cls._parsers = parsers  # pyright: ignore[reportPrivateUsage] - the class's own table


def record_parser(cls: type, keys: Mapping[str, str]) -> Callable[[Any], Any]:
    """A parser of the API's dict into `cls`: each field (a slot) from its key of `keys`.

    ``None`` gives ``None``; a missing key, a ``None`` field. Written out as source and
    compiled once (as attrs writes its ``__init__``): the straight-line code of a hand-
    written parser, a slot setter per field, with no loop over the fields at parse time.
    """
    names = {f"_set_{i}": setter for i, setter in enumerate(setters(cls, *keys))}
    lines = [
        "def parse(raw):",
        "    if raw is None:",
        "        return None",
        "    get = raw.get",
        "    obj = new(cls)",
        *(f"    _set_{i}(obj, get({key!r}))" for i, key in enumerate(keys.values())),
        "    return obj",
    ]
    namespace: dict[str, Any] = {"new": new, "cls": cls, **names}
    exec(compile("\n".join(lines), f"<rekoface parser of {cls.__qualname__}>", "exec"), namespace)  # noqa: S102 - our own fixed source
    parse: Callable[[Any], Any] = namespace["parse"]
    parse.__qualname__ = parse.__name__ = f"parse_{cls.__name__.lower()}"
    return parse
