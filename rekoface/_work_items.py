"""One video request as text: a work-queue message's body, or a line of a batch's URI list
(private; the one parser of both).

Two forms, so a producer can send the least it knows:

- an S3 URI, ``s3://bucket/key`` (a line of ``rekoface batch --from-file``);
- a JSON object in ``StartFaceSearch``'s own shape: ``Video`` (an S3 URI or the API's
  ``{"S3Object": {"Bucket", "Name", "Version"}}``), and optionally ``CollectionId``,
  ``FaceMatchThreshold``, ``NotificationChannel`` (``SNSTopicArn``, ``RoleArn``) and
  ``JobTag``.

What the body leaves out comes from the worker's `Defaults`. The token is never the
body's: it comes from the message (see `token_for_message`), so a redelivered message
starts no second job. Every problem of a body is reported at once, by field.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final, cast

import attrs

from .errors import FieldError, RequestValidationError
from .models import FaceSearchRequest, NotificationChannel, S3Video

__all__ = ["Defaults", "check_defaults", "parse_work_item", "token_for_message"]

_KEYS: Final = ("Video", "CollectionId", "FaceMatchThreshold", "NotificationChannel", "JobTag")
_BODY: Final = "Body"


@attrs.frozen
class Defaults:
    """The request fields a message may leave out, filled in by the worker."""

    collection_id: str | None = None
    face_match_threshold: float | None = None
    notification_channel: NotificationChannel | None = None
    job_tag: str | None = None


def check_defaults(defaults: Defaults) -> None:
    """The fields' own rules, checked when a worker is made rather than on its first message."""
    FaceSearchRequest(
        S3Video("stand-in", "stand-in"),
        defaults.collection_id if defaults.collection_id is not None else "stand-in",
        defaults.face_match_threshold,
        defaults.notification_channel,
        defaults.job_tag,
    )


def token_for_message(message_id: str) -> str:
    """The ``ClientRequestToken`` of the job a message asks for.

    SQS keeps a message's ``MessageId`` across redeliveries, so every worker that
    receives it sends the same token (the service's rule: ``^[a-zA-Z0-9-_]+$``, at most
    64 characters; a hash keeps any id within it).
    """
    digest = hashlib.sha256(f"rekoface-work-queue:{message_id}".encode()).hexdigest()
    return f"sqs-{digest[:60]}"


def _problem(path: str, problem: str, rule: str) -> RequestValidationError:
    return RequestValidationError([FieldError(path, problem, rule)])


def parse_work_item(body: object, defaults: Defaults, token: str | None) -> FaceSearchRequest:
    """The request `body` asks for, carrying `token` (`None`: the caller's choice of
    token, e.g. a batch's key); `RequestValidationError` otherwise."""
    if not isinstance(body, str):
        raise _problem(_BODY, f"must be text, not {type(body).__name__}", "str")
    text = body.strip()
    if text.startswith("s3://"):
        return _request(S3Video.from_uri(text), {}, defaults, token, defaults.notification_channel)
    try:
        loaded: object = json.loads(text)
    except ValueError as err:
        raise _problem(
            _BODY, f"is neither an S3 URI nor JSON ({err})", 's3://bucket/key or {"Video": ...}'
        ) from None
    if not isinstance(loaded, dict):
        raise _problem(_BODY, f"is JSON {type(loaded).__name__}, not an object", "JSON object")
    document = cast("dict[str, Any]", loaded)
    errors: list[FieldError] = []
    unknown = sorted(set(document) - set(_KEYS))
    if unknown:
        errors.append(
            FieldError(
                f"{_BODY}.{unknown[0]}",
                f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}",
                ", ".join(_KEYS),
            )
        )
    video: S3Video | None = None
    try:
        video = _video(document.get("Video"))
    except RequestValidationError as err:
        errors += err.errors
    channel: Any = defaults.notification_channel
    if "NotificationChannel" in document:
        try:
            channel = _channel(document["NotificationChannel"])
        except RequestValidationError as err:
            errors += err.errors
    if errors or video is None:
        raise RequestValidationError(errors)
    return _request(video, document, defaults, token, channel)


def _request(
    video: S3Video,
    document: dict[str, Any],
    defaults: Defaults,
    token: str | None,
    channel: NotificationChannel | None,
) -> FaceSearchRequest:
    collection = document.get("CollectionId", defaults.collection_id)
    if collection is None:
        raise _problem(
            "CollectionId", "neither the message nor the worker names one", "a collection id"
        )
    return FaceSearchRequest(
        video,
        collection,
        document.get("FaceMatchThreshold", defaults.face_match_threshold),
        channel,
        document.get("JobTag", defaults.job_tag),
        token,
    )


def _video(value: object) -> S3Video:
    if value is None:
        raise _problem("Video", "is missing", "s3://bucket/key or {S3Object: ...}")
    if isinstance(value, str):
        return S3Video.from_uri(value)
    fields = cast("dict[str, Any]", value) if isinstance(value, dict) else {}
    if not isinstance(fields.get("S3Object"), dict):
        raise _problem("Video.S3Object", "is missing", "{Bucket, Name, Version?}")
    s3_object = cast("dict[str, Any]", fields["S3Object"])
    return S3Video(_get(s3_object, "Bucket"), _get(s3_object, "Name"), s3_object.get("Version"))


def _channel(value: object) -> NotificationChannel:
    if not isinstance(value, dict):
        raise _problem("NotificationChannel", "must be an object", "{SNSTopicArn, RoleArn}")
    fields = cast("dict[str, Any]", value)  # each field is checked by NotificationChannel
    return NotificationChannel(_get(fields, "SNSTopicArn"), _get(fields, "RoleArn"))


def _get(fields: dict[str, Any], key: str) -> Any:
    """A field that may be missing: `None`, which the model's own check names."""
    return fields.get(key)
