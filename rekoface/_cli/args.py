"""The argparse tree of the ``rekoface`` command.

Global options are accepted before or after the subcommand, as the AWS CLI accepts
them: the main parser holds them with their real defaults, and every subparser holds
a copy whose default is `argparse.SUPPRESS`, so a copy that is not given leaves the
main parser's value alone and one that is given wins.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from rekoface import __version__

from .streams import mask_passwords

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

__all__ = [
    "BATCH_EXIT_CODES_HELP",
    "DEFAULT_PAGE_SIZE",
    "EXIT_CODES_HELP",
    "FORMATS",
    "build_parser",
]

FORMATS = ("table", "jsonl", "json", "csv", "html")
PROG = "rekoface"
DEFAULT_PAGE_SIZE = 1000

EXIT_CODES_HELP = """\
exit codes:
  0    success
  1    service or transport error (the AWS error code and request id are shown),
       or stdout could not be written
  2    usage, validation or configuration error (bad option, field, credentials,
       profile, or stdout closed)
  3    the job FAILED
  4    the job has not finished: wait timed out, or results asked of a running job
  130  interrupted (Ctrl-C); the command that resumes is shown
"""

BATCH_EXIT_CODES_HELP = """\
exit codes:
  0    every video succeeded
  1    some videos failed, a line of the URI list (or a --from-queue message) could
       not be read, a prefix could not be listed or an output not written (each is
       reported; the rest went on)
  2    usage, validation or configuration error
  130  interrupted (Ctrl-C); with --key, the command that resumes is shown
