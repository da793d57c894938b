"""Everything the face-search client decides, with no I/O: shared by every facade.

`FaceSearchClient` (and the asyncio client after it) only sequences calls: it asks
this module what to send, sends it through its transport under the retry policy, and
asks this module what the answer means. So argument checks, token choice, request
building, the retry default and status and page parsing exist once (httpx's
``BaseClient`` plays the same part for ``Client`` and ``AsyncClient``).

This module imports the rest of the package lazily: attrs, tenacity and the result
models load on first use, so building a client stays as cheap as ``boto3.client``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from ._translate import redact_url
from ._validation import check_number, check_string, is_finite_number, raise_if_any
from .errors import ConfigurationError, FieldError, JobFailedError, RequestValidationError

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config
    from mypy_boto3_rekognition.type_defs import (
        GetFaceSearchRequestTypeDef,
        StartFaceSearchRequestTypeDef,
    )

    from .models import FaceSearchJob, FaceSearchRequest
    from .pollers import Poller
    from .retry import RetryPolicy
    from .status import JobStatus

__all__ = [
    "StartCall",
    "botocore_retries_on",
    "check_client_arguments",
    "check_search_arguments",
    "check_wait_timeout",
    "default_retry",
    "final_status",
    "job_id_of",
    "new_job",
    "no_retries_config",
    "parse_status",
    "results_params",
    "start_call",
    "status_params",
]

logger = logging.getLogger("rekoface")

# -- building a client --------------------------------------------------------------------


def check_client_arguments(
    *,
    boto3_client: object,
    boto3_session: object,
    region_name: object,
    endpoint_url: object,
    config: object,
    retry: object,
    poller: object,
    client_name: str = "FaceSearchClient",
) -> None:
    """Raise one `ConfigurationError` naming every argument of the wrong kind."""
    problems: list[str] = []

    def bad(name: str, value: object, wanted: str) -> None:
        problems.append(f"{name} must be {wanted}, not {type(value).__name__}")

    if boto3_client is not None and not callable(getattr(boto3_client, "start_face_search", None)):
        bad("boto3_client", boto3_client, 'a boto3 "rekognition" client')
    if boto3_session is not None and not callable(getattr(boto3_session, "client", None)):
        bad("boto3_session", boto3_session, "a boto3.Session")
    for name, value in (("region_name", region_name), ("endpoint_url", endpoint_url)):
        if value is not None and not isinstance(value, str):
            bad(name, value, "a str")
    if config is not None:
        from botocore.config import Config

        if not isinstance(config, Config):
            bad("config", config, "a botocore.config.Config")
    if retry is not None:
        from .retry import RetryPolicy

        if not isinstance(retry, RetryPolicy):
            bad("retry", retry, "a rekoface.RetryPolicy")
    if poller is not None and not callable(getattr(poller, "wait", None)):
        bad("poller", poller, "a Poller (an object with a wait method)")
    if problems:
        raise ConfigurationError(f"{client_name}: " + "; ".join(problems))
    if boto3_client is not None:
        given = [
            name
            for name, value in (
                ("boto3_session", boto3_session),
                ("region_name", region_name),
                ("endpoint_url", endpoint_url),
                ("config", config),
            )
            if value is not None
        ]
        if given:
            raise ConfigurationError(
                f"pass either boto3_client or the settings to build one, not both "
                f"(also given: {', '.join(given)})"
            )


def no_retries_config(config: Config | None) -> Config:
    """`config` with botocore's own retries off: rekoface's `RetryPolicy` is the one layer."""
    from botocore.config import Config

    no_retries = Config(retries={"mode": "standard", "total_max_attempts": 1})
    return no_retries if config is None else config.merge(no_retries)


def build_rekognition_client(
    session: boto3.Session | None,
    region_name: str | None,
    endpoint_url: str | None,
    config: Config | None,
) -> Any:
    """A boto3 Rekognition client with botocore's retries off, or a `ConfigurationError`."""
    import boto3

    from ._translate import translated

    merged = no_retries_config(config)
    try:
        with translated("create a Rekognition client"):
            if session is not None:
                return session.client(  # pyright: ignore[reportUnknownMemberType]
                    "rekognition",
                    region_name=region_name,
                    endpoint_url=endpoint_url,
                    config=merged,
                )
            return boto3.client(  # pyright: ignore[reportUnknownMemberType]
                "rekognition", region_name=region_name, endpoint_url=endpoint_url, config=merged
            )
    except ValueError as err:
        raise ConfigurationError(
            f"cannot build a Rekognition client: {redact_url(str(err))} "
            "(check endpoint_url: it needs a scheme and host, e.g. http://127.0.0.1:5000)"
        ) from err


