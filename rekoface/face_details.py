"""What the service detected about a face in the video: `FaceDetail` and its parts.

`PersonMatch.person.face` is parsed on first access (see `rekoface.matches`), and each
of its other parts (landmarks, quality, ...) on its own first access: a loop that
reads the confidence, box and pose does not pay for building every landmark. Parts are built
without attrs' ``__init__`` (through the slots' own setters, several times cheaper
for these many small objects), since the data is the service's and never validated.
Missing parts are `None`, absent lists empty tuples.

This module imports nothing of the package (but its private slot setters).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._lazy import SET_RAW_FIELDS, LazyFields, lazy_fields, new, setters

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

_BOX_WIDTH, _BOX_HEIGHT, _BOX_LEFT, _BOX_TOP = setters(
    BoundingBox, "width", "height", "left", "top"
)
_AGE_LOW, _AGE_HIGH = setters(AgeRange, "low", "high")
_ATTRIBUTE_VALUE, _ATTRIBUTE_CONFIDENCE = setters(FaceAttribute, "value", "confidence")
_GENDER_VALUE, _GENDER_CONFIDENCE = setters(Gender, "value", "confidence")
_EMOTION_TYPE, _EMOTION_CONFIDENCE = setters(Emotion, "type", "confidence")
_LANDMARK_TYPE, _LANDMARK_X, _LANDMARK_Y = setters(Landmark, "type", "x", "y")
_POSE_ROLL, _POSE_YAW, _POSE_PITCH = setters(Pose, "roll", "yaw", "pitch")
_QUALITY_BRIGHTNESS, _QUALITY_SHARPNESS = setters(ImageQuality, "brightness", "sharpness")
_EYES_YAW, _EYES_PITCH, _EYES_CONFIDENCE = setters(EyeDirection, "yaw", "pitch", "confidence")


def parse_bounding_box(raw: Mapping[str, Any] | None) -> BoundingBox | None:
    """A `BoundingBox` from the API's dict (`None` if absent)."""
    if raw is None:
        return None
    get = raw.get
    box = new(BoundingBox)
    _BOX_WIDTH(box, get("Width"))
    _BOX_HEIGHT(box, get("Height"))
    _BOX_LEFT(box, get("Left"))
    _BOX_TOP(box, get("Top"))
    return box


def _landmark(raw: Mapping[str, Any]) -> Landmark:
    get = raw.get
    landmark = new(Landmark)
    _LANDMARK_TYPE(landmark, get("Type"))
    _LANDMARK_X(landmark, get("X"))
    _LANDMARK_Y(landmark, get("Y"))
    return landmark


def _emotion(raw: Mapping[str, Any]) -> Emotion:
    emotion = new(Emotion)
    _EMOTION_TYPE(emotion, raw.get("Type"))
    _EMOTION_CONFIDENCE(emotion, raw.get("Confidence"))
    return emotion


def _pose(raw: Mapping[str, Any] | None) -> Pose | None:
    if raw is None:
        return None
    get = raw.get
    pose = new(Pose)
    _POSE_ROLL(pose, get("Roll"))
    _POSE_YAW(pose, get("Yaw"))
    _POSE_PITCH(pose, get("Pitch"))
    return pose


def _quality(raw: Mapping[str, Any] | None) -> ImageQuality | None:
    if raw is None:
        return None
    quality = new(ImageQuality)
    _QUALITY_BRIGHTNESS(quality, raw.get("Brightness"))
    _QUALITY_SHARPNESS(quality, raw.get("Sharpness"))
    return quality


def _attribute(raw: Mapping[str, Any] | None) -> FaceAttribute | None:
    if raw is None:
        return None
    attribute = new(FaceAttribute)
    _ATTRIBUTE_VALUE(attribute, raw.get("Value"))
    _ATTRIBUTE_CONFIDENCE(attribute, raw.get("Confidence"))
    return attribute


def _age_range(raw: Mapping[str, Any] | None) -> AgeRange | None:
    if raw is None:
        return None
    age = new(AgeRange)
    _AGE_LOW(age, raw.get("Low"))
    _AGE_HIGH(age, raw.get("High"))
    return age


def _gender(raw: Mapping[str, Any] | None) -> Gender | None:
    if raw is None:
        return None
    gender = new(Gender)
    _GENDER_VALUE(gender, raw.get("Value"))
    _GENDER_CONFIDENCE(gender, raw.get("Confidence"))
    return gender


def _eye_direction(raw: Mapping[str, Any] | None) -> EyeDirection | None:
    if raw is None:
        return None
    get = raw.get
    eyes = new(EyeDirection)
    _EYES_YAW(eyes, get("Yaw"))
    _EYES_PITCH(eyes, get("Pitch"))
    _EYES_CONFIDENCE(eyes, get("Confidence"))
    return eyes


def _emotions(raw: list[Mapping[str, Any]] | None) -> tuple[Emotion, ...]:
    return tuple([_emotion(e) for e in raw]) if raw else ()


def _landmarks(raw: list[Mapping[str, Any]] | None) -> tuple[Landmark, ...]:
    return tuple([_landmark(m) for m in raw]) if raw else ()


#: How each part of a `FaceDetail` is parsed: field -> (the API's key, parser).
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
lazy_fields(
    FaceDetail,
    {name: (key, parse, setters(FaceDetail, name)[0]) for name, (key, parse) in _PARTS.items()},
)
_SET_CONFIDENCE, _SET_BOX, _SET_POSE = setters(FaceDetail, "confidence", "bounding_box", "pose")


def parse_face_detail(raw: Mapping[str, Any] | None) -> FaceDetail | None:
    """A `FaceDetail` from the API's ``FaceDetail`` dict (`None` if absent).

    The parts most loops read (confidence, bounding box, pose) are parsed now; each
    other part when it is first read.
    """
    if raw is None:
        return None
    get = raw.get
    detail = new(FaceDetail)
    _SET_CONFIDENCE(detail, get("Confidence"))
    _SET_BOX(detail, parse_bounding_box(get("BoundingBox")))
    _SET_POSE(detail, _pose(get("Pose")))
    SET_RAW_FIELDS(detail, raw)
    return detail
