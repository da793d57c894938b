"""One function per subcommand: each returns an exit code or raises for `main` to word."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, Final

from rekoface.errors import FieldError, PollTimeoutError, RequestValidationError

from .args import DEFAULT_PAGE_SIZE
from .batch import S3Location
from .context import CommandError, Context, UsageError, exact_number
from .output import MatchWriter, write_appearances, write_job, write_status
from .progress import Progress, ProgressPoller
from .streams import OutputError

if TYPE_CHECKING:
    from rekoface.models import FaceSearchRequest, NotificationChannel, S3Video
    from rekoface.pollers import Poller
    from rekoface.results import FaceSearchResults, JobStatus

    from .progress import BatchBar

__all__ = ["COMMANDS", "HTML_COMMANDS", "build_request", "check_format"]

EXIT_OUTPUT: Final = 1
EXIT_SOME_FAILED: Final = 1
EXIT_INTERRUPTED: Final = 130
EXIT_NOT_FINISHED: Final = 4


# --------------------------------------------------------------------------- helpers


def notification_channel(
    args: argparse.Namespace,
) -> tuple[NotificationChannel | None, list[FieldError]]:
    """``--sns-topic`` and ``--role``: both or neither (exit 2); the channel, or its
    problems for the caller to report with the request's others."""
    from rekoface.models import NotificationChannel

    if (args.sns_topic is None) != (args.role is None):
        raise UsageError("--sns-topic and --role go together")
    if args.sns_topic is None:
        return None, []
    try:
        return NotificationChannel(args.sns_topic, args.role), []
    except RequestValidationError as err:
        return None, list(err.errors)


def build_request(args: argparse.Namespace) -> FaceSearchRequest:
    """The request the options describe; every invalid value is reported at once."""
    from rekoface.models import FaceSearchRequest, S3Video

    channel, channel_errors = notification_channel(args)
    errors: list[FieldError] = []
    video: S3Video | None = None
    request: FaceSearchRequest | None = None
    try:
        video = S3Video.from_uri(args.video, args.video_version)
    except RequestValidationError as err:
        errors += err.errors
    errors += channel_errors
    try:
        request = FaceSearchRequest(
            # A stand-in video lets the other fields be checked too.
            video if video is not None else S3Video("stand-in", "stand-in"),
            args.collection,
            args.threshold,
            channel,
            args.job_tag,
            args.token,
        )
    except RequestValidationError as err:
        errors += err.errors
    if errors or request is None:
        raise RequestValidationError(errors)
    return request


def _start_interrupted() -> CommandError:
    return CommandError(
        EXIT_INTERRUPTED,
        "interrupted; a job may have started (with --idempotency-key, running the same "
        "command again returns that job instead of starting another)",
        traceback=False,
    )


def _poller(ctx: Context, progress: Progress) -> Poller:
    from rekoface.pollers import BackoffPoller, SqsNotificationPoller

    queue_url = ctx.args.queue_url
    inner: Poller
    if queue_url is not None:
        inner = SqsNotificationPoller(
            queue_url, sqs_client=ctx.sqs_client(queue_url), sleep=ctx.sleep, clock=ctx.clock
        )
    else:
        inner = BackoffPoller(sleep=progress.sleeper(ctx.sleep), clock=ctx.clock)
    return ProgressPoller(inner, progress)


def _wait(ctx: Context, job_id: str, progress: Progress, *, then: str = "") -> JobStatus:
    """Wait with progress; a timeout or Ctrl-C names the command that resumes."""
    options: list[tuple[str, str]] = []
    if ctx.args.queue_url is not None:
        options.append(("--queue-url", ctx.args.queue_url))
    resume = ctx.command_line("wait", job_id, options) + then
    try:
        return ctx.client().wait(job_id, poller=_poller(ctx, progress), timeout=ctx.args.timeout)
    except KeyboardInterrupt:
        raise CommandError(
            EXIT_INTERRUPTED,
            f"interrupted; job {job_id} goes on. Resume with: {resume}",
            traceback=False,
        ) from None
    except PollTimeoutError as err:
        raise CommandError(
            EXIT_NOT_FINISHED, f"error: {err}; the job goes on. Resume with: {resume}"
        ) from err