def botocore_retries_on(client: Any) -> bool:
    """Whether a boto3 client retries on its own (so rekoface should not, by default)."""
    retries: Mapping[str, Any] = (
        getattr(getattr(client.meta, "config", None), "retries", None) or {}
    )
    total = retries.get("total_max_attempts")
    if total is not None:
        return int(total) > 1
    legacy = retries.get("max_attempts")
    if legacy is not None:
        return int(legacy) > 0
    return True  # botocore's defaults (legacy or standard mode) retry


def default_retry(botocore_retries: bool) -> RetryPolicy:
    """``retry=None``: rekoface retries unless the boto3 client already does."""
    from .retry import RetryPolicy

    return RetryPolicy.never() if botocore_retries else RetryPolicy()


# -- starting -----------------------------------------------------------------------------


#: What an input of `search_many` yields when it has nothing to start yet but is not
#: done (`rekoface.work_queue`): the batch gets on with its jobs and asks again later.
NOTHING_YET: Final[Any] = object()


class StartCall(NamedTuple):
    """What one `start` sends: the ``StartFaceSearch`` parameters and the token in them."""

    params: StartFaceSearchRequestTypeDef
    token: str


def start_call(request: object, idempotency_key: str | None) -> StartCall:
    """Check a `start` call's arguments and choose its ``ClientRequestToken``.

    The request's own token, one derived from `idempotency_key`, or a fresh random one;
    retries of the call reuse it, so they never start a second job.
    """
    request_type, _ = _request_types()
    derive, make_random = _token_makers()
    if not isinstance(request, request_type):
        raise RequestValidationError(
            [
                FieldError(
                    "request",
                    f"must be a FaceSearchRequest, not {type(request).__name__}",
                    "FaceSearchRequest",
                )
            ]
        )
    if idempotency_key is not None:
        if request.client_request_token is not None:
            raise RequestValidationError(
                [
                    FieldError(
                        "idempotency_key",
                        "cannot be combined with the request's client_request_token",
                        "one of idempotency_key, client_request_token",
                    )
                ]
            )
        token = derive(request, idempotency_key)
    else:
        token = request.client_request_token or make_random()
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("StartFaceSearch %s collection=%s", request.video.uri, request.collection_id)
    return StartCall(request.to_api(token), token)


def new_job(
    response: Mapping[str, Any], call: StartCall, request: FaceSearchRequest
) -> FaceSearchJob:
    """The job a ``StartFaceSearch`` answer names.

    Filled through a builder (`rekoface._lazy`): attrs' ``__init__`` of a frozen class
    goes through ``object.__setattr__`` per field, a measurable share of a start's own
    cost.
    """
    job_type, job_builder = _job_builder()
    job = job_builder()
    job.job_id = response["JobId"]
    job.client_request_token = call.token
    job.request = request
    job.__class__ = job_type
    started: FaceSearchJob = job
    if logger.isEnabledFor(logging.INFO):
        logger.info("started face search job %s", started.job_id)
    return started


# -- status and waiting -------------------------------------------------------------------


def job_id_of(job: object) -> str:
    """The JobId of a `FaceSearchJob` or a job-id string, validated as the service does."""
    job_id: object = job if isinstance(job, str) else getattr(job, "job_id", job)
    errors: list[FieldError] = []
    check_string(errors, "JobId", job_id)
    raise_if_any(errors)
    return str(job_id)


