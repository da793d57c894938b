"""Reproducible performance measurements of rekoface against hand-written boto3.

Run ``python -m benchmarks`` from the repository root (``--help`` for the options). Each
timed figure is a ratio against hand-written boto3 code measured in the same process,
on the same machine, in alternating rounds, reported as the median with its min and
max. Both sides go through botocore's whole pipeline (parameter validation,
serialisation, signing, response parsing); only the network is replaced, by canned
HTTP bytes answered from a ``before-send`` event hook. Targets are reported as met or
missed, never enforced: a missed target is a finding, not a failure.

One module per figure:

- `benchmarks.start`: ``client.start`` vs ``start_face_search``.
- `benchmarks.iterate`: iterating typed matches vs the raw page dicts.
- `benchmarks.imports`: ``import rekoface`` + a client vs ``import boto3`` + a client.
- `benchmarks.memory`: peak traced memory over many pages vs one page.
- `benchmarks.backoff`: ``BackoffPoller`` calls and detection lag vs a fixed 5 s loop.
- `benchmarks.sqs`: ``GetFaceSearch`` calls of ``SqsNotificationPoller``.
"""

from __future__ import annotations

from ._common import FULL, QUICK, FigureResult, Sizes
from .report import render_document, render_table
from .run import main, run_all

__all__ = [
    "FULL",
    "QUICK",
    "FigureResult",
    "Sizes",
    "main",
    "render_document",
    "render_table",
    "run_all",
]
