"""Who was seen when: person matches folded into intervals per person or per face.

`FaceSearchResults.appearances` streams its matches through `fold_appearances`,
which keeps one open interval per group and a list of the closed ones only for
groups seen more than once; the answer does not depend on the order of the matches
(``TIMESTAMP`` or ``INDEX``). A group is a person by default (`by_person`: people
index several photos of one person under one ``ExternalImageId``), or one indexed
face (`by_face`).

This module imports only `rekoface.matches` of the package (and the private slot
setters).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import TYPE_CHECKING

import attrs

from ._lazy import new, setters

if TYPE_CHECKING:
    from .matches import FaceMatch, PersonMatch

__all__ = ["GROUPINGS", "Appearance", "by_face", "by_person", "fold_appearances"]


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


(
    _SET_FACE_ID,
    _SET_EXTERNAL,
    _SET_FIRST,
    _SET_LAST,
    _SET_BEST,
    _SET_MATCHES,
    _SET_KEY,
    _SET_FACE_IDS,
) = setters(
    Appearance,
    "face_id",
    "external_image_id",
    "first_timestamp",
    "last_timestamp",
    "best_similarity",
    "matches",
    "key",
    "face_ids",
)

#: An interval: (first, last, best similarity, count, external image id, the face of
#: the best match, the faces merged). A tuple of plain values, replaced rather than
#: updated, so that the garbage collector stops tracking it: a grouping of 100,000
#: faces holds 100,000 of them. The faces merged are the one face id while only one
#: face was seen (nothing to allocate), then (first match, face id) pairs.
_Faces = "str | tuple[tuple[int, str], ...]"
_Interval = tuple[int, int, float, int, "str | None", str, "str | tuple[tuple[int, str], ...]"]
_FIRST = itemgetter(0)
#: A finished interval, in the order the answer is sorted by: (first, key, interval).
_Row = tuple[int, str, _Interval]


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
    # Each group has one open interval; a match within `max_gap` of its range joins it,
    # any other closes it and opens a new one. In TIMESTAMP order that is already the
    # answer; in any other order (INDEX: person by person) closed intervals of one
    # group may overlap or touch, and `_merged` joins them.
    open_: dict[str, _Interval] = {}
    closed: dict[str, list[_Interval]] = {}
    # The two usual groupings are read inline: this loop is hot.
    per_face, per_person = key is by_face, key is by_person
    for match in matches:
        ts = match.timestamp
        for face_match in match.face_matches:
            face = face_match.face
            if per_face:
                group = face.face_id
            elif per_person:
                group = face.external_image_id or face.user_id or face.face_id
            else:
                group = key(face_match)
            current = open_.get(group)
            if current is not None:
                first, last, best, count, external, best_face, faces = current
                if first - max_gap <= ts <= last + max_gap:
                    similarity = face_match.similarity
                    if similarity > best:
                        best, best_face = similarity, face.face_id
                    if not per_face and faces != face.face_id:
                        faces = _with_face(faces, first, ts, face.face_id)
                    open_[group] = (
                        ts if ts < first else first,
                        ts if ts > last else last,
                        best,
                        count + 1,
                        external if external is not None else face.external_image_id,
                        best_face,
                        faces,
                    )
                    continue
                earlier = closed.get(group)
                if earlier is None:
                    closed[group] = [current]
                else:
                    earlier.append(current)
            face_id = face.face_id
            open_[group] = (
                ts,
                ts,
                face_match.similarity,
                1,
                face.external_image_id,
                face_id,
                face_id,
            )

    rows: list[_Row] = []
    for group, current in open_.items():
        earlier = closed.get(group)
        if earlier is None:  # seen in one interval only: nothing to sort or merge
            rows.append((current[0], group, current))
        else:
            earlier.append(current)
            rows += _merged(group, earlier, max_gap)
    # (first, key) is unique: intervals of one group are apart, so no tie reaches the interval.
    rows.sort()
    return [_appearance(group, interval) for _, group, interval in rows]


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


def _merged(group: str, intervals: list[_Interval], max_gap: float) -> list[_Row]:
    """Join the overlapping or close intervals of one group, in time order."""
    intervals.sort(key=_FIRST)
    rows: list[_Row] = []
    first, last, best, count, external, best_face, faces = intervals[0]
    for interval in intervals[1:]:
        if interval[0] - last <= max_gap:
            last = max(last, interval[1])
            if interval[2] > best:
                best, best_face = interval[2], interval[5]
            count += interval[3]
            if external is None:
                external = interval[4]
            theirs = interval[6]
            for ts, face_id in ((interval[0], theirs),) if isinstance(theirs, str) else theirs:
                if faces != face_id:
                    faces = _with_face(faces, first, ts, face_id)
        else:
            rows.append((first, group, (first, last, best, count, external, best_face, faces)))
            first, last, best, count, external, best_face, faces = interval
    rows.append((first, group, (first, last, best, count, external, best_face, faces)))
    return rows


def _appearance(group: str, interval: _Interval) -> Appearance:
    appearance = new(Appearance)
    faces = interval[6]
    _SET_FACE_ID(appearance, interval[5])
    _SET_EXTERNAL(appearance, interval[4])
    _SET_FIRST(appearance, interval[0])
    _SET_LAST(appearance, interval[1])
    _SET_BEST(appearance, interval[2])
    _SET_MATCHES(appearance, interval[3])
    _SET_KEY(appearance, group)
    _SET_FACE_IDS(
        appearance,
        (faces,) if isinstance(faces, str) else tuple(face_id for _, face_id in sorted(faces)),
    )
    return appearance
