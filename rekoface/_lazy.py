"""How the result models are built fast: builders, and parsing on first access.

attrs' ``__init__`` of a frozen class sets each field through ``object.__setattr__``,
a call that packs its arguments into a tuple; a slot descriptor's own ``__set__`` is
the same kind of call. The parsers of service output (never user input: nothing is
validated) build their models as instances of a `builder`: a subclass with the same
layout that takes plain attribute stores (the interpreter's specialised slot store, a
tenth of a call), turned into the frozen class with one ``__class__`` assignment once
filled. What is costly and often unread stays an unset slot that `Lazy` or
`LazyFields` fill on first access (with `setters`: the object is frozen by then).

This module imports nothing of the package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

new = object.__new__
get_attribute = object.__getattribute__


def setters(cls: type, *names: str) -> tuple[Callable[[object, object], None], ...]:
    """The slot descriptors' setters of `names` on the slotted class `cls`, in that order."""
    return tuple(vars(cls)[name].__set__ for name in names)


def builder(cls: type) -> Any:
    """A subclass of the frozen slotted `cls` that takes plain attribute stores.

    It adds no slot, so an instance filled through it becomes a `cls` with
    ``obj.__class__ = cls`` (the layouts match); nothing else ever sees a builder.
    Both ``__setattr__`` and ``__delattr__`` are `object`'s, so the type's attribute
    store is the generic one, which the interpreter specialises per slot.
    """
    namespace = {
        "__slots__": (),
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,
    }
    return type(f"{cls.__name__}Builder", (cls,), namespace)


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
    written parser, a store per field into a `builder`, with no loop over the fields.
    The service sends every key of these small records, so each is read by subscript
    (cheaper than a ``get`` call); a record missing one is read again with ``get``.
    """
    unknown = sorted(set(keys) - {field.name for field in attrs.fields(cls)})
    if unknown:  # pragma: no cover - our own tables
        raise ValueError(f"{cls.__name__} has no field {unknown}")
    lines = [
        "def parse(raw):",
        "    if raw is None:",
        "        return None",
        "    obj = new(builder)",
        "    try:",
        *(f"        obj.{name} = raw[{key!r}]" for name, key in keys.items()),
        "    except KeyError:",
        "        get = raw.get",
        *(f"        obj.{name} = get({key!r})" for name, key in keys.items()),
        "    obj.__class__ = cls",
        "    return obj",
    ]
    namespace: dict[str, Any] = {"new": new, "cls": cls, "builder": builder(cls)}
    exec(compile("\n".join(lines), f"<rekoface parser of {cls.__qualname__}>", "exec"), namespace)  # noqa: S102 - our own fixed source
    parse: Callable[[Any], Any] = namespace["parse"]
    parse.__qualname__ = parse.__name__ = f"parse_{cls.__name__.lower()}"
    return parse
