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
from typing import TYPE_CHECKING, Any

import attrs

from ._slots import new, setters

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

#: An interval being built: [first, last, best similarity, count, external image id].
_Interval = list[Any]
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
    for match in matches:
        ts = match.timestamp
        for face_match in match.face_matches:
            group = key(face_match)
            current = open_.get(group)
            if current is not None:
                if current[0] - max_gap <= ts <= current[1] + max_gap:
                    if ts < current[0]:
                        current[0] = ts
                    elif ts > current[1]:
                        current[1] = ts
                    current[2] = max(current[2], face_match.similarity)
                    current[3] += 1
                    if current[4] is None:
                        current[4] = face_match.face.external_image_id
                    continue
                earlier = closed.get(group)
                if earlier is None:
                    closed[group] = [current]
                else:
                    earlier.append(current)
            open_[group] = [ts, ts, face_match.similarity, 1, face_match.face.external_image_id]

    rows: list[_Row] = []
    for group, current in open_.items():
        earlier = closed.get(group)
        if earlier is None:  # seen in one interval only: nothing to sort or merge
            rows.append((current[0], group, current))
        else:
            earlier.append(current)
            rows += _merged(group, earlier, max_gap)
    # (first, key) is unique: intervals of one group are apart, so no tie reaches the list.
    rows.sort()
    return [_appearance(group, interval) for _, group, interval in rows]


def _merged(group: Hashable, intervals: list[_Interval], max_gap: float) -> list[_Row]:
    """Join the overlapping or close intervals of one group, in time order."""
    intervals.sort(key=_FIRST)
    rows: list[_Row] = []
    merged = intervals[0]
    for interval in intervals[1:]:
        if interval[0] - merged[1] <= max_gap:
            merged[1] = max(merged[1], interval[1])
            merged[2] = max(merged[2], interval[2])
            merged[3] += interval[3]
            if merged[4] is None:
                merged[4] = interval[4]
        else:
            rows.append((merged[0], group, merged))
            merged = interval
    rows.append((merged[0], group, merged))
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
