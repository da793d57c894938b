"""Result models, job status, and lazily paginated results (rekoface.results)."""

from __future__ import annotations

import copy
import itertools
import json
import logging
import pickle
import weakref
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st

import rekoface
from rekoface.appearances import GROUPINGS, fold_appearances, fold_raw_appearances
from rekoface.errors import JobFailedError, JobNotCompleteError, RequestValidationError
from rekoface.models import S3Video
from rekoface.results import (
    AgeRange,
    Appearance,
    BoundingBox,
    Emotion,
    EyeDirection,
    Face,
    FaceAttribute,
    FaceDetail,
    FaceMatch,
    FaceSearchPage,
    FaceSearchResults,
    Gender,
    ImageQuality,
    JobState,
    JobStatus,
    Landmark,
    PersonDetail,
    PersonMatch,
    Pose,
    VideoMetadata,
    check_results_ready,
    parse_job_status,
    parse_person_match,
    parse_video_metadata,
)

EVENTS = Path(__file__).parent / "events"
JOB_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
DAVE = "f2489050-020e-4c14-8693-63339847a59d"
DAVE_2 = "f0d22a6a-3436-4d23-ae5b-c5cb2e795581"
ANA = "651314bb-28d4-405d-9b13-c32e9ff28299"
VIDEO_METADATA = VideoMetadata(
    codec="h264",
    duration_millis=15020,
    format="QuickTime / MOV",
    frame_rate=24.0,
    frame_height=720,
    frame_width=1280,
    color_range="LIMITED",
)


def event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / f"get_face_search_{name}.json").read_text())
    return data


def three_pages() -> dict[str | None, dict[str, Any]]:
    """The fixture pages keyed by the token that fetches them."""
    return {
        None: event("page1"),
        "AB12page2token/+=": event("page2"),
        "CD34page3token": event("page3"),
    }


class Pages:
    """A `fetch_page` over canned pages that records the tokens it was asked for."""

    def __init__(self, pages: Mapping[str | None, Mapping[str, Any]]) -> None:
        self.pages = pages
        self.tokens: list[str | None] = []

    def __call__(self, token: str | None) -> Mapping[str, Any]:
        self.tokens.append(token)
        return copy.deepcopy(self.pages[token])


# --------------------------------------------------------------------------- JobState


@pytest.mark.parametrize("state", list(JobState))
def test_job_state_formats_as_its_value(state: JobState) -> None:
    assert f"{state}" == state.value
    assert str(state) == state.value
    assert format(state, ">12") == state.value.rjust(12)
    assert "%s" % state == state.value  # noqa: UP031 - the old-style path users still hit
    assert state == state.value
    assert JobState(state.value) is state


# --------------------------------------------------------------------------- job status


def test_parse_job_status_reads_every_field() -> None:
    status = parse_job_status(event("page1"), "ignored-when-the-response-has-one")

    assert status == JobStatus(
        job_id=JOB_ID,
        state=JobState.SUCCEEDED,
        status_message=None,
        video_metadata=VIDEO_METADATA,
        job_tag="lobby-cam-7",
        video=S3Video(
            "example-videos",
            "lobby/2024-05-01 cam?7.mp4",
            "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
        ),
    )


def test_parse_job_status_uses_the_given_job_id_when_the_response_has_none() -> None:
    status = parse_job_status(event("minimal"), "job-from-caller")

    assert status == JobStatus("job-from-caller", JobState.SUCCEEDED)


def test_parse_job_status_of_a_failed_job_keeps_the_message() -> None:
    status = parse_job_status(event("failed"), JOB_ID)

    assert status.state is JobState.FAILED
    assert status.status_message == "Unable to access the S3 object: access denied."


def test_moto_style_empty_strings_read_as_absent() -> None:
    status = parse_job_status(
        {"JobStatus": "SUCCEEDED", "StatusMessage": "", "NextToken": "", "VideoMetadata": {}},
        "job",
    )

    assert status.status_message is None
    assert status.video_metadata is None


def test_video_echoed_by_the_service_is_taken_as_is() -> None:
    # A bucket name our request rules would refuse must not make a response unreadable.
    response = {"JobStatus": "SUCCEEDED", "Video": {"S3Object": {"Bucket": "ab", "Name": "k"}}}

    video = parse_job_status(response, "job").video

    assert video is not None
    assert (video.bucket, video.name, video.version) == ("ab", "k", None)
    assert video.uri == "s3://ab/k"


@pytest.mark.parametrize(
    "video",
    [None, {}, {"S3Object": {}}, {"S3Object": {"Bucket": "b"}}, {"S3Object": {"Name": "k"}}],
)
def test_incomplete_video_is_none(video: Any) -> None:
    assert parse_job_status({"JobStatus": "SUCCEEDED", "Video": video}, "job").video is None


@pytest.mark.parametrize("raw_state", ["PAUSED", None, 7])
def test_unknown_or_missing_state_reads_as_in_progress_and_warns(
    raw_state: object, caplog: pytest.LogCaptureFixture
) -> None:
    response = {} if raw_state is None else {"JobStatus": raw_state}

    with caplog.at_level(logging.WARNING, logger="rekoface"):
        status = parse_job_status(response, "job-1")

    assert status.state is JobState.IN_PROGRESS
    assert [r.name for r in caplog.records] == ["rekoface"]
    assert "job-1" in caplog.text
    assert "IN_PROGRESS" in caplog.text


def test_check_results_ready_passes_a_succeeded_job() -> None:
    check_results_ready(JobStatus("job", JobState.SUCCEEDED))


def test_check_results_ready_refuses_a_running_job() -> None:
    with pytest.raises(JobNotCompleteError) as info:
        check_results_ready(JobStatus("job-7", JobState.IN_PROGRESS))

    assert info.value.job_id == "job-7"
    assert info.value.state == "IN_PROGRESS"


