"""What a command runs with: parsed options, streams, time, and how to build clients."""

from __future__ import annotations

import argparse
import os
import shlex
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import attrs

from rekoface.errors import ConfigurationError, RequestValidationError

from .args import PROG
from .progress import Progress
from .streams import TextSink, mask_passwords

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_sqs import SQSClient

    from rekoface.client import FaceSearchClient

__all__ = [
    "CREDENTIALS_HINT",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FINISHED",
    "EXIT_OUTPUT",
    "EXIT_SOME_FAILED",
    "REGION_HINT",
    "ClientFactory",
    "ClientOptions",
    "CommandError",
    "Context",
    "UsageError",
    "default_client_factory",
    "exact_number",
    "resume_words",
    "session_for",
    "sqs_endpoint",
]

CREDENTIALS_HINT: Final = (
    "no AWS credentials found: set AWS_PROFILE (or pass --profile), or AWS_ACCESS_KEY_ID "
    "and AWS_SECRET_ACCESS_KEY, or run `aws configure` / `aws sso login`"
)

REGION_HINT: Final = (
    "no AWS region: pass --region, or set AWS_REGION / AWS_DEFAULT_REGION, or `region` "
    "in your AWS profile"
)


#: The exit codes a `CommandError` carries (`main`'s docstring lists every code).
EXIT_OUTPUT: Final = 1
EXIT_SOME_FAILED: Final = 1
EXIT_INTERRUPTED: Final = 130
EXIT_NOT_FINISHED: Final = 4


class UsageError(Exception):
    """Options that do not go together (exit 2), found after argparse is done."""


class CommandError(Exception):
    """A failure the command has already put into words, with its exit code."""

    def __init__(self, code: int, message: str, *, traceback: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.traceback = traceback


@attrs.frozen
class ClientOptions:
    """The global options that say how to reach Rekognition."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None


ClientFactory = Callable[[ClientOptions], "FaceSearchClient"]
"""Builds the command's `FaceSearchClient` from the global options (tests inject a fake)."""


def session_for(options: ClientOptions) -> boto3.Session | None:
    """A boto3 session for ``--profile`` (`None`: boto3's default chain)."""
    if options.profile is None:
        return None
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.Session(profile_name=options.profile)
    except ProfileNotFound as err:
        raise ConfigurationError(
            f"AWS profile {options.profile!r} not found: check --profile, or the profiles "
            "in ~/.aws/config and ~/.aws/credentials (AWS_CONFIG_FILE, "
            "AWS_SHARED_CREDENTIALS_FILE)"
        ) from err


def default_client_factory(options: ClientOptions) -> FaceSearchClient:
    """A `FaceSearchClient` for the options; ``AWS_MAX_ATTEMPTS`` caps its attempts per call."""
    from rekoface.client import FaceSearchClient
    from rekoface.retry import RetryPolicy

    retry = None
    attempts = os.environ.get("AWS_MAX_ATTEMPTS")
    if attempts:
        try:
            retry = RetryPolicy(max_attempts=int(attempts))
        except (ValueError, RequestValidationError) as err:
            raise ConfigurationError(
                f"AWS_MAX_ATTEMPTS={attempts!r} is not a whole number >= 1"
            ) from err
    return FaceSearchClient(
        boto3_session=session_for(options),
        region_name=options.region,
        endpoint_url=options.endpoint_url,
        retry=retry,
    )


def sqs_endpoint(queue_url: str) -> str | None:
    """The endpoint of a queue outside AWS (moto, LocalStack, ElasticMQ): its URL's origin."""
    parts = urlsplit(queue_url)
    host = parts.hostname or ""
    if not parts.scheme or not host or host.endswith((".amazonaws.com", ".amazonaws.com.cn")):
        return None
    return f"{parts.scheme}://{parts.netloc}"


@attrs.define
class Context:
    """One run of the command."""

    args: argparse.Namespace
    stdout: TextSink
    stderr: TextSink
    client_factory: ClientFactory
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    options: ClientOptions
    _client: FaceSearchClient | None = None

    @property
    def fmt(self) -> str:
        """The output format."""
        return str(self.args.format)

    def client(self) -> FaceSearchClient:
        """The command's client, built on first use."""
        if self._client is None:
            self._client = self.client_factory(self.options)
        return self._client

    def sqs_client(self, queue_url: str) -> SQSClient:
        """An SQS client for ``--queue-url``, with the Rekognition client's region."""
        import boto3

        session = session_for(self.options) or boto3.Session()
        region = self.client().boto3_client.meta.region_name
        return session.client(  # pyright: ignore[reportUnknownMemberType]
            "sqs", region_name=region, endpoint_url=sqs_endpoint(queue_url)
        )

    def s3_client(self) -> Any:
        """An S3 client (listing a prefix, writing outputs), in the Rekognition client's
        region; ``AWS_ENDPOINT_URL_S3`` points it elsewhere (a moto server, LocalStack)."""
        import boto3

        session = session_for(self.options) or boto3.Session()
        region = self.client().boto3_client.meta.region_name
        make: Any = session.client  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        return make("s3", region_name=region)

    def progress(self, clock: Callable[[], float] | None = None) -> Progress:
        """The stderr progress reporter (silent with ``--quiet``)."""
        return Progress(self.stderr, clock=clock or self.clock, enabled=not self.args.quiet)

    def command_line(
        self,
        command: str,
        positional: str | Sequence[str],
        options: Sequence[tuple[str, str]] = (),
    ) -> str:
        """The ``rekoface`` command line that resumes: this run's connection options, then
        `command` with `positional` (one or several) and `options` (flag, value), each
        value exactly as it parses back; passwords in URLs are masked."""
        positionals = [positional] if isinstance(positional, str) else list(positional)
        connection = self.options
        globals_ = [
            (flag, value)
            for flag, value in (
                ("--region", connection.region),
                ("--profile", connection.profile),
                ("--endpoint-url", connection.endpoint_url),
            )
            if value is not None
        ]
        words = [PROG, *resume_words(globals_), command]
        if any(p.startswith("-") for p in positionals):  # `--`: not read as options
            words += [*resume_words(options), "--", *positionals]
        else:
            words += [*positionals, *resume_words(options)]
        return shlex.join([mask_passwords(word) for word in words])


def exact_number(value: float) -> str:
    """The shortest text that reads back as exactly `value`: ``50`` for 50.0, else `repr`
    (``99.999951``; ``:g`` would print ``100``)."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def resume_words(options: Sequence[tuple[str, str]]) -> list[str]:
    """``--flag value`` words; ``--flag=value`` when the value starts with ``-`` (argparse
    would take ``--min-similarity -1e-05`` for two options)."""
    words: list[str] = []
    for flag, value in options:
        words += [f"{flag}={value}"] if value.startswith("-") else [flag, value]
    return words
