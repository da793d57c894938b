"""``rekoface demo``: the whole flow against `rekoface.testing.FakeRekognition`.

No AWS account, credentials, region or network: the fake answers a real boto3 client
in this process (requests are unsigned). Time is the fake's: the poller sleeps by
advancing the fake's clock, so a job that "takes" 15 seconds is done in milliseconds.
`rekoface.testing` is imported here only, when the demo runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from rekoface.client import FaceSearchClient
    from rekoface.models import FaceSearchRequest

__all__ = ["COLLECTION", "PHOTOS_BUCKET", "VIDEO", "Demo"]

COLLECTION: Final = "rekoface-demo"
VIDEO: Final = "s3://rekoface-demo/lobby.mp4"
#: Where the demo's photos of people "are" (the fake finds one face in each).
PHOTOS_BUCKET: Final = "rekoface-demo"
#: The faces indexed in the demo's collection (their ExternalImageIds).
PEOPLE: Final = ("alice", "bob", "carol", "dave", "erin")
#: Who the "video" shows: (person index in the video, collection face or None, from ms, to ms).
SCENES: Final[tuple[tuple[int, str | None, int, int], ...]] = (
    (0, "alice", 2_000, 9_500),
    (1, "bob", 4_000, 12_000),
    (5, None, 8_000, 11_000),  # someone who is not in the collection
    (2, "carol", 15_000, 21_500),
    (0, "alice", 25_000, 31_000),
    (4, "erin", 33_000, 40_000),
)
#: How long the fake job runs, in the fake's seconds.
JOB_SECONDS: Final = 15.0
#: Poll every 5 fake seconds (the CLI's real default starts at 5 s too).
POLL_SECONDS: Final = 5.0
_STEP_MS: Final = 500
_BASE_SIMILARITY: Final = {"alice": 97.2, "bob": 93.4, "carol": 98.1, "dave": 90.0, "erin": 91.7}


def _persons(faces: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    persons: list[dict[str, Any]] = []
    for index, name, first, last in SCENES:
        for ts in range(first, last + 1, _STEP_MS):
            drift = (ts // _STEP_MS + index) % 8
            box = {"Width": 0.12, "Height": 0.3, "Left": 0.1 * index + 0.01 * drift, "Top": 0.2}
            matches: list[dict[str, Any]] = []
            if name is not None:
                similarity = _BASE_SIMILARITY[name] + 0.25 * drift
                matches.append({"Similarity": similarity, "Face": faces[name]})
            persons.append(
                {
                    "Timestamp": ts,
                    "Person": {"Index": index, "BoundingBox": box},
                    "FaceMatches": matches,
                }
            )
    persons.sort(key=lambda p: (p["Timestamp"], p["Person"]["Index"]))
    return persons


class Demo:
    """A fake Rekognition, a collection of five people (after `enrol`) and a scripted video."""

    def __init__(self) -> None:
        from rekoface.client import FaceSearchClient
        from rekoface.models import FaceSearchRequest, S3Video
        from rekoface.testing import FakeRekognition

        self.fake = FakeRekognition(in_progress_polls=None, seed=7)
        self.client: FaceSearchClient = FaceSearchClient(self.fake.client("us-east-1"))
        self.request: FaceSearchRequest = FaceSearchRequest(S3Video.from_uri(VIDEO), COLLECTION)
        self._persons: list[dict[str, Any]] = []

    def enrol(self) -> int:
        """Build the collection as a user would: create it, index one photo per person
        under that person's ExternalImageId; return how many faces it holds."""
        from rekoface.collection import S3Image

        collection = self.client.collection(COLLECTION)
        collection.ensure()
        for name in PEOPLE:
            collection.index(S3Image(PHOTOS_BUCKET, f"people/{name}.jpg"), external_image_id=name)
        faces = {face["ExternalImageId"]: face for face in self.fake.collections[COLLECTION]}
        self._persons = _persons(faces)
        return int(collection.check().face_count or 0)

    def clock(self) -> float:
        """The fake's time, in seconds."""
        return self.fake.now()

    def sleep(self, seconds: float) -> None:
        """Advance the fake's time; jobs end `JOB_SECONDS` after they start."""
        self.fake.advance(seconds)
        now = self.fake.now()
        for job in self.fake.jobs.values():
            if job.state == "IN_PROGRESS" and now - job.created_at >= JOB_SECONDS:
                self.fake.finish(job.job_id, persons=self._persons)
