"""Tables for the terminal: columns that give way when space is short, and the
times in them.

A table is laid out once for the terminal's width (``COLUMNS``, else the terminal,
else 80), so rows streamed page by page line up; piped, it stays plain aligned text.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence

import attrs

from .streams import TextSink

__all__ = [
    "ELLIPSIS",
    "GAP",
    "Column",
    "Table",
    "cell",
    "data_columns",
    "fit",
    "format_millis",
    "format_span",
    "terminal_width",
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


def format_span(millis: int) -> str:
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


def cell(text: str, width: int, align: str) -> str:
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
        parts = [cell(cells[i], w, self._columns[i].align) for i, w in self._layout]
        return (" " * GAP).join(parts).rstrip() + "\n"

    def header(self) -> None:
        self._out.write(self._line([c.header for c in self._columns]))

    def rows(self, rows: Iterable[Sequence[str]]) -> None:
        self._out.write("".join(self._line(row) for row in rows))


def data_columns(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> list[Column]:
    """Columns as wide as their widest cell (for output known in full)."""
    sized: list[Column] = []
    for i, column in enumerate(columns):
        natural = max([len(column.header), *(len(row[i]) for row in rows)])
        max_width = natural if column.min_width is not None else column.max_width
        sized.append(attrs.evolve(column, width=natural, max_width=max_width))
    return sized
