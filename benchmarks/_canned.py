"""The network, replaced: canned Rekognition HTTP answers from a ``before-send`` hook.

Requests still go through all of botocore (validation, serialisation, signing) and
answers through its response parsing; only the socket is skipped. The same hook, on
the same client, answers both sides of a figure, so they pay for it alike.

Result pages are generated deterministically (a seeded `random.Random` per page), in
the shape ``GetFaceSearch`` returns: each person carries the ``FaceDetail`` face search
reports, and one to three face matches with the collection face's full record.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config

from ._common import REGION

if TYPE_CHECKING:
    from mypy_boto3_rekognition import RekognitionClient

JOB_ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
_HEADERS = {"Content-Type": "application/x-amz-json-1.1"}
_LANDMARKS = ("eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight")
#: Extra ``FaceDetail`` landmarks reported with ``FaceAttributes=ALL``.
_MORE_LANDMARKS = (
    "leftEyeBrowLeft",
    "leftEyeBrowRight",
    "leftEyeBrowUp",
    "rightEyeBrowLeft",
    "rightEyeBrowRight",
    "rightEyeBrowUp",
    "leftEyeLeft",
    "leftEyeRight",
    "leftEyeUp",
    "leftEyeDown",
    "rightEyeLeft",
    "rightEyeRight",
    "rightEyeUp",
    "rightEyeDown",
    "noseLeft",
    "noseRight",
    "mouthUp",
    "mouthDown",
    "leftPupil",
    "rightPupil",
    "upperJawlineLeft",
    "midJawlineLeft",
    "chinBottom",
    "midJawlineRight",
    "upperJawlineRight",
)
_EMOTIONS = ("HAPPY", "SAD", "ANGRY", "CONFUSED", "DISGUSTED", "SURPRISED", "CALM", "FEAR")
_ATTRIBUTES = ("Smile", "Eyeglasses", "Sunglasses", "Beard", "Mustache", "EyesOpen", "MouthOpen")


class _RawBody:
    """What botocore reads an `AWSResponse`'s body from."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def job_id_for_token(token: str) -> str:
    """The JobId the fake service gives a start with `token` (as the service does, per token)."""
    return hashlib.sha256(token.encode()).hexdigest()


def page_token(index: int) -> str:
    """The ``NextToken`` that asks for page `index` (a realistic length, opaque-looking)."""
    filler = hashlib.sha512(f"page-{index}".encode()).hexdigest()
    return f"{index:06d}.{filler[:150]}"


def _page_index(token: str | None) -> int:
    return 0 if not token else int(token[:6])


class CannedRekognition:
    """Answers ``StartFaceSearch`` and ``GetFaceSearch`` like the service, from memory.

    `page(index)` gives the body of result page `index` (0-based, of `pages`). With
    `record`, every request's operation and parameters are kept in `sent`.
    """

    def __init__(
        self,
        page: Callable[[int], bytes] | None = None,
        *,
        record: bool = False,
    ) -> None:
        self._page = page
        self.record = record
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.requests = 0

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        self.requests += 1
        target = request.headers["X-Amz-Target"]
        operation = (target.decode() if isinstance(target, bytes) else target).rpartition(".")[2]
        body = request.body
        params: dict[str, Any] = json.loads(body if isinstance(body, bytes | str) else b"{}")
        if self.record:
            self.sent.append((operation, params))
        if operation == "StartFaceSearch":
            data = b'{"JobId":"%s"}' % job_id_for_token(params["ClientRequestToken"]).encode()
        elif operation == "GetFaceSearch" and self._page is not None:
            data = self._page(_page_index(params.get("NextToken")))
        else:  # pragma: no cover - the harness asks nothing else
            raise AssertionError(f"unexpected operation {operation}")
        headers = {**_HEADERS, "x-amzn-RequestId": f"bench-{self.requests}"}
        return AWSResponse(request.url, 200, headers, _RawBody(data))  # type: ignore[arg-type]


def rekognition_client(transport: CannedRekognition) -> RekognitionClient:
    """A real boto3 Rekognition client, retries off, answered by `transport`."""
    session = boto3.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - fake: no request leaves the process
        region_name=REGION,
    )
    config = Config(retries={"mode": "standard", "total_max_attempts": 1})
    client = session.client("rekognition", config=config)
    client.meta.events.register(
        "before-send.rekognition",
        transport,  # type: ignore[arg-type]  # the stubs say hooks return None; before-send may not
    )
    return client


# --------------------------------------------------------------------------- result pages


def _box(rng: random.Random) -> dict[str, float]:
    return {
        "Width": rng.uniform(0.05, 0.3),
        "Height": rng.uniform(0.05, 0.4),
        "Left": rng.uniform(-0.05, 0.9),
        "Top": rng.uniform(-0.05, 0.9),
    }


