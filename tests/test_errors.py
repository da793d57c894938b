"""The error tree: typed, still ClientErrors, complete against the model, and picklable."""

from __future__ import annotations

import pickle
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

import rekoface
from rekoface import errors
from rekoface.errors import (
    FieldError,
    JobFailedError,
    JobNotCompleteError,
    LimitExceededError,
    PollTimeoutError,
    RequestValidationError,
    ServiceError,
    ThrottlingError,
    TransportError,
    error_class_for_code,
    service_error_from_client_error,
)


def _response(code: str, status: int = 400, message: str = "boom") -> Any:
    return {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"RequestId": "req-123", "HTTPStatusCode": status},
    }


def _model_error_codes() -> set[str]:
    model = botocore.session.get_session().get_service_model("rekognition")
    return {
        shape.error_code  # type: ignore[attr-defined]
        for op in ("StartFaceSearch", "GetFaceSearch")
        for shape in model.operation_model(op).error_shapes
    }


@pytest.mark.parametrize("code", sorted(_model_error_codes()))
def test_every_error_code_of_both_operations_has_its_own_class(code: str) -> None:
    cls = error_class_for_code(code)
    assert cls is not ServiceError
    assert cls.error_code == code
    assert cls.__name__ in rekoface.__all__
    assert getattr(rekoface, cls.__name__) is cls


def test_unknown_code_is_a_plain_service_error() -> None:
    err = service_error_from_client_error(ClientError(_response("BrandNewException"), "Op"))
    assert type(err) is ServiceError
    assert err.code == "BrandNewException"


def test_typed_error_keeps_every_field_and_stays_a_client_error() -> None:
    original = ClientError(_response("ThrottlingException", 400, "Rate exceeded"), "GetFaceSearch")
    err = service_error_from_client_error(original)
    assert isinstance(err, ThrottlingError)
    assert isinstance(err, ClientError)
    assert err.response["Error"]["Code"] == "ThrottlingException"
    assert (err.code, err.message, err.request_id, err.http_status_code, err.operation_name) == (
        "ThrottlingException",
        "Rate exceeded",
        "req-123",
        400,
        "GetFaceSearch",
    )
    assert err.retryable
    assert "Rate exceeded" in str(err)
    assert service_error_from_client_error(err) is err


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [
        ("ThrottlingException", 400, True),
        ("ThrottlingException", 500, True),
        ("ProvisionedThroughputExceededException", 400, True),
        ("InternalServerError", 500, True),
        ("SomethingNew", 503, True),
        ("SomethingNew", 429, True),
        ("AccessDeniedException", 429, False),
        ("LimitExceededException", 400, False),
        ("InvalidParameterException", 400, False),
        ("IdempotentParameterMismatchException", 400, False),
        ("InvalidPaginationTokenException", 400, False),
        ("AccessDeniedException", 403, False),
    ],
)
def test_retryable_flag(code: str, status: int, retryable: bool) -> None:
    err = service_error_from_client_error(ClientError(_response(code, status), "StartFaceSearch"))
    assert err.retryable is retryable


def test_missing_metadata_gives_none_not_a_crash() -> None:
    err = LimitExceededError({"Error": {"Code": "LimitExceededException"}}, "StartFaceSearch")
    assert (err.request_id, err.http_status_code, err.message) == (None, None, "")


@pytest.mark.parametrize(
    "err",
    [
        service_error_from_client_error(ClientError(_response("ThrottlingException"), "Op")),
        service_error_from_client_error(ClientError(_response("Novel"), "Op")),
        RequestValidationError([FieldError("CollectionId", "bad", "rule")]),
        TransportError("no answer", operation_name="GetFaceSearch"),
        JobFailedError("job-1", "video unreadable"),
        JobNotCompleteError("job-1"),
        PollTimeoutError("job-1", 12.5),
        errors.ConfigurationError("set AWS_REGION"),
        errors.NotificationError("not JSON"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_survive_pickling_with_class_and_fields(err: Exception) -> None:
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is type(err)
    assert str(copy) == str(err)
    assert vars(copy) == vars(err)


def test_validation_error_message_lists_every_field() -> None:
    err = RequestValidationError(
        [FieldError("A", "is bad", "rule-a"), FieldError("B.C", "is worse", "rule-b")]
    )
    assert str(err) == "2 invalid fields: A: is bad (rule: rule-a); B.C: is worse (rule: rule-b)"
    assert err.paths == ("A", "B.C")
    assert isinstance(err, ValueError)


def test_tree_shape() -> None:
    for name in rekoface.__all__:
        value = getattr(rekoface, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, errors.RekoFaceError)
    assert issubclass(errors.NotificationError, ValueError)
    assert str(PollTimeoutError("j", 3.0)) == "job j still IN_PROGRESS after 3.0s of waiting"
    assert JobFailedError("j", None).status_message is None


def test_job_errors_share_a_base_with_the_job_id() -> None:
    from rekoface import JobError

    raised = [
        rekoface.JobFailedError("job-1", "bad video"),
        rekoface.JobNotCompleteError("job-2"),
        rekoface.PollTimeoutError("job-3", 12.5),
    ]
    for err, job_id in zip(raised, ("job-1", "job-2", "job-3"), strict=True):
        assert isinstance(err, JobError)
        assert isinstance(err, rekoface.RekoFaceError)
        assert err.job_id == job_id
        copy = pickle.loads(pickle.dumps(err))
        assert type(copy) is type(err)
        assert copy.job_id == job_id
    assert not issubclass(rekoface.ServiceError, JobError)
