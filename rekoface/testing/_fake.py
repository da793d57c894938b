"""The fake service: operation name and JSON body in, HTTP status and JSON body out.

Transports (botocore today, perhaps aiobotocore later) are thin adapters around
`FakeService.handle` (the `Handler` interface); everything the service decides is
decided here or in the parts it holds: jobs (`_fake_jobs`), collections
(`_fake_collections`), faults (`_fake_faults`) and notifications (`_fake_notifications`).
This module imports no transport: `FakeRekognition` (in `_fake_rekognition`) adds the
client-making methods on top.
"""

from __future__ import annotations

import copy
import random
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from . import _data
from ._fake_collections import CollectionStore, FakeServiceError, ImageSpec
from ._fake_faults import Faults
from ._fake_jobs import JobStore, check_seconds
from ._fake_notifications import Notifier
from ._fake_records import (
    ACCOUNT_ID,
    DEFAULT_EPOCH,
    OPERATIONS,
    CallRecord,
    JobRecord,
    NotificationRecord,
)
from ._handler import ResponseDropped
from ._model_rules import Rules, default_rules, validation_message

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

__all__ = [
    "ACCOUNT_ID",
    "OPERATIONS",
    "CallRecord",
    "FakeService",
    "JobRecord",
    "NotificationRecord",
]


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
            check_seconds(job_duration, "job_duration")
        self._clock = clock
        self._offset = 0.0
        self.in_progress_polls = in_progress_polls
        self.max_concurrent_jobs = max_concurrent_jobs
        self.seed = seed
        self.default_persons = default_persons
        self.job_duration: float | Callable[[dict[str, Any]], float] | None = job_duration
        self._rules: Rules = default_rules()
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._store = CollectionStore(self._rng, self.now, seed, account=ACCOUNT_ID)
        self._notifier = Notifier(self._lock, self._rng, self.now)
        self._jobs = JobStore(self, self._rng, self.now, self._store.faces, self._notifier.queue)
        self._faults = Faults()
        self._calls: list[CallRecord] = []

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
            self._jobs.settle_due()
        self._notifier.flush()

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
            if collection_id in self._store.faces:
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
        spec = ImageSpec(faces, low_quality, error)
        with self._lock:
            self._store.images[(bucket, name, version)] = spec

    def connect_sns(self, sns_client: SNSClient) -> None:
        """Publish completion messages to each job's `NotificationChannel.SNSTopicArn`."""
        self._notifier.connect_sns(sns_client)

    def connect_sqs(self, sqs_client: SQSClient, queue_url: str, *, raw: bool = False) -> None:
        """Send completion messages straight to a queue: raw, or in an SNS envelope."""
        self._notifier.connect_sqs(sqs_client, queue_url, raw=raw)

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
        with self._lock:
            self._faults.add_error(operation, code, times, http_status, message)

    def drop_response(self, operation: str, *, times: int = 1) -> None:
        """Act on the next `times` calls of `operation`, then lose the answers."""
        with self._lock:
            self._faults.add_drops(operation, times)

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
            job = self._jobs.job(job_id)
            if job.state != "IN_PROGRESS":
                raise ValueError(f"job {job_id} already ended ({job.state})")
            if status == "FAILED":
                self._jobs.end(job, "FAILED", status_message or "The job failed.")
            else:
                self._jobs.succeed(job, spec)
        self._notifier.flush()

    def hold(self, job_id: str) -> None:
        """Keep a job `IN_PROGRESS`, whatever the polls or the clock, until `finish`."""
        with self._lock:
            self._jobs.job(job_id).held = True

    # -- inspection ---------------------------------------------------------------------

    @property
    def jobs(self) -> dict[str, JobRecord]:
        """Every job started, by JobId, in start order (snapshots)."""
        with self._lock:
            return {job_id: job.snapshot() for job_id, job in self._jobs.jobs.items()}

    @property
    def calls(self) -> list[CallRecord]:
        """Every call answered, in order."""
        with self._lock:
            return list(self._calls)

    @property
    def notifications(self) -> list[NotificationRecord]:
        """Every completion message published, in order (also with no sink connected)."""
        with self._lock:
            return list(self._notifier.records)

    @property
    def collections(self) -> dict[str, list[dict[str, Any]]]:
        """Faces of each collection (copies)."""
        with self._lock:
            return copy.deepcopy(self._store.faces)

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
            self._notifier.flush()

    def _handle_locked(self, operation: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        self._jobs.settle_due()
        params = copy.deepcopy(dict(body))
        try:
            if operation not in OPERATIONS:
                raise FakeServiceError(
                    "UnknownOperationException",
                    f"The fake answers only {', '.join(OPERATIONS)}, not {operation}",
                )
            injected = self._faults.next_error(operation)
            if injected is not None:
                raise FakeServiceError(injected.code, injected.message, injected.http_status)
            problems = self._rules.validate_input(operation, params)
            if problems:
                raise FakeServiceError("InvalidParameterException", validation_message(problems))
            answer = self._answer(operation, params)
        except FakeServiceError as err:
            self._record(operation, params, err.code, params.get("JobId"))
            return err.http_status, {
                "__type": err.code,
                "Code": err.code,
                "Message": err.message,
                "Logref": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            }
        job_id = answer.get("JobId")
        if self._faults.drop_next(operation):
            self._record(operation, params, "dropped", job_id)
            raise ResponseDropped(operation)
        self._record(operation, params, "ok", job_id)
        return 200, answer

    def _answer(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        jobs, store = self._jobs, self._store
        by_operation: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "StartFaceSearch": jobs.start,
            "GetFaceSearch": jobs.get,
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
