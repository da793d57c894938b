"""One translation of botocore's errors: the same failure is the same typed error on every path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ProxyConnectionError,
    ReadTimeoutError,
    ResponseStreamingError,
    SSLError,
)

from rekoface import (
    ConfigurationError,
    FaceSearchClient,
    RekoFaceError,
    RetryPolicy,
    ThrottlingError,
    TransportError,
    _sqs,
)

URL = "https://rekognition.us-east-1.amazonaws.com/"

FAILURES: list[tuple[BaseException, type[RekoFaceError]]] = [
    (SSLError(endpoint_url=URL, error=OSError("certificate verify failed")), TransportError),
    (ProxyConnectionError(proxy_url="http://127.0.0.1:3128", error="refused"), TransportError),
    (ResponseStreamingError(error="connection reset"), TransportError),
    (ConnectionClosedError(endpoint_url=URL), TransportError),
    (ConnectTimeoutError(endpoint_url=URL), TransportError),
    (ReadTimeoutError(endpoint_url=URL), TransportError),
    (EndpointConnectionError(endpoint_url=URL), TransportError),
    (NoCredentialsError(), ConfigurationError),
    (
        ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "X"),
        ThrottlingError,
    ),
]


def _raising(exc: BaseException) -> Callable[..., Any]:
    def handler(**_: Any) -> Any:
        raise exc

    return handler


@pytest.mark.parametrize(("failure", "expected"), FAILURES, ids=lambda v: type(v).__name__)
def test_rekognition_calls_raise_the_typed_error(
    failure: BaseException, expected: type[RekoFaceError]
) -> None:
    boto = boto3.client("rekognition", region_name="us-east-1")
    boto.meta.events.register_first("before-send.rekognition", _raising(failure))
    client = FaceSearchClient(boto, retry=RetryPolicy.never())
    with pytest.raises(expected) as caught:
        client.status("job-1")
    assert caught.value.__cause__ is failure


@pytest.mark.parametrize(("failure", "expected"), FAILURES, ids=lambda v: type(v).__name__)
def test_sqs_calls_raise_the_same_typed_error(
    failure: BaseException, expected: type[RekoFaceError]
) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    sqs.meta.events.register_first("before-send.sqs", _raising(failure))
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/q"
    with pytest.raises(expected) as caught:
        _sqs.call("ReceiveMessage", lambda: sqs.receive_message(QueueUrl=url))
    assert caught.value.__cause__ is failure
