"""`DynamoDBSlotStore`'s table: its definition, its creation and the check of its key
(private).

boto3 is imported only when a client has to be built.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from botocore.exceptions import WaiterError

from ._core import no_retries_config
from ._dynamodb_items import SLOT, as_list, lenient_get
from ._translate import translated
from ._validation import raise_if_any, shown
from .errors import ConfigurationError, FieldError, RekoFaceError

__all__ = [
    "build_client",
    "check_table_name",
    "checked_definition",
    "create_slot_table",
    "table_definition",
]

#: DynamoDB's rule for table names.
_TABLE_NAME: Final = re.compile(r"[a-zA-Z0-9_.-]{3,255}")


def table_definition(table_name: str) -> dict[str, Any]:
    """The ``CreateTable`` parameters of a slot table: on-demand, one string key."""
    return {
        "TableName": table_name,
        "AttributeDefinitions": [{"AttributeName": SLOT, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": SLOT, "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


def check_table_name(errors: list[FieldError], value: object) -> None:
    if not isinstance(value, str):
        errors.append(FieldError("table_name", f"must be a str, not {type(value).__name__}", "str"))
    elif _TABLE_NAME.fullmatch(value) is None:
        errors.append(
            FieldError("table_name", f"{shown(value)} does not match", "[a-zA-Z0-9_.-]{3,255}")
        )


def checked_definition(table_name: str) -> dict[str, Any]:
    """`table_definition`, once `table_name` is checked."""
    errors: list[FieldError] = []
    check_table_name(errors, table_name)
    raise_if_any(errors)
    return table_definition(table_name)


def build_client() -> Any:
    """A boto3 DynamoDB client with botocore's retries off (rekoface's policy retries)."""
    import boto3

    with translated("create DynamoDB client"):
        return boto3.client(  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            "dynamodb", config=no_retries_config(None)
        )


def create_slot_table(table_name: str, *, dynamodb_client: Any = None) -> None:
    """`DynamoDBSlotStore.create_table`: make the table, wait for it, check its key."""
    definition = checked_definition(table_name)
    client = dynamodb_client if dynamodb_client is not None else build_client()
    try:
        with translated("DynamoDB CreateTable"):
            client.create_table(**definition)
    except RekoFaceError as err:
        if getattr(err, "code", None) != "ResourceInUseException":
            raise
    try:
        with translated("DynamoDB DescribeTable"):
            client.get_waiter("table_exists").wait(TableName=table_name)
    except WaiterError as err:
        raise RekoFaceError(f"DynamoDB table {table_name!r} did not become ACTIVE: {err}") from err
    with translated("DynamoDB DescribeTable"):
        table = client.describe_table(TableName=table_name).get("Table", {})
    _check_key(table_name, table)


def _check_key(table_name: str, table: Mapping[str, Any]) -> None:
    """Refuse a table whose key is not the slot table's (one string partition key)."""
    key_schema = table.get("KeySchema")
    attributes = {
        lenient_get(a, "AttributeName"): lenient_get(a, "AttributeType")
        for a in as_list(table.get("AttributeDefinitions"))
    }
    if key_schema != [{"AttributeName": SLOT, "KeyType": "HASH"}] or attributes.get(SLOT) != "S":
        raise ConfigurationError(
            f"DynamoDB table {table_name!r} exists with another key "
            f"({key_schema!r}): a slot table has the one string partition key {SLOT!r}"
        )
