"""RetryPolicy: what is retried, how long it waits, when it stops, and what it logs."""

from __future__ import annotations

import logging
import math
import pickle
import subprocess
import sys
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import botocore.session
import pytest
import tenacity
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    ParamValidationError,
    ProxyConnectionError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.retries import standard
from faketime import FakeTime
from hypothesis import given
from hypothesis import strategies as st

from rekoface.errors import (
    LIMIT_EXCEEDED_CODE,
    THROTTLING_STATUS_CODES,
    AccessDeniedError,
    LimitExceededError,
    RequestValidationError,
    ThrottlingError,
)
from rekoface.retry import RetryPolicy

#: What the retry matrix below expects, as botocore 1.44's standard mode lists it (less
#: LimitExceededException); `test_code_sets_match_botocore_standard_retry_lists` fails
#: when a botocore update changes botocore's lists, so the matrix is revisited.
THROTTLING_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
TRANSIENT_ERROR_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "InternalServerError"}
)
TRANSIENT_STATUS_CODES = frozenset({500, 502, 503, 504})
TRANSIENT_EXCEPTION_TYPES = (BotocoreConnectionError, HTTPClientError)

ENDPOINT = "https://rekognition.us-east-1.amazonaws.com/"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#: botocore 1.44 added ThrottlingStatusCodeChecker (HTTP 429 with a code the model lacks).
BOTOCORE_RETRIES_429 = hasattr(standard, "ThrottlingStatusCodeChecker")


# --- helpers -----------------------------------------------------------------------------


def client_error(
    code: str,
    status: int = 400,
    message: str = "error message",
    operation: str = "StartFaceSearch",
) -> ClientError:
    """A ClientError shaped as botocore raises it for Rekognition's JSON protocol."""
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {
            "RequestId": "11111111-2222-3333-4444-555555555555",
            "HTTPStatusCode": status,
            "HTTPHeaders": {"x-amzn-requestid": "11111111-2222-3333-4444-555555555555"},
            "RetryAttempts": 0,
        },
    }
    return ClientError(response, operation)


ErrorFactory = Callable[[], BaseException]


class Script:
    """A callable that raises fresh errors from a script, then returns `result`."""

    def __init__(
        self,
        errors: list[ErrorFactory],
        result: str = "done",
        fake: FakeTime | None = None,
        duration: float = 0.0,
    ) -> None:
        self.errors = list(errors)
        self.result = result
        self.fake = fake
        self.duration = duration
        self.calls = 0
        self.raised: list[BaseException] = []

    def __call__(self, **params: Any) -> str:
        self.calls += 1
        if self.fake is not None:
            self.fake.now += self.duration
        if self.errors:
            exc = self.errors.pop(0)()
            self.raised.append(exc)
            raise exc
        return self.result


def always(factory: ErrorFactory, times: int = 10_000) -> list[ErrorFactory]:
    return [factory] * times


def policy(fake: FakeTime, **kwargs: Any) -> RetryPolicy:
    """A policy on fake time whose jitter always picks the top of the range."""
    kwargs.setdefault("random", lambda: 1.0)
    return RetryPolicy(sleep=fake.sleep, clock=fake.clock, **kwargs)


# --- the retry matrix --------------------------------------------------------------------

