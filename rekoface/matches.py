"""The result models of a face search, parsed from ``GetFaceSearch``'s dicts lazily.

``GetFaceSearch`` answers with one page of person matches at a time. The models here
mirror the API's shapes with snake_case names and are built for speed: botocore's
own parsing of a page costs tens of microseconds per person, so a `PersonMatch` is
built from the raw dict in a few hundred nanoseconds and parses its nested parts
(``person``, ``face_matches``, bounding boxes, ``person.face`` and each of its
parts) on first access. To users they are
plain frozen attrs fields: equality, hashing, ``repr``, `attrs.asdict`, `attrs.evolve`,
copying and pickling all see the parsed values.

Parsing is lenient about what the service may leave out: unknown keys are ignored,
missing optional values are `None`, absent lists are empty tuples. The keys that make
a record what it is are required (the service always sends them, and the types say
so): ``Timestamp`` of a person match, and ``Similarity``, ``Face`` and ``Face.FaceId``
of a face match; a dict without them raises `KeyError` when that part is parsed.
Data the service produced is never validated.

`FaceDetail` and its parts live in `rekoface.face_details`. This module imports only
that of the package (and the private builders and slot setters).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ._lazy import UNSET, Lazy, LazyFields, builder, lazy, lazy_fields, setters
from .face_details import BoundingBox, FaceDetail, parse_bounding_box, parse_face_detail

__all__ = [
    "Face",
    "FaceMatch",
    "PersonDetail",
    "PersonMatch",
    "parse_person_match",
    "parse_person_match_now",
]


# --------------------------------------------------------------------------- models


@attrs.frozen
class Face(LazyFields):
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


@attrs.frozen
class PersonDetail(LazyFields):
    """A person tracked in the video: their index (stable across the video), box and face."""

    index: int | None = None
    bounding_box: BoundingBox | None = None
    face: FaceDetail | None = None


@attrs.frozen
class PersonMatch(Lazy):
    """A person seen at `timestamp` (milliseconds from the start) and the faces they match.

    `face_matches` may be empty: the person was tracked but matched no collection face
    (unless `FaceSearchResults` was given a ``min_similarity``, which skips those).
    """

    timestamp: int
    person: PersonDetail
    face_matches: tuple[FaceMatch, ...] = ()

    def _materialize(self, raw: Mapping[str, Any]) -> None:
        _SET_PERSON(self, _parse_person_detail(raw.get("Person")))
        _SET_FACE_MATCHES(self, _parse_face_matches(raw.get("FaceMatches")))


# --------------------------------------------------------------------------- parsing

# Parsing fills builders (see `rekoface._lazy`), storing a `lazy_fields` field into its
# own slot (``_slot_face``, see `slot_name`). The setters are for what `_materialize`
# parses on first read, when the object is already frozen.
_SET_PERSON, _SET_FACE_MATCHES = setters(PersonMatch, "person", "face_matches")
lazy(PersonMatch, "person", "face_matches")
_FACE, _FACE_MATCH, _PERSON_DETAIL, _PERSON_MATCH = map(
    builder, (Face, FaceMatch, PersonDetail, PersonMatch)
)


def _as_is(value: object) -> object:
    return value


# Boxes, the face detail and a face's less used fields are parsed when first read:
# many loops never read them.
lazy_fields(
    Face,
    {
        "bounding_box": ("BoundingBox", parse_bounding_box),
        "image_id": ("ImageId", _as_is),
        "confidence": ("Confidence", _as_is),
        "index_faces_model_version": ("IndexFacesModelVersion", _as_is),
        "user_id": ("UserId", _as_is),
    },
)
lazy_fields(
    PersonDetail,
    {
        "bounding_box": ("BoundingBox", parse_bounding_box),
        "face": ("Face", parse_face_detail),
    },
)


def parse_person_match(raw: Mapping[str, Any]) -> PersonMatch:
    """A `PersonMatch` from one element of the response's ``Persons`` list.

    Only ``Timestamp`` is read now; ``Person`` and ``FaceMatches`` are parsed on first
    access of `PersonMatch.person` or `PersonMatch.face_matches`.
    """
    match = _PERSON_MATCH()
    match.timestamp = raw["Timestamp"]
    match._raw = raw
    match.__class__ = PersonMatch
    finished: PersonMatch = match
    return finished


def parse_person_match_now(raw: Mapping[str, Any]) -> PersonMatch:
    """A `PersonMatch` with its person and face matches parsed now (their parts stay lazy).

    What iteration yields: nearly every loop reads the face matches, and parsing
    them now costs less than the first-access fallback would.
    """
    match = _PERSON_MATCH()
    match.timestamp = raw["Timestamp"]
    match.person = _parse_person_detail(raw.get("Person"))
    match.face_matches = _parse_face_matches(raw.get("FaceMatches"))
    # `_raw` stays unset, as on a match built by its `__init__`: with every lazy field
    # set, nothing reads it.
    match.__class__ = PersonMatch
    finished: PersonMatch = match
    return finished


def _parse_person_detail(raw: Mapping[str, Any] | None) -> PersonDetail:
    detail = _PERSON_DETAIL()
    if not raw:
        detail.index = detail._slot_bounding_box = detail._slot_face = None
    else:
        detail.index = raw.get("Index")
        # `UNSET` (one store) spares the first read of the face an AttributeError.
        detail._slot_bounding_box = detail._slot_face = UNSET
        detail._raw_fields = raw
    detail.__class__ = PersonDetail
    finished: PersonDetail = detail
    return finished


def _parse_face_matches(raw: Iterable[Mapping[str, Any]] | None) -> tuple[FaceMatch, ...]:
    if not raw:
        return ()
    parsed: list[FaceMatch] = []
    for item in raw:  # one loop, no call per face match: this is the hot path
        data = item["Face"]
        face = _FACE()
        face.face_id = data["FaceId"]
        face.external_image_id = data.get("ExternalImageId")
        face._raw_fields = data
        face.__class__ = Face
        match = _FACE_MATCH()
        match.similarity = item["Similarity"]
        match.face = face
        match.__class__ = FaceMatch
        parsed.append(match)
    return tuple(parsed)
