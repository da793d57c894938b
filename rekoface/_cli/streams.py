"""stdout and stderr as the commands see them, and the passwords they never show.

A command's exit code must not depend on whether its streams can be written: with
stderr closed (``2>&-``) the messages are lost but the codes stay; a failed write
to stdout (a full disk, a descriptor closed under it) is an `OutputError`, which
`main` turns into one line and exit code 1. A closed pipe (``| head``) stays a
`BrokenPipeError`: the reader went away, and the command stops quietly.

Everything written to stderr goes through `mask_passwords`, so the password of a URL
such as ``--endpoint-url http://user:pw@host`` never shows, in error lines, resume
lines, log lines and tracebacks alike.
"""

from __future__ import annotations

import contextlib
from typing import IO, Final, Protocol

from rekoface._translate import redact_url

__all__ = ["MessageStream", "OutputError", "Stdout", "TextSink", "mask_passwords"]

MASK: Final = "***"

#: `text` with the password of every URL in it replaced by ``***`` (the library's rule).
mask_passwords: Final = redact_url


class TextSink(Protocol):
    """What the writers need of a stream."""

    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...

    def isatty(self) -> bool: ...


class OutputError(Exception):
    """stdout could not be written (not a closed pipe): the output is incomplete."""


class Stdout:
    """stdout for the commands: a failed write or flush raises `OutputError`."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str, /) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as err:  # ValueError: the file object was closed
            raise OutputError(f"cannot write to stdout: {err}") from err

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as err:
            raise OutputError(f"cannot write to stdout: {err}") from err

    def isatty(self) -> bool:
        try:
            return self._stream.isatty()
        except (OSError, ValueError):
            return False

    @property
    def encoding(self) -> str | None:
        """The stream's encoding (what the table's timeline may use), if it says."""
        return getattr(self._stream, "encoding", None)


class MessageStream:
    """A stream for messages (stderr, help): passwords masked, never a failure of its own.

    `stream` is `None` when it was closed before the process started; then (and
    when a write fails) the text is dropped, so the exit code is still the command's.
    """

    def __init__(self, stream: IO[str] | None) -> None:
        self._stream = stream

    def write(self, text: str, /) -> int:
        if self._stream is not None:
            with contextlib.suppress(OSError, ValueError):
                self._stream.write(mask_passwords(text))
        return len(text)

    def flush(self) -> None:
        if self._stream is not None:
            with contextlib.suppress(OSError, ValueError):
                self._stream.flush()

    def isatty(self) -> bool:
        if self._stream is None:
            return False
        try:
            return self._stream.isatty()
        except (OSError, ValueError):
            return False
