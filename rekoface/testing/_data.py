"""Deterministic, service-shaped sample data: collection faces, person matches, metadata."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "DEFAULT_DURATION_MILLIS",
    "bounding_box",
    "make_faces",
    "make_persons",
    "normalise_persons",
    "pose",
    "quality",
    "video_metadata",
]

DEFAULT_DURATION_MILLIS = 60_000
_FRAME_MILLIS = 1000 / 29.97
_LANDMARKS = ("eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight")
#: Strangers the service sends with a `Person.Face` (23 of 77 in a real capture).
STRANGER_FACE_SHARE = 0.3


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def bounding_box(
    rng: random.Random,
    widths: tuple[float, float] = (0.05, 0.3),
    heights: tuple[float, float] = (0.1, 0.4),
) -> dict[str, float]:
    """A `BoundingBox` inside the frame, its size drawn from `widths` and `heights`."""
    width = round(rng.uniform(*widths), 6)
    height = round(rng.uniform(*heights), 6)
    return {
        "Width": width,
        "Height": height,
        "Left": round(rng.uniform(0.0, 1.0 - width), 6),
        "Top": round(rng.uniform(0.0, 1.0 - height), 6),
    }


def pose(rng: random.Random, roll: float, yaw: float, pitch: float) -> dict[str, float]:
    """A `Pose` within these many degrees either way."""
    return {
        "Roll": round(rng.uniform(-roll, roll), 4),
        "Yaw": round(rng.uniform(-yaw, yaw), 4),
        "Pitch": round(rng.uniform(-pitch, pitch), 4),
    }


def quality(rng: random.Random, brightness: float, sharpness: float) -> dict[str, float]:
    """An `ImageQuality`: brightness from `brightness` to 90, sharpness from `sharpness` to 95."""
    return {
        "Brightness": round(rng.uniform(brightness, 90), 4),
        "Sharpness": round(rng.uniform(sharpness, 95), 4),
    }


def make_faces(
    rng: random.Random, faces: int | Sequence[str | Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Faces of a collection as `Face` dicts; a str is an ExternalImageId, a mapping overrides."""
    specs: Sequence[str | Mapping[str, Any]] = (
        [f"person-{i:03d}" for i in range(faces)] if isinstance(faces, int) else faces
    )
    made: list[dict[str, Any]] = []
    for spec in specs:
        face: dict[str, Any] = {
            "FaceId": _uuid(rng),
            "BoundingBox": bounding_box(rng),
            "ImageId": _uuid(rng),
            "Confidence": round(rng.uniform(99.0, 100.0), 4),
            "IndexFacesModelVersion": "7.0",
        }
        if isinstance(spec, str):
            face["ExternalImageId"] = spec
        else:
            face.update(spec)
        made.append(face)
    return made


def _face_detail(rng: random.Random, box: Mapping[str, float]) -> dict[str, Any]:
    return {
        "BoundingBox": dict(box),
        "Confidence": round(rng.uniform(90.0, 100.0), 4),
        "Landmarks": [
            {"Type": kind, "X": round(rng.random(), 6), "Y": round(rng.random(), 6)}
            for kind in _LANDMARKS
        ],
        "Pose": pose(rng, 30, 45, 30),
        "Quality": quality(rng, 30, 20),
    }


def make_persons(
    rng: random.Random, count: int, faces: Sequence[Mapping[str, Any]], threshold: float
) -> list[dict[str, Any]]:
    """`count` detections of a handful of people, in timestamp order, shaped as the service
    sends them.

    Person ``i`` is the collection's face ``i`` unless ``i % 4 == 3`` or the collection has
    no face ``i``: those are strangers. A match has `FaceMatches` and a `Person.Face`; a
    stranger has no `FaceMatches` key at all, and mostly no `Person.Face` either (the
    service's own output: AWS's example, real captures). Every similarity is at least
    `threshold`, as the service returns only matches above it.
    """
    people = max(1, min(count, 5 + count // 100))
    duration = max(DEFAULT_DURATION_MILLIS, int(count * _FRAME_MILLIS) + 1000)
    step = (duration - 1000) / max(count, 1)
    persons: list[dict[str, Any]] = []
    strangers: list[dict[str, Any]] = []
    for j in range(count):
        index = rng.randrange(people)
        box = bounding_box(rng)
        person: dict[str, Any] = {"Timestamp": int(j * step)}
        if index < len(faces) and index % 4 != 3:
            similarity = threshold + (100.0 - threshold) * rng.random()
            person["FaceMatches"] = [
                {"Similarity": round(similarity, 4), "Face": dict(faces[index])}
            ]
        detail = {"Index": index, "BoundingBox": box, "Face": _face_detail(rng, box)}
        person["Person"] = detail
        if "FaceMatches" not in person:
            strangers.append(detail)
        persons.append(person)
    for detail in strangers:  # after the rest, so a seed gives the persons it always gave
        if rng.random() >= STRANGER_FACE_SHARE:
            del detail["Face"]
    return persons


def normalise_persons(persons: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Given persons with what the service always sends filled in where left out
    (Timestamp j*1000, Person.Index j); nothing else is added, so a person given
    without `FaceMatches` or `Person.Face` is served without them, as the service does."""
    out: list[dict[str, Any]] = []
    for j, given in enumerate(persons):
        person = dict(given)
        person.setdefault("Timestamp", j * 1000)
        detail: dict[str, Any] = dict(person.get("Person") or {})
        detail.setdefault("Index", j)
        person["Person"] = detail
        out.append(person)
    return out


def video_metadata(persons: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Metadata of a video long enough to hold every detection."""
    last = max((int(p["Timestamp"]) for p in persons), default=0)
    return {
        "Codec": "h264",
        "DurationMillis": max(DEFAULT_DURATION_MILLIS, last + 1000),
        "Format": "QuickTime / MOV",
        "FrameRate": 29.97,
        "FrameHeight": 1080,
        "FrameWidth": 1920,
        "ColorRange": "LIMITED",
    }
