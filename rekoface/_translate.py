"""The one translation of botocore's exceptions into rekoface's.

Every AWS call the library makes (building a client, each Rekognition call, each SQS
call) runs inside `translated`, so a given botocore failure always becomes the same
typed error, whichever service or code path met it (httpx keeps one request context
for the same reason). Messages name what to set; they never carry credentials.

This module imports nothing of the package but `errors`.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from typing import Final, TypeVar

from botocore.exceptions import (
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

__all__ = ["CREDENTIALS_HINT", "REGION_HINT", "TRANSPORT_ERRORS", "translated"]

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
    except ClientError as err:
        raise _tagged(service_error_from_client_error(err), client_request_token) from err
    except TRANSPORT_ERRORS as err:
        raise _tagged(
            TransportError(
                f"{operation_name}: no answer from the service ({type(err).__name__}: {err})",
                operation_name=operation_name,
            ),
            client_request_token,
        ) from err
    except (NoCredentialsError, PartialCredentialsError) as err:
        raise _tagged(ConfigurationError(CREDENTIALS_HINT), client_request_token) from err
    except ProfileNotFound as err:
        profile = err.kwargs.get("profile", "?")
        raise _tagged(
            ConfigurationError(
                f"the AWS profile {profile!r} is not in your AWS config files: check "
                "AWS_PROFILE (or profile_name), or run `aws configure --profile NAME`"
            ),
            client_request_token,
        ) from err
    except CredentialRetrievalError as err:
        provider = err.kwargs.get("provider", "the credential provider")
        raise _tagged(
            ConfigurationError(
                f"getting AWS credentials from {provider} failed: check the profile's "
                "credential_process (or SSO session) by running it by hand"
            ),
            client_request_token,
        ) from err
    except NoRegionError as err:
        raise _tagged(ConfigurationError(REGION_HINT), client_request_token) from err
    except InvalidRegionError as err:
        region = err.kwargs.get("region_name", "?")
        raise _tagged(
            ConfigurationError(
                f"the AWS region {region!r} is malformed: use a name such as us-east-1"
            ),
            client_request_token,
        ) from err


def _tagged(error: _E, token: str | None) -> _E:
    if token is not None:
        error.client_request_token = token
    return error