def _face_detail(rng: random.Random, *, all_attributes: bool) -> dict[str, Any]:
    landmarks = _LANDMARKS + _MORE_LANDMARKS if all_attributes else _LANDMARKS
    face: dict[str, Any] = {
        "BoundingBox": _box(rng),
        "Confidence": rng.uniform(90.0, 100.0),
        "Landmarks": [{"Type": t, "X": rng.random(), "Y": rng.random()} for t in landmarks],
        "Pose": {
            "Roll": rng.uniform(-30, 30),
            "Yaw": rng.uniform(-60, 60),
            "Pitch": rng.uniform(-30, 30),
        },
        "Quality": {"Brightness": rng.uniform(20, 90), "Sharpness": rng.uniform(20, 99)},
    }
    if all_attributes:
        low = rng.randint(18, 60)
        face["AgeRange"] = {"Low": low, "High": low + rng.randint(3, 12)}
        for name in _ATTRIBUTES:
            face[name] = {"Value": rng.random() < 0.5, "Confidence": rng.uniform(50, 100)}
        face["Gender"] = {
            "Value": rng.choice(("Male", "Female")),
            "Confidence": rng.uniform(50, 100),
        }
        face["Emotions"] = [{"Type": e, "Confidence": rng.uniform(0, 100)} for e in _EMOTIONS]
        face["FaceOccluded"] = {"Value": False, "Confidence": rng.uniform(50, 100)}
        face["EyeDirection"] = {
            "Yaw": rng.uniform(-20, 20),
            "Pitch": rng.uniform(-20, 20),
            "Confidence": rng.uniform(50, 100),
        }
    return face


def _uuid(seed: str) -> str:
    """A UUID-shaped id derived from `seed` (the service's face and image ids look like this)."""
    return str(uuid.UUID(hashlib.md5(seed.encode(), usedforsecurity=False).hexdigest()))


def _face_match(rng: random.Random, employee: int | None = None) -> dict[str, Any]:
    if employee is None:
        employee = rng.randrange(500)
    return {
        "Similarity": rng.uniform(80.0, 100.0),
        "Face": {
            "FaceId": _uuid(f"face-{employee}"),
            "BoundingBox": _box(rng),
            "ImageId": _uuid(f"image-{employee}"),
            "ExternalImageId": f"employee-{employee:04d}.jpg",
            "Confidence": rng.uniform(99.0, 100.0),
            "IndexFacesModelVersion": "7.0",
        },
    }


def _person(
    rng: random.Random, number: int, *, all_attributes: bool, distinct_faces: bool
) -> dict[str, Any]:
    if distinct_faces:  # one match, of a face no other person matches; no FaceDetail
        return {
            "Timestamp": (number // 3) * 200,
            "Person": {"Index": number, "BoundingBox": _box(rng)},
            "FaceMatches": [_face_match(rng, number)],
        }
    return {
        "Timestamp": (number // 3) * 200,
        "Person": {
            "Index": rng.randrange(60),
            "BoundingBox": _box(rng),
            "Face": _face_detail(rng, all_attributes=all_attributes),
        },
        "FaceMatches": [_face_match(rng) for _ in range(rng.randint(1, 3))],
    }


def page_body(
    index: int,
    *,
    pages: int,
    page_size: int,
    all_attributes: bool = False,
    distinct_faces: bool = False,
) -> bytes:
    """The JSON body of result page `index` of `pages`, `page_size` persons each.

    Deterministic: the same arguments give the same bytes. Timestamps rise through
    the pages (a few persons per 200 ms frame step); the last page has no NextToken.
    With `distinct_faces`, every person matches one collection face that no other
    person matches, and carries no ``FaceDetail`` (the worst case for grouping).
    """
    rng = random.Random(f"rekoface-bench:{index}:{page_size}:{all_attributes}:{distinct_faces}")
    first = index * page_size
    persons = [
        _person(rng, first + i, all_attributes=all_attributes, distinct_faces=distinct_faces)
        for i in range(page_size)
    ]
    body: dict[str, Any] = {
        "JobId": JOB_ID,
        "JobStatus": "SUCCEEDED",
        "VideoMetadata": {
            "Codec": "h264",
            "DurationMillis": (pages * page_size // 3) * 200,
            "Format": "QuickTime / MOV",
            "FrameRate": 29.97,
            "FrameHeight": 1080,
            "FrameWidth": 1920,
            "ColorRange": "LIMITED",
        },
        "Persons": persons,
    }
    if index + 1 < pages:
        body["NextToken"] = page_token(index + 1)
    return json.dumps(body, separators=(",", ":")).encode()
