"""`DynamoDBSlotStore`: job slots shared by a fleet, one DynamoDB item per slot (private).

Every change is a conditional write, so DynamoDB itself decides who gets a slot: a
slot is taken only if it is free or its lease ran out (``PutItem``), renewed only by
its holder while the lease lasts (``UpdateItem``), given back only by its holder
(``DeleteItem``). A taken slot is never held twice, however many workers race for it.
Reads are one strongly consistent ``BatchGetItem`` of the slot items (up to 100 slots
a call): each slot is its own partition key, so a ``Query`` cannot see them all, and a
``Scan`` would read whatever else the table holds and page by size.

The table itself (definition, creation) is `_dynamodb_table`'s; reading an item,
`_dynamodb_items`'. boto3 is imported only when a client has to be built.
"""

from __future__ import annotations

import functools
import random
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from botocore.exceptions import ClientError

from ._core import botocore_retries_on
from ._dynamodb_items import (
    SLOT,
    as_list,
    chunks,
    is_live,
    lenient_get,
    read_request,
    release_request,
    renew_request,
    take_request,
)
from ._dynamodb_table import build_client, check_table_name, checked_definition, create_slot_table
from ._leases import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_START_RATE,
    check_call,
    check_callable,
    check_capacity,
    check_holder,
    check_lease_seconds,
    check_start_rate,
    rate_text,
)
from ._translate import translated
from ._validation import check_type, raise_if_any
from .errors import FieldError, error_class_for_code

if TYPE_CHECKING:
    from ._dynamodb_rate import SharedStartRate
    from .retry import RetryPolicy

__all__ = ["DynamoDBSlotStore"]

_T = TypeVar("_T")

#: BatchGetItem reads at most 100 keys a call.
_BATCH_GET_LIMIT: Final = 100
#: Rounds of re-reading keys DynamoDB left unprocessed (it does so under throttling).
_UNPROCESSED_ROUNDS: Final = 8
_CONDITION_FAILED: Final = "ConditionalCheckFailedException"