def test_check_results_ready_refuses_a_failed_job_with_its_message() -> None:
    with pytest.raises(JobFailedError) as info:
        check_results_ready(JobStatus("job-8", JobState.FAILED, "bad video"))

    assert (info.value.job_id, info.value.status_message) == ("job-8", "bad video")


def test_parse_video_metadata() -> None:
    assert parse_video_metadata(event("page1")["VideoMetadata"]) == VIDEO_METADATA
    assert parse_video_metadata(None) is None
    assert parse_video_metadata({"Codec": "vp9"}) == VideoMetadata(codec="vp9")


# --------------------------------------------------------------------------- person matches

FULL_FACE_DETAIL = FaceDetail(
    bounding_box=BoundingBox(
        0.42217350006103516, 0.9352386593818665, 0.31870967149734497, -0.0049947104416787624
    ),
    age_range=AgeRange(25, 35),
    smile=FaceAttribute(True, 97.5),
    eyeglasses=FaceAttribute(False, 99.1),
    sunglasses=FaceAttribute(False, 99.8),
    gender=Gender("Male", 99.6),
    beard=FaceAttribute(True, 88.2),
    mustache=FaceAttribute(False, 91.0),
    eyes_open=FaceAttribute(True, 98.7),
    mouth_open=FaceAttribute(False, 95.3),
    emotions=(Emotion("HAPPY", 90.5), Emotion("CALM", 7.25)),
    landmarks=(
        Landmark("eyeLeft", 0.4800040125846863, 0.23425640165805817),
        Landmark("eyeRight", 0.63795405626297, 0.19219470024108887),
        Landmark("mouthLeft", 0.5283276438713074, 0.6190487146377563),
        Landmark("mouthRight", 0.660395085811615, 0.5830448269844055),
        Landmark("nose", 0.619724690914154, 0.3800361752510071),
    ),
    pose=Pose(-5.063229084014893, 18.038856506347656, 12.567241668701172),
    quality=ImageQuality(83.42264556884766, 67.22731018066406),
    confidence=99.99860382080078,
    face_occluded=FaceAttribute(False, 99.4),
    eye_direction=EyeDirection(2.5, -1.25, 96.0),
)
MATCH_BOX = BoundingBox(
    0.7136539816856384, 0.9471719861030579, 0.19036999344825745, -0.012074699625372887
)


def collection_face(face_id: str, external_image_id: str, user_id: str | None = None) -> Face:
    return Face(
        face_id=face_id,
        bounding_box=MATCH_BOX,
        image_id="f3b180d3-f5ad-39c1-b825-ba30b170a90d",
        external_image_id=external_image_id,
        confidence=99.99970245361328,
        index_faces_model_version="7.0",
        user_id=user_id,
    )


def expected_first_match() -> PersonMatch:
    return PersonMatch(
        timestamp=0,
        person=PersonDetail(
            index=0, bounding_box=BoundingBox(0.3, 0.9, 0.3, 0.01), face=FULL_FACE_DETAIL
        ),
        face_matches=(
            FaceMatch(99.99994659423828, collection_face(DAVE, "Dave_Bloggs")),
            FaceMatch(84.5, collection_face(DAVE_2, "Dave_Bloggs", user_id="dave-bloggs")),
        ),
    )


def first_raw() -> dict[str, Any]:
    raw: dict[str, Any] = event("page1")["Persons"][0]
    return raw


def test_parse_person_match_reads_every_documented_field() -> None:
    assert parse_person_match(first_raw()) == expected_first_match()


def test_person_match_reads_like_the_api() -> None:
    match = parse_person_match(first_raw())

    assert match.timestamp == 0
    assert match.person.index == 0
    assert match.person.face is not None
    assert match.person.face.gender == Gender("Male", 99.6)
    assert [fm.face.face_id for fm in match.face_matches] == [DAVE, DAVE_2]
    assert match.face_matches[0].face.external_image_id == "Dave_Bloggs"
    assert match.face_matches[1].face.user_id == "dave-bloggs"


def test_parsing_is_lenient_about_missing_and_unknown_keys() -> None:
    bare, one_match = (parse_person_match(raw) for raw in event("minimal")["Persons"])

    assert bare == PersonMatch(1234, PersonDetail(), ())
    assert bare.person.face is None
    assert one_match == PersonMatch(
        1434, PersonDetail(face=FaceDetail()), (FaceMatch(80.0, Face(ANA)),)
    )
    assert one_match.person.face == FaceDetail()
    assert one_match.person.face.emotions == ()
    assert one_match.person.face.landmarks == ()


def test_a_person_without_face_detail_has_face_none() -> None:
    match = parse_person_match(event("page3")["Persons"][0])

    assert match.person == PersonDetail(index=2, bounding_box=BoundingBox(0.2, 0.4, 0.1, 0.1))
    assert match.person.face is None


def test_empty_face_matches_is_an_empty_tuple() -> None:
    match = parse_person_match(event("page1")["Persons"][1])

    assert match.face_matches == ()


def test_a_person_match_without_timestamp_is_not_a_person_match() -> None:
    with pytest.raises(KeyError, match="Timestamp"):
        parse_person_match({"Person": {}})


def test_a_face_match_without_similarity_fails_when_read() -> None:
    match = parse_person_match({"Timestamp": 1, "FaceMatches": [{"Face": {"FaceId": ANA}}]})

    with pytest.raises(KeyError, match="Similarity"):
        _ = match.face_matches