# (label, error factory, retried by default?)
MATRIX: list[tuple[str, ErrorFactory, bool]] = [
    *(
        (f"{code} (400)", (lambda code=code: client_error(code)), True)
        for code in sorted(THROTTLING_ERROR_CODES)
    ),
    ("ThrottlingException (500)", lambda: client_error("ThrottlingException", 500), True),
    ("InternalServerError (500)", lambda: client_error("InternalServerError", 500), True),
    ("RequestTimeout (408)", lambda: client_error("RequestTimeout", 408), True),
    ("RequestTimeoutException (408)", lambda: client_error("RequestTimeoutException", 408), True),
    ("unknown code (500)", lambda: client_error("Whatever", 500), True),
    ("unknown code (502)", lambda: client_error("BadGateway", 502), True),
    ("unknown code (503)", lambda: client_error("ServiceUnavailable", 503), True),
    ("unknown code (504)", lambda: client_error("GatewayTimeout", 504), True),
    ("unknown code (429)", lambda: client_error("Whatever", 429), True),
    ("modeled code (429)", lambda: client_error("AccessDeniedException", 429), False),
    ("unknown code (501)", lambda: client_error("NotImplemented", 501), False),
    ("LimitExceededException (400)", lambda: client_error("LimitExceededException"), False),
    ("AccessDeniedException", lambda: client_error("AccessDeniedException"), False),
    (
        "IdempotentParameterMismatchException",
        lambda: client_error("IdempotentParameterMismatchException"),
        False,
    ),
    ("InvalidParameterException", lambda: client_error("InvalidParameterException"), False),
    ("InvalidS3ObjectException", lambda: client_error("InvalidS3ObjectException"), False),
    ("VideoTooLargeException", lambda: client_error("VideoTooLargeException"), False),
    ("ResourceNotFoundException", lambda: client_error("ResourceNotFoundException"), False),
    (
        "InvalidPaginationTokenException",
        lambda: client_error("InvalidPaginationTokenException"),
        False,
    ),
    ("no code, no status", lambda: ClientError({}, "StartFaceSearch"), False),
    ("ReadTimeoutError", lambda: ReadTimeoutError(endpoint_url=ENDPOINT), True),
    ("EndpointConnectionError", lambda: EndpointConnectionError(endpoint_url=ENDPOINT), True),
    ("ConnectTimeoutError", lambda: ConnectTimeoutError(endpoint_url=ENDPOINT), True),
    ("ConnectionClosedError", lambda: ConnectionClosedError(endpoint_url=ENDPOINT), True),
    ("ProxyConnectionError", lambda: ProxyConnectionError(proxy_url="http://proxy:3128"), True),
    ("ResponseStreamingError", lambda: ResponseStreamingError(error="reset"), True),
    ("NoCredentialsError", NoCredentialsError, False),
    ("ParamValidationError", lambda: ParamValidationError(report="bad"), False),
    ("ValueError", lambda: ValueError("not AWS"), False),
    (
        "rekoface ThrottlingError",
        lambda: ThrottlingError(client_error("ThrottlingException").response, "StartFaceSearch"),
        True,
    ),
    (
        "rekoface AccessDeniedError",
        lambda: AccessDeniedError(client_error("AccessDeniedException").response, "X"),
        False,
    ),
    (
        "rekoface LimitExceededError",
        lambda: LimitExceededError(client_error("LimitExceededException").response, "X"),
        False,
    ),
]
MATRIX_IDS = [label for label, _, _ in MATRIX]


@pytest.mark.parametrize(("label", "factory", "retried"), MATRIX, ids=MATRIX_IDS)
def test_attempts_per_error(label: str, factory: ErrorFactory, retried: bool) -> None:
    fake = FakeTime(1000.0)
    fn = Script(always(factory))
    with pytest.raises(type(factory())) as info:
        policy(fake, max_attempts=4, deadline=None).call(fn, operation_name="StartFaceSearch")
    assert fn.calls == (4 if retried else 1)
    assert len(fake.sleeps) == (3 if retried else 0)
    # The last error itself, unchanged: the client maps it to a typed error.
    assert info.value is fn.raised[-1]
    assert info.value.__context__ is None
    assert RetryPolicy().is_transient(factory()) is retried


