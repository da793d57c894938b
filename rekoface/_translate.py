"""The one translation of botocore's exceptions into rekoface's.

Every AWS call the library makes (building a client, each Rekognition call, each SQS
call) runs inside `translated`, so a given botocore failure always becomes the same
typed error, whichever service or code path met it (httpx keeps one request context
for the same reason). Messages name what to set; they never carry credentials.

This module imports nothing of the package but `errors`.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from contextlib import contextmanager
from typing import Final, TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    HTTPClientError,
    InvalidRegionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from .errors import (
    ConfigurationError,
    RekoFaceError,
    TransportError,
    service_error_from_client_error,
)

__all__ = [
    "CREDENTIALS_HINT",
    "REGION_HINT",
    "TRANSPORT_ERRORS",
    "redact_url",
    "translate",
    "translated",
]

_E = TypeVar("_E", bound=RekoFaceError)

CREDENTIALS_HINT: Final = (
    "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY, or run `aws configure` / `aws sso login`"
)
REGION_HINT: Final = (
    "no AWS region: pass region_name=, or set AWS_REGION / AWS_DEFAULT_REGION, "
    "or `region` in your AWS profile"
)
#: botocore's "no answer" family: connect/read timeouts, endpoint unreachable, proxy,
#: SSL, connection closed, a response stream cut short. Retried; after that a
#: `TransportError`.
TRANSPORT_ERRORS: Final = (BotocoreConnectionError, HTTPClientError)


@contextmanager
def translated(
    operation_name: str, *, client_request_token: str | None = None
) -> Generator[None, None, None]:
    """Run the block, raising botocore's errors as rekoface's (the original chained).

    `operation_name` is the AWS operation (``StartFaceSearch``, ``ReceiveMessage``) or
    what was being done (``create Rekognition client``). With `client_request_token`,
    every error raised carries it, so a start whose answers were all lost can be
    resumed with the same token.
    """
    try:
        yield
    except Exception as err:
        typed = translate(err, operation_name, client_request_token)
        if typed is None:
            raise
        raise typed from err


def translate(
    err: BaseException, operation_name: str, client_request_token: str | None = None
) -> RekoFaceError | None:
    """The rekoface error for one of botocore's (`None`: not botocore's, let it through).

    The function form of `translated`, for hot paths where a ``try`` costs less than a
    context manager; raise the answer ``from err``.
    """
    typed: RekoFaceError
    if isinstance(err, ClientError):
        typed = service_error_from_client_error(err)
    elif isinstance(err, TRANSPORT_ERRORS):
        text = redact_url(f"{type(err).__name__}: {err}")
        typed = TransportError(
            f"{operation_name}: no answer from the service ({text})",
            operation_name=operation_name,
        )
    elif isinstance(err, _SETUP_ERRORS):
        typed = ConfigurationError(_setup_hint(err))
    else:
        return None
    return _tagged(typed, client_request_token)


_SETUP_ERRORS: Final = (
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    CredentialRetrievalError,
    NoRegionError,
    InvalidRegionError,
)


def _setup_hint(err: BotoCoreError) -> str:
    """What to set, for one of botocore's set-up errors (never the credentials themselves)."""
    if isinstance(err, ProfileNotFound):
        return (
            f"the AWS profile {err.kwargs.get('profile', '?')!r} is not in your AWS config "
            "files: check AWS_PROFILE (or profile_name), or run `aws configure --profile NAME`"
        )
    if isinstance(err, CredentialRetrievalError):
        provider = err.kwargs.get("provider", "the credential provider")
        return (
            f"getting AWS credentials from {provider} failed: check the profile's "
            "credential_process (or SSO session) by running it by hand"
        )
    if isinstance(err, NoRegionError):
        return REGION_HINT
    if isinstance(err, InvalidRegionError):
        region = err.kwargs.get("region_name", "?")
        return f"the AWS region {region!r} is malformed: use a name such as us-east-1"
    return CREDENTIALS_HINT


#: ``scheme://user:password@``: the password runs to the last ``@`` before the host.
_USERINFO: Final = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:'\"]*):[^\s/?#'\"]+@")


def redact_url(text: str) -> str:
    """`text` with the password of every ``scheme://user:password@host`` masked as ``***``.

    Errors, log lines and the CLI's resume hints all pass through it.
    """
    if "://" not in text:
        return text
    return _USERINFO.sub(r"\g<head>:***@", text)


def _tagged(error: _E, token: str | None) -> _E:
    if token is not None:
        error.client_request_token = token
    return error
