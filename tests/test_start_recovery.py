"""A start whose answers were all lost can be resumed: every error of `start` carries its token."""

from __future__ import annotations

import pickle

import attrs
import pytest
from faketime import FakeTime

from rekoface import (
    FaceSearchClient,
    FaceSearchRequest,
    RequestValidationError,
    RetryPolicy,
    S3Video,
    ThrottlingError,
    TransportError,
)
from rekoface.testing import FakeRekognition

REQUEST = FaceSearchRequest(S3Video("my-bucket", "lobby.mp4"), "employees")


def _fake() -> FakeRekognition:
    fake = FakeRekognition()
    fake.add_collection("employees")
    return fake


def _client(fake: FakeRekognition, attempts: int = 3) -> FaceSearchClient:
    time = FakeTime()
    policy = RetryPolicy(max_attempts=attempts, deadline=None, sleep=time.sleep, clock=time)
    return FaceSearchClient(fake.client(), retry=policy)


def test_every_lost_answer_leaves_a_token_that_resumes_the_same_job() -> None:
    fake = _fake()
    client = _client(fake)
    fake.drop_response("StartFaceSearch", times=3)  # the job starts; no answer arrives

    with pytest.raises(TransportError) as caught:
        client.start(REQUEST)

    token = caught.value.client_request_token
    assert token is not None
    [made] = fake.jobs.values()  # the service made one job before the answers were lost
    resumed = client.start(attrs.evolve(REQUEST, client_request_token=token))
    assert resumed.job_id == made.job_id
    assert resumed.client_request_token == token
    assert len(fake.jobs) == 1


def test_throttled_past_the_policy_carries_the_token_every_attempt_used() -> None:
    fake = _fake()
    client = _client(fake)
    fake.inject_error("StartFaceSearch", "ThrottlingException", times=3)

    with pytest.raises(ThrottlingError) as caught:
        client.start(REQUEST, idempotency_key="event-1")

    starts = [c for c in fake.calls if c.operation == "StartFaceSearch"]
    assert {c.params["ClientRequestToken"] for c in starts} == {caught.value.client_request_token}
    assert len(starts) == 3


def test_the_token_survives_pickling() -> None:
    fake = _fake()
    fake.drop_response("StartFaceSearch", times=1)
    with pytest.raises(TransportError) as caught:
        _client(fake, attempts=1).start(REQUEST)

    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is TransportError
    assert copy.client_request_token == caught.value.client_request_token is not None


def test_an_error_before_any_attempt_has_no_token() -> None:
    fake = _fake()
    with pytest.raises(RequestValidationError) as caught:
        _client(fake).start("s3://my-bucket/lobby.mp4")  # type: ignore[arg-type]
    assert caught.value.client_request_token is None
    assert fake.calls == []
