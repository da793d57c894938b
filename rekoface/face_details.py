"""What the service detected about a face in the video: `FaceDetail` and its parts.

`PersonMatch.person.face` is parsed on first access (see `rekoface.matches`), and each
of its other parts (landmarks, quality, ...) on its own first access: a loop that
reads the confidence, box and pose does not pay for building every landmark. Parts are built
without attrs' ``__init__`` (through builders, several times cheaper for these many
small objects: see `rekoface._lazy`), since the data is the service's and never validated.
Missing parts are `None`, absent lists empty tuples.

This module imports nothing of the package (but its private builders and slot setters).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._lazy import LazyFields, builder, lazy_fields, record_parser

__all__ = [
    "AgeRange",
    "BoundingBox",
    "Emotion",
    "EyeDirection",
    "FaceAttribute",
    "FaceDetail",
    "Gender",
    "ImageQuality",
    "Landmark",
    "Pose",
    "parse_bounding_box",
    "parse_face_detail",
]


@attrs.frozen
class BoundingBox:
    """A box as ratios of the frame's width and height (``left``/``top`` may be negative)."""

    width: float | None = None
    height: float | None = None
    left: float | None = None
    top: float | None = None


@attrs.frozen
class AgeRange:
    """The estimated age range, in years."""

    low: int | None = None
    high: int | None = None


@attrs.frozen
class FaceAttribute:
    """A yes/no facial attribute (smile, eyeglasses, beard, ...) and the confidence in it."""

    value: bool | None = None
    confidence: float | None = None


@attrs.frozen
class Gender:
    """The predicted gender (``Male`` or ``Female``) and the confidence in it."""

    value: str | None = None
    confidence: float | None = None


@attrs.frozen
class Emotion:
    """An emotion (``HAPPY``, ``CALM``, ...) and the confidence in it."""

    type: str | None = None
    confidence: float | None = None


@attrs.frozen
class Landmark:
    """A facial landmark (``eyeLeft``, ``nose``, ...) as ratios of the frame's size."""

    type: str | None = None
    x: float | None = None
    y: float | None = None


@attrs.frozen
class Pose:
    """The face's rotation, in degrees."""

    roll: float | None = None
    yaw: float | None = None
    pitch: float | None = None


@attrs.frozen
class ImageQuality:
    """Brightness and sharpness of the face's image (0-100)."""

    brightness: float | None = None
    sharpness: float | None = None


@attrs.frozen
class EyeDirection:
    """Where the eyes look, in degrees, and the confidence in it."""

    yaw: float | None = None
    pitch: float | None = None
    confidence: float | None = None


@attrs.frozen
class FaceDetail(LazyFields):
    """A face the service detected in the video, with every attribute the API documents."""

    bounding_box: BoundingBox | None = None
    age_range: AgeRange | None = None
    smile: FaceAttribute | None = None
    eyeglasses: FaceAttribute | None = None
    sunglasses: FaceAttribute | None = None
    gender: Gender | None = None
    beard: FaceAttribute | None = None
    mustache: FaceAttribute | None = None
    eyes_open: FaceAttribute | None = None
    mouth_open: FaceAttribute | None = None
    emotions: tuple[Emotion, ...] = ()
    landmarks: tuple[Landmark, ...] = ()
    pose: Pose | None = None
    quality: ImageQuality | None = None
    confidence: float | None = None
    face_occluded: FaceAttribute | None = None
    eye_direction: EyeDirection | None = None


# --------------------------------------------------------------------------- parsing

#: A parser per part: each field from the API's key (`record_parser` writes them out).
parse_bounding_box: Callable[[Mapping[str, Any] | None], BoundingBox | None] = record_parser(
    BoundingBox, {"width": "Width", "height": "Height", "left": "Left", "top": "Top"}
)
parse_bounding_box.__doc__ = "A `BoundingBox` from the API's dict (`None` if absent)."
_age_range = record_parser(AgeRange, {"low": "Low", "high": "High"})
_attribute = record_parser(FaceAttribute, {"value": "Value", "confidence": "Confidence"})
_gender = record_parser(Gender, {"value": "Value", "confidence": "Confidence"})
_emotion = record_parser(Emotion, {"type": "Type", "confidence": "Confidence"})
_landmark = record_parser(Landmark, {"type": "Type", "x": "X", "y": "Y"})
_pose = record_parser(Pose, {"roll": "Roll", "yaw": "Yaw", "pitch": "Pitch"})
_quality = record_parser(ImageQuality, {"brightness": "Brightness", "sharpness": "Sharpness"})
_eye_direction = record_parser(
    EyeDirection, {"yaw": "Yaw", "pitch": "Pitch", "confidence": "Confidence"}
)


def _emotions(raw: list[Mapping[str, Any]] | None) -> tuple[Emotion, ...]:
    return tuple([_emotion(e) for e in raw]) if raw else ()


def _landmarks(raw: list[Mapping[str, Any]] | None) -> tuple[Landmark, ...]:
    return tuple([_landmark(m) for m in raw]) if raw else ()


#: How each part of a `FaceDetail` is parsed on its first read: field -> (the API's key, parser).
_PARTS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "age_range": ("AgeRange", _age_range),
    "smile": ("Smile", _attribute),
    "eyeglasses": ("Eyeglasses", _attribute),
    "sunglasses": ("Sunglasses", _attribute),
    "gender": ("Gender", _gender),
    "beard": ("Beard", _attribute),
    "mustache": ("Mustache", _attribute),
    "eyes_open": ("EyesOpen", _attribute),
    "mouth_open": ("MouthOpen", _attribute),
    "emotions": ("Emotions", _emotions),
    "landmarks": ("Landmarks", _landmarks),
    "quality": ("Quality", _quality),
    "face_occluded": ("FaceOccluded", _attribute),
    "eye_direction": ("EyeDirection", _eye_direction),
}
lazy_fields(FaceDetail, _PARTS)
_FACE_DETAIL = builder(FaceDetail)


def parse_face_detail(raw: Mapping[str, Any] | None) -> FaceDetail | None:
    """A `FaceDetail` from the API's ``FaceDetail`` dict (`None` if absent).

    The parts most loops read (confidence, bounding box, pose) are parsed now; each
    other part when it is first read.
    """
    if raw is None:
        return None
    detail = _FACE_DETAIL()
    try:  # the service sends all three: a subscript is cheaper than a `get` call
        detail.confidence = raw["Confidence"]
        detail.bounding_box = parse_bounding_box(raw["BoundingBox"])
        detail.pose = _pose(raw["Pose"])
    except KeyError:
        get = raw.get
        detail.confidence = get("Confidence")
        detail.bounding_box = parse_bounding_box(get("BoundingBox"))
        detail.pose = _pose(get("Pose"))
    detail._raw_fields = raw
    detail.__class__ = FaceDetail
    finished: FaceDetail = detail
    return finished