class CountingMapping(Mapping[str, Any]):
    """A read-only dict that records which keys were read."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = dict(data)
        self.read: list[str] = []

    def __getitem__(self, key: str) -> Any:
        self.read.append(key)
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def test_parse_person_match_reads_only_the_timestamp_until_asked_for_more() -> None:
    raw = CountingMapping(first_raw())

    match = parse_person_match(raw)
    assert raw.read == ["Timestamp"]

    assert len(match.face_matches) == 2
    assert set(raw.read) == {"Timestamp", "Person", "FaceMatches"}


@pytest.mark.parametrize("missing", ["Confidence", "BoundingBox", "Pose", "Width", "Roll"])
def test_a_face_detail_missing_any_key_keeps_every_other_value(missing: str) -> None:
    raw = first_raw()
    face = raw["Person"]["Face"]
    for part in (face, face["BoundingBox"], face["Pose"]):
        part.pop(missing, None)
    parsed = parse_person_match(raw).person.face
    assert parsed is not None

    expected_box, expected_pose = FULL_FACE_DETAIL.bounding_box, FULL_FACE_DETAIL.pose
    assert expected_box is not None
    assert expected_pose is not None
    if missing == "Width":
        expected_box = attrs.evolve(expected_box, width=None)
    if missing == "Roll":
        expected_pose = attrs.evolve(expected_pose, roll=None)
    assert parsed == attrs.evolve(
        FULL_FACE_DETAIL,
        confidence=None if missing == "Confidence" else FULL_FACE_DETAIL.confidence,
        bounding_box=None if missing == "BoundingBox" else expected_box,
        pose=None if missing == "Pose" else expected_pose,
    )


def test_lazy_models_compare_hash_and_repr_like_plain_ones() -> None:
    lazy, eager = parse_person_match(first_raw()), expected_first_match()

    assert hash(lazy) == hash(eager)
    assert parse_person_match(first_raw()) == eager
    assert repr(parse_person_match(first_raw())) == repr(eager)
    assert parse_person_match(first_raw()) != attrs.evolve(eager, timestamp=1)
    assert {parse_person_match(first_raw()), eager} == {eager}


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_lazy_models_pickle_as_their_values(protocol: int) -> None:
    restored = pickle.loads(pickle.dumps(parse_person_match(first_raw()), protocol=protocol))

    assert restored == expected_first_match()
    assert restored.person.face == FULL_FACE_DETAIL


def test_lazy_models_copy_convert_and_evolve() -> None:
    eager = expected_first_match()

    assert copy.copy(parse_person_match(first_raw())) == eager
    assert copy.deepcopy(parse_person_match(first_raw())) == eager
    assert attrs.asdict(parse_person_match(first_raw())) == attrs.asdict(eager)
    moved = attrs.evolve(parse_person_match(first_raw()), timestamp=99)
    assert (moved.timestamp, moved.face_matches) == (99, eager.face_matches)


@pytest.mark.parametrize("name", ["timestamp", "person", "face_matches"])
def test_lazy_models_are_frozen_before_and_after_parsing(name: str) -> None:
    match = parse_person_match(first_raw())

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(match, name, None)
    assert getattr(match, name) == getattr(expected_first_match(), name)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(match, name, None)


#: Every attrs class `rekoface` exports: what a parsed model may be.
PUBLIC_MODELS = frozenset(
    value
    for value in (getattr(rekoface, name) for name in rekoface.__all__)
    if isinstance(value, type) and attrs.has(value)
)


def _models_in(value: Any) -> Iterator[Any]:
    """`value` and every attrs instance it holds, reading every field (so parsing them)."""
    if isinstance(value, tuple):
        for item in value:
            yield from _models_in(item)
    elif attrs.has(type(value)):
        yield value
        for field in attrs.fields(type(value)):
            yield from _models_in(getattr(value, field.name))


def test_every_parsed_model_is_its_frozen_public_class() -> None:
    # Parsers fill private builders and turn them into the public classes: no builder may
    # leak, whether iterated (parsed now), parsed on first access, or grouped.
    pages = three_pages()
    results = FaceSearchResults(JOB_ID, pages.__getitem__)
    matches = [*results, *map(parse_person_match, event("real_shapes")["Persons"])]
    found = [model for match in matches for model in _models_in(match)]
    found += results.appearances()
    assert {type(model) for model in found} >= {PersonMatch, FaceMatch, Face, FaceDetail, Pose}
    for model in found:
        assert type(model) in PUBLIC_MODELS, type(model)
        name = attrs.fields(type(model))[0].name
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(model, name, None)
        assert model == attrs.evolve(model)


def test_a_lazy_model_has_no_other_attributes() -> None:
    match = parse_person_match(first_raw())

    with pytest.raises(AttributeError, match="'PersonMatch' object has no attribute 'similarity'"):
        _ = match.similarity  # type: ignore[attr-defined]
    assert not hasattr(match, "__dict__")
    assert not hasattr(match.person, "similarity")


def test_models_have_api_names_in_snake_case() -> None:
    assert [f.name for f in attrs.fields(FaceDetail)] == [
        "bounding_box",
        "age_range",
        "smile",
        "eyeglasses",
        "sunglasses",
        "gender",
        "beard",
        "mustache",
        "eyes_open",
        "mouth_open",
        "emotions",
        "landmarks",
        "pose",
        "quality",
        "confidence",
        "face_occluded",
        "eye_direction",
    ]
    assert [f.name for f in attrs.fields(JobStatus)] == [
        "job_id",
        "state",
        "status_message",
        "video_metadata",
        "job_tag",
        "video",
    ]


# --------------------------------------------------------------------------- FaceSearchResults


def test_iteration_yields_every_match_across_pages() -> None:
    fetch = Pages(three_pages())
    results = FaceSearchResults(JOB_ID, fetch)

    matches = list(results)

    assert [m.timestamp for m in matches] == [0, 200, 400, 3000, 3400, 3600]
    assert matches[0] == expected_first_match()
    assert fetch.tokens == [None, "AB12page2token/+=", "CD34page3token"]


def test_nothing_is_fetched_until_iteration_and_the_first_match_needs_one_page() -> None:
    fetch = Pages(three_pages())
    results = FaceSearchResults(JOB_ID, fetch)
    assert fetch.tokens == []

    first = next(iter(results))

    assert first.timestamp == 0
    assert fetch.tokens == [None]


def test_each_iteration_starts_again_from_the_first_page() -> None:
    fetch = Pages(three_pages())
    results = FaceSearchResults(JOB_ID, fetch)

    assert len(list(results)) == 6
    assert len(list(results)) == 6
    assert fetch.tokens == [None, "AB12page2token/+=", "CD34page3token"] * 2


def test_resumes_from_a_next_token() -> None:
    fetch = Pages(three_pages())

    matches = list(FaceSearchResults(JOB_ID, fetch, next_token="CD34page3token"))

    assert [m.timestamp for m in matches] == [3600]
    assert fetch.tokens == ["CD34page3token"]


def test_an_empty_start_token_means_the_first_page() -> None:
    fetch = Pages(three_pages())

    next(iter(FaceSearchResults(JOB_ID, fetch, next_token="")))

    assert fetch.tokens == [None]


def test_an_empty_next_token_ends_the_results() -> None:
    # moto answers NextToken "" on the last page: a `"NextToken" in response` loop never ends.
    page = {**event("page3"), "NextToken": ""}
    fetch = Pages({None: page})

    assert [m.timestamp for m in FaceSearchResults(JOB_ID, fetch)] == [3600]
    assert [p.next_token for p in FaceSearchResults(JOB_ID, fetch).pages()] == [None]
    assert fetch.tokens == [None, None]


def test_a_page_without_persons_is_empty() -> None:
    fetch = Pages({None: {"JobStatus": "SUCCEEDED"}})

    assert list(FaceSearchResults(JOB_ID, fetch)) == []


class WeakDict(dict[str, Any]):
    """A dict that can be weakly referenced, to see when a page is gone."""


class WeakList(list[Any]):
    """A list that can be weakly referenced."""


def test_iteration_holds_one_page_at_a_time() -> None:
    pages = three_pages()
    alive: list[weakref.ref[Any]] = []

    def fetch(token: str | None) -> Mapping[str, Any]:
        assert all(ref() is None for ref in alive), "the previous page is still referenced"
        page = WeakDict(copy.deepcopy(pages[token]))
        page["Persons"] = WeakList(page["Persons"])
        alive.extend([weakref.ref(page), weakref.ref(page["Persons"])])
        return page

    timestamps = [match.timestamp for match in FaceSearchResults(JOB_ID, fetch)]

    assert timestamps == [0, 200, 400, 3000, 3400, 3600]
    assert len(alive) == 6


@pytest.mark.parametrize("min_similarity", [None, 95.0])
def test_appearances_hold_one_page_at_a_time(min_similarity: float | None) -> None:
    pages = three_pages()
    alive: list[weakref.ref[Any]] = []

    def fetch(token: str | None) -> Mapping[str, Any]:
        assert all(ref() is None for ref in alive), "the previous page is still referenced"
        page = WeakDict(copy.deepcopy(pages[token]))
        page["Persons"] = WeakList(WeakDict(person) for person in page["Persons"])
        alive.extend([weakref.ref(page), *map(weakref.ref, page["Persons"])])
        return page

    found = FaceSearchResults(JOB_ID, fetch, min_similarity=min_similarity).appearances()

    assert found
    assert len(alive) == 3 + 6  # three pages, six persons: each checked gone before the next


def test_each_page_is_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="rekoface"):
        list(FaceSearchResults(JOB_ID, Pages(three_pages())))

    assert [r.getMessage() for r in caplog.records] == [
        f"GetFaceSearch page for job {JOB_ID}: persons=3",
        f"GetFaceSearch page for job {JOB_ID}: persons=2",
        f"GetFaceSearch page for job {JOB_ID}: persons=1",
    ]


def test_pages_carry_the_token_that_resumes_after_them() -> None:
    fetch = Pages(three_pages())

    pages = list(FaceSearchResults(JOB_ID, fetch).pages())

    assert [p.next_token for p in pages] == ["AB12page2token/+=", "CD34page3token", None]
    assert [[m.timestamp for m in p.matches] for p in pages] == [
        [0, 200, 400],
        [3000, 3400],
        [3600],
    ]
    assert all(p.video_metadata == VIDEO_METADATA for p in pages)
    assert all(p.job_status is not None and p.job_status.job_tag == "lobby-cam-7" for p in pages)
    assert isinstance(pages[0], FaceSearchPage)
    resumed = FaceSearchResults(JOB_ID, Pages(three_pages()), next_token=pages[0].next_token)
    assert [m.timestamp for m in resumed] == [3000, 3400, 3600]


def test_pages_fetch_as_consumed() -> None:
    fetch = Pages(three_pages())

    first = next(FaceSearchResults(JOB_ID, fetch).pages())

    assert first.next_token == "AB12page2token/+="
    assert fetch.tokens == [None]


def test_a_running_job_raises_instead_of_yielding_nothing() -> None:
    results = FaceSearchResults(JOB_ID, Pages({None: event("in_progress")}))

    with pytest.raises(JobNotCompleteError) as info:
        list(results)
    with pytest.raises(JobNotCompleteError):
        next(results.pages())
    with pytest.raises(JobNotCompleteError):
        _ = results.video_metadata
    assert info.value.job_id == JOB_ID


def test_a_failed_job_raises_with_its_message() -> None:
    results = FaceSearchResults(JOB_ID, Pages({None: event("failed")}))

    with pytest.raises(JobFailedError, match="access denied") as info:
        list(results)
    assert info.value.status_message == "Unable to access the S3 object: access denied."


def test_every_page_is_checked() -> None:
    pages = three_pages()
    pages["AB12page2token/+="] = {**event("in_progress"), "NextToken": "CD34page3token"}
    timestamps: list[int] = []

    def consume() -> None:
        for match in FaceSearchResults(JOB_ID, Pages(pages)):
            timestamps.append(match.timestamp)

    with pytest.raises(JobNotCompleteError):
        consume()
    assert timestamps == [0, 200, 400]


def test_video_metadata_is_fetched_once_and_cached() -> None:
    fetch = Pages(three_pages())
    results = FaceSearchResults(JOB_ID, fetch)

    assert results.video_metadata == VIDEO_METADATA
    assert results.video_metadata == VIDEO_METADATA
    assert fetch.tokens == [None]


def test_video_metadata_comes_from_the_first_page_fetched() -> None:
    pages = three_pages()
    pages["CD34page3token"]["VideoMetadata"] = {"Codec": "other"}
    fetch = Pages(pages)
    results = FaceSearchResults(JOB_ID, fetch)

    list(results)

    assert results.video_metadata == VIDEO_METADATA
    assert len(fetch.tokens) == 3


def test_video_metadata_may_be_absent() -> None:
    fetch = Pages({None: {"JobStatus": "SUCCEEDED", "Persons": []}})
    results = FaceSearchResults(JOB_ID, fetch)

    assert results.video_metadata is None
    assert results.video_metadata is None
    assert fetch.tokens == [None]


def test_job_id_and_repr() -> None:
    results = FaceSearchResults("job-9", Pages({}))

    assert results.job_id == "job-9"
    assert repr(results) == "FaceSearchResults(job_id='job-9')"


def test_min_similarity_keeps_close_matches_and_skips_persons_left_without() -> None:
    results = FaceSearchResults(JOB_ID, Pages(three_pages()), min_similarity=90)

    kept = [(m.timestamp, [fm.similarity for fm in m.face_matches]) for m in results]

    assert kept == [
        (0, [99.99994659423828]),
        (400, [99.8]),
        (3000, [91.25]),
        (3400, [97.0]),
        (3600, [93.5]),
    ]


def test_min_similarity_keeps_the_rest_of_the_match_and_applies_to_pages() -> None:
    results = FaceSearchResults(JOB_ID, Pages(three_pages()), min_similarity=99.9)

    (page, *_) = results.pages()

    assert page.matches == (
        attrs.evolve(expected_first_match(), face_matches=expected_first_match().face_matches[:1]),
    )


def test_min_similarity_is_inclusive() -> None:
    results = FaceSearchResults(JOB_ID, Pages(three_pages()), min_similarity=91.25)

    assert [m.timestamp for m in results] == [0, 400, 3000, 3400, 3600]


@pytest.mark.parametrize(
    "bad",
    [
        True,
        float("nan"),
        float("inf"),
        "90",
        pytest.param(10**400, id="10**400"),
        pytest.param(-(10**400), id="-10**400"),
    ],
)
def test_min_similarity_must_be_a_finite_number(bad: Any) -> None:
    with pytest.raises(RequestValidationError) as info:
        FaceSearchResults(JOB_ID, Pages({}), min_similarity=bad)

    assert info.value.paths == ("min_similarity",)


# --------------------------------------------------------------------------- appearances


def test_appearances_fold_matches_into_intervals_per_face() -> None:
    results = FaceSearchResults(JOB_ID, Pages(three_pages()))

    assert results.appearances(max_gap_ms=1000, group_by="face") == [
        Appearance(DAVE_2, "Dave_Bloggs", 0, 0, 84.5, 1),  # same start: by face id
        Appearance(DAVE, "Dave_Bloggs", 0, 400, 99.99994659423828, 2),
        Appearance(ANA, "Ana_Silva", 3000, 3600, 93.5, 3),
        Appearance(DAVE, "Dave_Bloggs", 3400, 3400, 97.0, 1),
    ]


def test_appearances_with_a_larger_gap_merge_more() -> None:
    results = FaceSearchResults(JOB_ID, Pages(three_pages()))

    assert results.appearances(max_gap_ms=3000, group_by="face")[1] == Appearance(
        DAVE, "Dave_Bloggs", 0, 3400, 99.99994659423828, 3
    )
    # The gap is inclusive: 400 -> 3400 is exactly 3000 ms.
    assert len(results.appearances(max_gap_ms=2999, group_by="face")) == 4


def test_appearances_respect_min_similarity() -> None:
    results = FaceSearchResults(JOB_ID, Pages(three_pages()), min_similarity=95)

    assert [(a.face_id, a.matches) for a in results.appearances()] == [(DAVE, 2), (DAVE, 1)]


@pytest.mark.parametrize(
    "bad", [-1, float("nan"), True, "1000", pytest.param(10**400, id="10**400")]
)
def test_max_gap_must_be_a_number_at_least_zero(bad: Any) -> None:
    with pytest.raises(RequestValidationError) as info:
        FaceSearchResults(JOB_ID, Pages({})).appearances(max_gap_ms=bad)

    assert info.value.paths == ("max_gap_ms",)


FACE_IDS = [DAVE, DAVE_2, ANA]
#: The external image ids a face's matches may carry (or none): several per face, so
#: that which interval's id an appearance keeps is visible.
EXTERNAL_IDS = {DAVE: ("Dave_Bloggs", "Dave_B"), DAVE_2: ("Dave_2",), ANA: ("Ana_Silva", "Ana")}


@st.composite
def visits(draw: st.DrawFn, max_gap: int) -> list[tuple[int, int, float, str | None]]:
    """Sightings (timestamp, face, similarity, external id) in runs, each run a visit.

    A visit is a few sightings of one face at most `max_gap` apart. Later visits are
    often placed inside an earlier one's span (nested), and the runs are emitted visit
    by visit, so a face's open interval is closed by a far visit before a nested one
    arrives: the final merge then has to join an interval that ends before the one
    it joins.
    """
    runs: list[list[tuple[int, int, float, str | None]]] = []
    for _ in range(draw(st.integers(1, 8))):
        face = draw(st.integers(0, len(FACE_IDS) - 1))
        spans = [
            (run[0][0], run[-1][0]) for run in runs if run[0][1] == face and run[-1][0] > run[0][0]
        ]
        nested = draw(st.booleans())
        if spans and nested:  # inside an earlier visit of this face
            low, high = draw(st.sampled_from(spans))
            start = draw(st.integers(low, high))
        else:
            start = draw(st.integers(0, 20_000))
        step = draw(st.integers(0, max_gap))
        run = []
        for i in range(draw(st.integers(1, 5))):
            external = draw(st.sampled_from((None, *EXTERNAL_IDS[FACE_IDS[face]])))
            run.append((start + i * step, face, draw(st.floats(0, 100)), external))
        runs.append(run)
    return [sighting for run in runs for sighting in run]


def paged(persons: list[dict[str, Any]], size: int) -> Callable[[str | None], Mapping[str, Any]]:
    chunks = [persons[i : i + size] for i in range(0, len(persons), size)] or [[]]

    def fetch(token: str | None) -> Mapping[str, Any]:
        index = int(token or 0)
        page: dict[str, Any] = {"JobStatus": "SUCCEEDED", "Persons": chunks[index]}
        if index + 1 < len(chunks):
            page["NextToken"] = str(index + 1)
        return page

    return fetch


def as_person(timestamp: int, face: int, similarity: float, external: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"FaceId": FACE_IDS[face]}
    if external is not None:
        data["ExternalImageId"] = external
    return {"Timestamp": timestamp, "FaceMatches": [{"Similarity": similarity, "Face": data}]}


@settings(max_examples=300, deadline=None)
@given(
    max_gap=st.integers(0, 3000),
    page_size=st.integers(1, 7),
    order=st.sampled_from(["TIMESTAMP", "INDEX", "VISITS", "ANY"]),
    data=st.data(),
)
def test_appearances_cover_every_match_without_overlap(
    max_gap: int,
    page_size: int,
    order: str,
    data: st.DataObject,
) -> None:
    sightings = data.draw(visits(max_gap))
    if order == "TIMESTAMP":
        sightings = sorted(sightings, key=lambda s: s[0])
    elif order == "INDEX":  # one "person" per face, each in time order
        sightings = sorted(sightings, key=lambda s: (s[1], s[0]))
    elif order == "ANY":
        sightings = data.draw(st.permutations(sightings))
    persons = [as_person(*s) for s in sightings]
    results = FaceSearchResults(JOB_ID, paged(persons, page_size))

    found = results.appearances(max_gap_ms=max_gap, group_by="face")

    assert found == sorted(found, key=lambda a: (a.first_timestamp, a.face_id))
    for face, face_id in enumerate(FACE_IDS):
        mine = sorted((a for a in found if a.face_id == face_id), key=lambda a: a.first_timestamp)
        seen = sorted(
            ((ts, sim, ext) for ts, f, sim, ext in sightings if f == face), key=lambda s: s[:2]
        )
        # Intervals of one face never overlap and are further apart than the gap.
        for earlier, later in itertools.pairwise(mine):
            assert later.first_timestamp - earlier.last_timestamp > max_gap
        # Every match is in exactly one interval, and each interval is exactly its matches.
        assert sum(a.matches for a in mine) == len(seen)
        for appearance in mine:
            inside = [
                (ts, sim, ext)
                for ts, sim, ext in seen
                if appearance.first_timestamp <= ts <= appearance.last_timestamp
            ]
            assert len(inside) == appearance.matches
            assert inside[0][0] == appearance.first_timestamp
            assert inside[-1][0] == appearance.last_timestamp
            assert all(b[0] - a[0] <= max_gap for a, b in itertools.pairwise(inside))
            assert appearance.best_similarity == max(sim for _, sim, _ in inside)
            # An id one of its matches carried; none only if none of them carried one.
            ids = {ext for _, _, ext in inside if ext is not None}
            if ids:
                assert appearance.external_image_id in ids
            else:
                assert appearance.external_image_id is None


def sighting(timestamp: int, face_id: str, external: str | None = None) -> dict[str, Any]:
    face: dict[str, Any] = {"FaceId": face_id}
    if external is not None:
        face["ExternalImageId"] = external
    return {"Timestamp": timestamp, "FaceMatches": [{"Similarity": 90.0, "Face": face}]}


def test_appearances_merge_keeps_the_end_of_the_longer_interval() -> None:
    persons = [
        *(sighting(ts, ANA) for ts in (0, 800, 1600, 2400)),  # one visit, 0-2400
        sighting(10_000, ANA),  # far away: closes 0-2400
        sighting(1000, ANA),  # inside 0-2400, seen after it closed: joins in the merge
    ]

    found = FaceSearchResults(JOB_ID, paged(persons, 2)).appearances(max_gap_ms=1000)

    assert [(a.first_timestamp, a.last_timestamp, a.matches) for a in found] == [
        (0, 2400, 5),
        (10_000, 10_000, 1),
    ]


def test_appearances_merge_fills_the_external_id_from_a_later_interval() -> None:
    persons = [
        sighting(5000, DAVE, "Dave_Bloggs"),
        sighting(20_000, DAVE),  # far away: closes 5000
        sighting(4000, DAVE),  # within the gap of 5000, seen after it closed: a merge
    ]

    found = FaceSearchResults(JOB_ID, paged(persons, 1)).appearances(
        max_gap_ms=1000, group_by="face"
    )

    assert found == [
        Appearance(DAVE, "Dave_Bloggs", 4000, 5000, 90.0, 2),
        Appearance(DAVE, None, 20_000, 20_000, 90.0, 1),
    ]


def test_appearances_of_no_matches_are_empty() -> None:
    assert FaceSearchResults(JOB_ID, paged([], 3)).appearances() == []


def test_appearances_take_the_first_external_image_id_seen() -> None:
    persons = [
        {"Timestamp": 0, "FaceMatches": [{"Similarity": 90.0, "Face": {"FaceId": ANA}}]},
        {"Timestamp": 10, "FaceMatches": [{"Similarity": 91.0, "Face": {"FaceId": ANA}}]},
        {
            "Timestamp": 20,
            "FaceMatches": [
                {"Similarity": 92.0, "Face": {"FaceId": ANA, "ExternalImageId": "Ana_Silva"}}
            ],
        },
        # Out of order and apart: joins only in the final merge, which fills the id too.
        {"Timestamp": 5000, "FaceMatches": [{"Similarity": 80.0, "Face": {"FaceId": DAVE}}]},
        {
            "Timestamp": 2000,
            "FaceMatches": [{"Similarity": 80.0, "Face": {"FaceId": DAVE, "ExternalImageId": "D"}}],
        },
        {"Timestamp": 4000, "FaceMatches": [{"Similarity": 85.0, "Face": {"FaceId": DAVE}}]},
    ]

    found = FaceSearchResults(JOB_ID, paged(persons, 2)).appearances(
        max_gap_ms=1000, group_by="face"
    )

    assert found == [
        Appearance(ANA, "Ana_Silva", 0, 20, 92.0, 3),
        Appearance(DAVE, "D", 2000, 2000, 80.0, 1),
        Appearance(DAVE, None, 4000, 5000, 85.0, 2),
    ]


# --------------------------------------------------------------------------- real boto3 clients


def test_fixture_pages_are_what_get_face_search_returns() -> None:
    """Stubber validates each canned page against botocore's GetFaceSearch output shape."""
    client = boto3.client("rekognition", region_name="us-east-1")
    pages = three_pages()

    def fetch(token: str | None) -> Mapping[str, Any]:
        params: dict[str, Any] = {"JobId": JOB_ID, "MaxResults": 1000, "SortBy": "TIMESTAMP"}
        if token is not None:
            params["NextToken"] = token
        return client.get_face_search(**params)

    with Stubber(client) as stub:
        for token, page in pages.items():
            expected: dict[str, Any] = {"JobId": JOB_ID, "MaxResults": 1000, "SortBy": "TIMESTAMP"}
            if token is not None:
                expected["NextToken"] = token
            stub.add_response("get_face_search", page, expected)
        matches = list(FaceSearchResults(JOB_ID, fetch))
        stub.assert_no_pending_responses()

    assert matches[0] == expected_first_match()
    assert len(matches) == 6


