"""SQS plumbing shared by the notification poller and the completions worker.

Private: typed errors around SQS calls, making an SQS client lazily (boto3 is
imported only when a client has to be built), and parameter checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, TypeVar
from urllib.parse import urlsplit

from botocore.exceptions import NoRegionError

from ._translate import translated
from ._validation import is_finite_number
from ._validation import shown as _shown
from .errors import ConfigurationError, FieldError

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_sqs import SQSClient

_T = TypeVar("_T")

#: SQS's own limits.
MAX_WAIT_TIME_SECONDS: Final = 20
MAX_MESSAGES: Final = 10
MAX_VISIBILITY_TIMEOUT: Final = 43_200

# sqs.<region>.amazonaws.com[.cn] and the legacy <region>.queue.amazonaws.com[.cn].
_QUEUE_HOST: Final = re.compile(
    r"(?:sqs\.(?P<a>[a-z0-9-]+)|(?P<b>[a-z0-9-]+)\.queue)\.amazonaws\.com(?:\.cn)?",
    re.ASCII,
)


def region_from_queue_url(queue_url: str) -> str | None:
    """The region named in an SQS queue URL's host, if it names one."""
    match = _QUEUE_HOST.fullmatch(urlsplit(queue_url).hostname or "")
    if match is None:
        return None
    return match.group("a") or match.group("b")


def make_sqs_client(
    session: boto3.Session | None, region_name: str | None, queue_url: str
) -> SQSClient:
    """An SQS client from `session` (or boto3's default session) and a region.

    The region is `region_name`, else the session's, else the one in the queue URL.
    """
    import boto3

    if session is None:
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
        assert session is not None
    region = region_name or session.region_name or region_from_queue_url(queue_url)
    try:
        return session.client("sqs", region_name=region)  # pyright: ignore[reportUnknownMemberType]
    except NoRegionError as err:
        raise ConfigurationError(
            "no AWS region for SQS: pass region_name, set AWS_DEFAULT_REGION, or pass an sqs_client"
        ) from err
    except ValueError as err:  # e.g. a malformed region name
        raise ConfigurationError(f"cannot build an SQS client: {err}") from err


def call(operation_name: str, thunk: Callable[[], _T]) -> _T:
    """Run one SQS call, turning botocore's errors into rekoface's."""
    with translated(f"SQS {operation_name}"):
        return thunk()


# -- parameter checks shared by the poller and the worker -------------------------------


def check_seconds(errors: list[FieldError], path: str, value: object, *, zero: bool) -> bool:
    """A finite, non-negative number (positive unless `zero`), not a `bool`."""
    rule = ">= 0" if zero else "> 0"
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(FieldError(path, f"must be a number, not {type(value).__name__}", rule))
        return False
    if not is_finite_number(value) or value < 0 or (value == 0 and not zero):
        errors.append(FieldError(path, f"{_shown(value)} is out of range", f"finite, {rule}"))
        return False
    return True


def check_int(errors: list[FieldError], path: str, value: object, low: int, high: int) -> None:
    """A whole number (not a `bool`) from `low` to `high`."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.append(
            FieldError(path, f"{value!r} is not a whole number from {low} to {high}", "int")
        )


def check_callable(errors: list[FieldError], path: str, value: object) -> None:
    if not callable(value):
        errors.append(FieldError(path, f"{type(value).__name__} is not callable", "callable"))


def check_queue_url(errors: list[FieldError], path: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        errors.append(FieldError(path, f"{value!r} is not a queue URL", "non-empty str"))
