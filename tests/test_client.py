"""FaceSearchClient: exact parameters, tokens across retries, typed errors, one retry layer."""

from __future__ import annotations

import logging
import re
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber
from canned import Canned, rekognition_client
from faketime import FakeTime

from rekoface import (
    BackoffPoller,
    ConfigurationError,
    FaceSearchClient,
    FaceSearchJob,
    FaceSearchRequest,
    IdempotentParameterMismatchError,
    InvalidPaginationTokenError,
    InvalidParameterError,
    JobFailedError,
    JobNotCompleteError,
    JobState,
    LimitExceededError,
    PersonMatch,
    PollTimeoutError,
    RequestValidationError,
    RetryPolicy,
    S3Video,
    ServiceError,
    ThrottlingError,
    TransportError,
    derive_client_request_token,
)
from rekoface.testing import FakeRekognition

REQUEST = FaceSearchRequest(S3Video("my-bucket", "lobby.mp4"), "employees", 90)
STARTED = {"JobId": "job-0001"}


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def policy(fake_time: FakeTime) -> RetryPolicy:
    return RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock)


def _client(canned: Canned, policy: RetryPolicy | None = None) -> FaceSearchClient:
    return FaceSearchClient(rekognition_client(canned), retry=policy)


class TestStart:
    def test_sends_exactly_the_request_and_a_token(self, policy: RetryPolicy) -> None:
        canned = Canned().ok(STARTED)
        job = _client(canned, policy).start(REQUEST)
        [(operation, sent)] = canned.sent
        assert operation == "StartFaceSearch"
        token = sent.pop("ClientRequestToken")
        assert sent == {
            "Video": {"S3Object": {"Bucket": "my-bucket", "Name": "lobby.mp4"}},
            "CollectionId": "employees",
            "FaceMatchThreshold": 90.0,
        }
        # A fresh random token: 32 bytes, URL-safe base64, within the service's rule.
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
        assert job == FaceSearchJob("job-0001", token, REQUEST)

    def test_two_starts_without_a_key_send_different_tokens(self, policy: RetryPolicy) -> None:
        canned = Canned().ok(STARTED).ok({"JobId": "job-0002"})
        client = _client(canned, policy)
        first, second = client.start(REQUEST), client.start(REQUEST)
        assert first.client_request_token != second.client_request_token

    def test_same_key_same_token_across_clients(self, policy: RetryPolicy) -> None:
        canned = Canned().ok(STARTED).ok(STARTED)
        a = _client(canned, policy).start(REQUEST, idempotency_key="s3-event-42")
        b = _client(canned, policy).start(REQUEST, idempotency_key="s3-event-42")
        expected = derive_client_request_token(REQUEST, "s3-event-42")
        assert a.client_request_token == b.client_request_token == expected
        assert [s["ClientRequestToken"] for _, s in canned.sent] == [expected, expected]

    def test_an_explicit_token_is_sent_verbatim(self, policy: RetryPolicy) -> None:
        canned = Canned().ok(STARTED)
        request = FaceSearchRequest(REQUEST.video, "employees", client_request_token="mine-1")
        job = _client(canned, policy).start(request)
        assert canned.sent[0][1]["ClientRequestToken"] == "mine-1" == job.client_request_token

    def test_key_and_explicit_token_together_are_refused(self, policy: RetryPolicy) -> None:
        canned = Canned()
        request = FaceSearchRequest(REQUEST.video, "employees", client_request_token="mine-1")
        with pytest.raises(RequestValidationError) as info:
            _client(canned, policy).start(request, idempotency_key="k")
        assert info.value.paths == ("idempotency_key",)
        assert canned.sent == []

    def test_not_a_request_is_refused_before_any_call(self, policy: RetryPolicy) -> None:
        canned = Canned()
        with pytest.raises(RequestValidationError, match="must be a FaceSearchRequest"):
            _client(canned, policy).start({"CollectionId": "x"})  # type: ignore[arg-type]
        assert canned.sent == []

    def test_throttled_start_is_retried_with_the_same_token(
        self, policy: RetryPolicy, fake_time: FakeTime
    ) -> None:
        canned = Canned().error("ThrottlingException").error("ThrottlingException", 500)
        canned.error("ProvisionedThroughputExceededException").ok(STARTED)
        job = _client(canned, policy).start(REQUEST)
        tokens = {sent["ClientRequestToken"] for _, sent in canned.sent}
        assert len(canned.sent) == 4
        assert tokens == {job.client_request_token}
        assert len(fake_time.sleeps) == 3

    def test_lost_response_is_retried_with_the_same_token(
        self, policy: RetryPolicy, fake_time: FakeTime
    ) -> None:
        """The server may have accepted the first attempt: the retry must not start a second job."""
        lost = ReadTimeoutError(endpoint_url="https://rekognition.us-east-1.amazonaws.com")
        canned = Canned().fail(lost).ok(STARTED)
        job = _client(canned, policy).start(REQUEST)
        first, second = (sent["ClientRequestToken"] for _, sent in canned.sent)
        assert first == second == job.client_request_token
        assert job.job_id == "job-0001"

    @pytest.mark.parametrize(
        ("code", "status", "error_class"),
        [
            ("InvalidParameterException", 400, InvalidParameterError),
            ("IdempotentParameterMismatchException", 400, IdempotentParameterMismatchError),
            ("LimitExceededException", 400, LimitExceededError),
            ("SomethingNewException", 400, ServiceError),
        ],
    )
    def test_non_retryable_codes_are_one_attempt_and_typed(
        self, policy: RetryPolicy, code: str, status: int, error_class: type[ServiceError]
    ) -> None:
        canned = Canned().error(code, status, "nope")
        with pytest.raises(error_class) as info:
            _client(canned, policy).start(REQUEST)
        err = info.value
        assert type(err) is error_class
        assert len(canned.sent) == 1
        assert (err.code, err.message, err.http_status_code, err.operation_name) == (
            code,
            "nope",
            status,
            "StartFaceSearch",
        )
        assert err.request_id == "req-1"
        assert isinstance(err, ClientError)
        assert isinstance(err.__cause__, ClientError)

    def test_retries_spent_raise_the_typed_error(self, fake_time: FakeTime) -> None:
        policy = RetryPolicy(max_attempts=3, sleep=fake_time.sleep, clock=fake_time.clock)
        canned = Canned()
        for _ in range(3):
            canned.error("ThrottlingException")
        with pytest.raises(ThrottlingError):
            _client(canned, policy).start(REQUEST)
        assert len(canned.sent) == 3

    def test_connection_errors_become_transport_errors_after_retries(
        self, fake_time: FakeTime
    ) -> None:
        policy = RetryPolicy(max_attempts=2, sleep=fake_time.sleep, clock=fake_time.clock)
        down = EndpointConnectionError(endpoint_url="https://rekognition.example")
        canned = Canned().fail(down).fail(down)
        with pytest.raises(TransportError) as info:
            _client(canned, policy).start(REQUEST)
        assert info.value.operation_name == "StartFaceSearch"
        assert isinstance(info.value.__cause__, EndpointConnectionError)
        assert len(canned.sent) == 2

    def test_user_data_is_logged_only_at_debug(
        self, policy: RetryPolicy, caplog: pytest.LogCaptureFixture
    ) -> None:
        canned = Canned().ok(STARTED)
        with caplog.at_level(logging.INFO, logger="rekoface"):
            _client(canned, policy).start(REQUEST)
        assert "lobby.mp4" not in caplog.text
        assert "employees" not in caplog.text
        assert "job-0001" in caplog.text
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="rekoface"):
            _client(Canned().ok(STARTED), policy).start(REQUEST)
        assert "s3://my-bucket/lobby.mp4" in caplog.text


