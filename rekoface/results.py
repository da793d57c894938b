"""Typed, lazily paginated face-search results.

``GetFaceSearch`` answers with one page of person matches at a time. The models here
mirror the API's shapes with snake_case names and are built for speed: botocore's
own parsing of a page costs tens of microseconds per person, so a `PersonMatch` is
built from the raw dict in a few hundred nanoseconds and parses its nested parts
(``person``, ``face_matches``, ``person.face``) on first access. To users they are
plain frozen attrs fields: equality, hashing, ``repr``, `attrs.asdict`, `attrs.evolve`,
copying and pickling all see the parsed values.

Parsing is lenient about what the service may leave out: unknown keys are ignored,
missing optional values are `None`, absent lists are empty tuples. The keys that make
a record what it is are required (the service always sends them, and the types say
so): ``Timestamp`` of a person match, and ``Similarity``, ``Face`` and ``Face.FaceId``
of a face match; a dict without them raises `KeyError` when that part is parsed.
Data the service produced is never validated.

This module imports only `rekoface.errors` and `rekoface.models` of the package.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

import attrs

from .errors import (
    FieldError,
    JobFailedError,
    JobNotCompleteError,
    RequestValidationError,
)
from .models import S3Video

__all__ = [
    "AgeRange",
    "Appearance",
    "BoundingBox",
    "Emotion",
    "EyeDirection",
    "Face",
    "FaceAttribute",
    "FaceDetail",
    "FaceMatch",
    "FaceSearchPage",
    "FaceSearchResults",
    "Gender",
    "ImageQuality",
    "JobState",
    "JobStatus",
    "Landmark",
    "PersonDetail",
    "PersonMatch",
    "Pose",
    "VideoMetadata",
    "check_results_ready",
    "parse_job_status",
    "parse_person_match",
    "parse_video_metadata",
]

_log = logging.getLogger("rekoface")

_new = object.__new__
_setattr = object.__setattr__
_getattribute = object.__getattribute__


# --------------------------------------------------------------------------- job state


class JobState(str, enum.Enum):
    """The state of a face-search job, as ``GetFaceSearch`` reports it.

    Formats as its value on every supported Python (``f"{state}" == "SUCCEEDED"``):
    Python 3.11 changed what a mixed-in ``str`` enum's ``format()`` returns.
    """

    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)


_STATES: Final[Mapping[str, JobState]] = {state.value: state for state in JobState}


@attrs.frozen
class VideoMetadata:
    """What the service read from the video: codec, length, frame rate and size."""

    codec: str | None = None
    duration_millis: int | None = None
    format: str | None = None
    frame_rate: float | None = None
    frame_height: int | None = None
    frame_width: int | None = None
    color_range: str | None = None


@attrs.frozen
class JobStatus:
    """One ``GetFaceSearch`` answer about the job itself (not its matches)."""

    job_id: str
    state: JobState
    status_message: str | None = None
    video_metadata: VideoMetadata | None = None
    job_tag: str | None = None
    video: S3Video | None = None


def parse_video_metadata(raw: Mapping[str, Any] | None) -> VideoMetadata | None:
    """A `VideoMetadata` from the API's ``VideoMetadata`` dict (`None` if absent or empty)."""
    if not raw:
        return None
    get = raw.get
    return VideoMetadata(
        get("Codec"),
        get("DurationMillis"),
        get("Format"),
        get("FrameRate"),
        get("FrameHeight"),
        get("FrameWidth"),
        get("ColorRange"),
    )


def _parse_video(raw: Mapping[str, Any] | None) -> S3Video | None:
    s3_object = raw.get("S3Object") if raw else None
    if not s3_object or "Bucket" not in s3_object or "Name" not in s3_object:
        return None
    # What the service echoes back is taken as it is: `S3Video()` would validate it
    # against the request rules, and a response must never fail to parse over that.
    video = _new(S3Video)
    _setattr(video, "bucket", s3_object["Bucket"])
    _setattr(video, "name", s3_object["Name"])
    _setattr(video, "version", s3_object.get("Version"))
    return video


