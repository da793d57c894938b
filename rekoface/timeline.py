"""Who was seen when, as a picture: one self-contained HTML page of lanes and bars.

`render_html` draws `FaceSearchResults.appearances` along the video's length: a lane
per person (sorted by first appearance), a bar per interval, a time axis whose ticks
are seconds, minutes or hours as the length asks, and on hover (an SVG ``<title>``)
the person, the from-to times and the best similarity. The page is inline HTML, CSS
and SVG only, with no script, font, stylesheet or image fetched from anywhere, so it
opens from a file or an e-mail attachment. Every string from a user or the service
(an ``ExternalImageId``, a title, an S3 key) is HTML-escaped.

Import it as ``from rekoface.timeline import render_html``; ``import rekoface`` does
not load it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Final, cast

from ._validation import is_finite_number, shown
from .errors import FieldError, RequestValidationError

if TYPE_CHECKING:
    from .appearances import Appearance

__all__ = ["lanes", "render_html", "tick_step"]

#: The drawing's coordinates (the SVGs scale to the page's width, keeping these ratios).
LABEL_WIDTH: Final = 180
PLOT_WIDTH: Final = 960
RIGHT_MARGIN: Final = 30
WIDTH: Final = LABEL_WIDTH + PLOT_WIDTH + RIGHT_MARGIN
LANE_HEIGHT: Final = 22
BAR_HEIGHT: Final = 14
AXIS_HEIGHT: Final = 30
#: A bar is at least this wide, so a single match on a 6-hour video still shows.
MIN_BAR_WIDTH: Final = 2.0
#: Ticks at least this far apart (in drawing units), so their labels never overlap.
MIN_TICK_SPACING: Final = 80
#: Names longer than this are cut in the lane's label (the hover shows them whole).
LABEL_CHARS: Final = 22
#: One colour per lane, in turn (distinct hues that read on white and on the stripes).
PALETTE: Final = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#7f7f00",
    "#393b79",
)
#: Tick steps, in milliseconds: the smallest that keeps ticks `MIN_TICK_SPACING` apart.
_STEPS: Final = (
    100,
    200,
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    15_000,
    30_000,
    60_000,
    120_000,
    300_000,
    600_000,
    900_000,
    1_800_000,
    3_600_000,
    7_200_000,
    10_800_000,
    21_600_000,
    43_200_000,
    86_400_000,
)

_STYLE: Final = """
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 20px;
  color: #222; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; overflow-wrap: anywhere; }
