"""The waiting line on stderr.

`ProgressPoller` wraps any `Poller`: `FaceSearchClient.wait` hands it the client's
``fetch_status``, and it hands the inner poller a wrapper that reports every status
it fetches. No private access, and every poller (backoff, SQS) gets progress.

On a terminal the line is rewritten in place (elapsed time, state, polls made) and
ticks every second while the poller sleeps; otherwise one plain line per change of
state, so logs and CI output stay readable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .streams import TextSink
from .table import terminal_width

if TYPE_CHECKING:
    import boto3

    from rekoface.batch import BatchProgress
    from rekoface.pollers import Poller
    from rekoface.results import JobState, JobStatus

__all__ = ["BatchBar", "Progress", "ProgressPoller", "format_elapsed"]

_CLEAR = "\r\x1b[K"


def format_elapsed(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _put_live(stream: TextSink, line: str) -> None:
    """Redraw the live line: `line`, cut to the terminal's width."""
    room = terminal_width() - 1
    if len(line) > room:
        line = line[: room - 1] + "…"
    stream.write(_CLEAR + line)
    stream.flush()


def _ticking(sleep: Callable[[float], None], redraw: Callable[[], None]) -> Callable[[float], None]:
    """`sleep`, in slices of at most a second, calling `redraw` between them."""

    def ticking(seconds: float) -> None:
        left = seconds
        while left > 0:
            step = min(1.0, left)
            sleep(step)
            left -= step
            if left > 0:
                redraw()

    return ticking


class Progress:
    """Reports a wait on `stream`: a live line on a terminal, a line per change otherwise."""

    def __init__(
        self,
        stream: TextSink,
        *,
        clock: Callable[[], float],
        enabled: bool = True,
        live: bool | None = None,
    ) -> None:
        self._stream = stream
        self._clock = clock
        self._enabled = enabled
        self._live = stream.isatty() if live is None else live
        self._job_id = ""
        self._started = 0.0
        self._polls = 0
        self._state: JobState | None = None
        self._drawn = False

    @property
    def polls(self) -> int:
        """Status calls made so far."""
        return self._polls

    def begin(self, job_id: str) -> None:
        self._job_id = job_id
        self._started = self._clock()
        self._polls = 0
        self._state = None

    def _elapsed(self) -> str:
        return format_elapsed(self._clock() - self._started)

    def _summary(self) -> str:
        noun = "poll" if self._polls == 1 else "polls"
        return f"{self._state} ({self._elapsed()}, {self._polls} {noun})"

    def polled(self, status: JobStatus) -> None:
        """A status was fetched: redraw, or print it if the state changed."""
        self._polls += 1
        changed = status.state != self._state
        self._state = status.state
        if not self._enabled:
            return
        if self._live:
            self._draw()
        elif changed:
            self.message(f"job {self._job_id}: {self._summary()}")

    def _draw(self) -> None:
        # State first: on a narrow terminal the cut falls on the (long) JobId.
        _put_live(self._stream, f"waiting: {self._summary()} for job {self._job_id}")
        self._drawn = True

    def sleeper(self, sleep: Callable[[float], None]) -> Callable[[float], None]:
        """`sleep`, in slices of at most a second that redraw the live line."""
        if not (self._enabled and self._live):
            return sleep
        return _ticking(sleep, self._redraw)

    def _redraw(self) -> None:
        if self._state is not None:  # nothing to show before the first status
            self._draw()

    def end(self, status: JobStatus | None) -> None:
        """Leave the live line; with a final status, say how the wait ended."""
        if not self._enabled:
            return
        if self._drawn:
            self._stream.write(_CLEAR)
            self._drawn = False
        if status is not None and (self._live or status.state != self._state):
            self._state = status.state
            self._stream.write(f"job {self._job_id}: {self._summary()}\n")
        self._stream.flush()

    def message(self, text: str) -> None:
        """A line of its own (kept clear of the live line)."""
        if not self._enabled:
            return
        if self._drawn:
            self._stream.write(_CLEAR)
            self._drawn = False
        self._stream.write(text + "\n")
        self._stream.flush()