def _results_options(ctx: Context) -> list[tuple[str, str]]:
    """The options of this run that `results` needs to go on, each value exact.

    A float is written so that it reads back as the same float: ``:g`` would turn
    ``99.999951`` into ``100``, and the resumed run would drop matches.
    """
    args = ctx.args
    options: list[tuple[str, str]] = []
    if args.sort_by != "TIMESTAMP":
        options.append(("--sort-by", args.sort_by))
    if args.min_similarity is not None:
        options.append(("--min-similarity", exact_number(args.min_similarity)))
    if args.page_size != DEFAULT_PAGE_SIZE:
        options.append(("--page-size", str(args.page_size)))
    if ctx.fmt != "table":
        options.append(("--format", ctx.fmt))
    return options


def _stream(ctx: Context, results: FaceSearchResults, token: str | None) -> int:
    """Write the matches page by page; Ctrl-C or a failed write names the token that resumes.

    JSON formats get the service's ``Persons`` items unchanged; tables and CSV read them
    through the result models.
    """
    writer = MatchWriter(ctx.stdout, ctx.fmt, results.job_id)
    resume = token
    try:
        # The raw pages: a private method kept for the CLI's JSON formats.
        for persons, next_token in results._raw_pages():  # pyright: ignore[reportPrivateUsage]
            writer.page(persons, results.video_metadata)
            resume = next_token
        writer.close()
    except (KeyboardInterrupt, OutputError) as err:
        options = _results_options(ctx)
        if resume is not None:
            options.append(("--next-token", resume))
        line = ctx.command_line("results", results.job_id, options)
        if isinstance(err, KeyboardInterrupt):
            raise CommandError(
                EXIT_INTERRUPTED, f"interrupted; resume with: {line}", traceback=False
            ) from None
        raise CommandError(EXIT_OUTPUT, f"error: {err}; resume with: {line}") from err
    return 0


# --------------------------------------------------------------------------- commands


def cmd_start(ctx: Context) -> int:
    request = build_request(ctx.args)
    try:
        job = ctx.client().start(request, idempotency_key=ctx.args.idempotency_key)
    except KeyboardInterrupt:
        raise _start_interrupted() from None
    write_job(ctx.stdout, ctx.fmt, job)
    return 0


def cmd_status(ctx: Context) -> int:
    write_status(ctx.stdout, ctx.fmt, ctx.client().status(ctx.args.job_id))
    return 0


def cmd_wait(ctx: Context) -> int:
    status = _wait(ctx, ctx.args.job_id, ctx.progress())
    write_status(ctx.stdout, ctx.fmt, status)
    return 0


def cmd_results(ctx: Context) -> int:
    args = ctx.args
    results = ctx.client().results(
        args.job_id,
        sort_by=args.sort_by,
        page_size=args.page_size,
        next_token=args.next_token,
        min_similarity=args.min_similarity,
    )
    return _stream(ctx, results, args.next_token)


def check_collection(ctx: Context, collection_id: str) -> None:
    """Before a job starts: refuse a collection that does not exist or holds no faces.

    A search against an empty collection runs, costs money and finds nobody. A check
    the service cannot answer (no permission for ``DescribeCollection``, an endpoint
    that does not offer it) is reported and the search goes on.
    """
    from rekoface.client import FaceSearchClient
    from rekoface.errors import ServiceError, TransportError
    from rekoface.retry import RetryPolicy

    client = ctx.client()
    if isinstance(client, FaceSearchClient):
        # One attempt: a check that cannot be answered at once is not worth a wait.
        client = FaceSearchClient(client.boto3_client, retry=RetryPolicy.never())
    try:
        client.collection(collection_id).check()
    except (ServiceError, TransportError) as err:
        reason = err.code if isinstance(err, ServiceError) else "no answer"
        ctx.progress().message(
            f"could not check collection {collection_id} ({reason}); starting anyway"
        )


def cmd_search(ctx: Context) -> int:
    args = ctx.args
    request = build_request(args)
    client = ctx.client()
    progress = ctx.progress()
    check_collection(ctx, request.collection_id)
    try:
        job = client.start(request, idempotency_key=args.idempotency_key)
    except KeyboardInterrupt:
        raise _start_interrupted() from None
    progress.message(f"started job {job.job_id}")
    then = " && " + ctx.command_line("results", job.job_id, _results_options(ctx))
    _wait(ctx, job.job_id, progress, then=then)
    results = client.results(
        job, sort_by=args.sort_by, page_size=args.page_size, min_similarity=args.min_similarity
    )
    return _stream(ctx, results, None)