def test_results_against_moto_end() -> None:
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("rekognition", region_name="us-east-1")
        job_id = client.start_face_search(
            Video={"S3Object": {"Bucket": "example-videos", "Name": "v.mp4"}},
            CollectionId="staff",
        )["JobId"]
        calls: list[str | None] = []

        def fetch(token: str | None) -> Mapping[str, Any]:
            calls.append(token)
            params: dict[str, Any] = {"JobId": job_id, "MaxResults": 1000}
            if token is not None:
                params["NextToken"] = token
            return client.get_face_search(**params)

        results = FaceSearchResults(job_id, fetch)
        matches = list(results)
        appearances = results.appearances(group_by="face")

    assert calls == [None, None]
    assert len(matches) == 1
    assert {fm.face.external_image_id for fm in matches[0].face_matches} == {"Dave_Bloggs"}
    assert matches[0].person.face is not None
    assert len(matches[0].person.face.landmarks) == 5
    assert results.video_metadata is not None
    assert results.video_metadata.frame_width == 1280
    assert [a.matches for a in appearances] == [1, 1, 1, 1]


# --- appearances per person -------------------------------------------------------------

#: Two photos of Dave indexed under one id, Ana under hers, and a face with no id at all.
PEOPLE = {DAVE: "Dave_Bloggs", DAVE_2: "Dave_Bloggs", ANA: "Ana_Silva", "face-x": None}


