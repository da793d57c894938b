"""Face collections through `FaceSearchClient.collection`, against the in-process fake."""

from __future__ import annotations

import datetime
import pickle
from typing import Any

import botocore.session
import pytest
from faketime import FakeTime

from rekoface import (
    AccessDeniedError,
    CollectionInfo,
    CollectionNotReadyError,
    FaceCollection,
    FaceSearchClient,
    ImageTooLargeError,
    IndexResult,
    InvalidImageFormatError,
    InvalidS3ObjectError,
    RequestValidationError,
    ResourceAlreadyExistsError,
    ResourceNotFoundError,
    RetryPolicy,
    S3Image,
    ServiceQuotaExceededError,
    ThrottlingError,
    TransportError,
)
from rekoface._collection_core import DELETE_BATCH, LIST_PAGE
from rekoface._constraints import CONSTRAINTS, FACE_ID
from rekoface.errors import error_class_for_code
from rekoface.testing import FakeRekognition

ALICE_1 = S3Image("photos", "alice-1.jpg")
ALICE_2 = S3Image("photos", "alice-2.jpg")


@pytest.fixture
def fake() -> FakeRekognition:
    return FakeRekognition()


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(fake: FakeRekognition, time: FakeTime) -> FaceSearchClient:
    policy = RetryPolicy(sleep=time.sleep, clock=time.clock, random=lambda: 0.5)
    return FaceSearchClient(fake.client(), retry=policy)


@pytest.fixture
def employees(client: FaceSearchClient) -> FaceCollection:
    collection = client.collection("employees")
    collection.ensure()
    return collection


def _calls(fake: FakeRekognition, operation: str) -> int:
    return sum(call.operation == operation for call in fake.calls)


def _faces_per_image(fake: FakeRekognition, collection_id: str = "employees") -> dict[str, int]:
    counts: dict[str, int] = {}
    for face in fake.collections[collection_id]:
        counts[face["ImageId"]] = counts.get(face["ImageId"], 0) + 1
    return counts


# -- the collection -------------------------------------------------------------------------


def test_ensure_creates_a_missing_collection_and_describes_it(
    fake: FakeRekognition, client: FaceSearchClient
) -> None:
    info = client.collection("employees").ensure()
    assert "employees" in fake.collections
    assert isinstance(info, CollectionInfo)
    assert (info.collection_id, info.face_count, info.user_count) == ("employees", 0, 0)
    assert info.collection_arn is not None
    assert info.collection_arn.endswith(":collection/employees")
    assert info.face_model_version == "7.0"
    assert info.creation_timestamp == datetime.datetime(
        2023, 11, 14, 22, 13, 20, tzinfo=datetime.timezone.utc
    )


def test_ensure_keeps_an_existing_collection_and_its_faces(
    fake: FakeRekognition, client: FaceSearchClient
) -> None:
    fake.add_collection("employees", ["alice", "bob"])
    info = client.collection("employees").ensure()
    assert info.face_count == 2
    assert [f["ExternalImageId"] for f in fake.collections["employees"]] == ["alice", "bob"]


def test_ensure_after_a_lost_create_answer_succeeds(
    fake: FakeRekognition, client: FaceSearchClient
) -> None:
    fake.drop_response("CreateCollection")
    assert client.collection("employees").ensure().face_count == 0
    assert [c.outcome for c in fake.calls if c.operation == "CreateCollection"] == [
        "dropped",
        "ResourceAlreadyExistsException",
    ]


def test_describe_of_a_missing_collection_is_resource_not_found(
    client: FaceSearchClient,
) -> None:
    with pytest.raises(ResourceNotFoundError):
        client.collection("nobody").describe()


def test_delete_removes_the_collection(fake: FakeRekognition, employees: FaceCollection) -> None:
    employees.delete()
    assert "employees" not in fake.collections
    with pytest.raises(ResourceNotFoundError):
        employees.delete()


def test_a_bad_collection_id_is_refused_before_any_call(
    fake: FakeRekognition, client: FaceSearchClient
) -> None:
    with pytest.raises(RequestValidationError) as excinfo:
        client.collection("my collection")
    assert excinfo.value.paths == ("CollectionId",)
    assert fake.calls == []


