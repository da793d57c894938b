"""Face collections: the faces a search looks for, created, filled, checked and pruned.

``client.collection("employees")`` gives a `FaceCollection`. Its calls go through the
client's `FaceSearchClient._call` (its `RetryPolicy` and the one error translation);
what to send and what an answer means is decided in `rekoface._collection_core`.

``IndexFaces`` has no idempotency token, so a retry after a lost answer (a read
timeout, a connection cut, an HTTP 5xx) would index the image a second time. `index`
therefore reconciles after such a retry (its own, or botocore's for a client that
retries by itself): the service's ``ImageId`` depends only on the image, so faces with
this answer's ``ImageId`` and ExternalImageId that are not in this answer are the lost
attempt's, and are deleted. One set of faces per image remains.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

import attrs
from botocore.exceptions import ClientError

from . import _collection_core as core
from ._validation import check_string, raise_if_any
from .errors import CollectionNotReadyError, FieldError, ResourceAlreadyExistsError
from .errors import ResourceNotFoundError as _NotFound

if TYPE_CHECKING:
    from .client import FaceSearchClient
    from .results import BoundingBox, Face

__all__ = ["CollectionInfo", "FaceCollection", "IndexResult", "S3Image", "UnindexedFace"]

logger = logging.getLogger("rekoface")

_S3_SCHEME = "s3://"


@attrs.frozen
class S3Image:
    """A stored image in S3 (JPEG or PNG): bucket, object key and, optionally, version."""

    bucket: str
    name: str
    version: str | None = None

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        check_string(errors, "Image.S3Object.Bucket", self.bucket)
        check_string(errors, "Image.S3Object.Name", self.name)
        if self.version is not None:
            check_string(errors, "Image.S3Object.Version", self.version)
        raise_if_any(errors)

    @classmethod
    def from_uri(cls, uri: str, version: str | None = None) -> S3Image:
        """Parse ``s3://bucket/key``; the key is kept verbatim (it may contain ``?``)."""
        if not isinstance(uri, str) or not uri.startswith(_S3_SCHEME):
            shown = uri if isinstance(uri, str) else type(uri).__name__
            raise_if_any(
                [FieldError("Image.S3Object", f"{shown!r} is not an S3 URI", "s3://bucket/key")]
            )
        bucket, _, name = uri[len(_S3_SCHEME) :].partition("/")
        return cls(bucket, name, version)

    @property
    def uri(self) -> str:
        """The ``s3://bucket/key`` form."""
        return f"{_S3_SCHEME}{self.bucket}/{self.name}"

    def to_api(self) -> dict[str, Any]:
        """The ``Image`` parameter of ``IndexFaces``."""
        s3_object: dict[str, str] = {"Bucket": self.bucket, "Name": self.name}
        if self.version is not None:
            s3_object["Version"] = self.version
        return {"S3Object": s3_object}


@attrs.frozen
class CollectionInfo:
    """What ``DescribeCollection`` says of a collection (`None`: the answer left it out).

    `creation_timestamp` is a timezone-aware `datetime` in UTC.
    """

    collection_id: str
    face_count: int | None = None
    user_count: int | None = None
    face_model_version: str | None = None
    collection_arn: str | None = None
    creation_timestamp: datetime.datetime | None = None


@attrs.frozen
class UnindexedFace:
    """A face the service found but did not index, and why (``LOW_SHARPNESS``, ...)."""

    reasons: tuple[str, ...]
    bounding_box: BoundingBox | None = None


@attrs.frozen
class IndexResult:
    """What one `FaceCollection.index` did: the faces it added and those it left out."""

    faces: tuple[Face, ...]
    unindexed: tuple[UnindexedFace, ...] = ()
    face_model_version: str | None = None


def _retried_by_botocore(response: Mapping[str, Any]) -> bool:
    """Whether botocore itself retried the call (a client with its own retries on): an
    earlier attempt inside boto3 may have acted although this answer is the only one."""
    attempts = response.get("ResponseMetadata", {}).get("RetryAttempts")
    return isinstance(attempts, int) and attempts > 0


