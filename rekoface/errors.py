"""Everything rekoface raises, in one tree.

```
RekoFaceError                          base of everything the library raises
├── RequestValidationError(ValueError) client-side; every failing field, by API path
├── ConfigurationError                 no region, no credentials, a bad endpoint
├── ServiceError(ClientError)          the service said no: code, message, request_id, ...
│   ├── AccessDeniedError              ├── ProvisionedThroughputExceededError (retryable)
│   ├── IdempotentParameterMismatchError├── LimitExceededError   (retried only on opt-in)
│   ├── InvalidParameterError          ├── ResourceNotFoundError
│   ├── InvalidS3ObjectError           ├── ThrottlingError                    (retryable)
│   ├── InternalServerError (retryable)├── InvalidPaginationTokenError
│   ├── VideoTooLargeError             ├── ImageTooLargeError
│   ├── InvalidImageFormatError        ├── ResourceAlreadyExistsError
│   └── ServiceQuotaExceededError
├── CollectionNotReadyError            a collection is missing or holds no faces
├── TransportError                     connection / read-timeout errors, after retries
├── NotificationError(ValueError)      a message that is not a completion notification
└── JobError                           about one job: job_id
    ├── JobNotCompleteError            results asked of a job still IN_PROGRESS
    ├── JobFailedError                 status_message
    └── PollTimeoutError               elapsed seconds
```

A `ServiceError` is still a `botocore.exceptions.ClientError` with the same
``response["Error"]["Code"]``, so existing ``except ClientError`` code keeps working.
Every error pickles back to its own class with its fields: botocore's
``ClientError.__reduce__`` would turn them into plain ``ClientError``s.

This module imports nothing else of the package.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar, Final, NamedTuple

from botocore.exceptions import ClientError

__all__ = [
    "AccessDeniedError",
    "CollectionNotReadyError",
    "ConfigurationError",
    "FieldError",
    "IdempotentParameterMismatchError",
    "ImageTooLargeError",
    "InternalServerError",
    "InvalidImageFormatError",
    "InvalidPaginationTokenError",
    "InvalidParameterError",
    "InvalidS3ObjectError",
    "JobError",
    "JobFailedError",
    "JobNotCompleteError",
    "LimitExceededError",
    "NotificationError",
    "PollTimeoutError",
    "ProvisionedThroughputExceededError",
    "RekoFaceError",
    "RequestValidationError",
    "ResourceAlreadyExistsError",
    "ResourceNotFoundError",
    "ServiceError",
    "ServiceQuotaExceededError",
    "ThrottlingError",
    "TransportError",
    "VideoTooLargeError",
    "error_class_for_code",
    "is_transient_error",
    "is_transient_exception",
    "service_error_from_client_error",
]


class RekoFaceError(Exception):
    """Base class of every exception rekoface raises.

    `client_request_token` is the ``ClientRequestToken`` of the start that failed, on
    every error `FaceSearchClient.start` raises after choosing one (`None` elsewhere):
    start again with that token to get the job the service may already have made.
    """

    client_request_token: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self.args, self.__dict__ or None)


class FieldError(NamedTuple):
    """One failing field: its API path, what is wrong with the value, and the rule.

    A named tuple rather than an attrs class: this module is imported by
    ``import rekoface`` paths that must stay as cheap as ``import boto3``.
    """

    path: str
    problem: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem} (rule: {self.rule})"


class RequestValidationError(RekoFaceError, ValueError):
    """A request failed client-side validation; `errors` lists every failing field."""

    def __init__(self, errors: tuple[FieldError, ...] | list[FieldError]) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        count = len(self.errors)
        noun = "field" if count == 1 else "fields"
        lines = "; ".join(str(e) for e in self.errors)
        super().__init__(f"{count} invalid {noun}: {lines}")

    @property
    def paths(self) -> tuple[str, ...]:
        """The API paths of the failing fields, in the order they were checked."""
        return tuple(e.path for e in self.errors)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.errors,), self.__dict__)


class ConfigurationError(RekoFaceError):
    """The client cannot be set up: the message says what to set."""


class TransportError(RekoFaceError):
    """The request never got an answer (connection or read timeout), after retries."""

    def __init__(self, message: str, *, operation_name: str | None = None) -> None:
        super().__init__(message)
        self.operation_name = operation_name

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (type(self), (str(self),), {"operation_name": self.operation_name}),
            self.__dict__,
        )


class NotificationError(RekoFaceError, ValueError):
    """A message is not a Rekognition completion notification; the text says why."""


class JobError(RekoFaceError):
    """Something about one job stopped the call: `job_id` says which job."""

    job_id: str


class JobNotCompleteError(JobError):
    """Results were asked of a job that is still IN_PROGRESS."""

    def __init__(self, job_id: str, state: str = "IN_PROGRESS") -> None:
        super().__init__(f"job {job_id} is {state}: wait for it before reading results")
        self.job_id = job_id
        self.state = state

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.job_id, self.state), self.__dict__)


class JobFailedError(JobError):
    """The job ended FAILED; `status_message` is the service's explanation."""

    def __init__(self, job_id: str, status_message: str | None) -> None:
        super().__init__(f"job {job_id} failed: {status_message or 'no status message'}")
        self.job_id = job_id
        self.status_message = status_message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.job_id, self.status_message), self.__dict__)


