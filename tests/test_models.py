"""Request models: every service rule enforced client-side, all failures reported at once."""

from __future__ import annotations

import math
import re
from typing import Any

import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rekoface import (
    FaceSearchRequest,
    NotificationChannel,
    RequestValidationError,
    S3Video,
)
from rekoface._constraints import CONSTRAINTS, WIDENED

SNS = "arn:aws:sns:us-east-1:123456789012:AmazonRekognitionTopic"
ROLE = "arn:aws:iam::123456789012:role/RekognitionPublish"


def _model_shape(operation: str, path: str) -> Any:
    model = botocore.session.get_session().get_service_model("rekognition")
    shape: Any = model.operation_model(operation).input_shape
    for part in path.split("."):
        shape = shape.members[part]
    return shape


def _model_inputs(operation: str) -> set[str]:
    """Every leaf input path of an operation that carries a constraint in the model."""
    model = botocore.session.get_session().get_service_model("rekognition")
    found: set[str] = set()

    def walk(shape: Any, prefix: str) -> None:
        for name, member in shape.members.items():
            path = f"{prefix}{name}"
            if member.type_name == "structure":
                walk(member, path + ".")
            elif {"min", "max", "pattern"} & set(member.metadata) or getattr(member, "enum", None):
                found.add(path)

    walk(model.operation_model(operation).input_shape, "")
    return found


class TestConstraintTable:
    """The table in code is the botocore model's; a botocore update that changes it fails here."""

    @pytest.mark.parametrize("path", sorted(CONSTRAINTS))
    def test_each_rule_matches_the_model(self, path: str) -> None:
        rule = CONSTRAINTS[path]
        meta = _model_shape(rule.operation, path).metadata
        enum = getattr(_model_shape(rule.operation, path), "enum", None)
        assert rule.min == meta.get("min")
        assert rule.max == meta.get("max")
        assert rule.model_pattern == meta.get("pattern")
        assert rule.enum == (tuple(enum) if enum else None)

    @pytest.mark.parametrize("operation", ["StartFaceSearch", "GetFaceSearch"])
    def test_every_constrained_input_of_the_model_is_in_the_table(self, operation: str) -> None:
        ours = {c.path for c in CONSTRAINTS.values() if c.operation == operation}
        assert _model_inputs(operation) <= ours

    def test_only_arn_patterns_are_widened(self) -> None:
        differs = {c.path for c in CONSTRAINTS.values() if c.pattern != c.model_pattern}
        assert differs == WIDENED


class TestS3Video:
    def test_from_uri_keeps_the_key_verbatim_including_question_marks(self) -> None:
        video = S3Video.from_uri("s3://my-bucket/path/to/clip?v=1#x.mp4", version="3")
        assert video == S3Video("my-bucket", "path/to/clip?v=1#x.mp4", "3")
        assert video.uri == "s3://my-bucket/path/to/clip?v=1#x.mp4"

    @pytest.mark.parametrize("uri", ["https://b/k", "b/k", "S3://b/k", ""])
    def test_from_uri_rejects_other_schemes_naming_the_field(self, uri: str) -> None:
        with pytest.raises(RequestValidationError) as info:
            S3Video.from_uri(uri)
        assert info.value.paths == ("Video.S3Object",)
        assert "s3://bucket/key" in str(info.value)

    def test_from_uri_without_a_key_names_the_key(self) -> None:
        with pytest.raises(RequestValidationError) as info:
            S3Video.from_uri("s3://bucket-only")
        assert info.value.paths == ("Video.S3Object.Name",)

    def test_every_failing_field_is_reported_at_once(self) -> None:
        with pytest.raises(RequestValidationError) as info:
            S3Video("b!", "", "")
        assert info.value.paths == (
            "Video.S3Object.Bucket",
            "Video.S3Object.Name",
            "Video.S3Object.Version",
        )
        assert isinstance(info.value, ValueError)

    def test_to_api_omits_a_missing_version(self) -> None:
        assert S3Video("bucket", "k").to_api() == {"S3Object": {"Bucket": "bucket", "Name": "k"}}
        assert S3Video("bucket", "k", "v1").to_api() == {
            "S3Object": {"Bucket": "bucket", "Name": "k", "Version": "v1"}
        }

    def test_is_frozen(self) -> None:
        video = S3Video("bucket", "k")
        with pytest.raises(AttributeError):
            video.bucket = "other"  # type: ignore[misc]

    def test_non_string_fields_are_type_errors_named_by_path(self) -> None:
        with pytest.raises(RequestValidationError) as info:
            S3Video(123, None)  # type: ignore[arg-type]
        assert info.value.paths == ("Video.S3Object.Bucket", "Video.S3Object.Name")
        assert "must be a str, not int" in str(info.value)


