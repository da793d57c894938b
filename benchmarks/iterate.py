"""Figure 2: iterating typed `PersonMatch` objects vs the raw ``GetFaceSearch`` page dicts.

Both sides read the same data of every match (its timestamp, and each face match's
similarity and external image id) from the same pages, fetched with the same
parameters through the same client. The hand-written side is the loop a careful
boto3 user writes: follow ``NextToken`` until it is absent or empty, and check the
job's status on each page.
"""

from __future__ import annotations

from collections.abc import Iterable
from statistics import median
from typing import TYPE_CHECKING, Any, NamedTuple

from rekoface import FaceSearchClient

from ._canned import JOB_ID, CannedRekognition, page_body, rekognition_client
from ._common import FigureResult, Sizes, alternate, microseconds, milliseconds, plural

if TYPE_CHECKING:
    from mypy_boto3_rekognition import RekognitionClient

    from rekoface import PersonMatch

TARGET = 1.15

#: One match as the user reads it: timestamp, then (similarity, external image id) per face.
Row = tuple[int, tuple[tuple[float, "str | None"], ...]]


class Digest(NamedTuple):
    """What a consumer saw: counts and sums over every field it read."""

    persons: int
    face_matches: int
    timestamp_sum: int
    similarity_sum: float
    external_id_chars: int


def consume_typed(matches: Iterable[PersonMatch]) -> Digest:
    """The user's loop over rekoface's typed matches."""
    persons = face_matches = timestamps = chars = 0
    similarity = 0.0
    for match in matches:
        persons += 1
        timestamps += match.timestamp
        for face_match in match.face_matches:
            face_matches += 1
            similarity += face_match.similarity
            chars += len(face_match.face.external_image_id or "")
    return Digest(persons, face_matches, timestamps, similarity, chars)


def raw_pages(
    client: RekognitionClient, job_id: str, page_size: int
) -> Iterable[list[dict[str, Any]]]:
    """The hand-written pagination loop: each page's ``Persons``, one page at a time."""
    token = None
    while True:
        if token:
            page = client.get_face_search(
                JobId=job_id, MaxResults=page_size, SortBy="TIMESTAMP", NextToken=token
            )
        else:
            page = client.get_face_search(JobId=job_id, MaxResults=page_size, SortBy="TIMESTAMP")
        if page["JobStatus"] != "SUCCEEDED":
            raise RuntimeError(f"job {job_id} is {page['JobStatus']}")
        token = page.get("NextToken")
        persons: list[dict[str, Any]] = page.get("Persons", [])  # type: ignore[assignment]
        del page
        yield persons
        del persons
        if not token:
            return


def consume_raw(pages: Iterable[list[dict[str, Any]]]) -> Digest:
    """The user's loop over the raw page dicts."""
    persons = face_matches = timestamps = chars = 0
    similarity = 0.0
    for page in pages:
        for person in page:
            persons += 1
            timestamps += person["Timestamp"]
            for face_match in person.get("FaceMatches", ()):
                face_matches += 1
                similarity += face_match["Similarity"]
                chars += len(face_match["Face"].get("ExternalImageId") or "")
    return Digest(persons, face_matches, timestamps, similarity, chars)


def rows_typed(matches: Iterable[PersonMatch]) -> list[Row]:
    return [
        (m.timestamp, tuple((f.similarity, f.face.external_image_id) for f in m.face_matches))
        for m in matches
    ]


def rows_raw(pages: Iterable[list[dict[str, Any]]]) -> list[Row]:
    return [
        (
            p["Timestamp"],
            tuple(
                (f["Similarity"], f["Face"].get("ExternalImageId"))
                for f in p.get("FaceMatches", ())
            ),
        )
        for page in pages
        for p in page
    ]


def run(sizes: Sizes, *, all_attributes: bool = False) -> FigureResult:
    pages = sizes.iterate_all_pages if all_attributes else sizes.iterate_pages
    page_size = sizes.iterate_page_size
    bodies = [
        page_body(i, pages=pages, page_size=page_size, all_attributes=all_attributes)
        for i in range(pages)
    ]
    transport = CannedRekognition(bodies.__getitem__)
    boto3_client = rekognition_client(transport)
    client = FaceSearchClient(boto3_client)
    total = pages * page_size

    def rekoface_round() -> Digest:
        return consume_typed(client.results(JOB_ID, page_size=page_size))

    def boto3_round() -> Digest:
        return consume_raw(raw_pages(boto3_client, JOB_ID, page_size))

    rounds = alternate(rekoface_round, boto3_round, rounds=sizes.iterate_rounds, operations=total)

    # One more pass of each side, recorded, to show they send and read the same.
    reko_digest, boto_digest = rekoface_round(), boto3_round()
    transport.record = True
    reko_rows = rows_typed(client.results(JOB_ID, page_size=page_size))
    reko_sent = [params for _, params in transport.sent]
    transport.sent = []
    boto_rows = rows_raw(raw_pages(boto3_client, JOB_ID, page_size))
    boto_sent = [params for _, params in transport.sent]
    transport.record = False

    ratio = rounds.ratio
    kind = "ALL" if all_attributes else "DEFAULT"
    page_kib = sum(map(len, bodies)) / len(bodies) / 1024
    return FigureResult(
        number="2b" if all_attributes else "2",
        title=f"iterate {total:,} typed `PersonMatch` ({pages} pages of {page_size:,}) vs the "
        f"raw page dicts with a `NextToken` loop ({kind} face attributes)",
        rekoface=f"{microseconds(median(rounds.rekoface))}/match",
        baseline=f"{microseconds(median(rounds.baseline))}/match",
        result=ratio.ratio_text(),
        target=f"≤ {TARGET:.2f}",
        passed=ratio.median <= TARGET,
        details=(
            f"{plural(sizes.iterate_rounds, 'alternating round')} per side of {total:,} matches "
            "(CPU time); "
            f"pages average {page_kib:,.0f} KiB of JSON; a whole round takes "
            f"{milliseconds(median(rounds.rekoface) * total)} (rekoface) and "
            f"{milliseconds(median(rounds.baseline) * total)} (boto3). Both sides spend "
            "nearly all of it in botocore's parsing of the page; the usual hand-written loop "
            "also keeps the previous page alive while the next one is parsed (figure 4), which "
            "gives its garbage collector more to walk.",
        ),
        checks={
            "rekoface_digest": reko_digest,
            "boto3_digest": boto_digest,
            "rekoface_rows": reko_rows,
            "boto3_rows": boto_rows,
            "rekoface_sent": reko_sent,
            "boto3_sent": boto_sent,
        },
    )