"""


class Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line on stderr (exit code 2).

    Its messages never fail and never show a URL's password: with stderr or stdout
    closed, help, version and usage errors still exit with their codes (Python 3.10's
    argparse would raise `AttributeError` writing to a closed stream).
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        if message:
            with contextlib.suppress(AttributeError, OSError, ValueError):
                (file or sys.stderr).write(mask_passwords(message))


def _add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("global options (before or after the command)")
    group.add_argument(
        "--region", default=default(None), help="AWS region (default: from the profile or env)"
    )
    group.add_argument(
        "--profile", default=default(None), help="AWS profile from ~/.aws/config or credentials"
    )
    group.add_argument(
        "--endpoint-url",
        default=default(None),
        metavar="URL",
        help="Rekognition endpoint, e.g. a moto server or LocalStack",
    )
    group.add_argument(
        "--format",
        choices=FORMATS,
        default=default("table"),
        help="output format (default: table); results stream page by page in every format; "
        "html (appearances, demo): a page with a lane per person",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default(0),
        help="log to stderr and show tracebacks (-vv: debug log)",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default(False),
        help="no progress on stderr (errors are still shown)",
    )


def _add_request_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", metavar="S3_URI", help="the stored video, s3://bucket/key")
    parser.add_argument(
        "--collection", required=True, metavar="ID", help="face collection to match against"
    )
    parser.add_argument("--video-version", metavar="VERSION", help="S3 object version of the video")
    parser.add_argument(
        "--threshold",
        type=float,
        metavar="N",
        help="minimum face match confidence, 0-100 (service default: 80)",
    )
    parser.add_argument(
        "--sns-topic", metavar="ARN", help="SNS topic for the completion notification"
    )
    parser.add_argument("--role", metavar="ARN", help="IAM role Rekognition uses to publish")
    parser.add_argument("--job-tag", metavar="TAG", help="tag carried by the notification")
    tokens = parser.add_mutually_exclusive_group()
    tokens.add_argument("--token", metavar="T", help="ClientRequestToken to send verbatim")
    tokens.add_argument(
        "--idempotency-key",
        metavar="K",
        help="same key and request give the same job for 7 days",
    )


def _add_wait_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout", type=float, metavar="S", help="give up waiting after S seconds (exit 4)"
    )
    parser.add_argument(
        "--queue-url",
        metavar="URL",
        help="wait for the SNS notification on this SQS queue instead of polling",
    )


def _add_results_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sort-by",
        type=str.upper,
        choices=("TIMESTAMP", "INDEX"),
        default="TIMESTAMP",
        help="order of the matches (default: TIMESTAMP)",
    )
    parser.add_argument(
        "--min-similarity",
        type=float,
        metavar="N",
        help="keep face matches with at least this similarity (0-100)",
    )
    parser.add_argument(
        "--page-size",
        type=int,
        default=DEFAULT_PAGE_SIZE,
        metavar="N",
        help="matches per GetFaceSearch page",
    )


def _add_batch(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "videos",
        nargs="*",
        metavar="S3_URI",
        help="a video, s3://bucket/key, or every video under s3://bucket/prefix/ (a URI "
        "ending in /); keys ending in .mp4, .mov or .avi",
    )
    parser.add_argument(
        "--from-file",
        metavar="FILE",
        help="read s3:// URIs from FILE, one a line, or JSON requests such as "
        '{"Video": "s3://...", "FaceMatchThreshold": 95} (\'-\': stdin; blank lines and '
        "# lines are skipped)",
    )
    parser.add_argument(
        "--collection", required=True, metavar="ID", help="face collection to match against"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        metavar="N",
        help="minimum face match confidence, 0-100 (service default: 80)",
    )
    parser.add_argument(
        "--key",
        metavar="K",
        help="makes the batch resumable: running it again with the same key starts no "
        "job twice (7 days)",
    )
    parser.add_argument(
        "--max-in-flight",
        type=int,
        default=20,
        metavar="N",
        help="jobs running at once (default: 20, the account's default quota; leave room "
        "for other work that shares the account)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="give up on a job S seconds after its start (it goes on at the service)",
    )
    parser.add_argument(
        "--queue-url",
        metavar="URL",
        help="wait for the jobs' SNS notifications on this SQS queue (needs --sns-topic "
        "and --role) instead of polling",
    )
    parser.add_argument(
        "--sns-topic", metavar="ARN", help="SNS topic for the completion notifications"
    )
    parser.add_argument("--role", metavar="ARN", help="IAM role Rekognition uses to publish")
    parser.add_argument("--job-tag", metavar="TAG", help="tag carried by the notifications")
    parser.add_argument(
        "--output",
        metavar="DIR|S3_URI",
        help="write each video's matches, as the service returned them, to a file of its "
        "own under DIR or s3://bucket/prefix/ (stdout then gets one line per video "
        "without its appearances)",
    )
    parser.add_argument(
        "--slots-table",
        metavar="TABLE",
        help="share the account's job slots with every worker using this DynamoDB table "
        "(made with DynamoDBSlotStore.create_table; see docs/fleets.md)",
    )
    parser.add_argument(
        "--slots",
        type=int,
        default=20,
        metavar="N",
        help="with --slots-table: the slots the whole fleet shares (default: 20, the "
        "account's default quota)",
    )
    fleet = parser.add_argument_group("work queue (a worker of a fleet: see docs/fleets.md)")
    fleet.add_argument(
        "--from-queue",
        metavar="URL",
        help="take the videos from this SQS queue, one request a message (an s3:// URI "
        "or a JSON object); each message is deleted once its line is written, and one "
        "the service refuses for good goes to the dead-letter queue with its error. "
        "--collection, --threshold, --sns-topic/--role and --job-tag fill what a "
        "message leaves out",
    )
    fleet.add_argument(
        "--dead-letter-queue",
        metavar="URL",
        help="with --from-queue: where refused and malformed requests go (default: the "
        "queue's RedrivePolicy target)",
    )
    fleet.add_argument(
        "--idle-timeout",
        type=float,
        metavar="S",
        help="with --from-queue: stop once the queue gave nothing for S seconds and no "
        "job runs (default: run until stopped)",
    )
    fleet.add_argument(
        "--wait-time-seconds",
        type=int,
        metavar="S",
        help="with --from-queue: long poll of an idle worker, 0-20 s (default: 20)",
    )


def build_parser() -> Parser:
    """The ``rekoface`` parser, with its eight subcommands."""
    parser = Parser(
        prog=PROG,
        description="Amazon Rekognition Video face search from the shell.",
        epilog=EXIT_CODES_HELP + "\nTry it without AWS: rekoface demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(
        name: str, help_text: str, epilog: str = EXIT_CODES_HELP
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        return sub

    start = command("start", "start a face search and print its JobId")
    _add_request_options(start)

    status = command("status", "show a job's state and status message")
    status.add_argument("job_id", metavar="JOB_ID")

    wait = command("wait", "wait for a job to end, with progress on stderr")
    wait.add_argument("job_id", metavar="JOB_ID")
    _add_wait_options(wait)

    results = command("results", "stream a finished job's matches")
    results.add_argument("job_id", metavar="JOB_ID")
    _add_results_options(results)
    results.add_argument(
        "--next-token", metavar="T", help="resume from this page token (tokens live 24 hours)"
    )

    search = command("search", "start a face search, wait for it, and stream its matches")
    _add_request_options(search)
    _add_wait_options(search)
    _add_results_options(search)

    appearances = command("appearances", "who was seen when: matches folded into intervals")
    appearances.add_argument("job_id", metavar="JOB_ID")
    appearances.add_argument(
        "--max-gap",
        type=int,
        default=1000,
        metavar="MS",
        help="matches of one face at most MS apart form one interval (default: 1000)",
    )
    appearances.add_argument(
        "--min-similarity",
        type=float,
        metavar="N",
        help="count only face matches with at least this similarity (0-100)",
    )

    _add_batch(
        command("batch", "search many videos, keeping the job slots full", BATCH_EXIT_CODES_HELP)
    )

    demo = command("demo", "the whole flow against an in-process fake: no AWS account needed")
    demo.add_argument(
        "--html",
        metavar="FILE",
        help="also write the picture of who was seen when to FILE (open it in a browser)",
    )

    for sub in commands.choices.values():
        _add_global_options(sub, suppress=True)
    from .collection import add_collection_parser

    add_collection_parser(command, lambda sub: _add_global_options(sub, suppress=True))
    return parser
