"""The drivers of a retried call: the synchronous slow path and `call_async` (private).

Both hand tenacity the same `CallState`, so a coroutine is retried on exactly the
decisions of `RetryPolicy.call`; only the sleeping differs. Each replays the first
failure (already caught by the caller) as tenacity's first attempt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from ._retry_state import CallState, worth_retrying

if TYPE_CHECKING:
    from .retry import RetryPolicy

__all__ = ["call_async", "retry_after_failure"]

T = TypeVar("T")


async def call_async(
    policy: RetryPolicy,
    fn: Callable[[], Awaitable[T]],
    *,
    operation_name: str,
    sleep: Callable[[float], Awaitable[object]],
) -> T:
    """`RetryPolicy.call` for a coroutine: the same decisions, each delay awaited with `sleep`.

    For `rekoface.aio`'s native (aiobotocore) transport: the policy's own synchronous
    `sleep` is not used; its `clock`, `random` and budgets are.
    """
    started = policy.clock()
    try:
        return await fn()
    except Exception as exc:
        if not worth_retrying(policy, exc):
            raise
        first_error = exc
    import tenacity

    state = CallState(policy, operation_name, started)
    pending = [first_error]

    async def attempt() -> T:
        if pending:
            raise pending.pop()
        return await fn()

    async def pause(seconds: float) -> None:
        await sleep(seconds)

    return await tenacity.AsyncRetrying(sleep=pause, **state.strategies())(attempt)


def retry_after_failure(
    policy: RetryPolicy,
    fn: Callable[[], T],
    first_error: BaseException,
    operation_name: str,
    started: float,
) -> T:
    """The slow path: hand the failed call to tenacity, replaying the first failure."""
    import tenacity  # lazy: keeps `import rekoface` as cheap as `import boto3`

    state = CallState(policy, operation_name, started)
    pending = [first_error]

    def attempt() -> T:
        if pending:
            raise pending.pop()
        return fn()

    return tenacity.Retrying(sleep=policy.sleep, **state.strategies())(attempt)
