"""The result models of a face search, parsed from ``GetFaceSearch``'s dicts lazily.

``GetFaceSearch`` answers with one page of person matches at a time. The models here
mirror the API's shapes with snake_case names and are built for speed: botocore's
own parsing of a page costs tens of microseconds per person, so a `PersonMatch` is
built from the raw dict in a few hundred nanoseconds and parses its nested parts
(``person``, ``face_matches``, ``person.face``) on first access. To users they are
plain frozen attrs fields: equality, hashing, ``repr``, `attrs.asdict`, `attrs.evolve`,
copying and pickling all see the parsed values.

Parsing is lenient about what the service may leave out: unknown keys are ignored,
missing optional values are `None`, absent lists are empty tuples. The keys that make
a record what it is are required (the service always sends them, and the types say
so): ``Timestamp`` of a person match, and ``Similarity``, ``Face`` and ``Face.FaceId``
of a face match; a dict without them raises `KeyError` when that part is parsed.
Data the service produced is never validated.

`FaceDetail` and its parts live in `rekoface.face_details`. This module imports only
that of the package (and the private slot setters).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from ._slots import get_attribute, new, setters
from .face_details import BoundingBox, FaceDetail, parse_bounding_box, parse_face_detail

__all__ = ["Face", "FaceMatch", "PersonDetail", "PersonMatch", "parse_person_match"]


# --------------------------------------------------------------------------- plain models


@attrs.frozen
class Face:
    """A face stored in the collection, which a person in the video matched."""

    face_id: str
    bounding_box: BoundingBox | None = None
    image_id: str | None = None
    external_image_id: str | None = None
    confidence: float | None = None
    index_faces_model_version: str | None = None
    user_id: str | None = None


@attrs.frozen
class FaceMatch:
    """A collection face and how similar (percent) the person's face is to it."""

    similarity: float
    face: Face


# --------------------------------------------------------------------------- lazy models


class _Lazy:
    """Base of models that keep their raw dict and parse some fields on first access.

    The lazy fields are real attrs slots left unset; reading an unset slot falls back
    to ``__getattr__``, which parses every lazy field of the object at once, stores
    them, and drops the raw dict. Later reads are plain slot reads.
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
                    _SET_RAW(self, None)
                # Another thread may have parsed it meanwhile: read the slot, never recurse.
                return get_attribute(self, name)
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


@attrs.frozen
class PersonDetail(_Lazy):
    """A person tracked in the video: their index (stable across the video), box and face."""

    index: int | None = None
    bounding_box: BoundingBox | None = None
    face: FaceDetail | None = None

    _lazy_fields: ClassVar[frozenset[str]] = frozenset({"face"})

    def _materialize(self, raw: Mapping[str, Any]) -> None:
        _PERSON_FACE(self, parse_face_detail(raw.get("Face")))


@attrs.frozen
class PersonMatch(_Lazy):
    """A person seen at `timestamp` (milliseconds from the start) and the faces they match.

    `face_matches` may be empty: the person was tracked but matched no collection face
    (unless `FaceSearchResults` was given a ``min_similarity``, which skips those).
    """

    timestamp: int
    person: PersonDetail
    face_matches: tuple[FaceMatch, ...] = ()

    _lazy_fields: ClassVar[frozenset[str]] = frozenset({"person", "face_matches"})

    def _materialize(self, raw: Mapping[str, Any]) -> None:
        _SET_PERSON(self, _parse_person_detail(raw.get("Person")))
        _SET_FACE_MATCHES(self, _parse_face_matches(raw.get("FaceMatches")))


# --------------------------------------------------------------------------- parsing

_FACE_ID, _FACE_BOX, _FACE_IMAGE, _FACE_EXTERNAL, _FACE_CONFIDENCE, _FACE_MODEL, _FACE_USER = (
    setters(
        Face,
        "face_id",
        "bounding_box",
        "image_id",
        "external_image_id",
        "confidence",
        "index_faces_model_version",
        "user_id",
    )
)
_MATCH_SIMILARITY, _MATCH_FACE = setters(FaceMatch, "similarity", "face")
_PERSON_INDEX, _PERSON_BOX, _PERSON_FACE = setters(PersonDetail, "index", "bounding_box", "face")
_SET_TIMESTAMP, _SET_PERSON, _SET_FACE_MATCHES = setters(
    PersonMatch, "timestamp", "person", "face_matches"
)
(_SET_RAW,) = setters(_Lazy, "_raw")


def parse_person_match(raw: Mapping[str, Any]) -> PersonMatch:
    """A `PersonMatch` from one element of the response's ``Persons`` list.

    Only ``Timestamp`` is read now; ``Person`` and ``FaceMatches`` are parsed on first
    access of `PersonMatch.person` or `PersonMatch.face_matches`.
    """
    match = new(PersonMatch)
    _SET_TIMESTAMP(match, raw["Timestamp"])
    _SET_RAW(match, raw)
    return match


def _parse_person_detail(raw: Mapping[str, Any] | None) -> PersonDetail:
    detail = new(PersonDetail)
    if not raw:
        _PERSON_INDEX(detail, None)
        _PERSON_BOX(detail, None)
        _PERSON_FACE(detail, None)
        _SET_RAW(detail, None)
        return detail
    _PERSON_INDEX(detail, raw.get("Index"))
    _PERSON_BOX(detail, parse_bounding_box(raw.get("BoundingBox")))
    _SET_RAW(detail, raw)
    return detail


def _parse_face_matches(raw: Iterable[Mapping[str, Any]] | None) -> tuple[FaceMatch, ...]:
    if not raw:
        return ()
    return tuple([_parse_face_match(item) for item in raw])


def _parse_face_match(raw: Mapping[str, Any]) -> FaceMatch:
    data = raw["Face"]
    get = data.get
    face = new(Face)
    _FACE_ID(face, data["FaceId"])
    _FACE_BOX(face, parse_bounding_box(get("BoundingBox")))
    _FACE_IMAGE(face, get("ImageId"))
    _FACE_EXTERNAL(face, get("ExternalImageId"))
    _FACE_CONFIDENCE(face, get("Confidence"))
    _FACE_MODEL(face, get("IndexFacesModelVersion"))
    _FACE_USER(face, get("UserId"))
    match = new(FaceMatch)
    _MATCH_SIMILARITY(match, raw["Similarity"])
    _MATCH_FACE(match, face)
    return match
