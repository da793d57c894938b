"""Slot stores: one behavioural test set run against both stores, then DynamoDB's own.

The DynamoDB store runs on moto's DynamoDB (``mock_aws``) with real boto3 clients;
time is the project's `FakeTime`, so a lease runs out when a test moves the clock.
"""

from __future__ import annotations

import itertools
import json
import random
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber
from faketime import FakeTime
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from moto import mock_aws

import rekoface
from rekoface import (
    AccessDeniedError,
    ConfigurationError,
    DynamoDBSlotStore,
    InMemorySlotStore,
    RequestValidationError,
    RetryPolicy,
    SlotStore,
)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `benchmarks/` is not part of the installed wheel
    sys.path.insert(0, str(ROOT))

from benchmarks._fleet_sim import most_in_any_second  # noqa: E402

REGION = "us-east-1"
TABLE = "rekoface-slots"

#: Builds a store of `capacity` slots on the shared clock; each call is another worker
#: (for DynamoDB: its own boto3 client on the same table).
MakeStore = Callable[[int], SlotStore]


def dynamodb_client() -> Any:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def time() -> FakeTime:
    return FakeTime(now=1_000_000.0)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        DynamoDBSlotStore.create_table(TABLE, dynamodb_client=dynamodb_client())
        yield


@pytest.fixture(params=["memory", "dynamodb"])
def make_store(request: pytest.FixtureRequest, time: FakeTime) -> Iterator[MakeStore]:
    if request.param == "memory":
        shared: dict[int, InMemorySlotStore] = {}

        def memory(capacity: int) -> SlotStore:
            # Workers of one process share the one store.
            return shared.setdefault(capacity, InMemorySlotStore(capacity, clock=time.clock))

        yield memory
        return
    with mock_aws():
        DynamoDBSlotStore.create_table(TABLE, dynamodb_client=dynamodb_client())

        def dynamodb(capacity: int) -> SlotStore:
            return DynamoDBSlotStore(
                TABLE, capacity=capacity, dynamodb_client=dynamodb_client(), clock=time.clock
            )

        yield dynamodb


# -- the behaviour both stores share ----------------------------------------------------------


def test_each_slot_goes_to_one_holder_and_then_there_is_none(make_store: MakeStore) -> None:
    store = make_store(3)
    taken = [store.acquire(f"worker-{n}", lease_seconds=60) for n in range(4)]
    assert taken[3] is None
    assert sorted(s for s in taken if s is not None) == ["0", "1", "2"]
    assert store.held() == 3


def test_one_holder_may_hold_several_slots_but_never_one_twice(make_store: MakeStore) -> None:
    store = make_store(2)
    first = store.acquire("batch", lease_seconds=60)
    second = store.acquire("batch", lease_seconds=60)
    assert {first, second} == {"0", "1"}
    assert store.acquire("batch", lease_seconds=60) is None


def test_a_lease_that_runs_out_frees_its_slot(make_store: MakeStore, time: FakeTime) -> None:
    store = make_store(1)
    slot = store.acquire("a", lease_seconds=10)
    time.sleep(9.5)
    assert store.held() == 1
    assert store.acquire("b", lease_seconds=10) is None
    time.sleep(0.5)
    assert store.held() == 0
    assert store.acquire("b", lease_seconds=10) == slot


def test_renew_by_the_holder_extends_the_lease(make_store: MakeStore, time: FakeTime) -> None:
    store = make_store(1)
    slot = store.acquire("a", lease_seconds=10)
    assert slot is not None
    time.sleep(8)
    assert store.renew(slot, "a", lease_seconds=10) is True
    time.sleep(8)  # past the first lease, within the renewed one
    assert store.held() == 1
    assert store.acquire("b", lease_seconds=10) is None
    time.sleep(2)
    assert store.held() == 0


def test_a_lease_that_ran_out_cannot_be_renewed(make_store: MakeStore, time: FakeTime) -> None:
    store = make_store(1)
    slot = store.acquire("a", lease_seconds=10)
    assert slot is not None
    time.sleep(10)
    assert store.renew(slot, "a", lease_seconds=10) is False
    assert store.held() == 0
    assert store.acquire("b", lease_seconds=10) == slot
    assert store.renew(slot, "a", lease_seconds=10) is False


def test_another_holder_can_neither_renew_nor_release(
    make_store: MakeStore, time: FakeTime
) -> None:
    store = make_store(1)
    slot = store.acquire("a", lease_seconds=10)
    assert slot is not None
    assert store.renew(slot, "b", lease_seconds=100) is False
    store.release(slot, "b")
    assert store.held() == 1
    assert store.acquire("c", lease_seconds=10) is None
    time.sleep(10)  # a's lease ends when it would have: b's renew did not extend it
    assert store.held() == 0
    assert store.renew(slot, "a", lease_seconds=10) is False