class TestStatus:
    def test_asks_for_the_smallest_page_and_parses_the_state(self, policy: RetryPolicy) -> None:
        canned = Canned().ok({"JobStatus": "IN_PROGRESS", "JobId": "job-0001"})
        status = _client(canned, policy).status(FaceSearchJob("job-0001"))
        assert canned.sent == [("GetFaceSearch", {"JobId": "job-0001", "MaxResults": 1})]
        assert status.state is JobState.IN_PROGRESS
        assert status.job_id == "job-0001"

    def test_accepts_a_job_id_string_and_validates_it(self, policy: RetryPolicy) -> None:
        canned = Canned().ok({"JobStatus": "FAILED", "StatusMessage": "bad video"})
        status = _client(canned, policy).status("job-0001")
        assert (status.state, status.status_message) == (JobState.FAILED, "bad video")
        for bad in ("", "has space", "x" * 65, "job\n", 42, None):
            with pytest.raises(RequestValidationError) as info:
                _client(canned, policy).status(bad)  # type: ignore[arg-type]
            assert info.value.paths == ("JobId",)

    def test_throttled_status_is_retried(self, policy: RetryPolicy) -> None:
        canned = Canned().error("ThrottlingException").ok({"JobStatus": "SUCCEEDED"})
        assert _client(canned, policy).status("job-1").state is JobState.SUCCEEDED
        assert canned.operations() == ["GetFaceSearch", "GetFaceSearch"]