# -- the preflight --------------------------------------------------------------------------


def test_check_says_a_missing_collection_does_not_exist(client: FaceSearchClient) -> None:
    with pytest.raises(CollectionNotReadyError, match="does not exist") as excinfo:
        client.collection("nobody").check()
    assert (excinfo.value.collection_id, excinfo.value.face_count) == ("nobody", None)
    assert isinstance(excinfo.value.__cause__, ResourceNotFoundError)


def test_check_says_an_empty_collection_holds_no_faces(employees: FaceCollection) -> None:
    with pytest.raises(CollectionNotReadyError, match="holds no faces") as excinfo:
        employees.check()
    assert excinfo.value.face_count == 0
    copy = pickle.loads(pickle.dumps(excinfo.value))
    assert (type(copy), str(copy)) == (CollectionNotReadyError, str(excinfo.value))


def test_check_passes_a_collection_with_faces(employees: FaceCollection) -> None:
    employees.index(ALICE_1, external_image_id="alice")
    assert employees.check().face_count == 1


# -- indexing -------------------------------------------------------------------------------


def test_index_adds_the_image_faces_under_the_external_image_id(
    fake: FakeRekognition, employees: FaceCollection
) -> None:
    result = employees.index(ALICE_1, external_image_id="alice")
    assert isinstance(result, IndexResult)
    (face,) = result.faces
    assert face.external_image_id == "alice"
    assert face.image_id is not None
    assert face.bounding_box is not None
    assert [f["FaceId"] for f in fake.collections["employees"]] == [face.face_id]
    assert fake.calls[-1].params["Image"] == {
        "S3Object": {"Bucket": "photos", "Name": "alice-1.jpg"}
    }


def test_index_reports_unindexed_faces_with_their_reasons(
    fake: FakeRekognition, employees: FaceCollection
) -> None:
    fake.set_image("photos", "team.jpg", faces=2, low_quality=1)
    result = employees.index(S3Image("photos", "team.jpg"), max_faces=1, quality_filter="HIGH")
    assert len(result.faces) == 1
    assert sorted(r for u in result.unindexed for r in u.reasons) == [
        "EXCEEDS_MAX_FACES",
        "LOW_SHARPNESS",
    ]
    assert all(u.bounding_box is not None for u in result.unindexed)


def test_index_checks_every_argument_at_once_before_calling(
    fake: FakeRekognition, employees: FaceCollection
) -> None:
    before = len(fake.calls)
    with pytest.raises(RequestValidationError) as excinfo:
        employees.index(
            ALICE_1,
            external_image_id="alice/1",
            max_faces=0,
            quality_filter="BEST",
        )
    assert excinfo.value.paths == ("ExternalImageId", "MaxFaces", "QualityFilter")
    assert len(fake.calls) == before


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"image": "s3://photos/a.jpg"}, "Image"),
        ({"max_faces": True}, "MaxFaces"),
        ({"max_faces": 1.5}, "MaxFaces"),
        ({"external_image_id": ""}, "ExternalImageId"),
        ({"external_image_id": "x" * 256}, "ExternalImageId"),
        ({"quality_filter": "auto"}, "QualityFilter"),
    ],
)
def test_index_names_the_bad_argument(
    employees: FaceCollection, kwargs: dict[str, Any], path: str
) -> None:
    arguments: dict[str, Any] = {"image": ALICE_1, **kwargs}
    image = arguments.pop("image")
    with pytest.raises(RequestValidationError) as excinfo:
        employees.index(image, **arguments)
    assert excinfo.value.paths == (path,)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("InvalidImageFormatException", InvalidImageFormatError),
        ("ImageTooLargeException", ImageTooLargeError),
        ("InvalidS3ObjectException", InvalidS3ObjectError),
    ],
)
def test_an_image_the_service_refuses_is_a_typed_error(
    fake: FakeRekognition, employees: FaceCollection, code: str, error: type[Exception]
) -> None:
    fake.set_image("photos", "notes.txt", error=code)
    with pytest.raises(error):
        employees.index(S3Image("photos", "notes.txt"))


