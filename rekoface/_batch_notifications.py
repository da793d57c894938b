"""A batch's jobs waiting on one SNS->SQS queue (private; used by `rekoface._batch_run`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

__all__ = ["FALLBACK_INTERVAL", "Notifications"]

#: With notifications, each job's state is still asked at least this often.
FALLBACK_INTERVAL: Final = 300.0


class Notifications:
    """The batch's jobs on one SNS->SQS queue: one receiver for all of them.

    The rules of `SqsNotificationPoller` hold (the process's shared receiver for the
    queue URL is used): only this batch's notifications are deleted, every other
    message is left alone, and a notification is a hint that a status check confirms.
    """

    def __init__(
        self,
        queue_url: str,
        sqs_client: SQSClient,
        wait_time_seconds: int,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        from . import _receiver

        self.receiver = _receiver.receiver_for(queue_url)
        self.round = _receiver.Round(sqs_client, wait_time_seconds, sleep, clock)
        self.waiters: dict[str, _receiver.Waiter] = {}

    def register(self, job_id: str) -> None:
        waiter, unclaimed = self.receiver.register(job_id)
        self.waiters[job_id] = waiter
        if unclaimed is not None:
            from . import _receiver

            _receiver.delete(self.round.client, self.receiver.queue_url, unclaimed, job_id)

    def unregister(self, job_id: str, *, finished: bool) -> None:
        waiter = self.waiters.pop(job_id, None)
        if waiter is not None:
            self.receiver.unregister(waiter, finished=finished)

    def receive(self, wake: float) -> list[str]:
        """One receive round (never past `wake`); the jobs whose notification came."""
        if not self.waiters:
            return []
        if all(not w.hints for w in self.waiters.values()):
            leader = next(iter(self.waiters.values()))
            self.receiver.step(self.round, leader, wake)
        hinted: list[str] = []
        for job_id, waiter in self.waiters.items():
            while self.receiver.take_hint(waiter) is not None:
                if job_id not in hinted:
                    hinted.append(job_id)
        return hinted

    def close(self) -> None:
        for job_id in list(self.waiters):
            self.unregister(job_id, finished=False)
