"""What ``start``, ``status``, ``wait``, ``results`` and ``search`` write on stdout.

JSON output uses the API's own names and shapes; the ``Persons`` items are the very
dicts ``GetFaceSearch`` returned, written unchanged (no key added, none dropped), and
only tables and CSV are made from the result models. Match writers stream: every
format writes and flushes each page as it arrives and never holds more than one page
(``json`` writes one document incrementally).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .api_shapes import metadata_to_api, status_to_api
from .encodings import csv_writer, json_document, json_line, text_of
from .streams import TextSink
from .table import Column, Table, format_millis, terminal_width

if TYPE_CHECKING:
    from rekoface.models import FaceSearchJob
    from rekoface.results import JobStatus, PersonMatch, VideoMetadata

__all__ = ["MatchWriter", "write_job", "write_status"]


# --------------------------------------------------------------------------- start


def write_job(out: TextSink, fmt: str, job: FaceSearchJob) -> None:
    """A started job: the JobId alone (table), or JobId and ClientRequestToken."""
    record = {"JobId": job.job_id, "ClientRequestToken": job.client_request_token}
    if fmt == "table":
        out.write(job.job_id + "\n")
    elif fmt == "jsonl":
        out.write(json_line(record))
    elif fmt == "json":
        out.write(json_document(record))
    else:
        writer = csv_writer(out)
        writer.writerow(record.keys())
        writer.writerow([text_of(v) for v in record.values()])


# --------------------------------------------------------------------------- status

_STATUS_CSV = ("JobId", "JobStatus", "StatusMessage", "JobTag", "Video", "DurationMillis")


def _metadata_summary(metadata: VideoMetadata) -> str:
    parts: list[str] = []
    if metadata.duration_millis is not None:
        parts.append(format_millis(metadata.duration_millis))
    if metadata.frame_width is not None and metadata.frame_height is not None:
        parts.append(f"{metadata.frame_width}x{metadata.frame_height}")
    if metadata.frame_rate is not None:
        parts.append(f"{metadata.frame_rate:g} fps")
    parts.extend(p for p in (metadata.codec, metadata.format) if p)
    return ", ".join(parts)


def write_status(out: TextSink, fmt: str, status: JobStatus) -> None:
    """A job's status: ``Key  value`` lines (table), or the API's fields."""
    if fmt == "jsonl":
        out.write(json_line(status_to_api(status)))
        return
    if fmt == "json":
        out.write(json_document(status_to_api(status)))
        return
    video = status.video.uri if status.video is not None else None
    metadata = status.video_metadata
    if fmt == "csv":
        duration = metadata.duration_millis if metadata is not None else None
        row = (status.job_id, status.state.value, status.status_message, status.job_tag)
        writer = csv_writer(out)
        writer.writerow(_STATUS_CSV)
        writer.writerow([text_of(v) for v in (*row, video, duration)])
        return
    pairs = [("JobId", status.job_id), ("JobStatus", status.state.value)]
    pairs += [
        (key, value)
        for key, value in (
            ("StatusMessage", status.status_message),
            ("JobTag", status.job_tag),
            ("Video", video),
            ("VideoMetadata", _metadata_summary(metadata) if metadata is not None else None),
        )
        if value
    ]
    width = max(len(key) for key, _ in pairs)
    out.write("".join(f"{key:<{width}}  {value}\n" for key, value in pairs))


# --------------------------------------------------------------------------- matches

_MATCH_COLUMNS = (
    Column("TIME", 11, ">"),
    Column("PERSON", 6, ">"),
    Column("MATCH", 24, min_width=8, max_width=40),
    Column("SIMILARITY", 10, ">"),
    Column("FACE ID", 36, drop=1),
)
_MATCH_CSV = ("Timestamp", "PersonIndex", "FaceId", "ExternalImageId", "Similarity")
_NO_MATCH = "(no match)"


def _match_rows(match: PersonMatch) -> Iterable[tuple[str, str, str, str, str]]:
    time = format_millis(match.timestamp)
    index = text_of(match.person.index)
    if not match.face_matches:
        yield time, index, _NO_MATCH, "", ""
    for fm in match.face_matches:
        face = fm.face
        yield time, index, face.external_image_id or "-", f"{fm.similarity:.2f}", face.face_id


class MatchWriter:
    """Writes person matches page by page, flushing each page (never all at once).

    A page is the service's ``Persons`` items: JSON formats write them as they are,
    tables and CSV read them through the result models.
    """

    def __init__(self, out: TextSink, fmt: str, job_id: str, *, width: int | None = None) -> None:
        self._out = out
        self._fmt = fmt
        self._job_id = job_id
        self._width = width
        self._started = False
        self._first = True
        self._table: Table | None = None
        self._csv: Any = None

    def _start(self, metadata: VideoMetadata | None) -> None:
        self._started = True
        if self._fmt == "table":
            self._table = Table(self._out, _MATCH_COLUMNS, self._width or terminal_width())
            self._table.header()
        elif self._fmt == "csv":
            self._csv = csv_writer(self._out)
            self._csv.writerow(_MATCH_CSV)
        elif self._fmt == "json":
            head: dict[str, Any] = {"JobId": self._job_id}
            if metadata is not None:
                head["VideoMetadata"] = metadata_to_api(metadata)
            opening = json.dumps(head, ensure_ascii=False)[:-1]
            self._out.write(f'{opening}, "Persons": [')

    def page(
        self, persons: Sequence[Mapping[str, Any]], video_metadata: VideoMetadata | None
    ) -> None:
        """Write one page's ``Persons`` items and flush (`video_metadata`: the job's)."""
        if not self._started:
            self._start(video_metadata)
        if self._fmt == "jsonl":
            self._out.write("".join(json_line(person) for person in persons))
        elif self._fmt == "json":
            for person in persons:
                separator = "\n" if self._first else ",\n"
                self._first = False
                self._out.write(separator + json.dumps(person, ensure_ascii=False))
        else:
            from rekoface.results import parse_person_match

            self._write_rows([parse_person_match(person) for person in persons])
        self._out.flush()

    def _write_rows(self, matches: Sequence[PersonMatch]) -> None:
        if self._table is not None:
            self._table.rows(row for match in matches for row in _match_rows(match))
        elif self._csv is not None:
            for match in matches:
                index = text_of(match.person.index)
                if not match.face_matches:
                    self._csv.writerow([match.timestamp, index, "", "", ""])
                for fm in match.face_matches:
                    face = fm.face
                    self._csv.writerow(
                        [
                            match.timestamp,
                            index,
                            face.face_id,
                            text_of(face.external_image_id),
                            fm.similarity,
                        ]
                    )

    def close(self) -> None:
        """Finish the output (the JSON document's end; a table's header if nothing came)."""
        if not self._started:
            self._start(None)
        if self._fmt == "json":
            self._out.write("\n]}\n" if not self._first else "]}\n")
        self._out.flush()
