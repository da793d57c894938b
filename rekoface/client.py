"""`FaceSearchClient`: the facade that ties requests, tokens, retries, waiting and results.

The logic a future asyncio facade needs (validation, tokens, error mapping, retry
decisions, parsing) lives in plain functions in the other modules; this class only
sequences boto3 calls.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ._translate import translated
from ._validation import check_number, check_string, raise_if_any
from .errors import (
    ConfigurationError,
    FieldError,
    JobFailedError,
    RequestValidationError,
)

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config
    from mypy_boto3_rekognition import RekognitionClient
    from mypy_boto3_sqs import SQSClient

    from .completions import Completion
    from .models import FaceSearchJob, FaceSearchRequest
    from .pollers import Poller
    from .results import FaceSearchResults, JobStatus
    from .retry import RetryPolicy

__all__ = ["FaceSearchClient"]

logger = logging.getLogger("rekoface")

_T = TypeVar("_T")


class FaceSearchClient:
    """Start face searches, wait for them, and read their matches.

    With no `boto3_client`, one is built from `boto3_session` (or boto3's default
    session) with `region_name`, `endpoint_url` and `config`, with botocore's own
    retries turned off so `retry` is the only retry layer. A client passed in keeps its
    own botocore retry settings: with ``retry=None`` rekoface then retries only if that
    client's botocore retries are off (``total_max_attempts=1`` or ``max_attempts=0``),
    so exactly one layer retries either way.
    """

    def __init__(
        self,
        boto3_client: RekognitionClient | None = None,
        *,
        boto3_session: boto3.Session | None = None,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        config: Config | None = None,
        retry: RetryPolicy | None = None,
        poller: Poller | None = None,
    ) -> None:
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
            self._client = boto3_client
            self._botocore_retries = _botocore_retries_on(boto3_client)
        else:
            self._client = _build_client(boto3_session, region_name, endpoint_url, config)
            self._botocore_retries = False
        self._session = boto3_session
        self._retry = retry
        self._poller = poller

    def __repr__(self) -> str:
        region = self._client.meta.region_name
        return f"<FaceSearchClient region={region!r}>"

    @property
    def boto3_client(self) -> RekognitionClient:
        """The boto3 Rekognition client every call goes through."""
        return self._client

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy in force (built on first use, so construction stays cheap)."""
        if self._retry is None:
            from .retry import RetryPolicy

            self._retry = RetryPolicy.never() if self._botocore_retries else RetryPolicy()
        return self._retry

    # -- starting -----------------------------------------------------------------

    def start(
        self, request: FaceSearchRequest, *, idempotency_key: str | None = None
    ) -> FaceSearchJob:
        """Start one face search (``StartFaceSearch``) and return its job.

        Every call sends a ``ClientRequestToken``: the request's own, one derived from
        `idempotency_key` (the same key and request give the same job for 7 days), or
        a fresh random one. Retries of this call reuse it, so they never start a
        second job.
        """
        request_type, job_type = _request_types()
        derive, make_random = _token_makers()
        given: object = request  # callers without type checking pass anything
        if not isinstance(given, request_type):
            raise RequestValidationError(
                [
                    FieldError(
                        "request",
                        f"must be a FaceSearchRequest, not {type(given).__name__}",
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
        params = request.to_api(token)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "StartFaceSearch %s collection=%s", request.video.uri, request.collection_id
            )
        response = self._call(
            "StartFaceSearch", self._client.start_face_search, params, client_request_token=token
        )
        job = job_type(response["JobId"], token, request)
        logger.info("started face search job %s", job.job_id)
        return job

    # -- status and waiting -----------------------------------------------------------

    def status(self, job: FaceSearchJob | str) -> JobStatus:
        """The job's state now: one ``GetFaceSearch`` asking for the smallest page."""
        return self._status(job_id_of(job))

    def _status(self, job_id: str) -> JobStatus:
        response = self._call(
            "GetFaceSearch", self._client.get_face_search, {"JobId": job_id, "MaxResults": 1}
        )
        return _status_parser()(response, job_id)

    def wait(
        self,
        job: FaceSearchJob | str,
        *,
        poller: Poller | None = None,
        timeout: float | None = None,
    ) -> JobStatus:
        """Block until the job ends, and return its final status.

        Raises `JobFailedError` if it FAILED and `PollTimeoutError` if `timeout`
        (which overrides the poller's own) passes first. Throttled status calls are
        retried by the retry policy, not fatal.
        """
        from .results import JobState

        job_id = job_id_of(job)
        if timeout is not None:
            errors: list[FieldError] = []
            _check_positive(errors, "timeout", timeout)
            raise_if_any(errors)
        chosen = poller or self._poller or _default_poller()
        bind = getattr(chosen, "bind_session", None)
        if callable(bind):
            bind(self._session, self._client.meta.region_name)
        status = chosen.wait(job_id, self._status, timeout=timeout)
        if status.state is JobState.FAILED:
            raise JobFailedError(job_id, status.status_message)
        return status

    # -- results --------------------------------------------------------------------

    def results(
        self,
        job: FaceSearchJob | str,
        *,
        sort_by: str = "TIMESTAMP",
        page_size: int = 1000,
        next_token: str | None = None,
        min_similarity: float | None = None,
    ) -> FaceSearchResults:
        """The job's matches, fetched lazily page by page as they are iterated.

        Nothing is fetched until iteration starts. `page_size` is ``MaxResults`` (the
        service serves more than 1000 as 1000); `next_token` resumes where a page of
        `FaceSearchResults.pages` left off (tokens live 24 hours).
        """
        from .results import FaceSearchResults

        job_id = job_id_of(job)
        errors: list[FieldError] = []
        check_string(errors, "SortBy", sort_by)
        if isinstance(page_size, bool) or not isinstance(page_size, int):
            errors.append(
                FieldError(
                    "MaxResults",
                    f"must be an int, not {type(page_size).__name__}",
                    "int >= 1",
                )
            )
        elif page_size < 1:
            errors.append(FieldError("MaxResults", f"{page_size} is out of range", ">= 1"))
        if next_token is not None:
            check_string(errors, "NextToken", next_token)
        if min_similarity is not None:
            check_number(errors, "FaceMatchThreshold", min_similarity)
            errors = [
                e._replace(path="min_similarity") if e.path == "FaceMatchThreshold" else e
                for e in errors
            ]
        raise_if_any(errors)
        base: dict[str, Any] = {"JobId": job_id, "MaxResults": page_size, "SortBy": sort_by}

        def fetch_page(token: str | None) -> Mapping[str, Any]:
            params = base if token is None else {**base, "NextToken": token}
            return self._call("GetFaceSearch", self._client.get_face_search, params)

        return FaceSearchResults(
            job_id, fetch_page, next_token=next_token, min_similarity=min_similarity
        )

    def search(
        self,
        request: FaceSearchRequest,
        *,
        idempotency_key: str | None = None,
        poller: Poller | None = None,
        timeout: float | None = None,
        sort_by: str = "TIMESTAMP",
        page_size: int = 1000,
    ) -> FaceSearchResults:
        """Start a face search, wait for it to end, and return its results."""
        job = self.start(request, idempotency_key=idempotency_key)
        self.wait(job, poller=poller, timeout=timeout)
        return self.results(job, sort_by=sort_by, page_size=page_size)

    # -- worker fleets --------------------------------------------------------------

    def completions(
        self,
        queue_url: str,
        *,
        sqs_client: SQSClient | None = None,
        wait_time_seconds: int = 20,
        idle_timeout: float | None = None,
        visibility_timeout: int | None = None,
        max_messages: int = 1,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> Iterator[Completion]:
        """Yield each face-search completion that arrives on a queue shared by workers.

        Each is a context manager: its message is deleted only when the ``with`` block
        exits without an exception (at-least-once: make the handling idempotent).
        Without `sqs_client`, one is built from this client's session for the region
        in `queue_url` (the client's region when the URL names none).
        """
        import time

        from .completions import iter_completions

        client = sqs_client if sqs_client is not None else self._sqs_client(queue_url)
        return iter_completions(
            client,
            queue_url,
            wait_time_seconds=wait_time_seconds,
            idle_timeout=idle_timeout,
            visibility_timeout=visibility_timeout,
            max_messages=max_messages,
            sleep=sleep if sleep is not None else time.sleep,
            clock=clock if clock is not None else time.monotonic,
        )

    def _sqs_client(self, queue_url: object) -> SQSClient:
        """An SQS client from this client's session, in the queue's region (`_sqs`'s rule)."""
        from ._sqs import make_sqs_client

        url = queue_url if isinstance(queue_url, str) else ""  # bad URLs: refused later, typed
        return make_sqs_client(self._session, self._client.meta.region_name, url)

    # -- the one place boto3 is called ----------------------------------------------

    def _call(
        self,
        operation: str,
        method: Callable[..., _T],
        params: Mapping[str, Any],
        *,
        client_request_token: str | None = None,
    ) -> _T:
        """Call `method(**params)` under the retry policy, mapping failures to typed errors."""
        with translated(operation, client_request_token=client_request_token):
            return self.retry.call(lambda: method(**params), operation_name=operation)


def job_id_of(job: FaceSearchJob | str) -> str:
    """The JobId of a `FaceSearchJob` or a job-id string, validated as the service does."""
    job_id: object = job if isinstance(job, str) else getattr(job, "job_id", job)
    errors: list[FieldError] = []
    check_string(errors, "JobId", job_id)
    raise_if_any(errors)
    return str(job_id)


# The names below load on first use, not with `import rekoface.client` (attrs and the
# result models cost more to import than boto3's client); cached so a hot call does not
# go through the import machinery each time.


@functools.cache
def _request_types() -> tuple[type[FaceSearchRequest], type[FaceSearchJob]]:
    from .models import FaceSearchJob, FaceSearchRequest

    return FaceSearchRequest, FaceSearchJob


@functools.cache
def _token_makers() -> tuple[Callable[[FaceSearchRequest, str], str], Callable[[], str]]:
    from .tokens import derive_client_request_token, random_client_request_token

    return derive_client_request_token, random_client_request_token


@functools.cache
def _status_parser() -> Callable[[Mapping[str, Any], str], JobStatus]:
    from .results import parse_job_status

    return parse_job_status


def _check_positive(errors: list[FieldError], path: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        errors.append(FieldError(path, f"{value!r} is not a positive number", "> 0"))


def _default_poller() -> Poller:
    from .pollers import BackoffPoller

    return BackoffPoller()


def _botocore_retries_on(client: Any) -> bool:
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


def _build_client(
    session: boto3.Session | None,
    region_name: str | None,
    endpoint_url: str | None,
    config: Config | None,
) -> RekognitionClient:
    """A Rekognition client with botocore's retries off, or a `ConfigurationError`."""
    import boto3
    from botocore.config import Config

    # botocore's own retries, off: rekoface's `RetryPolicy` is the one retry layer.
    no_retries = Config(retries={"mode": "standard", "total_max_attempts": 1})
    merged = no_retries if config is None else config.merge(no_retries)
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
            f"cannot build a Rekognition client: {err} "
            "(check endpoint_url: it needs a scheme and host, e.g. http://127.0.0.1:5000)"
        ) from err
