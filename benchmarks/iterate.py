"""Figure 2: iterating typed `PersonMatch` objects vs the raw ``GetFaceSearch`` page dicts.

Both sides read the same data of every match from the same pages, fetched with the
same parameters through the same client: its timestamp, the person's index, and each
face match's similarity, face id and external image id; figure 2b also reads the
person's face (confidence, bounding box, pose), which rekoface parses on first access.
The hand-written side is the loop a careful boto3 user writes: follow ``NextToken``
until it is absent or empty, check the job's status on each page, and let go of a
page (``del page``) before asking for the next, as rekoface does.
"""

from __future__ import annotations

from collections.abc import Iterable
from statistics import median
from typing import TYPE_CHECKING, Any, NamedTuple

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
    from mypy_boto3_rekognition import RekognitionClient

    from rekoface import PersonMatch

#: Target ratio of each variant: (figure number, target).
TARGETS = {"default": ("2", 1.05), "face": ("2b", 1.05), "all": ("2c", 1.15)}


class Digest(NamedTuple):
    """What a consumer saw: counts and sums over every field it read."""

    persons: int
    face_matches: int
    timestamp_sum: int
    index_sum: int
    similarity_sum: float
    face_id_chars: int
    external_id_chars: int
    face_sum: float


def _face_sum_typed(match: PersonMatch) -> float:
    face = match.person.face
    if face is None:
        return 0.0
    box, pose = face.bounding_box, face.pose
    total = face.confidence or 0.0
    if box is not None:
        total += (box.width or 0.0) + (box.height or 0.0) + (box.left or 0.0) + (box.top or 0.0)
    if pose is not None:
        total += (pose.roll or 0.0) + (pose.yaw or 0.0) + (pose.pitch or 0.0)
    return total


def _face_sum_raw(person: dict[str, Any]) -> float:
    face = person.get("Person", {}).get("Face")
    if face is None:
        return 0.0
    box, pose = face.get("BoundingBox"), face.get("Pose")
    total = face.get("Confidence") or 0.0
    if box is not None:
        total += (
            (box.get("Width") or 0.0)
            + (box.get("Height") or 0.0)
            + (box.get("Left") or 0.0)
            + (box.get("Top") or 0.0)
        )
    if pose is not None:
        total += (pose.get("Roll") or 0.0) + (pose.get("Yaw") or 0.0) + (pose.get("Pitch") or 0.0)
    return total


def consume_typed(matches: Iterable[PersonMatch], *, face: bool = False) -> Digest:
    """The user's loop over rekoface's typed matches."""
    persons = face_matches = timestamps = indexes = ids = chars = 0
    similarity = face_total = 0.0
    for match in matches:
        persons += 1
        timestamps += match.timestamp
        indexes += match.person.index or 0
        for face_match in match.face_matches:
            face_matches += 1
            similarity += face_match.similarity
            ids += len(face_match.face.face_id)
            chars += len(face_match.face.external_image_id or "")
        if face:
            face_total += _face_sum_typed(match)
    return Digest(persons, face_matches, timestamps, indexes, similarity, ids, chars, face_total)


def consume_page(
    page: list[dict[str, Any]], digest: Digest | None = None, *, face: bool = False
) -> Digest:
    """The user's loop over one raw page's ``Persons``, added to `digest`."""
    persons, face_matches, timestamps, indexes, similarity, ids, chars, face_total = (
        digest or Digest(0, 0, 0, 0, 0.0, 0, 0, 0.0)
    )
    for person in page:
        persons += 1
        timestamps += person["Timestamp"]
        indexes += person.get("Person", {}).get("Index") or 0
        for face_match in person.get("FaceMatches", ()):
            face_matches += 1
            similarity += face_match["Similarity"]
            ids += len(face_match["Face"]["FaceId"])
            chars += len(face_match["Face"].get("ExternalImageId") or "")
        if face:
            face_total += _face_sum_raw(person)
    return Digest(persons, face_matches, timestamps, indexes, similarity, ids, chars, face_total)


def _get_page(
    client: RekognitionClient, job_id: str, page_size: int, token: str | None
) -> dict[str, Any]:
    if token:
        page = client.get_face_search(
            JobId=job_id, MaxResults=page_size, SortBy="TIMESTAMP", NextToken=token
        )
    else:
        page = client.get_face_search(JobId=job_id, MaxResults=page_size, SortBy="TIMESTAMP")
    if page["JobStatus"] != "SUCCEEDED":
        raise RuntimeError(f"job {job_id} is {page['JobStatus']}")
    return page  # type: ignore[return-value]


def consume_raw_fair(
    client: RekognitionClient, job_id: str, page_size: int, *, face: bool = False
) -> Digest:
    """The careful hand-written loop: one page alive at a time (``del page`` before the next)."""
    digest = None
    token = None
    while True:
        page = _get_page(client, job_id, page_size, token)
        token = page.get("NextToken")
        digest = consume_page(page.get("Persons", []), digest, face=face)
        del page
        if not token:
            return digest


def raw_pages(
    client: RekognitionClient, job_id: str, page_size: int
) -> Iterable[list[dict[str, Any]]]:
    """The usual hand-written pagination generator: each page's ``Persons`` in turn.

    Its consumer's loop variable keeps the previous page alive while the next one is
    fetched and parsed (figure 4 shows what that costs in memory).
    """
    token = None
    while True:
        page = _get_page(client, job_id, page_size, token)
        token = page.get("NextToken")
        persons: list[dict[str, Any]] = page.get("Persons", [])
        del page
        yield persons
        del persons
        if not token:
            return


