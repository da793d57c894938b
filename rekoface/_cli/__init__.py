"""The ``rekoface`` command's implementation (private; `rekoface.cli` is the entry point).

Small modules, one concern each: `args` (the argparse tree), `output` (table, jsonl,
json and csv writers), `progress` (the waiting line on stderr), `streams` (stdout and
stderr that keep the exit codes and mask passwords), `demo` (the offline flow against
`rekoface.testing`), `context` (what a command runs with, and resume lines),
`commands` (one function per subcommand) and `main` (set-up, error lines and exit
codes).
"""
