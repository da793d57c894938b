"""The fake's face collections: CreateCollection, DescribeCollection, DeleteCollection,
IndexFaces, ListFaces and DeleteFaces, answered as the service answers them.

The fake cannot see pixels, so it makes faces up: every image holds one face unless a
test says otherwise (`CollectionStore.images`). An image's ``ImageId`` depends only
on the image (bucket, key, version, or its bytes), as the service's depends on its
content; each ``IndexFaces`` call makes new ``FaceId``s, so indexing an image twice
leaves two sets of faces, exactly the duplicate the real service leaves.

The caller (`FakeService`) holds the lock; nothing here is thread-safe on its own.
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Final, cast

import attrs

from . import _data

__all__ = ["IMAGE_ERRORS", "MAX_LIST_PAGE", "CollectionStore", "FakeServiceError", "ImageSpec"]

FACE_MODEL_VERSION: Final = "7.0"
MAX_LIST_PAGE: Final = 4096
DEFAULT_LIST_PAGE: Final = 100
PAGINATION_TOKEN_LIFETIME: Final = 24 * 3600.0
#: What an image can be instead of a picture with faces in it, by the service's code.
IMAGE_ERRORS: Final[Mapping[str, str]] = {
    "InvalidImageFormatException": "Request has invalid image format",
    "ImageTooLargeException": "Image size is too large.",
    "InvalidS3ObjectException": "Unable to get object metadata from S3. Check object key, "
    "region and/or access permissions.",
}


class FakeServiceError(Exception):
    """The service refuses a call: its error code, message and HTTP status."""

    def __init__(self, code: str, message: str, http_status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status


@attrs.frozen
class ImageSpec:
    """What `IndexFaces` finds in one image: good faces, low-quality ones, or an error."""

    faces: int = 1
    low_quality: int = 0
    error: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.faces < 0 or self.low_quality < 0:
            raise ValueError("faces and low_quality must be >= 0")
        if self.error is not None and self.error not in IMAGE_ERRORS:
            raise ValueError(f"error must be one of {sorted(IMAGE_ERRORS)}, not {self.error!r}")


@attrs.frozen
class _ListToken:
    collection_id: str
    offset: int
    issued_at: float


def _uuid_of(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _missing(collection_id: str) -> FakeServiceError:
    return FakeServiceError(
        "ResourceNotFoundException", f"The collection id: {collection_id} does not exist"
    )


class CollectionStore:
    """Collections by id: their faces (API `Face` dicts, in index order) and metadata."""

    def __init__(
        self,
        rng: random.Random,
        now: Callable[[], float],
        seed: int,
        region: str = "us-east-1",
        account: str = "123456789012",
    ) -> None:
        self._rng = rng
        self._now = now
        self._seed = seed
        self._region = region
        self._account = account
        self.faces: dict[str, list[dict[str, Any]]] = {}
        self.created: dict[str, float] = {}
        #: What each image holds, by (bucket, key, version); `ImageSpec()` where not said.
        self.images: dict[tuple[str, str, str | None], ImageSpec] = {}
        self._tokens: dict[str, _ListToken] = {}

    # -- set-up ---------------------------------------------------------------------------

    def add(self, collection_id: str, faces: list[dict[str, Any]]) -> None:
        self.faces[collection_id] = faces
        self.created[collection_id] = self._now()

    # -- operations -----------------------------------------------------------------------

    def create(self, params: Mapping[str, Any]) -> dict[str, Any]:
        collection_id = params["CollectionId"]
        if collection_id in self.faces:
            raise FakeServiceError(
                "ResourceAlreadyExistsException",
                f"The collection id: {collection_id} already exists",
            )
        self.add(collection_id, [])
        return {
            "StatusCode": 200,
            "CollectionArn": self._arn(collection_id),
            "FaceModelVersion": FACE_MODEL_VERSION,
        }

    def describe(self, params: Mapping[str, Any]) -> dict[str, Any]:
        collection_id = params["CollectionId"]
        faces = self._faces_of(collection_id)
        return {
            "FaceCount": len(faces),
            "FaceModelVersion": FACE_MODEL_VERSION,
            "CollectionARN": self._arn(collection_id),
            "CreationTimestamp": self.created[collection_id],
            "UserCount": 0,
        }

    def delete(self, params: Mapping[str, Any]) -> dict[str, Any]:
        collection_id = params["CollectionId"]
        self._faces_of(collection_id)
        del self.faces[collection_id]
        del self.created[collection_id]
        return {"StatusCode": 200}

    def index(self, params: Mapping[str, Any]) -> dict[str, Any]:
        collection_id = params["CollectionId"]
        faces = self._faces_of(collection_id)
        key, spec = self._image(params["Image"])
        if spec.error is not None:
            raise FakeServiceError(spec.error, IMAGE_ERRORS[spec.error])
        image_id = _uuid_of(f"rekoface-fake-image:{key}")
        shape_rng = random.Random(f"{self._seed}:{key}")  # the same boxes on every attempt
        max_faces = int(params.get("MaxFaces", 100))
        quality = params.get("QualityFilter", "AUTO")
        records: list[dict[str, Any]] = []
        unindexed: list[dict[str, Any]] = []
        detected = [(_detail(shape_rng), False) for _ in range(spec.faces)]
        detected += [(_detail(shape_rng), True) for _ in range(spec.low_quality)]
        for detail, poor in detected:
            if poor and quality != "NONE":
                unindexed.append({"Reasons": ["LOW_SHARPNESS"], "FaceDetail": detail})
            elif len(records) >= max_faces:
                unindexed.append({"Reasons": ["EXCEEDS_MAX_FACES"], "FaceDetail": detail})
            else:
                face: dict[str, Any] = {
                    "FaceId": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                    "BoundingBox": dict(detail["BoundingBox"]),
                    "ImageId": image_id,
                    "Confidence": detail["Confidence"],
                }
                if "ExternalImageId" in params:
                    face["ExternalImageId"] = params["ExternalImageId"]
                records.append({"Face": face, "FaceDetail": detail})
        for record in records:
            faces.append({**record["Face"], "IndexFacesModelVersion": FACE_MODEL_VERSION})
        return {
            "FaceRecords": records,
            "FaceModelVersion": FACE_MODEL_VERSION,
            "UnindexedFaces": unindexed,
        }

    def list_faces(self, params: Mapping[str, Any]) -> dict[str, Any]:
        collection_id = params["CollectionId"]
        faces = self._faces_of(collection_id)
        wanted = params.get("FaceIds")
        if wanted is not None:
            faces = [f for f in faces if f["FaceId"] in set(wanted)]
        if "UserId" in params:
            faces = [f for f in faces if f.get("UserId") == params["UserId"]]
        offset = 0
        now = self._now()
        if params.get("NextToken"):
            token = self._tokens.get(params["NextToken"])
            if (
                token is None
                or token.collection_id != collection_id
                or now - token.issued_at >= PAGINATION_TOKEN_LIFETIME
            ):
                raise FakeServiceError(
                    "InvalidPaginationTokenException", "Invalid pagination token provided"
                )
            offset = token.offset
        size = int(params.get("MaxResults") or DEFAULT_LIST_PAGE)
        answer: dict[str, Any] = {
            "Faces": [dict(f) for f in faces[offset : offset + size]],
            "FaceModelVersion": FACE_MODEL_VERSION,
        }
        if offset + size < len(faces):
            text = base64.urlsafe_b64encode(self._rng.randbytes(24)).decode()
            self._tokens[text] = _ListToken(collection_id, offset + size, now)
            answer["NextToken"] = text
        return answer

    def delete_faces(self, params: Mapping[str, Any]) -> dict[str, Any]:
        collection_id = params["CollectionId"]
        faces = self._faces_of(collection_id)
        wanted = list(dict.fromkeys(params["FaceIds"]))
        present = {f["FaceId"] for f in faces}
        self.faces[collection_id] = [f for f in faces if f["FaceId"] not in set(wanted)]
        answer: dict[str, Any] = {"DeletedFaces": [i for i in wanted if i in present]}
        missing = [i for i in wanted if i not in present]
        if missing:
            answer["UnsuccessfulFaceDeletions"] = [
                {"FaceId": i, "Reasons": ["FACE_NOT_FOUND"]} for i in missing
            ]
        return answer

    # -- helpers --------------------------------------------------------------------------

    def _faces_of(self, collection_id: str) -> list[dict[str, Any]]:
        faces = self.faces.get(collection_id)
        if faces is None:
            raise _missing(collection_id)
        return faces

    def _arn(self, collection_id: str) -> str:
        # The service's own spelling: no "arn:" prefix (see the CreateCollection docs).
        return f"aws:rekognition:{self._region}:{self._account}:collection/{collection_id}"

    def _image(self, image: Mapping[str, Any]) -> tuple[str, ImageSpec]:
        given = image.get("S3Object")
        s3: Mapping[str, Any] = (
            cast("Mapping[str, Any]", given) if isinstance(given, Mapping) else {}
        )
        if s3.get("Bucket") and s3.get("Name"):
            version: str | None = s3.get("Version")
            spec = self.images.get((s3["Bucket"], s3["Name"], version))
            if spec is None and version is not None:
                spec = self.images.get((s3["Bucket"], s3["Name"], None))
            key = f"s3://{s3['Bucket']}/{s3['Name']}?{version or ''}"
            return key, spec or ImageSpec()
        data = image.get("Bytes")
        if isinstance(data, str) and data:
            return "bytes:" + hashlib.sha256(data.encode()).hexdigest(), ImageSpec()
        raise FakeServiceError(
            "InvalidParameterException", "Image must name an S3Object (Bucket, Name) or Bytes"
        )


def _detail(rng: random.Random) -> dict[str, Any]:
    return {
        "BoundingBox": _data.bounding_box(rng, widths=(0.1, 0.4), heights=(0.15, 0.5)),
        "Confidence": round(rng.uniform(99.0, 100.0), 4),
        "Pose": _data.pose(rng, 10, 20, 10),
        "Quality": _data.quality(rng, 40, 40),
    }