def test_the_new_error_codes_have_their_classes() -> None:
    assert error_class_for_code("ServiceQuotaExceededException") is ServiceQuotaExceededError
    assert error_class_for_code("ResourceAlreadyExistsException") is ResourceAlreadyExistsError


def test_a_quota_error_is_not_retried(fake: FakeRekognition, client: FaceSearchClient) -> None:
    fake.inject_error("CreateCollection", "ServiceQuotaExceededException")
    with pytest.raises(ServiceQuotaExceededError):
        client.collection("employees").ensure()
    assert _calls(fake, "CreateCollection") == 1


# -- no duplicate faces on retry ------------------------------------------------------------


def test_lost_index_answers_leave_one_set_of_faces_per_image(
    fake: FakeRekognition, employees: FaceCollection
) -> None:
    fake.drop_response("IndexFaces", times=3)
    result = employees.index(ALICE_1, external_image_id="alice")
    assert _calls(fake, "IndexFaces") == 4  # three answers lost, then one that came
    stored = fake.collections["employees"]
    assert [f["FaceId"] for f in stored] == [f.face_id for f in result.faces]
    assert list(_faces_per_image(fake).values()) == [1]


def test_a_lost_answer_keeps_the_persons_other_photos(
    fake: FakeRekognition, employees: FaceCollection
) -> None:
    employees.index(ALICE_1, external_image_id="alice")
    fake.drop_response("IndexFaces")
    employees.index(ALICE_2, external_image_id="alice")
    assert sorted(_faces_per_image(fake).values()) == [1, 1]
    assert [f["ExternalImageId"] for f in fake.collections["employees"]] == ["alice", "alice"]


def test_an_image_indexed_on_purpose_under_another_id_is_kept(
    fake: FakeRekognition, employees: FaceCollection
) -> None:
    employees.index(ALICE_1, external_image_id="alice-old")
    fake.drop_response("IndexFaces")
    employees.index(ALICE_1, external_image_id="alice")
    ids = sorted(f["ExternalImageId"] for f in fake.collections["employees"])
    assert ids == ["alice", "alice-old"]


def test_a_server_error_is_reconciled_too(fake: FakeRekognition, employees: FaceCollection) -> None:
    fake.inject_error("IndexFaces", "InternalServerError", http_status=500)
    employees.index(ALICE_1, external_image_id="alice")
    assert _calls(fake, "ListFaces") == 1  # a 5xx may have acted: the collection is checked
    assert list(_faces_per_image(fake).values()) == [1]


def test_throttling_is_retried_without_listing_the_collection(
    fake: FakeRekognition, employees: FaceCollection
) -> None:
    fake.inject_error("IndexFaces", "ThrottlingException", times=2)
    employees.index(ALICE_1, external_image_id="alice")
    assert _calls(fake, "IndexFaces") == 3
    assert _calls(fake, "ListFaces") == 0
    assert list(_faces_per_image(fake).values()) == [1]


def test_throttling_past_the_budget_is_a_throttling_error(
    fake: FakeRekognition, time: FakeTime
) -> None:
    policy = RetryPolicy(max_attempts=2, sleep=time.sleep, clock=time.clock)
    collection = FaceSearchClient(fake.client(), retry=policy).collection("employees")
    collection.ensure()
    fake.inject_error("IndexFaces", "ThrottlingException", times=2)
    with pytest.raises(ThrottlingError):
        collection.index(ALICE_1)
    assert fake.collections["employees"] == []


def test_indexing_again_after_every_answer_was_lost_leaves_one_set(
    fake: FakeRekognition, time: FakeTime
) -> None:
    policy = RetryPolicy(max_attempts=2, sleep=time.sleep, clock=time.clock)
    collection = FaceSearchClient(fake.client(), retry=policy).collection("employees")
    collection.ensure()
    fake.drop_response("IndexFaces", times=2)
    with pytest.raises(TransportError):
        collection.index(ALICE_1, external_image_id="alice")
    assert list(_faces_per_image(fake).values()) == [2]  # the service kept both attempts
    result = collection.index(ALICE_1, external_image_id="alice")
    assert [f["FaceId"] for f in fake.collections["employees"]] == [f.face_id for f in result.faces]


