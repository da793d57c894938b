"""The ``rekoface`` command's implementation (private; `rekoface.cli` is the entry point).

Small modules, one concern each: `args` (the argparse tree), `output` (table, jsonl,
json and csv writers), `progress` (the waiting line on stderr), `demo` (the offline
flow against `rekoface.testing`), `commands` (one function per subcommand) and `main`
(set-up, error lines and exit codes).
"""
