"""Input and output rules read from botocore's Rekognition service model.

The fake judges requests by the model botocore ships, never by rekoface's own
constraint table: a fake that shares the code under test proves nothing.

Patterns are matched as whole strings (`re.fullmatch`) and compiled with `re.ASCII`,
as the service does (Python's `\\d` and `\\w` otherwise accept non-ASCII digits and
letters). The model's ARN patterns name only the `aws` partition, yet the service runs
in other partitions too, so `arn:aws:` is widened to `arn:aws(-[a-z]+)*:`.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, cast

import botocore.session
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape

__all__ = ["Constraint", "Rules", "compile_pattern", "default_rules", "validation_message"]

_ARN_AWS = "arn:aws:"
_ARN_ANY_PARTITION = "arn:aws(?:-[a-z]+)*:"

#: What the service refuses although the model does not say so: a face search needs
#: a video object, named by bucket and key.
_SERVICE_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "StartFaceSearch": ("Video.S3Object", "Video.S3Object.Bucket", "Video.S3Object.Name"),
}

Constraint = Mapping[str, Any]


@functools.cache
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a model pattern once; ARN patterns accept every partition."""
    return re.compile(pattern.replace(_ARN_AWS, _ARN_ANY_PARTITION), re.ASCII)


def _type_error(shape: Shape, value: Any) -> str | None:
    kind = shape.type_name
    if kind == "string":
        ok = isinstance(value, str)
    elif kind in ("integer", "long"):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind in ("float", "double"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and not math.isfinite(value):
            return "Member must be a finite number"
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind in ("structure", "map"):
        ok = isinstance(value, Mapping)
    elif kind == "list":
        ok = isinstance(value, list)
    else:  # blob, timestamp: not part of these operations' shapes
        ok = True
    return None if ok else f"Member must be of type {kind}"


def _scalar_errors(shape: Shape, value: Any) -> Iterator[str]:
    meta = shape.metadata
    if isinstance(value, str):
        if "min" in meta and len(value) < meta["min"]:
            yield f"Member must have length greater than or equal to {meta['min']}"
        if "max" in meta and len(value) > meta["max"]:
            yield f"Member must have length less than or equal to {meta['max']}"
        if "pattern" in meta and compile_pattern(meta["pattern"]).fullmatch(value) is None:
            yield f"Member must satisfy regular expression pattern: {meta['pattern']}"
        enum = meta.get("enum")
        if enum and value not in enum:
            yield f"Member must satisfy enum value set: [{', '.join(enum)}]"
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if "min" in meta and value < meta["min"]:
            yield f"Member must have value greater than or equal to {meta['min']}"
        if "max" in meta and value > meta["max"]:
            yield f"Member must have value less than or equal to {meta['max']}"


class Rules:
    """Validates values against the shapes of one botocore `ServiceModel`."""

    def __init__(self, service_model: ServiceModel) -> None:
        self.service_model = service_model

    def input_shape(self, operation: str) -> StructureShape:
        shape = self.service_model.operation_model(operation).input_shape
        assert shape is not None
        return shape

    def output_shape(self, operation: str) -> StructureShape:
        shape = self.service_model.operation_model(operation).output_shape
        assert shape is not None
        return shape

    def validate_input(self, operation: str, params: Mapping[str, Any]) -> list[str]:
        """Every problem of a request, as ``"Path: constraint"`` strings, in model order."""
        problems = self.validate(self.input_shape(operation), params)
        for path in _SERVICE_REQUIRED.get(operation, ()):
            parent = path.rpartition(".")[0]
            if _lookup(params, path) is None and isinstance(_lookup(params, parent), Mapping):
                problems.append(f"{path}: Member must not be null")
        return problems

    def validate(self, shape: Shape, value: Any, path: str = "") -> list[str]:
        """Problems of `value` against `shape` (types, required, min/max, pattern, enum)."""
        problems: list[str] = []
        self._walk(shape, value, path, problems)
        return problems

    def _walk(self, shape: Shape, value: Any, path: str, out: list[str]) -> None:
        label = path or shape.name
        type_problem = _type_error(shape, value)
        if type_problem is not None:
            out.append(f"{label}: {type_problem}")
            return
        if isinstance(shape, StructureShape):
            for name in shape.required_members:
                if value.get(name) is None:
                    out.append(f"{_join(path, name)}: Member must not be null")
            for name, member in shape.members.items():
                if value.get(name) is not None:
                    self._walk(member, value[name], _join(path, name), out)
        elif isinstance(shape, ListShape):
            out.extend(f"{label}: {p}" for p in _scalar_length(shape, len(value)))
            for i, item in enumerate(value):
                self._walk(shape.member, item, f"{label}[{i}]", out)
        elif isinstance(shape, MapShape):
            for key, item in value.items():
                self._walk(shape.value, item, f"{label}.{key}", out)
        else:
            out.extend(f"{label}: {p}" for p in _scalar_errors(shape, value))

    def constraints(self, operation: str) -> dict[str, dict[str, Any]]:
        """The model's constraints of an operation's input, by field path (for audits)."""
        table: dict[str, dict[str, Any]] = {}

        def visit(shape: Shape, path: str) -> None:
            if isinstance(shape, StructureShape):
                for name, member in shape.members.items():
                    sub = _join(path, name)
                    table[sub] = {
                        "type": member.type_name,
                        "required": name in shape.required_members,
                        **{
                            k: member.metadata[k]
                            for k in ("min", "max", "pattern", "enum")
                            if k in member.metadata
                        },
                    }
                    visit(member, sub)

        visit(self.input_shape(operation), "")
        return table


def _scalar_length(shape: Shape, length: int) -> Iterator[str]:
    meta = shape.metadata
    if "min" in meta and length < meta["min"]:
        yield f"Member must have length greater than or equal to {meta['min']}"
    if "max" in meta and length > meta["max"]:
        yield f"Member must have length less than or equal to {meta['max']}"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _lookup(params: Mapping[str, Any], path: str) -> Any:
    value: Any = params
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = cast("Mapping[str, Any]", value).get(part)
    return value


@functools.lru_cache(maxsize=1)
def default_rules() -> Rules:
    """Rules from the Rekognition model of the installed botocore (loaded once)."""
    return Rules(botocore.session.get_session().get_service_model("rekognition"))


def validation_message(problems: Sequence[str]) -> str:
    """The service's `InvalidParameterException` message for `validate`'s problems."""
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    details = "; ".join(
        f"Value at '{path}' failed to satisfy constraint: {rule}"
        for path, _, rule in (p.partition(": ") for p in problems)
    )
    return f"{count} validation {noun} detected: {details}"
