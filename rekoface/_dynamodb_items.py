"""A slot item of `DynamoDBSlotStore`'s table: its attribute names, the requests that
write and read it, and reading it back (private).

Every write is conditional, so DynamoDB itself decides who holds a slot.

Service output is read leniently: a field of the wrong type reads as missing, never as
an error, so an odd item is a free slot rather than a crash.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final, cast

__all__ = [
    "EXPIRES",
    "HOLDER",
    "LEASE",
    "SLOT",
    "as_list",
    "chunks",
    "dynamodb_number",
    "is_live",
    "lenient_get",
    "names",
    "number_value",
    "read_request",
    "release_request",
    "renew_request",
    "take_request",
]

#: Attribute names of a slot item.
SLOT: Final = "slot"
HOLDER: Final = "holder"
EXPIRES: Final = "expires"
LEASE: Final = "lease"
_NAMES: Final = {"#slot": SLOT, "#holder": HOLDER, "#expires": EXPIRES, "#lease": LEASE}


def names(*placeholders: str) -> dict[str, str]:
    """The ``ExpressionAttributeNames`` of `placeholders` (``"#slot"``, ...)."""
    return {placeholder: _NAMES[placeholder] for placeholder in placeholders}


def take_request(
    table_name: str, slot_id: str, holder: str, token: str, *, now: float, lease_seconds: float
) -> dict[str, Any]:
    """The ``PutItem`` that takes `slot_id` for `holder`, with the lease `token`."""
    return {
        "TableName": table_name,
        "Item": {
            SLOT: {"S": slot_id},
            HOLDER: {"S": holder},
            EXPIRES: {"N": dynamodb_number(now + lease_seconds)},
            LEASE: {"S": token},
        },
        # Free, or an expiry that is no number (not a lease), or run out,
        # or ours already (this very try, whose answer was lost).
        "ConditionExpression": (
            "attribute_not_exists(#slot) OR NOT attribute_type(#expires, :number)"
            " OR #expires <= :now OR #lease = :lease"
        ),
        "ExpressionAttributeNames": names("#slot", "#expires", "#lease"),
        "ExpressionAttributeValues": {
            ":now": {"N": dynamodb_number(now)},
            ":number": {"S": "N"},
            ":lease": {"S": token},
        },
    }


def renew_request(
    table_name: str, slot_id: str, holder: str, *, now: float, lease_seconds: float
) -> dict[str, Any]:
    """The ``UpdateItem`` that renews `holder`'s lease of `slot_id`, while it lasts."""
    return {
        "TableName": table_name,
        "Key": {SLOT: {"S": slot_id}},
        "UpdateExpression": "SET #expires = :expires",
        "ConditionExpression": "#holder = :holder AND #expires > :now",
        "ExpressionAttributeNames": names("#holder", "#expires"),
        "ExpressionAttributeValues": {
            ":holder": {"S": holder},
            ":now": {"N": dynamodb_number(now)},
            ":expires": {"N": dynamodb_number(now + lease_seconds)},
        },
    }


def release_request(table_name: str, slot_id: str, holder: str) -> dict[str, Any]:
    """The ``DeleteItem`` that gives `slot_id` back, only by its holder."""
    return {
        "TableName": table_name,
        "Key": {SLOT: {"S": slot_id}},
        "ConditionExpression": "#holder = :holder",
        "ExpressionAttributeNames": names("#holder"),
        "ExpressionAttributeValues": {":holder": {"S": holder}},
    }


def read_request(keys: list[str]) -> dict[str, Any]:
    """One table's part of a strongly consistent ``BatchGetItem`` of the slots `keys`."""
    return {
        "Keys": [{SLOT: {"S": key}} for key in keys],
        "ConsistentRead": True,
        "ProjectionExpression": "#slot, #holder, #expires",
        "ExpressionAttributeNames": names("#slot", "#holder", "#expires"),
    }


def dynamodb_number(value: float) -> str:
    """`value` as a DynamoDB number: plain notation, never ``1e-07``."""
    return format(Decimal(repr(float(value))), "f")


def number_value(attribute: object) -> float | None:
    """A DynamoDB number attribute (``{"N": "..."}``) as a float, leniently: else ``None``."""
    text = lenient_get(attribute, "N")
    if not isinstance(text, str):
        return None
    try:
        return float(Decimal(text))
    except (InvalidOperation, ValueError, OverflowError):
        return None


def _expiry(item: Mapping[str, Any]) -> float | None:
    """A slot item's lease expiry, leniently: ``None`` if it holds no readable one."""
    return number_value(item.get(EXPIRES))


def is_live(item: Mapping[str, Any], now: float) -> bool:
    """Whether a slot item holds a lease that has not run out at `now`."""
    if not lenient_get(item.get(HOLDER), "S"):
        return False
    expires = _expiry(item)
    return expires is not None and expires > now


def chunks(keys: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def lenient_get(document: object, key: str) -> object:
    """`document[key]` if `document` is a mapping, else `None`: service output is read leniently."""
    if isinstance(document, Mapping):
        return cast("Mapping[str, object]", document).get(key)
    return None


def as_list(value: object) -> list[object]:
    """`value` if it is a list, else an empty one."""
    return cast("list[object]", value) if isinstance(value, list) else []
