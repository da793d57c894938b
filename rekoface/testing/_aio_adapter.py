"""The aiobotocore adapter: an aiobotocore client answered by the same `Handler`.

aiobotocore sends through botocore's event system too, but awaits its answers: its
``before-send`` wants an `AioAWSResponse`, whose body is read with ``await``. This
adapter asks the botocore adapter (`_transport`) for the answer the sync fake gives
to the same request, and hands that over as an `AioAWSResponse`, so the sync and the
async clients meet one fake, one serialisation and one set of answers.

aiobotocore is imported only when a client is attached or made: ``import
rekoface.testing`` works without it.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from . import _transport
from ._handler import Handler

__all__ = ["aiobotocore_client", "attach_aiobotocore"]


class _AioRawBody:
    """The bit of aiohttp's response that `AioAWSResponse.content` awaits."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def read(self) -> bytes:
        return self._data


class _AioHooks:
    """The botocore adapter's two handlers, with answers an aiobotocore client can await."""

    def __init__(self, handler: Handler) -> None:
        self._sync = _transport._Hooks(handler)  # pyright: ignore[reportPrivateUsage]
        self._response_type: Any = importlib.import_module("aiobotocore.awsrequest").AioAWSResponse

    def choose_signer(self, **kwargs: Any) -> Any:
        return self._sync.choose_signer(**kwargs)

    def before_send(self, request: Any, event_name: str, **_: Any) -> Any:
        answer = self._sync.before_send(request, event_name)
        return self._response_type(
            answer.url, answer.status_code, answer.headers, _AioRawBody(answer.content)
        )


def attach_aiobotocore(handler: Handler, client: Any) -> None:
    """Make `client` (an aiobotocore "rekognition" client) talk to `handler`, e.g. a fake."""
    service = client.meta.service_model.service_name
    if service != "rekognition":
        raise ValueError(f"a rekognition client is needed, not {service!r}")
    hooks = _AioHooks(handler)
    events = client.meta.events
    unique = f"rekoface-fake-aio-{id(handler)}"
    events.register_first(
        "choose-signer.rekognition", hooks.choose_signer, unique_id=f"{unique}-signer"
    )
    events.register_first("before-send.rekognition", hooks.before_send, unique_id=unique)


@asynccontextmanager
async def aiobotocore_client(
    handler: Handler, region_name: str = "us-east-1", **client_kwargs: Any
) -> AsyncGenerator[Any, None]:
    """``async with``: a new aiobotocore "rekognition" client that `handler` answers.

    Configured as `FakeRekognition.client` configures a boto3 one (botocore's retries
    off, requests unsigned, your ``config=`` merged over that); no network is used.
    """
    session = importlib.import_module("aiobotocore.session").AioSession()
    config = _transport.DEFAULT_CONFIG.merge(
        _transport._UNSIGNED_CONFIG  # pyright: ignore[reportPrivateUsage]
    )
    given = client_kwargs.pop("config", None)
    if given is not None:
        config = config.merge(given)
    async with session.create_client(
        "rekognition", region_name=region_name, config=config, **client_kwargs
    ) as client:
        attach_aiobotocore(handler, client)
        yield client