@pytest.mark.parametrize(("label", "factory", "retried"), MATRIX, ids=MATRIX_IDS)
def test_matrix_agrees_with_botocore_standard_mode(
    label: str, factory: ErrorFactory, retried: bool
) -> None:
    """botocore's own standard-mode checker, fed the same error, decides the same way.

    The one deliberate difference is LimitExceededException, which botocore retries
    as throttling and rekoface retries only when the policy opts in.
    """
    exc = factory()
    operation = botocore.session.get_session().get_service_model("rekognition")
    context = standard.RetryContext(
        attempt_number=1, operation_model=operation.operation_model("StartFaceSearch")
    )
    if isinstance(exc, ClientError):
        context.parsed_response = exc.response
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status is not None:
            context.http_response = SimpleNamespace(status_code=status, headers={}, content=b"")
    else:
        assert isinstance(exc, Exception)
        context.caught_exception = exc
    botocore_retries = standard.StandardRetryConditions(max_attempts=3).is_retryable(context)
    if label == "unknown code (429)" and not BOTOCORE_RETRIES_429:
        # botocore before its ThrottlingStatusCodeChecker left these alone; rekoface retries
        # them as every botocore since does.
        assert not botocore_retries
        botocore_retries = True
    assert RetryPolicy(retry_limit_exceeded=True).is_transient(exc) is botocore_retries


def test_code_sets_match_botocore_standard_retry_lists() -> None:
    """A botocore update that changes its lists fails here, so the matrix is revisited."""
    checkers: Any = standard  # the lists are private: the stubs do not show them
    throttled = set(checkers.ThrottledRetryableChecker._THROTTLED_ERROR_CODES)
    assert throttled - {LIMIT_EXCEEDED_CODE} == THROTTLING_ERROR_CODES
    assert LIMIT_EXCEEDED_CODE in throttled
    transient = checkers.TransientRetryableChecker
    assert set(transient._TRANSIENT_ERROR_CODES) | {"InternalServerError"} == (
        TRANSIENT_ERROR_CODES
    )
    assert set(transient._TRANSIENT_STATUS_CODES) == TRANSIENT_STATUS_CODES
    assert set(transient._TRANSIENT_EXCEPTION_CLS) == set(TRANSIENT_EXCEPTION_TYPES)
    if BOTOCORE_RETRIES_429:
        status_checker = checkers.ThrottlingStatusCodeChecker
        assert set(status_checker._THROTTLING_STATUS_CODES) == THROTTLING_STATUS_CODES


def test_rekognition_model_marks_no_error_retryable() -> None:
    """botocore's ModeledRetryableChecker would add codes marked retryable: none are."""
    model = botocore.session.get_session().get_service_model("rekognition")
    for name in ("StartFaceSearch", "GetFaceSearch"):
        for shape in model.operation_model(name).error_shapes:
            assert shape.metadata.get("retryable") is None, shape.name


# --- outcomes ------------------------------------------------------------------------------


def test_success_after_transient_errors_returns_the_result() -> None:
    fake = FakeTime(1000.0)
    fn = Script(
        [
            lambda: client_error("ThrottlingException"),
            lambda: ReadTimeoutError(endpoint_url=ENDPOINT),
        ]
    )
    assert policy(fake).call(fn, operation_name="GetFaceSearch") == "done"
    assert fn.calls == 3
    assert fake.sleeps == [0.5, 1.0]


def test_non_transient_error_after_retries_propagates_at_once() -> None:
    fake = FakeTime(1000.0)
    fn = Script(
        [lambda: client_error("ThrottlingException"), lambda: client_error("AccessDeniedException")]
    )
    with pytest.raises(ClientError) as info:
        policy(fake).call(fn, operation_name="StartFaceSearch")
    assert info.value is fn.raised[-1]
    assert info.value.response["Error"]["Code"] == "AccessDeniedException"
    assert fn.calls == 2
    assert len(fake.sleeps) == 1


