"""The fake's rules are botocore's service model, read at run time."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import botocore.loaders
import botocore.session
import pytest

from rekoface.testing import FakeRekognition
from rekoface.testing._model_rules import Rules, compile_pattern, default_rules

VIDEO = {"S3Object": {"Bucket": "videos-bucket", "Name": "v.mp4"}}


def _raw_model() -> dict[str, Any]:
    loader = botocore.loaders.create_loader()
    model: dict[str, Any] = loader.load_service_model("rekognition", "service-2")
    return model


@pytest.mark.parametrize("operation", ["StartFaceSearch", "GetFaceSearch"])
def test_constraint_table_is_the_model_botocore_ships(operation: str) -> None:
    raw = _raw_model()
    shapes = raw["shapes"]
    expected: dict[str, dict[str, Any]] = {}

    def visit(shape_name: str, path: str) -> None:
        shape = shapes[shape_name]
        for name, ref in shape.get("members", {}).items():
            member = shapes[ref["shape"]]
            sub = f"{path}.{name}" if path else name
            expected[sub] = {
                "type": member["type"],
                "required": name in shape.get("required", []),
                **{k: member[k] for k in ("min", "max", "pattern", "enum") if k in member},
            }
            visit(ref["shape"], sub)

    visit(raw["operations"][operation]["input"]["shape"], "")
    assert default_rules().constraints(operation) == expected
    assert expected  # the walk found the fields


@pytest.fixture
def tightened_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """botocore's loader hands out a model whose CollectionId allows 5 characters."""
    original = botocore.loaders.Loader.load_service_model

    def load(self: Any, service_name: str, type_name: str, api_version: Any = None) -> Any:
        model = original(self, service_name, type_name, api_version)
        if service_name == "rekognition" and type_name == "service-2":
            model = copy.deepcopy(model)
            model["shapes"]["CollectionId"]["max"] = 5
        return model

    monkeypatch.setattr(botocore.loaders.Loader, "load_service_model", load)
    default_rules.cache_clear()
    yield
    default_rules.cache_clear()


@pytest.mark.usefixtures("tightened_model")
def test_a_changed_model_changes_the_fake() -> None:
    fake = FakeRekognition()
    fake.add_collection("short")
    status, body = fake.handle("StartFaceSearch", {"Video": VIDEO, "CollectionId": "sixsix"})
    assert status == 400
    assert "'CollectionId'" in body["Message"]
    assert "less than or equal to 5" in body["Message"]


def test_patterns_are_whole_string_ascii_and_partition_wide() -> None:
    digits = compile_pattern(r"\d{12}")
    assert digits.fullmatch("123456789012")
    assert digits.fullmatch("١٢٣٤٥٦٧٨٩٠١٢") is None
    arn = compile_pattern("arn:aws:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+")
    assert arn.fullmatch("arn:aws-us-gov:iam::123456789012:role/r")
    assert arn.fullmatch("arn:aws-iso-b:iam::123456789012:role/r")
    assert arn.fullmatch("arn:awsgov:iam::123456789012:role/r") is None
    assert compile_pattern("[a-z]+") is compile_pattern("[a-z]+")  # compiled once


def test_validator_walks_lists_and_maps() -> None:
    rules = default_rules()
    persons = rules.output_shape("GetFaceSearch").members["Persons"]
    problems = rules.validate(persons, [{"FaceMatches": [{"Similarity": 120}]}], "Persons")
    assert problems == [
        "Persons[0].FaceMatches[0].Similarity: Member must have value less than or equal to 100"
    ]
    assert rules.validate(persons, {"not": "a list"}) == [
        "PersonMatches: Member must be of type list"
    ]
    model = botocore.session.get_session().get_service_model("sqs")
    tags = model.shape_for("TagMap")
    assert Rules(model).validate(tags, {"k": 1}, "Tags") == [
        "Tags.k: Member must be of type string"
    ]
    assert Rules(model).validate(model.shape_for("Boolean"), "yes") == [
        "Boolean: Member must be of type boolean"
    ]


def test_validator_checks_list_lengths_and_booleans() -> None:
    rules = default_rules()
    model = rules.service_model
    two = model.shape_for("DistributeDatasetMetadataList")  # exactly two datasets
    assert rules.validate(two, [], "Datasets") == [
        "Datasets: Member must have length greater than or equal to 2"
    ]
    assert rules.validate(two, [{"Arn": "x"}] * 3, "Datasets")[0] == (
        "Datasets: Member must have length less than or equal to 2"
    )
    assert rules.validate(model.shape_for("DateTime"), 12345) == []  # not checked
    assert rules.validate(model.shape_for("Boolean"), True) == []