class TestConstruction:
    def test_built_client_has_botocore_retries_off(self) -> None:
        client = FaceSearchClient(region_name="eu-west-1")
        assert client.boto3_client.meta.region_name == "eu-west-1"
        config: Any = client.boto3_client.meta.config
        assert config.retries == {
            "mode": "standard",
            "total_max_attempts": 1,
        }
        assert client.retry == RetryPolicy()
        assert "eu-west-1" in repr(client)

    def test_user_config_is_kept_but_retries_are_turned_off(self) -> None:
        config = Config(connect_timeout=3, retries={"mode": "adaptive", "max_attempts": 9})
        client = FaceSearchClient(region_name="us-east-1", config=config)
        built: Any = client.boto3_client.meta.config
        assert built.connect_timeout == 3
        assert built.retries["total_max_attempts"] == 1

    def test_session_and_endpoint_are_used(self) -> None:
        session = boto3.Session(region_name="ap-southeast-2")
        client = FaceSearchClient(boto3_session=session, endpoint_url="http://127.0.0.1:9")
        assert client.boto3_client.meta.region_name == "ap-southeast-2"
        assert client.boto3_client.meta.endpoint_url == "http://127.0.0.1:9"

    def test_no_region_says_what_to_set(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("AWS_DEFAULT_REGION")
        with pytest.raises(ConfigurationError, match="AWS_REGION"):
            FaceSearchClient(boto3_session=boto3.Session())

    def test_bad_endpoint_says_what_to_fix(self) -> None:
        with pytest.raises(ConfigurationError, match="endpoint_url"):
            FaceSearchClient(region_name="us-east-1", endpoint_url="not a url")

    def test_no_credentials_says_what_to_set(
        self, monkeypatch: pytest.MonkeyPatch, policy: RetryPolicy
    ) -> None:
        for name in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN",
        ):
            monkeypatch.delenv(name)
        client = FaceSearchClient(
            boto3_session=boto3.Session(), region_name="us-east-1", retry=policy
        )
        with pytest.raises(ConfigurationError, match="no AWS credentials found: set AWS_PROFILE"):
            client.start(REQUEST)

    def test_client_and_settings_together_are_refused(self) -> None:
        raw = boto3.client("rekognition", region_name="us-east-1")
        with pytest.raises(ConfigurationError, match="region_name, endpoint_url"):
            FaceSearchClient(raw, region_name="us-east-1", endpoint_url="http://127.0.0.1:9")

    @pytest.mark.parametrize(
        ("retries", "rekoface_retries"),
        [
            (None, False),
            ({"mode": "standard"}, False),
            ({"mode": "legacy", "max_attempts": 4}, False),
            ({"mode": "standard", "total_max_attempts": 1}, True),
            ({"mode": "legacy", "max_attempts": 0}, True),
        ],
    )
    def test_passed_in_client_one_retry_layer_by_default(
        self, retries: dict[str, Any] | None, rekoface_retries: bool
    ) -> None:
        """retry=None with your own client: rekoface retries only if botocore does not."""
        config = Config(retries=retries) if retries is not None else None  # type: ignore[arg-type]
        raw = boto3.client("rekognition", region_name="us-east-1", config=config)
        policy = FaceSearchClient(raw).retry
        assert (policy == RetryPolicy()) is rekoface_retries
        assert (policy == RetryPolicy.never()) is not rekoface_retries

    def test_passed_in_client_with_botocore_retries_is_not_retried_again(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """botocore's 3 attempts, not 3 x rekoface's 8."""
        monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _: None)
        canned = Canned()
        for _ in range(5):
            canned.error("ThrottlingException")
        raw = boto3.client(
            "rekognition",
            region_name="us-east-1",
            config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
        )
        raw.meta.events.register("before-send.rekognition", canned)  # type: ignore[arg-type]
        with pytest.raises(ThrottlingError):
            FaceSearchClient(raw).start(REQUEST)
        assert len(canned.sent) == 3