def cmd_appearances(ctx: Context) -> int:
    args = ctx.args
    results = ctx.client().results(args.job_id, min_similarity=args.min_similarity)
    appearances = results.appearances(max_gap_ms=args.max_gap)
    metadata = results.video_metadata
    write_appearances(
        ctx.stdout,
        ctx.fmt,
        args.job_id,
        appearances,
        duration_millis=metadata.duration_millis if metadata is not None else None,
        title=f"Who was seen when: job {args.job_id}",
    )
    return 0


def _batch_template(args: argparse.Namespace) -> FaceSearchRequest:
    """The options every video of the batch shares, checked at once (a stand-in video)."""
    from rekoface.models import FaceSearchRequest, S3Video

    channel, errors = notification_channel(args)
    if args.queue_url is not None and args.sns_topic is None:
        raise UsageError(
            "--queue-url needs --sns-topic and --role: the jobs publish their ends to that "
            "topic, which feeds the queue"
        )
    template: FaceSearchRequest | None = None
    try:
        template = FaceSearchRequest(
            S3Video("stand-in", "stand-in"), args.collection, args.threshold, channel, args.job_tag
        )
    except RequestValidationError as err:
        errors += err.errors
    if errors or template is None:
        raise RequestValidationError(errors)
    return template


def _batch_resume(ctx: Context) -> list[tuple[str, str]]:
    """The options of this batch that a re-run needs, each value exact."""
    args = ctx.args
    options: list[tuple[str, str]] = []
    if args.from_file is not None:
        options.append(("--from-file", args.from_file))
    options.append(("--collection", args.collection))
    if args.threshold is not None:
        options.append(("--threshold", exact_number(args.threshold)))
    if args.key is not None:
        options.append(("--key", args.key))
    if args.max_in_flight != 20:
        options.append(("--max-in-flight", str(args.max_in_flight)))
    if args.timeout is not None:
        options.append(("--timeout", exact_number(args.timeout)))
    for flag, value in (
        ("--queue-url", args.queue_url),
        ("--sns-topic", args.sns_topic),
        ("--role", args.role),
        ("--job-tag", args.job_tag),
        ("--output", args.output),
    ):
        if value is not None:
            options.append((flag, value))
    return options


def _batch_interrupted(ctx: Context, running: int) -> CommandError:
    args = ctx.args
    goes_on = f"interrupted; {running} job{'' if running == 1 else 's'} go on at the service"
    if args.key is None:
        return CommandError(
            EXIT_INTERRUPTED,
            f"{goes_on}. Without --key a re-run starts new jobs: pass --key next time to "
            "make a batch resumable",
            traceback=False,
        )
    line = ctx.command_line("batch", args.videos, _batch_resume(ctx))
    stdin = " (with the same list on stdin)" if args.from_file == "-" else ""
    return CommandError(EXIT_INTERRUPTED, f"{goes_on}. Resume with: {line}{stdin}", traceback=False)


def _check_queue_options(args: argparse.Namespace) -> None:
    """``--from-queue`` and the options that go with it, or against it (exit 2)."""
    if args.from_queue is None:
        given = (args.dead_letter_queue, args.idle_timeout, args.wait_time_seconds)
        if any(value is not None for value in given):
            raise UsageError(
                "--dead-letter-queue, --idle-timeout and --wait-time-seconds go with --from-queue"
            )
        if not args.videos and args.from_file is None:
            raise UsageError(
                "name the videos: S3_URI arguments, s3://bucket/prefix/, --from-file, "
                "or --from-queue"
            )
        return
    if args.videos or args.from_file is not None:
        raise UsageError(
            "--from-queue takes the videos from the queue: give no S3_URI and no --from-file"
        )
    if args.key is not None:
        raise UsageError(
            "--key does not apply to --from-queue: each message's MessageId is its job's "
            "idempotency key, so a message delivered twice starts one job"
        )
    if args.queue_url is not None and args.queue_url == args.from_queue:
        raise UsageError(
            "--queue-url is for the jobs' completion notifications: it must not be the "
            "--from-queue work queue"
        )


def _slot_store(ctx: Context) -> Any:
    """The fleet's shared slots of ``--slots-table``, or `None`."""
    args = ctx.args
    if args.slots_table is None:
        return None
    import boto3

    from rekoface.slots import DynamoDBSlotStore

    from .context import session_for

    session = session_for(ctx.options) or boto3.Session()
    region = ctx.client().boto3_client.meta.region_name
    make: Any = session.client  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    return DynamoDBSlotStore(
        args.slots_table, capacity=args.slots, dynamodb_client=make("dynamodb", region_name=region)
    )