def test_release_by_the_holder_frees_the_slot_at_once(make_store: MakeStore) -> None:
    store = make_store(1)
    slot = store.acquire("a", lease_seconds=60)
    assert slot is not None
    store.release(slot, "a")
    assert store.held() == 0
    assert store.acquire("b", lease_seconds=60) == slot


def test_releasing_twice_never_frees_the_next_holders_lease(make_store: MakeStore) -> None:
    store = make_store(1)
    slot = store.acquire("a", lease_seconds=60)
    assert slot is not None
    store.release(slot, "a")
    assert store.acquire("b", lease_seconds=60) == slot
    store.release(slot, "a")
    store.release("7", "a")  # a slot that does not exist
    assert store.held() == 1
    assert store.renew(slot, "b", lease_seconds=60) is True


def test_held_counts_only_leases_still_running(make_store: MakeStore, time: FakeTime) -> None:
    store = make_store(5)
    for lease in (10, 20, 30):
        store.acquire(f"lease-{lease}", lease_seconds=lease)
    counts = []
    for _ in range(4):
        counts.append(store.held())
        time.sleep(10)
    assert counts == [3, 2, 1, 0]


def test_a_dead_workers_slots_come_back_after_its_lease(
    make_store: MakeStore, time: FakeTime
) -> None:
    dead, alive = make_store(3), make_store(3)
    for _ in range(3):
        assert dead.acquire("dead", lease_seconds=900) is not None
    # The dead worker never renews or releases; the live one keeps asking.
    time.sleep(899)
    assert alive.acquire("alive", lease_seconds=900) is None
    time.sleep(1)
    assert alive.held() == 0
    taken = {alive.acquire("alive", lease_seconds=900) for _ in range(3)}
    assert taken == {"0", "1", "2"}
    assert alive.held() == 3


def test_bad_call_arguments_are_refused_naming_every_field(make_store: MakeStore) -> None:
    store = make_store(1)
    with pytest.raises(RequestValidationError) as caught:
        store.acquire("", lease_seconds=float("nan"))
    assert caught.value.paths == ("holder", "lease_seconds")
    with pytest.raises(RequestValidationError) as caught:
        store.renew(3, None, lease_seconds=0)  # type: ignore[arg-type]
    assert caught.value.paths == ("slot_id", "holder", "lease_seconds")
    with pytest.raises(RequestValidationError) as caught:
        store.release("0", "\udcff")
    assert caught.value.paths == ("holder",)
    for lease in (True, -1, 10**400, 2e9, "60"):
        with pytest.raises(RequestValidationError, match="lease_seconds"):
            store.acquire("a", lease_seconds=lease)  # type: ignore[arg-type]
    assert store.held() == 0


def test_both_stores_are_slot_stores() -> None:
    assert isinstance(InMemorySlotStore(), SlotStore)
    assert set(rekoface.__all__) >= {"SlotStore", "InMemorySlotStore", "DynamoDBSlotStore"}


# -- InMemorySlotStore ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("capacity", "clock"), [(0, lambda: 0.0), (True, lambda: 0.0), (2.0, None), ("20", 5)]
)
def test_in_memory_store_refuses_bad_settings(capacity: object, clock: object) -> None:
    with pytest.raises(RequestValidationError) as caught:
        InMemorySlotStore(capacity, clock=clock)  # type: ignore[arg-type]
    expected = ("capacity",) if callable(clock) else ("capacity", "clock")
    assert caught.value.paths == expected


def test_in_memory_store_never_exceeds_capacity_under_threads() -> None:
    store = InMemorySlotStore(4, clock=FakeTime().clock)
    checker = _Overlap(4)
    _hammer(lambda: store, checker, workers=8, rounds=300)
    assert checker.violations == []
    assert checker.acquired > 0