def test_keyboard_interrupt_is_never_retried() -> None:
    fake = FakeTime(1000.0)
    fn = Script([lambda: client_error("ThrottlingException"), KeyboardInterrupt])
    with pytest.raises(KeyboardInterrupt):
        policy(fake).call(fn, operation_name="StartFaceSearch")
    assert fn.calls == 2
    fn = Script([KeyboardInterrupt])
    with pytest.raises(KeyboardInterrupt):
        policy(fake).call(fn, operation_name="StartFaceSearch")
    assert fn.calls == 1


def test_never_makes_one_attempt() -> None:
    never = RetryPolicy.never()
    assert never.max_attempts == 1
    assert not never.retry_limit_exceeded
    fn = Script(always(lambda: client_error("ThrottlingException")))
    with pytest.raises(ClientError):
        never.call(fn, operation_name="StartFaceSearch")
    assert fn.calls == 1
    assert never.call(lambda: 7, operation_name="StartFaceSearch") == 7


# --- backoff ---------------------------------------------------------------------------------


def test_exponential_backoff_capped_at_max_delay() -> None:
    fake = FakeTime(1000.0)
    fn = Script(always(lambda: client_error("ThrottlingException")))
    with pytest.raises(ClientError):
        policy(fake, max_attempts=8, base_delay=0.5, max_delay=4.0, deadline=None).call(
            fn, operation_name="StartFaceSearch"
        )
    assert fake.sleeps == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]


def test_defaults_make_eight_attempts_within_twenty_second_delays() -> None:
    fake = FakeTime(1000.0)
    fn = Script(always(lambda: client_error("ThrottlingException")))
    with pytest.raises(ClientError):
        policy(fake).call(fn, operation_name="StartFaceSearch")
    assert fn.calls == 8
    assert fake.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0]


@given(
    draws=st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=1, max_size=12),
    base=st.floats(0.0, 10.0),
    extra=st.floats(0.0, 100.0),
)
def test_full_jitter_stays_within_bounds(draws: list[float], base: float, extra: float) -> None:
    max_delay = base + extra
    fake = FakeTime(1000.0)
    values = iter(draws)
    retry = RetryPolicy(
        max_attempts=len(draws) + 1,
        base_delay=base,
        max_delay=max_delay,
        deadline=None,
        sleep=fake.sleep,
        clock=fake.clock,
        random=lambda: next(values),
    )
    fn = Script(always(lambda: client_error("ThrottlingException")))
    with pytest.raises(ClientError):
        retry.call(fn, operation_name="StartFaceSearch")
    assert len(fake.sleeps) == len(draws)
    for n, (delay, draw) in enumerate(zip(fake.sleeps, draws, strict=True), start=1):
        cap = min(max_delay, base * 2 ** (n - 1))
        assert 0.0 <= delay <= cap
        assert math.isclose(delay, draw * cap, rel_tol=1e-12, abs_tol=1e-12)


def test_huge_attempt_counts_do_not_overflow() -> None:
    fake = FakeTime(1000.0)
    fn = Script(always(lambda: client_error("ThrottlingException"), 1100))
    retry = policy(fake, max_attempts=2000, base_delay=1.0, max_delay=5.0, deadline=None)
    assert retry.call(fn, operation_name="StartFaceSearch") == "done"
    assert fake.sleeps[-1] == 5.0


# --- deadline ------------------------------------------------------------------------------


def test_deadline_stops_before_a_sleep_that_would_cross_it() -> None:
    fake = FakeTime(1000.0)
    fn = Script(always(lambda: client_error("ThrottlingException")))
    retry = policy(fake, max_attempts=100, base_delay=10.0, max_delay=10.0, deadline=25.0)
    with pytest.raises(ClientError):
        retry.call(fn, operation_name="StartFaceSearch")
    # Attempts start at t=0, 10, 20; one more would start at 30 > 25.
    assert fn.calls == 3
    assert fake.sleeps == [10.0, 10.0]


