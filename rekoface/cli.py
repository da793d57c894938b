"""The ``rekoface`` command: start, status, wait, results, search, appearances and demo.

The console script ``rekoface`` and ``python -m rekoface`` both call `main`. The
implementation lives in the private package ``rekoface._cli``; this module is its one
public face. ``import rekoface`` never imports it.
"""

from __future__ import annotations

from ._cli.main import ClientFactory, ClientOptions, main

__all__ = ["ClientFactory", "ClientOptions", "main"]

if __name__ == "__main__":  # pragma: no cover - `python -m rekoface.cli`
    raise SystemExit(main())
