"""`AsyncFaceSearchResults`: a job's matches, fetched lazily, one page at a time, off the loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Generator
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

    from ._native import PageSource

__all__ = ["AsyncFaceSearchResults"]


class AsyncFaceSearchResults:
    """The matches of a finished face search, for ``async for``.

    Wraps the sync `FaceSearchResults` (its paging, checks and parsing are the ones
    used): each page is fetched when iteration reaches it (in a worker thread, or
    awaited on an aiobotocore client), so nothing is fetched before iteration starts,
    one page is held at a time and none is prefetched.
    """

    __slots__ = ("_next_token", "_results", "_source")

    def __init__(
        self,
        results: FaceSearchResults,
        *,
        source: PageSource | None = None,
        next_token: str | None = None,
    ) -> None:
        self._results = results
        self._source = source
        self._next_token = next_token or None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(job_id={self._results.job_id!r})"

    @property
    def job_id(self) -> str:
        """The job whose results these are."""
        return self._results.job_id

    def pages(self) -> AsyncIterator[FaceSearchPage]:
        """Each page (the sync client's `FaceSearchPage`) with the token that resumes after it."""
        if self._source is None:
            return iterate_in_threads(self._results.pages())
        return _awaited_pages(self._results, self._source, self._next_token)

    async def __aiter__(self) -> AsyncIterator[PersonMatch]:
        async for page in self.pages():
            for match in page.matches:
                yield match

    async def appearances(
        self, *, max_gap_ms: int = 1000, group_by: str = "person"
    ) -> list[Appearance]:
        """`FaceSearchResults.appearances`, its pages folded in a worker thread.

        On an aiobotocore client the pages are still fetched on the loop, one at a time.
        """
        if self._source is not None:
            self._source.bind(asyncio.get_running_loop())
        return await asyncio.to_thread(
            self._results.appearances, max_gap_ms=max_gap_ms, group_by=group_by
        )

    async def video_metadata(self) -> VideoMetadata | None:
        """The video's metadata, from the first page fetched (fetched now if none was yet)."""
        source = self._source
        if source is None:
            return await asyncio.to_thread(lambda: self._results.video_metadata)
        from ._native import NeedsPage

        try:
            return self._results.video_metadata
        except NeedsPage as needed:
            await source.prime(needed.token)
            return self._results.video_metadata


async def _awaited_pages(
    results: FaceSearchResults, source: PageSource, token: str | None
) -> AsyncGenerator[FaceSearchPage, None]:
    """The sync `pages()` stepped on the loop, each page awaited just before its step."""
    pages = results.pages()
    try:
        while True:
            await source.prime(token)
            page = next(pages)  # parses the page just fetched: no call of its own
            token = page.next_token
            yield page
            del page
            if token is None:
                return
    finally:
        if isinstance(pages, Generator):
            pages.close()