def test_deadline_counts_time_spent_in_attempts_from_the_first_one() -> None:
    fake = FakeTime(1000.0)
    fn = Script(always(lambda: ReadTimeoutError(endpoint_url=ENDPOINT)), fake=fake, duration=60.0)
    retry = policy(fake, max_attempts=100, base_delay=1.0, max_delay=1.0, deadline=120.0)
    with pytest.raises(ReadTimeoutError):
        retry.call(fn, operation_name="StartFaceSearch")
    # Ends at t=60 (sleep to 61), t=121 > 120: stop.
    assert fn.calls == 2
    assert fake.sleeps == [1.0]


def test_first_attempt_longer_than_deadline_is_not_retried() -> None:
    fake = FakeTime(1000.0)
    fn = Script(always(lambda: client_error("ThrottlingException")), fake=fake, duration=200.0)
    with pytest.raises(ClientError):
        policy(fake, deadline=120.0).call(fn, operation_name="StartFaceSearch")
    assert fn.calls == 1
    assert fake.sleeps == []


def test_no_deadline_means_attempts_alone_limit() -> None:
    fake = FakeTime(1000.0)
    fn = Script(always(lambda: client_error("ThrottlingException")), fake=fake, duration=1e6)
    with pytest.raises(ClientError):
        policy(fake, max_attempts=5, deadline=None).call(fn, operation_name="StartFaceSearch")
    assert fn.calls == 5


# --- LimitExceededException ------------------------------------------------------------------


def limit_exceeded() -> ClientError:
    return client_error(
        "LimitExceededException", message="20 open Jobs for User ... Maximum limit: 20"
    )


def test_limit_exceeded_not_retried_by_default() -> None:
    fake = FakeTime(1000.0)
    fn = Script(always(limit_exceeded))
    with pytest.raises(ClientError):
        policy(fake).call(fn, operation_name="StartFaceSearch")
    assert fn.calls == 1
    assert fake.sleeps == []
    assert not RetryPolicy().is_transient(limit_exceeded())
    assert RetryPolicy(retry_limit_exceeded=True).is_transient(limit_exceeded())


def test_limit_exceeded_opt_in_waits_minutes_until_its_deadline() -> None:
    fake = FakeTime(1000.0)
    fn = Script(always(limit_exceeded))
    with pytest.raises(ClientError) as info:
        policy(fake, retry_limit_exceeded=True).call(fn, operation_name="StartFaceSearch")
    # 30, 60, 120, 240, then capped at 300; the next wait would end past 1800 s.
    assert fake.sleeps == [30.0, 60.0, 120.0, 240.0, 300.0, 300.0, 300.0, 300.0]
    assert fn.calls == 9
    assert info.value is fn.raised[-1]


def test_limit_exceeded_opt_in_attempt_limit() -> None:
    fake = FakeTime(1000.0)
    fn = Script(always(limit_exceeded))
    retry = policy(
        fake,
        retry_limit_exceeded=True,
        limit_exceeded_max_attempts=4,
        limit_exceeded_base_delay=1.0,
        limit_exceeded_max_delay=2.0,
        limit_exceeded_deadline=None,
    )
    with pytest.raises(ClientError):
        retry.call(fn, operation_name="StartFaceSearch")
    assert fn.calls == 4
    assert fake.sleeps == [1.0, 2.0, 2.0]


def test_limit_exceeded_retried_even_when_fast_errors_are_not() -> None:
    fake = FakeTime(1000.0)
    retry = policy(fake, max_attempts=1, retry_limit_exceeded=True)
    fn = Script([limit_exceeded, limit_exceeded])
    assert retry.call(fn, operation_name="StartFaceSearch") == "done"
    assert fake.sleeps == [30.0, 60.0]
    fn = Script([limit_exceeded, lambda: client_error("ThrottlingException")])
    with pytest.raises(ClientError, match="ThrottlingException"):
        retry.call(fn, operation_name="StartFaceSearch")
    assert fn.calls == 2