class TestWiringWithMoto:
    """moto answers with canned data: good for wiring, not behaviour."""

    def test_default_client_starts_and_reads_status(self) -> None:
        from moto import mock_aws

        with mock_aws():
            client = FaceSearchClient()
            job = client.start(REQUEST)
            assert job.job_id
            assert client.status(job).state is JobState.SUCCEEDED

    def test_passed_in_client(self) -> None:
        from moto import mock_aws

        with mock_aws():
            raw = boto3.client("rekognition", region_name="us-east-1")
            job = FaceSearchClient(raw).start(REQUEST, idempotency_key="k")
            assert job.client_request_token == derive_client_request_token(REQUEST, "k")

    def test_stubber_sees_the_exact_parameters(self) -> None:
        raw = boto3.client(
            "rekognition",
            region_name="us-east-1",
            config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
        )
        token = derive_client_request_token(REQUEST, "k")
        with Stubber(raw) as stub:
            stub.add_response(
                "start_face_search",
                STARTED,
                {**REQUEST.to_api(), "ClientRequestToken": token},
            )
            FaceSearchClient(raw).start(REQUEST, idempotency_key="k")
            stub.assert_no_pending_responses()


# -- waiting, results and search, against the in-process fake ---------------------------


@pytest.fixture
def fake() -> FakeRekognition:
    fake = FakeRekognition()
    fake.add_collection("employees")
    return fake


def _on(fake: FakeRekognition, fake_time: FakeTime, **poller: Any) -> FaceSearchClient:
    """A client answered by the fake, whose waiting sleeps on the injected clock."""
    return FaceSearchClient(
        fake.client(),
        retry=RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock),
        poller=BackoffPoller(sleep=fake_time.sleep, clock=fake_time.clock, **poller),
    )


