"""A fleet of ``rekoface batch --from-queue`` processes draining one queue on a real
``python -m moto.server`` (SQS and Rekognition; moto's jobs are all SUCCEEDED at once).

What it shows: separate processes share the queue, every message gets exactly one outcome
line across their outputs, every worker stops on its own once the queue stays empty, and
the queue is left empty. moto's SQS receive is not atomic across its server's threads
(real SQS is): a message handed to two workers at once would show here as two lines.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
from subprocess_support import env

pytest_plugins = ("moto_server",)

WORKERS = 3
VIDEOS = 9


def sqs(endpoint: str) -> Any:
    return boto3.client(
        "sqs",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_worker_processes_share_a_queue_and_each_video_gets_one_outcome(
    moto_server: str, tmp_path: Path
) -> None:
    client = sqs(moto_server)
    name = f"fleet-{uuid.uuid4().hex[:8]}"
    dlq = client.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
    redrive = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": 5}
    queue = client.create_queue(QueueName=name, Attributes={"RedrivePolicy": json.dumps(redrive)})[
        "QueueUrl"
    ]
    videos = [f"s3://videos/cam{i:02d}.mp4" for i in range(VIDEOS)]
    for video in videos:
        client.send_message(QueueUrl=queue, MessageBody=json.dumps({"Video": video}))
    command = [
        sys.executable,
        "-m",
        "rekoface",
        "--endpoint-url",
        moto_server,
        "-q",
        "batch",
        "--from-queue",
        queue,
        "--collection",
        "staff",
        "--idle-timeout",
        "1",
        "--wait-time-seconds",
        "0",
    ]
    workers = [
        subprocess.Popen(
            command,
            env=env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    outputs = [worker.communicate(timeout=60) for worker in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    lines = [json.loads(line) for out, _ in outputs for line in out.splitlines()]
    assert sorted(line["Video"] for line in lines) == videos  # each exactly once
    assert all(line["JobStatus"] == "SUCCEEDED" and line["Error"] is None for line in lines)
    assert len({line["JobId"] for line in lines}) == VIDEOS
    attributes = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    for url in (queue, dlq):
        counts = client.get_queue_attributes(QueueUrl=url, AttributeNames=attributes)
        assert counts["Attributes"] == dict.fromkeys(attributes, "0")
