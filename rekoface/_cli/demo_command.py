"""``rekoface demo``: start, wait and the appearances, against a fake in this process."""

from __future__ import annotations

from .appearances_output import write_appearances
from .context import EXIT_OUTPUT, CommandError, Context
from .progress import ProgressPoller

__all__ = ["cmd_demo"]


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
