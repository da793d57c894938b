"""The single-job commands: ``start``, ``status``, ``wait``, ``results``, ``search``
and ``appearances``; a wait or a stream cut short names the command that resumes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rekoface.errors import PollTimeoutError

from .appearances_output import write_appearances
from .args import DEFAULT_PAGE_SIZE
from .context import (
    EXIT_INTERRUPTED,
    EXIT_NOT_FINISHED,
    EXIT_OUTPUT,
    CommandError,
    Context,
    exact_number,
)
from .progress import Progress, ProgressPoller
from .requests import build_request
from .streams import OutputError
from .writers import MatchWriter, write_job, write_status

if TYPE_CHECKING:
    from rekoface.pollers import Poller
    from rekoface.results import FaceSearchResults, JobStatus

__all__ = [
    "check_collection",
    "cmd_appearances",
    "cmd_results",
    "cmd_search",
    "cmd_start",
    "cmd_status",
    "cmd_wait",
]


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
