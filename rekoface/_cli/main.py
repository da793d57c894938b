"""`main`: parse, run one command, and turn every failure into one line and an exit code.

| exit | meaning |
| --- | --- |
| 0 | success |
| 1 | service or transport error (code and request id shown), or stdout not writable |
| 2 | usage, validation or configuration error (what to fix is named), or stdout closed |
| 3 | the job FAILED |
| 4 | the job has not finished (wait timed out, or results of a running job) |
| 130 | interrupted; the command that resumes is shown |
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Final

from rekoface.errors import (
    CollectionNotReadyError,
    ConfigurationError,
    JobFailedError,
    JobNotCompleteError,
    PollTimeoutError,
    RekoFaceError,
    RequestValidationError,
    ServiceError,
    TransportError,
)

from .args import PROG, build_parser
from .commands import COMMANDS, check_format
from .context import (
    CREDENTIALS_HINT,
    REGION_HINT,
    ClientFactory,
    ClientOptions,
    CommandError,
    Context,
    UsageError,
    default_client_factory,
)
from .streams import MessageStream, OutputError, Stdout, TextSink

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FINISHED",
    "EXIT_OK",
    "EXIT_SERVICE",
    "EXIT_USAGE",
    "ClientFactory",
    "ClientOptions",
    "default_client_factory",
    "main",
]

EXIT_OK: Final = 0
EXIT_SERVICE: Final = 1
EXIT_USAGE: Final = 2
EXIT_FAILED: Final = 3
EXIT_NOT_FINISHED: Final = 4
EXIT_INTERRUPTED: Final = 130

logger = logging.getLogger("rekoface")

#: What `--field` a validation error's API path came from, to name it in the message.
_OPTION_FOR: Final = {
    "Video.S3Object": "S3_URI",
    "Video.S3Object.Bucket": "S3_URI bucket",
    "Video.S3Object.Name": "S3_URI key",
    "Video.S3Object.Version": "--video-version",
    "CollectionId": "--collection",
    "FaceMatchThreshold": "--threshold",
    "NotificationChannel.SNSTopicArn": "--sns-topic",
    "NotificationChannel.RoleArn": "--role",
    "JobTag": "--job-tag",
    "ClientRequestToken": "--token",
    "idempotency_key": "--idempotency-key",
    "JobId": "JOB_ID",
    "SortBy": "--sort-by",
    "MaxResults": "--page-size",
    "NextToken": "--next-token",
    "min_similarity": "--min-similarity",
    "max_gap_ms": "--max-gap",
    "timeout": "--timeout",
    "max_in_flight": "--max-in-flight",
    "key": "--key",
    "SqsNotificationPoller.queue_url": "--queue-url",
    "Image.S3Object": "S3_URI",
    "Image.S3Object.Bucket": "S3_URI bucket",
    "Image.S3Object.Name": "S3_URI key",
    "ExternalImageId": "--external-id",
    "MaxFaces": "--max-faces",
    "QualityFilter": "--quality-filter",
}
_SERVICE_HINTS: Final = {
    "AccessDeniedException": "check that your credentials may call rekognition:{operation}",
    "InvalidS3ObjectException": "check the S3 URI, the bucket's region and that "
    "Rekognition may read the object",
    "ResourceNotFoundException": "check the collection id or JobId, and --region",
    "LimitExceededException": "too many jobs are running (20 by default): let some finish",
    "ThrottlingException": "still throttled after retries: try again later",
    "ProvisionedThroughputExceededException": "still throttled after retries: try again later",
    "InvalidPaginationTokenException": "page tokens live 24 hours: start again without "
    "--next-token",
}


def main(
    argv: Sequence[str] | None = None,
    *,
    client_factory: ClientFactory | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> int:
    """Run the ``rekoface`` command; return its exit code.

    `client_factory`, `sleep` and `clock` are for tests and embedding: what builds the
    `FaceSearchClient`, and the time the pollers and retries wait on.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, usage errors (already printed)
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    stderr = MessageStream(sys.stderr)
    if sys.stdout is None:  # closed before the start (`>&-`): refuse before doing anything
        stderr.write(
            f"{PROG} {args.command}: error: stdout is closed, so the output (a JobId, the "
            "matches) would be lost; send it to a file or /dev/null instead\n"
        )
        return EXIT_USAGE
    stdout = Stdout(sys.stdout)
    context = Context(
        args=args,
        stdout=stdout,
        stderr=stderr,
        client_factory=client_factory or default_client_factory,
        sleep=sleep or time.sleep,
        clock=clock or time.monotonic,
        options=ClientOptions(args.region, args.profile, args.endpoint_url),
    )
    level = logger.level
    handler = _log_handler(args.verbose, stderr)
    try:
        check_format(args.command, args.format)
        exit_code = COMMANDS[args.command](context)
        stdout.flush()  # a write that fails must fail here, not silently at exit
        return exit_code
    except BaseException as err:  # every failure becomes one line and a code
        code, line = _describe(err, args.command)
        if code is None:
            raise
        if (
            args.verbose
            and not isinstance(err, KeyboardInterrupt)
            and getattr(err, "traceback", True)
        ):
            traceback.print_exception(type(err), err, err.__traceback__, file=stderr)
        if line is not None:
            stderr.write(line + "\n")
            stderr.flush()
        return code
    finally:
        if handler is not None:
            logger.removeHandler(handler)
            logger.setLevel(level)