def parse_job_status(response: Mapping[str, Any], job_id: str) -> JobStatus:
    """The job's status from a ``GetFaceSearch`` response dict.

    The response's ``JobId`` wins over `job_id` when present. An empty
    ``StatusMessage`` (moto sends ``""``) is `None`. A missing or unknown ``JobStatus``
    (the service sends only the three known ones) is logged as a warning and read as
    `JobState.IN_PROGRESS`: never mistaken for success or failure, so results refuse
    to read and pollers keep waiting until their timeout.
    """
    raw_state = response.get("JobStatus")
    state = _STATES.get(raw_state) if isinstance(raw_state, str) else None
    if state is None:
        _log.warning(
            "GetFaceSearch returned JobStatus %r for job %s; treating it as IN_PROGRESS",
            raw_state,
            response.get("JobId") or job_id,
        )
        state = JobState.IN_PROGRESS
    return JobStatus(
        response.get("JobId") or job_id,
        state,
        response.get("StatusMessage") or None,
        parse_video_metadata(response.get("VideoMetadata")),
        response.get("JobTag") or None,
        _parse_video(response.get("Video")),
    )


def check_results_ready(status: JobStatus) -> None:
    """Raise unless the job has `SUCCEEDED`: results of any other job would be empty or partial.

    `JobNotCompleteError` for `IN_PROGRESS`, `JobFailedError` (with the service's
    status message) for `FAILED`.
    """
    if status.state is JobState.SUCCEEDED:
        return
    if status.state is JobState.FAILED:
        raise JobFailedError(status.job_id, status.status_message)
    raise JobNotCompleteError(status.job_id, str(status.state))


# --------------------------------------------------------------------------- small models


@attrs.frozen
class BoundingBox:
    """A box as ratios of the frame's width and height (``left``/``top`` may be negative)."""

    width: float | None = None
    height: float | None = None
    left: float | None = None
    top: float | None = None


@attrs.frozen
class AgeRange:
    """The estimated age range, in years."""

    low: int | None = None
    high: int | None = None


@attrs.frozen
class FaceAttribute:
    """A yes/no facial attribute (smile, eyeglasses, beard, ...) and the confidence in it."""

    value: bool | None = None
    confidence: float | None = None


@attrs.frozen
class Gender:
    """The predicted gender (``Male`` or ``Female``) and the confidence in it."""

    value: str | None = None
    confidence: float | None = None


@attrs.frozen
class Emotion:
    """An emotion (``HAPPY``, ``CALM``, ...) and the confidence in it."""

    type: str | None = None
    confidence: float | None = None


@attrs.frozen
class Landmark:
    """A facial landmark (``eyeLeft``, ``nose``, ...) as ratios of the frame's size."""

    type: str | None = None
    x: float | None = None
    y: float | None = None


@attrs.frozen
class Pose:
    """The face's rotation, in degrees."""

    roll: float | None = None
    yaw: float | None = None
    pitch: float | None = None


@attrs.frozen
class ImageQuality:
    """Brightness and sharpness of the face's image (0-100)."""

    brightness: float | None = None
    sharpness: float | None = None


@attrs.frozen
class EyeDirection:
    """Where the eyes look, in degrees, and the confidence in it."""

    yaw: float | None = None
    pitch: float | None = None
    confidence: float | None = None


@attrs.frozen
class FaceDetail:
    """A face the service detected in the video, with every attribute the API documents."""

    bounding_box: BoundingBox | None = None
    age_range: AgeRange | None = None
    smile: FaceAttribute | None = None
    eyeglasses: FaceAttribute | None = None
    sunglasses: FaceAttribute | None = None
    gender: Gender | None = None
    beard: FaceAttribute | None = None
    mustache: FaceAttribute | None = None
    eyes_open: FaceAttribute | None = None
    mouth_open: FaceAttribute | None = None
    emotions: tuple[Emotion, ...] = ()
    landmarks: tuple[Landmark, ...] = ()
    pose: Pose | None = None
    quality: ImageQuality | None = None
    confidence: float | None = None
    face_occluded: FaceAttribute | None = None
    eye_direction: EyeDirection | None = None


@attrs.frozen
class Face:
    """A face stored in the collection, which a person in the video matched."""

    face_id: str
    bounding_box: BoundingBox | None = None
    image_id: str | None = None
    external_image_id: str | None = None
    confidence: float | None = None
    index_faces_model_version: str | None = None
    user_id: str | None = None


