"""Who was seen when: the appearances in each format, and the timeline under the table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .api_shapes import appearance_to_api
from .encodings import csv_writer, json_document, json_line, text_of
from .streams import TextSink
from .table import (
    GAP,
    Column,
    Table,
    cell,
    data_columns,
    format_millis,
    format_span,
    terminal_width,
)

if TYPE_CHECKING:
    from rekoface.results import Appearance

__all__ = ["timeline_lines", "write_appearances"]

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
        lines.append(f"{cell(key, names, '<')}{' ' * GAP}{edge}{''.join(bar)}{edge}\n")
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
        out.write("".join(json_line(appearance_to_api(a)) for a in appearances))
    elif fmt == "json":
        document = {"JobId": job_id, "Appearances": [appearance_to_api(a) for a in appearances]}
        out.write(json_document(document))
    elif fmt == "csv":
        writer = csv_writer(out)
        writer.writerow(_APPEARANCE_CSV)
        for item in appearances:
            writer.writerow([text_of(v) for v in appearance_to_api(item).values()])
    else:
        rows = [
            (
                a.external_image_id or "-",
                format_millis(a.first_timestamp),
                format_millis(a.last_timestamp),
                format_span(a.last_timestamp - a.first_timestamp),
                f"{a.best_similarity:.2f}",
                str(a.matches),
                a.face_id,
            )
            for a in appearances
        ]
        table = Table(out, data_columns(_APPEARANCE_COLUMNS, rows), width or terminal_width())
        table.header()
        table.rows(rows)
        lines = timeline_lines(
            appearances, duration_millis, width or terminal_width(), _blocks(out)
        )
        if lines:
            out.write("\n" + "".join(lines))
    out.flush()