class DynamoDBSlotStore:
    """`capacity` job slots in the DynamoDB table `table_name`, shared by every worker.

    Slot ids are ``"0"`` to ``str(capacity - 1)``, one item each (``slot`` the key,
    ``holder``, ``expires`` on the store's `clock`, ``lease``). Every worker of a fleet
    must use the same table, `capacity` and a clock that agrees (``time.time`` on
    machines kept in sync by NTP; a worker whose clock runs ahead takes slots early).
    `holder` names should be unique per worker process.

    The fleet also shares `start_rate` ``StartFaceSearch`` calls a second through one
    more item (``slot = "start-rate"``, never a slot): `reserve_start` hands out start
    moments ``1 / start_rate`` apart on the store's clock. With every worker's clock
    within `s` seconds of the others and each start sent within `d` seconds of its
    moment, no one-second window at the service holds more than
    ``ceil(start_rate * (1 + s + d))`` starts: ``ceil(start_rate)`` when clocks agree
    and sends are prompt, so leave a margin for real clocks (``4.5`` absorbs 0.1 s).
    ``None`` shares no rate (each batch paces only itself).

    Calls are retried by `retry` (default: rekoface's `RetryPolicy`, or none when the
    given client retries on its own); errors are rekoface's typed errors. A
    ``ConditionalCheckFailedException`` is the normal answer "slot taken", not an error.
    """

    def __init__(
        self,
        table_name: str,
        *,
        capacity: int = 20,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        dynamodb_client: Any = None,
        clock: Callable[[], float] = time.time,
        retry: RetryPolicy | None = None,
        start_rate: float | None = DEFAULT_START_RATE,
    ) -> None:
        from .retry import RetryPolicy

        errors: list[FieldError] = []
        check_table_name(errors, table_name)
        check_capacity(errors, capacity)
        check_lease_seconds(errors, lease_seconds)
        check_callable(errors, "clock", clock)
        check_start_rate(errors, start_rate)
        given_retry: object = retry  # checked at run time: callers may not be type-checked
        if given_retry is not None:
            check_type(errors, "retry", given_retry, RetryPolicy)
        raise_if_any(errors)
        self._table_name = table_name
        self._capacity = capacity
        self._lease_seconds = float(lease_seconds)
        self._clock = clock
        if dynamodb_client is None:
            self._client = build_client()
            default_retry = RetryPolicy()
        else:
            self._client = dynamodb_client
            own = botocore_retries_on(dynamodb_client)
            default_retry = RetryPolicy.never() if own else RetryPolicy()
        self._retry: RetryPolicy = retry if retry is not None else default_retry
        self._start_rate = None if start_rate is None else float(start_rate)
        self._rate: SharedStartRate | None = None  # made at the first reservation

    @property
    def table_name(self) -> str:
        return self._table_name

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def lease_seconds(self) -> float:
        """The lease a batch asks of this store (and renews at a third of)."""
        return self._lease_seconds

    @property
    def start_rate(self) -> float | None:
        """``StartFaceSearch`` calls a second the fleet shares (``None``: not shared)."""
        return self._start_rate

    def __repr__(self) -> str:
        return (
            f"DynamoDBSlotStore({self._table_name!r}, capacity={self._capacity}, "
            f"lease_seconds={self._lease_seconds:g}, start_rate={rate_text(self._start_rate)})"
        )

    # -- the protocol ---------------------------------------------------------------------

    def acquire(self, holder: str, *, lease_seconds: float) -> str | None:
        """Read the slots, then try the free ones, in random order, until one is ours.

        Random order spreads workers that read the same free slots over different ones.
        Each try carries a fresh lease token, so a retry after a lost answer finds the
        slot already ours instead of leaking it.
        """
        check_call(holder=holder, lease_seconds=lease_seconds)
        now = self._clock()
        items = self._read_slots()
        free = [str(i) for i in range(self._capacity) if not is_live(items.get(str(i), {}), now)]
        random.shuffle(free)
        for slot_id in free:
            token = uuid.uuid4().hex
            now = self._clock()
            taken = self._conditional_write(
                "PutItem",
                self._client.put_item,
                take_request(
                    self._table_name, slot_id, holder, token, now=now, lease_seconds=lease_seconds
                ),
            )
            if taken:
                return slot_id
        return None

    def renew(self, slot_id: str, holder: str, *, lease_seconds: float) -> bool:
        check_call(slot_id=slot_id, holder=holder, lease_seconds=lease_seconds)
        now = self._clock()
        return self._conditional_write(
            "UpdateItem",
            self._client.update_item,
            renew_request(self._table_name, slot_id, holder, now=now, lease_seconds=lease_seconds),
        )

    def release(self, slot_id: str, holder: str) -> None:
        check_call(slot_id=slot_id, holder=holder)
        self._conditional_write(
            "DeleteItem",
            self._client.delete_item,
            release_request(self._table_name, slot_id, holder),
        )

    def held(self) -> int:
        now = self._clock()
        return sum(1 for item in self._read_slots().values() if is_live(item, now))

    # -- the shared start rate ------------------------------------------------------------

    def reserve_start(self, holder: str) -> float:
        """Reserve the fleet's next free start moment; the seconds to wait until it.

        Usually one conditional ``UpdateItem`` of the rate item; a lost race is tried
        again. A lost answer that is retried reserves a second moment: a gap wasted,
        never a burst.
        """
        check_holder(holder)
        if self._start_rate is None:
            return 0.0
        if self._rate is None:
            from ._dynamodb_rate import SharedStartRate

            self._rate = SharedStartRate(
                client=self._client,
                table_name=self._table_name,
                rate=self._start_rate,
                capacity=self._capacity,
                clock=self._clock,
                call=self._call,
            )
        return self._rate.reserve(holder)

    # -- the table --------------------------------------------------------------------------

    @staticmethod
    def table_definition(table_name: str) -> dict[str, Any]:
        """The ``CreateTable`` parameters `create_table` sends, for your own infrastructure."""
        return checked_definition(table_name)

    @staticmethod
    def create_table(table_name: str, *, dynamodb_client: Any = None) -> None:
        """Make the slot table (on-demand billing) and wait until it is ``ACTIVE``.

        A table of that name that already exists is waited for and kept if its key is
        the slot table's; otherwise `ConfigurationError`. The wait is boto3's
        ``table_exists`` waiter (a ``DescribeTable`` every 20 s, 25 times at most).
        """
        create_slot_table(table_name, dynamodb_client=dynamodb_client)

    # -- calls ----------------------------------------------------------------------------

    def _call(self, operation: str, thunk: Callable[[], _T]) -> _T:
        name = f"DynamoDB {operation}"
        with translated(name):
            return self._retry.call(thunk, operation_name=name)

    def _conditional_write(
        self, operation: str, method: Callable[..., Any], params: Mapping[str, Any]
    ) -> bool:
        """Whether the write was made; ``False`` when its condition did not hold."""

        def attempt() -> bool:
            try:
                method(**params)
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") == _CONDITION_FAILED:
                    return False
                raise
            return True

        return self._call(operation, attempt)

    def _read_slots(self) -> dict[str, Mapping[str, Any]]:
        """Every slot item there is, by slot id, read strongly consistently."""
        keys = [str(i) for i in range(self._capacity)]
        found: dict[str, Mapping[str, Any]] = {}
        for chunk in chunks(keys, _BATCH_GET_LIMIT):
            self._read_chunk(read_request(chunk), found)
        return found

    def _read_chunk(self, request: dict[str, Any], found: dict[str, Mapping[str, Any]]) -> None:
        for round_ in range(1, _UNPROCESSED_ROUNDS + 1):
            get = functools.partial(
                self._client.batch_get_item, RequestItems={self._table_name: request}
            )
            answer = self._call("BatchGetItem", get)
            for item in as_list(lenient_get(lenient_get(answer, "Responses"), self._table_name)):
                slot = lenient_get(lenient_get(item, SLOT), "S")
                if isinstance(slot, str):
                    found[slot] = cast("Mapping[str, Any]", item)
            left = as_list(
                lenient_get(
                    lenient_get(lenient_get(answer, "UnprocessedKeys"), self._table_name), "Keys"
                )
            )
            if not left:
                return
            if round_ < _UNPROCESSED_ROUNDS:
                # The same read (consistent, same projection) of the keys left over.
                request = {**request, "Keys": left}
                policy = self._retry
                pause = policy.base_delay * 2 ** (round_ - 1)
                policy.sleep(policy.random() * min(policy.max_delay, pause))
        error_class = error_class_for_code("ProvisionedThroughputExceededException")
        raise error_class(
            {
                "Error": {
                    "Code": "ProvisionedThroughputExceededException",
                    "Message": f"slot items still unread after {_UNPROCESSED_ROUNDS} reads",
                }
            },
            "BatchGetItem",
        )
