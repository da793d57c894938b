"""rekoface: typed, safe face search in stored videos with Amazon Rekognition Video.

Public names are re-exported here and loaded on first use (PEP 562), so
``import rekoface`` costs little more than ``import boto3``: attrs, tenacity and the
result models load only when a request is built or a result is read.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    AccessDeniedError,
    CollectionNotReadyError,
    ConfigurationError,
    FieldError,
    IdempotentParameterMismatchError,
    ImageTooLargeError,
    InternalServerError,
    InvalidImageFormatError,
    InvalidPaginationTokenError,
    InvalidParameterError,
    InvalidS3ObjectError,
    JobError,
    JobFailedError,
    JobNotCompleteError,
    LimitExceededError,
    NotificationError,
    PollTimeoutError,
    ProvisionedThroughputExceededError,
    RekoFaceError,
    RequestValidationError,
    ResourceAlreadyExistsError,
    ResourceNotFoundError,
    ServiceError,
    ServiceQuotaExceededError,
    ThrottlingError,
    TransportError,
    VideoTooLargeError,
)

if TYPE_CHECKING:
    from .appearances import Appearance
    from .batch import BatchOutcome, BatchProgress
    from .client import FaceSearchClient
    from .collection import CollectionInfo, FaceCollection, IndexResult, S3Image, UnindexedFace
    from .completions import Completion
    from .face_details import (
        AgeRange,
        BoundingBox,
        Emotion,
        EyeDirection,
        FaceAttribute,
        FaceDetail,
        Gender,
        ImageQuality,
        Landmark,
        Pose,
    )
    from .matches import Face, FaceMatch, PersonDetail, PersonMatch
    from .models import FaceSearchJob, FaceSearchRequest, NotificationChannel, S3Video
    from .notifications import CompletionNotification, NotificationStatus, parse_notification
    from .pollers import BackoffPoller, Poller, SqsNotificationPoller
    from .results import FaceSearchPage, FaceSearchResults
    from .retry import RetryPolicy
    from .slots import DynamoDBSlotStore, InMemorySlotStore, SlotStore, StartRateStore
    from .status import JobState, JobStatus, VideoMetadata
    from .tokens import derive_client_request_token
    from .work_queue import WorkQueue

__version__ = "0.1.0"

#: The one table of lazily loaded public names and their modules. `__all__` and the
#: ``TYPE_CHECKING`` imports above list the same names: tests/test_public_api.py holds
#: all three equal (type checkers need static imports, so they cannot be generated).
_LAZY: dict[str, str] = {
    "BatchOutcome": "batch",
    "BatchProgress": "batch",
    "FaceSearchClient": "client",
    "CollectionInfo": "collection",
    "FaceCollection": "collection",
    "IndexResult": "collection",
    "S3Image": "collection",
    "UnindexedFace": "collection",
    "Completion": "completions",
    "FaceSearchJob": "models",
    "FaceSearchRequest": "models",
    "NotificationChannel": "models",
    "S3Video": "models",
    "CompletionNotification": "notifications",
    "NotificationStatus": "notifications",
    "parse_notification": "notifications",
    "BackoffPoller": "pollers",
    "Poller": "pollers",
    "SqsNotificationPoller": "pollers",
    "Appearance": "appearances",
    "Emotion": "face_details",
    "EyeDirection": "face_details",
    "FaceAttribute": "face_details",
    "Gender": "face_details",
    "ImageQuality": "face_details",
    "Landmark": "face_details",
    "Pose": "face_details",
    "AgeRange": "face_details",
    "BoundingBox": "face_details",
    "Face": "matches",
    "FaceDetail": "face_details",
    "FaceMatch": "matches",
    "FaceSearchPage": "results",
    "FaceSearchResults": "results",
    "JobState": "status",
    "JobStatus": "status",
    "PersonDetail": "matches",
    "PersonMatch": "matches",
    "VideoMetadata": "status",
    "RetryPolicy": "retry",
    "DynamoDBSlotStore": "slots",
    "InMemorySlotStore": "slots",
    "SlotStore": "slots",
    "StartRateStore": "slots",
    "derive_client_request_token": "tokens",
    "WorkQueue": "work_queue",
}


if not TYPE_CHECKING:  # pragma: no branch - hidden from type checkers, so a typo stays an error

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AccessDeniedError",
    "AgeRange",
    "Appearance",
    "BackoffPoller",
    "BatchOutcome",
    "BatchProgress",
    "BoundingBox",
    "CollectionInfo",
    "CollectionNotReadyError",
    "Completion",
    "CompletionNotification",
    "ConfigurationError",
    "DynamoDBSlotStore",
    "Emotion",
    "EyeDirection",
    "Face",
    "FaceAttribute",
    "FaceCollection",
    "FaceDetail",
    "FaceMatch",
    "FaceSearchClient",
    "FaceSearchJob",
    "FaceSearchPage",
    "FaceSearchRequest",
    "FaceSearchResults",
    "FieldError",
    "Gender",
    "IdempotentParameterMismatchError",
    "ImageQuality",
    "ImageTooLargeError",
    "InMemorySlotStore",
    "IndexResult",
    "InternalServerError",
    "InvalidImageFormatError",
    "InvalidPaginationTokenError",
    "InvalidParameterError",
    "InvalidS3ObjectError",
    "JobError",
    "JobFailedError",
    "JobNotCompleteError",
    "JobState",
    "JobStatus",
    "Landmark",
    "LimitExceededError",
    "NotificationChannel",
    "NotificationError",
    "NotificationStatus",
    "PersonDetail",
    "PersonMatch",
    "PollTimeoutError",
    "Poller",
    "Pose",
    "ProvisionedThroughputExceededError",
    "RekoFaceError",
    "RequestValidationError",
    "ResourceAlreadyExistsError",
    "ResourceNotFoundError",
    "RetryPolicy",
    "S3Image",
    "S3Video",
    "ServiceError",
    "ServiceQuotaExceededError",
    "SlotStore",
    "SqsNotificationPoller",
    "StartRateStore",
    "ThrottlingError",
    "TransportError",
    "UnindexedFace",
    "VideoMetadata",
    "VideoTooLargeError",
    "WorkQueue",
    "__version__",
    "derive_client_request_token",
    "parse_notification",
]
