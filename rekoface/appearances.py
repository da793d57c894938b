"""Who was seen when: person matches folded into intervals per collection face.

`FaceSearchResults.appearances` streams its matches through `fold_appearances`,
which keeps one open interval per group (a collection face) and a list of the
closed ones only for groups seen more than once; the answer does not depend on the
order of the matches (``TIMESTAMP`` or ``INDEX``). What a group is comes from a
key function of a face match, so other groupings can reuse the fold.

This module imports only `rekoface.matches` of the package (and the private slot
setters).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from operator import itemgetter
from typing import TYPE_CHECKING

import attrs

from ._lazy import new, setters

if TYPE_CHECKING:
    from .matches import FaceMatch, PersonMatch

__all__ = ["Appearance", "fold_appearances"]


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


_SET_FACE_ID, _SET_EXTERNAL, _SET_FIRST, _SET_LAST, _SET_BEST, _SET_MATCHES = setters(
    Appearance,
    "face_id",
    "external_image_id",
    "first_timestamp",
    "last_timestamp",
    "best_similarity",
    "matches",
)

#: An interval: (first, last, best similarity, count, external image id). A tuple of
#: plain values, replaced rather than updated, so that the garbage collector stops
#: tracking it: a grouping of 100,000 faces holds 100,000 of them.
_Interval = tuple[int, int, float, int, "str | None"]
_FIRST = itemgetter(0)
#: A finished interval, in the order the answer is sorted by: (first, key, interval).
_Row = tuple[int, Hashable, _Interval]


def by_face(face_match: FaceMatch) -> str:
    """The grouping of `FaceSearchResults.appearances`: one group per collection face."""
    return face_match.face.face_id


def fold_appearances(
    matches: Iterable[PersonMatch],
    max_gap: float,
    key: Callable[[FaceMatch], Hashable] = by_face,
) -> list[Appearance]:
    """The intervals of each group (`key` of a face match), sorted by first timestamp, then key.

    Face matches of one group at most `max_gap` apart belong to one interval.
    """
    # Each group has one open interval; a match within `max_gap` of its range joins it,
    # any other closes it and opens a new one. In TIMESTAMP order that is already the
    # answer; in any other order (INDEX: person by person) closed intervals of one
    # group may overlap or touch, and `_merged` joins them.
    open_: dict[Hashable, _Interval] = {}
    closed: dict[Hashable, list[_Interval]] = {}
    by_face_id = key is by_face  # the usual grouping, read inline: this loop is hot
    for match in matches:
        ts = match.timestamp
        for face_match in match.face_matches:
            group = face_match.face.face_id if by_face_id else key(face_match)
            current = open_.get(group)
            if current is not None:
                first, last, best, count, external = current
                if first - max_gap <= ts <= last + max_gap:
                    similarity = face_match.similarity
                    open_[group] = (
                        ts if ts < first else first,
                        ts if ts > last else last,
                        similarity if similarity > best else best,
                        count + 1,
                        external if external is not None else face_match.face.external_image_id,
                    )
                    continue
                earlier = closed.get(group)
                if earlier is None:
                    closed[group] = [current]
                else:
                    earlier.append(current)
            open_[group] = (ts, ts, face_match.similarity, 1, face_match.face.external_image_id)

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


def _merged(group: Hashable, intervals: list[_Interval], max_gap: float) -> list[_Row]:
    """Join the overlapping or close intervals of one group, in time order."""
    intervals.sort(key=_FIRST)
    rows: list[_Row] = []
    first, last, best, count, external = intervals[0]
    for interval in intervals[1:]:
        if interval[0] - last <= max_gap:
            last = max(last, interval[1])
            best = max(best, interval[2])
            count += interval[3]
            if external is None:
                external = interval[4]
        else:
            rows.append((first, group, (first, last, best, count, external)))
            first, last, best, count, external = interval
    rows.append((first, group, (first, last, best, count, external)))
    return rows


def _appearance(group: Hashable, interval: _Interval) -> Appearance:
    appearance = new(Appearance)
    _SET_FACE_ID(appearance, group)
    _SET_EXTERNAL(appearance, interval[4])
    _SET_FIRST(appearance, interval[0])
    _SET_LAST(appearance, interval[1])
    _SET_BEST(appearance, interval[2])
    _SET_MATCHES(appearance, interval[3])
    return appearance
