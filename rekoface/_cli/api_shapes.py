"""The result models as the API's own names and shapes, so AWS's documentation
describes the CLI's JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from rekoface.models import S3Video
    from rekoface.results import Appearance, JobStatus, VideoMetadata

__all__ = ["appearance_to_api", "metadata_to_api", "status_to_api"]


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def metadata_to_api(metadata: VideoMetadata) -> dict[str, Any]:
    """The video's metadata with the API's names (fields the service left out, left out)."""
    return {
        _pascal(field.name): value
        for field in attrs.fields(type(metadata))
        if (value := getattr(metadata, field.name)) is not None
    }


def _video_to_api(video: S3Video) -> dict[str, Any]:
    s3_object = {"Bucket": video.bucket, "Name": video.name}
    if video.version is not None:
        s3_object["Version"] = video.version
    return {"S3Object": s3_object}


def status_to_api(status: JobStatus) -> dict[str, Any]:
    """A job's status with the API's names."""
    out: dict[str, Any] = {"JobId": status.job_id, "JobStatus": status.state.value}
    if status.status_message is not None:
        out["StatusMessage"] = status.status_message
    if status.job_tag is not None:
        out["JobTag"] = status.job_tag
    if status.video is not None:
        out["Video"] = _video_to_api(status.video)
    if status.video_metadata is not None:
        out["VideoMetadata"] = metadata_to_api(status.video_metadata)
    return out


def appearance_to_api(appearance: Appearance) -> dict[str, Any]:
    """An interval of `FaceSearchResults.appearances` with API-style names."""
    return {
        "FaceId": appearance.face_id,
        "ExternalImageId": appearance.external_image_id,
        "FirstTimestamp": appearance.first_timestamp,
        "LastTimestamp": appearance.last_timestamp,
        "BestSimilarity": appearance.best_similarity,
        "Matches": appearance.matches,
    }