class ProgressPoller:
    """A `Poller` that reports every status its inner poller fetches."""

    def __init__(self, inner: Poller, progress: Progress) -> None:
        self._inner = inner
        self._progress = progress

    def bind_session(self, boto3_session: boto3.Session | None, region_name: str | None) -> None:
        """Pass the client's session on to an inner poller that wants it (SQS)."""
        bind = getattr(self._inner, "bind_session", None)
        if callable(bind):
            bind(boto3_session, region_name)

    def wait(
        self,
        job_id: str,
        fetch_status: Callable[[str], JobStatus],
        *,
        timeout: float | None = None,
    ) -> JobStatus:
        progress = self._progress

        def reporting(job: str) -> JobStatus:
            status = fetch_status(job)
            progress.polled(status)
            return status

        progress.begin(job_id)
        final: JobStatus | None = None
        try:
            final = self._inner.wait(job_id, reporting, timeout=timeout)
            return final
        finally:
            progress.end(final)


class BatchBar:
    """The line of ``rekoface batch`` on stderr: counts, window, rate and ETA.

    Drawn only on a terminal (rewritten in place, ticking every second while the batch
    sleeps); elsewhere the bar stays quiet and only `message` lines are written. The
    ETA needs the number of videos (`total`), known when they were given as arguments.
    """

    def __init__(
        self,
        stream: TextSink,
        *,
        clock: Callable[[], float],
        enabled: bool = True,
        live: bool | None = None,
        total: int | None = None,
    ) -> None:
        self._stream = stream
        self._clock = clock
        self._live = enabled and (stream.isatty() if live is None else live)
        self._enabled = enabled
        self.total = total
        self._started = clock()
        self._drawn = False
        self.last: BatchProgress | None = None

    def update(self, snapshot: BatchProgress) -> None:
        """The batch changed (its `progress` callback): redraw."""
        self.last = snapshot
        if self._live:
            self._draw()

    def line(self) -> str:
        """What the bar shows now."""
        p = self.last
        elapsed = self._clock() - self._started
        if p is None:
            return f"batch: starting ({format_elapsed(elapsed)})"
        total = f"/{self.total}" if self.total is not None else ""
        parts = [
            f"batch: {p.done}{total} done ({p.succeeded} ok, {p.failed} failed)",
            f"{p.in_flight} running",
            f"window {p.window}/{p.limit}",
        ]
        if p.held_by_others:
            parts.append(f"{p.held_by_others} held by others")
        if p.waiting:
            parts.append(f"{p.waiting} waiting")
        if p.done and elapsed > 0:
            rate = p.done / elapsed * 60
            parts.append(f"{rate:.1f}/min")
            if self.total is not None and self.total > p.done:
                parts.append(f"ETA {format_elapsed((self.total - p.done) / rate * 60)}")
        parts.append(format_elapsed(elapsed))
        return ", ".join(parts)

    def _draw(self) -> None:
        _put_live(self._stream, self.line())
        self._drawn = True

    def sleeper(self, sleep: Callable[[float], None]) -> Callable[[float], None]:
        """`sleep`, in slices of at most a second that redraw the live line."""
        if not self._live:
            return sleep
        return _ticking(sleep, self._draw)

    def message(self, text: str) -> None:
        """A line of its own (kept clear of the live line): an error, shown even when the
        bar is quiet (``--quiet``, or not a terminal)."""
        if self._drawn:
            self._stream.write(_CLEAR)
            self._drawn = False
        self._stream.write(text + "\n")
        self._stream.flush()
        if self._live and self.last is not None:
            self._draw()

    def end(self) -> None:
        """Leave the live line with its final state on a line of its own."""
        if self._drawn:
            self._stream.write(_CLEAR + self.line() + "\n")
            self._stream.flush()
            self._drawn = False
