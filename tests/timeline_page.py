"""The timeline page read back with the stdlib's html.parser, as the tests need it.

`Page` holds the lanes (person, bars), the axis (where 0 and the end are drawn), the
ticks, every attribute and every text node, so tests check the drawing itself rather
than the strings that make it.
"""

from __future__ import annotations

from html.parser import HTMLParser

import attrs

__all__ = ["Bar", "Lane", "Page", "parse_page"]


@attrs.define
class Bar:
    x: float
    width: float
    y: float
    first: int
    last: int
    title: str = ""


@attrs.define
class Lane:
    person: str
    fill: str = ""
    label: str = ""
    label_title: str = ""
    bars: list[Bar] = attrs.Factory(list)


@attrs.define
class Page:
    lanes: list[Lane] = attrs.Factory(list)
    axis: tuple[float, float] | None = None
    ticks: list[tuple[int, float, str]] = attrs.Factory(list)
    attributes: list[tuple[str, str, str]] = attrs.Factory(list)
    texts: list[str] = attrs.Factory(list)
    styles: list[str] = attrs.Factory(list)
    tags: list[str] = attrs.Factory(list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._stack: list[tuple[str, dict[str, str]]] = []
        self._tick: tuple[int, float] | None = None

    def handle_starttag(self, tag: str, attrs_: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs_}
        self.page.tags.append(tag)
        for name, value in found.items():
            self.page.attributes.append((tag, name, value))
        classes = found.get("class", "").split()
        if tag == "g" and "lane" in classes:
            self.page.lanes.append(Lane(found["data-person"]))
        elif tag == "rect" and "bar" in classes:
            self.page.lanes[-1].fill = found["fill"]
            self.page.lanes[-1].bars.append(
                Bar(
                    float(found["x"]),
                    float(found["width"]),
                    float(found["y"]),
                    int(found["data-first"]),
                    int(found["data-last"]),
                )
            )
        elif tag == "line" and "axis-line" in classes:
            self.page.axis = (float(found["x1"]), float(found["x2"]))
        elif tag == "g" and "tick" in classes:
            self._tick = (int(found["data-millis"]), 0.0)
        elif tag == "line" and self._tick is not None:
            self._tick = (self._tick[0], float(found["x1"]))
        if tag not in ("line", "meta", "rect") or (tag == "rect" and "bar" in classes):
            self._stack.append((tag, found))

    def handle_startendtag(self, tag: str, attrs_: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs_)
        if self._stack and self._stack[-1][0] == tag:
            self._stack.pop()

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            open_tag, _ = self._stack.pop()
            if open_tag == tag:
                break
        if tag == "g":
            self._tick = None

    def handle_data(self, data: str) -> None:
        self.page.texts.append(data)
        if not self._stack:
            return
        tag, found = self._stack[-1]
        parent = self._stack[-2] if len(self._stack) > 1 else ("", {})
        if tag == "style":
            self.page.styles.append(data)
        elif tag == "title" and parent[0] == "rect":
            self.page.lanes[-1].bars[-1].title += data
        elif tag == "title" and parent[0] == "text":
            self.page.lanes[-1].label_title += data
        elif tag == "text" and "label" in found.get("class", "").split():
            self.page.lanes[-1].label += data
        elif tag == "text" and self._tick is not None:
            self.page.ticks.append((self._tick[0], self._tick[1], data))


def parse_page(text: str) -> Page:
    reader = _Reader()
    reader.feed(text)
    reader.close()
    return reader.page