def _batch_options(ctx: Context, bar: BatchBar) -> dict[str, Any]:
    """The `search_many` options a file batch and a queue worker take from the same flags."""
    args = ctx.args
    return {
        "max_in_flight": args.max_in_flight,
        "timeout": args.timeout,
        "queue_url": args.queue_url,
        "sqs_client": ctx.sqs_client(args.queue_url) if args.queue_url is not None else None,
        "sleep": bar.sleeper(ctx.sleep),
        "clock": ctx.clock,
        "progress": bar.update,
        "slots": _slot_store(ctx),
    }


def cmd_batch(ctx: Context) -> int:
    import sys

    from .batch import Sources, json_line, line_for, output_for
    from .progress import BatchBar

    args = ctx.args
    if ctx.fmt not in ("table", "jsonl"):
        raise UsageError(
            f"batch writes JSON Lines, one line per video: --format {ctx.fmt} is not available"
        )
    _check_queue_options(args)
    template = _batch_template(args)
    videos = Sources.check_arguments(args.videos)
    client = ctx.client()
    s3_clients: list[Any] = []

    def s3_client() -> Any:
        if not s3_clients:
            s3_clients.append(ctx.s3_client())
        return s3_clients[0]

    output = output_for(args.output, s3_client)
    if args.from_queue is not None:
        return _batch_from_queue(ctx, template, output)
    uri_list: tuple[str, IO[Any]] | None = None
    if args.from_file == "-":
        uri_list = ("stdin", getattr(sys.stdin, "buffer", sys.stdin))
    elif args.from_file is not None:
        try:
            uri_list = (args.from_file, open(args.from_file, "rb"))  # noqa: SIM115 - closed below
        except OSError as err:
            raise UsageError(f"cannot read --from-file {args.from_file}: {err.strerror}") from err
    known = all(not isinstance(v, S3Location) for v in videos) and uri_list is None
    bar = BatchBar(
        ctx.stderr, clock=ctx.clock, enabled=not args.quiet, total=len(videos) if known else None
    )
    sources = Sources(template, videos, uri_list, s3_client, bar.message)
    batch = client.search_many(sources.requests(), key=args.key, **_batch_options(ctx, bar))
    failed = 0
    try:
        check_collection(ctx, template.collection_id)  # after every argument is checked
        for outcome in batch:
            record, ok = line_for(client, outcome, output)
            failed += not ok
            ctx.stdout.write(json_line(record))
            ctx.stdout.flush()
    except KeyboardInterrupt:
        bar.end()
        running = bar.last.in_flight if bar.last is not None else 0
        raise _batch_interrupted(ctx, running) from None
    except OutputError as err:
        bar.end()
        raise CommandError(EXIT_OUTPUT, f"error: {err}") from err
    finally:
        batch.close()
        if uri_list is not None and uri_list[0] != "stdin":
            uri_list[1].close()
    bar.end()
    return 0 if failed == 0 and sources.skipped == 0 else EXIT_SOME_FAILED


