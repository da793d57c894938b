"""What users' type checkers see of rekoface.aio: checked by mypy --strict and pyright, never run.

As check_public_api.py: each ``assert_type`` pins a promised type, each
``# type: ignore[code]`` a call that must stay an error; everything sits under
``TYPE_CHECKING``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from mypy_boto3_rekognition import RekognitionClient
    from typing_extensions import assert_type

    from rekoface import (
        Appearance,
        BackoffPoller,
        BatchOutcome,
        Completion,
        CompletionNotification,
        FaceSearchJob,
        FaceSearchPage,
        FaceSearchRequest,
        JobStatus,
        PersonMatch,
        RetryPolicy,
        SqsNotificationPoller,
        VideoMetadata,
    )
    from rekoface.aio import (
        AsyncBackoffPoller,
        AsyncFaceSearchClient,
        AsyncFaceSearchResults,
        AsyncPoller,
    )
    from rekoface.testing import FakeRekognition, aiobotocore_client, attach_aiobotocore

    async def client_calls(boto3_client: RekognitionClient, request: FaceSearchRequest) -> None:
        async with AsyncFaceSearchClient(boto3_client, retry=RetryPolicy()) as client:
            assert_type(client, AsyncFaceSearchClient)
            job = await client.start(request, idempotency_key="event-1")
            assert_type(job, FaceSearchJob)
            assert_type(await client.status(job), JobStatus)
            assert_type(await client.status("job-id"), JobStatus)
            assert_type(await client.wait(job, timeout=60.0), JobStatus)
            assert_type(await client.wait(job, poller=AsyncBackoffPoller()), JobStatus)
            assert_type(await client.search(request, timeout=600.0), AsyncFaceSearchResults)
            assert_type(client.boto3_client, RekognitionClient)
            assert_type(client.retry, RetryPolicy)

            await client.start("s3://my-bucket/lobby.mp4")  # type: ignore[arg-type]
            await client.wait(job, poller=BackoffPoller())  # type: ignore[arg-type]
            job_id: str = client.start(request).job_id  # type: ignore[attr-defined]
            del job_id

    async def results(client: AsyncFaceSearchClient, job: FaceSearchJob) -> None:
        found = client.results(job, page_size=100, min_similarity=90.0)
        assert_type(found, AsyncFaceSearchResults)
        async for match in found:
            assert_type(match, PersonMatch)
            assert_type(match.timestamp, int)
        assert_type(found.pages(), AsyncIterator[FaceSearchPage])
        async for page in found.pages():
            assert_type(page, FaceSearchPage)
            assert_type(page.next_token, str | None)
        assert_type(await found.appearances(max_gap_ms=2000, group_by="face"), list[Appearance])
        assert_type(await found.video_metadata(), VideoMetadata | None)
        for _ in found:  # type: ignore[attr-defined]
            pass

    async def many(client: AsyncFaceSearchClient, requests: list[FaceSearchRequest]) -> None:
        async def pause(seconds: float) -> None: ...

        async for outcome in client.search_many(requests, key="nightly", sleep=pause):
            assert_type(outcome, BatchOutcome)
            assert_type(outcome.ok, bool)
        async for done in client.completions("https://sqs.eu-west-1.amazonaws.com/1/q"):
            assert_type(done, Completion)
            async with done as handled:
                assert_type(handled.notification, CompletionNotification)

        def blocking(seconds: float) -> None: ...

        client.search_many(requests, sleep=blocking)  # type: ignore[arg-type]

    class AioRekognition:
        """An aiobotocore-like client, typed as types-aiobotocore types one."""

        async def start_face_search(self, **kwargs: object) -> dict[str, object]: ...

        async def get_face_search(self, *, JobId: str, MaxResults: int = 1000) -> object: ...  # noqa: N803

        async def close(self) -> None: ...

    class AioSqs:
        async def receive_message(self, **kwargs: object) -> dict[str, object]: ...

        async def delete_message(self, **kwargs: object) -> dict[str, object]: ...

    async def native(request: FaceSearchRequest, queue_url: str) -> None:
        client = AsyncFaceSearchClient(AioRekognition())
        assert_type(client.native, bool)
        assert_type(await client.start(request), FaceSearchJob)
        poller = SqsNotificationPoller(queue_url)
        assert_type(await client.wait("job-id", poller=poller), JobStatus)
        AsyncFaceSearchClient(AioRekognition(), poller=poller)
        async for done in client.completions(queue_url, sqs_client=AioSqs()):
            assert_type(done, Completion)
        AsyncFaceSearchClient(AioSqs())  # type: ignore[arg-type]

    async def fake_clients(fake: FakeRekognition) -> None:
        async with aiobotocore_client(fake, region_name="eu-west-1") as aio:
            client = AsyncFaceSearchClient(aio)
            assert_type(client, AsyncFaceSearchClient)
        attach_aiobotocore(fake, object())

    async def pollers() -> None:
        async def pause(seconds: float) -> None: ...

        async def fetch(job_id: str) -> JobStatus:
            raise NotImplementedError

        poller: AsyncPoller = AsyncBackoffPoller(initial_delay=1.0, sleep=pause)
        assert_type(await poller.wait("job-id", fetch, timeout=30.0), JobStatus)
        assert_type(AsyncBackoffPoller().delay(10.0), float)
        sync_poller: AsyncPoller = BackoffPoller()  # type: ignore[assignment]
        del sync_poller
