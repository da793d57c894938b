"""Everything a face collection decides, with no I/O (the `_core` of `FaceCollection`).

Argument checks (by the model's rules in `_constraints`, every failing field at once),
request building, and lenient parsing of the service's answers: a missing key in an
answer gives `None`, never an exception. The facade in `rekoface.collection` only
sequences the calls.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

from ._constraints import CONSTRAINTS, FACE_ID
from ._validation import check_string, raise_if_any, shown
from .errors import FieldError

if TYPE_CHECKING:
    from .collection import CollectionInfo, IndexResult, UnindexedFace
    from .results import BoundingBox, Face

__all__ = [
    "DELETE_BATCH",
    "LIST_PAGE",
    "collection_params",
    "delete_batches",
    "index_params",
    "parse_collection_info",
    "parse_face",
    "parse_index_result",
    "stale_duplicates",
]

#: Face ids per ``DeleteFaces`` call: the model's maximum length of ``FaceIds``.
DELETE_BATCH: Final = int(CONSTRAINTS["FaceIds"].max or 4096)
#: Faces per ``ListFaces`` page: one page is all `faces()` keeps in memory.
LIST_PAGE: Final = 1000


def collection_params(collection_id: object) -> dict[str, Any]:
    """``{"CollectionId": ...}``, the id checked by the model's rule."""
    errors: list[FieldError] = []
    check_string(errors, "CollectionId", collection_id)
    raise_if_any(errors)
    return {"CollectionId": collection_id}


def index_params(
    collection_id: str,
    image: object,
    *,
    external_image_id: object,
    max_faces: object,
    quality_filter: object,
) -> dict[str, Any]:
    """The ``IndexFaces`` parameters, every argument checked at once."""
    from .collection import S3Image

    errors: list[FieldError] = []
    if not isinstance(image, S3Image):
        errors.append(
            FieldError("Image", f"must be an S3Image, not {type(image).__name__}", "S3Image")
        )
    if external_image_id is not None:
        check_string(errors, "ExternalImageId", external_image_id)
    _check_int(errors, "MaxFaces", max_faces)
    check_string(errors, "QualityFilter", quality_filter)
    raise_if_any(errors)
    assert isinstance(image, S3Image)
    params: dict[str, Any] = {
        "CollectionId": collection_id,
        "Image": image.to_api(),
        "MaxFaces": max_faces,
        "QualityFilter": quality_filter,
    }
    if external_image_id is not None:
        params["ExternalImageId"] = external_image_id
    return params


def _check_int(errors: list[FieldError], path: str, value: object) -> None:
    rule = CONSTRAINTS[path]
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(FieldError(path, f"must be an int, not {type(value).__name__}", "int"))
    elif (rule.min is not None and value < rule.min) or (rule.max is not None and value > rule.max):
        errors.append(FieldError(path, f"{shown(value)} is out of range", rule.describe()))


def delete_batches(face_ids: object) -> list[list[str]]:
    """`face_ids` checked (each by the model's pattern) and cut into ``DeleteFaces`` batches.

    Duplicates are sent once; no ids give no batches (and no call).
    """
    errors: list[FieldError] = []
    if isinstance(face_ids, str | bytes) or not isinstance(face_ids, Iterable):
        raise_if_any(
            [
                FieldError(
                    "FaceIds",
                    f"must be an iterable of face id strings, not {type(face_ids).__name__}",
                    "iterable of str",
                )
            ]
        )
    ids: list[str] = []
    compiled = FACE_ID.compiled
    assert compiled is not None
    items: Iterable[object] = face_ids  # type: ignore[assignment]
    for i, face_id in enumerate(items):
        path = f"FaceIds[{i}]"
        if not isinstance(face_id, str):
            errors.append(FieldError(path, f"must be a str, not {type(face_id).__name__}", "str"))
        elif compiled.fullmatch(face_id) is None:
            errors.append(
                FieldError(path, f"{shown(face_id)} does not match", str(FACE_ID.pattern))
            )
        else:
            ids.append(face_id)
    raise_if_any(errors)
    unique = list(dict.fromkeys(ids))
    return [unique[i : i + DELETE_BATCH] for i in range(0, len(unique), DELETE_BATCH)]


