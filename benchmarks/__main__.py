"""``python -m benchmarks``: see `benchmarks.run.main`."""

from __future__ import annotations

import sys

from .run import main

sys.exit(main())
