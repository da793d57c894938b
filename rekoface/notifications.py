"""Rekognition's job-completion notification, from whichever wrapper it arrives in.

Rekognition publishes one JSON message to the job's SNS topic when a job ends. It
reaches code in several wrappers: an SQS message body (inside an SNS envelope, or
bare with raw message delivery), a Lambda SNS event record, a Lambda SQS event
record, or a ``receive_message`` message dict. `parse_notification` takes any of
them. The notification is a hint: confirm the job's state with ``GetFaceSearch``
before reading results (`FaceSearchClient.wait` and the pollers do).

Anyone who can publish to the topic can put anything on the queue, so parsing is
bounded before ``json`` and ``int`` see the text (size, nesting, digits): whatever is
wrong with a message, the outcome is a `NotificationError`, which the pollers and
workers treat as a foreign message and leave alone. What the service sent is read
leniently: never held to the request rules (an ``S3Bucket`` of ``"b"`` is kept).

This module imports nothing of the package but `errors` and `models`.
"""

from __future__ import annotations

import json
import re
import reprlib
from collections.abc import Mapping
from enum import Enum
from typing import Any, Final, cast

import attrs

from .errors import NotificationError
from .models import S3Video

__all__ = ["CompletionNotification", "NotificationStatus", "parse_notification"]

#: How many wrappers (Lambda record -> SQS body -> SNS envelope -> ...) are unwrapped at most.
_MAX_DEPTH: Final = 4
_FACE_SEARCH_APIS: Final = frozenset({"facesearch"})
#: Longest JSON text parsed, in characters (bytes before decoding): SNS's message limit
#: is 256 KiB and Rekognition's notifications are under 1 KB, so nothing longer is one.
_MAX_TEXT: Final = 256 * 1024
#: Deepest nesting of arrays and objects parsed (the notification's is 2, plus wrappers).
_MAX_NESTING: Final = 32
#: Most digits of an integer parsed (milliseconds since the epoch have 13).
_MAX_DIGITS: Final = 20
# What nesting is counted from: brackets, and the quotes and escapes that hide them.
_STRUCTURE: Final = re.compile(r'[\[\]{}"\\]')


class NotificationStatus(str, Enum):
    """The ``Status`` of a completion notification.

    ``ERROR`` appears in notifications although ``GetFaceSearch`` never reports it.
    Formats as its value on every Python (3.11 changed ``format()`` of mixed enums).
    """

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    ERROR = "ERROR"

    def __str__(self) -> str:
        return self.value

    def __format__(self, format_spec: str) -> str:
        return format(self.value, format_spec)


@attrs.frozen
class CompletionNotification:
    """What Rekognition said when a job ended.

    `api` is kept as given: AWS spells it ``StartFaceSearch`` or ``FACE_SEARCH``.
    `timestamp` is in milliseconds since the epoch, as published.
    """

    job_id: str
    status: NotificationStatus
    api: str | None = None
    job_tag: str | None = None
    timestamp: int | None = None
    video: S3Video | None = None

    @property
    def is_face_search(self) -> bool:
        """Whether this is a face-search job's notification (`True` when `api` is absent).

        Accepts every spelling seen in AWS's documents (``StartFaceSearch``,
        ``FACE_SEARCH``) regardless of case and underscores.
        """
        if self.api is None:
            return True
        name = self.api.replace("_", "").lower()
        name = name.removeprefix("start")
        return name in _FACE_SEARCH_APIS


def parse_notification(message: str | bytes | Mapping[str, Any]) -> CompletionNotification:
    """Parse a completion notification from any wrapper it arrives in.

    Accepts the Rekognition JSON (as ``str``, ``bytes`` or a mapping), an SQS message
    body (an SNS envelope, detected by ``"Type": "Notification"`` together with
    ``TopicArn``, or a raw delivery), a ``receive_message`` message dict
    (``{"Body": ..., "ReceiptHandle": ...}``), a Lambda SNS event record and a Lambda
    SQS event record. Unknown keys are ignored. Anything else raises
    `NotificationError` (a `ValueError`) saying what is wrong.
    """
    document: object = message
    where = "message"
    for _ in range(_MAX_DEPTH + 1):
        data = _as_mapping(document, where)
        inner = _unwrap(data, where)
        if inner is None:
            return _from_rekognition(data, where)
        document, where = inner
    raise NotificationError(f"{where}: wrapped more than {_MAX_DEPTH} levels deep")


def _as_mapping(document: object, where: str) -> Mapping[str, Any]:
    """Decode JSON text to a mapping; pass a mapping through."""
    if isinstance(document, Mapping):
        return cast("Mapping[str, Any]", document)
    if isinstance(document, bytes | bytearray | memoryview):
        raw = bytes(cast("bytes", document))
        _check_length(len(raw), where)
        try:
            document = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise NotificationError(f"{where} is not UTF-8 text: {err}") from err
    if not isinstance(document, str):
        raise NotificationError(
            f"{where} must be JSON text, bytes or a mapping, not {type(document).__name__}"
        )
    _check_length(len(document), where)
    _check_nesting(document, where)
    try:
        data = json.loads(document, parse_int=_bounded_int)
    except (ValueError, RecursionError) as err:  # RecursionError: belt and braces
        if isinstance(err, NotificationError):
            raise NotificationError(f"{where}: {err}") from err
        raise NotificationError(f"{where} is not JSON: {err} (text: {_shown(document)})") from err
    if not isinstance(data, Mapping):
        raise NotificationError(f"{where} is JSON {type(data).__name__}, not an object")
    return cast("Mapping[str, Any]", data)


