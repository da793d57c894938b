"""Hostile numbers and strings: always a `RequestValidationError` naming the field."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rekoface import (
    BackoffPoller,
    FaceSearchClient,
    FaceSearchRequest,
    RequestValidationError,
    RetryPolicy,
    S3Video,
    derive_client_request_token,
)
from rekoface.testing import FakeRekognition

HUGE = 10**400  # math.isfinite(HUGE) raises OverflowError
VIDEO = S3Video("my-bucket", "lobby.mp4")
REQUEST = FaceSearchRequest(VIDEO, "employees")


def _client() -> FaceSearchClient:
    return FaceSearchClient(FakeRekognition().client(), retry=RetryPolicy.never())


CASES: dict[str, tuple[Callable[[], object], str]] = {
    "face_match_threshold": (
        lambda: FaceSearchRequest(VIDEO, "c", face_match_threshold=HUGE),
        "FaceMatchThreshold",
    ),
    "min_similarity": (lambda: _client().results("job-1", min_similarity=HUGE), "min_similarity"),
    "wait timeout": (lambda: _client().wait("job-1", timeout=HUGE), "timeout"),
    "search timeout": (lambda: _client().search(REQUEST, timeout=-HUGE), "timeout"),
    "BackoffPoller timeout": (lambda: BackoffPoller(timeout=HUGE), "BackoffPoller.timeout"),
    "RetryPolicy deadline": (lambda: RetryPolicy(deadline=HUGE), "RetryPolicy.deadline"),
    "RetryPolicy max_delay": (lambda: RetryPolicy(max_delay=HUGE), "RetryPolicy.max_delay"),
    "surrogate idempotency key": (
        lambda: derive_client_request_token(REQUEST, "event-\udcff"),
        "idempotency_key",
    ),
    "surrogate in start's key": (
        lambda: _client().start(REQUEST, idempotency_key="event-\udcff"),
        "idempotency_key",
    ),
    "surrogate S3 key": (lambda: S3Video("my-bucket", "lobby-\udcff.mp4"), "Video.S3Object.Name"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_input_names_its_field(case: str) -> None:
    make, path = CASES[case]
    with pytest.raises(RequestValidationError) as caught:
        make()
    assert path in caught.value.paths


@given(st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True)))
def test_any_number_as_threshold_is_accepted_or_refused_by_name(value: float) -> None:
    # NaN fails every comparison, so it lands here too; huge ints compare exactly.
    if not 0 <= value <= 100:
        with pytest.raises(RequestValidationError) as caught:
            FaceSearchRequest(VIDEO, "c", face_match_threshold=value)
        assert caught.value.paths == ("FaceMatchThreshold",)
    else:
        request = FaceSearchRequest(VIDEO, "c", face_match_threshold=value)
        assert request.face_match_threshold == value


@pytest.mark.parametrize(
    "bad", [{"timeout": 0}, {"timeout": HUGE}, {"page_size": 0}, {"sort_by": "NAME"}]
)
def test_search_refuses_bad_arguments_before_it_starts_a_job(bad: dict[str, object]) -> None:
    fake = FakeRekognition()
    fake.add_collection("employees")
    client = FaceSearchClient(fake.client(), retry=RetryPolicy.never())
    with pytest.raises(RequestValidationError):
        client.search(REQUEST, **bad)  # type: ignore[arg-type]
    assert fake.jobs == {}
