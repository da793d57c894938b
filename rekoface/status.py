"""A face-search job's state and status, as ``GetFaceSearch`` reports them.

Kept apart from the result models so that waiting for a job (`rekoface.pollers`)
needs only this. This module imports only `rekoface.errors` and `rekoface.models`
of the package.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from typing import Any, Final

import attrs

from ._lazy import new, setters
from .errors import JobFailedError, JobNotCompleteError
from .models import S3Video

__all__ = [
    "JobState",
    "JobStatus",
    "VideoMetadata",
    "check_results_ready",
    "parse_job_status",
    "parse_video_metadata",
]

_log = logging.getLogger("rekoface")


class JobState(str, enum.Enum):
    """The state of a face-search job, as ``GetFaceSearch`` reports it.

    Formats as its value on every supported Python (``f"{state}" == "SUCCEEDED"``):
    Python 3.11 changed what a mixed-in ``str`` enum's ``format()`` returns.
    """

    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)


_STATES: Final[Mapping[str, JobState]] = {state.value: state for state in JobState}


@attrs.frozen
class VideoMetadata:
    """What the service read from the video: codec, length, frame rate and size."""

    codec: str | None = None
    duration_millis: int | None = None
    format: str | None = None
    frame_rate: float | None = None
    frame_height: int | None = None
    frame_width: int | None = None
    color_range: str | None = None


@attrs.frozen
class JobStatus:
    """One ``GetFaceSearch`` answer about the job itself (not its matches)."""

    job_id: str
    state: JobState
    status_message: str | None = None
    video_metadata: VideoMetadata | None = None
    job_tag: str | None = None
    video: S3Video | None = None


def parse_video_metadata(raw: Mapping[str, Any] | None) -> VideoMetadata | None:
    """A `VideoMetadata` from the API's ``VideoMetadata`` dict (`None` if absent or empty)."""
    if not raw:
        return None
    get = raw.get
    return VideoMetadata(
        get("Codec"),
        get("DurationMillis"),
        get("Format"),
        get("FrameRate"),
        get("FrameHeight"),
        get("FrameWidth"),
        get("ColorRange"),
    )


_VIDEO_BUCKET, _VIDEO_NAME, _VIDEO_VERSION = setters(S3Video, "bucket", "name", "version")


def _parse_video(raw: Mapping[str, Any] | None) -> S3Video | None:
    s3_object = raw.get("S3Object") if raw else None
    if not s3_object or "Bucket" not in s3_object or "Name" not in s3_object:
        return None
    # What the service echoes back is taken as it is: `S3Video()` would validate it
    # against the request rules, and a response must never fail to parse over that.
    video = new(S3Video)
    _VIDEO_BUCKET(video, s3_object["Bucket"])
    _VIDEO_NAME(video, s3_object["Name"])
    _VIDEO_VERSION(video, s3_object.get("Version"))
    return video


def parse_job_status(response: Mapping[str, Any], job_id: str) -> JobStatus:
    """The job's status from a ``GetFaceSearch`` response dict.

    The response's ``JobId`` wins over `job_id` when present. An empty
    ``StatusMessage`` (moto sends ``""``) is `None`. A missing or unknown ``JobStatus``
    (the service sends only the three known ones) is logged as a warning and read as
    `JobState.IN_PROGRESS`: never mistaken for success or failure, so results refuse
    to read and pollers keep waiting until their timeout.
    """
    raw_state = response.get("JobStatus")
    state = _STATES.get(raw_state) if isinstance(raw_state, str) else None
    if state is None:
        _log.warning(
            "GetFaceSearch returned JobStatus %r for job %s; treating it as IN_PROGRESS",
            raw_state,
            response.get("JobId") or job_id,
        )
        state = JobState.IN_PROGRESS
    return JobStatus(
        response.get("JobId") or job_id,
        state,
        response.get("StatusMessage") or None,
        parse_video_metadata(response.get("VideoMetadata")),
        response.get("JobTag") or None,
        _parse_video(response.get("Video")),
    )


def check_results_ready(status: JobStatus) -> None:
    """Raise unless the job has `SUCCEEDED`: results of any other job would be empty or partial.

    `JobNotCompleteError` for `IN_PROGRESS`, `JobFailedError` (with the service's
    status message) for `FAILED`.
    """
    if status.state is JobState.SUCCEEDED:
        return
    if status.state is JobState.FAILED:
        raise JobFailedError(status.job_id, status.status_message)
    raise JobNotCompleteError(status.job_id, str(status.state))
