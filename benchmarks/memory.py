"""Figure 4: peak traced memory iterating many result pages vs one page.

`FaceSearchResults` promises to hold one page at a time, so iterating 100 pages
should peak where iterating one does. Measured with `tracemalloc` (Python
allocations only) around the iteration, after an untraced warm-up that reads into the second page,
so that lazy imports and botocore's model caches are not counted. The pages are generated
before tracing starts: a handful of distinct pages served in turn, each answer
copied with its own ``NextToken``, so every page costs the transport the same.
The hand-written boto3 loop is shown over one and three pages for comparison.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from itertools import islice

from rekoface import FaceSearchClient

from ._canned import JOB_ID, CannedRekognition, page_body, page_token, rekognition_client
from ._common import FigureResult, Sizes, mebibytes
from .iterate import Digest, consume_raw, consume_typed, raw_pages

TARGET = 1.2
#: Distinct page bodies generated up front (more would only cost memory before tracing).
_DISTINCT = 10


def _pages(pages: int, page_size: int) -> Callable[[int], bytes]:
    """Page `index` of `pages`: one of a few generated bodies, with its own NextToken."""
    distinct = [
        page_body(i, pages=1, page_size=page_size)[:-1] for i in range(min(pages, _DISTINCT))
    ]
    tokens = [b',"NextToken":"%s"}' % page_token(i + 1).encode() for i in range(pages - 1)]

    def page(index: int) -> bytes:
        tail = tokens[index] if index < len(tokens) else b"}"
        return distinct[index % len(distinct)] + tail

    return page


def _peak(consume: Callable[[], Digest]) -> tuple[int, Digest]:
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        digest = consume()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, digest


def measure(pages: int, page_size: int, *, side: str) -> tuple[int, Digest]:
    """Peak traced bytes (and what was read) iterating `pages` pages on one side.

    The warm-up reads into the second page (if there is one), untraced: every code path
    of a full iteration has run once before tracing starts.
    """
    transport = CannedRekognition(_pages(pages, page_size))
    boto3_client = rekognition_client(transport)
    client = FaceSearchClient(boto3_client)

    def typed(limit: int | None = None) -> Digest:
        return consume_typed(islice(client.results(JOB_ID, page_size=page_size), limit))

    def raw(limit: int | None = None) -> Digest:
        pages = raw_pages(boto3_client, JOB_ID, page_size)
        return consume_raw(islice(pages, None if limit is None else 2))

    consume = typed if side == "rekoface" else raw
    consume(page_size + 1)
    peak, digest = _peak(consume)
    if digest.persons != pages * page_size:  # pragma: no cover - a harness bug
        raise AssertionError(f"read {digest.persons} persons of {pages * page_size}")
    return peak, digest


def run(sizes: Sizes) -> FigureResult:
    pages, page_size = sizes.memory_pages, sizes.memory_page_size
    one_peak, one_digest = measure(1, page_size, side="rekoface")
    many_peak, many_digest = measure(pages, page_size, side="rekoface")
    boto_one, boto_digest = measure(1, page_size, side="boto3")
    few = min(pages, 3)
    boto_few, _ = measure(few, page_size, side="boto3")
    ratio = many_peak / one_peak
    total = pages * page_size
    return FigureResult(
        number="4",
        title=f"peak traced memory iterating {total:,} persons ({pages} pages) vs one page "
        f"of {page_size:,}",
        rekoface=f"{mebibytes(many_peak)} ({pages} pages), {mebibytes(one_peak)} (1 page)",
        baseline=f"{mebibytes(boto_few)} ({few} pages), {mebibytes(boto_one)} (1 page)",
        result=f"{ratio:.3f}",
        target=f"≤ {TARGET:.1f}x one page's",
        passed=ratio <= TARGET,
        details=(
            "`tracemalloc` peak around one full iteration, after an untraced warm-up that "
            f"reads into the second page. The ratio is rekoface's {pages}-page peak over its "
            "1-page peak. "
            f"The hand-written loop is shown over 1 and {few} pages for comparison: written "
            "the usual way, it still holds the previous page while the next is fetched and "
            "parsed. Pages are about "
            f"{len(page_body(0, pages=1, page_size=page_size)) / 2**20:,.2f} MiB of JSON each.",
        ),
        checks={
            "rekoface_digest": many_digest,
            "rekoface_one_page_digest": one_digest,
            "boto3_one_page_digest": boto_digest,
        },
    )
