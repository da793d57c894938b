"""pytest fixtures for the fake.

Opt in with ``pytest_plugins = ["rekoface.testing.pytest_plugin"]`` (in a test module or
the top-level conftest.py); it is not registered as an entry point.

``fake_rekognition`` is a fresh `FakeRekognition` per test (default settings, its own
clock) with one collection, `TEST_COLLECTION_ID` (10 faces), so a test can start a
search at once; ``fake_rekognition_client`` is a boto3 "rekognition" client it answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ._fake_rekognition import FakeRekognition

if TYPE_CHECKING:
    from mypy_boto3_rekognition import RekognitionClient

__all__ = ["TEST_COLLECTION_ID", "fake_rekognition", "fake_rekognition_client"]

#: The collection the ``fake_rekognition`` fixture creates.
TEST_COLLECTION_ID = "test-collection"


@pytest.fixture
def fake_rekognition() -> FakeRekognition:
    """A fresh fake with the collection ``test-collection`` (10 faces)."""
    fake = FakeRekognition()
    fake.add_collection(TEST_COLLECTION_ID)
    return fake


@pytest.fixture
def fake_rekognition_client(fake_rekognition: FakeRekognition) -> RekognitionClient:
    """A boto3 "rekognition" client answered by ``fake_rekognition``."""
    return fake_rekognition.client()
