"""Typed, lazily paginated face-search results: `FaceSearchResults` and its pages.

The parts live in modules of their own, and every name is re-exported here (as it
always was): the job's state and status in `rekoface.status`, the result models in
`rekoface.matches` and `rekoface.face_details`, the grouping into intervals in
`rekoface.appearances`.

This module imports only those, `rekoface.errors`, `rekoface.models` and
`rekoface._validation` of the package.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from operator import itemgetter
from typing import Any

import attrs

from ._validation import is_finite_number, raise_if_any, shown
from .appearances import GROUPINGS, Appearance, fold_raw_appearances
from .errors import FieldError, RequestValidationError
from .face_details import (
    AgeRange,
    BoundingBox,
    Emotion,
    EyeDirection,
    FaceAttribute,
    FaceDetail,
    Gender,
    ImageQuality,
    Landmark,
    Pose,
)
from .matches import (
    Face,
    FaceMatch,
    PersonDetail,
    PersonMatch,
    parse_person_match,
    parse_person_match_now,
)
from .status import (
    JobState,
    JobStatus,
    VideoMetadata,
    check_results_ready,
    parse_job_status,
    parse_video_metadata,
)

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
#: A page's persons from `_raw_pages`; `map` keeps no reference to the page it passed on.
_first = itemgetter(0)


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


def _invalid(path: str, problem: str, rule: str) -> RequestValidationError:
    return RequestValidationError([FieldError(path, problem, rule)])


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
        if min_similarity is not None and not is_finite_number(min_similarity):
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
            return map(parse_person_match_now, persons)
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

    def appearances(self, *, max_gap_ms: int = 1000, group_by: str = "person") -> list[Appearance]:
        """Who was seen when: the matches folded into intervals per person.

        A person is a collection face's ``ExternalImageId`` (else its ``UserId``, else
        its ``FaceId``): the intervals of all that person's faces merge, since people
        index several photos of one person. ``group_by="face"`` keeps one set of
        intervals per indexed face. Matches of one group at most `max_gap_ms` apart
        belong to one interval. Streams the pages and keeps one open interval per
        group; the answer does not depend on the sort order (``TIMESTAMP`` or
        ``INDEX``). Sorted by first timestamp, then key.
        """
        errors: list[FieldError] = []
        if not is_finite_number(max_gap_ms) or max_gap_ms < 0:
            errors.append(
                FieldError("max_gap_ms", f"{shown(max_gap_ms)} is not a number >= 0", ">= 0")
            )
        key = GROUPINGS.get(group_by) if isinstance(group_by, str) else None
        if key is None:
            errors.append(
                FieldError("group_by", f"{shown(group_by)} is not allowed", "person, face")
            )
        raise_if_any(errors)
        assert key is not None
        # The page dicts, not typed matches: no model is built for a match only folded.
        return fold_raw_appearances(map(_first, self._raw_pages()), max_gap_ms, key)

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
                persons = _kept(persons, threshold)
            yield persons, token
            del persons
            if token is None:
                return


def _kept(persons: Iterable[Mapping[str, Any]], threshold: float) -> list[Mapping[str, Any]]:
    """The persons with a face match of at least `threshold`, each with only those."""
    kept_persons: list[Mapping[str, Any]] = []
    for raw in persons:
        face_matches = raw.get("FaceMatches") or ()
        kept = [fm for fm in face_matches if fm["Similarity"] >= threshold]
        if len(kept) == len(face_matches):
            if kept:
                kept_persons.append(raw)
        elif kept:
            kept_persons.append({**raw, "FaceMatches": kept})
    return kept_persons


def _filtered(persons: Iterable[Mapping[str, Any]], threshold: float) -> Iterator[PersonMatch]:
    for raw in persons:
        face_matches = raw.get("FaceMatches") or ()
        kept = [fm for fm in face_matches if fm["Similarity"] >= threshold]
        if len(kept) == len(face_matches):
            if kept:
                yield parse_person_match_now(raw)
        elif kept:
            # A shallow copy with the kept face matches (the rest is read from the original).
            yield parse_person_match_now({**raw, "FaceMatches": kept})