class InMemoryStoreMachine(RuleBasedStateMachine):
    """Random calls and clock moves, checked against a plain model of leases."""

    def __init__(self) -> None:
        super().__init__()
        self.time = FakeTime()
        self.capacity = 3
        self.store = InMemorySlotStore(self.capacity, clock=self.time.clock)
        self.model: dict[str, tuple[str, float]] = {}  # slot -> (holder, expires)

    def live(self) -> dict[str, tuple[str, float]]:
        return {s: lease for s, lease in self.model.items() if lease[1] > self.time.now}

    @rule(holder=st.sampled_from("abc"), lease=st.integers(1, 20))
    def acquire(self, holder: str, lease: int) -> None:
        slot = self.store.acquire(holder, lease_seconds=lease)
        if slot is None:
            assert len(self.live()) == self.capacity
        else:
            assert slot not in self.live()
            assert slot in {str(i) for i in range(self.capacity)}
            self.model[slot] = (holder, self.time.now + lease)

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), holder=st.sampled_from("abc"), lease=st.integers(1, 20))
    def renew(self, data: st.DataObject, holder: str, lease: int) -> None:
        slot = data.draw(st.sampled_from(sorted(self.model)))
        renewed = self.store.renew(slot, holder, lease_seconds=lease)
        live = self.live()
        assert renewed == (slot in live and live[slot][0] == holder)
        if renewed:
            self.model[slot] = (holder, self.time.now + lease)

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), holder=st.sampled_from("abc"))
    def release(self, data: st.DataObject, holder: str) -> None:
        slot = data.draw(st.sampled_from(sorted(self.model)))
        self.store.release(slot, holder)
        if self.model[slot][0] == holder:
            del self.model[slot]

    @rule(seconds=st.integers(0, 15))
    def wait(self, seconds: int) -> None:
        self.time.sleep(seconds)

    @invariant()
    def held_is_the_number_of_live_leases(self) -> None:
        assert self.store.held() == len(self.live()) <= self.capacity


InMemoryStoreMachine.TestCase.settings = settings(max_examples=150, deadline=None)
TestInMemoryStoreMachine = InMemoryStoreMachine.TestCase


# -- DynamoDBSlotStore ------------------------------------------------------------------------


def test_create_table_makes_an_on_demand_table_keyed_by_slot(aws: None) -> None:
    table = dynamodb_client().describe_table(TableName=TABLE)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "slot", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "slot", "AttributeType": "S"}]


def test_create_table_keeps_a_slot_table_that_exists(aws: None) -> None:
    store = DynamoDBSlotStore(TABLE, capacity=1, dynamodb_client=dynamodb_client())
    slot = store.acquire("a", lease_seconds=60)
    DynamoDBSlotStore.create_table(TABLE, dynamodb_client=dynamodb_client())
    assert slot is not None
    assert store.held() == 1


def test_create_table_refuses_a_table_of_that_name_with_another_key(aws: None) -> None:
    client = dynamodb_client()
    client.create_table(
        TableName="other",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(ConfigurationError, match="another key"):
        DynamoDBSlotStore.create_table("other", dynamodb_client=client)


def test_the_table_definition_is_what_create_table_sends() -> None:
    client = dynamodb_client()
    with Stubber(client) as stub:
        definition = DynamoDBSlotStore.table_definition("slots")
        stub.add_response("create_table", {}, definition)
        description = {"TableName": "slots", "TableStatus": "ACTIVE", **definition}
        del description["BillingMode"]
        stub.add_response("describe_table", {"Table": description}, {"TableName": "slots"})
        stub.add_response("describe_table", {"Table": description}, {"TableName": "slots"})
        DynamoDBSlotStore.create_table("slots", dynamodb_client=client)
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({"table_name": "ab"}, ("table_name",)),
        ({"table_name": "a b c"}, ("table_name",)),
        ({"table_name": "x" * 256}, ("table_name",)),
        ({"table_name": None, "capacity": 0}, ("table_name", "capacity")),
        (
            {"table_name": "ok_1.-", "capacity": 1.5, "lease_seconds": float("inf")},
            ("capacity", "lease_seconds"),
        ),
        ({"table_name": "slots", "clock": 3, "retry": "never"}, ("clock", "retry")),
    ],
)
def test_dynamodb_store_refuses_bad_settings_naming_every_field(
    kwargs: dict[str, Any], fields: tuple[str, ...]
) -> None:
    table_name = kwargs.pop("table_name")
    with pytest.raises(RequestValidationError) as caught:
        DynamoDBSlotStore(table_name, dynamodb_client=dynamodb_client(), **kwargs)
    assert caught.value.paths == fields


def test_create_table_refuses_a_bad_table_name_before_any_call() -> None:
    with pytest.raises(RequestValidationError, match="table_name"):
        DynamoDBSlotStore.create_table("no spaces", dynamodb_client=object())


def test_lease_seconds_is_the_stores_setting(aws: None) -> None:
    store = DynamoDBSlotStore(TABLE, lease_seconds=120, dynamodb_client=dynamodb_client())
    assert store.lease_seconds == 120.0
    assert DynamoDBSlotStore(TABLE, dynamodb_client=dynamodb_client()).lease_seconds == 900.0


