"""The fake beside moto's mock_aws: moto for SNS/SQS, the fake for Rekognition."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from rekoface.testing import FakeRekognition

VIDEO: Any = {"S3Object": {"Bucket": "videos-bucket", "Name": "lobby.mp4"}}
ROLE = "arn:aws:iam::123456789012:role/RekognitionPublish"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with mock_aws():
        yield


def receive(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return list(answer.get("Messages", []))


@pytest.mark.usefixtures("aws")
def test_fake_answers_rekognition_inside_mock_aws() -> None:
    fake = FakeRekognition()
    fake.add_collection("employees")
    client = fake.client()
    job_id = client.start_face_search(Video=VIDEO, CollectionId="employees")["JobId"]
    assert job_id in fake.jobs  # not a moto job
    assert client.get_face_search(JobId=job_id)["JobStatus"] == "IN_PROGRESS"  # moto never says so
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.start_face_search(Video=VIDEO, CollectionId="nobody")  # moto validates nothing


@pytest.mark.usefixtures("aws")
def test_attached_client_made_inside_mock_aws_is_answered_by_the_fake() -> None:
    fake = FakeRekognition(in_progress_polls=0)
    fake.add_collection("employees")
    client = boto3.client("rekognition", region_name="us-east-1")
    fake.attach(client)
    job_id = client.start_face_search(Video=VIDEO, CollectionId="employees")["JobId"]
    assert list(fake.jobs) == [job_id]
    assert "NextToken" not in client.get_face_search(JobId=job_id)  # moto would send ""


@pytest.mark.usefixtures("aws")
def test_completion_reaches_sqs_through_moto_sns_exactly_once() -> None:
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic_arn = sns.create_topic(Name="AmazonRekognition-done")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="done")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)

    fake = FakeRekognition()
    fake.add_collection("employees")
    fake.connect_sns(sns)
    client = fake.client()
    params: dict[str, Any] = {
        "Video": VIDEO,
        "CollectionId": "employees",
        "JobTag": "cam-1",
        "ClientRequestToken": "tok-1",
        "NotificationChannel": {"SNSTopicArn": topic_arn, "RoleArn": ROLE},
    }
    job_id = client.start_face_search(**params)["JobId"]
    assert receive(sqs, queue_url) == []  # nothing until the job ends
    for _ in range(5):
        client.get_face_search(JobId=job_id)
    assert client.start_face_search(**params)["JobId"] == job_id  # a replay publishes nothing

    (message,) = receive(sqs, queue_url)
    envelope = json.loads(message["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == topic_arn
    assert json.loads(envelope["Message"]) == {
        "JobId": job_id,
        "Status": "SUCCEEDED",
        "API": "StartFaceSearch",
        "JobTag": "cam-1",
        "Timestamp": int(fake.now() * 1000),
        "Video": {"S3ObjectName": "lobby.mp4", "S3Bucket": "videos-bucket"},
    }
    assert receive(sqs, queue_url) == []


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("raw", [True, False])
def test_completion_sent_straight_to_a_moto_queue(raw: bool) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="direct")["QueueUrl"]
    fake = FakeRekognition(in_progress_polls=None)
    fake.add_collection("employees")
    fake.connect_sqs(sqs, queue_url, raw=raw)
    client = fake.client()
    topic = "arn:aws:sns:us-east-1:123456789012:t"
    job_id = client.start_face_search(
        Video=VIDEO,
        CollectionId="employees",
        NotificationChannel={"SNSTopicArn": topic, "RoleArn": ROLE},
    )["JobId"]
    fake.finish(job_id, status="FAILED", status_message="bad video")
    (message,) = receive(sqs, queue_url)
    body = json.loads(message["Body"])
    if not raw:
        assert body["TopicArn"] == topic
        body = json.loads(body["Message"])
    assert (body["JobId"], body["Status"]) == (job_id, "FAILED")


@pytest.mark.usefixtures("aws")
def test_publishing_to_a_missing_topic_is_recorded_not_raised() -> None:
    fake = FakeRekognition(in_progress_polls=0)
    fake.add_collection("employees")
    fake.connect_sns(boto3.client("sns", region_name="us-east-1"))
    client = fake.client()
    job_id = client.start_face_search(
        Video=VIDEO,
        CollectionId="employees",
        NotificationChannel={
            "SNSTopicArn": "arn:aws:sns:us-east-1:123456789012:gone",
            "RoleArn": ROLE,
        },
    )["JobId"]
    assert client.get_face_search(JobId=job_id)["JobStatus"] == "SUCCEEDED"
    (note,) = fake.notifications
    assert note.errors
    assert "NotFound" in note.errors[0]