def test_limit_exceeded_opt_in_with_one_attempt_is_not_retried() -> None:
    fake = FakeTime(1000.0)
    retry = policy(fake, retry_limit_exceeded=True, limit_exceeded_max_attempts=1)
    fn = Script(always(limit_exceeded))
    with pytest.raises(ClientError):
        retry.call(fn, operation_name="StartFaceSearch")
    assert fn.calls == 1


def test_a_job_slot_wait_gives_fast_retries_a_fresh_budget() -> None:
    fake = FakeTime(1000.0)
    throttle: ErrorFactory = lambda: client_error("ThrottlingException")  # noqa: E731
    fn = Script([throttle, throttle, limit_exceeded, throttle, throttle, limit_exceeded, throttle])
    retry = policy(fake, max_attempts=3, deadline=5.0, retry_limit_exceeded=True)
    assert retry.call(fn, operation_name="StartFaceSearch") == "done"
    assert fn.calls == 8
    # Fast backoff restarts at base_delay after each job-slot wait; slow backoff keeps growing.
    assert fake.sleeps == [0.5, 1.0, 30.0, 0.5, 1.0, 60.0, 0.5]


def test_fast_budget_still_applies_between_job_slot_waits() -> None:
    fake = FakeTime(1000.0)
    throttle: ErrorFactory = lambda: client_error("ThrottlingException")  # noqa: E731
    fn = Script([limit_exceeded, throttle, throttle, throttle])
    retry = policy(fake, max_attempts=3, retry_limit_exceeded=True)
    with pytest.raises(ClientError, match="ThrottlingException"):
        retry.call(fn, operation_name="StartFaceSearch")
    assert fn.calls == 4
    assert fake.sleeps == [30.0, 0.5, 1.0]


# --- the happy path stays cheap ------------------------------------------------------------