def test_a_store_builds_its_own_client_from_the_environment(aws: None) -> None:
    store = DynamoDBSlotStore(TABLE, capacity=2)
    assert store.acquire("a", lease_seconds=60) is not None
    assert store.held() == 1


def test_slots_past_the_hundredth_are_read_too(aws: None, time: FakeTime) -> None:
    # BatchGetItem takes at most 100 keys a call: the store reads in chunks.
    client = dynamodb_client()
    for slot in range(110):
        expires = time.now + (-1 if slot == 105 else 60)  # only slot 105's lease ran out
        client.put_item(
            TableName=TABLE,
            Item={"slot": {"S": str(slot)}, "holder": {"S": "w"}, "expires": {"N": str(expires)}},
        )
    store = DynamoDBSlotStore(TABLE, capacity=110, dynamodb_client=client, clock=time.clock)
    assert store.held() == 109
    assert store.acquire("x", lease_seconds=60) == "105"
    assert store.acquire("x", lease_seconds=60) is None
    assert store.held() == 110


def test_an_unreadable_slot_item_counts_as_free_and_can_be_taken(aws: None, time: FakeTime) -> None:
    client = dynamodb_client()
    client.put_item(TableName=TABLE, Item={"slot": {"S": "0"}, "holder": {"S": "w"}})
    client.put_item(
        TableName=TABLE,
        Item={"slot": {"S": "1"}, "expires": {"S": "soon"}, "note": {"S": "by hand"}},
    )
    store = DynamoDBSlotStore(TABLE, capacity=2, dynamodb_client=client, clock=time.clock)
    assert store.held() == 0
    assert store.acquire("a", lease_seconds=60) is not None
    assert store.acquire("a", lease_seconds=60) is not None
    assert store.held() == 2


def test_a_lost_answer_to_a_taken_slot_is_retried_without_leaking_the_slot(
    aws: None, time: FakeTime
) -> None:
    real = dynamodb_client()
    lost = LosesAnswers(real, "put_item", times=1)
    store = DynamoDBSlotStore(
        TABLE,
        capacity=2,
        dynamodb_client=lost,
        clock=time.clock,
        retry=RetryPolicy(sleep=time.sleep, clock=time.clock),
    )
    slot = store.acquire("a", lease_seconds=60)
    assert lost.lost == 1
    assert slot is not None
    assert store.held() == 1  # the retry found the slot already ours; no second slot
    assert len(time.sleeps) == 1


def stubbed_store(time: FakeTime) -> tuple[DynamoDBSlotStore, Stubber]:
    client = dynamodb_client()
    store = DynamoDBSlotStore(
        "slots",
        capacity=1,
        dynamodb_client=client,
        clock=time.clock,
        retry=RetryPolicy(sleep=time.sleep, clock=time.clock),
    )
    return store, Stubber(client)


def test_throttling_is_retried_and_slot_taken_is_no_error(time: FakeTime) -> None:
    store, stub = stubbed_store(time)
    with stub:
        stub.add_response("batch_get_item", {"Responses": {"slots": []}})
        stub.add_client_error("put_item", "ProvisionedThroughputExceededException", "slow", 400)
        stub.add_client_error("put_item", "ConditionalCheckFailedException", "taken", 400)
        assert store.acquire("a", lease_seconds=60) is None
        stub.assert_no_pending_responses()
    assert len(time.sleeps) == 1


def test_unprocessed_keys_are_read_again(time: FakeTime) -> None:
    store, stub = stubbed_store(time)
    key = {"slot": {"S": "0"}}
    item = {**key, "holder": {"S": "w"}, "expires": {"N": str(time.now + 5)}}
    with stub:
        stub.add_response(
            "batch_get_item",
            {"Responses": {"slots": []}, "UnprocessedKeys": {"slots": {"Keys": [key]}}},
        )
        again = {
            "slots": {
                "Keys": [key],
                "ConsistentRead": True,
                "ProjectionExpression": "#slot, #holder, #expires",
                "ExpressionAttributeNames": {
                    "#slot": "slot",
                    "#holder": "holder",
                    "#expires": "expires",
                },
            }
        }
        stub.add_response(
            "batch_get_item", {"Responses": {"slots": [item]}}, {"RequestItems": again}
        )
        assert store.held() == 1
        stub.assert_no_pending_responses()
    assert len(time.sleeps) == 1


