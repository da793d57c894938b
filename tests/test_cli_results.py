"""`rekoface results`: the table, filters and sort order, unfinished jobs, Ctrl-C
resume lines and a closed pipe. Output formats: tests/test_cli_output_formats.py.

Run in-process with tests/cli_support.py's fixtures; tests/test_cli_subprocess.py runs
the real command.
"""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest
from cli_support import CLI, faces, one_line_error

pytest_plugins = ("cli_fixtures",)
pytestmark = pytest.mark.usefixtures("columns_100")


RESULTS_TABLE = """\
       TIME  PERSON  MATCH                          SIMILARITY  FACE ID
0:00:00.000       3  (no match)
0:00:02.360       2  carol                               88.43  {carol}
0:00:04.720       1  bob                                 83.27  {bob}
0:00:07.080       3  (no match)
0:00:09.440       2  carol                               95.77  {carol}
"""


def test_results_table_has_a_row_per_face_match_and_fits_the_width(cli: CLI, done: str) -> None:
    run = cli("results", done)
    assert run.code == 0
    assert run.err == ""
    lines = run.out.splitlines()
    assert len(lines) == 1 + 25
    assert "\n".join(lines[:6]) + "\n" == RESULTS_TABLE.format(**faces(cli.fake))
    assert max(len(line) for line in lines) <= 100


def test_results_table_drops_the_face_id_column_on_a_narrow_terminal(
    cli: CLI, done: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    lines = cli("results", done).out.splitlines()
    assert lines[0] == "       TIME  PERSON  MATCH                        SIMILARITY"
    assert lines[2] == "0:00:02.360       2  carol                             88.43"
    assert max(len(line) for line in lines) <= 60


def test_min_similarity_and_sort_by_index(cli: CLI, done: str) -> None:
    rows = list(
        csv.DictReader(
            io.StringIO(
                cli(
                    "results",
                    done,
                    "--format",
                    "csv",
                    "--min-similarity",
                    "90",
                    "--sort-by",
                    "index",
                ).out
            )
        )
    )
    assert rows
    assert all(float(row["Similarity"]) >= 90 for row in rows)
    indexes = [int(row["PersonIndex"]) for row in rows]
    assert indexes == sorted(indexes)


def test_results_of_a_running_job_exit_4_and_of_a_failed_one_3(cli: CLI) -> None:
    running = cli.start()
    cli.fake.hold(running)
    run = cli("results", running)
    assert run.code == 4
    assert one_line_error(run) == (
        f"rekoface results: error: job {running} is IN_PROGRESS: wait for it before reading results"
    )
    failed = cli.start()
    cli.fake.finish(failed, status="FAILED", status_message="boom")
    run = cli("results", failed, "--format", "jsonl")
    assert run.code == 3
    assert run.out == ""
    assert one_line_error(run).endswith(f"job {failed} failed: boom")


def test_ctrl_c_in_results_names_the_page_token_that_resumes(
    cli: CLI, done: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Interrupting(io.StringIO):
        """Ctrl-C while the second page is being written out."""

        def __init__(self) -> None:
            super().__init__()
            self.flushes: list[int] = []

        def flush(self) -> None:
            self.flushes.append(len(self.getvalue().splitlines()))
            if len(self.flushes) == 2:
                raise KeyboardInterrupt

    out = Interrupting()
    monkeypatch.setattr(sys, "stdout", out)
    argv = ("results", done, "--format", "jsonl", "--page-size", "10", "--sort-by", "INDEX")
    run = cli(*argv, "--min-similarity", "50")
    assert run.code == 130
    line = one_line_error(run)
    prefix = (
        f"rekoface results: interrupted; resume with: rekoface results {done} --sort-by INDEX "
        "--min-similarity 50 --page-size 10 --format jsonl --next-token "
    )
    assert line.startswith(prefix)
    token = line[len(prefix) :].strip("'")
    monkeypatch.undo()
    monkeypatch.setenv("COLUMNS", "100")
    everything = cli(*argv, "--min-similarity", "50")
    rows = [json.loads(x) for x in everything.out.splitlines()]
    rest = cli(*argv, "--min-similarity", "50", "--next-token", token)
    assert rest.code == 0
    # The page being written when Ctrl-C came is written again: nothing is skipped.
    first_page = out.flushes[0]
    assert 0 < first_page < len(rows)
    assert [json.loads(x) for x in rest.out.splitlines()] == rows[first_page:]


def test_ctrl_c_on_the_first_page_resumes_without_a_token(
    cli: CLI, done: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Interrupting(io.StringIO):
        def flush(self) -> None:
            raise KeyboardInterrupt

    monkeypatch.setattr(sys, "stdout", Interrupting())
    run = cli("results", done)
    assert run.code == 130
    assert one_line_error(run) == (
        f"rekoface results: interrupted; resume with: rekoface results {done}"
    )


def test_a_closed_pipe_ends_quietly(cli: CLI, done: str, monkeypatch: pytest.MonkeyPatch) -> None:
    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    monkeypatch.setattr(sys, "stdout", Closed())
    run = cli("results", done)
    assert run.code == 1
    assert run.err == ""
