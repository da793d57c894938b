"""How the result models are built fast: builders, and parsing on first access.

attrs' ``__init__`` of a frozen class sets each field through ``object.__setattr__``,
a call that packs its arguments into a tuple; a slot descriptor's own ``__set__`` is
the same kind of call. The parsers of service output (never user input: nothing is
validated) build their models as instances of a `builder`: a subclass with the same
layout that takes plain attribute stores (the interpreter's specialised slot store, a
tenth of a call), turned into the frozen class with one ``__class__`` assignment once
filled. What is costly and often unread stays a slot not parsed yet, filled on its
first read (the object is frozen by then): by a property per field (`lazy_fields`),
or by the `Lazy` base's ``__getattr__``.

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
    store is the generic one, which the interpreter specialises per slot; so is
    ``__init__``, so ``Builder()`` makes an empty one (a quarter cheaper than
    ``object.__new__(Builder)``, which copies its arguments into a new tuple).
    """
    namespace = {
        "__slots__": (),
        "__init__": object.__init__,
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,
    }
    return type(f"{cls.__name__}Builder", (cls,), namespace)


class _Unset:
    """The value of a lazy slot not parsed yet (`UNSET`): never seen outside its getter."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"


#: What a builder may store in a lazy slot (see `lazy_fields`) to make its first read cheap.
UNSET: Any = _Unset()


def slot_name(name: str) -> str:
    """The class attribute under which `lazy_fields` keeps the field `name`'s own slot."""
    return f"_slot_{name}"


def _lazy_slot(cls: type, name: str, key: str, parse: Callable[[Any], Any]) -> None:
    """Make the slot `name` of the `LazyFields` class `cls` parse ``raw[key]`` (its raw
    dict's) with `parse` on its first read, and keep the value.

    The field's slot descriptor stays on the class as `slot_name` (builders store into
    it) and ``cls.name`` becomes a property that reads it. A slot either unset or
    holding `UNSET` is not parsed yet: unset costs a builder nothing but the first read
    an `AttributeError`; `UNSET` costs one store and makes that read cheap. Only the
    lazy fields pay for a property: every other field stays a plain slot, which the
    interpreter reads at its fastest (up to Python 3.11, a class with a ``__getattr__``
    has every read take the slow path). Two threads may both parse a field: to equal
    values.
    """
    slot = vars(cls)[name]
    alias = slot_name(name)
    source = "\n".join(
        [
            "def read(self):",
            "    try:",
            f"        value = self.{alias}",
            "    except AttributeError:",
            "        value = unset",
            "    if value is unset:",
            "        value = parse(self._raw_fields.get(key))",
            "        store(self, value)",
            "    return value",
        ]
    )
    namespace: dict[str, Any] = {"unset": UNSET, "parse": parse, "key": key, "store": slot.__set__}
    exec(compile(source, f"<rekoface lazy {cls.__qualname__}.{name}>", "exec"), namespace)  # noqa: S102 - our own fixed source
    read = namespace["read"]
    read.__qualname__ = f"{cls.__qualname__}.{name}"
    setattr(cls, alias, slot)
    setattr(cls, name, property(read, slot.__set__, slot.__delete__))


def _no_attribute(obj: object, name: str) -> AttributeError:
    return AttributeError(f"{type(obj).__name__!r} object has no attribute {name!r}")


class Lazy:
    """Base of models that keep their raw dict and parse all their lazy fields at once.

    Their lazy fields are slots left unset; reading an unset slot falls back to
    ``__getattr__``, which parses every lazy field of the object (`_materialize`),
    stores them, and drops the raw dict. For a model whose fields every loop reads
    (`PersonMatch`): on Python 3.12 and later reading a set slot costs the same with a
    ``__getattr__`` as without, where a `lazy_fields` property would cost a call per read.
    """

    __slots__ = ("_raw",)
    _raw: Mapping[str, Any] | None

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


def lazy(cls: type[Lazy], *names: str) -> None:
    """Declare the fields `names` of `cls` parsed together from its raw dict on first read."""
    cls._lazy_fields = frozenset(names)  # pyright: ignore[reportPrivateUsage] - the class's own


class LazyFields:
    """Base of models with many parts, each parsed from its raw dict on its own first read.

    The raw dict stays referenced (it is part of the page the caller already holds).
    """

    __slots__ = ("_raw_fields",)


#: (the API's key, its parser) of one lazily parsed field.
FieldParser = tuple[str, Callable[[Any], Any]]


def lazy_fields(cls: type[LazyFields], parsers: Mapping[str, FieldParser]) -> None:
    """Declare how `cls` parses each of its lazy fields, on its own first read."""
    for name, (key, parse) in parsers.items():
        _lazy_slot(cls, name, key, parse)


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
        "    obj = builder()",
        "    try:",
        *(f"        obj.{name} = raw[{key!r}]" for name, key in keys.items()),
        "    except KeyError:",
        "        get = raw.get",
        *(f"        obj.{name} = get({key!r})" for name, key in keys.items()),
        "    obj.__class__ = cls",
        "    return obj",
    ]
    namespace: dict[str, Any] = {"cls": cls, "builder": builder(cls)}
    exec(compile("\n".join(lines), f"<rekoface parser of {cls.__qualname__}>", "exec"), namespace)  # noqa: S102 - our own fixed source
    parse: Callable[[Any], Any] = namespace["parse"]
    parse.__qualname__ = parse.__name__ = f"parse_{cls.__name__.lower()}"
    return parse
