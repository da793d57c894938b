"""`AsyncFaceSearchResults`: a job's matches, fetched lazily, one page at a time, off the loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ._threads import iterate_in_threads

if TYPE_CHECKING:
    from rekoface.results import (
        Appearance,
        FaceSearchPage,
        FaceSearchResults,
        PersonMatch,
        VideoMetadata,
    )

__all__ = ["AsyncFaceSearchResults"]


class AsyncFaceSearchResults:
    """The matches of a finished face search, for ``async for``.

    Wraps the sync `FaceSearchResults` (its paging, checks and parsing are the ones
    used): each page is fetched in a worker thread when iteration reaches it, so
    nothing is fetched before iteration starts, one page is held at a time and none is
    prefetched.
    """

    __slots__ = ("_results",)

    def __init__(self, results: FaceSearchResults) -> None:
        self._results = results

    def __repr__(self) -> str:
        return f"{type(self).__name__}(job_id={self._results.job_id!r})"

    @property
    def job_id(self) -> str:
        """The job whose results these are."""
        return self._results.job_id

    def pages(self) -> AsyncIterator[FaceSearchPage]:
        """Each page (the sync client's `FaceSearchPage`) with the token that resumes after it."""
        return iterate_in_threads(self._results.pages())

    async def __aiter__(self) -> AsyncIterator[PersonMatch]:
        async for page in self.pages():
            for match in page.matches:
                yield match

    async def appearances(
        self, *, max_gap_ms: int = 1000, group_by: str = "person"
    ) -> list[Appearance]:
        """`FaceSearchResults.appearances`, its pages fetched and folded in a worker thread."""
        return await asyncio.to_thread(
            self._results.appearances, max_gap_ms=max_gap_ms, group_by=group_by
        )

    async def video_metadata(self) -> VideoMetadata | None:
        """The video's metadata, from the first page fetched (fetched now if none was yet)."""
        return await asyncio.to_thread(lambda: self._results.video_metadata)
