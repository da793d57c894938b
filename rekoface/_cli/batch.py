"""``rekoface batch``: where the videos come from, and where each video's result goes.

Videos come from the arguments, a URI list (``--from-file``, ``-`` for stdin) and S3
prefixes (listed with S3's own paginator), pulled lazily as the batch can start
them, so a list of a million keys runs in constant memory. A line or key that is not
a video URI is reported with where it came from and skipped; the batch goes on and
the command exits 1 at the end.

Each finished video becomes one JSON line on stdout (its appearances), or, with
``--output``, one file of its own holding its matches exactly as ``GetFaceSearch``
returned them (the ``results --format json`` document), under a directory or an S3
prefix, with a line on stdout saying where.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final
from urllib.parse import quote

import attrs

from rekoface.errors import FieldError, RekoFaceError, RequestValidationError, ServiceError

from .api_shapes import appearance_to_api
from .writers import MatchWriter

if TYPE_CHECKING:
    from rekoface.batch import BatchOutcome
    from rekoface.client import FaceSearchClient
    from rekoface.matches import PersonMatch
    from rekoface.models import FaceSearchRequest, S3Video

__all__ = [
    "VIDEO_SUFFIXES",
    "Output",
    "S3Location",
    "Sources",
    "error_record",
    "output_for",
    "parse_location",
]

#: The file formats a stored-video job takes (Rekognition's `Video` reference).
VIDEO_SUFFIXES: Final = (".mp4", ".mov", ".avi")

_S3_URI: Final = re.compile(r"s3://(?P<bucket>[^/]*)(?:/(?P<key>.*))?", re.DOTALL)


@attrs.frozen
class S3Location:
    """``s3://bucket/prefix/``: a prefix to list, or to write under."""

    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def parse_location(uri: str) -> S3Location | None:
    """The prefix `uri` names (``s3://bucket``, ``s3://bucket/``, ``s3://bucket/dir/``),
    or `None` for anything else (an object URI, or no S3 URI at all)."""
    match = _S3_URI.fullmatch(uri)
    if match is None or not match["bucket"]:
        return None
    key = match["key"] or ""
    if key and not key.endswith("/"):
        return None
    return S3Location(match["bucket"], key)


def _problems(err: RequestValidationError) -> str:
    return "; ".join(f"{field.problem} (rule: {field.rule})" for field in err.errors)


class Sources:
    """The batch's requests, pulled lazily from arguments, a URI list and S3 prefixes.

    `report` gets one line for each line or key skipped and each prefix that could
    not be listed; `skipped` counts them.
    """

    def __init__(
        self,
        template: FaceSearchRequest,
        videos: list[S3Video | S3Location],
        uri_list: tuple[str, IO[Any]] | None,
        s3_client: Callable[[], Any],
        report: Callable[[str], None],
    ) -> None:
        self.template = template
        self.videos = videos
        self.uri_list = uri_list
        self.s3_client = s3_client
        self.report = report
        self.skipped = 0

    @staticmethod
    def check_arguments(uris: list[str]) -> list[S3Video | S3Location]:
        """Every argument parsed, before any call; all bad ones in one error (exit 2)."""
        from rekoface.models import S3Video

        parsed: list[S3Video | S3Location] = []
        errors: list[FieldError] = []
        for uri in uris:
            try:
                location = parse_location(uri)
                if location is not None:
                    S3Video(location.bucket, "stand-in")  # the bucket's rules
                    parsed.append(location)
                else:
                    parsed.append(S3Video.from_uri(uri))
            except RequestValidationError as err:
                errors += err.errors
        if errors:
            raise RequestValidationError(errors)
        return parsed

    def requests(self) -> Iterator[FaceSearchRequest]:
        for video in self.videos:
            yield from self._expand(video)
        if self.uri_list is not None:
            yield from self._lines(*self.uri_list)

    def _request(self, video: S3Video) -> FaceSearchRequest:
        return attrs.evolve(self.template, video=video)

    def _skip(self, line: str) -> None:
        self.skipped += 1
        self.report(line)

    def _expand(self, video: S3Video | S3Location) -> Iterator[FaceSearchRequest]:
        if isinstance(video, S3Location):
            yield from self._listed(video)
        else:
            yield self._request(video)

    def _lines(self, name: str, stream: IO[Any]) -> Iterator[FaceSearchRequest]:
        from rekoface.models import S3Video

        for number, raw in enumerate(stream, start=1):
            try:
                text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
            except UnicodeDecodeError:
                self._skip(f"{name}:{number}: skipped: not UTF-8 text")
                continue
            uri = text.strip()
            if not uri or uri.startswith("#"):
                continue
            try:
                if uri.startswith("{"):  # a request of its own, as a work-queue message
                    yield self._from_json(uri)
                    continue
                location = parse_location(uri)
                if location is not None:
                    S3Video(location.bucket, "stand-in")
                    yield from self._listed(location)
                else:
                    yield self._request(S3Video.from_uri(uri))
            except RequestValidationError as err:
                self._skip(f"{name}:{number}: skipped: {_problems(err)}")

    def _from_json(self, line: str) -> FaceSearchRequest:
        """A JSON line in ``StartFaceSearch``'s shape; the batch's options fill the rest."""
        from rekoface._work_items import Defaults, parse_work_item

        t = self.template
        defaults = Defaults(
            t.collection_id, t.face_match_threshold, t.notification_channel, t.job_tag
        )
        return parse_work_item(line, defaults, None)

    def _listed(self, location: S3Location) -> Iterator[FaceSearchRequest]:
        """Every video object under the prefix, page by page (S3's own paginator)."""
        from botocore.exceptions import BotoCoreError, ClientError

        from rekoface.models import S3Video

        try:
            paginator = self.s3_client().get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=location.bucket, Prefix=location.prefix):
                for item in page.get("Contents", ()):
                    key = item["Key"]
                    if not key.lower().endswith(VIDEO_SUFFIXES):
                        continue
                    try:
                        video = S3Video(location.bucket, key)
                    except RequestValidationError as err:
                        self._skip(f"{location.uri}: skipped a key: {_problems(err)}")
                        continue
                    yield self._request(video)
        except (ClientError, BotoCoreError) as err:
            self._skip(f"{location.uri}: cannot list it: {err}")


