"""FakeRekognition's collection operations behave like the service's, through real boto3."""

from __future__ import annotations

import datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from rekoface.testing import FakeRekognition
from rekoface.testing._fake import OPERATIONS

PHOTO = {"S3Object": {"Bucket": "photos", "Name": "alice-1.jpg"}}
VIDEO = {"S3Object": {"Bucket": "videos-bucket", "Name": "lobby.mp4"}}
COLLECTION_OPERATIONS = (
    "CreateCollection",
    "DescribeCollection",
    "DeleteCollection",
    "IndexFaces",
    "ListFaces",
    "DeleteFaces",
)


@pytest.fixture
def fake() -> FakeRekognition:
    return FakeRekognition()


@pytest.fixture
def client(fake: FakeRekognition) -> Any:
    made = fake.client()
    made.create_collection(CollectionId="employees")
    return made


def _code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_create_describe_delete_round_trip(fake: FakeRekognition, client: Any) -> None:
    described = client.describe_collection(CollectionId="employees")
    assert described["FaceCount"] == 0
    assert described["CollectionARN"].endswith(":collection/employees")
    assert isinstance(described["CreationTimestamp"], datetime.datetime)
    client.delete_collection(CollectionId="employees")
    with pytest.raises(ClientError) as missing:
        client.describe_collection(CollectionId="employees")
    assert _code(missing) == "ResourceNotFoundException"
    assert "employees" not in fake.collections


