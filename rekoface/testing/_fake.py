"""The fake service: operation name and JSON body in, HTTP status and JSON body out.

Transports (botocore today, perhaps aiobotocore later) are thin adapters around
`FakeService.handle` (the `Handler` interface); everything the service decides is
decided here. This module imports no transport: `FakeRekognition` (in
`_fake_rekognition`) adds the client-making methods on top.
"""

from __future__ import annotations

import base64
import copy
import datetime
import hashlib
import json
import logging
import math
import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs

from . import _data
from ._fake_collections import CollectionStore, FakeServiceError
from ._handler import ResponseDropped
from ._model_rules import Rules, default_rules

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

__all__ = [
    "ACCOUNT_ID",
    "CallRecord",
    "FakeService",
    "JobRecord",
    "NotificationRecord",
]

logger = logging.getLogger("rekoface.testing")

#: The account the fake pretends to be (used in messages).
ACCOUNT_ID: Final = "123456789012"
#: Where the fake's own clock starts (2023-11-14T22:13:20Z).
DEFAULT_EPOCH: Final = 1_700_000_000.0
TOKEN_LIFETIME: Final = 7 * 24 * 3600.0
RESULTS_LIFETIME: Final = 7 * 24 * 3600.0
PAGINATION_TOKEN_LIFETIME: Final = 24 * 3600.0
MAX_PAGE: Final = 1000
OPERATIONS: Final = (
    "StartFaceSearch",
    "GetFaceSearch",
    "CreateCollection",
    "DescribeCollection",
    "DeleteCollection",
    "IndexFaces",
    "ListFaces",
    "DeleteFaces",
)

_DEFAULT_MESSAGES: Final[Mapping[str, str]] = {
    "ThrottlingException": "Slow down",
    "ProvisionedThroughputExceededException": "Provisioned rate exceeded",
    "InternalServerError": "Internal server error",
    "AccessDeniedException": "User is not authorized to perform this action",
    "InvalidS3ObjectException": "Unable to get object metadata from S3. Check object key, "
    "region and/or access permissions.",
    "VideoTooLargeException": "The video is too large",
    "InvalidImageFormatException": "Request has invalid image format",
    "ImageTooLargeException": "Image size is too large.",
    "ServiceQuotaExceededException": "The request exceeds a service quota",
}

JobState = Literal["IN_PROGRESS", "SUCCEEDED", "FAILED"]


@attrs.frozen
class JobRecord:
    """A snapshot of one job, as `FakeRekognition.jobs` shows it.

    `persons` are the API-shaped `PersonMatch` dicts the job returns (in timestamp
    order); treat them as read-only.
    """

    job_id: str
    request: Mapping[str, Any]
    client_request_token: str | None
    state: JobState
    status_message: str | None
    created_at: float
    finished_at: float | None
    polls: int
    held: bool
    persons: tuple[Mapping[str, Any], ...]


@attrs.frozen
class CallRecord:
    """One call the fake answered: `outcome` is ``"ok"``, an error code or ``"dropped"``."""

    operation: str
    params: Mapping[str, Any]
    outcome: str
    at: float
    job_id: str | None = None


@attrs.frozen
class NotificationRecord:
    """A completion message the fake published (`errors`: sinks that failed to take it)."""

    job_id: str
    topic_arn: str
    message: Mapping[str, Any]
    errors: tuple[str, ...] = ()


@attrs.define
class _Job:
    job_id: str
    request: dict[str, Any]
    token: str | None
    created_at: float
    number: int
    state: JobState = "IN_PROGRESS"
    status_message: str | None = None
    finished_at: float | None = None
    polls: int = 0
    held: bool = False
    duration: float | None = None
    persons: list[dict[str, Any]] = attrs.field(factory=lambda: [])

    def snapshot(self) -> JobRecord:
        return JobRecord(
            job_id=self.job_id,
            request=copy.deepcopy(self.request),
            client_request_token=self.token,
            state=self.state,
            status_message=self.status_message,
            created_at=self.created_at,
            finished_at=self.finished_at,
            polls=self.polls,
            held=self.held,
            persons=tuple(self.persons),
        )


@attrs.frozen
class _PageToken:
    job_id: str
    sort_by: str
    offset: int
    issued_at: float


@attrs.frozen
class _Injected:
    code: str
    http_status: int
    message: str


_ServiceError = FakeServiceError


Sink = Callable[[str, str], None]
"""Takes (topic_arn, Rekognition message JSON) and delivers it somewhere."""


