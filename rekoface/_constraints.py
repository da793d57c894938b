"""The service model's rules for every input field rekoface sends, in one table.

Copied from botocore's ``rekognition/2016-06-27/service-2.json`` (a test holds this table
against the model botocore loads, so an update that changes a rule fails loudly), plus
what the model cannot say: thresholds must be finite and not ``bool``, and ARNs of every
AWS partition are accepted (the model names only ``aws``; see `WIDENED`).

Patterns are matched with ``re.fullmatch`` and compiled with ``re.ASCII``: ``re.match``
or ``$`` let a trailing newline through, and Python's ``\\d``/``\\w`` otherwise accept
Arabic-Indic digits and accented letters the service refuses.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple


class Constraint(NamedTuple):
    """The rule for one input field, by its API path."""

    operation: str
    path: str
    min: float | None = None
    max: float | None = None
    #: The pattern exactly as the service model spells it (compared by a test).
    model_pattern: str | None = None
    #: The pattern rekoface enforces: the model's, or a documented widening of it.
    pattern: str | None = None
    enum: tuple[str, ...] | None = None

    @property
    def compiled(self) -> re.Pattern[str] | None:
        """The enforced pattern, compiled once with `re.ASCII`."""
        return _compiled(self.pattern) if self.pattern is not None else None

    def describe(self) -> str:
        """A short human description of the rule, for error messages and docs."""
        parts: list[str] = []
        if self.enum is not None:
            parts.append("one of " + ", ".join(self.enum))
        if self.min is not None and self.max is not None:
            parts.append(f"{_num(self.min)}..{_num(self.max)}")
        elif self.min is not None:
            parts.append(f">= {_num(self.min)}")
        elif self.max is not None:
            parts.append(f"<= {_num(self.max)}")
        if self.pattern is not None:
            parts.append(f"matching {self.pattern}")
        return ", ".join(parts)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


_TOKEN = "^[a-zA-Z0-9-_]+$"  # noqa: S105 - a pattern, not a secret

_FACE_ID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

#: Every input constraint of the operations rekoface sends, keyed by API path. A path
#: several operations share with one rule (``CollectionId``) is listed once, under the
#: first operation that sends it.
CONSTRAINTS: dict[str, Constraint] = {
    c.path: c
    for c in (
        Constraint(
            "StartFaceSearch",
            "Video.S3Object.Bucket",
            min=3,
            max=255,
            model_pattern=r"[0-9A-Za-z\.\-_]*",
            pattern=r"[0-9A-Za-z\.\-_]*",
        ),
        Constraint("StartFaceSearch", "Video.S3Object.Name", min=1, max=1024),
        Constraint("StartFaceSearch", "Video.S3Object.Version", min=1, max=1024),
        Constraint(
            "StartFaceSearch",
            "ClientRequestToken",
            min=1,
            max=64,
            model_pattern=_TOKEN,
            pattern=_TOKEN,
        ),
        Constraint("StartFaceSearch", "FaceMatchThreshold", min=0, max=100),
        Constraint(
            "StartFaceSearch",
            "CollectionId",
            min=1,
            max=255,
            model_pattern=r"[a-zA-Z0-9_.\-]+",
            pattern=r"[a-zA-Z0-9_.\-]+",
        ),
        Constraint(
            "StartFaceSearch",
            "NotificationChannel.SNSTopicArn",
            model_pattern=r"(^arn:aws:sns:.*:\w{12}:.+$)",
            pattern=r"(^arn:aws(-[a-z]+)*:sns:.*:\w{12}:.+$)",
        ),
        Constraint(
            "StartFaceSearch",
            "NotificationChannel.RoleArn",
            model_pattern=r"arn:aws:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+",
            pattern=r"arn:aws(-[a-z]+)*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+",
        ),
        Constraint(
            "StartFaceSearch",
            "JobTag",
            min=1,
            max=1024,
            model_pattern=r"[a-zA-Z0-9_.\-:+=\/]+",
            pattern=r"[a-zA-Z0-9_.\-:+=\/]+",
        ),
        Constraint("GetFaceSearch", "JobId", min=1, max=64, model_pattern=_TOKEN, pattern=_TOKEN),
        Constraint("GetFaceSearch", "MaxResults", min=1),
        Constraint("GetFaceSearch", "NextToken", max=255),
        Constraint("GetFaceSearch", "SortBy", enum=("INDEX", "TIMESTAMP")),
        Constraint(
            "IndexFaces",
            "Image.S3Object.Bucket",
            min=3,
            max=255,
            model_pattern=r"[0-9A-Za-z\.\-_]*",
            pattern=r"[0-9A-Za-z\.\-_]*",
        ),
        Constraint("IndexFaces", "Image.S3Object.Name", min=1, max=1024),
        Constraint("IndexFaces", "Image.S3Object.Version", min=1, max=1024),
        Constraint(
            "IndexFaces",
            "ExternalImageId",
            min=1,
            max=255,
            model_pattern=r"[a-zA-Z0-9_.\-:]+",
            pattern=r"[a-zA-Z0-9_.\-:]+",
        ),
        Constraint("IndexFaces", "MaxFaces", min=1),
        Constraint("IndexFaces", "QualityFilter", enum=("NONE", "AUTO", "LOW", "MEDIUM", "HIGH")),
        #: The list's length; each item must match `FACE_ID` (the model's member pattern).
        Constraint("DeleteFaces", "FaceIds", min=1, max=4096),
    )
}

#: The pattern of one ``FaceIds`` item (the model's, on the list's member shape).
FACE_ID = Constraint("DeleteFaces", "FaceIds[]", model_pattern=_FACE_ID, pattern=_FACE_ID)

#: Paths whose enforced pattern deliberately accepts more than the model: ARNs in every
#: AWS partition (aws-us-gov, aws-cn, aws-iso, ...), since Rekognition runs there too.
WIDENED: frozenset[str] = frozenset(
    {"NotificationChannel.SNSTopicArn", "NotificationChannel.RoleArn"}
)


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    # On first use, not at import: `import rekoface` compiles no pattern it may not need.
    return re.compile(pattern, re.ASCII)