def seen(timestamp: int, face_id: str, similarity: float = 90.0, **face: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"FaceId": face_id, **face}
    if PEOPLE.get(face_id) is not None and "ExternalImageId" not in face:
        data["ExternalImageId"] = PEOPLE[face_id]
    return {"Timestamp": timestamp, "FaceMatches": [{"Similarity": similarity, "Face": data}]}


def test_a_persons_photos_merge_into_one_lane_by_default() -> None:
    persons = [seen(0, DAVE, 80.0), seen(400, DAVE_2, 95.0), seen(900, DAVE, 85.0)]
    [dave] = FaceSearchResults(JOB_ID, paged(persons, 2)).appearances()
    assert (dave.key, dave.external_image_id) == ("Dave_Bloggs", "Dave_Bloggs")
    assert (dave.first_timestamp, dave.last_timestamp, dave.matches) == (0, 900, 3)
    assert dave.best_similarity == 95.0
    assert dave.face_id == DAVE_2  # the face of the best match
    assert dave.face_ids == (DAVE, DAVE_2)  # in order of first match
    by_face = FaceSearchResults(JOB_ID, paged(persons, 2)).appearances(group_by="face")
    assert [(a.key, a.face_ids) for a in by_face] == [(DAVE, (DAVE,)), (DAVE_2, (DAVE_2,))]


