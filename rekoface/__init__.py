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
    from .client import (
        FaceSearchClient as FaceSearchClient,
    )
    from .completions import (
        Completion as Completion,
    )
    from .models import (
        FaceSearchJob as FaceSearchJob,
        FaceSearchRequest as FaceSearchRequest,
        NotificationChannel as NotificationChannel,
        S3Video as S3Video,
    )
    from .notifications import (
        CompletionNotification as CompletionNotification,
        NotificationStatus as NotificationStatus,
        parse_notification as parse_notification,
    )
    from .pollers import (
        BackoffPoller as BackoffPoller,
        Poller as Poller,
        SqsNotificationPoller as SqsNotificationPoller,
    )
    from .results import (
        AgeRange as AgeRange,
        Appearance as Appearance,
        BoundingBox as BoundingBox,
        Emotion as Emotion,
        EyeDirection as EyeDirection,
        Face as Face,
        FaceAttribute as FaceAttribute,
        FaceDetail as FaceDetail,
        FaceMatch as FaceMatch,
        FaceSearchPage as FaceSearchPage,
        FaceSearchResults as FaceSearchResults,
        Gender as Gender,
        ImageQuality as ImageQuality,
        JobState as JobState,
        JobStatus as JobStatus,
        Landmark as Landmark,
        PersonDetail as PersonDetail,
        PersonMatch as PersonMatch,
        Pose as Pose,
        VideoMetadata as VideoMetadata,
    )
    from .retry import (
        RetryPolicy as RetryPolicy,
    )
    from .tokens import (
        derive_client_request_token as derive_client_request_token,
    )


__version__ = "0.1.0"

#: The one table of lazily loaded public names and their modules. `__all__` and the
#: ``TYPE_CHECKING`` imports above list the same names: tests/test_public_api.py holds
#: all three equal (type checkers need static imports, so they cannot be generated).
_LAZY: dict[str, str] = {
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
    "BoundingBox",
    "Completion",
    "CompletionNotification",
    "ConfigurationError",
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
    "SqsNotificationPoller",
    "ThrottlingError",
    "TransportError",
    "VideoMetadata",
    "VideoTooLargeError",
    "__version__",
    "derive_client_request_token",
    "parse_notification",
]
