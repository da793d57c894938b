"""What the command writes on stdout: tables, JSON Lines, JSON and CSV.

JSON output uses the API's own names and shapes, so AWS's documentation describes
it; the ``Persons`` items are the very dicts ``GetFaceSearch`` returned, written
unchanged (no key added, none dropped), and only tables and CSV are made from the
result models. Match writers stream: every format writes and flushes each page as it
arrives and never holds more than one page (``json`` writes one document
incrementally). Tables are laid out once for the terminal's width (``COLUMNS``, else
the terminal, else 80), so streamed rows line up; piped, they stay plain aligned text.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .streams import TextSink

if TYPE_CHECKING:
    from rekoface.models import FaceSearchJob, S3Video
    from rekoface.results import Appearance, JobStatus, PersonMatch, VideoMetadata

__all__ = [
    "Column",
    "MatchWriter",
    "Table",
    "fit",
    "format_millis",
    "terminal_width",
    "timeline_lines",
    "write_appearances",
    "write_job",
    "write_status",
]

GAP = 2
ELLIPSIS = "…"


def terminal_width() -> int:
    """Columns available: ``COLUMNS``, else the terminal's, else 80."""
    return max(20, shutil.get_terminal_size((80, 24)).columns)


def format_millis(millis: int | float | None) -> str:
    """Milliseconds from the video's start as ``H:MM:SS.mmm``."""
    if millis is None:
        return "-"
    total = int(millis)
    hours, rest = divmod(total, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, ms = divmod(rest, 1000)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{ms:03d}"


def _format_span(millis: int) -> str:
    seconds = millis / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"


# --------------------------------------------------------------------------- tables


@attrs.frozen
class Column:
    """A table column: header, preferred width, and how it gives way when space is short.

    `min_width` set: the column may shrink to it (text is cut with an ellipsis) and
    grow to `max_width`. `drop` > 0: the column may be left out, highest first, before
    any column shrinks (an identifier cut short is useless, so ids drop rather than shrink).
    """

    header: str
    width: int
    align: str = "<"
    min_width: int | None = None
    max_width: int | None = None
    drop: int = 0


def fit(columns: Sequence[Column], total: int) -> list[tuple[int, int]]:
    """`(column index, width)` of the columns shown in `total` characters."""
    shown = list(range(len(columns)))
    widths = [max(c.width, len(c.header)) for c in columns]

    def needed() -> int:
        return sum(widths[i] for i in shown) + GAP * (len(shown) - 1)

    droppable = sorted((i for i, c in enumerate(columns) if c.drop), key=lambda i: -columns[i].drop)
    for i in droppable:
        if needed() <= total:
            break
        shown.remove(i)
    over = needed() - total
    for i in shown:
        low = columns[i].min_width
        if over <= 0:
            break
        if low is not None and widths[i] > low:
            cut = min(over, widths[i] - low)
            widths[i] -= cut
            over -= cut
    spare = total - needed()
    for i in shown:
        high = columns[i].max_width
        if spare <= 0:
            break
        if columns[i].min_width is not None and high is not None and widths[i] < high:
            grow = min(spare, high - widths[i])
            widths[i] += grow
            spare -= grow
    return [(i, widths[i]) for i in shown]


def _cell(text: str, width: int, align: str) -> str:
    if len(text) > width:
        text = text[: max(0, width - 1)] + ELLIPSIS
    return f"{text:{align}{width}}"


class Table:
    """Rows laid out once for a width, written as they come."""

    def __init__(self, out: TextSink, columns: Sequence[Column], width: int) -> None:
        self._out = out
        self._columns = columns
        self._layout = fit(columns, width)

    def _line(self, cells: Sequence[str]) -> str:
        parts = [_cell(cells[i], w, self._columns[i].align) for i, w in self._layout]
        return (" " * GAP).join(parts).rstrip() + "\n"

    def header(self) -> None:
        self._out.write(self._line([c.header for c in self._columns]))

    def rows(self, rows: Iterable[Sequence[str]]) -> None:
        self._out.write("".join(self._line(row) for row in rows))


def _data_columns(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> list[Column]:
    """Columns as wide as their widest cell (for output known in full)."""
    sized: list[Column] = []
    for i, column in enumerate(columns):
        natural = max([len(column.header), *(len(row[i]) for row in rows)])
        max_width = natural if column.min_width is not None else column.max_width
        sized.append(attrs.evolve(column, width=natural, max_width=max_width))
    return sized


# --------------------------------------------------------------------------- API shapes


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def metadata_to_api(metadata: VideoMetadata) -> dict[str, Any]:
    """The video's metadata with the API's names (fields the service left out, left out)."""
    return {
        _pascal(field.name): value
        for field in attrs.fields(type(metadata))
        if (value := getattr(metadata, field.name)) is not None
    }


def _video_to_api(video: S3Video) -> dict[str, Any]:
    s3_object = {"Bucket": video.bucket, "Name": video.name}
    if video.version is not None:
        s3_object["Version"] = video.version
    return {"S3Object": s3_object}


def status_to_api(status: JobStatus) -> dict[str, Any]:
    """A job's status with the API's names."""
    out: dict[str, Any] = {"JobId": status.job_id, "JobStatus": status.state.value}
    if status.status_message is not None:
        out["StatusMessage"] = status.status_message
    if status.job_tag is not None:
        out["JobTag"] = status.job_tag
    if status.video is not None:
        out["Video"] = _video_to_api(status.video)
    if status.video_metadata is not None:
        out["VideoMetadata"] = metadata_to_api(status.video_metadata)
    return out


def appearance_to_api(appearance: Appearance) -> dict[str, Any]:
    """An interval of `FaceSearchResults.appearances` with API-style names."""
    return {
        "FaceId": appearance.face_id,
        "ExternalImageId": appearance.external_image_id,
        "FirstTimestamp": appearance.first_timestamp,
        "LastTimestamp": appearance.last_timestamp,
        "BestSimilarity": appearance.best_similarity,
        "Matches": appearance.matches,
    }


def _json_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def _json_document(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def _csv_writer(out: TextSink) -> Any:
    return csv.writer(out, lineterminator="\n")


def _text(value: object) -> str:
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- start


def write_job(out: TextSink, fmt: str, job: FaceSearchJob) -> None:
    """A started job: the JobId alone (table), or JobId and ClientRequestToken."""
    record = {"JobId": job.job_id, "ClientRequestToken": job.client_request_token}
    if fmt == "table":
        out.write(job.job_id + "\n")
    elif fmt == "jsonl":
        out.write(_json_line(record))
    elif fmt == "json":
        out.write(_json_document(record))
    else:
        writer = _csv_writer(out)
        writer.writerow(record.keys())
        writer.writerow([_text(v) for v in record.values()])


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
        out.write(_json_line(status_to_api(status)))
        return
    if fmt == "json":
        out.write(_json_document(status_to_api(status)))
        return
    video = status.video.uri if status.video is not None else None
    metadata = status.video_metadata
    if fmt == "csv":
        duration = metadata.duration_millis if metadata is not None else None
        row = (status.job_id, status.state.value, status.status_message, status.job_tag)
        writer = _csv_writer(out)
        writer.writerow(_STATUS_CSV)
        writer.writerow([_text(v) for v in (*row, video, duration)])
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
    index = _text(match.person.index)
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
            self._csv = _csv_writer(self._out)
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
            self._out.write("".join(_json_line(person) for person in persons))
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
                index = _text(match.person.index)
                if not match.face_matches:
                    self._csv.writerow([match.timestamp, index, "", "", ""])
                for fm in match.face_matches:
                    face = fm.face
                    self._csv.writerow(
                        [
                            match.timestamp,
                            index,
                            face.face_id,
                            _text(face.external_image_id),
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


# --------------------------------------------------------------------------- appearances

_APPEARANCE_COLUMNS = (
    Column("PERSON", 6, min_width=8),
    Column("FROM", 11, ">"),
    Column("TO", 11, ">"),
    Column("SEEN FOR", 8, ">", drop=1),
    Column("BEST", 6, ">"),
    Column("MATCHES", 7, ">", drop=2),
    Column("FACE ID", 36, drop=3),
)
_APPEARANCE_CSV = (
    "FaceId",
    "ExternalImageId",
    "FirstTimestamp",
    "LastTimestamp",
    "BestSimilarity",
    "Matches",
)


#: The timeline under the table: seen, not seen, the ends (and their ASCII stand-ins).
_BLOCKS = ("\u2588", "\u00b7", "\u2502")
_ASCII_BLOCKS = ("#", ".", "|")
_LANE_NAME_WIDTH = 20


def _blocks(out: TextSink) -> tuple[str, str, str]:
    """Unicode blocks, or ASCII when the stream's encoding cannot write them."""
    encoding = getattr(out, "encoding", None)
    if not encoding:
        return _BLOCKS
    try:
        "".join(_BLOCKS).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return _ASCII_BLOCKS
    return _BLOCKS


def timeline_lines(
    appearances: Sequence[Appearance],
    duration_millis: int | float | None,
    width: int,
    blocks: tuple[str, str, str] = _BLOCKS,
) -> list[str]:
    """A bar per person, scaled to the video's length: a cell is on when the person is
    seen during its share of the video."""
    from rekoface.timeline import lanes

    rows = lanes(appearances)
    if not rows:
        return []
    last = max(a.last_timestamp for a in appearances)
    duration = float(max(duration_millis or 0, last)) or 1000.0
    names = min(_LANE_NAME_WIDTH, max(len("TIMELINE"), *(len(key) for key, _ in rows)))
    cells = max(10, width - names - GAP - 2)
    on, off, edge = blocks
    start, end = format_millis(0), format_millis(duration)
    lines = [f"{'TIMELINE':<{names}}{' ' * GAP} {start:<{cells - len(end)}}{end}\n"]
    for key, intervals in rows:
        bar = [off] * cells
        for a in intervals:
            low = min(cells - 1, int(a.first_timestamp / duration * cells))
            high = min(cells - 1, int(a.last_timestamp / duration * cells))
            bar[low : high + 1] = [on] * (high - low + 1)
        lines.append(f"{_cell(key, names, '<')}{' ' * GAP}{edge}{''.join(bar)}{edge}\n")
    return lines


def write_appearances(
    out: TextSink,
    fmt: str,
    job_id: str,
    appearances: Sequence[Appearance],
    *,
    width: int | None = None,
    duration_millis: int | None = None,
    title: str | None = None,
) -> None:
    """Who was seen when, one interval a row (and a bar per person under a table);
    ``html``: the `rekoface.timeline` page."""
    if fmt == "html":
        from rekoface.timeline import render_html

        out.write(render_html(appearances, duration_millis=duration_millis, title=title))
    elif fmt == "jsonl":
        out.write("".join(_json_line(appearance_to_api(a)) for a in appearances))
    elif fmt == "json":
        document = {"JobId": job_id, "Appearances": [appearance_to_api(a) for a in appearances]}
        out.write(_json_document(document))
    elif fmt == "csv":
        writer = _csv_writer(out)
        writer.writerow(_APPEARANCE_CSV)
        for item in appearances:
            writer.writerow([_text(v) for v in appearance_to_api(item).values()])
    else:
        rows = [
            (
                a.external_image_id or "-",
                format_millis(a.first_timestamp),
                format_millis(a.last_timestamp),
                _format_span(a.last_timestamp - a.first_timestamp),
                f"{a.best_similarity:.2f}",
                str(a.matches),
                a.face_id,
            )
            for a in appearances
        ]
        table = Table(out, _data_columns(_APPEARANCE_COLUMNS, rows), width or terminal_width())
        table.header()
        table.rows(rows)
        lines = timeline_lines(
            appearances, duration_millis, width or terminal_width(), _blocks(out)
        )
        if lines:
            out.write("\n" + "".join(lines))
    out.flush()
