"""A canned-HTTP responder for real boto3 clients: every call still goes through botocore's
parameter validation, serialisation, signing and response parsing; only the network is
replaced (by a ``before-send`` hook). Records what was sent, so tests can assert it."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config


class _RawBody:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:  # botocore reads streaming bodies this way
        yield self._data

    def read(self, *_: Any) -> bytes:
        return self._data


class Canned:
    """Answers queued in order: ``(status, body)`` tuples, or exceptions to raise."""

    def __init__(self) -> None:
        self.answers: deque[tuple[int, Mapping[str, Any]] | BaseException] = deque()
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def ok(self, body: Mapping[str, Any]) -> Canned:
        self.answers.append((200, body))
        return self

    def error(self, code: str, status: int = 400, message: str = "injected") -> Canned:
        self.answers.append((status, {"__type": code, "message": message}))
        return self

    def fail(self, exc: BaseException) -> Canned:
        self.answers.append(exc)
        return self

    def operations(self) -> list[str]:
        return [op for op, _ in self.sent]

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        target = request.headers.get("X-Amz-Target", b"")
        if isinstance(target, bytes):
            target = target.decode()
        body = request.body or b"{}"
        if isinstance(body, str):
            body = body.encode()
        self.sent.append((target.rsplit(".", 1)[-1], json.loads(bytes(body))))  # type: ignore[arg-type]
        answer = self.answers.popleft()
        if isinstance(answer, BaseException):
            raise answer
        status, payload = answer
        headers = {"x-amzn-RequestId": f"req-{len(self.sent)}", "Content-Type": "application/json"}
        raw = _RawBody(json.dumps(payload).encode())
        return AWSResponse(request.url, status, headers, raw)  # type: ignore[arg-type]


def rekognition_client(canned: Canned, *, botocore_retries: bool = False) -> Any:
    """A real boto3 Rekognition client answered by `canned`."""
    config = (
        None if botocore_retries else Config(retries={"mode": "standard", "total_max_attempts": 1})
    )
    client = boto3.client("rekognition", region_name="us-east-1", config=config)
    client.meta.events.register("before-send.rekognition", canned)  # type: ignore[arg-type]
    return client