class TestWait:
    def test_polls_until_the_job_ends(self, fake: FakeRekognition, fake_time: FakeTime) -> None:
        client = _on(fake, fake_time)
        job = client.start(REQUEST)
        status = client.wait(job)
        assert status.state is JobState.SUCCEEDED
        polls = [c for c in fake.calls if c.operation == "GetFaceSearch"]
        assert len(polls) == 3  # IN_PROGRESS twice, then SUCCEEDED
        assert all(c.params["MaxResults"] == 1 for c in polls)

    def test_failed_job_raises_with_the_status_message(
        self, fake: FakeRekognition, fake_time: FakeTime
    ) -> None:
        client = _on(fake, fake_time)
        job = client.start(REQUEST)
        fake.finish(job.job_id, status="FAILED", status_message="unsupported codec")
        with pytest.raises(JobFailedError) as info:
            client.wait(job)
        assert (info.value.job_id, info.value.status_message) == (job.job_id, "unsupported codec")

    def test_timeout_argument_overrides_the_poller(
        self, fake: FakeRekognition, fake_time: FakeTime
    ) -> None:
        client = _on(fake, fake_time, timeout=10_000.0)
        job = client.start(REQUEST)
        fake.hold(job.job_id)
        with pytest.raises(PollTimeoutError) as info:
            client.wait(job, timeout=30)
        assert info.value.elapsed == pytest.approx(30)
        assert fake_time.now == pytest.approx(30)

    @pytest.mark.parametrize("bad", [0, -1, True, "10"])
    def test_bad_timeout_is_named(self, fake: FakeRekognition, bad: object) -> None:
        with pytest.raises(RequestValidationError) as info:
            FaceSearchClient(fake.client()).wait("job-1", timeout=bad)  # type: ignore[arg-type]
        assert info.value.paths == ("timeout",)

    def test_throttled_polls_are_retried_not_fatal(
        self, fake: FakeRekognition, fake_time: FakeTime
    ) -> None:
        client = _on(fake, fake_time)
        job = client.start(REQUEST)
        fake.inject_error("GetFaceSearch", "ThrottlingException", times=3)
        assert client.wait(job).state is JobState.SUCCEEDED

    def test_default_poller_is_backoff_with_its_defaults(
        self, fake: FakeRekognition, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        used: list[BackoffPoller] = []

        def wait(self: BackoffPoller, job_id: str, fetch: Any, *, timeout: Any = None) -> Any:
            used.append(self)
            return fetch(job_id)

        monkeypatch.setattr(BackoffPoller, "wait", wait)
        client = FaceSearchClient(fake.client())
        job = client.start(REQUEST)
        fake.finish(job.job_id)
        status = client.wait(job)
        assert (status.job_id, status.state) == (job.job_id, JobState.SUCCEEDED)
        assert used == [BackoffPoller()]


class TestResults:
    def test_pages_are_fetched_lazily_with_the_parameters_asked(
        self, fake: FakeRekognition, fake_time: FakeTime
    ) -> None:
        client = _on(fake, fake_time)
        job = client.start(REQUEST)
        fake.finish(job.job_id, persons=25)
        results = client.results(job, sort_by="INDEX", page_size=10)
        assert not [c for c in fake.calls if c.operation == "GetFaceSearch"]
        matches = list(results)
        assert len(matches) == 25
        assert all(isinstance(m, PersonMatch) for m in matches)
        sent = [c.params for c in fake.calls if c.operation == "GetFaceSearch"]
        assert [p.get("NextToken") is None for p in sent] == [True, False, False]
        assert {p["MaxResults"] for p in sent} == {10}
        assert {p["SortBy"] for p in sent} == {"INDEX"}

    def test_resume_from_a_page_token(self, fake: FakeRekognition, fake_time: FakeTime) -> None:
        client = _on(fake, fake_time)
        job = client.start(REQUEST)
        fake.finish(job.job_id, persons=25)
        first = next(iter(client.results(job, page_size=10).pages()))
        assert first.next_token
        rest = list(client.results(job.job_id, page_size=10, next_token=first.next_token))
        assert len(first.matches) + len(rest) == 25

    def test_in_progress_and_failed_jobs_never_give_empty_results(
        self, fake: FakeRekognition, fake_time: FakeTime
    ) -> None:
        client = _on(fake, fake_time)
        job = client.start(REQUEST)
        fake.hold(job.job_id)
        with pytest.raises(JobNotCompleteError):
            list(client.results(job))
        fake.finish(job.job_id, status="FAILED", status_message="nope")
        with pytest.raises(JobFailedError):
            list(client.results(job))

    def test_expired_page_token_is_typed(self, fake: FakeRekognition, fake_time: FakeTime) -> None:
        client = _on(fake, fake_time)
        job = client.start(REQUEST)
        fake.finish(job.job_id, persons=25)
        token = next(iter(client.results(job, page_size=10).pages())).next_token
        assert token is not None
        fake.advance(25 * 3600)
        with pytest.raises(InvalidPaginationTokenError):
            list(client.results(job, page_size=10, next_token=token))

    def test_bad_arguments_are_all_named_before_any_call(self, fake: FakeRekognition) -> None:
        client = FaceSearchClient(fake.client())
        with pytest.raises(RequestValidationError) as info:
            client.results(
                "job-1",
                sort_by="NEWEST",
                page_size=0,
                next_token="x" * 256,
                min_similarity=101,
            )
        assert info.value.paths == ("SortBy", "MaxResults", "NextToken", "min_similarity")
        with pytest.raises(RequestValidationError) as info:
            client.results("job-1", page_size=True)
        assert info.value.paths == ("MaxResults",)
        assert fake.calls == []

    def test_page_size_over_1000_is_not_an_error(
        self, fake: FakeRekognition, fake_time: FakeTime
    ) -> None:
        client = _on(fake, fake_time)
        job = client.start(REQUEST)
        fake.finish(job.job_id, persons=1500)
        assert sum(1 for _ in client.results(job, page_size=5000)) == 1500


class TestSearch:
    def test_start_wait_and_results_in_one_call(
        self, fake: FakeRekognition, fake_time: FakeTime
    ) -> None:
        client = _on(fake, fake_time)
        results = client.search(REQUEST, idempotency_key="event-7", page_size=7)
        assert len(list(results)) == 25
        [job] = fake.jobs.values()
        assert job.client_request_token == derive_client_request_token(REQUEST, "event-7")

    def test_restarted_caller_with_the_same_key_gets_the_same_job(
        self, fake: FakeRekognition, fake_time: FakeTime
    ) -> None:
        first = _on(fake, fake_time).search(REQUEST, idempotency_key="event-7")
        second = _on(fake, fake_time).search(REQUEST, idempotency_key="event-7")
        assert first.job_id == second.job_id
        assert len(fake.jobs) == 1


class TestCompletions:
    def test_uses_the_queues_region_for_sqs(self, fake: FakeRekognition) -> None:
        from moto import mock_aws

        with mock_aws():
            sqs = boto3.client("sqs", region_name="us-west-2")  # not the client's region
            queue = sqs.create_queue(QueueName="done")["QueueUrl"]
            body = '{"JobId": "job-1", "Status": "SUCCEEDED"}'
            sqs.send_message(QueueUrl=queue, MessageBody=body)
            client = FaceSearchClient(fake.client())
            assert client.boto3_client.meta.region_name == "us-east-1"
            got = client.completions(queue, wait_time_seconds=0, idle_timeout=0)
            assert [done.job_id for done in got] == ["job-1"]
            sqs.send_message(QueueUrl=queue, MessageBody=body)
            session = boto3.Session(region_name="us-east-1")
            built = FaceSearchClient(boto3_session=session)
            got = built.completions(queue, wait_time_seconds=0, idle_timeout=0)
            assert [done.job_id for done in got] == ["job-1"]
