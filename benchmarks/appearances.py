"""Figure 7: ``results.appearances()`` vs plain iteration of the same results.

The worst case for grouping: every person matches one collection face no other person
matches, so each of the matches opens (and ends) an interval of its own and becomes
an `Appearance`. The plain side iterates the same `FaceSearchResults` as typed matches
and reads what the grouping reads (timestamp, and each face match's face id,
similarity and external image id); both pay botocore's parsing of the same pages.
`appearances()` folds the page dicts without building a typed match, so the ratio is
what asking for appearances costs over iterating, not the grouping's cost over the
typed models. Persons carry no ``FaceDetail``, which makes pages cheaper to parse and
the grouping's share larger than on real pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from statistics import median
from typing import TYPE_CHECKING

from rekoface import FaceSearchClient

from ._canned import JOB_ID, CannedRekognition, page_body, rekognition_client
from ._common import (
    FigureResult,
    Sides,
    Sizes,
    alternate,
    control,
    microseconds,
    milliseconds,
    plural,
)

if TYPE_CHECKING:
    from rekoface import PersonMatch

TARGET = 1.10
MAX_GAP_MS = 1000


def plain(matches: Iterable[PersonMatch]) -> int:
    """Read what `appearances()` reads from every match; the count of face matches."""
    count = 0
    for match in matches:
        timestamp = match.timestamp
        for face_match in match.face_matches:
            face = face_match.face
            if face.face_id and face_match.similarity >= 0 and timestamp >= 0:
                count += 1
            if face.external_image_id is None:
                count -= 1
    return count


def sides(sizes: Sizes) -> tuple[Sides, FaceSearchClient]:
    """The two sides of figure 7, and the client both read through."""
    pages, page_size = sizes.appearances_pages, sizes.appearances_page_size
    bodies = [
        page_body(i, pages=pages, page_size=page_size, distinct_faces=True) for i in range(pages)
    ]
    client = FaceSearchClient(rekognition_client(CannedRekognition(bodies.__getitem__)))

    def rekoface_round() -> int:
        return len(client.results(JOB_ID, page_size=page_size).appearances(max_gap_ms=MAX_GAP_MS))

    def plain_round() -> int:
        return plain(client.results(JOB_ID, page_size=page_size))

    return Sides(rekoface_round, plain_round, pages * page_size), client


def run(sizes: Sizes) -> FigureResult:
    pages, page_size = sizes.appearances_pages, sizes.appearances_page_size
    (rekoface_round, plain_round, total), client = sides(sizes)
    rounds = alternate(
        rekoface_round, plain_round, rounds=sizes.appearances_rounds, operations=total
    )
    noise = control(plain_round, rounds=sizes.appearances_rounds, operations=total)
    found = client.results(JOB_ID, page_size=page_size).appearances(max_gap_ms=MAX_GAP_MS)
    ratio = rounds.ratio
    return FigureResult(
        number="7",
        title=f"`results.appearances()` over {total:,} matches of {total:,} distinct faces "
        f"({pages} pages of {page_size:,}) vs plain iteration of the same results",
        rekoface=f"{microseconds(median(rounds.rekoface))}/match",
        baseline=f"{microseconds(median(rounds.baseline))}/match (plain iteration)",
        result=ratio.ratio_text(),
        target=f"≤ {TARGET:.2f}",
        passed=ratio.median <= TARGET,
        control=noise.ratio_text(),
        details=(
            f"{plural(sizes.appearances_rounds, 'alternating round')} per side of {total:,} "
            f"matches (CPU time), `max_gap_ms={MAX_GAP_MS}`; a whole round takes "
            f"{milliseconds(median(rounds.rekoface) * total)} (appearances) and "
            f"{milliseconds(median(rounds.baseline) * total)} (plain). The control here is "
            "plain iteration on both sides. `appearances()` reads the page dicts, the plain side "
            "builds the typed matches, as a user's loop does.",
        ),
        checks={
            "appearances": len(found),
            "face_ids": len({a.face_id for a in found}),
            "plain": plain_round(),
            "total": total,
            "control_ratio": noise,
        },
    )