p.summary { margin: 0 0 12px; color: #555; }
.chart { max-width: 1170px; }
.chart svg { display: block; width: 100%; height: auto; }
.axis { position: sticky; top: 0; background: #fff; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", sans-serif; fill: #333; }
.tick line { stroke: #999; }
.grid line { stroke: #e4e4e4; }
.stripe { fill: #f5f5f5; }
rect.bar:hover { stroke: #000; stroke-width: 1; }
p.empty { font-size: 16px; padding: 24px; background: #f5f5f5; }
details { margin-top: 16px; }
table { border-collapse: collapse; }
td, th { padding: 2px 10px; text-align: right; }
td:first-child, th:first-child { text-align: left; overflow-wrap: anywhere; }
tr:nth-child(even) td { background: #f5f5f5; }
"""


def _escaped(text: str) -> str:
    return html.escape(text, quote=True)


def _num(value: float) -> str:
    """A coordinate, short: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_time(millis: float, *, hours: bool = False) -> str:
    """``M:SS.s`` (or ``H:MM:SS.s`` when `hours` or past the first hour)."""
    tenths = round(millis / 100)
    h, rest = divmod(tenths, 36_000)
    m, rest = divmod(rest, 600)
    s, t = divmod(rest, 10)
    if h or hours:
        return f"{h}:{m:02d}:{s:02d}.{t}"
    return f"{m}:{s:02d}.{t}"


def tick_step(duration_millis: float, width: float = PLOT_WIDTH) -> int:
    """The tick step (ms) for a video of this length drawn `width` units wide."""
    for step in _STEPS:
        if step * width / max(duration_millis, 1) >= MIN_TICK_SPACING:
            return step
    # Longer than anyone films: whole days, as many as keep the spacing.
    day = _STEPS[-1]
    days = -(-duration_millis * MIN_TICK_SPACING // (width * day))
    return int(max(1, days) * day)


def _tick_label(millis: int, step: int, duration: float) -> str:
    if step < 1000:
        return f"{millis / 1000:g}s"
    seconds = millis // 1000
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if duration >= 3_600_000:  # H:MM:SS throughout, never read as minutes
        return f"{h}:{m:02d}:{s:02d}"
    return f"{m}:{s:02d}"


def lanes(appearances: Iterable[Appearance]) -> list[tuple[str, list[Appearance]]]:
    """The appearances by person (`Appearance.key`), lanes sorted by first appearance,
    then key; each lane's intervals in time order."""
    by_key: dict[str, list[Appearance]] = {}
    for appearance in appearances:
        by_key.setdefault(appearance.key, []).append(appearance)
    for intervals in by_key.values():
        intervals.sort(key=lambda a: (a.first_timestamp, a.last_timestamp))
    return sorted(by_key.items(), key=lambda item: (item[1][0].first_timestamp, item[0]))


def _check(appearances: object, duration_millis: object, title: object) -> list[Appearance]:
    from .appearances import Appearance

    errors: list[FieldError] = []
    items: list[Appearance] = []
    if isinstance(appearances, (str, bytes)) or not isinstance(appearances, Iterable):
        errors.append(
            FieldError(
                "appearances",
                f"{shown(appearances)} is not an iterable of Appearance",
                "Appearance objects",
            )
        )
    else:
        given: list[object] = list(cast("Iterable[object]", appearances))
        items = [item for item in given if isinstance(item, Appearance)]
        bad = [item for item in given if not isinstance(item, Appearance)]
        if bad:
            errors.append(
                FieldError(
                    "appearances",
                    f"{shown(bad[0])} is not an Appearance ({len(bad)} such)",
                    "Appearance objects",
                )
            )
    if duration_millis is not None and (
        not is_finite_number(duration_millis) or duration_millis < 0  # type: ignore[operator]
    ):
        errors.append(
            FieldError(
                "duration_millis", f"{shown(duration_millis)} is not a number >= 0", ">= 0 or None"
            )
        )
    if title is not None and not isinstance(title, str):
        errors.append(FieldError("title", f"must be a str, not {type(title).__name__}", "str"))
    if errors:
        raise RequestValidationError(errors)
    return items


def render_html(
    appearances: Iterable[Appearance],
    *,
    duration_millis: float | None = None,
    title: str | None = None,
) -> str:
    """One self-contained HTML page: a lane per person, a bar per interval.

    `duration_millis` is the video's length (``VideoMetadata.duration_millis``); without
    it, or when an interval ends later, the axis ends at the last match. `title` heads
    the page (a video's URI, a job id). Bad arguments raise `RequestValidationError`
    naming each field.
    """
    items = _check(appearances, duration_millis, title)
    rows = lanes(items)
    last = max((a.last_timestamp for a in items), default=0)
    duration = float(max(duration_millis or 0, last)) or 1000.0
    heading = title if title is not None else "Who was seen when"
    people = len(rows)
    summary = (
        f"{people} {'person' if people == 1 else 'people'}, {len(items)} "
        f"appearance{'' if len(items) == 1 else 's'}; video length "
        f"{format_time(duration) if duration_millis is not None or items else 'unknown'}"
    )
    parts = [
        "<!DOCTYPE html>\n",
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f"<title>{_escaped(heading)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n",
        f"<h1>{_escaped(heading)}</h1>\n",
        f'<p class="summary">{_escaped(summary)}</p>\n',
    ]
    if not rows:
        parts.append('<p class="empty">No one from the collection was seen in this video.</p>\n')
    else:
        parts.append('<div class="chart">\n')
        parts.append(_axis(duration))
        parts.append(_lanes_svg(rows, duration))
        parts.append("</div>\n")
        parts.append(_table(rows, duration))
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def _x(millis: float, duration: float) -> float:
    return LABEL_WIDTH + millis / duration * PLOT_WIDTH


def _ticks(duration: float) -> list[int]:
    step = tick_step(duration)
    return list(range(0, int(duration) + 1, step))


def _axis(duration: float) -> str:
    step = tick_step(duration)
    parts = [
        f'<svg class="axis" viewBox="0 0 {WIDTH} {AXIS_HEIGHT}" '
        f'role="img" aria-label="time axis">\n',
        f'<line class="axis-line" x1="{_num(_x(0, duration))}" y1="{AXIS_HEIGHT - 1}" '
        f'x2="{_num(_x(duration, duration))}" y2="{AXIS_HEIGHT - 1}" stroke="#999"/>\n',
    ]
    for millis in _ticks(duration):
        x = _num(_x(millis, duration))
        label = _tick_label(millis, step, duration)
        parts.append(
            f'<g class="tick" data-millis="{millis}"><line x1="{x}" y1="{AXIS_HEIGHT - 7}" '
            f'x2="{x}" y2="{AXIS_HEIGHT - 1}"/><text x="{x}" y="{AXIS_HEIGHT - 11}" '
            f'text-anchor="middle">{label}</text></g>\n'
        )
    parts.append("</svg>\n")
    return "".join(parts)


def _label(key: str) -> str:
    return key if len(key) <= LABEL_CHARS else key[: LABEL_CHARS - 1] + "…"


def _lanes_svg(rows: Sequence[tuple[str, list[Appearance]]], duration: float) -> str:
    height = LANE_HEIGHT * len(rows)
    parts = [
        f'<svg class="lanes" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="who was seen when">\n',
        '<g class="stripes">',
    ]
    parts += [
        f'<rect class="stripe" x="0" y="{index * LANE_HEIGHT}" width="{WIDTH}" '
        f'height="{LANE_HEIGHT}"/>'
        for index in range(1, len(rows), 2)
    ]
    parts.append('</g>\n<g class="grid">')
    parts += [
        f'<line x1="{_num(_x(t, duration))}" y1="0" x2="{_num(_x(t, duration))}" y2="{height}"/>'
        for t in _ticks(duration)
    ]
    parts.append("</g>\n")
    bar_offset = (LANE_HEIGHT - BAR_HEIGHT) / 2
    hours = duration >= 3_600_000
    for index, (key, intervals) in enumerate(rows):
        top = index * LANE_HEIGHT
        colour = PALETTE[index % len(PALETTE)]
        name = _escaped(key)
        seen = sum(a.last_timestamp - a.first_timestamp for a in intervals)
        count = len(intervals)
        parts.append(f'<g class="lane" data-person="{name}" data-index="{index}">\n')
        parts.append(
            f'<text class="label" x="{LABEL_WIDTH - 8}" y="{_num(top + LANE_HEIGHT * 0.7)}" '
            f'text-anchor="end"><title>{name}: {count} appearance{"" if count == 1 else "s"}, '
            f"seen for {format_time(seen, hours=hours)}</title>{_escaped(_label(key))}</text>\n"
        )
        for a in intervals:
            x = _x(a.first_timestamp, duration)
            width = max(_x(a.last_timestamp, duration) - x, MIN_BAR_WIDTH)
            span = (
                f"{format_time(a.first_timestamp, hours=hours)} \u2013 "
                f"{format_time(a.last_timestamp, hours=hours)}"
            )
            parts.append(
                f'<rect class="bar" x="{_num(x)}" y="{_num(top + bar_offset)}" '
                f'width="{_num(width)}" height="{BAR_HEIGHT}" rx="2" fill="{colour}" '
                f'data-first="{a.first_timestamp}" data-last="{a.last_timestamp}">'
                f"<title>{name}: {span}, best similarity {a.best_similarity:.2f}%, "
                f"{a.matches} match{'' if a.matches == 1 else 'es'}</title></rect>\n"
            )
        parts.append("</g>\n")
    parts.append("</svg>\n")
    return "".join(parts)


def _table(rows: Sequence[tuple[str, list[Appearance]]], duration: float) -> str:
    hours = duration >= 3_600_000
    parts = [
        "<details>\n<summary>Every appearance as a table</summary>\n<table>\n",
        "<tr><th>Person</th><th>From</th><th>To</th><th>Best similarity</th>"
        "<th>Matches</th></tr>\n",
    ]
    for key, intervals in rows:
        name = _escaped(key)
        parts += [
            f"<tr><td>{name}</td><td>{format_time(a.first_timestamp, hours=hours)}</td>"
            f"<td>{format_time(a.last_timestamp, hours=hours)}</td>"
            f"<td>{a.best_similarity:.2f}%</td><td>{a.matches}</td></tr>\n"
            for a in intervals
        ]
    parts.append("</table>\n</details>\n")
    return "".join(parts)
