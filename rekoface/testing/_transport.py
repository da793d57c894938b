"""The botocore adapter: answers a client's HTTP requests from a `Handler`.

Two hooks on the client's own event system: ``choose-signer.rekognition`` answers
`UNSIGNED` (no credentials needed), and ``before-send.rekognition`` turns the
serialised request into a call of the handler's `handle` and its answer into an
`AWSResponse`, so botocore's retries and parsing run exactly as against AWS.
The adapter knows only the `Handler` interface, never the fake behind it.
The handler is registered first on the service-specific event, so it wins over
moto's generic ``before-send`` stubber inside `mock_aws`.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from email.utils import formatdate
from typing import TYPE_CHECKING, Any, cast

import botocore.session
from botocore import UNSIGNED
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError

from ._handler import Handler, ResponseDropped

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from mypy_boto3_rekognition import RekognitionClient

__all__ = ["DEFAULT_CONFIG", "attach", "make_client"]

#: botocore's own retries off: the caller's retry layer is the only one under test.
DEFAULT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1})
_UNSIGNED_CONFIG = Config(signature_version=UNSIGNED)
#: Where an answered request points afterwards (see `_Hooks.before_send`).
_ANSWERED_URL = "http://answered-by-rekoface-fake.invalid/"

_session: botocore.session.Session | None = None
_session_lock = threading.Lock()


class _RawBody:
    """The bit of urllib3's response that `AWSResponse.content` reads."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def _parse(body: Any) -> Any:
    if body is None or body in (b"", ""):
        return {}
    return json.loads(body)


class _Hooks:
    """The two botocore event handlers, bound to one `Handler`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def choose_signer(self, **_: Any) -> Any:
        return UNSIGNED

    def before_send(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse:
        operation = event_name.rsplit(".", 1)[-1]  # before-send.rekognition.<Operation>
        try:
            body = _parse(request.body)
        except ValueError:
            body = None
        if isinstance(body, dict):
            try:
                status, answer = self.handler.handle(operation, cast("dict[str, Any]", body))
            except ResponseDropped:
                raise ReadTimeoutError(endpoint_url=request.url) from None
        else:
            status = 400
            answer = {"__type": "SerializationException", "Message": "Malformed JSON body"}
        payload = json.dumps(answer).encode()
        url = request.url
        # botocore calls every before-send handler and keeps the first answer, so moto's
        # stubber (inside `mock_aws`) still sees the request, and raises for operations
        # it does not implement (CreateCollection, IndexFaces, ...). Handlers after this
        # one see a URL no service matches, so they leave the answered request alone.
        request.url = _ANSWERED_URL
        headers = HTTPHeaders()
        headers["x-amzn-RequestId"] = str(uuid.uuid4())
        headers["Content-Type"] = "application/x-amz-json-1.1"
        headers["Content-Length"] = str(len(payload))
        headers["Date"] = formatdate(usegmt=True)
        return AWSResponse(url, status, headers, _RawBody(payload))


def attach(handler: Handler, client: BaseClient) -> None:
    """Make `client` (a boto3/botocore "rekognition" client) talk to `handler`."""
    if client.meta.service_model.service_name != "rekognition":
        raise ValueError(
            f"a rekognition client is needed, not {client.meta.service_model.service_name!r}"
        )
    hooks = _Hooks(handler)
    events = client.meta.events
    unique = f"rekoface-fake-{id(handler)}"
    events.register_first(
        "choose-signer.rekognition", hooks.choose_signer, unique_id=f"{unique}-signer"
    )
    events.register_first(
        "before-send.rekognition",
        hooks.before_send,  # type: ignore[arg-type]  # stubs want None; botocore uses it
        unique_id=unique,
    )


def _shared_session() -> botocore.session.Session:
    global _session  # noqa: PLW0603 - one session: loading the service model costs ~0.2 s
    with _session_lock:
        if _session is None:
            _session = botocore.session.get_session()
        return _session


def make_client(
    handler: Handler, region_name: str = "us-east-1", **client_kwargs: Any
) -> RekognitionClient:
    """A new boto3 "rekognition" client answered by `handler`."""
    config = client_kwargs.pop("config", None)
    merged = DEFAULT_CONFIG.merge(_UNSIGNED_CONFIG)
    if config is not None:
        merged = merged.merge(config)
    session = _shared_session()
    with _session_lock:  # botocore sessions do not promise thread-safe client creation
        client = session.create_client(
            "rekognition", region_name=region_name, config=merged, **client_kwargs
        )
    attach(handler, client)
    return cast("RekognitionClient", client)
