"""`rekoface.timeline.render_html`: the picture of who was seen when, read back as HTML.

The page is parsed with html.parser (tests/timeline_page.py): every interval must be
drawn where its times say along the axis, in its person's lane, with its hover text;
hostile names come out escaped; nothing is fetched from anywhere.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser import chromium, read_png, screenshot
from hypothesis import given, settings
from hypothesis import strategies as st
from timeline_page import Page, parse_page

from rekoface.appearances import Appearance
from rekoface.cli import main
from rekoface.errors import RequestValidationError
from rekoface.timeline import render_html, tick_step

HOSTILE = [
    "<script>alert(1)</script>",
    'bob" onmouseover="alert(1)',
    "tom & jerry's",
    "</title></svg><img src=x onerror=alert(1)>",
]


def appearance(key: str, first: int, last: int, similarity: float = 95.0) -> Appearance:
    return Appearance(
        f"face-{key}", key, first, last, similarity, 1 + (last - first) // 500, key=key
    )


DURATION = 40_000


def assert_drawn_where_times_say(
    page: Page, appearances: list[Appearance], duration: float
) -> None:
    assert page.axis is not None
    start, end = page.axis
    scale = (end - start) / duration
    drawn = [(lane.person, bar.first, bar.last) for lane in page.lanes for bar in lane.bars]
    assert sorted(drawn) == sorted(
        (a.key, a.first_timestamp, a.last_timestamp) for a in appearances
    )
    for lane in page.lanes:
        for bar in lane.bars:
            assert bar.x == pytest.approx(start + bar.first * scale, abs=0.01)
            span = (bar.last - bar.first) * scale
            # A bar is exactly as long as its interval, or a sliver when that is too short.
            assert bar.width == pytest.approx(span, abs=0.01) or (span < bar.width <= 2.01)
            assert bar.x + bar.width <= end + 2.01


def test_every_interval_is_drawn_where_its_times_say_in_its_persons_lane() -> None:
    seen = [
        appearance("alice", 2_000, 9_500, 97.25),
        appearance("bob", 4_000, 12_000),
        appearance("carol", 15_000, 21_500),
        appearance("alice", 25_000, 31_000),
        appearance("erin", 33_000, 33_000),  # one match: still a visible bar
    ]
    page = parse_page(render_html(seen, duration_millis=DURATION, title="lobby.mp4"))
    assert [lane.person for lane in page.lanes] == ["alice", "bob", "carol", "erin"]
    assert [len(lane.bars) for lane in page.lanes] == [2, 1, 1, 1]
    assert_drawn_where_times_say(page, seen, DURATION)
    # Lanes stack: each lane's bars sit below the previous lane's.
    tops = [lane.bars[0].y for lane in page.lanes]
    assert tops == sorted(tops)
    assert len(set(tops)) == len(tops)
    assert all(len({bar.y for bar in lane.bars}) == 1 for lane in page.lanes)
    # The hover says who, from when to when, and the best similarity.
    assert page.lanes[0].bars[0].title == (
        "alice: 0:02.0 \u2013 0:09.5, best similarity 97.25%, 16 matches"
    )
    assert "0:40" in [label for _, _, label in page.ticks]
    assert "lobby.mp4" in page.texts


def test_lanes_are_sorted_by_first_appearance_whatever_the_input_order() -> None:
    seen = [appearance("zed", 1_000, 2_000), appearance("amy", 5_000, 6_000)]
    page = parse_page(render_html(list(reversed(seen)), duration_millis=10_000))
    assert [lane.person for lane in page.lanes] == ["zed", "amy"]


def test_the_axis_ends_at_the_last_match_when_the_length_is_unknown_or_too_short() -> None:
    seen = [appearance("alice", 1_000, 7_000)]
    for duration in (None, 3_000):
        page = parse_page(render_html(seen, duration_millis=duration))
        assert page.axis is not None
        assert page.lanes[0].bars[0].x + page.lanes[0].bars[0].width == pytest.approx(page.axis[1])


@pytest.mark.parametrize(
    ("duration", "step", "label"),
    [
        (3_000, 500, "0.5s"),
        (40_000, 5_000, "0:05"),
        (600_000, 60_000, "1:00"),
        (6 * 3_600_000, 1_800_000, "0:30:00"),
    ],
)
def test_ticks_are_seconds_minutes_or_hours_as_the_length_asks(
    duration: int, step: int, label: str
) -> None:
    assert tick_step(duration) == step
    page = parse_page(render_html([appearance("a", 0, duration)], duration_millis=duration))
    ticks = page.ticks
    assert [t for t, _, _ in ticks] == list(range(0, duration + 1, step))
    assert ticks[1][2] == label
    # Ticks are drawn where the axis says their time is, far enough apart to read.
    assert page.axis is not None
    start, end = page.axis
    for millis, x, _ in ticks:
        assert x == pytest.approx(start + millis / duration * (end - start), abs=0.01)
    assert ticks[1][1] - ticks[0][1] >= 80


def test_a_six_hour_video_with_a_hundred_people_stays_readable() -> None:
    six_hours = 6 * 3_600_000
    seen = [
        appearance(f"person-{n:03d}", n * 100_000 + k * 3_000_000, n * 100_000 + k * 3_000_000 + 1)
        for n in range(100)
        for k in range(3)
    ]
    page = parse_page(render_html(seen, duration_millis=six_hours))
    assert len(page.lanes) == 100
    assert_drawn_where_times_say(page, seen, six_hours)
    assert len(page.ticks) <= 13  # a label every half hour, not every second
    assert page.ticks[2][2] == "1:00:00"
    assert page.lanes[0].bars[0].title.startswith("person-000: 0:00:00.0 \u2013 0:00:00.0")


def test_hostile_names_and_titles_come_out_escaped() -> None:
    seen = [appearance(name, 1_000 * i, 1_000 * i + 500) for i, name in enumerate(HOSTILE)]
    text = render_html(seen, duration_millis=10_000, title=HOSTILE[0] + HOSTILE[1])
    page = parse_page(text)
    # What the browser sees is the names as text, nothing more.
    assert [lane.person for lane in page.lanes] == HOSTILE
    assert all(lane.bars[0].title.startswith(lane.person + ": ") for lane in page.lanes)
    assert set(page.tags) <= {
        "html", "head", "meta", "title", "style", "body", "h1", "p", "div", "svg", "line",
        "g", "text", "rect", "details", "summary", "table", "tr", "th", "td",
    }  # fmt: skip
    assert "script" not in page.tags
    assert "img" not in page.tags
    assert not any(name.startswith("on") for _, name, _ in page.attributes)
    for name in HOSTILE:
        assert name not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "bob&quot; onmouseover=&quot;alert(1)" in text
    assert "tom &amp; jerry&#x27;s" in text


def test_nothing_outside_the_page_is_referenced() -> None:
    seen = [appearance("https://example.com/x.png", 0, 1_000), appearance("url(x)", 0, 900)]
    text = render_html(seen, duration_millis=5_000, title="s3://bucket/@import.mp4")
    page = parse_page(text)
    linking = {"src", "href", "xlink:href", "srcset", "data", "action", "poster"}
    assert [a for a in page.attributes if a[1] in linking] == []
    assert page.tags.count("script") == 0
    assert "link" not in page.tags
    style = "".join(page.styles)
    assert "@import" not in style
    assert "url(" not in style
    assert "@font-face" not in style
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", text)


def test_a_video_with_no_appearances_says_so() -> None:
    page = parse_page(render_html([], duration_millis=60_000, title="empty.mp4"))
    assert page.lanes == []
    assert "No one from the collection was seen in this video." in page.texts
    assert "0 people, 0 appearances; video length 1:00.0" in page.texts


def test_bad_arguments_name_each_field() -> None:
    with pytest.raises(RequestValidationError) as caught:
        render_html(["alice"], duration_millis=float("nan"), title=3)  # type: ignore[arg-type, list-item]
    assert [e.path for e in caught.value.errors] == ["appearances", "duration_millis", "title"]
    with pytest.raises(RequestValidationError):
        render_html("alice")  # type: ignore[arg-type]


def test_import_rekoface_does_not_load_the_timeline() -> None:
    code = "import sys, rekoface; print('rekoface.timeline' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


_names = st.text(min_size=1, max_size=12)


@st.composite
def _appearances(draw: st.DrawFn) -> tuple[list[Appearance], int]:
    duration = draw(st.integers(1, 8 * 3_600_000))
    items = []
    for key in draw(st.lists(_names, max_size=6, unique=True)):
        for _ in range(draw(st.integers(1, 3))):
            first = draw(st.integers(0, duration))
            last = draw(st.integers(first, duration))
            similarity = draw(st.floats(80, 100))
            items.append(appearance(key, first, last, similarity))
    return items, duration


@settings(max_examples=60, deadline=None)
@given(_appearances())
def test_random_appearances_are_all_drawn_where_their_times_say(
    case: tuple[list[Appearance], int],
) -> None:
    seen, duration = case
    page = parse_page(render_html(seen, duration_millis=duration))
    if not seen:
        assert page.lanes == []
        return
    assert_drawn_where_times_say(page, seen, duration)
    firsts = [min(b.first for b in lane.bars) for lane in page.lanes]
    assert firsts == sorted(firsts)


def test_the_demo_page_shows_its_lanes_in_a_real_browser(tmp_path: Path) -> None:
    """Headless Chromium renders `rekoface demo --html`: each lane's colour is on screen,
    lanes top to bottom in order, each bar's ends where its times put them."""
    browser = chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but no Chromium is installed (.ci/run installs it)")
        pytest.skip("no Chromium on PATH (apt-get install chromium); CI runs this test")
    page_file = tmp_path / "who.html"
    assert main(["demo", "--quiet", "--html", str(page_file), "--format", "json"]) == 0
    page = parse_page(page_file.read_text(encoding="utf-8"))
    png = tmp_path / "who.png"
    screenshot(browser, page_file, png)
    image = read_png(png)
    assert (image.width, image.height) == (1200, 800)

    colours = {_rgb(lane.fill): index for index, lane in enumerate(page.lanes)}
    assert len(colours) == len(page.lanes) == 4
    rows: dict[int, set[int]] = {i: set() for i in colours.values()}
    for y in range(image.height):
        for x in range(image.width):
            found_in = colours.get(image.pixel(x, y))
            if found_in is not None:
                rows[found_in].add(y)
    # Every lane is on screen, each below the one before.
    assert all(len(ys) >= 8 for ys in rows.values())
    assert all(max(rows[i]) < min(rows[i + 1]) for i in range(len(rows) - 1))
    # Along a line through the middle of each lane, its colour runs exactly where its
    # bars are: the screen's x is one linear map of the bars' times for every bar.
    runs: list[tuple[int, int, int, int]] = []  # (first ms, last ms, from x, to x)
    for index, lane in enumerate(page.lanes):
        ys = sorted(rows[index])
        y = ys[len(ys) // 2]
        colour = _rgb(lane.fill)
        xs = [x for x in range(image.width) if image.pixel(x, y) == colour]
        found = _runs(xs)
        assert len(found) == len(lane.bars), (lane.person, found)
        runs += [(b.first, b.last, lo, hi) for b, (lo, hi) in zip(lane.bars, found, strict=True)]
    earliest = min(runs)
    latest = max(runs, key=lambda run: run[1])
    scale = (latest[3] - earliest[2]) / (latest[1] - earliest[0])
    for first, last, lo, hi in runs:
        assert abs(lo - (earliest[2] + (first - earliest[0]) * scale)) <= 3
        assert abs(hi - (earliest[2] + (last - earliest[0]) * scale)) <= 3
    assert scale > 0.01  # the 40 seconds of bars span hundreds of pixels, not a few


def _rgb(fill: str) -> tuple[int, int, int]:
    return int(fill[1:3], 16), int(fill[3:5], 16), int(fill[5:7], 16)


def _runs(xs: list[int]) -> list[tuple[int, int]]:
    """Consecutive x's as (first, last) runs, ignoring gaps of a pixel or two (a grid
    line drawn across a bar's anti-aliased edge)."""
    found: list[tuple[int, int]] = []
    for x in xs:
        if found and x - found[-1][1] <= 3:
            found[-1] = (found[-1][0], x)
        else:
            found.append((x, x))
    return found


def test_ticks_of_a_longer_than_daily_recording_are_whole_days_far_enough_apart() -> None:
    day = 86_400_000
    for days in (30, 100, 1000):
        step = tick_step(days * day)
        assert step % day == 0
        assert step * 960 / (days * day) >= 80  # the spacing a label needs
        assert (step - day) * 960 / (days * day) < 80  # and no more than that