class TestFaceSearchRequest:
    def test_to_api_sends_no_none_and_floats_the_threshold(self) -> None:
        request = FaceSearchRequest(S3Video("bucket", "k.mp4"), "employees", 90)
        assert request.to_api() == {
            "Video": {"S3Object": {"Bucket": "bucket", "Name": "k.mp4"}},
            "CollectionId": "employees",
            "FaceMatchThreshold": 90.0,
        }

    def test_to_api_with_everything(self) -> None:
        request = FaceSearchRequest(
            S3Video("bucket", "k.mp4"),
            "employees",
            face_match_threshold=85.5,
            notification_channel=NotificationChannel(SNS, ROLE),
            job_tag="lobby:2024",
            client_request_token="own-token",
        )
        params = request.to_api()
        assert params["NotificationChannel"] == {"SNSTopicArn": SNS, "RoleArn": ROLE}
        assert params["JobTag"] == "lobby:2024"
        assert params["ClientRequestToken"] == "own-token"
        assert request.to_api("override")["ClientRequestToken"] == "override"

    def test_all_failures_of_the_object_at_once(self) -> None:
        with pytest.raises(RequestValidationError) as info:
            FaceSearchRequest(
                "s3://b/k",  # type: ignore[arg-type]
                "bad id!",
                face_match_threshold=101,
                notification_channel="arn",  # type: ignore[arg-type]
                job_tag="",
                client_request_token="spaces are bad",
            )
        assert info.value.paths == (
            "Video",
            "CollectionId",
            "FaceMatchThreshold",
            "NotificationChannel",
            "JobTag",
            "ClientRequestToken",
        )
        assert str(info.value).startswith("6 invalid fields: Video: must be a S3Video")

    @pytest.mark.parametrize(
        "bad", [True, False, math.nan, math.inf, -math.inf, "90", -0.01, 100.5]
    )
    def test_threshold_must_be_a_finite_number_in_range_and_not_bool(self, bad: object) -> None:
        with pytest.raises(RequestValidationError) as info:
            FaceSearchRequest(S3Video("bucket", "k"), "c", face_match_threshold=bad)  # type: ignore[arg-type]
        assert info.value.paths == ("FaceMatchThreshold",)

    @pytest.mark.parametrize("good", [0, 0.0, 100, 100.0, 42.25])
    def test_threshold_bounds_are_inclusive(self, good: float) -> None:
        assert FaceSearchRequest(S3Video("bucket", "k"), "c", good).face_match_threshold == good


class TestNotificationChannel:
    @pytest.mark.parametrize(
        ("topic", "role"),
        [
            (SNS, ROLE),
            (
                "arn:aws-us-gov:sns:us-gov-west-1:123456789012:AmazonRekognitionT",
                "arn:aws-us-gov:iam::123456789012:role/R",
            ),
            (
                "arn:aws-cn:sns:cn-north-1:123456789012:AmazonRekognitionT",
                "arn:aws-cn:iam::123456789012:role/R",
            ),
            (
                "arn:aws-iso-b:sns:us-isob-east-1:123456789012:AmazonRekognitionT",
                "arn:aws-iso-b:iam::123456789012:role/path/R",
            ),
        ],
    )
    def test_arns_of_every_partition_are_accepted(self, topic: str, role: str) -> None:
        """A deliberate widening of the model, which names only the `aws` partition."""
        assert NotificationChannel(topic, role).to_api() == {"SNSTopicArn": topic, "RoleArn": role}

    @pytest.mark.parametrize(
        ("topic", "role", "paths"),
        [
            ("arn:azure:sns:x:123456789012:t", ROLE, ("NotificationChannel.SNSTopicArn",)),
            (SNS, "arn:aws:iam::12345678901:role/R", ("NotificationChannel.RoleArn",)),
            (
                SNS + "\n",
                ROLE + "\n",
                ("NotificationChannel.SNSTopicArn", "NotificationChannel.RoleArn"),
            ),
            (SNS, "arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/R", ("NotificationChannel.RoleArn",)),
        ],
    )
    def test_bad_arns_name_their_field(self, topic: str, role: str, paths: tuple[str, ...]) -> None:
        with pytest.raises(RequestValidationError) as info:
            NotificationChannel(topic, role)
        assert info.value.paths == paths


# -- property tests: strings built from each rule are accepted, one broken rule is named --

_STRING_RULES = [
    path
    for path, rule in CONSTRAINTS.items()
    if rule.operation == "StartFaceSearch" and rule.path != "FaceMatchThreshold"
]


def _valid(path: str) -> st.SearchStrategy[str]:
    rule = CONSTRAINTS[path]
    low = int(rule.min or 1)
    high = int(rule.max or 300)
    if rule.compiled is None:
        return st.text(min_size=low, max_size=min(high, 60))
    return st.from_regex(rule.compiled, fullmatch=True).filter(lambda s: low <= len(s) <= high)