@attrs.frozen
class FaceMatch:
    """A collection face and how similar (percent) the person's face is to it."""

    similarity: float
    face: Face


# --------------------------------------------------------------------------- lazy models


class _Lazy:
    """Base of models that keep their raw dict and parse some fields on first access.

    The lazy fields are real attrs slots left unset; reading an unset slot falls back
    to ``__getattr__``, which parses every lazy field of the object at once, stores
    them, and drops the raw dict. Later reads are plain slot reads.
    """

    __slots__ = ("_raw",)

    _lazy_fields: ClassVar[frozenset[str]] = frozenset()

    def _materialize(self, raw: Mapping[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    if not TYPE_CHECKING:  # pragma: no branch - hidden from type checkers (typos stay errors)

        def __getattr__(self, name: str) -> Any:
            if name in self._lazy_fields:
                raw = self._raw
                if raw is not None:
                    self._materialize(raw)
                    _SET_RAW(self, None)
                # Another thread may have parsed it meanwhile: read the slot, never recurse.
                return _getattribute(self, name)
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


@attrs.frozen
class PersonDetail(_Lazy):
    """A person tracked in the video: their index (stable across the video), box and face."""

    index: int | None = None
    bounding_box: BoundingBox | None = None
    face: FaceDetail | None = None

    _lazy_fields: ClassVar[frozenset[str]] = frozenset({"face"})

    def _materialize(self, raw: Mapping[str, Any]) -> None:
        _PERSON_FACE(self, _parse_face_detail(raw.get("Face")))


@attrs.frozen
class PersonMatch(_Lazy):
    """A person seen at `timestamp` (milliseconds from the start) and the faces they match.

    `face_matches` may be empty: the person was tracked but matched no collection face
    (unless `FaceSearchResults` was given a ``min_similarity``, which skips those).
    """

    timestamp: int
    person: PersonDetail
    face_matches: tuple[FaceMatch, ...] = ()

    _lazy_fields: ClassVar[frozenset[str]] = frozenset({"person", "face_matches"})

    def _materialize(self, raw: Mapping[str, Any]) -> None:
        _SET_PERSON(self, _parse_person_detail(raw.get("Person")))
        _SET_FACE_MATCHES(self, _parse_face_matches(raw.get("FaceMatches")))


def _setters(cls: type, *names: str) -> tuple[Callable[[object, object], None], ...]:
    """The slot descriptors' setters of a slotted class: the cheapest way to fill an instance.

    For the models on the hot path of iteration; attrs' ``__init__`` of a frozen class
    goes through ``object.__setattr__`` for every field, which costs about half again.
    """
    return tuple(vars(cls)[name].__set__ for name in names)


_BOX_WIDTH, _BOX_HEIGHT, _BOX_LEFT, _BOX_TOP = _setters(
    BoundingBox, "width", "height", "left", "top"
)
_FACE_ID, _FACE_BOX, _FACE_IMAGE, _FACE_EXTERNAL, _FACE_CONFIDENCE, _FACE_MODEL, _FACE_USER = (
    _setters(
        Face,
        "face_id",
        "bounding_box",
        "image_id",
        "external_image_id",
        "confidence",
        "index_faces_model_version",
        "user_id",
    )
)
_MATCH_SIMILARITY, _MATCH_FACE = _setters(FaceMatch, "similarity", "face")
_PERSON_INDEX, _PERSON_BOX, _PERSON_FACE = _setters(PersonDetail, "index", "bounding_box", "face")
_SET_TIMESTAMP, _SET_PERSON, _SET_FACE_MATCHES = _setters(
    PersonMatch, "timestamp", "person", "face_matches"
)
(_SET_RAW,) = _setters(_Lazy, "_raw")


def parse_person_match(raw: Mapping[str, Any]) -> PersonMatch:
    """A `PersonMatch` from one element of the response's ``Persons`` list.

    Only ``Timestamp`` is read now; ``Person`` and ``FaceMatches`` are parsed on first
    access of `PersonMatch.person` or `PersonMatch.face_matches`.
    """
    match = _new(PersonMatch)
    _SET_TIMESTAMP(match, raw["Timestamp"])
    _SET_RAW(match, raw)
    return match


def _parse_person_detail(raw: Mapping[str, Any] | None) -> PersonDetail:
    detail = _new(PersonDetail)
    if not raw:
        _PERSON_INDEX(detail, None)
        _PERSON_BOX(detail, None)
        _PERSON_FACE(detail, None)
        _SET_RAW(detail, None)
        return detail
    _PERSON_INDEX(detail, raw.get("Index"))
    _PERSON_BOX(detail, _parse_bounding_box(raw.get("BoundingBox")))
    _SET_RAW(detail, raw)
    return detail


def _parse_bounding_box(raw: Mapping[str, Any] | None) -> BoundingBox | None:
    if raw is None:
        return None
    get = raw.get
    box = _new(BoundingBox)
    _BOX_WIDTH(box, get("Width"))
    _BOX_HEIGHT(box, get("Height"))
    _BOX_LEFT(box, get("Left"))
    _BOX_TOP(box, get("Top"))
    return box


def _parse_face_matches(raw: Iterable[Mapping[str, Any]] | None) -> tuple[FaceMatch, ...]:
    if not raw:
        return ()
    return tuple([_parse_face_match(item) for item in raw])


def _parse_face_match(raw: Mapping[str, Any]) -> FaceMatch:
    data = raw["Face"]
    get = data.get
    face = _new(Face)
    _FACE_ID(face, data["FaceId"])
    _FACE_BOX(face, _parse_bounding_box(get("BoundingBox")))
    _FACE_IMAGE(face, get("ImageId"))
    _FACE_EXTERNAL(face, get("ExternalImageId"))
    _FACE_CONFIDENCE(face, get("Confidence"))
    _FACE_MODEL(face, get("IndexFacesModelVersion"))
    _FACE_USER(face, get("UserId"))
    match = _new(FaceMatch)
    _MATCH_SIMILARITY(match, raw["Similarity"])
    _MATCH_FACE(match, face)
    return match


def _attribute(raw: Mapping[str, Any] | None) -> FaceAttribute | None:
    return None if raw is None else FaceAttribute(raw.get("Value"), raw.get("Confidence"))


def _parse_face_detail(raw: Mapping[str, Any] | None) -> FaceDetail | None:
    if raw is None:
        return None
    get = raw.get
    age, gender, pose = get("AgeRange"), get("Gender"), get("Pose")
    quality, eyes = get("Quality"), get("EyeDirection")
    return FaceDetail(
        bounding_box=_parse_bounding_box(get("BoundingBox")),
        age_range=None if age is None else AgeRange(age.get("Low"), age.get("High")),
        smile=_attribute(get("Smile")),
        eyeglasses=_attribute(get("Eyeglasses")),
        sunglasses=_attribute(get("Sunglasses")),
        gender=None if gender is None else Gender(gender.get("Value"), gender.get("Confidence")),
        beard=_attribute(get("Beard")),
        mustache=_attribute(get("Mustache")),
        eyes_open=_attribute(get("EyesOpen")),
        mouth_open=_attribute(get("MouthOpen")),
        emotions=tuple(
            [Emotion(e.get("Type"), e.get("Confidence")) for e in get("Emotions") or ()]
        ),
        landmarks=tuple(
            [Landmark(m.get("Type"), m.get("X"), m.get("Y")) for m in get("Landmarks") or ()]
        ),
        pose=None if pose is None else Pose(pose.get("Roll"), pose.get("Yaw"), pose.get("Pitch")),
        quality=(
            None
            if quality is None
            else ImageQuality(quality.get("Brightness"), quality.get("Sharpness"))
        ),
        confidence=get("Confidence"),
        face_occluded=_attribute(get("FaceOccluded")),
        eye_direction=(
            None
            if eyes is None
            else EyeDirection(eyes.get("Yaw"), eyes.get("Pitch"), eyes.get("Confidence"))
        ),
    )


# --------------------------------------------------------------------------- pages


@attrs.frozen
class FaceSearchPage:
    """One ``GetFaceSearch`` page: its matches, and the token that resumes after it.

    `next_token` is `None` on the last page. Pass it to ``client.results(job,
    next_token=...)`` to carry on later (pagination tokens live 24 hours).
    """

    matches: tuple[PersonMatch, ...]
    next_token: str | None
    video_metadata: VideoMetadata | None = None
    job_status: JobStatus | None = None


@attrs.frozen
class Appearance:
    """One interval in which a collection face was seen in the video.

    `first_timestamp` and `last_timestamp` are the first and last matches (milliseconds)
    of the interval, `best_similarity` the highest similarity among them, and
    `matches` how many face matches (person match x collection face) it merged.
    """

    face_id: str
    external_image_id: str | None
    first_timestamp: int
    last_timestamp: int
    best_similarity: float
    matches: int


def _invalid(path: str, problem: str, rule: str) -> RequestValidationError:
    return RequestValidationError([FieldError(path, problem, rule)])


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class FaceSearchResults:
    """The matches of a finished face search, fetched page by page as they are consumed.

    `fetch_page(token)` makes one ``GetFaceSearch`` call (page size, sort order, retries
    and error mapping are the caller's) and returns the response dict. Every iteration
    starts again from the first page (or from `next_token`, to resume), follows
    ``NextToken`` until it is absent or empty, and holds one page at a time. Every page
    is checked: a job still ``IN_PROGRESS`` raises `JobNotCompleteError`, a ``FAILED``
    one `JobFailedError`, never an empty result.

    With `min_similarity`, each match keeps only the face matches whose similarity is
    at least that percentage, and persons left with none are skipped, in iteration,
    `pages()` and `appearances()` alike.
    """

    __slots__ = (
        "_fetch_page",
        "_job_id",
        "_metadata_known",
        "_min_similarity",
        "_next_token",
        "_video_metadata",
    )

    def __init__(
        self,
        job_id: str,
        fetch_page: Callable[[str | None], Mapping[str, Any]],
        *,
        next_token: str | None = None,
        min_similarity: float | None = None,
    ) -> None:
        if min_similarity is not None and not (
            _is_number(min_similarity) and math.isfinite(min_similarity)
        ):
            raise _invalid(
                "min_similarity", f"{min_similarity!r} is not a finite number", "0-100 or None"
            )
        self._job_id = job_id
        self._fetch_page = fetch_page
        self._next_token = next_token or None
        self._min_similarity = min_similarity
        self._video_metadata: VideoMetadata | None = None
        self._metadata_known = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(job_id={self._job_id!r})"

    @property
    def job_id(self) -> str:
        """The job whose results these are."""
        return self._job_id

    @property
    def video_metadata(self) -> VideoMetadata | None:
        """The video's metadata, from the first page fetched (fetched now if none was yet)."""
        if not self._metadata_known:
            self._fetch(self._next_token)
        return self._video_metadata

    def _fetch(self, token: str | None) -> tuple[Mapping[str, Any], JobStatus]:
        response = self._fetch_page(token)
        status = parse_job_status(response, self._job_id)
        check_results_ready(status)
        if not self._metadata_known:
            self._video_metadata = status.video_metadata
            self._metadata_known = True
        return response, status

    def _matches(self, persons: Iterable[Mapping[str, Any]]) -> Iterator[PersonMatch]:
        threshold = self._min_similarity
        if threshold is None:
            return map(parse_person_match, persons)
        return _filtered(persons, threshold)

    def __iter__(self) -> Iterator[PersonMatch]:
        token = self._next_token
        while True:
            response, _ = self._fetch(token)
            token = response.get("NextToken") or None
            persons = response.get("Persons") or ()
            del response
            if _log.isEnabledFor(logging.DEBUG):
                _log.debug("GetFaceSearch page for job %s: persons=%d", self._job_id, len(persons))
            yield from self._matches(persons)
            # Drop this page before fetching the next, so only one is ever alive.
            del persons
            if token is None:
                return

    def pages(self) -> Iterator[FaceSearchPage]:
        """Each page with the token that resumes after it (`None` on the last page).

        To keep a single page in memory, let go of a page before asking for the next.
        """
        token = self._next_token
        while True:
            response, status = self._fetch(token)
            token = response.get("NextToken") or None
            page = FaceSearchPage(
                tuple(self._matches(response.get("Persons") or ())),
                token,
                status.video_metadata,
                status,
            )
            del response
            yield page
            del page
            if token is None:
                return

    def appearances(self, *, max_gap_ms: int = 1000) -> list[Appearance]:
        """Who was seen when: the matches folded into intervals per collection face.

        Matches of one face at most `max_gap_ms` apart belong to one interval. Streams
        the pages and keeps one open interval per face; the answer does not depend on
        the sort order (``TIMESTAMP`` or ``INDEX``). Sorted by first timestamp, then face id.
        """
        if not _is_number(max_gap_ms) or not math.isfinite(max_gap_ms) or max_gap_ms < 0:
            raise _invalid("max_gap_ms", f"{max_gap_ms!r} is not a number >= 0", ">= 0")
        return _fold_appearances(self, max_gap_ms)

    def _raw_pages(self) -> Iterator[tuple[list[Mapping[str, Any]], str | None]]:
        """Each page's ``Persons`` items as the service sent them, and the token after it.

        For writers that must pass the service's items on unchanged (the CLI's JSON
        formats): no model is built and no key is added or dropped. Pages are checked as
        in `pages()`. With `min_similarity`, persons left with no face match are skipped,
        and a person that keeps only some is a shallow copy of its dict with just those
        ``FaceMatches``.
        """
        token = self._next_token
        threshold = self._min_similarity
        while True:
            response, _ = self._fetch(token)
            token = response.get("NextToken") or None
            persons: list[Mapping[str, Any]] = list(response.get("Persons") or ())
            del response
            if threshold is not None:
                kept_persons: list[Mapping[str, Any]] = []
                for raw in persons:
                    face_matches = raw.get("FaceMatches") or ()
                    kept = [fm for fm in face_matches if fm["Similarity"] >= threshold]
                    if len(kept) == len(face_matches):
                        if kept:
                            kept_persons.append(raw)
                    elif kept:
                        kept_persons.append({**raw, "FaceMatches": kept})
                persons = kept_persons
            yield persons, token
            del persons
            if token is None:
                return


def _filtered(persons: Iterable[Mapping[str, Any]], threshold: float) -> Iterator[PersonMatch]:
    for raw in persons:
        face_matches = raw.get("FaceMatches") or ()
        kept = [fm for fm in face_matches if fm["Similarity"] >= threshold]
        if len(kept) == len(face_matches):
            if kept:
                yield parse_person_match(raw)
        elif kept:
            # A shallow copy with the kept face matches: parsing stays lazy.
            yield parse_person_match({**raw, "FaceMatches": kept})


# An interval being built: [first, last, best similarity, count, external image id].
_Interval = list[Any]


def _fold_appearances(matches: Iterable[PersonMatch], max_gap: float) -> list[Appearance]:
    # Each face has one open interval; a match within `max_gap` of its range joins it,
    # any other closes it and opens a new one. In TIMESTAMP order that is already the
    # answer; in any other order (INDEX: person by person) closed intervals of one
    # face may overlap or touch, and the final sort-and-merge joins them.
    open_: dict[str, _Interval] = {}
    closed: dict[str, list[_Interval]] = {}
    for match in matches:
        ts = match.timestamp
        for face_match in match.face_matches:
            face = face_match.face
            face_id = face.face_id
            similarity = face_match.similarity
            current = open_.get(face_id)
            if current is not None and current[0] - max_gap <= ts <= current[1] + max_gap:
                if ts < current[0]:
                    current[0] = ts
                elif ts > current[1]:
                    current[1] = ts
                current[2] = max(current[2], similarity)
                current[3] += 1
                if current[4] is None:
                    current[4] = face.external_image_id
                continue
            if current is not None:
                closed.setdefault(face_id, []).append(current)
            open_[face_id] = [ts, ts, similarity, 1, face.external_image_id]
    for face_id, current in open_.items():
        closed.setdefault(face_id, []).append(current)

    result: list[Appearance] = []
    for face_id, intervals in closed.items():
        intervals.sort(key=lambda interval: interval[0])
        merged = intervals[0]
        for interval in intervals[1:]:
            if interval[0] - merged[1] <= max_gap:
                merged[1] = max(merged[1], interval[1])
                merged[2] = max(merged[2], interval[2])
                merged[3] += interval[3]
                if merged[4] is None:
                    merged[4] = interval[4]
            else:
                result.append(Appearance(face_id, merged[4], *merged[:4]))
                merged = interval
        result.append(Appearance(face_id, merged[4], *merged[:4]))
    result.sort(key=lambda a: (a.first_timestamp, a.face_id))
    return result
