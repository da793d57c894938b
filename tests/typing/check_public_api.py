"""What users' type checkers see: checked by mypy --strict and pyright (strict), never run.

Each ``assert_type`` pins a type the public API promises; each ``# type: ignore[code]``
marks a call that must stay a type error (mypy's ``warn_unused_ignores`` and pyright's
``reportUnnecessaryTypeIgnoreComment`` fail when the error disappears). The file name
does not start with ``test_``, so pytest does not collect it; everything sits under
``TYPE_CHECKING``, so importing it does nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Iterator

    import boto3
    from botocore.exceptions import ClientError
    from mypy_boto3_rekognition import RekognitionClient
    from mypy_boto3_rekognition.type_defs import StartFaceSearchRequestTypeDef
    from typing_extensions import assert_type

    import rekoface
    from rekoface import (
        Appearance,
        BackoffPoller,
        BatchOutcome,
        Completion,
        CompletionNotification,
        FaceMatch,
        FaceSearchClient,
        FaceSearchJob,
        FaceSearchPage,
        FaceSearchRequest,
        FaceSearchResults,
        JobState,
        JobStatus,
        NotificationStatus,
        PersonMatch,
        Poller,
        RetryPolicy,
        S3Video,
        ServiceError,
        SqsNotificationPoller,
        ThrottlingError,
        VideoMetadata,
        WorkQueue,
        derive_client_request_token,
        parse_notification,
    )

    def requests() -> None:
        video = S3Video.from_uri("s3://my-bucket/lobby.mp4")
        assert_type(video, S3Video)
        assert_type(video.version, str | None)
        request = FaceSearchRequest(video=video, collection_id="employees", face_match_threshold=90)
        assert_type(request.face_match_threshold, float | None)
        assert_type(request.to_api(), StartFaceSearchRequestTypeDef)
        assert_type(derive_client_request_token(request, "key"), str)

        FaceSearchRequest(video=video, collection_id="e", face_match_threshold="90")  # type: ignore[arg-type]
        FaceSearchRequest(video="s3://my-bucket/lobby.mp4", collection_id="e")  # type: ignore[arg-type]
        FaceSearchRequest(video=video)  # type: ignore[call-arg]
        request.collection_id = "other"  # type: ignore[misc]

    def client_calls(client: FaceSearchClient, request: FaceSearchRequest) -> None:
        job = client.start(request)
        assert_type(job, FaceSearchJob)
        assert_type(job.job_id, str)
        assert_type(client.start(request, idempotency_key="event-1"), FaceSearchJob)

        status = client.status(job)
        assert_type(status, JobStatus)
        assert_type(status.state, JobState)
        assert_type(client.status("job-id").status_message, str | None)
        assert_type(client.wait(job, timeout=60.0), JobStatus)
        assert_type(client.wait(job, poller=BackoffPoller(initial_delay=1.0)), JobStatus)

        client.start("s3://my-bucket/lobby.mp4")  # type: ignore[arg-type]
        client.status(42)  # type: ignore[arg-type]
        client.results(job, page_size="100")  # type: ignore[arg-type]

    def results(client: FaceSearchClient, job: FaceSearchJob) -> None:
        found = client.results(job)
        assert_type(found, FaceSearchResults)
        for match in found:
            assert_type(match, PersonMatch)
            assert_type(match.timestamp, int)
            assert_type(match.person.index, int | None)
            for face_match in match.face_matches:
                assert_type(face_match, FaceMatch)
                assert_type(face_match.similarity, float)
                assert_type(face_match.face.face_id, str)
                assert_type(face_match.face.external_image_id, str | None)
        assert_type(iter(found), Iterator[PersonMatch])
        assert_type(list(found), list[PersonMatch])
        for page in found.pages():
            assert_type(page, FaceSearchPage)
            assert_type(page.next_token, str | None)
            assert_type(page.matches, tuple[PersonMatch, ...])
        assert_type(found.appearances(max_gap_ms=2000), list[Appearance])
        assert_type(found.video_metadata, VideoMetadata | None)
        assert_type(client.search(FaceSearchRequest(S3Video("b-1", "k"), "c")), FaceSearchResults)

    def waiting(client: FaceSearchClient, queue_url: str) -> None:
        poller: Poller = SqsNotificationPoller(queue_url, wait_time_seconds=20)
        backoff: Poller = BackoffPoller()
        assert_type(client.wait("job-id", poller=poller), JobStatus)
        assert_type(client.wait("job-id", poller=backoff), JobStatus)
        for done in client.completions(queue_url, idle_timeout=60.0):
            assert_type(done, Completion)
            with done as handled:
                assert_type(handled.notification, CompletionNotification)
                assert_type(handled.notification.status, NotificationStatus)
        note = parse_notification('{"JobId": "j", "Status": "SUCCEEDED"}')
        assert_type(note, CompletionNotification)
        assert_type(note.job_id, str)
        client.wait("job-id", poller=object())  # type: ignore[arg-type]

    def work_queue(client: FaceSearchClient, queue_url: str) -> None:
        queue = WorkQueue(queue_url, collection_id="employees", idle_timeout=60.0)
        for done in queue.search_many(client, max_in_flight=5):
            assert_type(done, BatchOutcome)
            assert_type(queue.settle(done), Literal["deleted", "dead-lettered", "returned"])
        queue.search_many(client, key="batch-1")  # type: ignore[arg-type]
        WorkQueue(queue_url, visibility_timeout="300")  # type: ignore[arg-type]

    def construction(session: boto3.Session, boto3_client: RekognitionClient) -> None:
        assert_type(FaceSearchClient(boto3_client), FaceSearchClient)
        assert_type(
            FaceSearchClient(boto3_session=session, region_name="eu-west-1"), FaceSearchClient
        )
        assert_type(FaceSearchClient(retry=RetryPolicy(max_attempts=3)).retry, RetryPolicy)
        assert_type(FaceSearchClient().boto3_client, RekognitionClient)
        FaceSearchClient(retry=3)  # type: ignore[arg-type]

    def errors(client: FaceSearchClient) -> None:
        try:
            client.status("job-id")
        except ThrottlingError as err:
            assert_type(err.code, str)
            assert_type(err.retryable, bool)
            assert_type(err.request_id, str | None)
            caught: ClientError = err  # a ServiceError is still a ClientError
            service: ServiceError = err
            del caught, service
        assert_type(rekoface.__version__, str)

    def typos_and_wrong_types(client: FaceSearchClient) -> None:
        # A misspelt public name is an error, not `Any` (the lazy __getattr__ is hidden).
        from rekoface import FaceSerchClient  # type: ignore[attr-defined]

        rekoface.BackofPoller()  # type: ignore[attr-defined]
        BackoffPoller(initial_delay="5")  # type: ignore[arg-type]
        rekoface.BackoffPoller(initial_delay="5")  # type: ignore[arg-type]
        rekoface.FaceSearchClient(region_name=5)  # type: ignore[arg-type]
        del FaceSerchClient

    def job_errors(client: FaceSearchClient) -> None:
        try:
            client.wait("job-id")
        except rekoface.JobError as err:
            assert_type(err.job_id, str)
        except rekoface.ServiceError as err:
            assert_type(err.client_request_token, str | None)
