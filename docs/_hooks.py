"""MkDocs hooks: generated parts of the documentation (so they cannot drift from the code).

``<!-- constraints-table -->`` in a page becomes the table of every input rule rekoface
enforces, built from `rekoface._constraints.CONSTRAINTS` at build time. tests/test_docs.py
imports this module too, so the table is checked by the test suite as well as by
``mkdocs build --strict``.
"""

from __future__ import annotations

from typing import Any

MARKER = "<!-- constraints-table -->"

#: Where each API path is set from Python (paths missing here are shown by API path only).
ARGUMENTS: dict[str, str] = {
    "Video.S3Object.Bucket": "`S3Video.bucket`",
    "Video.S3Object.Name": "`S3Video.name`",
    "Video.S3Object.Version": "`S3Video.version`",
    "ClientRequestToken": "`FaceSearchRequest.client_request_token`",
    "FaceMatchThreshold": "`FaceSearchRequest.face_match_threshold`",
    "CollectionId": "`FaceSearchRequest.collection_id`",
    "NotificationChannel.SNSTopicArn": "`NotificationChannel.sns_topic_arn`",
    "NotificationChannel.RoleArn": "`NotificationChannel.role_arn`",
    "JobTag": "`FaceSearchRequest.job_tag`",
    "JobId": "`job` of `status`, `wait`, `results`",
    "MaxResults": "`results(page_size=)`",
    "NextToken": "`results(next_token=)`",
    "SortBy": "`results(sort_by=)`",
    "Image.S3Object.Bucket": "`S3Image.bucket`",
    "Image.S3Object.Name": "`S3Image.name`",
    "Image.S3Object.Version": "`S3Image.version`",
    "ExternalImageId": "`FaceCollection.index(external_image_id=)`",
    "MaxFaces": "`FaceCollection.index(max_faces=)`",
    "QualityFilter": "`FaceCollection.index(quality_filter=)`",
    "FaceIds": "`FaceCollection.delete_faces(face_ids)` (batched to 4096 a call)",
}


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"


def _shape_type(model: Any, operation: str, path: str) -> str:
    shape = model.operation_model(operation).input_shape
    for part in path.split("."):
        shape = shape.members[part]
    return str(shape.type_name)


def constraints_table() -> str:
    """The Markdown table of `CONSTRAINTS`, with each rule's kind read from botocore's model."""
    import botocore.session

    from rekoface._constraints import CONSTRAINTS, WIDENED

    model = botocore.session.get_session().get_service_model("rekognition")
    rows = [
        "| operation | API path | set by | type | bounds | pattern (full match, ASCII) | values |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for rule in CONSTRAINTS.values():
        kind = _shape_type(model, rule.operation, rule.path)
        low = "" if rule.min is None else f"{_num(rule.min)} ≤ "
        high = "" if rule.max is None else f" ≤ {_num(rule.max)}"
        subject = "length" if kind == "string" else "value"
        bounds = f"{low}{subject}{high}" if (low or high) else ""
        if kind in ("float", "double"):
            bounds = (bounds + ", " if bounds else "") + "finite, not `bool`"
        pattern = "" if rule.pattern is None else _code(rule.pattern)
        if rule.path in WIDENED and rule.model_pattern is not None:
            pattern += f" (widened from the model's {_code(rule.model_pattern)})"
        values = "" if rule.enum is None else ", ".join(_code(v) for v in rule.enum)
        rows.append(
            f"| {rule.operation} | `{rule.path}` | {ARGUMENTS.get(rule.path, '')} | {kind} "
            f"| {bounds} | {pattern} | {values} |"
        )
    return "\n".join(rows) + "\n"


def on_page_markdown(markdown: str, **_: Any) -> str:
    """MkDocs event: fill in the generated parts of a page."""
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, constraints_table())
    return markdown
