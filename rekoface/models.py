"""Request models: what to search, validated on construction.

Every object checks all of its fields and reports every failure at once, by API path
(``Video.S3Object.Bucket``), in one `RequestValidationError`: a request that
constructs is one the service's input rules accept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from ._validation import (
    check_number,
    check_string,
    check_type,
    number_passes,
    raise_if_any,
    string_passes,
)
from .errors import FieldError

if TYPE_CHECKING:
    from mypy_boto3_rekognition.type_defs import (
        NotificationChannelTypeDef,
        StartFaceSearchRequestTypeDef,
        VideoTypeDef,
    )

__all__ = ["FaceSearchJob", "FaceSearchRequest", "NotificationChannel", "S3Video"]

_S3_SCHEME = "s3://"

# The quick yes of each field's rule; a failing field is told apart by `check_string`.
_BUCKET, _NAME, _VERSION, _TOPIC, _ROLE, _COLLECTION, _JOB_TAG, _TOKEN = map(
    string_passes,
    (
        "Video.S3Object.Bucket",
        "Video.S3Object.Name",
        "Video.S3Object.Version",
        "NotificationChannel.SNSTopicArn",
        "NotificationChannel.RoleArn",
        "CollectionId",
        "JobTag",
        "ClientRequestToken",
    ),
)
_THRESHOLD = number_passes("FaceMatchThreshold")


@attrs.frozen
class S3Video:
    """A stored video in S3: bucket, object key and, optionally, object version."""

    bucket: str
    name: str
    version: str | None = None

    def __attrs_post_init__(self) -> None:
        version = self.version
        if _BUCKET(self.bucket) and _NAME(self.name) and (version is None or _VERSION(version)):
            return  # valid: no list of failures to build
        errors: list[FieldError] = []
        check_string(errors, "Video.S3Object.Bucket", self.bucket)
        check_string(errors, "Video.S3Object.Name", self.name)
        if self.version is not None:
            check_string(errors, "Video.S3Object.Version", self.version)
        raise_if_any(errors)

    @classmethod
    def from_uri(cls, uri: str, version: str | None = None) -> S3Video:
        """Parse ``s3://bucket/key``; the key is kept verbatim (it may contain ``?``)."""
        if not isinstance(uri, str) or not uri.startswith(_S3_SCHEME):
            shown = uri if isinstance(uri, str) else type(uri).__name__
            raise_if_any(
                [FieldError("Video.S3Object", f"{shown!r} is not an S3 URI", "s3://bucket/key")]
            )
        bucket, _, name = uri[len(_S3_SCHEME) :].partition("/")
        return cls(bucket, name, version)

    @property
    def uri(self) -> str:
        """The ``s3://bucket/key`` form."""
        return f"{_S3_SCHEME}{self.bucket}/{self.name}"

    def to_api(self) -> VideoTypeDef:
        """The ``Video`` parameter of ``StartFaceSearch``."""
        s3_object: dict[str, str] = {"Bucket": self.bucket, "Name": self.name}
        if self.version is not None:
            s3_object["Version"] = self.version
        return {"S3Object": s3_object}  # type: ignore[typeddict-item]


@attrs.frozen
class NotificationChannel:
    """Where Rekognition publishes the job's completion: an SNS topic, and a role it may use.

    The role needs ``sns:Publish`` on the topic; with the ``AmazonRekognitionServiceRole``
    managed policy the topic's name must start with ``AmazonRekognition``.
    """

    sns_topic_arn: str
    role_arn: str

    def __attrs_post_init__(self) -> None:
        if _TOPIC(self.sns_topic_arn) and _ROLE(self.role_arn):
            return
        errors: list[FieldError] = []
        check_string(errors, "NotificationChannel.SNSTopicArn", self.sns_topic_arn)
        check_string(errors, "NotificationChannel.RoleArn", self.role_arn)
        raise_if_any(errors)

    def to_api(self) -> NotificationChannelTypeDef:
        """The ``NotificationChannel`` parameter of ``StartFaceSearch``."""
        return {"SNSTopicArn": self.sns_topic_arn, "RoleArn": self.role_arn}


@attrs.frozen
class FaceSearchRequest:
    """One face search: a stored video, the collection to match against, and options.

    `face_match_threshold` is a percentage (0-100); the service's default is 80.
    `client_request_token` is sent verbatim when given; usually leave it out and let
    `FaceSearchClient.start` make one (or pass ``idempotency_key=`` there).
    """

    video: S3Video
    collection_id: str
    face_match_threshold: float | None = None
    notification_channel: NotificationChannel | None = None
    job_tag: str | None = None
    client_request_token: str | None = None

    def __attrs_post_init__(self) -> None:
        threshold, channel = self.face_match_threshold, self.notification_channel
        job_tag, token = self.job_tag, self.client_request_token
        if (
            isinstance(self.video, S3Video)
            and _COLLECTION(self.collection_id)
            and (threshold is None or _THRESHOLD(threshold))
            and (channel is None or isinstance(channel, NotificationChannel))
            and (job_tag is None or _JOB_TAG(job_tag))
            and (token is None or _TOKEN(token))
        ):
            return  # valid: no list of failures to build
        errors: list[FieldError] = []
        check_type(errors, "Video", self.video, S3Video)
        check_string(errors, "CollectionId", self.collection_id)
        if self.face_match_threshold is not None:
            check_number(errors, "FaceMatchThreshold", self.face_match_threshold)
        if self.notification_channel is not None:
            check_type(
                errors, "NotificationChannel", self.notification_channel, NotificationChannel
            )
        if self.job_tag is not None:
            check_string(errors, "JobTag", self.job_tag)
        if self.client_request_token is not None:
            check_string(errors, "ClientRequestToken", self.client_request_token)
        raise_if_any(errors)

    def to_api(self, client_request_token: str | None = None) -> StartFaceSearchRequestTypeDef:
        """The ``StartFaceSearch`` parameters; never carries a `None`.

        `client_request_token` overrides the request's own token (the client passes the
        token it made); with neither, no token is included.
        """
        params: dict[str, Any] = {
            "Video": self.video.to_api(),
            "CollectionId": self.collection_id,
        }
        if self.face_match_threshold is not None:
            params["FaceMatchThreshold"] = float(self.face_match_threshold)
        if self.notification_channel is not None:
            params["NotificationChannel"] = self.notification_channel.to_api()
        if self.job_tag is not None:
            params["JobTag"] = self.job_tag
        token = client_request_token or self.client_request_token
        if token is not None:
            params["ClientRequestToken"] = token
        return params  # type: ignore[return-value]


@attrs.frozen
class FaceSearchJob:
    """A started face search: its id, the token that started it, and the request.

    `request` is `None` for a job known only by its id (e.g. read back from storage).
    """

    job_id: str
    client_request_token: str | None = None
    request: FaceSearchRequest | None = None