def test_slot_items_never_read_are_a_typed_throttling_error(time: FakeTime) -> None:
    store, stub = stubbed_store(time)
    left = {"slots": {"Keys": [{"slot": {"S": "0"}}]}}
    with stub:
        for _ in range(8):
            stub.add_response("batch_get_item", {"Responses": {}, "UnprocessedKeys": left})
        with pytest.raises(rekoface.ProvisionedThroughputExceededError, match="unread"):
            store.held()
        stub.assert_no_pending_responses()
    assert len(time.sleeps) == 7  # none after the last read


def test_odd_items_in_an_answer_are_read_leniently(time: FakeTime) -> None:
    store, stub = stubbed_store(time)
    odd = [
        {"holder": {"S": "w"}, "expires": {"N": str(time.now + 60)}},  # no slot key
        {"slot": {"S": "0"}, "holder": {"S": "w"}, "expires": {"N": "soon"}},
    ]
    with stub:
        stub.add_response("batch_get_item", {"Responses": {"slots": odd}})
        assert store.held() == 0
        stub.assert_no_pending_responses()


def test_create_table_raises_typed_errors() -> None:
    client = dynamodb_client()
    with Stubber(client) as stub:
        stub.add_client_error("create_table", "AccessDeniedException", "no", 400)
        with pytest.raises(AccessDeniedError):
            DynamoDBSlotStore.create_table("slots", dynamodb_client=client)
        stub.add_response("create_table", {})
        stub.add_client_error("describe_table", "AccessDeniedException", "no", 400)
        with pytest.raises(rekoface.RekoFaceError, match="did not become ACTIVE"):
            DynamoDBSlotStore.create_table("slots", dynamodb_client=client)


def test_stores_say_what_they_are(aws: None) -> None:
    memory = InMemorySlotStore(2)
    memory.acquire("a", lease_seconds=60)
    assert (memory.capacity, repr(memory)) == (
        2,
        "InMemorySlotStore(capacity=2, held=1, start_rate=5)",
    )
    shared = DynamoDBSlotStore(
        TABLE, capacity=4, lease_seconds=60, dynamodb_client=dynamodb_client()
    )
    assert (shared.table_name, shared.capacity) == (TABLE, 4)
    assert repr(shared) == (
        "DynamoDBSlotStore('rekoface-slots', capacity=4, lease_seconds=60, start_rate=5)"
    )


def test_a_client_that_retries_on_its_own_is_not_retried_again() -> None:
    client = dynamodb_client()  # botocore's default retries are on
    store = DynamoDBSlotStore("slots", capacity=1, dynamodb_client=client)
    with Stubber(client) as stub:
        stub.add_client_error("batch_get_item", "ProvisionedThroughputExceededException", "", 400)
        stub.add_response("batch_get_item", {"Responses": {"slots": []}})
        with pytest.raises(rekoface.ProvisionedThroughputExceededError):
            store.held()
        assert store.held() == 0  # the answer rekoface did not ask for again


def test_other_errors_are_typed_and_not_retried(time: FakeTime) -> None:
    store, stub = stubbed_store(time)
    with stub:
        stub.add_client_error("update_item", "AccessDeniedException", "no", 400)
        with pytest.raises(AccessDeniedError):
            store.renew("0", "a", lease_seconds=60)
        stub.add_client_error("batch_get_item", "ResourceNotFoundException", "no table", 400)
        with pytest.raises(rekoface.ResourceNotFoundError):
            store.held()
    assert time.sleeps == []


def _json_block_after(marker: str) -> Any:
    text = (Path(__file__).parent.parent / "docs" / "fleets.md").read_text(encoding="utf-8")
    block = text.split(f"<!-- {marker} -->\n```json\n", 1)[1].split("\n```", 1)[0]
    return json.loads(block)


def test_the_documented_table_definition_is_the_stores() -> None:
    documented = _json_block_after("table-definition")
    assert documented == DynamoDBSlotStore.table_definition(documented["TableName"])


def test_the_documented_permissions_are_the_calls_a_worker_makes(aws: None, time: FakeTime) -> None:
    client = dynamodb_client()
    operations: set[str] = set()

    def record(model: Any, **_: Any) -> None:
        operations.add(model.name)

    client.meta.events.register("before-call.dynamodb.*", record)
    store = DynamoDBSlotStore(TABLE, capacity=1, dynamodb_client=client, clock=time.clock)
    slot = store.acquire("a", lease_seconds=60)
    assert slot is not None
    assert store.acquire("b", lease_seconds=60) is None
    store.renew(slot, "a", lease_seconds=60)
    store.held()
    store.release(slot, "a")
    (statement,) = _json_block_after("iam-policy")["Statement"]
    assert sorted(statement["Action"]) == sorted(f"dynamodb:{op}" for op in operations)


