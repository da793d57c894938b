"""Keeping a work-queue worker's messages hidden while their jobs run (private).

A message's visibility is extended once it is a third through it: whenever the batch
sleeps (`sleeping`) or asks for work, and by a heartbeat thread (`start_heartbeat`)
while the caller's loop body runs. SQS hides a message at most 12 hours from its
receive; past that it shows again (its job is not started twice: the token is the same).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from . import _sqs
from ._work_messages import Held, InHand
from .errors import ServiceError, TransportError

__all__ = ["extend_due", "return_all", "sleeping", "start_heartbeat"]

logger = logging.getLogger("rekoface")


def extend_due(
    in_hand: InHand,
    *,
    now: float,
    visibility_timeout: int,
    change: Callable[[Held, int], None],
) -> None:
    """Extend (by `change`) each message in hand a third through its visibility."""
    for held in in_hand.due(now, visibility_timeout * 2 / 3):
        left = _sqs.MAX_VISIBILITY_TIMEOUT - (now - held.received_at) - 60
        seconds = int(min(visibility_timeout, left))
        if seconds <= 0:
            held.stuck = True
            logger.warning(
                "message %s: hidden for SQS's 12 hours at most; it becomes visible again "
                "(its job is not started twice)",
                held.message_id,
            )
            continue
        try:
            change(held, seconds)
        except (ServiceError, TransportError) as err:
            if not _sqs.is_transient(err):
                held.stuck = True
            logger.warning("message %s: could not extend its visibility: %s", held.message_id, err)
            continue
        held.visible_until = now + seconds


def return_all(in_hand: InHand, change: Callable[[Held, int], None]) -> None:
    """Make every message in hand visible at once (by `change`), none left in hand."""
    for held in in_hand.take_all():
        try:
            change(held, 0)
        except (ServiceError, TransportError) as err:  # best effort: it comes back anyway
            logger.debug("could not return message %s: %s", held.message_id, err)


def sleeping(
    sleep: Callable[[float], None], step: float, keep_visible: Callable[[], None]
) -> Callable[[float], None]:
    """The batch's sleep, in steps of `step` at most, the messages in hand kept hidden
    between them: a worker whose window is full (so it asks for no work) still extends
    them, heartbeat thread or not."""

    def sleep_keeping_visible(seconds: float) -> None:
        while seconds > step:
            sleep(step)
            seconds -= step
            keep_visible()
        sleep(seconds)
        keep_visible()

    return sleep_keeping_visible


def start_heartbeat(
    keep_visible: Callable[[], None], interval: float, stop: threading.Event
) -> threading.Thread:
    """A daemon thread calling `keep_visible` every `interval` seconds until `stop` is set."""

    def beating() -> None:
        while not stop.wait(interval):
            try:
                keep_visible()
            except Exception as err:  # the heartbeat must outlive one failure
                logger.warning("work queue heartbeat: %s", err)

    beat = threading.Thread(target=beating, name="rekoface-work-queue-heartbeat", daemon=True)
    beat.start()
    return beat