class FakeService:
    """The service behind `FakeRekognition`, without any transport (it is a `Handler`).

    Everything `FakeRekognition` does except making clients; its parameters are
    documented there. State is guarded by a lock, so it may be called from several
    threads.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        in_progress_polls: int | None = 2,
        max_concurrent_jobs: int = 20,
        seed: int = 0,
        default_persons: int = 25,
        job_duration: float | Callable[[dict[str, Any]], float] | None = None,
    ) -> None:
        if in_progress_polls is not None and in_progress_polls < 0:
            raise ValueError("in_progress_polls must be >= 0 or None")
        if max_concurrent_jobs < 1:
            raise ValueError("max_concurrent_jobs must be >= 1")
        if default_persons < 0:
            raise ValueError("default_persons must be >= 0")
        if job_duration is not None and not callable(job_duration):
            _check_seconds(job_duration, "job_duration")
        self._clock = clock
        self._offset = 0.0
        self.in_progress_polls = in_progress_polls
        self.max_concurrent_jobs = max_concurrent_jobs
        self.seed = seed
        self.default_persons = default_persons
        self.job_duration = job_duration
        self._rules: Rules = default_rules()
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._store = CollectionStore(self._rng, self.now, seed, account=ACCOUNT_ID)
        #: Faces of each collection, by id: the store's own dict (searches match them).
        self._collections: dict[str, list[dict[str, Any]]] = self._store.faces
        self._jobs: dict[str, _Job] = {}
        self._tokens: dict[str, tuple[dict[str, Any], str, float]] = {}
        self._pages: dict[str, _PageToken] = {}
        self._errors: dict[str, deque[_Injected]] = {op: deque() for op in OPERATIONS}
        self._drops: dict[str, int] = dict.fromkeys(OPERATIONS, 0)
        self._calls: list[CallRecord] = []
        self._notifications: list[NotificationRecord] = []
        self._outbox: list[tuple[str, str, dict[str, Any]]] = []
        self._sinks: list[tuple[str, Sink]] = []

    # -- time -----------------------------------------------------------------------

    def now(self) -> float:
        """The fake's time: its clock plus everything `advance` added."""
        base = DEFAULT_EPOCH if self._clock is None else self._clock()
        return base + self._offset

    def advance(self, seconds: float) -> None:
        """Move the fake's time forward (token, page and result lifetimes follow it)."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._offset += seconds
            self._settle_due()
        self._flush()

    # -- set-up -----------------------------------------------------------------------

    def add_collection(
        self, collection_id: str, faces: int | Sequence[str | Mapping[str, Any]] = 10
    ) -> list[dict[str, Any]]:
        """Create a face collection and return its faces (API `Face` dicts).

        `faces` is a number of faces to make up, or one entry per face: a str is its
        ExternalImageId, a mapping sets `Face` fields (FaceId, ExternalImageId, ...).
        """
        shape = self._rules.input_shape("StartFaceSearch").members["CollectionId"]
        problems = self._rules.validate(shape, collection_id, "CollectionId")
        if problems:
            raise ValueError("; ".join(problems))
        if isinstance(faces, int) and faces < 0:
            raise ValueError("faces must be >= 0")
        with self._lock:
            if collection_id in self._collections:
                raise ValueError(f"collection {collection_id!r} already exists")
            made = _data.make_faces(self._rng, faces)
            self._store.add(collection_id, made)
            return copy.deepcopy(made)

    def set_image(
        self,
        bucket: str,
        name: str,
        version: str | None = None,
        *,
        faces: int = 1,
        low_quality: int = 0,
        error: str | None = None,
    ) -> None:
        """Say what `IndexFaces` finds in ``s3://bucket/name`` (every image holds one face
        unless a test says otherwise).

        `faces` good faces, plus `low_quality` faces that any ``QualityFilter`` but
        ``NONE`` refuses (``LOW_SHARPNESS``); or `error`, one of
        ``InvalidImageFormatException`` (not an image), ``ImageTooLargeException`` or
        ``InvalidS3ObjectException`` (no such object), which every index of it raises.
        """
        with self._lock:
            self._store.set_image(
                bucket, name, version, faces=faces, low_quality=low_quality, error=error
            )

    def connect_sns(self, sns_client: SNSClient) -> None:
        """Publish completion messages to each job's `NotificationChannel.SNSTopicArn`."""

        def sink(topic_arn: str, body: str) -> None:
            sns_client.publish(TopicArn=topic_arn, Message=body)

        with self._lock:
            self._sinks.append(("sns", sink))

    def connect_sqs(self, sqs_client: SQSClient, queue_url: str, *, raw: bool = False) -> None:
        """Send completion messages straight to a queue: raw, or in an SNS envelope."""

        def sink(topic_arn: str, body: str) -> None:
            if not raw:
                body = json.dumps(self._envelope(topic_arn, body))
            sqs_client.send_message(QueueUrl=queue_url, MessageBody=body)

        with self._lock:
            self._sinks.append((queue_url, sink))

    # -- faults -------------------------------------------------------------------------

    def inject_error(
        self,
        operation: str,
        code: str,
        *,
        times: int = 1,
        http_status: int = 400,
        message: str | None = None,
    ) -> None:
        """Refuse the next `times` calls of `operation` with `code`, before acting on them."""
        self._check_fault(operation, times)
        text = message if message is not None else _DEFAULT_MESSAGES.get(code, code)
        with self._lock:
            self._errors[operation].extend([_Injected(code, http_status, text)] * times)

    def drop_response(self, operation: str, *, times: int = 1) -> None:
        """Act on the next `times` calls of `operation`, then lose the answers."""
        self._check_fault(operation, times)
        with self._lock:
            self._drops[operation] += times

    @staticmethod
    def _check_fault(operation: str, times: int) -> None:
        if operation not in OPERATIONS:
            raise ValueError(f"operation must be one of {OPERATIONS}, not {operation!r}")
        if times < 1:
            raise ValueError("times must be >= 1")

    # -- driving jobs -----------------------------------------------------------------

    def finish(
        self,
        job_id: str,
        *,
        persons: int | Sequence[Mapping[str, Any]] | None = None,
        status: Literal["SUCCEEDED", "FAILED"] = "SUCCEEDED",
        status_message: str | None = None,
    ) -> None:
        """End a job now: `SUCCEEDED` with `persons` (a count, or API-shaped `PersonMatch`
        mappings, filled in where left out), or `FAILED` with `status_message`."""
        if status not in ("SUCCEEDED", "FAILED"):
            raise ValueError("status must be 'SUCCEEDED' or 'FAILED'")
        if status == "FAILED" and persons is not None:
            raise ValueError("a FAILED job has no persons")
        spec: int | list[dict[str, Any]] | None = None
        if isinstance(persons, int):
            if persons < 0:
                raise ValueError("persons must be >= 0")
            spec = persons
        elif persons is not None:
            shape = self._rules.output_shape("GetFaceSearch").members["Persons"]
            problems = self._rules.validate(shape, list(persons), "persons")
            if problems:
                raise ValueError("; ".join(problems))
            spec = _data.normalise_persons(persons)
        with self._lock:
            job = self._job(job_id)
            if job.state != "IN_PROGRESS":
                raise ValueError(f"job {job_id} already ended ({job.state})")
            if status == "FAILED":
                self._end(job, "FAILED", status_message or "The job failed.")
            else:
                self._succeed(job, spec)
        self._flush()

    def hold(self, job_id: str) -> None:
        """Keep a job `IN_PROGRESS`, whatever the polls or the clock, until `finish`."""
        with self._lock:
            self._job(job_id).held = True

    def _job(self, job_id: str) -> _Job:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise KeyError(f"no job {job_id!r}") from None

    # -- inspection ---------------------------------------------------------------------

    @property
    def jobs(self) -> dict[str, JobRecord]:
        """Every job started, by JobId, in start order (snapshots)."""
        with self._lock:
            return {job_id: job.snapshot() for job_id, job in self._jobs.items()}

    @property
    def calls(self) -> list[CallRecord]:
        """Every call answered, in order."""
        with self._lock:
            return list(self._calls)

    @property
    def notifications(self) -> list[NotificationRecord]:
        """Every completion message published, in order (also with no sink connected)."""
        with self._lock:
            return list(self._notifications)

    @property
    def collections(self) -> dict[str, list[dict[str, Any]]]:
        """Faces of each collection (copies)."""
        with self._lock:
            return copy.deepcopy(self._collections)

    # -- the service ----------------------------------------------------------------------

    def handle(self, operation: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one call: `(HTTP status, JSON body)`; errors in the JSON 1.1 form.

        Raises `ResponseDropped` when a dropped response was asked for: the call took
        effect, its answer is lost.
        """
        try:
            with self._lock:
                return self._handle_locked(operation, body)
        finally:
            self._flush()

    def _handle_locked(self, operation: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        self._settle_due()
        params = copy.deepcopy(dict(body))
        try:
            if operation not in OPERATIONS:
                raise _ServiceError(
                    "UnknownOperationException",
                    f"The fake answers only {', '.join(OPERATIONS)}, not {operation}",
                )
            if self._errors[operation]:
                injected = self._errors[operation].popleft()
                raise _ServiceError(injected.code, injected.message, injected.http_status)
            problems = self._rules.validate_input(operation, params)
            if problems:
                raise _ServiceError("InvalidParameterException", _validation_message(problems))
            answer = self._answer(operation, params)
        except _ServiceError as err:
            self._record(operation, params, err.code, params.get("JobId"))
            return err.http_status, {
                "__type": err.code,
                "Code": err.code,
                "Message": err.message,
                "Logref": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            }
        job_id = answer.get("JobId")
        if self._drops[operation]:
            self._drops[operation] -= 1
            self._record(operation, params, "dropped", job_id)
            raise ResponseDropped(operation)
        self._record(operation, params, "ok", job_id)
        return 200, answer

    def _answer(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "StartFaceSearch":
            return self._start(params)
        if operation == "GetFaceSearch":
            return self._get(params)
        store = self._store
        by_operation: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
            "CreateCollection": store.create,
            "DescribeCollection": store.describe,
            "DeleteCollection": store.delete,
            "IndexFaces": store.index,
            "ListFaces": store.list_faces,
            "DeleteFaces": store.delete_faces,
        }
        return by_operation[operation](params)

    def _record(self, operation: str, params: dict[str, Any], outcome: str, job_id: Any) -> None:
        job = job_id if isinstance(job_id, str) else None
        self._calls.append(CallRecord(operation, params, outcome, self.now(), job))

    def _start(self, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        token = params.get("ClientRequestToken")
        request = {k: v for k, v in params.items() if k != "ClientRequestToken"}
        if token is not None:
            known = self._tokens.get(token)
            if known is not None and now - known[2] < TOKEN_LIFETIME:
                if known[0] != request:
                    raise _ServiceError(
                        "IdempotentParameterMismatchException",
                        "ClientRequestToken was used with different parameters",
                    )
                return {"JobId": known[1]}
        collection_id = params["CollectionId"]
        if collection_id not in self._collections:
            raise _ServiceError(
                "ResourceNotFoundException", f"The collection id: {collection_id} does not exist"
            )
        running = sum(job.state == "IN_PROGRESS" for job in self._jobs.values())
        if running >= self.max_concurrent_jobs:
            raise _ServiceError(
                "LimitExceededException",
                f"{running} open Jobs for User {ACCOUNT_ID} Maximum limit: "
                f"{self.max_concurrent_jobs}",
            )
        duration = self._duration_of(params)
        number = len(self._jobs)
        job_id = hashlib.sha256(f"rekoface-fake:{self.seed}:{number}".encode()).hexdigest()
        self._jobs[job_id] = _Job(job_id, request, token, now, number, duration=duration)
        if token is not None:
            self._tokens[token] = (request, job_id, now)
        return {"JobId": job_id}

    def _get(self, params: dict[str, Any]) -> dict[str, Any]:
        job_id = params["JobId"]
        job = self._jobs.get(job_id)
        now = self.now()
        if job is None or (
            job.finished_at is not None and now - job.finished_at >= RESULTS_LIFETIME
        ):
            raise _ServiceError("ResourceNotFoundException", f"The job id: {job_id} does not exist")
        sort_by = params.get("SortBy", "TIMESTAMP")
        offset = 0
        if params.get("NextToken"):
            page = self._pages.get(params["NextToken"])
            if (
                page is None
                or page.job_id != job_id
                or page.sort_by != sort_by
                or now - page.issued_at >= PAGINATION_TOKEN_LIFETIME
            ):
                raise _ServiceError(
                    "InvalidPaginationTokenException", "Invalid pagination token provided"
                )
            offset = page.offset
        if job.state == "IN_PROGRESS":
            job.polls += 1
            due = self.in_progress_polls is not None and job.polls > self.in_progress_polls
            if due and not job.held:
                self._succeed(job, None)
        answer: dict[str, Any] = {"JobStatus": job.state}
        if job.state == "FAILED":
            answer["StatusMessage"] = job.status_message
        if job.state == "SUCCEEDED":
            answer["VideoMetadata"] = _data.video_metadata(job.persons)
            size = min(params.get("MaxResults", MAX_PAGE), MAX_PAGE)
            ordered = job.persons if sort_by == "TIMESTAMP" else self._by_index(job)
            answer["Persons"] = ordered[offset : offset + size]
            if offset + size < len(ordered):
                token = base64.urlsafe_b64encode(self._rng.randbytes(24)).decode()
                self._pages[token] = _PageToken(job_id, sort_by, offset + size, now)
                answer["NextToken"] = token
        answer["JobId"] = job.job_id
        answer["Video"] = copy.deepcopy(job.request["Video"])
        if "JobTag" in job.request:
            answer["JobTag"] = job.request["JobTag"]
        return answer

    def _duration_of(self, params: dict[str, Any]) -> float | None:
        """This job's length: `job_duration` itself, or what it says for these parameters."""
        if not callable(self.job_duration):
            return self.job_duration
        seconds = self.job_duration(copy.deepcopy(params))
        s3 = params["Video"].get("S3Object", {})
        video = f"s3://{s3.get('Bucket', '')}/{s3.get('Name', '')}"
        return _check_seconds(seconds, f"job_duration's answer for {video}")

    @staticmethod
    def _by_index(job: _Job) -> list[dict[str, Any]]:
        return sorted(job.persons, key=lambda p: (p["Person"]["Index"], p["Timestamp"]))

    # -- state changes (lock held) -------------------------------------------------------

    def _settle_due(self) -> None:
        now = self.now()
        for job in self._jobs.values():
            if (
                job.state == "IN_PROGRESS"
                and not job.held
                and job.duration is not None
                and now - job.created_at >= job.duration
            ):
                self._succeed(job, None)

    def _succeed(self, job: _Job, persons: int | list[dict[str, Any]] | None) -> None:
        if isinstance(persons, list):
            made = persons
        else:
            count = self.default_persons if persons is None else persons
            rng = random.Random(f"{self.seed}:{job.number}")
            faces = self._collections.get(job.request["CollectionId"], [])
            threshold = float(job.request.get("FaceMatchThreshold", 80.0))
            made = _data.make_persons(rng, count, faces, threshold)
        made.sort(key=lambda p: (p["Timestamp"], p["Person"]["Index"]))
        job.persons = made
        self._end(job, "SUCCEEDED", None)

    def _end(self, job: _Job, state: JobState, status_message: str | None) -> None:
        job.state = state
        job.status_message = status_message
        job.finished_at = self.now()
        channel = job.request.get("NotificationChannel")
        if channel is None:
            return
        s3 = job.request["Video"]["S3Object"]
        message: dict[str, Any] = {
            "JobId": job.job_id,
            "Status": state,
            "API": "StartFaceSearch",
        }
        if "JobTag" in job.request:
            message["JobTag"] = job.request["JobTag"]
        message["Timestamp"] = int(job.finished_at * 1000)
        message["Video"] = {"S3ObjectName": s3["Name"], "S3Bucket": s3["Bucket"]}
        self._outbox.append((job.job_id, channel["SNSTopicArn"], message))

    # -- notifications (lock not held while delivering) ---------------------------------

    def _flush(self) -> None:
        with self._lock:
            outbox, self._outbox = self._outbox, []
            sinks = list(self._sinks)
        for job_id, topic_arn, message in outbox:
            body = json.dumps(message)
            errors: list[str] = []
            for name, sink in sinks:
                try:
                    sink(topic_arn, body)
                except Exception as err:  # the service never fails a poll over a lost notification
                    logger.warning("fake could not deliver job %s's notification: %r", job_id, err)
                    errors.append(f"{name}: {err!r}")
            with self._lock:
                self._notifications.append(
                    NotificationRecord(job_id, topic_arn, message, tuple(errors))
                )

    def _envelope(self, topic_arn: str, body: str) -> dict[str, Any]:
        with self._lock:
            message_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            stamp = self.now()
        millis = int(stamp * 1000) % 1000
        iso = _iso(stamp, millis)
        return {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Message": body,
            "Timestamp": iso,
            "SignatureVersion": "1",
            "Signature": "RkFLRQ==",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-fake.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
            f"&SubscriptionArn={topic_arn}:fake",
        }


def _check_seconds(value: object, name: str) -> float:
    """`value` as seconds, or a `TypeError`/`ValueError` that names `name` and the value."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {value!r}")
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, not {value!r}")
    return seconds


def _iso(stamp: float, millis: int) -> str:
    moment = datetime.datetime.fromtimestamp(int(stamp), tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def _validation_message(problems: Sequence[str]) -> str:
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    details = "; ".join(
        f"Value at '{path}' failed to satisfy constraint: {rule}"
        for path, _, rule in (p.partition(": ") for p in problems)
    )
    return f"{count} validation {noun} detected: {details}"