def _may_have_taken_effect(exc: BaseException) -> bool:
    """Whether a failed call may still have acted: no answer came, or the server failed."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        server_failed = isinstance(status, int) and status >= 500
        return server_failed or _retried_by_botocore(exc.response)
    from ._translate import TRANSPORT_ERRORS

    return isinstance(exc, TRANSPORT_ERRORS)


class FaceCollection:
    """One face collection, by id; nothing is called until a method is.

    Build it with `FaceSearchClient.collection`. Every call is retried by the client's
    `RetryPolicy` and raises rekoface's typed errors.
    """

    def __init__(self, client: FaceSearchClient, collection_id: str) -> None:
        core.collection_params(collection_id)
        self._client = client
        self._id = collection_id
        #: Images whose index raised after a lost answer: the next index reconciles them.
        self._unsettled: set[tuple[str, str | None, str | None]] = set()

    def __repr__(self) -> str:
        return f"<FaceCollection {self._id!r}>"

    @property
    def collection_id(self) -> str:
        """The collection's id."""
        return self._id

    def _send(self, operation: str, method: Any, params: Mapping[str, Any]) -> Any:
        return self._client._call(  # pyright: ignore[reportPrivateUsage] - its one way out
            operation, method, params
        )

    # -- the collection -----------------------------------------------------------------

    def ensure(self) -> CollectionInfo:
        """Create the collection if it does not exist (an existing one is fine); describe it."""
        rekognition = self._client.boto3_client
        try:
            self._send("CreateCollection", rekognition.create_collection, self._params())
            logger.info("created a face collection")
        except ResourceAlreadyExistsError:
            pass  # also what a retry after a lost CreateCollection answer meets
        return self.describe()

    def describe(self) -> CollectionInfo:
        """The collection's face count, model version, ARN and creation time."""
        rekognition = self._client.boto3_client
        response = self._send("DescribeCollection", rekognition.describe_collection, self._params())
        return core.parse_collection_info(self._id, response)

    def check(self) -> CollectionInfo:
        """Describe the collection, or raise `CollectionNotReadyError` if a face search
        against it could find nobody: it does not exist, or it holds no faces."""
        try:
            info = self.describe()
        except _NotFound as err:
            raise CollectionNotReadyError(self._id, None) from err
        if info.face_count == 0:
            raise CollectionNotReadyError(self._id, 0)
        return info

    def delete(self) -> None:
        """Delete the collection and every face in it (``DeleteCollection``)."""
        rekognition = self._client.boto3_client
        self._send("DeleteCollection", rekognition.delete_collection, self._params())

    # -- faces --------------------------------------------------------------------------

    def index(
        self,
        image: S3Image,
        *,
        external_image_id: str | None = None,
        max_faces: int = 1,
        quality_filter: str = "AUTO",
    ) -> IndexResult:
        """Index the faces in one image (``IndexFaces``): at most `max_faces`, the largest.

        Give every photo of one person the same `external_image_id` (``[a-zA-Z0-9_.\\-:]+``,
        so ``alice/1`` is refused before the call). `quality_filter` is ``NONE``, ``AUTO``,
        ``LOW``, ``MEDIUM`` or ``HIGH``; faces it refuses are in `IndexResult.unindexed`
        with the service's reasons. A retry after a lost answer never leaves a second set
        of faces for the image (see the module docstring).
        """
        params = core.index_params(
            self._id,
            image,
            external_image_id=external_image_id,
            max_faces=max_faces,
            quality_filter=quality_filter,
        )
        key = (image.uri, image.version, external_image_id)
        lost = [key in self._unsettled]
        rekognition = self._client.boto3_client

        def index_faces(**kwargs: Any) -> Mapping[str, Any]:
            try:
                response = rekognition.index_faces(**kwargs)
            except Exception as exc:
                if _may_have_taken_effect(exc):
                    lost[0] = True
                raise
            if _retried_by_botocore(cast("Mapping[str, Any]", response)):
                lost[0] = True
            return response

        try:
            response = self._send("IndexFaces", index_faces, params)
        except Exception:
            if lost[0]:
                self._unsettled.add(key)
            raise
        result = core.parse_index_result(response)
        if lost[0]:
            self._unsettled.add(key)  # until the duplicates are gone, whatever fails next
            stale = core.stale_duplicates(self.faces(), result.faces, external_image_id)
            if stale:
                logger.info("deleting %d faces a lost IndexFaces answer left behind", len(stale))
                self.delete_faces(stale)
            self._unsettled.discard(key)
        return result

    def faces(self) -> Iterator[Face]:
        """Every face in the collection, fetched lazily (``ListFaces``, one page in memory)."""
        params = {**self._params(), "MaxResults": core.LIST_PAGE}
        list_faces = self._client.boto3_client.list_faces

        def pages() -> Iterator[Face]:
            token: str | None = None
            while True:
                page_params = params if token is None else {**params, "NextToken": token}
                response = self._send("ListFaces", list_faces, page_params)
                yield from core.faces_of_page(response)
                next_token = response.get("NextToken")
                if not next_token:
                    return
                token = str(next_token)

        return pages()

    def delete_faces(self, face_ids: Iterable[str]) -> tuple[str, ...]:
        """Delete faces by id, in batches of the service's limit; return the ids deleted.

        Ids the collection does not hold are left out of the answer, not an error.
        """
        batches = core.delete_batches(face_ids)
        delete = self._client.boto3_client.delete_faces
        deleted: list[str] = []
        for batch in batches:
            params = {**self._params(), "FaceIds": batch}
            response = self._send("DeleteFaces", delete, params)
            deleted.extend(str(i) for i in response.get("DeletedFaces") or ())
        return tuple(deleted)

    def _params(self) -> dict[str, Any]:
        return {"CollectionId": self._id}