def _build(path: str, value: str) -> object:
    """Construct the model that owns `path` with `value` there and valid values elsewhere."""
    if path.startswith("Video.S3Object."):
        field = {"Bucket": "bucket", "Name": "key", "Version": None}
        field[path.rsplit(".", 1)[1]] = value
        return S3Video(field["Bucket"] or "", field["Name"] or "", field["Version"])
    if path.startswith("NotificationChannel."):
        topic, role = (value, ROLE) if path.endswith("SNSTopicArn") else (SNS, value)
        return NotificationChannel(topic, role)
    kwargs: dict[str, Any] = {"video": S3Video("bucket", "key"), "collection_id": "c"}
    kwargs[
        {
            "CollectionId": "collection_id",
            "JobTag": "job_tag",
            "ClientRequestToken": "client_request_token",
        }[path]
    ] = value
    return FaceSearchRequest(**kwargs)


@pytest.mark.parametrize("path", _STRING_RULES)
@given(data=st.data())
def test_strings_generated_from_each_rule_are_accepted(path: str, data: st.DataObject) -> None:
    _build(path, data.draw(_valid(path)))


@pytest.mark.parametrize("path", [p for p in _STRING_RULES if CONSTRAINTS[p].compiled])
@given(data=st.data())
def test_a_trailing_newline_is_rejected(path: str, data: st.DataObject) -> None:
    value = data.draw(_valid(path).filter(lambda s: len(s) < int(CONSTRAINTS[path].max or 999)))
    with pytest.raises(RequestValidationError) as info:
        _build(path, value + "\n")
    assert info.value.paths == (path,)


@pytest.mark.parametrize("path", [p for p in _STRING_RULES if CONSTRAINTS[p].compiled])
@given(data=st.data(), bad=st.sampled_from(["٣", "é", " ", "\u00a0", "*"]))
def test_a_character_outside_the_pattern_is_rejected(
    path: str, data: st.DataObject, bad: str
) -> None:
    value = data.draw(_valid(path))
    rule = CONSTRAINTS[path]
    candidate = value[: int(rule.max or 999) - 1] + bad
    assert rule.compiled is not None
    if rule.compiled.fullmatch(candidate):  # e.g. '.+' in ARNs allows anything at the end
        candidate = bad + value[1:]
    if rule.compiled.fullmatch(candidate):
        return
    with pytest.raises(RequestValidationError) as info:
        _build(path, candidate)
    assert info.value.paths == (path,)


@pytest.mark.parametrize("path", [p for p in _STRING_RULES if CONSTRAINTS[p].max])
@given(extra=st.integers(min_value=1, max_value=5))
def test_too_long_is_rejected_naming_the_field(path: str, extra: int) -> None:
    rule = CONSTRAINTS[path]
    assert rule.max is not None
    with pytest.raises(RequestValidationError) as info:
        _build(path, "a" * (int(rule.max) + extra))
    assert info.value.paths == (path,)
    assert f"length <= {int(rule.max)}" in str(info.value)


@pytest.mark.parametrize("path", [p for p in _STRING_RULES if CONSTRAINTS[p].min])
def test_too_short_is_rejected_naming_the_field(path: str) -> None:
    rule = CONSTRAINTS[path]
    assert rule.min is not None
    with pytest.raises(RequestValidationError) as info:
        _build(path, "a" * (int(rule.min) - 1))
    assert info.value.paths == (path,)


def test_arabic_indic_digits_do_not_pass_for_digits() -> None:
    compiled = CONSTRAINTS["NotificationChannel.RoleArn"].compiled
    assert compiled is not None
    assert compiled.flags & re.ASCII
    assert compiled.fullmatch("arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/R") is None


class _Percent(float):
    """A float subclass (as numpy's float64 is): a number, checked the long way."""


@given(
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(10**400), max_value=10**400),
        st.booleans(),
        st.floats(min_value=-1, max_value=101).map(_Percent),
    )
)
def test_a_threshold_is_accepted_exactly_when_a_finite_number_from_0_to_100(value: float) -> None:
    # Valid requests take a quick path; it must accept nothing the full check refuses.
    valid = not isinstance(value, bool) and 0 <= value <= 100  # NaN compares false
    if not valid:
        with pytest.raises(RequestValidationError) as info:
            FaceSearchRequest(S3Video("bucket", "k"), "c", face_match_threshold=value)
        assert info.value.paths == ("FaceMatchThreshold",)
        return
    request = FaceSearchRequest(S3Video("bucket", "k"), "c", face_match_threshold=value)
    assert request.to_api()["FaceMatchThreshold"] == float(value)