# -- many workers at once -----------------------------------------------------------------


def test_threads_on_dynamodb_never_hold_one_slot_twice_nor_more_than_capacity(
    aws: None,
) -> None:
    """Six workers, each with its own client, take and give back three slots 40 times.

    moto's DynamoDB does not make a conditional write atomic against other threads of
    its process (AWS does), so every call here is serialised with one lock taken in
    botocore's ``before-call`` event and given back in ``after-call``: the test checks
    the store's conditions, not moto's locking. Leases never run out (the clock stands
    still), so any slot granted while it is held is a double grant.
    """
    capacity = 3
    clock = FakeTime()
    moto_lock = threading.Lock()

    def serialise(**_: Any) -> None:
        moto_lock.acquire()  # returns None: a before-call answer would replace the call

    def done(**_: Any) -> None:
        moto_lock.release()

    def worker_store() -> SlotStore:
        client = dynamodb_client()
        events = client.meta.events
        events.register("before-call.dynamodb.*", serialise)
        events.register("after-call.dynamodb.*", done)
        events.register("after-call-error.dynamodb.*", done)
        return DynamoDBSlotStore(
            TABLE, capacity=capacity, dynamodb_client=client, clock=clock.clock
        )

    checker = _Overlap(capacity)
    observer = worker_store()
    _hammer(worker_store, checker, workers=6, rounds=40, observe=observer.held)
    assert checker.violations == []
    assert max(checker.observed) <= capacity
    assert observer.held() == 0


