"""How a record becomes text in each format: a JSON line, a JSON document, a CSV row."""

from __future__ import annotations

import csv
import json
from typing import Any

from .streams import TextSink

__all__ = ["csv_writer", "json_document", "json_line", "text_of"]


def json_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def json_document(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def csv_writer(out: TextSink) -> Any:
    return csv.writer(out, lineterminator="\n")


def text_of(value: object) -> str:
    """A CSV or table cell: empty for a value the service left out."""
    return "" if value is None else str(value)