# -- listing and deleting faces -------------------------------------------------------------


def test_faces_are_fetched_lazily_one_page_at_a_time(
    fake: FakeRekognition, client: FaceSearchClient
) -> None:
    made = fake.add_collection("staff", LIST_PAGE * 2 + 5)
    faces = client.collection("staff").faces()
    assert _calls(fake, "ListFaces") == 0
    first = next(faces)
    assert _calls(fake, "ListFaces") == 1
    rest = list(faces)
    assert _calls(fake, "ListFaces") == 3
    assert [first.face_id, *(f.face_id for f in rest)] == [f["FaceId"] for f in made]
    assert first.external_image_id == "person-000"


def test_faces_of_a_missing_collection_is_resource_not_found(client: FaceSearchClient) -> None:
    with pytest.raises(ResourceNotFoundError):
        list(client.collection("nobody").faces())


def test_delete_faces_is_batched_to_the_service_limit(
    fake: FakeRekognition, client: FaceSearchClient
) -> None:
    made = fake.add_collection("staff", DELETE_BATCH + 10)
    ids = [f["FaceId"] for f in made]
    deleted = client.collection("staff").delete_faces(ids[:-1])
    sizes = [len(c.params["FaceIds"]) for c in fake.calls if c.operation == "DeleteFaces"]
    assert sizes == [DELETE_BATCH, 9]
    assert deleted == tuple(ids[:-1])
    assert [f["FaceId"] for f in fake.collections["staff"]] == ids[-1:]


def test_delete_faces_with_no_ids_calls_nothing(
    fake: FakeRekognition, employees: FaceCollection
) -> None:
    assert employees.delete_faces([]) == ()
    assert _calls(fake, "DeleteFaces") == 0


def test_delete_faces_names_every_bad_id(employees: FaceCollection) -> None:
    good = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(RequestValidationError) as excinfo:
        employees.delete_faces([good, "alice", 7])  # type: ignore[list-item]
    assert excinfo.value.paths == ("FaceIds[1]", "FaceIds[2]")
    with pytest.raises(RequestValidationError) as single:
        employees.delete_faces(good)
    assert single.value.paths == ("FaceIds",)


def test_delete_faces_leaves_out_ids_the_collection_does_not_hold(
    employees: FaceCollection,
) -> None:
    (face,) = employees.index(ALICE_1).faces
    ghost = "00000000-0000-4000-8000-000000000000"
    assert employees.delete_faces([face.face_id, ghost]) == (face.face_id,)


# -- S3Image ----------------------------------------------------------------------------------


def test_s3_image_from_uri_keeps_the_key_verbatim() -> None:
    image = S3Image.from_uri("s3://photos/people/alice?1.jpg", version="7")
    assert image == S3Image("photos", "people/alice?1.jpg", "7")
    assert image.uri == "s3://photos/people/alice?1.jpg"
    assert image.to_api() == {
        "S3Object": {"Bucket": "photos", "Name": "people/alice?1.jpg", "Version": "7"}
    }


@pytest.mark.parametrize("uri", ["https://photos/a.jpg", "photos/a.jpg", ""])
def test_s3_image_from_uri_refuses_what_is_not_an_s3_uri(uri: str) -> None:
    with pytest.raises(RequestValidationError) as excinfo:
        S3Image.from_uri(uri)
    assert excinfo.value.paths == ("Image.S3Object",)


def test_s3_image_names_every_bad_field() -> None:
    with pytest.raises(RequestValidationError) as excinfo:
        S3Image("b", "", "")
    assert excinfo.value.paths == (
        "Image.S3Object.Bucket",
        "Image.S3Object.Name",
        "Image.S3Object.Version",
    )


# -- the rules are the model's ------------------------------------------------------------------