def _batch_from_queue(ctx: Context, template: FaceSearchRequest, output: Any) -> int:
    """``rekoface batch --from-queue``: one worker of a fleet sharing a queue of videos.

    Each outcome's line is written and flushed (and its ``--output`` file written)
    before its message is settled; a line whose results could not be written gives the
    message back for another try. A message that is no video request is reported here
    and dead-lettered.
    """
    from rekoface.errors import RequestValidationError as Malformed
    from rekoface.work_queue import WorkQueue

    from .batch import json_line, line_for
    from .progress import BatchBar

    args = ctx.args
    client = ctx.client()
    bar = BatchBar(ctx.stderr, clock=ctx.clock, enabled=not args.quiet, total=None)
    skipped = 0

    def malformed(message_id: str, err: Malformed) -> None:
        nonlocal skipped
        skipped += 1
        problems = "; ".join(str(e) for e in err.errors)
        bar.message(f"message {message_id}: dead-lettered, not a video request: {problems}")

    queue = WorkQueue(
        args.from_queue,
        sqs_client=ctx.sqs_client(args.from_queue),
        dead_letter_queue_url=args.dead_letter_queue,
        collection_id=template.collection_id,
        face_match_threshold=template.face_match_threshold,
        notification_channel=template.notification_channel,
        job_tag=template.job_tag,
        wait_time_seconds=20 if args.wait_time_seconds is None else args.wait_time_seconds,
        idle_timeout=args.idle_timeout,
        on_malformed=malformed,
        sleep=ctx.sleep,
        clock=ctx.clock,
    )
    failed = 0
    with queue:  # on the way out, messages not settled go back to the queue at once
        batch = queue.search_many(client, **_batch_options(ctx, bar))
        try:
            for outcome in batch:
                record, ok = line_for(client, outcome, output)
                failed += not ok
                ctx.stdout.write(json_line(record))
                ctx.stdout.flush()
                if outcome.ok and not ok:
                    queue.release(outcome)  # its results were not written: try again later
                else:
                    queue.settle(outcome)
        except KeyboardInterrupt:
            bar.end()
            running = bar.last.in_flight if bar.last is not None else 0
            raise CommandError(
                EXIT_INTERRUPTED,
                f"interrupted; {running} job{'' if running == 1 else 's'} go on at the "
                "service, their messages back on the queue: whichever worker takes them "
                "picks the jobs up",
                traceback=False,
            ) from None
        except OutputError as err:
            bar.end()
            raise CommandError(EXIT_OUTPUT, f"error: {err}") from err
        finally:
            batch.close()
    bar.end()
    return 0 if failed == 0 and skipped == 0 else EXIT_SOME_FAILED


def cmd_demo(ctx: Context) -> int:
    from rekoface.pollers import BackoffPoller

    from .demo import COLLECTION, JOB_SECONDS, POLL_SECONDS, VIDEO, Demo

    demo = Demo()
    progress = ctx.progress(clock=demo.clock)
    progress.message(
        f"demo: a fake Rekognition in this process (no AWS account, no network); its job "
        f"takes {JOB_SECONDS:g} s of simulated time"
    )
    poller = BackoffPoller(
        initial_delay=POLL_SECONDS,
        max_delay=POLL_SECONDS,
        jitter=False,
        sleep=progress.sleeper(demo.sleep),
        clock=demo.clock,
    )
    faces = demo.enrol()
    progress.message(
        f"created collection {COLLECTION} and indexed one photo of each of {faces} people "
        "(rekoface collection create / index)"
    )
    job = demo.client.start(demo.request)
    progress.message(f"started job {job.job_id}: {VIDEO} against collection {COLLECTION}")
    demo.client.wait(job, poller=ProgressPoller(poller, progress))
    progress.message("who was seen when:")
    results = demo.client.results(job)
    appearances = results.appearances()
    metadata = results.video_metadata
    duration = metadata.duration_millis if metadata is not None else None
    title = f"Who was seen when: {VIDEO} (rekoface demo)"
    write_appearances(
        ctx.stdout, ctx.fmt, job.job_id, appearances, duration_millis=duration, title=title
    )
    if ctx.args.html is not None:
        from rekoface.timeline import render_html

        page = render_html(appearances, duration_millis=duration, title=title)
        try:
            with open(ctx.args.html, "w", encoding="utf-8") as out:
                out.write(page)
        except OSError as err:
            raise CommandError(
                EXIT_OUTPUT, f"error: cannot write --html {ctx.args.html}: {err.strerror}"
            ) from err
        progress.message(f"wrote the picture to {ctx.args.html}: open it in a browser")
    return 0


#: The commands that write a page with ``--format html`` (the others have no picture).
HTML_COMMANDS: Final = ("appearances", "demo")


def check_format(command: str, fmt: str) -> None:
    """``--format html`` is a picture of appearances: refuse it elsewhere (exit 2)."""
    if fmt == "html" and command not in HTML_COMMANDS:
        raise UsageError(
            f"--format html draws who was seen when: use it with "
            f"{' or '.join(HTML_COMMANDS)}, not {command}"
        )


def _collection(ctx: Context) -> int:
    from .collection import cmd_collection

    return cmd_collection(ctx)


COMMANDS: Final[dict[str, Callable[[Context], int]]] = {
    "batch": cmd_batch,
    "start": cmd_start,
    "status": cmd_status,
    "wait": cmd_wait,
    "results": cmd_results,
    "search": cmd_search,
    "appearances": cmd_appearances,
    "demo": cmd_demo,
    "collection": _collection,
}
