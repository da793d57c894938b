"""A real browser for the timeline tests: headless Chromium's screenshot, read with zlib.

`screenshot` renders a page file the way a user opens it (``file://``) and `read_png`
decodes the PNG Chromium writes (8-bit RGB or RGBA, not interlaced) with the
stdlib only, so the test needs nothing beyond the browser.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

__all__ = ["Image", "chromium", "read_png", "screenshot"]

#: The names Debian and others give the browser's command.
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium() -> str | None:
    """The browser's command on PATH (or ``CHROMIUM``), or `None`."""
    named = os.environ.get("CHROMIUM")
    if named:
        return shutil.which(named) or named
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(browser: str, page: Path, png: Path, size: tuple[int, int] = (1200, 800)) -> None:
    """Render `page` headless at `size` into `png` (a fresh profile, no network use)."""
    profile = png.with_name(png.stem + "-profile")
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-extensions",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={size[0]},{size[1]}",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    shutil.rmtree(profile, ignore_errors=True)


class Image:
    """Decoded pixels: `pixel(x, y)` is an (r, g, b) tuple."""

    def __init__(self, width: int, height: int, rows: list[bytes], channels: int) -> None:
        self.width = width
        self.height = height
        self._rows = rows
        self._channels = channels

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        at = x * self._channels
        row = self._rows[y]
        return row[at], row[at + 1], row[at + 2]


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(path: Path) -> Image:
    """The pixels of an 8-bit, non-interlaced RGB or RGBA PNG."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    at = 8
    idat = bytearray()
    width = height = channels = 0
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunk = data[at + 4 : at + 8]
        body = data[at + 8 : at + 8 + length]
        at += 12 + length
        if chunk == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise ValueError(f"{path}: only 8-bit RGB(A), non-interlaced PNGs are read")
            channels = 3 if colour == 2 else 4
        elif chunk == b"IDAT":
            idat += body
        elif chunk == b"IEND":
            break
    raw = zlib.decompress(bytes(idat))
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                line[i] = (line[i] + _paeth(left, up, corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return Image(width, height, rows, channels)