# -- parsing (lenient: a missing key is None, never an exception) ---------------------------


def _mapping(value: object) -> Mapping[str, Any] | None:
    """`value` if it is a JSON object (answers are parsed leniently), else `None`."""
    return cast("Mapping[str, Any]", value) if isinstance(value, Mapping) else None


def _bounding_box(value: object) -> BoundingBox | None:
    from .results import BoundingBox

    raw = _mapping(value)
    if raw is None:
        return None
    return BoundingBox(raw.get("Width"), raw.get("Height"), raw.get("Left"), raw.get("Top"))


def parse_face(raw: Mapping[str, Any]) -> Face:
    """A `Face` from an API ``Face`` dict (``ListFaces``, ``IndexFaces``)."""
    from .results import Face

    return Face(
        face_id=str(raw.get("FaceId", "")),
        bounding_box=_bounding_box(raw.get("BoundingBox")),
        image_id=raw.get("ImageId"),
        external_image_id=raw.get("ExternalImageId"),
        confidence=raw.get("Confidence"),
        index_faces_model_version=raw.get("IndexFacesModelVersion"),
        user_id=raw.get("UserId"),
    )


def faces_of_page(response: Mapping[str, Any]) -> Iterator[Face]:
    """The faces of one ``ListFaces`` page."""
    for item in response.get("Faces") or ():
        raw = _mapping(item)
        if raw is not None:
            yield parse_face(raw)


def _timestamp(value: object) -> datetime.datetime | None:
    """A timezone-aware UTC `datetime` from botocore's parsed timestamp (or epoch seconds)."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.timezone.utc)
        return value.astimezone(datetime.timezone.utc)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
    return None


def parse_collection_info(collection_id: str, response: Mapping[str, Any]) -> CollectionInfo:
    """The `CollectionInfo` in a ``DescribeCollection`` answer."""
    from .collection import CollectionInfo

    return CollectionInfo(
        collection_id=collection_id,
        face_count=response.get("FaceCount"),
        user_count=response.get("UserCount"),
        face_model_version=response.get("FaceModelVersion"),
        collection_arn=response.get("CollectionARN") or response.get("CollectionArn"),
        creation_timestamp=_timestamp(response.get("CreationTimestamp")),
    )


def parse_index_result(
    response: Mapping[str, Any], faces: Sequence[Face] | None = None
) -> IndexResult:
    """The `IndexResult` in an ``IndexFaces`` answer (`faces` overrides its faces)."""
    from .collection import IndexResult, UnindexedFace

    if faces is None:
        faces = []
        for record in response.get("FaceRecords") or ():
            face = _mapping((_mapping(record) or {}).get("Face"))
            if face is not None:
                faces.append(parse_face(face))
    unindexed: list[UnindexedFace] = []
    for entry in response.get("UnindexedFaces") or ():
        item = _mapping(entry)
        if item is None:
            continue
        detail = _mapping(item.get("FaceDetail"))
        box = _bounding_box(detail.get("BoundingBox")) if detail is not None else None
        reasons: list[object] = list(item.get("Reasons") or ())
        unindexed.append(UnindexedFace(tuple(str(r) for r in reasons), box))
    return IndexResult(
        faces=tuple(faces),
        unindexed=tuple(unindexed),
        face_model_version=response.get("FaceModelVersion"),
    )


def stale_duplicates(
    collection_faces: Iterable[Face], kept: Sequence[Face], external_image_id: str | None
) -> list[str]:
    """Face ids an earlier, lost attempt to index the same image left behind.

    The same image (same ``ImageId``, which the service derives from its content) under
    the same ExternalImageId, but not among the faces this attempt `kept`.
    """
    image_ids = {face.image_id for face in kept if face.image_id}
    kept_ids = {face.face_id for face in kept}
    return [
        face.face_id
        for face in collection_faces
        if face.image_id in image_ids
        and face.external_image_id == external_image_id
        and face.face_id not in kept_ids
    ]
