"""The requests the options describe, every invalid value reported at once."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rekoface.errors import FieldError, RequestValidationError

from .context import UsageError

if TYPE_CHECKING:
    from rekoface.models import FaceSearchRequest, NotificationChannel, S3Video

__all__ = ["batch_template", "build_request", "notification_channel"]


def notification_channel(
    args: argparse.Namespace,
) -> tuple[NotificationChannel | None, list[FieldError]]:
    """``--sns-topic`` and ``--role``: both or neither (exit 2); the channel, or its
    problems for the caller to report with the request's others."""
    from rekoface.models import NotificationChannel

    if (args.sns_topic is None) != (args.role is None):
        raise UsageError("--sns-topic and --role go together")
    if args.sns_topic is None:
        return None, []
    try:
        return NotificationChannel(args.sns_topic, args.role), []
    except RequestValidationError as err:
        return None, list(err.errors)


def build_request(args: argparse.Namespace) -> FaceSearchRequest:
    """The request the options describe; every invalid value is reported at once."""
    from rekoface.models import FaceSearchRequest, S3Video

    channel, channel_errors = notification_channel(args)
    errors: list[FieldError] = []
    video: S3Video | None = None
    request: FaceSearchRequest | None = None
    try:
        video = S3Video.from_uri(args.video, args.video_version)
    except RequestValidationError as err:
        errors += err.errors
    errors += channel_errors
    try:
        request = FaceSearchRequest(
            # A stand-in video lets the other fields be checked too.
            video if video is not None else S3Video("stand-in", "stand-in"),
            args.collection,
            args.threshold,
            channel,
            args.job_tag,
            args.token,
        )
    except RequestValidationError as err:
        errors += err.errors
    if errors or request is None:
        raise RequestValidationError(errors)
    return request


def batch_template(args: argparse.Namespace) -> FaceSearchRequest:
    """The options every video of the batch shares, checked at once (a stand-in video)."""
    from rekoface.models import FaceSearchRequest, S3Video

    channel, errors = notification_channel(args)
    if args.queue_url is not None and args.sns_topic is None:
        raise UsageError(
            "--queue-url needs --sns-topic and --role: the jobs publish their ends to that "
            "topic, which feeds the queue"
        )
    template: FaceSearchRequest | None = None
    try:
        template = FaceSearchRequest(
            S3Video("stand-in", "stand-in"), args.collection, args.threshold, channel, args.job_tag
        )
    except RequestValidationError as err:
        errors += err.errors
    if errors or template is None:
        raise RequestValidationError(errors)
    return template
