"""`FaceSearchClient`: the facade that ties requests, tokens, retries, waiting and results.

The facade only sequences boto3 calls; every decision (argument checks, token choice,
request building, the retry default, status and page parsing) is a plain function in
`rekoface._core`, which an asyncio facade reuses unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from . import _core
from ._core import job_id_of
from ._translate import translate
from ._validation import raise_if_any
from .errors import FieldError

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config
    from mypy_boto3_rekognition import RekognitionClient
    from mypy_boto3_sqs import SQSClient

    from .batch import BatchOutcome, BatchProgress
    from .collection import FaceCollection
    from .completions import Completion
    from .models import FaceSearchJob, FaceSearchRequest
    from .pollers import Poller
    from .results import FaceSearchResults
    from .retry import RetryPolicy
    from .slots import SlotStore
    from .status import JobStatus

__all__ = ["FaceSearchClient", "job_id_of"]

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
        _core.check_client_arguments(
            boto3_client=boto3_client,
            boto3_session=boto3_session,
            region_name=region_name,
            endpoint_url=endpoint_url,
            config=config,
            retry=retry,
            poller=poller,
        )
        if boto3_client is not None:
            self._client = boto3_client
            self._botocore_retries = _core.botocore_retries_on(boto3_client)
        else:
            self._client = _core.build_rekognition_client(
                boto3_session, region_name, endpoint_url, config
            )
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
            self._retry = _core.default_retry(self._botocore_retries)
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
        call = _core.start_call(request, idempotency_key)
        response = self._call(
            "StartFaceSearch",
            self._client.start_face_search,
            call.params,
            client_request_token=call.token,
        )
        return _core.new_job(response, call, request)

    # -- status and waiting -----------------------------------------------------------

    def status(self, job: FaceSearchJob | str) -> JobStatus:
        """The job's state now: one ``GetFaceSearch`` asking for the smallest page."""
        return self._status(job_id_of(job))

    def _status(self, job_id: str) -> JobStatus:
        response = self._call(
            "GetFaceSearch", self._client.get_face_search, _core.status_params(job_id)
        )
        return _core.parse_status(response, job_id)

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
        job_id = job_id_of(job)
        _core.check_wait_timeout(timeout)
        chosen = _core.pick_poller(poller, self._poller)
        bind = getattr(chosen, "bind_session", None)
        if callable(bind):
            bind(self._session, self._client.meta.region_name)
        return _core.final_status(chosen.wait(job_id, self._status, timeout=timeout))

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
        base = _core.results_params(
            job_id,
            sort_by=sort_by,
            page_size=page_size,
            next_token=next_token,
            min_similarity=min_similarity,
        )

        def fetch_page(token: str | None) -> Mapping[str, Any]:
            params = _core.page_params(base, token)
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
        """Start a face search, wait for it to end, and return its results.

        Every argument is checked before the job starts, so a bad `timeout` or
        `page_size` never leaves a job running that nobody waits for.
        """
        _core.check_search_arguments(timeout, sort_by, page_size)
        job = self.start(request, idempotency_key=idempotency_key)
        self.wait(job, poller=poller, timeout=timeout)
        return self.results(job, sort_by=sort_by, page_size=page_size)

    # -- many videos ----------------------------------------------------------------

    def search_many(
        self,
        requests: Iterable[FaceSearchRequest],
        *,
        key: str | None = None,
        max_in_flight: int = 20,
        start_rate: float = 5.0,
        status_rate: float = 2.0,
        queue_url: str | None = None,
        sqs_client: SQSClient | None = None,
        wait_time_seconds: int = 20,
        timeout: float | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        progress: Callable[[BatchProgress], object] | None = None,
        slots: SlotStore | None = None,
    ) -> Generator[BatchOutcome, None, None]:
        """Search many videos, keeping up to `max_in_flight` jobs running; yield each outcome.

        `requests` is consumed lazily. Every item yields exactly one `BatchOutcome`, in
        the order the batch learns that the jobs ended; one bad video never stops the
        batch. With `key`, tokens are derived as ``start(request, idempotency_key=key)``
        would, so re-running the batch after a crash starts no job twice. At most
        ``ceil(start_rate)`` starts and ``ceil(status_rate)`` status calls fall in any
        second, retries included; ``LimitExceededException`` shrinks the window instead
        of failing an item. `progress`, if given, is called with a `BatchProgress`
        after every change (a pull, start attempt, status call or end). With `slots`
        (a `SlotStore` shared by a fleet), a slot is taken before each start, renewed
        while the job runs and given back when it ends. Arguments are checked before
        any call.
        """
        import time

        from .batch import check_batch_arguments, iter_search_many

        check_batch_arguments(
            max_in_flight=max_in_flight,
            start_rate=start_rate,
            status_rate=status_rate,
            timeout=timeout,
            key=key,
            progress=progress,
            slots=slots,
        )
        if queue_url is not None:
            from . import _sqs

            errors: list[FieldError] = []
            _sqs.check_queue_url(errors, "queue_url", queue_url)
            _sqs.check_int(
                errors, "wait_time_seconds", wait_time_seconds, 0, _sqs.MAX_WAIT_TIME_SECONDS
            )
            raise_if_any(errors)
            if sqs_client is None:
                sqs_client = self._sqs_client(queue_url)
        return iter_search_many(
            self,
            requests,
            key=key,
            max_in_flight=max_in_flight,
            start_rate=start_rate,
            status_rate=status_rate,
            timeout=timeout,
            sleep=sleep if sleep is not None else time.sleep,
            clock=clock if clock is not None else time.monotonic,
            queue_url=queue_url,
            sqs_client=sqs_client,
            wait_time_seconds=wait_time_seconds,
            progress=progress,
            slots=slots,
        )

    # -- face collections -------------------------------------------------------------

    def collection(self, collection_id: str) -> FaceCollection:
        """The face collection `collection_id` (its id checked now; nothing is called yet)."""
        from .collection import FaceCollection

        return FaceCollection(self, collection_id)

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
        retry: RetryPolicy | None = None,
        before_attempt: Callable[[], None] | None = None,
    ) -> _T:
        """Call `method(**params)` under the retry policy, mapping failures to typed errors.

        `before_attempt` runs before every attempt, retries included (the batch paces
        its calls with it); `retry` overrides the client's policy for this call.
        """
        policy = retry if retry is not None else self.retry
        if before_attempt is None:
            attempt = lambda: method(**params)  # noqa: E731
        else:
            pace = before_attempt

            def attempt() -> _T:
                pace()
                return method(**params)

        try:
            return policy.call(attempt, operation_name=operation)
        except Exception as err:
            typed = translate(err, operation, client_request_token)
            if typed is None:
                raise
            raise typed from err