class PollTimeoutError(JobError):
    """Waiting for a job took longer than its timeout; the job itself goes on."""

    def __init__(self, job_id: str, elapsed: float) -> None:
        super().__init__(f"job {job_id} still IN_PROGRESS after {elapsed:.1f}s of waiting")
        self.job_id = job_id
        self.elapsed = elapsed

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.job_id, self.elapsed), self.__dict__)


class CollectionNotReadyError(RekoFaceError):
    """A face collection cannot serve a search: it does not exist, or it holds no faces.

    A search against an empty collection runs, costs money and finds nobody, so
    `FaceCollection.check` says so before a job starts. `face_count` is `None` when the
    collection does not exist.
    """

    def __init__(self, collection_id: str, face_count: int | None) -> None:
        if face_count is None:
            text = f"collection {collection_id!r} does not exist: create it and index faces first"
        else:
            text = f"collection {collection_id!r} holds no faces: index photos of people first"
        super().__init__(text)
        self.collection_id = collection_id
        self.face_count = face_count

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.collection_id, self.face_count), self.__dict__)


class ServiceError(RekoFaceError, ClientError):
    """The service answered with an error.

    Still a `botocore.exceptions.ClientError`: ``err.response["Error"]["Code"]``
    is the service's code, so ``except ClientError`` keeps working.
    """

    #: The service's error code this class stands for (`None`: any unknown code).
    error_code: ClassVar[str | None] = None

    def __init__(self, error_response: Mapping[str, Any], operation_name: str) -> None:
        super().__init__(dict(error_response), operation_name)  # type: ignore[arg-type]

    @property
    def _error(self) -> Mapping[str, Any]:
        return self.response.get("Error", {})

    @property
    def _metadata(self) -> Mapping[str, Any]:
        return self.response.get("ResponseMetadata", {})

    @property
    def code(self) -> str:
        """The service's error code, e.g. ``ThrottlingException``."""
        return str(self._error.get("Code", "Unknown"))

    @property
    def message(self) -> str:
        """The service's error message."""
        return str(self._error.get("Message", ""))

    @property
    def request_id(self) -> str | None:
        """The AWS request id, for support cases."""
        value = self._metadata.get("RequestId")
        return str(value) if value else None

    @property
    def http_status_code(self) -> int | None:
        """The HTTP status of the error response."""
        value = self._metadata.get("HTTPStatusCode")
        return int(value) if value is not None else None

    @property
    def retryable(self) -> bool:
        """Whether botocore's standard retry mode would retry it (rekoface's default does).

        `LimitExceededError` is the exception: retried only on an opt-in slow schedule.
        """
        return is_transient_error(self.code, self.http_status_code)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.response, self.operation_name), self.__dict__)


class AccessDeniedError(ServiceError):
    """The caller may not run this operation (IAM)."""

    error_code = "AccessDeniedException"


class IdempotentParameterMismatchError(ServiceError):
    """A `ClientRequestToken` was reused with different parameters."""

    error_code = "IdempotentParameterMismatchException"


class InvalidParameterError(ServiceError):
    """The service rejected a parameter."""

    error_code = "InvalidParameterException"


class InvalidS3ObjectError(ServiceError):
    """The video cannot be read from S3 (missing, no permission, wrong region)."""

    error_code = "InvalidS3ObjectException"


class InternalServerError(ServiceError):
    """The service failed; retried by default."""

    error_code = "InternalServerError"


class VideoTooLargeError(ServiceError):
    """The video is larger than the service accepts."""

    error_code = "VideoTooLargeException"


class ProvisionedThroughputExceededError(ServiceError):
    """Too many requests for the account's throughput; retried by default."""

    error_code = "ProvisionedThroughputExceededException"


class LimitExceededError(ServiceError):
    """Too many concurrent jobs: clears only as jobs finish, so not retried blindly."""

    error_code = "LimitExceededException"


class ResourceNotFoundError(ServiceError):
    """The collection or job does not exist."""

    error_code = "ResourceNotFoundException"