def test_creating_an_existing_collection_is_resource_already_exists(client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.create_collection(CollectionId="employees")
    assert _code(excinfo) == "ResourceAlreadyExistsException"


def test_index_finds_one_face_with_a_stable_image_id_and_new_face_ids(client: Any) -> None:
    first = client.index_faces(CollectionId="employees", Image=PHOTO, ExternalImageId="alice")
    again = client.index_faces(CollectionId="employees", Image=PHOTO, ExternalImageId="alice")
    (one,), (two,) = first["FaceRecords"], again["FaceRecords"]
    assert one["Face"]["ImageId"] == two["Face"]["ImageId"]
    assert one["Face"]["FaceId"] != two["Face"]["FaceId"]  # the service's duplicate
    assert one["Face"]["ExternalImageId"] == "alice"
    assert client.describe_collection(CollectionId="employees")["FaceCount"] == 2


def test_a_test_sets_how_many_faces_an_image_holds(fake: FakeRekognition, client: Any) -> None:
    fake.set_image("photos", "group.jpg", faces=3, low_quality=1)
    image = {"S3Object": {"Bucket": "photos", "Name": "group.jpg"}}
    answer = client.index_faces(CollectionId="employees", Image=image, MaxFaces=2)
    assert len(answer["FaceRecords"]) == 2
    reasons = sorted(r for face in answer["UnindexedFaces"] for r in face["Reasons"])
    assert reasons == ["EXCEEDS_MAX_FACES", "LOW_SHARPNESS"]
    unfiltered = client.index_faces(
        CollectionId="employees", Image=image, MaxFaces=10, QualityFilter="NONE"
    )
    assert (len(unfiltered["FaceRecords"]), unfiltered["UnindexedFaces"]) == (4, [])
    fake.set_image("photos", "empty.jpg", faces=0)
    empty = {"S3Object": {"Bucket": "photos", "Name": "empty.jpg"}}
    assert client.index_faces(CollectionId="employees", Image=empty)["FaceRecords"] == []


@pytest.mark.parametrize(
    "code", ["InvalidImageFormatException", "ImageTooLargeException", "InvalidS3ObjectException"]
)
def test_an_image_can_be_something_the_service_refuses(
    fake: FakeRekognition, client: Any, code: str
) -> None:
    fake.set_image("photos", "notes.txt", error=code)
    image = {"S3Object": {"Bucket": "photos", "Name": "notes.txt"}}
    with pytest.raises(ClientError) as excinfo:
        client.index_faces(CollectionId="employees", Image=image)
    assert _code(excinfo) == code
    assert client.describe_collection(CollectionId="employees")["FaceCount"] == 0


def test_set_image_refuses_an_unknown_error(fake: FakeRekognition) -> None:
    with pytest.raises(ValueError, match="error must be one of"):
        fake.set_image("photos", "x.jpg", error="Nope")


def test_index_validates_by_the_model_and_names_every_field(client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.index_faces(
            CollectionId="employees", Image=PHOTO, ExternalImageId="alice/1", QualityFilter="BEST"
        )
    assert _code(excinfo) == "InvalidParameterException"
    message = excinfo.value.response["Error"]["Message"]
    assert message.startswith("2 validation errors detected")
    assert "ExternalImageId" in message
    assert "QualityFilter" in message


def test_index_into_a_missing_collection_is_resource_not_found(client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.index_faces(CollectionId="nobody", Image=PHOTO)
    assert _code(excinfo) == "ResourceNotFoundException"


def test_list_faces_pages_through_every_face_once(fake: FakeRekognition, client: Any) -> None:
    for i in range(7):
        image = {"S3Object": {"Bucket": "photos", "Name": f"p{i}.jpg"}}
        client.index_faces(CollectionId="employees", Image=image)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        extra: dict[str, str] = {"NextToken": token} if token else {}
        page = client.list_faces(CollectionId="employees", MaxResults=3, **extra)
        pages += 1
        seen += [face["FaceId"] for face in page["Faces"]]
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert seen == [face["FaceId"] for face in fake.collections["employees"]]
    assert len(set(seen)) == 7


def test_list_faces_refuses_a_forged_token(client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.list_faces(CollectionId="employees", NextToken="forged")
    assert _code(excinfo) == "InvalidPaginationTokenException"


def test_delete_faces_deletes_and_names_what_it_could_not(client: Any) -> None:
    face = client.index_faces(CollectionId="employees", Image=PHOTO)["FaceRecords"][0]["Face"]
    ghost = "00000000-0000-4000-8000-000000000000"
    answer = client.delete_faces(CollectionId="employees", FaceIds=[face["FaceId"], ghost])
    assert answer["DeletedFaces"] == [face["FaceId"]]
    assert answer["UnsuccessfulFaceDeletions"] == [{"FaceId": ghost, "Reasons": ["FACE_NOT_FOUND"]}]
    assert client.list_faces(CollectionId="employees")["Faces"] == []


def test_delete_faces_validates_face_ids_by_the_model(client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.delete_faces(CollectionId="employees", FaceIds=["not-a-face-id"])
    assert _code(excinfo) == "InvalidParameterException"


def test_a_search_matches_the_indexed_faces_under_their_external_ids(
    fake: FakeRekognition, client: Any
) -> None:
    client.index_faces(CollectionId="employees", Image=PHOTO, ExternalImageId="alice")
    job_id = client.start_face_search(Video=VIDEO, CollectionId="employees")["JobId"]
    fake.finish(job_id, persons=40)
    persons = client.get_face_search(JobId=job_id)["Persons"]
    matched = {m["Face"]["ExternalImageId"] for p in persons for m in p.get("FaceMatches", [])}
    assert matched == {"alice"}


def test_add_collection_stays_a_shortcut_that_describe_sees(fake: FakeRekognition) -> None:
    fake.add_collection("staff", ["bob", "carol"])
    client = fake.client()
    assert client.describe_collection(CollectionId="staff")["FaceCount"] == 2
    listed = [f["ExternalImageId"] for f in client.list_faces(CollectionId="staff")["Faces"]]
    assert listed == ["bob", "carol"]


@pytest.mark.parametrize("operation", COLLECTION_OPERATIONS)
def test_fault_injection_covers_the_collection_operations(operation: str) -> None:
    assert operation in OPERATIONS
    fake = FakeRekognition()
    fake.inject_error(operation, "ThrottlingException")
    status, body = fake.handle(operation, {"CollectionId": "employees"})
    assert (status, body["__type"]) == (400, "ThrottlingException")


def test_a_dropped_index_answer_still_indexed(fake: FakeRekognition, client: Any) -> None:
    fake.drop_response("IndexFaces")
    with pytest.raises(ReadTimeoutError):
        client.index_faces(CollectionId="employees", Image=PHOTO)
    assert len(fake.collections["employees"]) == 1
    assert fake.calls[-1].outcome == "dropped"


def test_collection_calls_are_answered_by_the_fake_inside_mock_aws() -> None:
    from moto import mock_aws

    with mock_aws():  # moto implements none of these: it must never see them
        fake = FakeRekognition()
        client: Any = boto3.client(
            "rekognition", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
        )
        fake.attach(client)
        client.create_collection(CollectionId="employees")
        client.index_faces(CollectionId="employees", Image=PHOTO, ExternalImageId="alice")
        faces = client.list_faces(CollectionId="employees")["Faces"]
    assert [f["ExternalImageId"] for f in faces] == ["alice"]
    assert [c.operation for c in fake.calls] == ["CreateCollection", "IndexFaces", "ListFaces"]
