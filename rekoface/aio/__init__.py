"""asyncio: `AsyncFaceSearchClient`, the same library for async applications.

A thin second facade over the sync one. Every boto3 call (with its retries, whose
synchronous sleeps run with it) goes to a worker thread (`asyncio.to_thread`), so the
event loop never blocks and calls from concurrent tasks overlap; every decision
(argument checks, tokens, error mapping, retry decisions, parsing, the wait's
schedule) is the sync client's, reused rather than copied. ``import rekoface`` does not
import this package.
"""

from __future__ import annotations

from ._client import AsyncFaceSearchClient
from ._pollers import AsyncBackoffPoller, AsyncPoller
from ._results import AsyncFaceSearchResults

__all__ = ["AsyncBackoffPoller", "AsyncFaceSearchClient", "AsyncFaceSearchResults", "AsyncPoller"]
