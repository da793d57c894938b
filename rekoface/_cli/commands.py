"""The subcommands by name: each returns an exit code or raises for `main` to word."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from .batch_command import cmd_batch
from .context import Context, UsageError
from .demo_command import cmd_demo
from .job_commands import (
    cmd_appearances,
    cmd_results,
    cmd_search,
    cmd_start,
    cmd_status,
    cmd_wait,
)

__all__ = ["COMMANDS", "HTML_COMMANDS", "check_format"]


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