def test_a_person_is_the_external_id_else_the_user_id_else_the_face_id() -> None:
    persons = [
        seen(0, "face-x", UserId="user-7"),
        seen(100, "face-y", UserId="user-7"),
        seen(5000, "face-x"),
        seen(9000, ANA),
    ]
    found = FaceSearchResults(JOB_ID, paged(persons, 10)).appearances()
    assert [(a.key, a.face_ids) for a in found] == [
        ("user-7", ("face-x", "face-y")),
        ("face-x", ("face-x",)),
        ("Ana_Silva", (ANA,)),
    ]


def test_six_field_appearances_still_construct() -> None:
    old = Appearance(DAVE, "Dave_Bloggs", 0, 10, 99.0, 2)
    assert (old.key, old.face_ids) == (DAVE, (DAVE,))


@pytest.mark.parametrize("bad", ["people", "", None, 1])
def test_group_by_is_person_or_face(bad: Any) -> None:
    with pytest.raises(RequestValidationError) as caught:
        FaceSearchResults(JOB_ID, Pages({})).appearances(group_by=bad)
    assert caught.value.paths == ("group_by",)


@settings(max_examples=200, deadline=None)
@given(
    sightings=st.lists(
        st.tuples(st.integers(0, 20_000), st.sampled_from(sorted(PEOPLE)), st.floats(0, 100)),
        max_size=30,
    ),
    max_gap=st.integers(0, 3000),
    order=st.sampled_from(["TIMESTAMP", "INDEX"]),
)
def test_grouping_by_person_is_grouping_by_face_with_one_face_per_person(
    sightings: list[tuple[int, str, float]], max_gap: int, order: str
) -> None:
    if order == "TIMESTAMP":
        sightings = sorted(sightings, key=lambda s: s[0])
    else:  # one person of the video at a time, each in time order
        sightings = sorted(sightings, key=lambda s: (s[1], s[0]))
    persons = [seen(ts, face, sim) for ts, face, sim in sightings]
    found = FaceSearchResults(JOB_ID, paged(persons, 7)).appearances(max_gap_ms=max_gap)

    def person(face: str) -> str:
        return PEOPLE[face] or face

    # The oracle: every face renamed to its person, then grouped by face.
    renamed = [seen(ts, person(face), sim) for ts, face, sim in sightings]
    oracle = FaceSearchResults(JOB_ID, paged(renamed, 7)).appearances(
        max_gap_ms=max_gap, group_by="face"
    )
    assert [
        (a.key, a.first_timestamp, a.last_timestamp, a.best_similarity, a.matches) for a in found
    ] == [
        (a.face_id, a.first_timestamp, a.last_timestamp, a.best_similarity, a.matches)
        for a in oracle
    ]
    for appearance in found:
        inside = [
            (ts, face, sim)
            for ts, face, sim in sorted(sightings)
            if person(face) == appearance.key
            and appearance.first_timestamp <= ts <= appearance.last_timestamp
        ]
        first_seen = list(dict.fromkeys(face for _, face, _ in inside))
        assert list(appearance.face_ids) == first_seen
        assert (appearance.face_id, appearance.best_similarity) in {(f, s) for _, f, s in inside}