class _Overlap:
    """Who holds which slot, as the workers say: any overlap is a double grant."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.lock = threading.Lock()
        self.holders: dict[str, str] = {}
        self.violations: list[str] = []
        self.most_held = 0
        self.acquired = 0
        self.observed: list[int] = []

    def took(self, slot: str, holder: str) -> None:
        with self.lock:
            other = self.holders.get(slot)
            if other is not None:
                self.violations.append(f"slot {slot} given to {holder} while {other} held it")
            self.holders[slot] = holder
            self.acquired += 1
            if len(self.holders) > self.capacity:
                self.violations.append(f"{len(self.holders)} slots held")
            self.most_held = max(self.most_held, len(self.holders))

    def gives_back(self, slot: str, holder: str) -> None:
        with self.lock:
            if self.holders.pop(slot, None) != holder:
                self.violations.append(f"{holder} gave back slot {slot}, held by another")


def _hammer(
    make: Callable[[], SlotStore],
    checker: _Overlap,
    *,
    workers: int,
    rounds: int,
    observe: Callable[[], int] | None = None,
) -> None:
    """`workers` threads, each with its own store, acquire and release `rounds` times."""
    start = threading.Barrier(workers)
    failures: list[BaseException] = []

    def work(name: str) -> None:
        try:
            store = make()
            held: list[str] = []
            chance = random.Random(name)
            start.wait()
            for _ in range(rounds):
                if held and (chance.random() < 0.5 or len(held) >= 2):
                    given_back = held.pop(chance.randrange(len(held)))
                    checker.gives_back(given_back, name)
                    store.release(given_back, name)
                else:
                    taken = store.acquire(name, lease_seconds=900)
                    if taken is not None:
                        checker.took(taken, name)
                        held.append(taken)
                if observe is not None and chance.random() < 0.2:
                    checker.observed.append(observe())
            for slot in held:
                checker.gives_back(slot, name)
                store.release(slot, name)
        except BaseException as err:  # reported by the main thread
            failures.append(err)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


class LosesAnswers:
    """A DynamoDB client whose `operation` is carried out but its answer lost, `times`."""

    def __init__(self, client: Any, operation: str, *, times: int) -> None:
        self._client = client
        self._operation = operation
        self._left = times
        self.lost = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if name != self._operation:
            return method

        def call(**params: Any) -> Any:
            answer = method(**params)
            if self._left:
                self._left -= 1
                self.lost += 1
                raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
            return answer

        return call


# -- the shared start rate ----------------------------------------------------------------------

#: Builds a store sharing `start_rate` on the shared clock; each call is another worker.
MakeRated = Callable[[float | None], DynamoDBSlotStore | InMemorySlotStore]


@pytest.fixture(params=["memory", "dynamodb"])
def make_rated(request: pytest.FixtureRequest, time: FakeTime) -> Iterator[MakeRated]:
    if request.param == "memory":
        shared: dict[float | None, InMemorySlotStore] = {}

        def memory(rate: float | None) -> InMemorySlotStore:
            return shared.setdefault(rate, InMemorySlotStore(3, clock=time.clock, start_rate=rate))

        yield memory
        return
    with mock_aws():
        DynamoDBSlotStore.create_table(TABLE, dynamodb_client=dynamodb_client())

        def dynamodb(rate: float | None) -> DynamoDBSlotStore:
            return DynamoDBSlotStore(
                TABLE,
                capacity=3,
                dynamodb_client=dynamodb_client(),
                clock=time.clock,
                start_rate=rate,
            )

        yield dynamodb


def test_reservations_at_one_instant_are_spaced_by_the_rate(
    make_rated: MakeRated, time: FakeTime
) -> None:
    workers = [make_rated(5.0) for _ in range(3)]
    moments = [time.now + workers[n % 3].reserve_start(f"w{n}") for n in range(12)]
    assert moments[0] == time.now  # an idle store lets the first start go at once
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    assert min(gaps) >= 0.2
    assert max(gaps) < 0.2 + 1e-5
    assert most_in_any_second(moments) == 5


def test_a_quiet_spell_builds_no_burst(make_rated: MakeRated, time: FakeTime) -> None:
    store = make_rated(2.0)
    store.reserve_start("a")
    time.sleep(3600)
    assert store.reserve_start("a") == 0.0
    assert store.reserve_start("b") >= 0.5  # a token bucket would have let a burst through


def test_waiting_out_each_reservation_keeps_every_second_under_the_rate(
    make_rated: MakeRated, time: FakeTime
) -> None:
    """Two workers taking turns, each sleeping what it was told before it "sends"."""
    a, b = make_rated(3.0), make_rated(3.0)
    sent: list[float] = []
    chance = random.Random(7)
    for n in range(40):
        store = a if n % 2 else b
        time.sleep(chance.choice([0.0, 0.0, 0.1, 0.7, 2.5]))  # work between starts
        time.sleep(store.reserve_start(f"w{n % 2}"))
        sent.append(time.now)
    assert most_in_any_second(sent) <= 3


def test_the_rate_item_is_never_a_slot(make_rated: MakeRated) -> None:
    store = make_rated(5.0)
    store.reserve_start("a")
    assert store.held() == 0
    taken = [store.acquire("a", lease_seconds=60) for _ in range(4)]
    assert set(taken[:3]) == {"0", "1", "2"}
    assert taken[3] is None
    assert store.held() == 3


def test_no_start_rate_shares_nothing(make_rated: MakeRated) -> None:
    store = make_rated(None)
    assert [store.reserve_start("a") for _ in range(10)] == [0.0] * 10
    assert store.start_rate is None


def test_a_bad_start_rate_or_holder_is_refused_naming_the_field(time: FakeTime) -> None:
    for rate in (0, -1.0, float("inf"), float("nan"), True, "5", 10**400, 1e-9, 1e4):
        with pytest.raises(RequestValidationError) as caught:
            InMemorySlotStore(start_rate=rate)  # type: ignore[arg-type]
        assert caught.value.paths == ("start_rate",)
        with pytest.raises(RequestValidationError) as caught:
            DynamoDBSlotStore(TABLE, start_rate=rate, dynamodb_client=dynamodb_client())  # type: ignore[arg-type]
        assert caught.value.paths == ("start_rate",)
    with pytest.raises(RequestValidationError) as caught:
        InMemorySlotStore(0, start_rate=0)
    assert caught.value.paths == ("capacity", "start_rate")
    for holder in ("", None, "\udcff"):
        with pytest.raises(RequestValidationError) as caught:
            InMemorySlotStore().reserve_start(holder)  # type: ignore[arg-type]
        assert caught.value.paths == ("holder",)


def test_both_stores_share_the_start_rate() -> None:
    from rekoface.slots import StartRateStore

    assert isinstance(InMemorySlotStore(), StartRateStore)
    assert isinstance(DynamoDBSlotStore(TABLE, dynamodb_client=dynamodb_client()), StartRateStore)
    assert InMemorySlotStore().start_rate == 5.0
    assert InMemorySlotStore(start_rate=2).start_rate == 2.0


def test_a_dynamodb_reservation_is_one_conditional_update(aws: None, time: FakeTime) -> None:
    client = dynamodb_client()
    calls: list[str] = []
    client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    store = DynamoDBSlotStore(TABLE, dynamodb_client=client, clock=time.clock)
    store.reserve_start("a")  # idle: claims at once
    for _ in range(5):
        store.reserve_start("a")  # queueing: moves the next moment on
    assert calls == ["UpdateItem"] * 6
    item = client.get_item(TableName=TABLE, Key={"slot": {"S": "start-rate"}})["Item"]
    assert item["holder"] == {"S": "a"}
    assert float(item["next"]["N"]) == pytest.approx(time.now + 6 * 0.2, abs=1e-4)


def test_an_unreadable_rate_item_is_taken_over(aws: None, time: FakeTime) -> None:
    client = dynamodb_client()
    client.put_item(TableName=TABLE, Item={"slot": {"S": "start-rate"}, "next": {"S": "soon"}})
    store = DynamoDBSlotStore(TABLE, dynamodb_client=client, clock=time.clock)
    assert store.reserve_start("a") == 0.0
    assert store.reserve_start("a") == pytest.approx(0.2, abs=1e-5)


def test_a_moment_written_by_a_clock_far_ahead_is_reset_not_waited_for(
    aws: None, time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    ahead = FakeTime(now=time.now + 3600)
    client = dynamodb_client()
    DynamoDBSlotStore(TABLE, dynamodb_client=client, clock=ahead.clock).reserve_start("fast")
    store = DynamoDBSlotStore(TABLE, dynamodb_client=client, clock=time.clock)
    assert store.reserve_start("a") == 0.0  # reset to this clock, not an hour away
    assert store.reserve_start("a") == pytest.approx(0.2, abs=1e-5)
    assert "a clock of the fleet is off" in caplog.text


def test_a_short_skew_is_waited_for_not_reset(aws: None, time: FakeTime) -> None:
    ahead = FakeTime(now=time.now + 2.0)
    client = dynamodb_client()
    DynamoDBSlotStore(TABLE, dynamodb_client=client, clock=ahead.clock).reserve_start("fast")
    store = DynamoDBSlotStore(TABLE, dynamodb_client=client, clock=time.clock)
    assert store.reserve_start("a") == pytest.approx(2.2, abs=1e-5)


def test_rate_errors_are_typed_and_throttling_retried(time: FakeTime) -> None:
    store, stub = stubbed_store(time)
    with stub:
        stub.add_client_error("update_item", "ProvisionedThroughputExceededException", "slow", 400)
        stub.add_response("update_item", {})
        stub.add_client_error("update_item", "AccessDeniedException", "no", 400)
        assert store.reserve_start("a") == 0.0
        with pytest.raises(AccessDeniedError):
            store.reserve_start("a")
        stub.assert_no_pending_responses()
    assert len(time.sleeps) == 1


def test_threads_on_dynamodb_never_reserve_two_moments_within_a_gap(aws: None) -> None:
    """Six workers reserve 20 moments each at one standing instant, with their own clients.

    As above, every DynamoDB call is serialised with a lock in botocore's events
    (moto's conditional writes are not atomic across threads; DynamoDB's are).
    """
    clock = FakeTime(now=5_000.0)
    moto_lock = threading.Lock()
    moments: list[float] = []
    failures: list[BaseException] = []

    def serialise(**_: Any) -> None:
        moto_lock.acquire()

    def done(**_: Any) -> None:
        moto_lock.release()

    def work(name: str) -> None:
        try:
            client = dynamodb_client()
            client.meta.events.register("before-call.dynamodb.*", serialise)
            client.meta.events.register("after-call.dynamodb.*", done)
            client.meta.events.register("after-call-error.dynamodb.*", done)
            store = DynamoDBSlotStore(TABLE, dynamodb_client=client, clock=clock.clock)
            for _ in range(20):
                moments.append(clock.now + store.reserve_start(name))
        except BaseException as err:  # reported by the main thread
            failures.append(err)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    ordered = sorted(moments)
    assert len(ordered) == 120
    assert min(b - a for a, b in itertools.pairwise(ordered)) >= 0.2
    assert most_in_any_second(ordered) == 5


def test_a_reservation_that_loses_every_race_gives_up_with_a_typed_error(time: FakeTime) -> None:
    from rekoface import RekoFaceError

    store, stub = stubbed_store(time)
    with stub:
        # 20 rounds, each lost race another worker's win: a claim, then a queue and a
        # claim in each round after the first.
        for _ in range(1 + 19 * 2):
            stub.add_client_error("update_item", "ConditionalCheckFailedException", "lost", 400)
        with pytest.raises(RekoFaceError, match="no start moment reserved after 20 tries"):
            store.reserve_start("a")
        stub.assert_no_pending_responses()
    assert time.sleeps == []  # a lost race is not an error: nothing was retried
