"""The fake's face-search jobs: StartFaceSearch and GetFaceSearch, answered as the
service answers them (idempotency tokens, the concurrent-job limit, the job lifecycle,
pagination and its token lifetimes), plus the completion message each job's end queues.

The caller (`FakeService`) holds the lock; nothing here is thread-safe on its own.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import math
import random
from collections.abc import Callable
from typing import Any, Final, Protocol

import attrs

from . import _data
from ._fake_collections import FakeServiceError
from ._fake_records import ACCOUNT_ID, JobRecord, JobState

__all__ = ["JobSettings", "JobStore", "check_seconds"]

TOKEN_LIFETIME: Final = 7 * 24 * 3600.0
RESULTS_LIFETIME: Final = 7 * 24 * 3600.0
PAGINATION_TOKEN_LIFETIME: Final = 24 * 3600.0
MAX_PAGE: Final = 1000

#: Takes (job id, topic ARN, message) when a job with a notification channel ends.
Publish = Callable[[str, str, dict[str, Any]], None]


class JobSettings(Protocol):
    """The fake's knobs, read on every call (a test may change them between calls)."""

    seed: int
    in_progress_polls: int | None
    max_concurrent_jobs: int
    default_persons: int
    job_duration: float | Callable[[dict[str, Any]], float] | None


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


class JobStore:
    """Jobs by id, in start order, with the tokens that started them and the page tokens
    handed out; faces come from the collections (`faces`, shared with the store)."""

    def __init__(
        self,
        settings: JobSettings,
        rng: random.Random,
        now: Callable[[], float],
        faces: dict[str, list[dict[str, Any]]],
        publish: Publish,
    ) -> None:
        self._settings = settings
        self._rng = rng
        self._now = now
        self._faces = faces
        self._publish = publish
        self.jobs: dict[str, _Job] = {}
        self._tokens: dict[str, tuple[dict[str, Any], str, float]] = {}
        self._pages: dict[str, _PageToken] = {}

    # -- operations -----------------------------------------------------------------------

    def start(self, params: dict[str, Any]) -> dict[str, Any]:
        now = self._now()
        token = params.get("ClientRequestToken")
        request = {k: v for k, v in params.items() if k != "ClientRequestToken"}
        if token is not None:
            known = self._tokens.get(token)
            if known is not None and now - known[2] < TOKEN_LIFETIME:
                if known[0] != request:
                    raise FakeServiceError(
                        "IdempotentParameterMismatchException",
                        "ClientRequestToken was used with different parameters",
                    )
                return {"JobId": known[1]}
        collection_id = params["CollectionId"]
        if collection_id not in self._faces:
            raise FakeServiceError(
                "ResourceNotFoundException", f"The collection id: {collection_id} does not exist"
            )
        running = sum(job.state == "IN_PROGRESS" for job in self.jobs.values())
        limit = self._settings.max_concurrent_jobs
        if running >= limit:
            raise FakeServiceError(
                "LimitExceededException",
                f"{running} open Jobs for User {ACCOUNT_ID} Maximum limit: {limit}",
            )
        duration = self._duration_of(params)
        number = len(self.jobs)
        seed = self._settings.seed
        job_id = hashlib.sha256(f"rekoface-fake:{seed}:{number}".encode()).hexdigest()
        self.jobs[job_id] = _Job(job_id, request, token, now, number, duration=duration)
        if token is not None:
            self._tokens[token] = (request, job_id, now)
        return {"JobId": job_id}

    def get(self, params: dict[str, Any]) -> dict[str, Any]:
        job_id = params["JobId"]
        job = self.jobs.get(job_id)
        now = self._now()
        if job is None or (
            job.finished_at is not None and now - job.finished_at >= RESULTS_LIFETIME
        ):
            raise FakeServiceError(
                "ResourceNotFoundException", f"The job id: {job_id} does not exist"
            )
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
                raise FakeServiceError(
                    "InvalidPaginationTokenException", "Invalid pagination token provided"
                )
            offset = page.offset
        if job.state == "IN_PROGRESS":
            job.polls += 1
            polls = self._settings.in_progress_polls
            if polls is not None and job.polls > polls and not job.held:
                self.succeed(job, None)
        answer: dict[str, Any] = {"JobStatus": job.state}
        if job.state == "FAILED":
            answer["StatusMessage"] = job.status_message
        if job.state == "SUCCEEDED":
            answer["VideoMetadata"] = _data.video_metadata(job.persons)
            size = min(params.get("MaxResults", MAX_PAGE), MAX_PAGE)
            ordered = job.persons if sort_by == "TIMESTAMP" else _by_index(job)
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

    # -- state changes --------------------------------------------------------------------

    def job(self, job_id: str) -> _Job:
        try:
            return self.jobs[job_id]
        except KeyError:
            raise KeyError(f"no job {job_id!r}") from None

    def settle_due(self) -> None:
        """End every job whose `job_duration` has passed on the fake's clock."""
        now = self._now()
        for job in self.jobs.values():
            if (
                job.state == "IN_PROGRESS"
                and not job.held
                and job.duration is not None
                and now - job.created_at >= job.duration
            ):
                self.succeed(job, None)

    def succeed(self, job: _Job, persons: int | list[dict[str, Any]] | None) -> None:
        """End `job` with these persons, a count of them made up, or the default count."""
        if isinstance(persons, list):
            made = persons
        else:
            count = self._settings.default_persons if persons is None else persons
            rng = random.Random(f"{self._settings.seed}:{job.number}")
            faces = self._faces.get(job.request["CollectionId"], [])
            threshold = float(job.request.get("FaceMatchThreshold", 80.0))
            made = _data.make_persons(rng, count, faces, threshold)
        made.sort(key=lambda p: (p["Timestamp"], p["Person"]["Index"]))
        job.persons = made
        self.end(job, "SUCCEEDED", None)

    def end(self, job: _Job, state: JobState, status_message: str | None) -> None:
        job.state = state
        job.status_message = status_message
        job.finished_at = self._now()
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
        self._publish(job.job_id, channel["SNSTopicArn"], message)

    def _duration_of(self, params: dict[str, Any]) -> float | None:
        """This job's length: `job_duration` itself, or what it says for these parameters."""
        duration = self._settings.job_duration
        if not callable(duration):
            return duration
        seconds = duration(copy.deepcopy(params))
        s3 = params["Video"].get("S3Object", {})
        video = f"s3://{s3.get('Bucket', '')}/{s3.get('Name', '')}"
        return check_seconds(seconds, f"job_duration's answer for {video}")


def _by_index(job: _Job) -> list[dict[str, Any]]:
    return sorted(job.persons, key=lambda p: (p["Person"]["Index"], p["Timestamp"]))


def check_seconds(value: object, name: str) -> float:
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
