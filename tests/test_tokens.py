"""Token derivation: stable across processes and versions, sensitive to every field and the key."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rekoface import (
    FaceSearchRequest,
    NotificationChannel,
    RequestValidationError,
    S3Video,
    derive_client_request_token,
)
from rekoface._constraints import CONSTRAINTS
from rekoface.tokens import random_client_request_token

BASE = FaceSearchRequest(S3Video("bucket", "lobby.mp4"), "employees", 90)
TOKEN_RULE = CONSTRAINTS["ClientRequestToken"]


def test_token_fits_the_service_rule() -> None:
    token = derive_client_request_token(BASE, "s3-event-1")
    assert TOKEN_RULE.compiled is not None
    assert TOKEN_RULE.compiled.fullmatch(token)
    assert len(token) == 43


def test_pinned_value_so_a_change_of_canonical_form_is_noticed() -> None:
    """Changing this value breaks every caller's idempotency across an upgrade."""
    assert derive_client_request_token(BASE, "s3-event-1") == derive_client_request_token(
        FaceSearchRequest(S3Video("bucket", "lobby.mp4"), "employees", 90.0), "s3-event-1"
    )
    canonical = (
        b'{"CollectionId":"employees","FaceMatchThreshold":90.0,'
        b'"Video":{"S3Object":{"Bucket":"bucket","Name":"lobby.mp4"}}}'
    )
    digest = hashlib.sha256(
        b"rekoface/client-request-token/v1\x00" + canonical + b"\x00" + b"s3-event-1"
    ).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert derive_client_request_token(BASE, "s3-event-1") == expected
    assert expected == "omAGPA-iKyINQmlXVzRmgnnSJnpvJ2Z78iiD0NsGQc0"


def test_identical_across_processes_and_hash_seeds() -> None:
    code = (
        "from rekoface import FaceSearchRequest, S3Video, derive_client_request_token;"
        "r=FaceSearchRequest(S3Video('bucket','lobby.mp4'),'employees',90);"
        "print(derive_client_request_token(r,'s3-event-1'))"
    )
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(out.stdout.strip())
    assert outputs == {derive_client_request_token(BASE, "s3-event-1")}


@pytest.mark.parametrize(
    "other",
    [
        FaceSearchRequest(S3Video("bucket2", "lobby.mp4"), "employees", 90),
        FaceSearchRequest(S3Video("bucket", "lobby2.mp4"), "employees", 90),
        FaceSearchRequest(S3Video("bucket", "lobby.mp4", "v2"), "employees", 90),
        FaceSearchRequest(S3Video("bucket", "lobby.mp4"), "visitors", 90),
        FaceSearchRequest(S3Video("bucket", "lobby.mp4"), "employees", 90.5),
        FaceSearchRequest(S3Video("bucket", "lobby.mp4"), "employees"),
        FaceSearchRequest(S3Video("bucket", "lobby.mp4"), "employees", 90, job_tag="t"),
        FaceSearchRequest(
            S3Video("bucket", "lobby.mp4"),
            "employees",
            90,
            notification_channel=NotificationChannel(
                "arn:aws:sns:us-east-1:123456789012:AmazonRekognitionT",
                "arn:aws:iam::123456789012:role/R",
            ),
        ),
    ],
)
def test_any_field_changes_the_token(other: FaceSearchRequest) -> None:
    assert derive_client_request_token(other, "k") != derive_client_request_token(BASE, "k")


@given(a=st.text(min_size=1), b=st.text(min_size=1))
def test_different_keys_give_different_tokens(a: str, b: str) -> None:
    same = derive_client_request_token(BASE, a) == derive_client_request_token(BASE, b)
    assert same == (a == b)


def test_the_request_own_token_is_not_part_of_the_content() -> None:
    with_token = FaceSearchRequest(
        S3Video("bucket", "lobby.mp4"), "employees", 90, client_request_token="x"
    )
    assert derive_client_request_token(with_token, "k") == derive_client_request_token(BASE, "k")


@pytest.mark.parametrize(
    ("request_", "key", "paths"),
    [
        (BASE, "", ("idempotency_key",)),
        (BASE, 7, ("idempotency_key",)),
        ("not a request", None, ("request", "idempotency_key")),
    ],
)
def test_bad_arguments_are_named(request_: object, key: object, paths: tuple[str, ...]) -> None:
    with pytest.raises(RequestValidationError) as info:
        derive_client_request_token(request_, key)  # type: ignore[arg-type]
    assert info.value.paths == paths


def test_random_tokens_are_fresh_and_valid() -> None:
    tokens = {random_client_request_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", t) for t in tokens)
