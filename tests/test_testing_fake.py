"""FakeRekognition behaves like the service, seen through real boto3 clients."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError, ReadTimeoutError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rekoface.testing import ACCOUNT_ID, FakeRekognition, ResponseDropped
from rekoface.testing._model_rules import default_rules

DAY = 24 * 3600.0
VIDEO = {"S3Object": {"Bucket": "videos-bucket", "Name": "lobby/2024-01-01.mp4"}}
TOPIC = "arn:aws:sns:us-east-1:123456789012:AmazonRekognition-done"
ROLE = "arn:aws:iam::123456789012:role/RekognitionPublish"


@pytest.fixture(autouse=True)
def _no_instance_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def fake() -> FakeRekognition:
    fake = FakeRekognition()
    fake.add_collection("employees")
    return fake


@pytest.fixture
def client(fake: FakeRekognition) -> Any:
    return fake.client()


def start(client: Any, **overrides: Any) -> str:
    params: dict[str, Any] = {"Video": VIDEO, "CollectionId": "employees", **overrides}
    return str(client.start_face_search(**params)["JobId"])


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def all_pages(client: Any, job_id: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    token = None
    while True:
        extra: dict[str, Any] = {"NextToken": token} if token else {}
        page = client.get_face_search(JobId=job_id, **kwargs, **extra)
        yield page
        token = page.get("NextToken")
        if not token:
            return


# -- wiring ------------------------------------------------------------------------------


def test_client_needs_no_credentials_and_does_not_retry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    fake = FakeRekognition()
    fake.add_collection("employees")
    client = fake.client()
    assert client.meta.region_name == "us-east-1"
    config: Any = client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}
    job_id = start(client)
    assert client.get_face_search(JobId=job_id)["JobStatus"] == "IN_PROGRESS"
    fake.inject_error("StartFaceSearch", "ThrottlingException")
    with pytest.raises(ClientError) as excinfo:
        start(client)
    assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 0


def test_client_takes_region_and_merges_config(fake: FakeRekognition) -> None:
    client = fake.client(region_name="eu-west-1", config=Config(read_timeout=7))
    assert client.meta.region_name == "eu-west-1"
    config: Any = client.meta.config
    assert config.read_timeout == 7
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}
    retrying = fake.client(config=Config(retries={"mode": "standard", "total_max_attempts": 3}))
    retrying_config: Any = retrying.meta.config
    assert retrying_config.retries == {"mode": "standard", "total_max_attempts": 3}


def test_attach_wires_an_existing_client(fake: FakeRekognition) -> None:
    client = boto3.client(
        "rekognition",
        region_name="ap-southeast-2",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="not-a-secret",
    )
    fake.attach(client)
    fake.attach(client)  # twice is harmless
    job_id = start(client)
    assert list(fake.jobs) == [job_id]


def test_attach_refuses_other_services(fake: FakeRekognition) -> None:
    sqs = boto3.client(
        "sqs", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    with pytest.raises(ValueError, match="rekognition"):
        fake.attach(sqs)


def test_other_operations_are_answered_not_sent(client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.list_collections()
    assert error_of(excinfo)[0] == "UnknownOperationException"


def test_handle_is_the_transport_free_core(fake: FakeRekognition) -> None:
    status, body = fake.handle("StartFaceSearch", {"Video": VIDEO, "CollectionId": "employees"})
    assert status == 200
    assert set(body) == {"JobId"}
    status, body = fake.handle("GetFaceSearch", {"JobId": body["JobId"]})
    assert (status, body["JobStatus"]) == (200, "IN_PROGRESS")
    status, body = fake.handle("ListCollections", {})
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    fake.drop_response("GetFaceSearch")
    with pytest.raises(ResponseDropped) as dropped:
        fake.handle("GetFaceSearch", {"JobId": next(iter(fake.jobs))})
    assert dropped.value.operation == "GetFaceSearch"


# -- lifecycle ---------------------------------------------------------------------------


def test_job_is_in_progress_for_two_polls_then_succeeds(fake: FakeRekognition, client: Any) -> None:
    job_id = start(client, JobTag="lobby-cam")
    for _ in range(2):
        answer = client.get_face_search(JobId=job_id)
        assert answer["JobStatus"] == "IN_PROGRESS"
        assert "Persons" not in answer
        assert "NextToken" not in answer
    answer = client.get_face_search(JobId=job_id)
    assert answer["JobStatus"] == "SUCCEEDED"
    assert answer["JobId"] == job_id
    assert answer["JobTag"] == "lobby-cam"
    assert answer["Video"] == VIDEO
    assert len(answer["Persons"]) == 25
    assert "NextToken" not in answer
    assert "StatusMessage" not in answer
    meta = answer["VideoMetadata"]
    assert set(meta) == {
        "Codec",
        "DurationMillis",
        "Format",
        "FrameRate",
        "FrameHeight",
        "FrameWidth",
        "ColorRange",
    }
    assert all(0 <= p["Timestamp"] < meta["DurationMillis"] for p in answer["Persons"])
    assert fake.jobs[job_id].state == "SUCCEEDED"
    assert fake.jobs[job_id].polls == 3


def test_generated_persons_match_collection_faces(fake: FakeRekognition, client: Any) -> None:
    job_id = start(client, FaceMatchThreshold=90)
    fake.finish(job_id, persons=200)
    persons = [p for page in all_pages(client, job_id) for p in page["Persons"]]
    face_ids = {face["FaceId"] for face in fake.collections["employees"]}
    matched = [p for p in persons if "FaceMatches" in p]
    matches = [m for p in matched for m in p["FaceMatches"]]
    assert matches
    assert all(m["Similarity"] >= 90 for m in matches)
    assert {m["Face"]["FaceId"] for m in matches} <= face_ids
    strangers = [p for p in persons if "FaceMatches" not in p]  # no key, as the service
    assert strangers
    faceless = [p for p in strangers if "Face" not in p["Person"]]
    assert len(strangers) / 2 < len(faceless) < len(strangers)  # most, not all
    assert 1 < len({p["Person"]["Index"] for p in persons}) <= 10
    for person in matched:
        detail = person["Person"]["Face"]
        assert set(detail) == {"BoundingBox", "Confidence", "Landmarks", "Pose", "Quality"}


def test_empty_collection_matches_nobody() -> None:
    fake = FakeRekognition(in_progress_polls=0)
    fake.add_collection("nobody", faces=0)
    client = fake.client()
    job_id = start(client, CollectionId="nobody")
    answer = client.get_face_search(JobId=job_id)
    assert answer["Persons"]
    assert all("FaceMatches" not in p for p in answer["Persons"])


def test_responses_fit_the_service_output_shape(fake: FakeRekognition) -> None:
    rules = default_rules()
    _, started = fake.handle("StartFaceSearch", {"Video": VIDEO, "CollectionId": "employees"})
    assert rules.validate(rules.output_shape("StartFaceSearch"), started) == []
    for _ in range(3):
        _, answer = fake.handle("GetFaceSearch", {"JobId": started["JobId"]})
        assert rules.validate(rules.output_shape("GetFaceSearch"), answer) == []
    assert answer["JobStatus"] == "SUCCEEDED"


def test_seed_makes_runs_reproducible() -> None:
    def run(seed: int) -> tuple[str, Any]:
        fake = FakeRekognition(seed=seed, in_progress_polls=0)
        fake.add_collection("employees")
        _, body = fake.handle("StartFaceSearch", {"Video": VIDEO, "CollectionId": "employees"})
        return body["JobId"], fake.handle("GetFaceSearch", {"JobId": body["JobId"]})[1]["Persons"]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_in_progress_polls_zero_and_none() -> None:
    quick = FakeRekognition(in_progress_polls=0)
    quick.add_collection("employees")
    assert quick.client().get_face_search(JobId=start(quick.client()))["JobStatus"] == "SUCCEEDED"
    slow = FakeRekognition(in_progress_polls=None)
    slow.add_collection("employees")
    client = slow.client()
    job_id = start(client)
    for _ in range(50):
        assert client.get_face_search(JobId=job_id)["JobStatus"] == "IN_PROGRESS"
    slow.finish(job_id, persons=3)
    assert len(client.get_face_search(JobId=job_id)["Persons"]) == 3


def test_hold_keeps_a_job_running_until_finish(fake: FakeRekognition, client: Any) -> None:
    job_id = start(client)
    fake.hold(job_id)
    assert fake.jobs[job_id].held
    for _ in range(5):
        assert client.get_face_search(JobId=job_id)["JobStatus"] == "IN_PROGRESS"
    fake.finish(job_id)
    assert client.get_face_search(JobId=job_id)["JobStatus"] == "SUCCEEDED"
    assert len(fake.jobs[job_id].persons) == 25


def test_finish_failed(fake: FakeRekognition, client: Any) -> None:
    job_id = start(client)
    fake.finish(job_id, status="FAILED", status_message="Unsupported codec")
    answer = client.get_face_search(JobId=job_id)
    assert answer["JobStatus"] == "FAILED"
    assert answer["StatusMessage"] == "Unsupported codec"
    assert "Persons" not in answer
    other = start(client)
    fake.finish(other, status="FAILED")
    assert client.get_face_search(JobId=other)["StatusMessage"]


def test_finish_with_given_persons_fills_the_gaps(fake: FakeRekognition, client: Any) -> None:
    job_id = start(client)
    face = fake.collections["employees"][0]
    fake.finish(
        job_id,
        persons=[
            {"Timestamp": 5000, "Person": {"Index": 1}},
            {"Timestamp": 1000, "FaceMatches": [{"Similarity": 99.5, "Face": face}]},
        ],
    )
    persons = client.get_face_search(JobId=job_id)["Persons"]
    assert [p["Timestamp"] for p in persons] == [1000, 5000]
    assert persons[0]["Person"] == {"Index": 1}
    assert persons[0]["FaceMatches"][0]["Face"]["FaceId"] == face["FaceId"]
    assert "FaceMatches" not in persons[1]  # not added: strangers come without it


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"status": "ERROR"}, ValueError, "status"),
        ({"status": "FAILED", "persons": 3}, ValueError, "no persons"),
        ({"persons": -1}, ValueError, "persons"),
        ({"persons": [{"Timestamp": "soon"}]}, ValueError, r"persons\[0\]\.Timestamp"),
    ],
)
def test_finish_refuses_nonsense(
    fake: FakeRekognition, client: Any, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    job_id = start(client)
    with pytest.raises(error, match=match):
        fake.finish(job_id, **kwargs)
    assert fake.jobs[job_id].state == "IN_PROGRESS"


def test_finish_only_running_known_jobs(fake: FakeRekognition, client: Any) -> None:
    job_id = start(client)
    fake.finish(job_id)
    with pytest.raises(ValueError, match="already ended"):
        fake.finish(job_id)
    with pytest.raises(KeyError):
        fake.finish("nope")
    with pytest.raises(KeyError):
        fake.hold("nope")


def test_job_duration_ends_jobs_as_time_passes() -> None:
    fake = FakeRekognition(in_progress_polls=None, job_duration=120.0)
    fake.add_collection("employees")
    client = fake.client()
    job_id = start(client)
    held = start(client)
    fake.hold(held)
    fake.advance(119)
    assert client.get_face_search(JobId=job_id)["JobStatus"] == "IN_PROGRESS"
    fake.advance(1)
    assert fake.jobs[job_id].state == "SUCCEEDED"  # without a poll
    assert fake.jobs[held].state == "IN_PROGRESS"


def test_job_duration_callable_gives_each_video_its_own_length() -> None:
    seen: list[dict[str, Any]] = []
    lengths = {"short.mp4": 60, "long.mp4": 3600.0}

    def duration(params: dict[str, Any]) -> float:
        seen.append(params)
        return lengths[params["Video"]["S3Object"]["Name"]]

    fake = FakeRekognition(in_progress_polls=None, job_duration=duration)
    fake.add_collection("employees")
    client = fake.client()
    video = {"S3Object": {"Bucket": "videos-bucket", "Name": "short.mp4"}}
    short = start(client, Video=video, ClientRequestToken="short-1", JobTag="a")
    long = start(client, Video={"S3Object": {**video["S3Object"], "Name": "long.mp4"}})
    assert start(client, Video=video, ClientRequestToken="short-1", JobTag="a") == short
    assert seen == [  # once per job (not again for the replayed token), with every parameter
        {
            "Video": video,
            "CollectionId": "employees",
            "ClientRequestToken": "short-1",
            "JobTag": "a",
        },
        {
            "Video": {"S3Object": {**video["S3Object"], "Name": "long.mp4"}},
            "CollectionId": "employees",
        },
    ]
    seen[0]["Video"]["S3Object"]["Name"] = "changed"  # a copy: the job keeps its request
    assert fake.jobs[short].request["Video"] == video
    fake.advance(60)
    assert fake.jobs[short].state == "SUCCEEDED"
    assert fake.jobs[long].state == "IN_PROGRESS"
    fake.advance(3539)
    assert fake.jobs[long].state == "IN_PROGRESS"
    fake.advance(1)
    assert fake.jobs[long].state == "SUCCEEDED"


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ("90", TypeError),
        (None, TypeError),
        (True, TypeError),
        (-1, ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (10**400, ValueError),
    ],
)
def test_job_duration_callable_must_answer_seconds(answer: Any, error: type[Exception]) -> None:
    fake = FakeRekognition(job_duration=lambda params: answer)
    fake.add_collection("employees")
    client = fake.client()
    with pytest.raises(error, match=r"job_duration's answer for s3://videos-bucket/lobby/"):
        start(client)
    assert fake.jobs == {}  # no job was made


@pytest.mark.parametrize(
    ("value", "error"),
    [("90", TypeError), (True, TypeError), (-0.5, ValueError), (float("inf"), ValueError)],
)
def test_job_duration_must_be_seconds_or_a_callable(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="job_duration"):
        FakeRekognition(job_duration=value)


# -- time ----------------------------------------------------------------------------------


def test_clock_is_injectable_and_advance_adds_to_it() -> None:
    now = [500.0]
    fake = FakeRekognition(clock=lambda: now[0])
    assert fake.now() == 500.0
    now[0] = 600.0
    fake.advance(10)
    assert fake.now() == 610.0
    assert FakeRekognition().now() == 1_700_000_000.0
    with pytest.raises(ValueError, match="forward"):
        fake.advance(-1)


@pytest.mark.parametrize(
    "kwargs",
    [{"in_progress_polls": -1}, {"max_concurrent_jobs": 0}, {"default_persons": -1}],
)
def test_constructor_refuses_nonsense(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        FakeRekognition(**kwargs)


# -- collections -------------------------------------------------------------------------


def test_add_collection_with_named_and_given_faces() -> None:
    fake = FakeRekognition()
    faces = fake.add_collection(
        "c1", faces=["alice", {"ExternalImageId": "bob", "Confidence": 99.9}]
    )
    assert [f["ExternalImageId"] for f in faces] == ["alice", "bob"]
    assert faces[1]["Confidence"] == 99.9
    faces[0]["ExternalImageId"] = "mallory"  # a copy
    assert fake.collections["c1"][0]["ExternalImageId"] == "alice"
    assert len(fake.add_collection("c2")) == 10


@pytest.mark.parametrize(
    ("collection_id", "faces", "match"),
    [
        ("bad id", 1, "CollectionId"),
        ("", 1, "CollectionId"),
        ("ok", -1, "faces"),
        ("dup", 1, "exists"),
    ],
)
def test_add_collection_refuses_nonsense(collection_id: str, faces: int, match: str) -> None:
    fake = FakeRekognition()
    fake.add_collection("dup")
    with pytest.raises(ValueError, match=match):
        fake.add_collection(collection_id, faces)


def test_unknown_collection(client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        start(client, CollectionId="visitors")
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        "The collection id: visitors does not exist",
    )


# -- pagination --------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(0, 60),
    page_size=st.integers(1, 25),
    sort_by=st.sampled_from(["TIMESTAMP", "INDEX"]),
)
def test_pages_cover_every_person_once_in_order(count: int, page_size: int, sort_by: str) -> None:
    fake = FakeRekognition(in_progress_polls=0, seed=count)
    fake.add_collection("employees")
    client = fake.client()
    job_id = start(client)
    fake.finish(job_id, persons=count)
    pages = list(all_pages(client, job_id, MaxResults=page_size, SortBy=sort_by))
    persons = [p for page in pages for p in page["Persons"]]
    assert all(len(page["Persons"]) == page_size for page in pages[:-1])
    assert 0 < len(pages[-1]["Persons"]) <= page_size or count == 0
    assert "NextToken" not in pages[-1]
    expected = sorted(
        fake.jobs[job_id].persons,
        key=(lambda p: (p["Timestamp"], p["Person"]["Index"]))
        if sort_by == "TIMESTAMP"
        else (lambda p: (p["Person"]["Index"], p["Timestamp"])),
    )
    assert persons == expected


def test_page_size_defaults_to_and_is_capped_at_1000(fake: FakeRekognition, client: Any) -> None:
    job_id = start(client)
    fake.finish(job_id, persons=2500)
    assert len(client.get_face_search(JobId=job_id)["Persons"]) == 1000
    pages = list(all_pages(client, job_id, MaxResults=5000))
    assert [len(p["Persons"]) for p in pages] == [1000, 1000, 500]


def test_max_results_below_one_is_refused(fake: FakeRekognition, client: Any) -> None:
    job_id = start(client)
    with pytest.raises(ParamValidationError):  # botocore checks min on its own
        client.get_face_search(JobId=job_id, MaxResults=0)
    status, body = fake.handle("GetFaceSearch", {"JobId": job_id, "MaxResults": 0})
    assert (status, body["__type"]) == (400, "InvalidParameterException")
    assert "MaxResults" in body["Message"]


def test_forged_or_mismatched_tokens_are_refused(fake: FakeRekognition, client: Any) -> None:
    job_id, other = start(client), start(client)
    fake.finish(job_id, persons=30)
    fake.finish(other, persons=30)
    token = client.get_face_search(JobId=job_id, MaxResults=10)["NextToken"]
    assert len(token) <= 255
    bad = [
        {"JobId": job_id, "NextToken": token + "x"},
        {"JobId": other, "NextToken": token},
        {"JobId": job_id, "NextToken": token, "SortBy": "INDEX"},
    ]
    for params in bad:
        with pytest.raises(ClientError) as excinfo:
            client.get_face_search(**params)
        assert error_of(excinfo)[0] == "InvalidPaginationTokenException"
    again = client.get_face_search(JobId=job_id, NextToken=token, MaxResults=10)
    assert len(again["Persons"]) == 10  # a token can be used again


def test_pagination_tokens_expire_after_24_hours(fake: FakeRekognition, client: Any) -> None:
    job_id = start(client)
    fake.finish(job_id, persons=30)
    token = client.get_face_search(JobId=job_id, MaxResults=10)["NextToken"]
    fake.advance(DAY - 1)
    assert client.get_face_search(JobId=job_id, NextToken=token)["Persons"]
    fake.advance(1)
    with pytest.raises(ClientError) as excinfo:
        client.get_face_search(JobId=job_id, NextToken=token)
    assert error_of(excinfo)[0] == "InvalidPaginationTokenException"


def test_results_are_gone_after_7_days(fake: FakeRekognition, client: Any) -> None:
    job_id = start(client)
    fake.advance(3 * DAY)  # measured from the end of the job, not its start
    fake.finish(job_id)
    fake.advance(7 * DAY - 1)
    assert client.get_face_search(JobId=job_id)["JobStatus"] == "SUCCEEDED"
    fake.advance(1)
    with pytest.raises(ClientError) as excinfo:
        client.get_face_search(JobId=job_id)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_unknown_job_id(client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.get_face_search(JobId="f" * 64)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


# -- idempotency ---------------------------------------------------------------------------


def test_same_token_same_params_same_job(fake: FakeRekognition, client: Any) -> None:
    first = start(client, ClientRequestToken="tok-1", FaceMatchThreshold=80)
    again = start(client, ClientRequestToken="tok-1", FaceMatchThreshold=80.0)
    assert first == again
    assert len(fake.jobs) == 1
    assert fake.jobs[first].client_request_token == "tok-1"
    assert "ClientRequestToken" not in fake.jobs[first].request


def test_same_token_other_params_is_a_mismatch(fake: FakeRekognition, client: Any) -> None:
    start(client, ClientRequestToken="tok-1")
    with pytest.raises(ClientError) as excinfo:
        start(client, ClientRequestToken="tok-1", JobTag="other")
    assert error_of(excinfo)[0] == "IdempotentParameterMismatchException"
    assert len(fake.jobs) == 1


def test_no_token_always_starts_a_new_job(fake: FakeRekognition, client: Any) -> None:
    assert len({start(client) for _ in range(3)}) == 3
    assert len(fake.jobs) == 3


def test_tokens_live_7_days(fake: FakeRekognition, client: Any) -> None:
    first = start(client, ClientRequestToken="tok-1")
    fake.advance(7 * DAY - 1)
    assert start(client, ClientRequestToken="tok-1") == first
    fake.advance(1)
    later = start(client, ClientRequestToken="tok-1", JobTag="even-other-params")
    assert later != first
    assert len(fake.jobs) == 2


def test_concurrent_replays_start_one_job(fake: FakeRekognition) -> None:
    clients = [fake.client() for _ in range(8)]
    ids: list[str] = []
    barrier = threading.Barrier(len(clients))

    def worker(c: Any) -> None:
        barrier.wait()
        ids.append(start(c, ClientRequestToken="same"))
        ids.append(start(c))

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fake.jobs) == 9
    assert len(set(ids)) == 9


# -- the concurrency limit -------------------------------------------------------------------


def test_twenty_first_running_job_is_refused(fake: FakeRekognition, client: Any) -> None:
    jobs = [start(client, ClientRequestToken=f"t{i}") for i in range(20)]
    with pytest.raises(ClientError) as excinfo:
        start(client)
    code, message = error_of(excinfo)
    assert code == "LimitExceededException"
    assert message == f"20 open Jobs for User {ACCOUNT_ID} Maximum limit: 20"
    assert start(client, ClientRequestToken="t3") == jobs[3]  # a replay is not a new job
    fake.finish(jobs[0])
    assert start(client) not in jobs


def test_limit_is_configurable() -> None:
    fake = FakeRekognition(max_concurrent_jobs=1)
    fake.add_collection("employees")
    client = fake.client()
    start(client)
    with pytest.raises(ClientError, match="Maximum limit: 1"):
        start(client)


# -- validation ------------------------------------------------------------------------------


def _video(bucket: str = "videos-bucket", name: str = "v.mp4") -> dict[str, Any]:
    return {"S3Object": {"Bucket": bucket, "Name": name}}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"Video": _video(bucket="bad bucket!")}, "Video.S3Object.Bucket"),
        ({"Video": _video(bucket="ab")}, "Video.S3Object.Bucket"),
        ({"Video": _video(name="k" * 1025)}, "Video.S3Object.Name"),
        ({"Video": {"S3Object": {"Name": "v.mp4"}}}, "Video.S3Object.Bucket"),
        ({"Video": {"S3Object": {"Bucket": "videos-bucket"}}}, "Video.S3Object.Name"),
        ({"Video": {}}, "Video.S3Object"),
        ({"CollectionId": "emp loyees"}, "CollectionId"),
        ({"CollectionId": "employees\n"}, "CollectionId"),  # fullmatch, not match or $
        ({"CollectionId": "x" * 256}, "CollectionId"),
        ({"JobTag": "has space"}, "JobTag"),
        ({"JobTag": "t" * 1025}, "JobTag"),
        ({"ClientRequestToken": "t" * 65}, "ClientRequestToken"),
        ({"ClientRequestToken": "tok\n"}, "ClientRequestToken"),
        ({"FaceMatchThreshold": 100.5}, "FaceMatchThreshold"),
        (
            {
                "NotificationChannel": {
                    "SNSTopicArn": "arn:aws:sns:us-east-1:1234:t",
                    "RoleArn": ROLE,
                }
            },
            "NotificationChannel.SNSTopicArn",
        ),
        (
            {
                "NotificationChannel": {
                    "SNSTopicArn": TOPIC,
                    "RoleArn": "arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/r",
                }
            },
            "NotificationChannel.RoleArn",
        ),
        (
            {
                "NotificationChannel": {
                    "SNSTopicArn": "arn:awsx:sns:us-east-1:123456789012:t",
                    "RoleArn": ROLE,
                }
            },
            "NotificationChannel.SNSTopicArn",
        ),
    ],
)
def test_invalid_start_names_the_field(
    fake: FakeRekognition, params: dict[str, Any], field: str
) -> None:
    # botocore checks required and min itself; without that, the fake must refuse too
    client = fake.client(config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as excinfo:
        start(client, **params)
    code, message = error_of(excinfo)
    assert code == "InvalidParameterException"
    assert f"'{field}'" in message
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert fake.jobs == {}
    assert fake.calls[-1].outcome == "InvalidParameterException"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"JobId": "job id"}, "JobId"),
        ({"JobId": "j" * 65}, "JobId"),
        ({"JobId": "job", "SortBy": "NAME"}, "SortBy"),
        ({"JobId": "job", "NextToken": "n" * 256}, "NextToken"),
        ({"JobId": ""}, "JobId"),
        ({"JobId": "job", "MaxResults": 0}, "MaxResults"),
    ],
)
def test_invalid_get_names_the_field(
    fake: FakeRekognition, params: dict[str, Any], field: str
) -> None:
    client = fake.client(config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as excinfo:
        client.get_face_search(**params)
    code, message = error_of(excinfo)
    assert code == "InvalidParameterException"
    assert f"'{field}'" in message


def test_every_problem_is_reported_at_once(client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        start(client, CollectionId="a b", JobTag="c d")
    message = error_of(excinfo)[1]
    assert message.startswith("2 validation errors detected")
    assert "'CollectionId'" in message
    assert "'JobTag'" in message


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws-us-gov:sns:us-gov-west-1:123456789012:topic",
        "arn:aws-cn:sns:cn-north-1:123456789012:topic",
        "arn:aws-iso-b:sns:us-isob-east-1:123456789012:topic",
    ],
)
def test_other_partitions_are_accepted(fake: FakeRekognition, client: Any, arn: str) -> None:
    role = arn.split(":sns:", maxsplit=1)[0] + ":iam::123456789012:role/publish"
    assert start(client, NotificationChannel={"SNSTopicArn": arn, "RoleArn": role}) in fake.jobs


@pytest.mark.parametrize(
    ("params", "rule"),
    [
        ({"FaceMatchThreshold": float("nan")}, "finite"),
        ({"FaceMatchThreshold": True}, "type float"),
        ({"FaceMatchThreshold": "80"}, "type float"),
        ({"CollectionId": 7}, "type string"),
        ({"Video": "s3://b/k"}, "type structure"),
        ({"JobTag": None, "CollectionId": None}, "not be null"),
    ],
)
def test_wrong_types_are_refused(fake: FakeRekognition, params: dict[str, Any], rule: str) -> None:
    body = {"Video": VIDEO, "CollectionId": "employees", **params}
    status, answer = fake.handle("StartFaceSearch", body)
    assert (status, answer["__type"]) == (400, "InvalidParameterException")
    assert rule in answer["Message"]


def test_unknown_members_are_ignored(fake: FakeRekognition) -> None:
    status, _ = fake.handle(
        "StartFaceSearch", {"Video": VIDEO, "CollectionId": "employees", "Extra": [1, {"a": 2}]}
    )
    assert status == 200


# -- faults ------------------------------------------------------------------------------------


def test_inject_error_refuses_before_acting(fake: FakeRekognition, client: Any) -> None:
    fake.inject_error("StartFaceSearch", "ThrottlingException", times=2)
    for _ in range(2):
        with pytest.raises(ClientError) as excinfo:
            start(client)
        assert error_of(excinfo) == ("ThrottlingException", "Slow down")
    assert fake.jobs == {}
    job_id = start(client)
    assert [c.outcome for c in fake.calls] == ["ThrottlingException"] * 2 + ["ok"]
    assert fake.calls[-1].job_id == job_id


def test_inject_error_with_status_and_message(fake: FakeRekognition, client: Any) -> None:
    job_id = start(client)
    fake.inject_error(
        "GetFaceSearch", "InternalServerError", http_status=500, message="Internal failure"
    )
    with pytest.raises(ClientError) as excinfo:
        client.get_face_search(JobId=job_id)
    assert error_of(excinfo) == ("InternalServerError", "Internal failure")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert fake.jobs[job_id].polls == 0  # a refused poll is no poll
    fake.inject_error("GetFaceSearch", "SomethingNew")
    with pytest.raises(ClientError, match="SomethingNew"):
        client.get_face_search(JobId=job_id)


@pytest.mark.parametrize(
    ("operation", "times", "match"),
    [("DetectFaces", 1, "operation"), ("GetFaceSearch", 0, "times")],
)
def test_faults_refuse_nonsense(
    fake: FakeRekognition, operation: str, times: int, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        fake.inject_error(operation, "ThrottlingException", times=times)
    with pytest.raises(ValueError, match=match):
        fake.drop_response(operation, times=times)


def test_dropped_start_still_starts_the_job(fake: FakeRekognition, client: Any) -> None:
    fake.drop_response("StartFaceSearch")
    with pytest.raises(ReadTimeoutError):
        start(client, ClientRequestToken="tok-1")
    (record,) = fake.jobs.values()
    assert fake.calls[-1].outcome == "dropped"
    assert fake.calls[-1].job_id == record.job_id
    assert start(client, ClientRequestToken="tok-1") == record.job_id  # the retry finds it
    assert len(fake.jobs) == 1


def test_dropped_poll_still_counts(fake: FakeRekognition, client: Any) -> None:
    job_id = start(client)
    fake.drop_response("GetFaceSearch", times=2)
    for _ in range(2):
        with pytest.raises(ReadTimeoutError):
            client.get_face_search(JobId=job_id)
    assert client.get_face_search(JobId=job_id)["JobStatus"] == "SUCCEEDED"


def test_calls_record_params_and_time(fake: FakeRekognition, client: Any) -> None:
    fake.advance(5)
    job_id = start(client, ClientRequestToken="tok-1")
    client.get_face_search(JobId=job_id, MaxResults=3)
    start_call, get_call = fake.calls
    assert start_call.params["ClientRequestToken"] == "tok-1"
    assert get_call.params == {"JobId": job_id, "MaxResults": 3}
    assert get_call.at == fake.now()
    record = fake.jobs[job_id]
    assert record.created_at == fake.now()
    assert record.finished_at is None
    assert record.request["Video"] == VIDEO


# -- notifications (without moto) ----------------------------------------------------------------


CHANNEL = {"SNSTopicArn": TOPIC, "RoleArn": ROLE}


def test_finished_job_is_announced_once(fake: FakeRekognition, client: Any) -> None:
    job_id = start(client, NotificationChannel=CHANNEL, JobTag="cam-1", ClientRequestToken="t")
    start(client)  # no channel: nothing to announce
    for _ in range(6):
        client.get_face_search(JobId=job_id)
    start(client, NotificationChannel=CHANNEL, JobTag="cam-1", ClientRequestToken="t")
    (note,) = fake.notifications
    assert note.job_id == job_id
    assert note.topic_arn == TOPIC
    assert note.errors == ()
    assert note.message == {
        "JobId": job_id,
        "Status": "SUCCEEDED",
        "API": "StartFaceSearch",
        "JobTag": "cam-1",
        "Timestamp": int(fake.now() * 1000),
        "Video": {"S3ObjectName": VIDEO["S3Object"]["Name"], "S3Bucket": "videos-bucket"},
    }


def test_failed_job_is_announced(fake: FakeRekognition, client: Any) -> None:
    job_id = start(client, NotificationChannel=CHANNEL)
    fake.finish(job_id, status="FAILED")
    (note,) = fake.notifications
    assert note.message["Status"] == "FAILED"
    assert "JobTag" not in note.message


def test_a_failing_sink_does_not_fail_the_poll(
    fake: FakeRekognition, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def publish(self, **_: Any) -> None:
            raise RuntimeError("topic gone")

    fake.connect_sns(Broken())  # type: ignore[arg-type]
    job_id = start(client, NotificationChannel=CHANNEL)
    with caplog.at_level(logging.WARNING, logger="rekoface"):
        for _ in range(3):
            client.get_face_search(JobId=job_id)
    (note,) = fake.notifications
    assert note.errors == ("sns: RuntimeError('topic gone')",)
    assert "could not deliver" in caplog.text


def test_sqs_sink_sends_raw_or_enveloped(fake: FakeRekognition, client: Any) -> None:
    class Queue:
        def __init__(self) -> None:
            self.sent: list[dict[str, Any]] = []

        def send_message(self, **kwargs: Any) -> None:
            self.sent.append(kwargs)

    raw, wrapped = Queue(), Queue()
    fake.connect_sqs(raw, "https://q/raw", raw=True)  # type: ignore[arg-type]
    fake.connect_sqs(wrapped, "https://q/wrapped")  # type: ignore[arg-type]
    job_id = start(client, NotificationChannel=CHANNEL)
    fake.finish(job_id)
    (raw_message,) = raw.sent
    (wrapped_message,) = wrapped.sent
    assert raw_message["QueueUrl"] == "https://q/raw"
    assert json.loads(raw_message["MessageBody"])["JobId"] == job_id
    envelope = json.loads(wrapped_message["MessageBody"])
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == TOPIC
    assert envelope["Timestamp"] == "2023-11-14T22:13:20.000Z"
    assert json.loads(envelope["Message"]) == fake.notifications[0].message