#: Inputs of the collection operations rekoface never sends (so has no rule for).
_NOT_SENT = {
    "CreateCollection": {"Tags"},
    "IndexFaces": {"Image.Bytes"},
    "ListFaces": {"MaxResults", "NextToken", "UserId", "FaceIds"},
}


def _constrained_inputs(operation: str) -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model("rekognition")
    found: dict[str, Any] = {}

    def walk(shape: Any, prefix: str) -> None:
        for name, member in shape.members.items():
            path = f"{prefix}{name}"
            if member.type_name == "structure":
                walk(member, path + ".")
            elif {"min", "max", "pattern"} & set(member.metadata) or getattr(member, "enum", None):
                found[path] = member

    walk(model.operation_model(operation).input_shape, "")
    return found


@pytest.mark.parametrize(
    "operation",
    [
        "CreateCollection",
        "DescribeCollection",
        "DeleteCollection",
        "IndexFaces",
        "ListFaces",
        "DeleteFaces",
    ],
)
def test_every_input_sent_has_the_models_rule(operation: str) -> None:
    for path, shape in _constrained_inputs(operation).items():
        if path in _NOT_SENT.get(operation, set()):
            continue
        rule = CONSTRAINTS[path]  # a KeyError: an input sent without its rule
        meta = shape.metadata
        enum = getattr(shape, "enum", None)
        assert (rule.min, rule.max, rule.model_pattern) == (
            meta.get("min"),
            meta.get("max"),
            meta.get("pattern"),
        ), path
        assert rule.enum == (tuple(enum) if enum else None), path


def test_the_face_id_rule_is_the_models_member_pattern() -> None:
    model = botocore.session.get_session().get_service_model("rekognition")
    operation: Any = model.operation_model("DeleteFaces")
    member = operation.input_shape.members["FaceIds"].member
    assert FACE_ID.model_pattern == FACE_ID.pattern == member.metadata["pattern"]


def test_a_failed_clean_up_is_finished_by_the_next_index(
    fake: FakeRekognition, time: FakeTime
) -> None:
    policy = RetryPolicy(max_attempts=2, sleep=time.sleep, clock=time.clock)
    collection = FaceSearchClient(fake.client(), retry=policy).collection("employees")
    collection.ensure()
    fake.drop_response("IndexFaces")
    fake.inject_error("ListFaces", "AccessDeniedException")
    with pytest.raises(AccessDeniedError):
        collection.index(ALICE_1, external_image_id="alice")
    assert list(_faces_per_image(fake).values()) == [2]
    result = collection.index(ALICE_1, external_image_id="alice")
    assert [f["FaceId"] for f in fake.collections["employees"]] == [f.face_id for f in result.faces]


@pytest.mark.parametrize(
    "external_id",
    ["alice\n", "alice/1", "\u0661\u0662", "al ice", "alice-\udcff", "é"],
)
def test_hostile_external_ids_are_refused_by_name(
    fake: FakeRekognition, employees: FaceCollection, external_id: str
) -> None:
    before = len(fake.calls)
    with pytest.raises(RequestValidationError) as excinfo:
        employees.index(ALICE_1, external_image_id=external_id)
    assert excinfo.value.paths == ("ExternalImageId",)
    assert len(fake.calls) == before


def test_every_external_id_the_rule_allows_is_accepted(employees: FaceCollection) -> None:
    allowed = "aZ09_.-:" + "x" * 247
    (face,) = employees.index(ALICE_1, external_image_id=allowed).faces
    assert face.external_image_id == allowed


def test_a_client_that_retries_by_itself_leaves_one_set_of_faces(fake: FakeRekognition) -> None:
    from botocore.config import Config

    retrying = fake.client(config=Config(retries={"mode": "standard", "total_max_attempts": 3}))
    collection = FaceSearchClient(retrying).collection("employees")  # botocore retries alone
    collection.ensure()
    fake.drop_response("IndexFaces")
    result = collection.index(ALICE_1, external_image_id="alice")
    assert _calls(fake, "IndexFaces") == 2  # botocore's retry, inside one boto3 call
    assert [f["FaceId"] for f in fake.collections["employees"]] == [f.face_id for f in result.faces]
