"""Who was seen when: person matches folded into intervals per person or per face.

`FaceSearchResults.appearances` streams the service's page dicts through
`fold_raw_appearances` (no model is built for a match it only folds), and
`fold_appearances` takes typed matches; both read each face match as a `Sighting`
for one fold, which keeps one open interval per group and a list of the closed ones
only for groups seen more than once; the answer does not depend on the order of the matches
(``TIMESTAMP`` or ``INDEX``). A group is a person by default (`by_person`: people
index several photos of one person under one ``ExternalImageId``), or one indexed
face (`by_face`).

This module imports only `rekoface.matches` of the package (and the private
builders).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import attrs

from ._lazy import builder

if TYPE_CHECKING:
    from .matches import FaceMatch, PersonMatch

__all__ = [
    "GROUPINGS",
    "Appearance",
    "by_face",
    "by_person",
    "fold_appearances",
    "fold_raw_appearances",
]


def _own_face(appearance: Appearance) -> tuple[str, ...]:
    return (appearance.face_id,)


@attrs.frozen
class Appearance:
    """One interval in which a person (or one collection face) was seen in the video.

    `first_timestamp` and `last_timestamp` are the first and last matches (milliseconds)
    of the interval, `best_similarity` the highest similarity among them, and
    `matches` how many face matches (person match x collection face) it merged.
    `key` is the group: the person (the face's ``ExternalImageId``, else its
    ``UserId``, else its ``FaceId``), or the face id under ``group_by="face"``;
    `face_ids` every collection face merged, in order of first match; `face_id` the
    face of the best match.
    """

    face_id: str
    external_image_id: str | None
    first_timestamp: int
    last_timestamp: int
    best_similarity: float
    matches: int
    key: str = attrs.field(default=attrs.Factory(lambda self: self.face_id, takes_self=True))
    face_ids: tuple[str, ...] = attrs.field(default=attrs.Factory(_own_face, takes_self=True))


_APPEARANCE = builder(Appearance)

#: One face match as the fold reads it: (timestamp, group, similarity, face id,
#: external image id). Typed matches (`fold_appearances`) and the service's page dicts
#: (`fold_raw_appearances`, what `FaceSearchResults.appearances` uses: no model is
#: built for a match it only folds) both become these.
Sighting = tuple[int, str, float, str, "str | None"]
#: An interval: (first, group, last, best similarity, count, external image id, the face
#: of the best match, the faces merged). A tuple of plain values, replaced rather than
#: updated, so that the garbage collector stops tracking it: a grouping of 100,000
#: faces holds 100,000 of them. It sorts as the answer does, by (first, group), which is
#: unique (intervals of one group are apart), so no tie reaches the rest. The faces
#: merged are the one face id while only one face was seen (nothing to allocate), then
#: (first match, face id) pairs.
_Interval = tuple[int, str, int, float, int, "str | None", str, "str | tuple[tuple[int, str], ...]"]
_FIRST = itemgetter(0)


def by_face(face_match: FaceMatch) -> str:
    """``group_by="face"``: one group per indexed collection face."""
    return face_match.face.face_id


def by_person(face_match: FaceMatch) -> str:
    """``group_by="person"``: one group per person, whose photos share an id.

    The face's ``ExternalImageId``, else its ``UserId``, else its ``FaceId``.
    """
    face = face_match.face
    return face.external_image_id or face.user_id or face.face_id


GROUPINGS: dict[str, Callable[[FaceMatch], str]] = {"person": by_person, "face": by_face}


def fold_appearances(
    matches: Iterable[PersonMatch],
    max_gap: float,
    key: Callable[[FaceMatch], str] = by_person,
) -> list[Appearance]:
    """The intervals of each group (`key` of a face match), sorted by first timestamp, then key.

    Face matches of one group at most `max_gap` apart belong to one interval.
    """
    return _fold(_typed_sightings(matches, key), max_gap)


def fold_raw_appearances(
    pages: Iterable[Iterable[Mapping[str, Any]]], max_gap: float, key: Callable[[FaceMatch], str]
) -> list[Appearance]:
    """`fold_appearances` of the service's ``Persons`` dicts, page by page, by `by_person` or
    `by_face`: the same answer, without building a `PersonMatch` for every match."""
    if key is not by_person and key is not by_face:
        raise ValueError("raw pages fold by_person or by_face only")
    return _fold(_raw_sightings(pages, per_face=key is by_face), max_gap)


def _typed_sightings(
    matches: Iterable[PersonMatch], key: Callable[[FaceMatch], str]
) -> Iterator[Sighting]:
    for match in matches:
        ts = match.timestamp
        for face_match in match.face_matches:
            face = face_match.face
            yield ts, key(face_match), face_match.similarity, face.face_id, face.external_image_id


def _raw_sightings(
    pages: Iterable[Iterable[Mapping[str, Any]]], *, per_face: bool
) -> Iterator[Sighting]:
    for persons in pages:
        yield from _page_sightings(persons, per_face)
        # Let go of this page before the next is fetched: one page alive at a time.
        del persons


def _page_sightings(persons: Iterable[Mapping[str, Any]], per_face: bool) -> Iterator[Sighting]:
    # The keys `parse_person_match_now` requires are required here too (KeyError), and
    # the groups are `by_face`'s and `by_person`'s, read from the dicts.
    for raw in persons:
        ts = raw["Timestamp"]
        for item in raw.get("FaceMatches") or ():
            face = item["Face"]
            face_id = face["FaceId"]
            external = face.get("ExternalImageId")
            group = face_id if per_face else external or face.get("UserId") or face_id
            yield ts, group, item["Similarity"], face_id, external


def _fold(sightings: Iterable[Sighting], max_gap: float) -> list[Appearance]:
    # Each group has one open interval; a match within `max_gap` of its range joins it,
    # any other closes it and opens a new one. In TIMESTAMP order that is already the
    # answer; in any other order (INDEX: person by person) closed intervals of one
    # group may overlap or touch, and `_merged` joins them.
    open_: dict[str, _Interval] = {}
    closed: dict[str, list[_Interval]] = {}
    for ts, group, similarity, face_id, external_id in sightings:
        current = open_.get(group)
        if current is not None:
            first, _, last, best, count, external, best_face, faces = current
            if first - max_gap <= ts <= last + max_gap:
                if similarity > best:
                    best, best_face = similarity, face_id
                if faces != face_id:
                    faces = _with_face(faces, first, ts, face_id)
                open_[group] = (
                    ts if ts < first else first,
                    group,
                    ts if ts > last else last,
                    best,
                    count + 1,
                    external if external is not None else external_id,
                    best_face,
                    faces,
                )
                continue
            earlier = closed.get(group)
            if earlier is None:
                closed[group] = [current]
            else:
                earlier.append(current)
        open_[group] = (ts, group, ts, similarity, 1, external_id, face_id, face_id)

    if closed:
        rows: list[_Interval] = []
        for group, current in open_.items():
            earlier = closed.get(group)
            if earlier is None:  # seen in one interval only: nothing to sort or merge
                rows.append(current)
            else:
                earlier.append(current)
                rows += _merged(earlier, max_gap)
    else:
        rows = list(open_.values())
    del open_, closed
    rows.sort()
    return [_appearance(interval) for interval in rows]


def _with_face(
    faces: str | tuple[tuple[int, str], ...], first: int, ts: int, face_id: str
) -> tuple[tuple[int, str], ...]:
    """`faces` with `face_id` first matched at `ts` (or earlier, if already there).

    While `faces` is one face id, every match so far was of that face, so `first` (the
    interval's first match) is its first match.
    """
    if isinstance(faces, str):
        if faces == face_id:
            return ((min(first, ts), face_id),)
        return ((first, faces), (ts, face_id))
    for index, (seen, known) in enumerate(faces):
        if known == face_id:
            if ts < seen:
                return (*faces[:index], (ts, face_id), *faces[index + 1 :])
            return faces
    return (*faces, (ts, face_id))


def _merged(intervals: list[_Interval], max_gap: float) -> list[_Interval]:
    """Join the overlapping or close intervals of one group, in time order."""
    intervals.sort(key=_FIRST)
    rows: list[_Interval] = []
    first, group, last, best, count, external, best_face, faces = intervals[0]
    for interval in intervals[1:]:
        if interval[0] - last <= max_gap:
            last = max(last, interval[2])
            if interval[3] > best:
                best, best_face = interval[3], interval[6]
            count += interval[4]
            if external is None:
                external = interval[5]
            theirs = interval[7]
            for ts, face_id in ((interval[0], theirs),) if isinstance(theirs, str) else theirs:
                if faces != face_id:
                    faces = _with_face(faces, first, ts, face_id)
        else:
            rows.append((first, group, last, best, count, external, best_face, faces))
            first, group, last, best, count, external, best_face, faces = interval
    rows.append((first, group, last, best, count, external, best_face, faces))
    return rows


def _appearance(interval: _Interval) -> Appearance:
    appearance = _APPEARANCE()
    first, group, last, best, count, external, best_face, faces = interval
    appearance.face_id = best_face
    appearance.external_image_id = external
    appearance.first_timestamp = first
    appearance.last_timestamp = last
    appearance.best_similarity = best
    appearance.matches = count
    appearance.key = group
    appearance.face_ids = (
        (faces,) if isinstance(faces, str) else tuple(face_id for _, face_id in sorted(faces))
    )
    appearance.__class__ = Appearance
    finished: Appearance = appearance
    return finished
