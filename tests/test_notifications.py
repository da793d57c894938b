"""parse_notification: every wrapper a completion notification arrives in, and every way to fail."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rekoface import (
    CompletionNotification,
    NotificationError,
    NotificationStatus,
    S3Video,
    parse_notification,
)

EVENTS = Path(__file__).parent / "events"
JOB_ID = "1f4b6a0bb8a2f8c1f4c7f0c0a6d7a7e0e3b2c6a0d9a3e8f5b1c2d3e4f5a6b7c8"


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def text(name: str) -> str:
    return (EVENTS / name).read_text()


EXPECTED = CompletionNotification(
    job_id=JOB_ID,
    status=NotificationStatus.SUCCEEDED,
    api="StartFaceSearch",
    job_tag="lobby-cam-7",
    timestamp=1510552143106,
    video=S3Video("example-videos", "videos/lobby 2024-05-01.mp4"),
)


class TestWrappers:
    def test_rekognition_json_as_text(self) -> None:
        assert parse_notification(text("notification_face_search.json")) == EXPECTED

    def test_rekognition_json_as_bytes(self) -> None:
        raw = (EVENTS / "notification_face_search.json").read_bytes()
        assert parse_notification(raw) == EXPECTED
        assert parse_notification(bytearray(raw)) == EXPECTED  # type: ignore[arg-type]

    def test_rekognition_json_as_dict(self) -> None:
        assert parse_notification(load("notification_face_search.json")) == EXPECTED

    def test_sqs_body_with_sns_envelope(self) -> None:
        assert parse_notification(text("sns_envelope_face_search.json")) == EXPECTED

    def test_sns_envelope_as_dict(self) -> None:
        assert parse_notification(load("sns_envelope_face_search.json")) == EXPECTED

    def test_lambda_sns_record(self) -> None:
        record = load("lambda_sns_event.json")["Records"][0]
        assert parse_notification(record) == EXPECTED

    def test_lambda_sqs_record_with_envelope(self) -> None:
        record = load("lambda_sqs_event.json")["Records"][0]
        assert parse_notification(record) == EXPECTED

    def test_lambda_sqs_record_with_raw_delivery(self) -> None:
        record = load("lambda_sqs_event_raw.json")["Records"][0]
        assert parse_notification(record) == EXPECTED

    def test_receive_message_dict(self) -> None:
        message = load("sqs_receive_message.json")["Messages"][0]
        assert parse_notification(message) == EXPECTED


class TestLenience:
    def test_aws_example_with_legacy_api_spelling_and_empty_message(self) -> None:
        # AWS's own example carries "Message": "" and no JobTag: that is no envelope.
        note = parse_notification(text("notification_face_search_legacy_api.json"))
        assert note.job_id == JOB_ID
        assert note.api == "FACE_SEARCH"
        assert note.job_tag is None
        assert note.is_face_search

    def test_minimal_notification(self) -> None:
        note = parse_notification(text("notification_minimal.json"))
        assert note == CompletionNotification(JOB_ID, NotificationStatus.SUCCEEDED)
        assert note.api is None
        assert note.timestamp is None
        assert note.video is None

    @pytest.mark.parametrize(
        ("name", "status"),
        [
            ("notification_failed.json", NotificationStatus.FAILED),
            ("notification_error.json", NotificationStatus.ERROR),
        ],
    )
    def test_statuses(self, name: str, status: NotificationStatus) -> None:
        assert parse_notification(text(name)).status is status

    def test_other_api_is_kept_as_given(self) -> None:
        note = parse_notification(text("notification_label_detection.json"))
        assert note.api == "StartLabelDetection"
        assert not note.is_face_search

    @pytest.mark.parametrize(
        ("api", "face_search"),
        [
            ("StartFaceSearch", True),
            ("FACE_SEARCH", True),
            ("FaceSearch", True),
            (None, True),
            ("StartLabelDetection", False),
            ("LABEL_DETECTION", False),
            ("StartFaceDetection", False),
        ],
    )
    def test_is_face_search(self, api: str | None, face_search: bool) -> None:
        note = CompletionNotification(JOB_ID, NotificationStatus.SUCCEEDED, api=api)
        assert note.is_face_search is face_search

    def test_unknown_keys_are_ignored(self) -> None:
        doc = {**load("notification_face_search.json"), "Surprise": {"nested": [1]}}
        assert parse_notification(doc) == EXPECTED

    @pytest.mark.parametrize("stamp", [1510552143106, 1510552143106.0, "1510552143106"])
    def test_timestamp_forms(self, stamp: object) -> None:
        doc = {"JobId": JOB_ID, "Status": "SUCCEEDED", "Timestamp": stamp}
        assert parse_notification(doc).timestamp == 1510552143106

    def test_video_version(self) -> None:
        video = {"S3Bucket": "example-videos", "S3ObjectName": "a.mp4", "S3ObjectVersion": "v1"}
        doc = {"JobId": JOB_ID, "Status": "SUCCEEDED", "Video": video}
        assert parse_notification(doc).video == S3Video("example-videos", "a.mp4", "v1")

    def test_odd_video_values_from_the_service_are_kept_as_sent(self) -> None:
        # S3Video() refuses a 1-character bucket and an empty key; the service's own
        # output is never held to the request rules.
        video = parse_notification(text("notification_odd_video.json")).video
        assert video is not None
        assert (video.bucket, video.name, video.version) == ("b", "", "null")

    @pytest.mark.parametrize(
        ("bucket", "name"),
        [
            ("My_Legacy.Bucket", "k"),  # pre-2018 bucket names (us-east-1)
            ("b" * 300, "\u00e9t\u00e9/\u2603 caf\u00e9.mp4"),
            ("example-videos", "k" * 2000),
        ],
    )
    def test_video_names_are_never_validated(self, bucket: str, name: str) -> None:
        doc = {
            "JobId": JOB_ID,
            "Status": "SUCCEEDED",
            "Video": {"S3Bucket": bucket, "S3ObjectName": name},
        }
        video = parse_notification(json.dumps(doc)).video
        assert video is not None
        assert (video.bucket, video.name) == (
            json.loads(json.dumps(bucket)),
            json.loads(json.dumps(name)),
        )

    def test_a_type_key_alone_is_no_sns_envelope(self) -> None:
        # An SNS envelope has "Type" AND "TopicArn": a bare notification that happens to
        # carry a "Type" (and AWS's example "Message": "") is the notification itself.
        note = parse_notification(text("notification_with_type.json"))
        assert note.job_id == JOB_ID
        doc = {**load("notification_with_type.json"), "Type": "Notification"}
        assert parse_notification(doc).job_id == JOB_ID

    def test_status_formats_as_its_value(self) -> None:
        status = NotificationStatus.SUCCEEDED
        assert f"{status}" == "SUCCEEDED"
        assert str(status) == "SUCCEEDED"
        assert f"{status:>10}" == " SUCCEEDED"
        assert status == "SUCCEEDED"

    def test_notification_is_frozen_and_picklable(self) -> None:
        assert pickle.loads(pickle.dumps(EXPECTED)) == EXPECTED
        with pytest.raises(AttributeError):
            EXPECTED.job_id = "x"  # type: ignore[misc]


class TestErrors:
    @pytest.mark.parametrize(
        ("message", "says"),
        [
            ("job done", "is not JSON"),
            (b"\xff\xfe", "is not UTF-8"),
            ("[1, 2]", "JSON list, not an object"),
            (42, "must be JSON text, bytes or a mapping, not int"),
            (text("notification_missing_job_id.json"), "has no JobId"),
            ({"JobId": "", "Status": "SUCCEEDED"}, "has JobId ''"),
            ({"JobId": 7, "Status": "SUCCEEDED"}, "has JobId 7"),
            (text("notification_unknown_status.json"), "Status is 'IN_PROGRESS', not one of"),
            ({"JobId": JOB_ID}, "Status is None"),
            (text("sns_envelope_bad_message.json"), "message.Message is not JSON"),
            (text("sns_subscription_confirmation.json"), "SNS 'SubscriptionConfirmation'"),
            (
                {"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t"},
                "SNS envelope whose Message is missing",
            ),
            (
                {"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": 3},
                "SNS envelope whose Message is a int",
            ),
            ({"eventSource": "aws:sqs", "body": None}, "Lambda SQS record whose body is missing"),
            ({"EventSource": "aws:sns", "Sns": "x"}, "Lambda SNS record without an Sns object"),
            ({"Body": "{}", "ReceiptHandle": "h"}, "message.Body has no JobId"),
            (load("lambda_sqs_event.json"), "whole Lambda event (1 records)"),
            ({"Records": "x"}, "whole Lambda event (? records)"),
            ({"JobId": JOB_ID, "Status": "SUCCEEDED", "API": 1}, "API must be a string"),
            ({"JobId": JOB_ID, "Status": "SUCCEEDED", "JobTag": []}, "JobTag must be a string"),
            ({"JobId": JOB_ID, "Status": "SUCCEEDED", "Timestamp": "soon"}, "not milliseconds"),
            ({"JobId": JOB_ID, "Status": "SUCCEEDED", "Timestamp": True}, "not milliseconds"),
            ({"JobId": JOB_ID, "Status": "SUCCEEDED", "Timestamp": 1.5}, "not milliseconds"),
            ({"JobId": JOB_ID, "Status": "SUCCEEDED", "Video": "s3://b/k"}, "must be an object"),
            (
                {"JobId": JOB_ID, "Status": "SUCCEEDED", "Video": {"S3Bucket": "bucket"}},
                "needs string S3Bucket and S3ObjectName",
            ),
        ],
    )
    def test_says_what_is_wrong(self, message: Any, says: str) -> None:
        with pytest.raises(NotificationError) as info:
            parse_notification(message)
        assert says in str(info.value)
        assert isinstance(info.value, ValueError)

    def test_too_deeply_wrapped(self) -> None:
        doc: dict[str, Any] = load("notification_face_search.json")
        for _ in range(5):
            doc = {"eventSource": "aws:sqs", "body": json.dumps(doc)}
        with pytest.raises(NotificationError, match="more than 4 levels deep"):
            parse_notification(doc)

    def test_four_wrappers_are_fine(self) -> None:
        doc: dict[str, Any] = load("notification_face_search.json")
        for _ in range(4):
            doc = {"eventSource": "aws:sqs", "body": json.dumps(doc)}
        assert parse_notification(doc) == EXPECTED

    def test_long_garbage_is_shortened_in_the_message(self) -> None:
        with pytest.raises(NotificationError) as info:
            parse_notification("x" * 10_000)
        assert len(str(info.value)) < 300


class TestPoisonMessages:
    """Anyone who can publish to the topic: every malformed message is a NotificationError."""

    def test_deeply_nested_brackets(self) -> None:
        with pytest.raises(NotificationError, match="nested more than 32 levels"):
            parse_notification("[" * 100_000)
        with pytest.raises(NotificationError, match="nested more than 32 levels"):
            parse_notification(b'{"a":' * 20_000 + b"1" + b"}" * 20_000)

    def test_nesting_inside_an_sns_envelope(self) -> None:
        envelope = {**load("sns_envelope_face_search.json"), "Message": "[" * 100_000}
        with pytest.raises(NotificationError, match=r"message\.Message is nested"):
            parse_notification(json.dumps(envelope))

    def test_brackets_inside_strings_are_not_nesting(self) -> None:
        doc = {**load("notification_face_search.json"), "JobTag": '[{\\"' * 40}
        assert parse_notification(json.dumps(doc)).job_tag == '[{\\"' * 40

    @pytest.mark.parametrize("stamp", ['"' + "9" * 5000 + '"', "9" * 5000, "-" + "9" * 5000])
    def test_a_5000_digit_timestamp(self, stamp: str) -> None:
        body = f'{{"JobId": "{JOB_ID}", "Status": "SUCCEEDED", "Timestamp": {stamp}}}'
        with pytest.raises(NotificationError):
            parse_notification(body)

    @pytest.mark.parametrize("digits", [4000, 5000])
    def test_a_huge_number_anywhere(self, digits: int) -> None:
        # 4,000 digits is under Python's int() limit: json would parse it (slowly, and
        # 3.10 has no limit at all); the parser refuses it before int() runs.
        body = f'{{"JobId": "{JOB_ID}", "Status": "SUCCEEDED", "Other": {"1" * digits}}}'
        with pytest.raises(NotificationError, match=f"a number of {digits} digits"):
            parse_notification(body)

    def test_an_oversized_message(self) -> None:
        padding = "x" * 300_000
        body = json.dumps({**load("notification_face_search.json"), "Padding": padding})
        with pytest.raises(NotificationError, match="over the 262144"):
            parse_notification(body)
        with pytest.raises(NotificationError, match="over the 262144"):
            parse_notification(body.encode())

    def test_a_deep_mapping_is_reported_briefly(self) -> None:
        deep: Any = []
        for _ in range(5000):
            deep = [deep]
        with pytest.raises(NotificationError) as info:
            parse_notification({"JobId": deep, "Status": "SUCCEEDED"})
        assert len(str(info.value)) < 300

    def test_many_keys_are_listed_briefly(self) -> None:
        with pytest.raises(NotificationError) as info:
            parse_notification({f"k{i}": i for i in range(10_000)})
        assert "10000 in all" in str(info.value)
        assert len(str(info.value)) < 300


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
_KEYS = st.sampled_from(
    [
        "JobId",
        "Status",
        "API",
        "JobTag",
        "Timestamp",
        "Video",
        "S3Bucket",
        "S3ObjectName",
        "S3ObjectVersion",
        "Type",
        "TopicArn",
        "Message",
        "Body",
        "ReceiptHandle",
        "body",
        "eventSource",
        "EventSource",
        "Sns",
        "Records",
    ]
)
_SHAPED = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.sampled_from(["Notification", "SUCCEEDED", "aws:sqs", "aws:sns", JOB_ID]),
    lambda inner: (
        st.dictionaries(_KEYS, inner, max_size=6)
        | inner.map(json.dumps)
        | st.lists(inner, max_size=3)
    ),
    max_leaves=25,
)


class TestNeverAnythingButNotificationError:
    @settings(max_examples=300, deadline=None)
    @given(message=st.text() | st.binary() | _JSON.map(json.dumps) | _JSON)
    def test_arbitrary_input(self, message: Any) -> None:
        _parse_or_notification_error(message)

    @settings(max_examples=300, deadline=None)
    @given(
        message=_SHAPED | _SHAPED.map(json.dumps) | _SHAPED.map(lambda d: json.dumps(d).encode())
    )
    def test_notification_shaped_input(self, message: Any) -> None:
        _parse_or_notification_error(message)


def _parse_or_notification_error(message: Any) -> None:
    try:
        note = parse_notification(message)
    except NotificationError:
        return
    assert isinstance(note, CompletionNotification)
    assert isinstance(note.job_id, str)
    assert note.job_id
