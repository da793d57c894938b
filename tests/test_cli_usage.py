"""Usage of the `rekoface` command: no command, help and version, global options
before or after the command, and how it is installed (`python -m`, lazy import).

Run in-process with tests/cli_support.py's fixtures; tests/test_cli_subprocess.py runs
the real command.
"""

from __future__ import annotations

import json
import sys

import pytest
from cli_support import CLI, one_line_error

from rekoface._cli.context import ClientOptions

pytest_plugins = ("cli_fixtures",)
pytestmark = pytest.mark.usefixtures("columns_100")


def test_no_command_is_a_usage_error(cli: CLI) -> None:
    run = cli()
    assert run.code == 2
    assert "the following arguments are required: COMMAND" in one_line_error(run)


def test_help_and_version_exit_0(cli: CLI) -> None:
    run = cli("--help")
    assert run.code == 0
    assert "exit codes:" in run.out
    assert "rekoface demo" in run.out
    run = cli("--version")
    assert run.code == 0
    assert run.out.startswith("rekoface ")


def test_global_options_go_before_or_after_the_command_and_the_later_one_wins(cli: CLI) -> None:
    job_id = cli.start()
    cli("--region", "eu-west-1", "--profile", "p", "status", job_id)
    cli("status", job_id, "--region", "eu-west-1", "--endpoint-url", "http://127.0.0.1:1")
    cli("--region", "us-west-2", "status", job_id, "--region", "eu-central-1")
    assert cli.options == [
        ClientOptions("eu-west-1", "p", None),
        ClientOptions("eu-west-1", None, "http://127.0.0.1:1"),
        ClientOptions("eu-central-1", None, None),
    ]


def test_format_after_the_command_applies(cli: CLI, done: str) -> None:
    run = cli("status", done, "--format", "json")
    assert json.loads(run.out)["JobStatus"] == "SUCCEEDED"


def test_import_rekoface_does_not_import_the_cli() -> None:
    import subprocess

    code = (
        "import sys, rekoface; rekoface.FaceSearchClient; "
        "assert not [m for m in sys.modules if m == 'rekoface.cli' "
        "or m.startswith(('rekoface._cli', 'rekoface.testing'))]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_python_dash_m_rekoface_runs_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import runpy

    monkeypatch.setattr(sys, "argv", ["rekoface", "--version"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("rekoface", run_name="__main__")
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("rekoface ")