def _log_handler(verbose: int, stream: TextSink) -> logging.Handler | None:
    if not verbose:
        return None
    handler: logging.Handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    return handler


def _validation_line(err: RequestValidationError) -> str:
    parts: list[str] = []
    for field in err.errors:
        option = _OPTION_FOR.get(field.path)
        name = f"{option} ({field.path})" if option else field.path
        parts.append(f"{name}: {field.problem} (rule: {field.rule})")
    noun = "invalid value" if len(parts) == 1 else f"{len(parts)} invalid values"
    return f"{noun}: " + "; ".join(parts)


def _service_line(err: ServiceError) -> str:
    line = f"{err.code}: {err.message}" if err.message else err.code
    details = [f"request id {err.request_id}" if err.request_id else "no request id"]
    if err.operation_name:
        details.insert(0, err.operation_name)
    hint = _SERVICE_HINTS.get(err.code)
    if hint:
        details.append(hint.format(operation=err.operation_name))
    return f"{line} ({'; '.join(details)})"


def _silence_stdout() -> None:
    """stdout cannot take more (the reader went away, or a write failed): keep Python
    from failing again as it flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (e.g. captured in tests)
        pass


def _describe(err: BaseException, command: str) -> tuple[int | None, str | None]:
    """The exit code and the one line for an error (`None`: not ours to handle)."""
    from botocore.exceptions import NoCredentialsError, NoRegionError, PartialCredentialsError

    prefix = f"{PROG} {command}: error: "
    if isinstance(err, CommandError):
        if isinstance(err.__cause__, OutputError):
            _silence_stdout()
        return err.code, f"{PROG} {command}: {err}"
    if isinstance(err, KeyboardInterrupt):
        return EXIT_INTERRUPTED, f"{PROG} {command}: interrupted"
    if isinstance(err, UsageError):
        return EXIT_USAGE, f"{prefix}{err} (see '{PROG} {command} --help')"
    if isinstance(err, RequestValidationError):
        return EXIT_USAGE, prefix + _validation_line(err)
    cause = err.__cause__ if isinstance(err, ConfigurationError) else err
    if isinstance(cause, NoCredentialsError | PartialCredentialsError):
        return EXIT_USAGE, prefix + CREDENTIALS_HINT
    if isinstance(cause, NoRegionError):
        return EXIT_USAGE, prefix + REGION_HINT
    if isinstance(err, ConfigurationError | CollectionNotReadyError):
        return EXIT_USAGE, prefix + str(err)
    if isinstance(err, ServiceError):
        return EXIT_SERVICE, prefix + _service_line(err)
    if isinstance(err, TransportError):
        return EXIT_SERVICE, prefix + str(err)
    if isinstance(err, JobFailedError):
        return EXIT_FAILED, prefix + str(err)
    if isinstance(err, PollTimeoutError):
        return EXIT_NOT_FINISHED, prefix + f"{err}; the job goes on"
    if isinstance(err, JobNotCompleteError):
        return EXIT_NOT_FINISHED, prefix + str(err)
    if isinstance(err, BrokenPipeError):
        _silence_stdout()
        return EXIT_SERVICE, None
    if isinstance(err, OutputError):
        _silence_stdout()
        return EXIT_SERVICE, prefix + str(err)
    if isinstance(err, RekoFaceError):
        return EXIT_SERVICE, prefix + str(err)
    if isinstance(err, Exception):
        return EXIT_SERVICE, (
            f"{prefix}unexpected {type(err).__name__}: {err} "
            "(run with --verbose for the traceback, and please report it)"
        )
    return None, None
