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
    ConfigurationError,
    FieldError,
    IdempotentParameterMismatchError,
    InternalServerError,
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
    ResourceNotFoundError,
    ServiceError,
    ThrottlingError,
    TransportError,
    VideoTooLargeError,
)

if TYPE_CHECKING:
    from .batch import BatchOutcome
    from .client import (
        FaceSearchClient,
    )
    from .completions import (
        Completion,
    )
    from .models import (
        FaceSearchJob,
        FaceSearchRequest,
        NotificationChannel,
        S3Video,
    )
    from .notifications import (
        CompletionNotification,
        NotificationStatus,
        parse_notification,
    )
    from .pollers import (
        BackoffPoller,
        Poller,
        SqsNotificationPoller,
    )
    from .results import (
        AgeRange,
        Appearance,
        BoundingBox,
        Emotion,
        EyeDirection,
        Face,
        FaceAttribute,
        FaceDetail,
        FaceMatch,
        FaceSearchPage,
        FaceSearchResults,
        Gender,
        ImageQuality,
        JobState,
        JobStatus,
        Landmark,
        PersonDetail,
        PersonMatch,
        Pose,
        VideoMetadata,
    )
    from .retry import (
        RetryPolicy,
    )
    from .slots import (
        DynamoDBSlotStore,
        InMemorySlotStore,
        SlotStore,
    )
    from .tokens import (
        derive_client_request_token,
    )


__version__ = "0.1.0"

#: The one table of lazily loaded public names and their modules. `__all__` and the
#: ``TYPE_CHECKING`` imports above list the same names: tests/test_public_api.py holds
#: all three equal (type checkers need static imports, so they cannot be generated).
_LAZY: dict[str, str] = {
    "BatchOutcome": "batch",
    "FaceSearchClient": "client",
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
    "Appearance": "results",
    "Emotion": "results",
    "EyeDirection": "results",
    "FaceAttribute": "results",
    "Gender": "results",
    "ImageQuality": "results",
    "Landmark": "results",
    "Pose": "results",
    "AgeRange": "results",
    "BoundingBox": "results",
    "Face": "results",
    "FaceDetail": "results",
    "FaceMatch": "results",
    "FaceSearchPage": "results",
    "FaceSearchResults": "results",
    "JobState": "results",
    "JobStatus": "results",
    "PersonDetail": "results",
    "PersonMatch": "results",
    "VideoMetadata": "results",
    "RetryPolicy": "retry",
    "DynamoDBSlotStore": "slots",
    "InMemorySlotStore": "slots",
    "SlotStore": "slots",
    "derive_client_request_token": "tokens",
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
    "BoundingBox",
    "Completion",
    "CompletionNotification",
    "ConfigurationError",
    "DynamoDBSlotStore",
    "Emotion",
    "EyeDirection",
    "Face",
    "FaceAttribute",
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
    "InMemorySlotStore",
    "InternalServerError",
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
    "ResourceNotFoundError",
    "RetryPolicy",
    "S3Video",
    "ServiceError",
    "SlotStore",
    "SqsNotificationPoller",
    "ThrottlingError",
    "TransportError",
    "VideoMetadata",
    "VideoTooLargeError",
    "__version__",
    "derive_client_request_token",
    "parse_notification",
]
