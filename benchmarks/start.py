"""Figure 1: ``client.start(FaceSearchRequest(...))`` vs ``start_face_search(...)``.

The hand-written side passes the same parameters and a fresh ``uuid4`` token, the
least a careful boto3 user writes (without a token a retried start may run twice).
The rekoface side builds and validates a `FaceSearchRequest` on every call, as a user
would, and lets `start` make its token.
"""

from __future__ import annotations

import uuid
from statistics import median
from typing import Any

from rekoface import FaceSearchClient, FaceSearchRequest, S3Video

from ._canned import CannedRekognition, rekognition_client
from ._common import FigureResult, Sides, Sizes, alternate, control, microseconds, plural

TARGET = 1.03
BUCKET = "bench-videos"
KEY = "lobby/2024-05-01T08-00.mp4"
COLLECTION = "employees"
THRESHOLD = 85.0


def sides(sizes: Sizes) -> tuple[Sides, CannedRekognition]:
    """The two sides of figure 1, and the transport that answers both."""
    transport = CannedRekognition()
    boto3_client = rekognition_client(transport)
    client = FaceSearchClient(boto3_client)
    params: dict[str, Any] = {
        "Video": {"S3Object": {"Bucket": BUCKET, "Name": KEY}},
        "CollectionId": COLLECTION,
        "FaceMatchThreshold": THRESHOLD,
    }
    calls = sizes.start_calls

    def rekoface_round() -> list[tuple[str, str]]:
        started = []
        for _ in range(calls):
            job = client.start(FaceSearchRequest(S3Video(BUCKET, KEY), COLLECTION, THRESHOLD))
            started.append((job.job_id, job.client_request_token or ""))
        return started

    def boto3_round() -> list[tuple[str, str]]:
        started = []
        for _ in range(calls):
            token = str(uuid.uuid4())
            response = boto3_client.start_face_search(**params, ClientRequestToken=token)
            started.append((response["JobId"], token))
        return started

    return Sides(rekoface_round, boto3_round, calls), transport


def run(sizes: Sizes) -> FigureResult:
    (rekoface_round, boto3_round, calls), transport = sides(sizes)
    rounds = alternate(rekoface_round, boto3_round, rounds=sizes.start_rounds, operations=calls)
    # The noise floor: the same alternation with boto3 on both sides.
    noise = control(boto3_round, rounds=sizes.start_rounds, operations=calls)

    # One more recorded round of each side, to show they send and receive the same.
    transport.record = True
    reko_jobs = rekoface_round()
    reko_sent = [params for _, params in transport.sent]
    transport.sent = []
    boto_jobs = boto3_round()
    boto_sent = [params for _, params in transport.sent]
    transport.record = False

    ratio = rounds.ratio
    return FigureResult(
        number="1",
        title="`client.start(FaceSearchRequest(...))` vs `start_face_search(**params, "
        "ClientRequestToken=str(uuid4()))`",
        rekoface=f"{microseconds(median(rounds.rekoface))}/call",
        baseline=f"{microseconds(median(rounds.baseline))}/call",
        result=ratio.ratio_text(),
        target=f"≤ {TARGET:.2f}",
        passed=ratio.median <= TARGET,
        control=noise.ratio_text(),
        details=(
            f"{plural(sizes.start_rounds, 'alternating round')} of {plural(calls, 'start')} per "
            "side (CPU time); each start is validated, serialised, signed and parsed by botocore.",
        ),
        checks={
            "rekoface_jobs": reko_jobs,
            "boto3_jobs": boto_jobs,
            "rekoface_sent": reko_sent,
            "boto3_sent": boto_sent,
            "control_ratio": noise,
        },
    )