def test_import_and_success_never_import_tenacity() -> None:
    code = (
        "import sys\n"
        "from rekoface.retry import RetryPolicy\n"
        "assert 'tenacity' not in sys.modules, 'imported by import'\n"
        "assert RetryPolicy().call(lambda: 1, operation_name='X') == 1\n"
        "assert 'tenacity' not in sys.modules, 'imported by a successful call'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture
def no_tenacity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any `import tenacity` from here on raises ImportError."""
    monkeypatch.setitem(sys.modules, "tenacity", None)


@pytest.mark.usefixtures("no_tenacity")
def test_success_and_non_transient_errors_need_no_tenacity() -> None:
    fake = FakeTime(1000.0)
    retry = policy(fake)
    assert retry.call(lambda: "ok", operation_name="StartFaceSearch") == "ok"
    with pytest.raises(ClientError):
        retry.call(Script([lambda: client_error("AccessDeniedException")]), operation_name="X")
    with pytest.raises(ClientError):
        RetryPolicy.never().call(
            Script([lambda: client_error("ThrottlingException")]), operation_name="X"
        )
    # The guard is real: the first retry does need tenacity.
    with pytest.raises(ImportError):
        retry.call(Script([lambda: client_error("ThrottlingException")]), operation_name="X")


def test_retry_machinery_is_built_only_when_a_call_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[tenacity.Retrying] = []

    class CountingRetrying(tenacity.Retrying):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(tenacity, "Retrying", CountingRetrying)
    fake = FakeTime(1000.0)
    retry = policy(fake)
    for _ in range(100):
        retry.call(lambda: None, operation_name="StartFaceSearch")
    assert built == []
    retry.call(Script([lambda: client_error("ThrottlingException")]), operation_name="X")
    assert len(built) == 1


# --- logging ---------------------------------------------------------------------------------


def test_each_retry_is_logged_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="rekoface")
    fake = FakeTime(1000.0)
    secret_message = f"signature mismatch for {SECRET} on employees/k.mp4"

    fn = Script(
        [
            lambda: client_error("ThrottlingException", message=secret_message),
            lambda: ReadTimeoutError(endpoint_url=f"{ENDPOINT}?X-Amz-Signature={SECRET}"),
        ]
    )
    fn.errors.extend(always(lambda: client_error("ThrottlingException", message=secret_message)))
    params = {"CollectionId": "employees", "Video": {"S3Object": {"Bucket": "b", "Name": "k.mp4"}}}
    with pytest.raises(ClientError):
        policy(fake, max_attempts=3).call(lambda: fn(**params), operation_name="StartFaceSearch")

    records = [r for r in caplog.records if r.name == "rekoface"]
    messages = [r.getMessage() for r in records]
    assert messages == [
        "StartFaceSearch attempt 1 failed with ThrottlingException; retrying in 0.50s",
        "StartFaceSearch attempt 2 failed with ReadTimeoutError; retrying in 1.00s",
        "StartFaceSearch attempt 3 failed with ThrottlingException; "
        "giving up: max_attempts=3 reached",
    ]
    assert [r.levelno for r in records] == [logging.INFO] * 3
    first = records[0]
    assert first.__dict__["rekoface_operation"] == "StartFaceSearch"
    assert first.__dict__["rekoface_error_code"] == "ThrottlingException"
    assert first.__dict__["rekoface_attempt"] == 1
    assert first.__dict__["rekoface_delay"] == 0.5
    for record in records:
        text = record.getMessage() + repr(record.args) + repr(record.__dict__)
        for leak in (SECRET, "employees", "k.mp4", "signature", ENDPOINT):
            assert leak not in text


def test_limit_exceeded_waits_log_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="rekoface")
    fake = FakeTime(1000.0)
    fn = Script([limit_exceeded])
    policy(fake, retry_limit_exceeded=True).call(fn, operation_name="StartFaceSearch")
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "StartFaceSearch attempt 1 failed with LimitExceededException "
        "(too many concurrent jobs; 1 of 10); retrying in 30.00s"
    )
    assert "Maximum limit" not in record.getMessage()


def test_no_give_up_line_when_nothing_was_retried(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="rekoface")
    fake = FakeTime(1000.0)
    fn = Script(always(lambda: client_error("SlowDown")), fake=fake, duration=200.0)
    with pytest.raises(ClientError):
        policy(fake).call(fn, operation_name="GetFaceSearch")
    assert fn.calls == 1
    assert caplog.records == []


def test_deadline_give_up_is_logged_after_a_retry(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="rekoface")
    fake = FakeTime(1000.0)
    fn = Script(always(lambda: client_error("Whatever", 503)))
    with pytest.raises(ClientError):
        policy(fake, base_delay=10.0, max_delay=10.0, deadline=15.0).call(
            fn, operation_name="GetFaceSearch"
        )
    assert [r.getMessage() for r in caplog.records] == [
        "GetFaceSearch attempt 1 failed with Whatever; retrying in 10.00s",
        "GetFaceSearch attempt 2 failed with Whatever; giving up: the next attempt would start "
        "after deadline=15.0s (in 10.00s, with 5.00s left)",
    ]


def test_error_without_code_is_logged_by_class_name(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="rekoface")
    fake = FakeTime(1000.0)
    response: Any = {"Error": {}, "ResponseMetadata": {"HTTPStatusCode": 503}}
    fn = Script([lambda: ClientError(response, "GetFaceSearch")])
    policy(fake).call(fn, operation_name="GetFaceSearch")
    assert caplog.records[0].getMessage() == (
        "GetFaceSearch attempt 1 failed with ClientError; retrying in 0.50s"
    )


# --- construction --------------------------------------------------------------------------


def test_defaults_match_the_contract() -> None:
    retry = RetryPolicy()
    assert (retry.max_attempts, retry.base_delay, retry.max_delay, retry.deadline) == (
        8,
        0.5,
        20.0,
        120.0,
    )
    assert not retry.retry_limit_exceeded
    assert (
        retry.limit_exceeded_base_delay,
        retry.limit_exceeded_max_delay,
        retry.limit_exceeded_max_attempts,
        retry.limit_exceeded_deadline,
    ) == (30.0, 300.0, 10, 1800.0)


def test_equality_and_repr_ignore_the_injected_callables() -> None:
    a, b = FakeTime(1000.0), FakeTime(1000.0)
    assert policy(a) == policy(b)
    assert hash(policy(a)) == hash(policy(b))
    text = repr(policy(a))
    assert "max_attempts=8" in text
    assert "function" not in text
    assert "FakeTime" not in text


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"max_attempts": 2.0}, "max_attempts"),
        ({"limit_exceeded_max_attempts": 0}, "limit_exceeded_max_attempts"),
        ({"base_delay": -0.1}, "base_delay"),
        ({"base_delay": False}, "base_delay"),
        ({"base_delay": "1"}, "base_delay"),
        ({"base_delay": math.nan}, "base_delay"),
        ({"max_delay": math.inf}, "max_delay"),
        ({"base_delay": 30.0}, "base_delay"),  # > max_delay=20
        ({"limit_exceeded_base_delay": 600.0}, "limit_exceeded_base_delay"),
        ({"limit_exceeded_max_delay": -1.0}, "limit_exceeded_max_delay"),
        ({"deadline": 0}, "deadline"),
        ({"deadline": -5.0}, "deadline"),
        ({"deadline": True}, "deadline"),
        ({"deadline": math.inf}, "deadline"),
        ({"limit_exceeded_deadline": 0.0}, "limit_exceeded_deadline"),
        ({"limit_exceeded_deadline": "1800"}, "limit_exceeded_deadline"),
        ({"retry_limit_exceeded": 1}, "retry_limit_exceeded"),
        ({"sleep": 0.5}, "sleep"),
        ({"clock": None}, "clock"),
        ({"random": 0.5}, "random"),
    ],
)
def test_bad_value_is_rejected_by_field(kwargs: dict[str, Any], path: str) -> None:
    with pytest.raises(RequestValidationError) as info:
        RetryPolicy(**kwargs)
    assert info.value.paths == (f"RetryPolicy.{path}",)
    assert isinstance(info.value, ValueError)


def test_every_failing_field_is_reported_at_once() -> None:
    with pytest.raises(RequestValidationError) as info:
        RetryPolicy(
            max_attempts=0,
            base_delay=-1.0,
            max_delay=True,
            deadline=0.0,
            sleep="no",  # type: ignore[arg-type]
            retry_limit_exceeded="yes",  # type: ignore[arg-type]
        )
    assert set(info.value.paths) == {
        "RetryPolicy.max_attempts",
        "RetryPolicy.base_delay",
        "RetryPolicy.max_delay",
        "RetryPolicy.deadline",
        "RetryPolicy.sleep",
        "RetryPolicy.retry_limit_exceeded",
    }
    assert str(info.value).startswith("6 invalid fields: ")
    assert "(rule: an int >= 1)" in str(info.value)
    # Survives pickling with its fields, like every rekoface error.
    assert pickle.loads(pickle.dumps(info.value)).errors == info.value.errors


def test_zero_delays_and_no_deadlines_are_allowed() -> None:
    fake = FakeTime(1000.0)
    retry = policy(
        fake,
        base_delay=0,
        max_delay=0,
        deadline=None,
        limit_exceeded_base_delay=0,
        limit_exceeded_max_delay=0,
        limit_exceeded_deadline=None,
    )
    fn = Script([lambda: client_error("ThrottlingException")])
    assert retry.call(fn, operation_name="StartFaceSearch") == "done"
    assert fake.sleeps == [0.0]


def test_botocore_error_base_is_not_blanket_retried() -> None:
    assert not RetryPolicy().is_transient(BotoCoreError())
