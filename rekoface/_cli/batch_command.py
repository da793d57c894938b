"""``rekoface batch``: many videos from the arguments, a list or a work queue, one
JSON line each; Ctrl-C names the command that resumes."""

from __future__ import annotations

import argparse
from typing import IO, TYPE_CHECKING, Any

from .batch import S3Location
from .context import (
    EXIT_INTERRUPTED,
    EXIT_OUTPUT,
    EXIT_SOME_FAILED,
    CommandError,
    Context,
    UsageError,
    exact_number,
)
from .encodings import json_line
from .job_commands import check_collection
from .requests import batch_template
from .streams import OutputError

if TYPE_CHECKING:
    from rekoface.models import FaceSearchRequest

    from .progress import BatchBar

__all__ = ["cmd_batch"]


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

    from .batch import Sources, line_for, output_for
    from .progress import BatchBar

    args = ctx.args
    if ctx.fmt not in ("table", "jsonl"):
        raise UsageError(
            f"batch writes JSON Lines, one line per video: --format {ctx.fmt} is not available"
        )
    _check_queue_options(args)
    template = batch_template(args)
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

    from .batch import line_for
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