def error_record(err: BaseException) -> dict[str, Any]:
    """An item's error for its JSON line: its type and message (code and request id of a
    service error)."""
    record: dict[str, Any] = {"Type": type(err).__name__, "Message": str(err)}
    if isinstance(err, ServiceError):
        record["Code"] = err.code
        if err.request_id:
            record["RequestId"] = err.request_id
    return record


def _write_matches(out: IO[bytes], client: FaceSearchClient, job_id: str, video: str) -> str:
    """The ``results --format json`` document of the job: the service's own items.

    Returns the video's `rekoface.timeline` page, folded from the same pages as they
    are written (no second pass over the results)."""
    from rekoface.appearances import fold_appearances
    from rekoface.results import parse_person_match
    from rekoface.timeline import render_html

    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n")
    results = client.results(job_id)
    writer = MatchWriter(text, "json", job_id)

    def written() -> Iterator[PersonMatch]:
        # The raw pages: a private method kept for the CLI's JSON formats.
        for persons, _ in results._raw_pages():  # pyright: ignore[reportPrivateUsage]
            writer.page(persons, results.video_metadata)
            yield from map(parse_person_match, persons)

    appearances = fold_appearances(written(), 1000)
    writer.close()
    text.detach()
    metadata = results.video_metadata
    duration = metadata.duration_millis if metadata is not None else None
    return render_html(appearances, duration_millis=duration, title=f"Who was seen when: {video}")


def _segment(part: str) -> str:
    """One path segment of a file name: no way out of the directory, one name per key."""
    if part == "":
        return "%2F"
    if part in (".", ".."):
        return part.replace(".", "%2E")
    return quote(part, safe=" !#$&'()+,;=@[]^`{}~")


class Output:
    """Where each finished video's matches go: one file under a directory, or an S3 prefix."""

    def __init__(self, directory: Path | None, s3: S3Location | None, s3_client: Any) -> None:
        self.directory = directory
        self.s3 = s3
        self.s3_client = s3_client

    def write(self, client: FaceSearchClient, outcome: BatchOutcome) -> str:
        """Write the video's matches; return where they went."""
        assert outcome.job is not None
        video = outcome.request.video
        if self.s3 is not None:
            key = f"{self.s3.prefix}{video.bucket}/{video.name}.json"
            with tempfile.TemporaryFile() as spool:
                page = _write_matches(spool, client, outcome.job.job_id, video.uri)
                spool.seek(0)
                self.s3_client.upload_fileobj(
                    io.BytesIO(page.encode("utf-8")),
                    self.s3.bucket,
                    key[: -len(".json")] + ".html",
                    ExtraArgs={"ContentType": "text/html; charset=utf-8"},
                )
                self.s3_client.upload_fileobj(spool, self.s3.bucket, key)
            return f"s3://{self.s3.bucket}/{key}"
        assert self.directory is not None
        parts = [_segment(p) for p in [video.bucket, *video.name.split("/")]]
        path = self.directory.joinpath(*parts[:-1], parts[-1] + ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        try:
            with partial.open("wb") as out:
                page = _write_matches(out, client, outcome.job.job_id, video.uri)
            # The picture next to the matches (`.html`), written before the matches land,
            # so a video whose matches are there has its page too.
            _replace(path.with_name(parts[-1] + ".html"), page.encode("utf-8"))
            os.replace(partial, path)  # a resumed run never finds half a file
        finally:
            partial.unlink(missing_ok=True)
        return str(path)


def _replace(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".part")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def output_for(target: str | None, s3_client: Callable[[], Any]) -> Output | None:
    """The `Output` of ``--output`` (a directory, made if missing, or s3://bucket/prefix/)."""
    if target is None:
        return None
    if target.startswith("s3://"):
        location = parse_location(target if target.endswith("/") else target + "/")
        if location is None:
            raise RequestValidationError(
                [FieldError("--output", f"{target!r} is not an S3 prefix", "s3://bucket/prefix/")]
            )
        return Output(None, location, s3_client())
    directory = Path(target)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RequestValidationError(
            [FieldError("--output", f"cannot make the directory: {err}", "a writable directory")]
        ) from err
    return Output(directory, None, None)


def line_for(
    client: FaceSearchClient, outcome: BatchOutcome, output: Output | None
) -> tuple[dict[str, Any], bool]:
    """The video's JSON line (and whether it ended well): fetching its results may fail
    too, and that failure is the item's, never the batch's."""
    from botocore.exceptions import BotoCoreError, ClientError

    job = outcome.job
    status = outcome.status
    record: dict[str, Any] = {
        "Video": outcome.request.video.uri,
        "JobId": job.job_id if job is not None else None,
        "JobStatus": status.state.value if status is not None else None,
        "Error": None,
    }
    if outcome.error is not None:
        record["Error"] = error_record(outcome.error)
        return record, False
    assert job is not None
    try:
        if output is not None:
            record["Output"] = output.write(client, outcome)
        else:
            appearances = client.results(job).appearances()
            record["Appearances"] = [appearance_to_api(a) for a in appearances]
    except (RekoFaceError, OSError, ClientError, BotoCoreError) as err:
        record["Error"] = error_record(err)
        return record, False
    return record, True
