"""The fake's GetFaceSearch persons have the shapes the real service sends.

The fake is held to the service, not to the library: the reference is
events/get_face_search_real_shapes.json, whose shapes are those of AWS's published
`GetFaceSearch` example (developer guide, "Searching stored videos for faces": a match
has `FaceMatches`, strangers have no `FaceMatches` key) and of real captures (most
strangers, 54 of 77 in one, have no `Person.Face` either; `Person.Face` holds only the
default attributes). Its values are made up; only which keys are present matters.

events/get_face_search_page1..3.json are not the reference for strangers: they are
written to exercise lenient parsing (a stranger with `FaceMatches: []`, a face with every
attribute, a match without `Person.Face`). Their matches still agree with the fake's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from rekoface.testing import FakeRekognition

if TYPE_CHECKING:
    from mypy_boto3_rekognition.type_defs import VideoTypeDef

EVENTS = Path(__file__).parent / "events"
VIDEO: VideoTypeDef = {"S3Object": {"Bucket": "videos-bucket", "Name": "lobby.mp4"}}

Shape = tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]


def shape(person: Mapping[str, Any]) -> Shape:
    """Which keys a person has: its own, its `Person`'s, `Person.Face`'s, its matches'."""
    detail = person.get("Person", {})
    return (
        frozenset(person),
        frozenset(detail),
        frozenset(detail.get("Face", {})),
        frozenset(key for match in person.get("FaceMatches", []) for key in match),
    )


def shapes_by_kind(persons: Iterable[Mapping[str, Any]]) -> dict[str, set[Shape]]:
    kinds: dict[str, set[Shape]] = {"matched": set(), "stranger": set()}
    for person in persons:
        kinds["matched" if person.get("FaceMatches") else "stranger"].add(shape(person))
    return kinds


def persons_of(name: str) -> list[dict[str, Any]]:
    persons: list[dict[str, Any]] = json.loads((EVENTS / name).read_text())["Persons"]
    return persons


def served_persons(fake: FakeRekognition, job_id: str) -> list[dict[str, Any]]:
    client = fake.client()
    persons: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = client.get_face_search(JobId=job_id, **kwargs)
        persons.extend(page["Persons"])  # type: ignore[arg-type]
        if not page.get("NextToken"):
            return persons
        kwargs = {"NextToken": page["NextToken"]}


@pytest.fixture(autouse=True)
def _no_instance_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_generated_persons_have_the_real_services_shapes(seed: int) -> None:
    real = shapes_by_kind(persons_of("get_face_search_real_shapes.json"))
    assert {bool(face) for _, _, face, _ in real["stranger"]} == {True, False}  # both kinds
    fake = FakeRekognition(seed=seed, in_progress_polls=None)
    fake.add_collection("employees")
    job_id = fake.client().start_face_search(Video=VIDEO, CollectionId="employees")["JobId"]
    fake.finish(job_id, persons=400)
    served = shapes_by_kind(served_persons(fake, job_id))
    assert served == real


def test_generated_matches_agree_with_the_hand_written_pages() -> None:
    fake = FakeRekognition(in_progress_polls=0)
    fake.add_collection("employees")
    job_id = fake.client().start_face_search(Video=VIDEO, CollectionId="employees")["JobId"]
    served = shapes_by_kind(served_persons(fake, job_id))
    written = shapes_by_kind(
        person
        for page in ("page1", "page2", "page3")
        for person in persons_of(f"get_face_search_{page}.json")
    )
    assert served["matched"] <= written["matched"]


def test_given_persons_are_served_without_keys_they_left_out() -> None:
    fake = FakeRekognition(in_progress_polls=None)
    fake.add_collection("employees")
    job_id = fake.client().start_face_search(Video=VIDEO, CollectionId="employees")["JobId"]
    box = {"Width": 0.2, "Height": 0.5, "Left": 0.1, "Top": 0.1}
    fake.finish(
        job_id,
        persons=[
            {"Timestamp": 0, "Person": {"Index": 0, "BoundingBox": box}},
            {"Timestamp": 40},
        ],
    )
    served = served_persons(fake, job_id)
    assert served == [
        {"Timestamp": 0, "Person": {"Index": 0, "BoundingBox": box}},
        {"Timestamp": 40, "Person": {"Index": 1}},  # what the service always sends
    ]