def status_params(job_id: str) -> GetFaceSearchRequestTypeDef:
    """The smallest ``GetFaceSearch`` that tells a job's state."""
    return {"JobId": job_id, "MaxResults": 1}


def parse_status(response: Mapping[str, Any], job_id: str) -> JobStatus:
    """The `JobStatus` in a ``GetFaceSearch`` answer."""
    return _status_parser()(response, job_id)


def check_wait_timeout(timeout: object) -> None:
    """`timeout` of `wait`/`search`: `None` or a finite number of seconds > 0."""
    if timeout is None:
        return
    if not is_finite_number(timeout) or not timeout > 0:  # type: ignore[operator]
        raise RequestValidationError(
            [FieldError("timeout", f"{_shown(timeout)} is not a positive number", "finite, > 0")]
        )


def check_search_arguments(timeout: object, sort_by: object, page_size: object) -> None:
    """`search`'s checks, all made before the job starts, so none is left running unwatched."""
    check_wait_timeout(timeout)
    results_params("0", sort_by=sort_by, page_size=page_size, next_token=None, min_similarity=None)


def pick_poller(given: Poller | None, configured: Poller | None) -> Poller:
    """The poller of one `wait`: its own, else the client's, else a `BackoffPoller`."""
    if given is not None:
        return given
    if configured is not None:
        return configured
    from .pollers import BackoffPoller

    return BackoffPoller()


def final_status(status: JobStatus) -> JobStatus:
    """The end of a wait: a FAILED job raises `JobFailedError` with the service's message."""
    if status.state == "FAILED":
        raise JobFailedError(status.job_id, status.status_message)
    return status


# -- results ------------------------------------------------------------------------------


def results_params(
    job_id: str,
    *,
    sort_by: object,
    page_size: object,
    next_token: object,
    min_similarity: object,
) -> dict[str, Any]:
    """The ``GetFaceSearch`` parameters of a results iteration, every argument checked."""
    errors: list[FieldError] = []
    check_string(errors, "SortBy", sort_by)
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        errors.append(
            FieldError("MaxResults", f"must be an int, not {type(page_size).__name__}", "int >= 1")
        )
    elif page_size < 1:
        errors.append(FieldError("MaxResults", f"{_shown(page_size)} is out of range", ">= 1"))
    if next_token is not None:
        check_string(errors, "NextToken", next_token)
    if min_similarity is not None:
        found: list[FieldError] = []
        check_number(found, "FaceMatchThreshold", min_similarity)
        errors.extend(e._replace(path="min_similarity") for e in found)
    raise_if_any(errors)
    return {"JobId": job_id, "MaxResults": page_size, "SortBy": sort_by}


def page_params(base: Mapping[str, Any], token: str | None) -> Mapping[str, Any]:
    """One page's parameters: the iteration's, plus the token that resumes it."""
    return base if token is None else {**base, "NextToken": token}


# -- lazily loaded, cached: a hot call never goes through the import machinery ------------


@functools.cache
def _request_types() -> tuple[type[FaceSearchRequest], type[FaceSearchJob]]:
    from .models import FaceSearchJob, FaceSearchRequest

    return FaceSearchRequest, FaceSearchJob


@functools.cache
def _job_builder() -> tuple[type[FaceSearchJob], Any]:
    from ._lazy import builder

    _, job_type = _request_types()
    return job_type, builder(job_type)


@functools.cache
def _token_makers() -> tuple[Callable[[FaceSearchRequest, str], str], Callable[[], str]]:
    from .tokens import derive_client_request_token, random_client_request_token

    return derive_client_request_token, random_client_request_token


@functools.cache
def _status_parser() -> Callable[[Mapping[str, Any], str], JobStatus]:
    from .status import parse_job_status

    return parse_job_status


def _shown(value: object) -> str:
    from ._validation import shown

    return shown(value)