#: Faces with what identifies their person: an ExternalImageId, only a UserId, or neither.
FOLD_FACES: dict[str, dict[str, str]] = {
    DAVE: {"ExternalImageId": "Dave_Bloggs"},
    DAVE_2: {"UserId": "dave"},
    ANA: {"ExternalImageId": "Ana_Silva", "UserId": "ana"},
    "face-x": {},
}


@settings(max_examples=200, deadline=None)
@given(
    persons=st.lists(
        st.tuples(
            st.integers(0, 20_000),
            st.lists(st.tuples(st.sampled_from(sorted(FOLD_FACES)), st.floats(0, 100)), max_size=3),
        ),
        max_size=25,
    ),
    max_gap=st.integers(0, 3000),
    group_by=st.sampled_from(["person", "face"]),
    min_similarity=st.one_of(st.none(), st.floats(0, 100)),
)
def test_appearances_from_the_page_dicts_equal_the_fold_of_typed_matches(
    persons: list[tuple[int, list[tuple[str, float]]]],
    max_gap: int,
    group_by: str,
    min_similarity: float | None,
) -> None:
    # `appearances()` folds the service's dicts; `fold_appearances` (the CLI's) folds typed
    # matches: one answer, whatever the grouping, the filter or the faces' ids.
    raw = [
        {
            "Timestamp": ts,
            "FaceMatches": [
                {"Similarity": sim, "Face": {"FaceId": face, **FOLD_FACES[face]}}
                for face, sim in matches
            ],
        }
        for ts, matches in persons
    ]
    results = FaceSearchResults(JOB_ID, paged(raw, 4), min_similarity=min_similarity)

    found = results.appearances(max_gap_ms=max_gap, group_by=group_by)

    typed = fold_appearances(list(results), max_gap, GROUPINGS[group_by])
    assert found == typed
    assert sum(a.matches for a in found) == sum(len(m.face_matches) for m in results)


def test_the_raw_fold_refuses_a_grouping_it_cannot_read_from_dicts() -> None:
    with pytest.raises(ValueError, match="by_person or by_face"):
        fold_raw_appearances([], 1000, lambda face_match: face_match.face.face_id)
