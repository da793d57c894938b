"""The SQS layer shared by the notification poller, its receiver and the completions worker.

Private. One factory for SQS clients (in the queue's own region, from the caller's
session), one translation of botocore's errors (`call`, through `_translate`), one
rule for the errors a receive loop waits out (`Patience`), and parameter checks.
boto3 is imported only when a client has to be built.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, TypeVar
from urllib.parse import urlsplit

from botocore.exceptions import NoRegionError

from ._translate import translated
from ._validation import is_finite_number
from ._validation import shown as _shown
from .errors import (
    ConfigurationError,
    FieldError,
    RekoFaceError,
    RequestValidationError,
    ServiceError,
    TransportError,
)

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_sqs import SQSClient

_T = TypeVar("_T")

logger = logging.getLogger("rekoface")

#: SQS's own limits.
MAX_WAIT_TIME_SECONDS: Final = 20
MAX_MESSAGES: Final = 10
MAX_VISIBILITY_TIMEOUT: Final = 43_200

#: Longest sleep between empty receives when long polling is off (``wait_time_seconds=0``).
IDLE_SLEEP: Final = 1.0
#: Waiting out transient errors: the first pause, doubled per failure in a row, capped.
FIRST_RETRY_DELAY: Final = 1.0
MAX_RETRY_DELAY: Final = 20.0

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
    """The one way rekoface builds an SQS client: for `queue_url`'s region.

    A queue lives in one region and answers only there, so the region named in the
    queue URL wins; a URL that names none (a local endpoint) falls back to
    `region_name` (the Rekognition client's), then the session's. The client comes
    from `session` (its credentials), or boto3's default session.
    """
    import boto3

    with translated("create SQS client"):
        if session is None:
            if boto3.DEFAULT_SESSION is None:
                boto3.setup_default_session()
            session = boto3.DEFAULT_SESSION
            assert session is not None
        region = region_from_queue_url(queue_url) or region_name or session.region_name
        try:
            return session.client("sqs", region_name=region)  # pyright: ignore[reportUnknownMemberType]
        except NoRegionError as err:
            raise ConfigurationError(
                "no AWS region for SQS: pass region_name, set AWS_DEFAULT_REGION, "
                "or pass an sqs_client"
            ) from err
        except ValueError as err:  # e.g. a malformed region name
            raise ConfigurationError(f"cannot build an SQS client: {err}") from err


def call(operation_name: str, thunk: Callable[[], _T]) -> _T:
    """Run one SQS call, turning botocore's errors into rekoface's."""
    with translated(f"SQS {operation_name}"):
        return thunk()


def is_transient(error: RekoFaceError) -> bool:
    """Whether waiting may cure `error`: no answer, throttling, or a server-side fault."""
    if isinstance(error, TransportError):
        return True
    return isinstance(error, ServiceError) and error.retryable


class Patience:
    """The one rule for SQS errors inside a receive loop: wait out what is transient.

    A transient error (`is_transient`) is logged as a warning and slept on, one second
    at first, doubling with each failure in a row up to twenty, never past the loop's
    own next deadline; any other error is raised, typed. A success resets the count.
    Not thread-safe: one loop (or one receiver round at a time) owns it.
    """

    __slots__ = ("clock", "failures", "sleep")

    def __init__(self, sleep: Callable[[float], None], clock: Callable[[], float]) -> None:
        self.sleep = sleep
        self.clock = clock
        self.failures = 0

    def call(
        self,
        operation_name: str,
        thunk: Callable[[], _T],
        *,
        until: float,
        raise_past_until: bool = False,
    ) -> _T | None:
        """`thunk()`'s answer, or `None` once a transient failure has been slept on.

        The pause ends by `until` at the latest. With `raise_past_until`, a transient
        failure met when `until` has passed is raised instead: the loop's time is up
        and the error is the truth about why nothing came.
        """
        try:
            answer = call(operation_name, thunk)
        except (ServiceError, TransportError) as err:
            if not is_transient(err):
                raise
            remaining = until - self.clock()
            if remaining <= 0 and raise_past_until:
                raise
            pause = max(0.0, min(self.next_delay(), remaining))
            self.failures += 1
            logger.warning(
                "SQS %s failed, will retry in %.3g s (failure %d in a row): %s",
                operation_name,
                pause,
                self.failures,
                err,
            )
            if pause > 0:
                self.sleep(pause)
            return None
        self.failures = 0
        return answer

    def next_delay(self) -> float:
        """The pause after the next failure, before any deadline cuts it."""
        return min(FIRST_RETRY_DELAY * 2.0 ** min(self.failures, 16), MAX_RETRY_DELAY)


def pause_until(sleep: Callable[[float], None], clock: Callable[[], float], wake: float) -> None:
    """Sleep between receives that cannot wait on the server: `IDLE_SLEEP`, never past `wake`."""
    remaining = wake - clock()
    if remaining > 0:
        sleep(min(IDLE_SLEEP, remaining))


# -- parameter checks shared by the pollers and the worker -------------------------------


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


def checked_timeout(timeout: object) -> float:
    """A `wait(timeout=...)` argument as seconds, or `RequestValidationError` naming it."""
    errors: list[FieldError] = []
    if not check_seconds(errors, "timeout", timeout, zero=True):
        raise RequestValidationError(errors)
    assert isinstance(timeout, int | float)
    return float(timeout)


def check_int(errors: list[FieldError], path: str, value: object, low: int, high: int) -> None:
    """A whole number (not a `bool`) from `low` to `high`."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.append(
            FieldError(path, f"{_shown(value)} is not a whole number from {low} to {high}", "int")
        )


def check_callable(errors: list[FieldError], path: str, value: object) -> None:
    if not callable(value):
        errors.append(FieldError(path, f"{type(value).__name__} is not callable", "callable"))


def check_queue_url(errors: list[FieldError], path: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        errors.append(FieldError(path, f"{_shown(value)} is not a queue URL", "non-empty str"))
