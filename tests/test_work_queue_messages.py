"""The body of a work-queue message: the two forms, the worker's defaults, one error per body
naming every bad field, and the job's token from the message's id."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rekoface import FaceSearchRequest, NotificationChannel, RequestValidationError, S3Video
from rekoface._constraints import CONSTRAINTS
from rekoface._work_items import Defaults, parse_work_item, token_for_message

EVENTS = Path(__file__).parent / "events"
TOKEN = token_for_message("5fea7756-0ea4-451a-a703-a558b933e274")
WORKER = Defaults("employees", 80.0, None, "worker-1")


def test_the_api_shape_is_read_whole() -> None:
    body = (EVENTS / "work_request_api_shape.json").read_text(encoding="utf-8")
    request = parse_work_item(body, WORKER, TOKEN)
    assert request == FaceSearchRequest(
        S3Video("my-bucket", "cams/lobby 2026-12-01.mp4", "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"),
        "visitors",
        92.5,
        NotificationChannel(
            "arn:aws:sns:us-east-1:123456789012:AmazonRekognitionFaceSearch",
            "arn:aws:iam::123456789012:role/RekognitionPublishes",
        ),
        "lobby",
        TOKEN,
    )
    assert request.to_api(TOKEN) == {**json.loads(body), "ClientRequestToken": TOKEN}


@pytest.mark.parametrize(
    "body",
    [
        (EVENTS / "work_request_short.json").read_text(encoding="utf-8"),
        "s3://my-bucket/cams/door.mp4",
        "  s3://my-bucket/cams/door.mp4\n",
    ],
)
def test_what_a_message_leaves_out_comes_from_the_worker(body: str) -> None:
    request = parse_work_item(body, WORKER, TOKEN)
    assert request == FaceSearchRequest(
        S3Video("my-bucket", "cams/door.mp4"), "employees", 80.0, None, "worker-1", TOKEN
    )


def test_every_bad_field_of_a_body_is_named_at_once() -> None:
    body = json.dumps(
        {
            "Video": {"S3Object": {"Bucket": "x", "Name": ""}},
            "NotificationChannel": {"SNSTopicArn": "not-an-arn"},
            "Colour": "red",
        }
    )
    with pytest.raises(RequestValidationError) as caught:
        parse_work_item(body, WORKER, TOKEN)
    paths = [e.path for e in caught.value.errors]
    assert paths == [
        "Body.Colour",
        "Video.S3Object.Bucket",
        "Video.S3Object.Name",
        "NotificationChannel.SNSTopicArn",
        "NotificationChannel.RoleArn",
    ]


def test_a_message_cannot_choose_its_token() -> None:
    body = json.dumps({"Video": "s3://my-bucket/a.mp4", "ClientRequestToken": "mine"})
    with pytest.raises(RequestValidationError, match=r"Body\.ClientRequestToken"):
        parse_work_item(body, WORKER, TOKEN)


@pytest.mark.parametrize(
    "message_id",
    ["5fea7756-0ea4-451a-a703-a558b933e274", "x" * 200, "ids/with spaces+symbols=é", ""],
)
def test_the_token_keeps_the_services_rule_and_is_the_same_on_every_delivery(
    message_id: str,
) -> None:
    token = token_for_message(message_id)
    rule = CONSTRAINTS["ClientRequestToken"]
    assert rule.compiled is not None
    assert rule.compiled.fullmatch(token)
    assert rule.max is not None
    assert len(token) <= rule.max
    assert token_for_message(message_id) == token
    assert token != token_for_message(message_id + "-other")


def test_tokens_of_different_messages_differ() -> None:
    ids = [f"{n:08x}-0000-4000-8000-000000000000" for n in range(1000)]
    assert len({token_for_message(i) for i in ids}) == 1000
    assert all(re.fullmatch(r"sqs-[0-9a-f]{60}", token_for_message(i)) for i in ids)
