"""``rekoface collection``: create, describe, index, list, prune and delete a face collection.

Each subcommand is one `FaceCollection` call (or a loop of them), so the CLI validates,
retries and words errors exactly as the library does.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Final, cast

from .context import CommandError, Context, UsageError, session_for

if TYPE_CHECKING:
    from rekoface.collection import CollectionInfo, FaceCollection, IndexResult, S3Image
    from rekoface.results import Face

__all__ = ["IMAGE_SUFFIXES", "add_collection_parser", "cmd_collection", "external_id_for"]

#: What an ``s3://`` prefix lists: the formats IndexFaces reads.
IMAGE_SUFFIXES: Final = (".jpg", ".jpeg", ".png")
_INVALID_ID_CHARS: Final = re.compile(r"[^a-zA-Z0-9_.\-:]+", re.ASCII)
_MAX_EXTERNAL_ID: Final = 255
EXIT_SOME_FAILED: Final = 1


def external_id_for(key: str) -> str:
    """An ExternalImageId made from an object key's file name: its stem, with every run of
    characters the service refuses (``/``, spaces, accents, ...) turned into ``_``."""
    stem = PurePosixPath(key).stem or "image"
    made = _INVALID_ID_CHARS.sub("_", stem).strip("_") or "image"
    return made[:_MAX_EXTERNAL_ID]


def add_collection_parser(
    command: Callable[[str, str], argparse.ArgumentParser],
    add_globals: Callable[[argparse.ArgumentParser], None],
) -> None:
    """The ``collection`` command and its subcommands (`add_globals` adds the global
    options to each, as every other command has them)."""
    parser = command("collection", "create, fill, list and prune a face collection")
    add_globals(parser)
    subs = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def sub(name: str, help_text: str) -> argparse.ArgumentParser:
        made = subs.add_parser(name, help=help_text, description=help_text)
        made.add_argument("collection_id", metavar="ID", help="the collection's id")
        add_globals(made)
        return made

    sub("create", "create the collection if it does not exist, and describe it")
    sub("describe", "show the collection's face count, model version and ARN")
    index = sub("index", "index the faces of photos (s3://bucket/key, or an s3:// prefix/)")
    index.add_argument(
        "images",
        nargs="*",
        metavar="S3_URI",
        help="an image, or a prefix ending in / (every .jpg, .jpeg, .png under it)",
    )
    index.add_argument("--from-file", metavar="FILE", help="more S3 URIs, one a line")
    index.add_argument(
        "--external-id",
        metavar="ID",
        help="the person's id on every image (default: made from each file name)",
    )
    index.add_argument(
        "--max-faces", type=int, default=1, metavar="N", help="faces per image (default: 1)"
    )
    index.add_argument(
        "--quality-filter",
        type=str.upper,
        default="AUTO",
        metavar="Q",
        help="NONE, AUTO (default), LOW, MEDIUM or HIGH",
    )
    sub("faces", "list every face in the collection")
    delete_faces = sub("delete-faces", "delete faces by id")
    delete_faces.add_argument("face_ids", nargs="+", metavar="FACE_ID")
    delete = sub("delete", "delete the collection and every face in it")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def cmd_collection(ctx: Context) -> int:
    from rekoface.errors import RequestValidationError

    client = ctx.client()
    try:
        collection = client.collection(ctx.args.collection_id)
    except RequestValidationError as err:  # named as the positional ID, not --collection
        problems = "; ".join(f"{e.problem} (rule: {e.rule})" for e in err.errors)
        raise UsageError(f"ID (CollectionId): {problems}") from err
    return _ACTIONS[ctx.args.action](ctx, collection)


# --------------------------------------------------------------------------- actions


def _create(ctx: Context, collection: FaceCollection) -> int:
    _write_info(ctx, collection.ensure())
    return 0


def _describe(ctx: Context, collection: FaceCollection) -> int:
    _write_info(ctx, collection.describe())
    return 0


def _index(ctx: Context, collection: FaceCollection) -> int:
    from rekoface.errors import ServiceError

    images = list(_images(ctx))
    if not images:
        raise UsageError("name at least one image (S3_URI or --from-file)")
    from rekoface._collection_core import index_params

    # The options, checked once before anything is indexed (every bad one named at once).
    index_params(
        collection.collection_id,
        images[0],
        external_image_id=ctx.args.external_id,
        max_faces=ctx.args.max_faces,
        quality_filter=ctx.args.quality_filter,
    )
    progress = ctx.progress()
    rows = _IndexWriter(ctx)
    failed = 0
    for image in images:
        external_id = ctx.args.external_id or external_id_for(image.name)
        if ctx.args.external_id is None:
            progress.message(f"{image.uri}: external id {external_id}")
        try:
            result = collection.index(
                image,
                external_image_id=external_id,
                max_faces=ctx.args.max_faces,
                quality_filter=ctx.args.quality_filter,
            )
        except ServiceError as err:
            if err.code not in _IMAGE_ERRORS:
                raise
            failed += 1
            ctx.stderr.write(f"rekoface collection index: {image.uri}: {err.code}: {err.message}\n")
            continue
        rows.write(image, external_id, result)
    rows.close()
    if failed:
        raise CommandError(
            EXIT_SOME_FAILED,
            f"index: {failed} of {len(images)} images could not be indexed (see above)",
            traceback=False,
        )
    return 0


def _faces(ctx: Context, collection: FaceCollection) -> int:
    _write_faces(ctx, collection.faces())
    return 0


def _delete_faces(ctx: Context, collection: FaceCollection) -> int:
    deleted = collection.delete_faces(ctx.args.face_ids)
    fmt = ctx.fmt
    if fmt in ("json", "jsonl"):
        ctx.stdout.write(json.dumps({"DeletedFaces": list(deleted)}) + "\n")
    elif fmt == "csv":
        ctx.stdout.write("".join(["FaceId\n", *(f"{face_id}\n" for face_id in deleted)]))
    else:
        missing = len(set(ctx.args.face_ids)) - len(deleted)
        tail = f" ({missing} not in the collection)" if missing else ""
        ctx.stdout.write(f"deleted {len(deleted)} faces{tail}\n")
    return 0


def _delete(ctx: Context, collection: FaceCollection) -> int:
    if not ctx.args.yes:
        stdin = sys.stdin
        if stdin is None or not stdin.isatty():
            raise UsageError("deleting a collection cannot be undone: pass --yes to confirm")
        ctx.stderr.write(
            f"delete collection {collection.collection_id!r} and every face in it? [y/N] "
        )
        ctx.stderr.flush()
        if stdin.readline().strip().lower() not in ("y", "yes"):
            ctx.stderr.write("not deleted\n")
            return 0
    collection.delete()
    if ctx.fmt == "table":
        ctx.stdout.write(f"deleted collection {collection.collection_id}\n")
    return 0


_ACTIONS: Final[dict[str, Callable[[Context, FaceCollection], int]]] = {
    "create": _create,
    "describe": _describe,
    "index": _index,
    "faces": _faces,
    "delete-faces": _delete_faces,
    "delete": _delete,
}
_IMAGE_ERRORS: Final = frozenset(
    {"InvalidImageFormatException", "ImageTooLargeException", "InvalidS3ObjectException"}
)


# --------------------------------------------------------------------------- images


def _uris(ctx: Context) -> Iterator[str]:
    yield from ctx.args.images
    if ctx.args.from_file is not None:
        try:
            with open(ctx.args.from_file, encoding="utf-8") as lines:
                text = lines.read()
        except OSError as err:
            raise UsageError(f"--from-file: cannot read {ctx.args.from_file}: {err}") from err
        for line in text.splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                yield stripped


def _images(ctx: Context) -> Iterator[S3Image]:
    """Every image named: URIs as given, prefixes (ending in ``/``) listed from S3."""
    from rekoface.collection import S3Image
    from rekoface.errors import FieldError, RequestValidationError

    errors: list[FieldError] = []
    images: list[S3Image] = []
    for uri in _uris(ctx):
        try:
            image = S3Image.from_uri(uri) if not uri.endswith("/") else None
        except RequestValidationError as err:
            errors += err.errors
            continue
        if image is not None:
            images.append(image)
            continue
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if not uri.startswith("s3://") or not bucket:
            errors.append(FieldError("Image.S3Object", f"{uri!r} is not an S3 URI", "s3://b/k"))
            continue
        images += [S3Image(bucket, key) for key in _listed(ctx, bucket, prefix)]
    if errors:
        raise RequestValidationError(errors)
    return iter(images)


def _listed(ctx: Context, bucket: str, prefix: str) -> Iterator[str]:
    import boto3

    from rekoface._translate import translated

    session = session_for(ctx.options) or boto3.Session()
    region = ctx.client().boto3_client.meta.region_name
    # No S3 type stubs are installed: the client is typed Any on purpose.
    s3 = cast(
        "Any",
        session.client("s3", region_name=region),  # pyright: ignore[reportUnknownMemberType]
    )
    with translated("ListObjectsV2"):
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                key = str(item.get("Key", ""))
                if key.lower().endswith(IMAGE_SUFFIXES):
                    yield key


# --------------------------------------------------------------------------- output


def _info_to_api(info: CollectionInfo) -> dict[str, Any]:
    stamp = info.creation_timestamp
    return {
        "CollectionId": info.collection_id,
        "FaceCount": info.face_count,
        "UserCount": info.user_count,
        "FaceModelVersion": info.face_model_version,
        "CollectionARN": info.collection_arn,
        "CreationTimestamp": stamp.isoformat() if stamp is not None else None,
    }


def _write_info(ctx: Context, info: CollectionInfo) -> None:
    fields = _info_to_api(info)
    if ctx.fmt in ("json", "jsonl"):
        ctx.stdout.write(json.dumps(fields) + "\n")
        return
    if ctx.fmt == "csv":
        _csv(ctx, [list(fields), ["" if v is None else str(v) for v in fields.values()]])
        return
    shown = [(key, value) for key, value in fields.items() if value is not None]
    width = max(len(key) for key, _ in shown)
    ctx.stdout.write("".join(f"{key:<{width}}  {value}\n" for key, value in shown))


def _csv(ctx: Context, rows: Iterable[Sequence[object]]) -> None:
    writer = csv.writer(ctx.stdout, lineterminator="\n")
    for row in rows:
        writer.writerow(row)


def _face_to_api(face: Face) -> dict[str, Any]:
    return {
        "FaceId": face.face_id,
        "ExternalImageId": face.external_image_id,
        "ImageId": face.image_id,
        "Confidence": face.confidence,
        "UserId": face.user_id,
    }


_FACE_COLUMNS: Final = ("FaceId", "ExternalImageId", "ImageId", "Confidence")


def _write_faces(ctx: Context, faces: Iterator[Face]) -> None:
    fmt = ctx.fmt
    if fmt == "jsonl":
        for face in faces:
            ctx.stdout.write(json.dumps(_face_to_api(face)) + "\n")
    elif fmt == "json":
        ctx.stdout.write(json.dumps([_face_to_api(face) for face in faces]) + "\n")
    elif fmt == "csv":
        _csv(ctx, [_FACE_COLUMNS])
        for face in faces:
            api = _face_to_api(face)
            _csv(ctx, [["" if api[c] is None else str(api[c]) for c in _FACE_COLUMNS]])
    else:
        ctx.stdout.write(f"{'FACE ID':<36}  {'EXTERNAL ID':<24}  {'IMAGE ID':<36}\n")
        for face in faces:
            ctx.stdout.write(
                f"{face.face_id:<36}  {face.external_image_id or '-':<24}  "
                f"{face.image_id or '-':<36}\n"
            )


class _IndexWriter:
    """One row per indexed image, in the chosen format."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._all: list[dict[str, Any]] = []
        if ctx.fmt == "csv":
            _csv(ctx, [("Image", "ExternalImageId", "FaceIds", "Unindexed")])
        elif ctx.fmt == "table":
            ctx.stdout.write(f"{'IMAGE':<40}  {'EXTERNAL ID':<24}  {'FACES':>5}  UNINDEXED\n")

    def write(self, image: S3Image, external_id: str, result: IndexResult) -> None:
        reasons = [",".join(u.reasons) for u in result.unindexed]
        face_ids = [face.face_id for face in result.faces]
        api: dict[str, Any] = {
            "Image": image.uri,
            "ExternalImageId": external_id,
            "FaceIds": face_ids,
            "UnindexedFaces": [{"Reasons": list(u.reasons)} for u in result.unindexed],
        }
        fmt = self._ctx.fmt
        out = self._ctx.stdout
        if fmt == "jsonl":
            out.write(json.dumps(api) + "\n")
        elif fmt == "json":
            self._all.append(api)
        elif fmt == "csv":
            _csv(self._ctx, [(image.uri, external_id, " ".join(face_ids), ";".join(reasons))])
        else:
            unindexed = "; ".join(reasons) or "-"
            out.write(f"{image.uri:<40}  {external_id:<24}  {len(result.faces):>5}  {unindexed}\n")

    def close(self) -> None:
        if self._ctx.fmt == "json":
            self._ctx.stdout.write(json.dumps(self._all) + "\n")
