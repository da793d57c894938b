"""asyncio: `AsyncFaceSearchClient`, the same library for async applications.

A thin second facade over the sync one. Every boto3 call (with its retries, whose
synchronous sleeps run with it) goes to a worker thread (`asyncio.to_thread`), so the
event loop never blocks and calls from concurrent tasks overlap; an aiobotocore client,
where one is passed, is awaited natively instead (retry delays awaited too). Every
decision (argument checks, tokens, error mapping, retry decisions, parsing, the wait's
schedule, the SQS wait's plan) is the sync client's, reused rather than copied.
``import rekoface`` does not import this package, and nothing here imports aiobotocore.
"""

from __future__ import annotations

from ._client import AsyncFaceSearchClient
from ._pollers import AsyncBackoffPoller, AsyncPoller
from ._results import AsyncFaceSearchResults

__all__ = ["AsyncBackoffPoller", "AsyncFaceSearchClient", "AsyncFaceSearchResults", "AsyncPoller"]