class ThrottlingError(ServiceError):
    """The request rate is too high; retried by default."""

    error_code = "ThrottlingException"


class InvalidPaginationTokenError(ServiceError):
    """A `NextToken` is forged or expired (they live 24 hours)."""

    error_code = "InvalidPaginationTokenException"


class InvalidImageFormatError(ServiceError):
    """The image is not a JPEG or PNG the service can read."""

    error_code = "InvalidImageFormatException"


class ImageTooLargeError(ServiceError):
    """The image is larger than the service accepts (15 MB from S3, 5 MB as bytes)."""

    error_code = "ImageTooLargeException"


class ServiceQuotaExceededError(ServiceError):
    """An account quota (collections, faces per collection) is used up: not retried."""

    error_code = "ServiceQuotaExceededException"


class ResourceAlreadyExistsError(ServiceError):
    """The collection already exists (`FaceCollection.ensure` treats this as success)."""

    error_code = "ResourceAlreadyExistsException"


#: Too many concurrent jobs: botocore's standard mode retries it as throttling, but it
#: clears only as jobs finish, so rekoface retries it only on an opt-in slow schedule.
LIMIT_EXCEEDED_CODE: Final = "LimitExceededException"
#: HTTP 429 counts as throttling only for codes Rekognition's model does not list (a
#: modeled code has its own meaning); botocore before 1.36 did not retry 429 at all.
THROTTLING_STATUS_CODES: Final = frozenset({429})

_BY_CODE: Final[Mapping[str, type[ServiceError]]] = {
    cls.error_code: cls
    for cls in (
        AccessDeniedError,
        IdempotentParameterMismatchError,
        InvalidParameterError,
        InvalidS3ObjectError,
        InternalServerError,
        VideoTooLargeError,
        ProvisionedThroughputExceededError,
        LimitExceededError,
        ResourceNotFoundError,
        ThrottlingError,
        InvalidPaginationTokenError,
        InvalidImageFormatError,
        ImageTooLargeError,
        ServiceQuotaExceededError,
        ResourceAlreadyExistsError,
    )
    if cls.error_code is not None
}


def error_class_for_code(code: str) -> type[ServiceError]:
    """The `ServiceError` subclass for a service error code (`ServiceError` if unknown)."""
    return _BY_CODE.get(code, ServiceError)


def is_transient_error(code: str, http_status_code: int | None) -> bool:
    """Whether botocore's standard retry mode retries an error with this code and status.

    Asks botocore's own standard-mode checkers (``botocore/retries/standard.py``), so a
    botocore update that changes what is transient changes it here too. Two deliberate
    differences: ``LimitExceededException`` is not transient (it clears only as jobs
    finish), and ``InternalServerError`` is transient whatever its status (Rekognition
    sends it at HTTP 500, which botocore retries by status). HTTP 429 counts only for
    codes the Rekognition model does not list.
    """
    if code == LIMIT_EXCEEDED_CODE:
        return False
    if code == "InternalServerError":
        return True
    if http_status_code in THROTTLING_STATUS_CODES and code not in _BY_CODE:
        return True
    context, checkers = _standard_context(code, http_status_code), _standard_checkers()
    return any(checker.is_retryable(context) for checker in checkers)


def is_transient_exception(exc: BaseException) -> bool:
    """Whether botocore's standard mode retries `exc` when no answer came (connection,
    read timeout, SSL, proxy, closed connection, a cut-short response stream)."""
    from botocore.retries.standard import RetryContext

    context = RetryContext(1, caught_exception=exc)  # type: ignore[arg-type]
    return bool(_standard_checkers()[1].is_retryable(context))


class _Status:
    """The one part of an HTTP response botocore's checkers read."""

    __slots__ = ("status_code",)

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def _standard_context(code: str, http_status_code: int | None) -> Any:
    from botocore.retries.standard import RetryContext

    return RetryContext(
        1,
        parsed_response={"Error": {"Code": code}},
        http_response=None if http_status_code is None else _Status(http_status_code),
    )


@functools.cache
def _standard_checkers() -> tuple[Any, Any]:
    """botocore's throttling and transient checkers (imported on the first failure only)."""
    from botocore.retries import standard

    return standard.ThrottledRetryableChecker(), standard.TransientRetryableChecker()


def service_error_from_client_error(err: ClientError) -> ServiceError:
    """The typed twin of a botocore `ClientError`, ready to ``raise ... from err``."""
    if isinstance(err, ServiceError):
        return err
    code = str(err.response.get("Error", {}).get("Code", "Unknown"))
    return error_class_for_code(code)(err.response, err.operation_name)


def _rebuild(cls: type[Exception], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Exception:
    return cls(*args, **kwargs)