def consume_raw(pages: Iterable[list[dict[str, Any]]]) -> Digest:
    """The usual loop over `raw_pages`."""
    digest = None
    for page in pages:
        digest = consume_page(page, digest)
    return digest or Digest(0, 0, 0, 0, 0.0, 0, 0, 0.0)


Row = tuple[int, "int | None", tuple[tuple[float, str, "str | None"], ...], float]


def rows_typed(matches: Iterable[PersonMatch]) -> list[Row]:
    return [
        (
            m.timestamp,
            m.person.index,
            tuple((f.similarity, f.face.face_id, f.face.external_image_id) for f in m.face_matches),
            _face_sum_typed(m),
        )
        for m in matches
    ]


def rows_raw(client: RekognitionClient, job_id: str, page_size: int) -> list[Row]:
    rows: list[Row] = []
    for page in raw_pages(client, job_id, page_size):
        rows += [
            (
                p["Timestamp"],
                p.get("Person", {}).get("Index"),
                tuple(
                    (f["Similarity"], f["Face"]["FaceId"], f["Face"].get("ExternalImageId"))
                    for f in p.get("FaceMatches", ())
                ),
                _face_sum_raw(p),
            )
            for p in page
        ]
    return rows


class Setup(NamedTuple):
    """What both sides of a variant read: the same pages, through the same boto3 client."""

    transport: CannedRekognition
    boto3_client: RekognitionClient
    client: FaceSearchClient
    bodies: list[bytes]
    page_size: int


def setup(sizes: Sizes, variant: str) -> Setup:
    all_attributes = variant == "all"
    pages = sizes.iterate_all_pages if all_attributes else sizes.iterate_pages
    bodies = [
        page_body(i, pages=pages, page_size=sizes.iterate_page_size, all_attributes=all_attributes)
        for i in range(pages)
    ]
    transport = CannedRekognition(bodies.__getitem__)
    boto3_client = rekognition_client(transport)
    return Setup(
        transport, boto3_client, FaceSearchClient(boto3_client), bodies, sizes.iterate_page_size
    )


def sides(sizes: Sizes, variant: str = "default") -> tuple[Sides, Setup]:
    """The two sides of a variant of figure 2, and what they read."""
    pages = setup(sizes, variant)
    client, boto3_client, page_size = pages.client, pages.boto3_client, pages.page_size
    face = variant != "default"

    def rekoface_round() -> Digest:
        return consume_typed(client.results(JOB_ID, page_size=page_size), face=face)

    def boto3_round() -> Digest:
        return consume_raw_fair(boto3_client, JOB_ID, page_size, face=face)

    return Sides(rekoface_round, boto3_round, len(pages.bodies) * page_size), pages


def run(sizes: Sizes, *, variant: str = "default") -> FigureResult:
    number, target = TARGETS[variant]
    all_attributes = variant == "all"
    face = variant != "default"
    (rekoface_round, boto3_round, total), (transport, boto3_client, client, bodies, page_size) = (
        sides(sizes, variant)
    )
    pages = len(bodies)

    rounds = alternate(rekoface_round, boto3_round, rounds=sizes.iterate_rounds, operations=total)
    noise = control(boto3_round, rounds=sizes.iterate_rounds, operations=total)

    # One more pass of each side, recorded, to show they send and read the same.
    reko_digest, boto_digest = rekoface_round(), boto3_round()
    transport.record = True
    reko_rows = rows_typed(client.results(JOB_ID, page_size=page_size))
    reko_sent = [params for _, params in transport.sent]
    transport.sent = []
    boto_rows = rows_raw(boto3_client, JOB_ID, page_size)
    boto_sent = [params for _, params in transport.sent]
    transport.record = False

    ratio = rounds.ratio
    kind = "ALL" if all_attributes else "DEFAULT"
    reads = "timestamp, person index, face matches" + (
        ", and `person.face` (confidence, bounding box, pose)" if face else ""
    )
    page_kib = sum(map(len, bodies)) / len(bodies) / 1024
    return FigureResult(
        number=number,
        title=f"iterate {total:,} typed `PersonMatch` ({pages} pages of {page_size:,}), reading "
        f"{reads}, vs the raw page dicts with a `NextToken` loop that drops each page "
        f"({kind} face attributes)",
        rekoface=f"{microseconds(median(rounds.rekoface))}/match",
        baseline=f"{microseconds(median(rounds.baseline))}/match",
        result=ratio.ratio_text(),
        target=f"≤ {target:.2f}",
        passed=ratio.median <= target,
        control=noise.ratio_text(),
        details=(
            f"{plural(sizes.iterate_rounds, 'alternating round')} per side of {total:,} matches "
            "(CPU time); "
            f"pages average {page_kib:,.0f} KiB of JSON; a whole round takes "
            f"{milliseconds(median(rounds.rekoface) * total)} (rekoface) and "
            f"{milliseconds(median(rounds.baseline) * total)} (boto3). Both sides spend "
            "nearly all of it in botocore's parsing of the page. The hand-written loop "
            "deletes each page before fetching the next (`del page`), as rekoface does; the "
            "usual loop that keeps it alive gives its garbage collector more to walk, and "
            "would flatter rekoface.",
        ),
        checks={
            "rekoface_digest": reko_digest,
            "boto3_digest": boto_digest,
            "rekoface_rows": reko_rows,
            "boto3_rows": boto_rows,
            "rekoface_sent": reko_sent,
            "boto3_sent": boto_sent,
            "control_ratio": noise,
        },
    )
