"""`rekoface collection`: create, describe, index, faces, delete-faces and delete.

Run in-process with tests/cli_support.py's fixtures against the fake; listing an
``s3://`` prefix uses moto's S3.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from cli_support import CLI, TTY, one_line_error
from moto import mock_aws

from rekoface._cli.collection import external_id_for

pytest_plugins = ("cli_fixtures",)
pytestmark = pytest.mark.usefixtures("columns_100")


@pytest.fixture
def s3() -> Iterator[None]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="photos")
        for key in ("staff/alice.jpg", "staff/bob smith.PNG", "staff/notes.txt", "other/c.jpg"):
            client.put_object(Bucket="photos", Key=key, Body=b"x")
        yield


def test_create_then_describe_show_the_collection(cli: CLI) -> None:
    run = cli("collection", "create", "visitors")
    assert run.code == 0, run.err
    assert "CollectionId       visitors\nFaceCount          0\n" in run.out
    assert "visitors" in cli.fake.collections
    again = cli("collection", "describe", "visitors", "--format", "jsonl")
    shown = json.loads(again.out)
    assert (shown["CollectionId"], shown["FaceCount"]) == ("visitors", 0)
    assert shown["CreationTimestamp"].endswith("+00:00")


def test_create_of_an_existing_collection_keeps_it(cli: CLI) -> None:
    run = cli("collection", "create", "people", "--format", "json")
    assert run.code == 0
    assert json.loads(run.out)["FaceCount"] == 5


def test_describe_of_a_missing_collection_is_one_line_and_exit_1(cli: CLI) -> None:
    run = cli("collection", "describe", "nobody")
    assert run.code == 1
    assert "ResourceNotFoundException" in one_line_error(run)


def test_index_with_an_external_id_indexes_every_image(cli: CLI) -> None:
    run = cli(
        "collection",
        "index",
        "people",
        "s3://photos/frank-1.jpg",
        "s3://photos/frank-2.jpg",
        "--external-id",
        "frank",
        "--format",
        "jsonl",
    )
    assert run.code == 0, run.err
    rows = [json.loads(line) for line in run.out.splitlines()]
    assert [(r["Image"], r["ExternalImageId"], len(r["FaceIds"])) for r in rows] == [
        ("s3://photos/frank-1.jpg", "frank", 1),
        ("s3://photos/frank-2.jpg", "frank", 1),
    ]
    stored = [f["ExternalImageId"] for f in cli.fake.collections["people"]]
    assert stored.count("frank") == 2


def test_index_derives_a_valid_external_id_from_the_file_name_and_shows_it(cli: CLI) -> None:
    run = cli("collection", "index", "people", "s3://photos/new/Zoë Smith (2).jpg")
    assert run.code == 0, run.err
    assert "external id Zo_Smith_2" in run.err
    assert "Zo_Smith_2" in run.out
    assert cli.fake.collections["people"][-1]["ExternalImageId"] == "Zo_Smith_2"


@pytest.mark.parametrize(
    ("key", "made"),
    [("a/alice-1.jpg", "alice-1"), ("x/über/ü.png", "image"), ("k/a:b.c.jpeg", "a:b.c")],
)
def test_external_id_for_makes_ids_the_service_accepts(key: str, made: str) -> None:
    assert external_id_for(key) == made


def test_index_reads_uris_from_a_file(cli: CLI, tmp_path: Path) -> None:
    listing = tmp_path / "images.txt"
    listing.write_text("# staff\ns3://photos/a.jpg\n\ns3://photos/b.jpg\n", encoding="utf-8")
    run = cli("collection", "index", "people", "--from-file", str(listing), "--format", "csv")
    assert run.code == 0, run.err
    rows = list(csv.reader(io.StringIO(run.out)))
    assert rows[0] == ["Image", "ExternalImageId", "FaceIds", "Unindexed"]
    assert [r[:2] for r in rows[1:]] == [["s3://photos/a.jpg", "a"], ["s3://photos/b.jpg", "b"]]


@pytest.mark.usefixtures("s3")
def test_index_lists_every_image_under_an_s3_prefix(cli: CLI) -> None:
    run = cli("collection", "index", "people", "s3://photos/staff/", "--format", "jsonl")
    assert run.code == 0, run.err
    rows = [json.loads(line) for line in run.out.splitlines()]
    assert [(r["Image"], r["ExternalImageId"]) for r in rows] == [
        ("s3://photos/staff/alice.jpg", "alice"),
        ("s3://photos/staff/bob smith.PNG", "bob_smith"),
    ]


def test_index_refuses_a_bad_external_id_naming_the_option(cli: CLI) -> None:
    run = cli("collection", "index", "people", "s3://photos/a.jpg", "--external-id", "a/1")
    assert run.code == 2
    line = one_line_error(run)
    assert "--external-id (ExternalImageId)" in line
    assert len(cli.fake.collections["people"]) == 5


def test_index_names_every_bad_option_at_once(cli: CLI) -> None:
    run = cli(
        "collection", "index", "people", "s3://photos/a.jpg", "--max-faces", "0",
        "--quality-filter", "best",
    )  # fmt: skip
    assert run.code == 2
    line = one_line_error(run)
    assert "--max-faces (MaxFaces)" in line
    assert "--quality-filter (QualityFilter)" in line


def test_index_with_no_image_is_a_usage_error(cli: CLI) -> None:
    run = cli("collection", "index", "people")
    assert run.code == 2
    assert "name at least one image" in one_line_error(run)


def test_an_image_that_is_not_one_is_reported_and_the_rest_indexed(cli: CLI) -> None:
    cli.fake.set_image("photos", "notes.jpg", error="InvalidImageFormatException")
    run = cli("collection", "index", "people", "s3://photos/notes.jpg", "s3://photos/g.jpg")
    assert run.code == 1
    assert "s3://photos/notes.jpg: InvalidImageFormatException" in run.err
    assert "1 of 2 images could not be indexed" in run.err
    assert "Traceback" not in run.err
    assert cli.fake.collections["people"][-1]["ExternalImageId"] == "g"


def test_faces_lists_every_face_in_each_format(cli: CLI) -> None:
    stored = cli.fake.collections["people"]
    jsonl = cli("collection", "faces", "people", "--format", "jsonl")
    assert [json.loads(line)["FaceId"] for line in jsonl.out.splitlines()] == [
        f["FaceId"] for f in stored
    ]
    rows = list(
        csv.reader(io.StringIO(cli("collection", "faces", "people", "--format", "csv").out))
    )
    assert rows[0] == ["FaceId", "ExternalImageId", "ImageId", "Confidence"]
    assert [r[1] for r in rows[1:]] == ["alice", "bob", "carol", "dave", "erin"]
    table = cli("collection", "faces", "people").out.splitlines()
    assert table[0].startswith("FACE ID")
    assert len(table) == 6


def test_delete_faces_deletes_them(cli: CLI) -> None:
    alice = cli.fake.collections["people"][0]["FaceId"]
    run = cli("collection", "delete-faces", "people", alice)
    assert (run.code, run.out) == (0, "deleted 1 faces\n")
    left = [f["ExternalImageId"] for f in cli.fake.collections["people"]]
    assert left == ["bob", "carol", "dave", "erin"]


def test_delete_faces_refuses_a_malformed_id(cli: CLI) -> None:
    run = cli("collection", "delete-faces", "people", "alice")
    assert run.code == 2
    assert "FaceIds[0]" in one_line_error(run)


def test_delete_without_a_terminal_needs_yes(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    run = cli("collection", "delete", "people")
    assert run.code == 2
    assert "--yes" in one_line_error(run)
    assert "people" in cli.fake.collections
    assert cli("collection", "delete", "people", "--yes").code == 0
    assert "people" not in cli.fake.collections


@pytest.mark.parametrize(("answer", "deleted"), [("y\n", True), ("\n", False), ("no\n", False)])
def test_delete_on_a_terminal_asks_first(
    cli: CLI, monkeypatch: pytest.MonkeyPatch, answer: str, deleted: bool
) -> None:
    monkeypatch.setattr("sys.stdin", TTY(answer))
    run = cli("collection", "delete", "people")
    assert run.code == 0
    assert "delete collection 'people' and every face in it? [y/N]" in run.err
    assert ("people" not in cli.fake.collections) is deleted


def test_global_options_work_after_the_action(cli: CLI) -> None:
    run = cli("collection", "describe", "people", "--region", "eu-west-1", "--format", "json")
    assert run.code == 0
    assert cli.options[-1].region == "eu-west-1"


def test_the_demo_builds_its_collection_through_the_collection_calls() -> None:
    from rekoface._cli.demo import COLLECTION, PEOPLE, Demo

    demo = Demo()
    assert demo.enrol() == len(PEOPLE)
    calls = [c.operation for c in demo.fake.calls]
    assert calls[:2] == ["CreateCollection", "DescribeCollection"]
    assert calls.count("IndexFaces") == len(PEOPLE)
    stored = [f["ExternalImageId"] for f in demo.fake.collections[COLLECTION]]
    assert stored == list(PEOPLE)


def test_a_bad_collection_id_names_the_positional_id(cli: CLI) -> None:
    run = cli("collection", "create", "my collection")
    assert run.code == 2
    line = one_line_error(run)
    assert "ID (CollectionId): 'my collection' does not match" in line
    assert "--collection" not in line
    assert "my collection" not in cli.fake.collections