def _check_length(length: int, where: str) -> None:
    if length > _MAX_TEXT:
        raise NotificationError(
            f"{where} is {length} long, over the {_MAX_TEXT} a notification can be"
        )


def _check_nesting(text: str, where: str) -> None:
    """Refuse text nested deeper than `_MAX_NESTING`, before ``json`` recurses into it."""
    depth = 0
    in_string = False
    escaped = -1  # the position a backslash in a string escapes
    for match in _STRUCTURE.finditer(text):
        char, position = match.group(), match.start()
        if in_string:
            if position == escaped:
                continue
            if char == "\\":
                escaped = position + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > _MAX_NESTING:
                raise NotificationError(
                    f"{where} is nested more than {_MAX_NESTING} levels deep: "
                    "not a Rekognition completion notification"
                )
        elif char in "]}":
            depth -= 1


def _bounded_int(digits: str) -> int:
    """``json``'s integers, refused past `_MAX_DIGITS` digits (``int()`` is slow or raises)."""
    if len(digits.lstrip("-")) > _MAX_DIGITS:
        raise NotificationError(f"a number of {len(digits)} digits is no notification's")
    return int(digits)


def _unwrap(data: Mapping[str, Any], where: str) -> tuple[object, str] | None:
    """The wrapped document and where it came from, or `None` if `data` is no wrapper."""
    if "Records" in data and "JobId" not in data:
        records = data["Records"]
        count = len(cast("list[object]", records)) if isinstance(records, list) else "?"
        raise NotificationError(
            f"{where} is a whole Lambda event ({count} records): "
            'parse each record, e.g. parse_notification(event["Records"][0])'
        )
    if data.get("eventSource") == "aws:sqs":
        return _field(data, "body", where, "Lambda SQS record"), f"{where}.body"
    if data.get("EventSource") == "aws:sns":
        sns = data.get("Sns")
        if not isinstance(sns, Mapping):
            raise NotificationError(f"{where}: Lambda SNS record without an Sns object")
        return cast("Mapping[str, Any]", sns), f"{where}.Sns"
    if "Body" in data and "ReceiptHandle" in data:
        return _field(data, "Body", where, "SQS message"), f"{where}.Body"
    if "TopicArn" in data and "Type" in data:
        kind = data["Type"]
        if kind != "Notification":
            raise NotificationError(
                f"{where} is an SNS {kind!r} message, not a Notification "
                "(confirm the subscription, or deliver to the queue from the topic's owner account)"
            )
        return _field(data, "Message", where, "SNS envelope"), f"{where}.Message"
    return None


def _field(data: Mapping[str, Any], key: str, where: str, what: str) -> object:
    value: object = data.get(key)
    if isinstance(value, str | bytes | Mapping):
        return cast(object, value)
    shown = "missing" if value is None else f"a {type(value).__name__}"
    raise NotificationError(f"{where}: {what} whose {key} is {shown}, not JSON text")


def _from_rekognition(data: Mapping[str, Any], where: str) -> CompletionNotification:
    job_id = data.get("JobId")
    if not isinstance(job_id, str) or not job_id:
        problem = "has no JobId" if job_id is None else f"has JobId {_shown(job_id)}"
        raise NotificationError(
            f"{where} {problem}: not a Rekognition completion notification (keys: {_keys(data)})"
        )
    raw_status = data.get("Status")
    try:
        status = NotificationStatus(raw_status)
    except ValueError:
        allowed = ", ".join(s.value for s in NotificationStatus)
        raise NotificationError(
            f"{where}.Status is {_shown(raw_status)}, not one of {allowed}"
        ) from None
    return CompletionNotification(
        job_id=job_id,
        status=status,
        api=_optional_str(data, "API", where),
        job_tag=_optional_str(data, "JobTag", where),
        timestamp=_timestamp(data.get("Timestamp"), where),
        video=_video(data.get("Video"), where),
    )


def _keys(data: Mapping[str, Any]) -> str:
    keys = sorted(map(str, data))
    shown = ", ".join(_REPR.repr(key)[1:-1] for key in keys[:12]) or "none"
    return shown + (f", ... ({len(keys)} in all)" if len(keys) > 12 else "")


def _optional_str(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise NotificationError(f"{where}.{key} must be a string, not {type(value).__name__}")


def _timestamp(value: object, where: str) -> int | None:
    """Milliseconds since the epoch; a numeric string or an integral float is accepted."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= _MAX_DIGITS:
        return int(value)
    raise NotificationError(f"{where}.Timestamp is {_shown(value)}, not milliseconds")


def _video(value: object, where: str) -> S3Video | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise NotificationError(f"{where}.Video must be an object, not {type(value).__name__}")
    video = cast("Mapping[str, Any]", value)
    bucket, name = video.get("S3Bucket"), video.get("S3ObjectName")
    if not isinstance(bucket, str) or not isinstance(name, str):
        raise NotificationError(f"{where}.Video needs string S3Bucket and S3ObjectName")
    version = video.get("S3ObjectVersion")
    # What the service sent is taken as it is: `S3Video()` would hold it to the request
    # rules, and a notification must never fail to parse over that (as in results).
    parsed = object.__new__(S3Video)
    object.__setattr__(parsed, "bucket", bucket)
    object.__setattr__(parsed, "name", name)
    object.__setattr__(parsed, "version", version if isinstance(version, str) else None)
    return parsed


_REPR: Final = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 80
_REPR.maxother = 80


def _shown(value: object) -> str:
    """A short repr, however big or deep `value` is."""
    text = _REPR.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
