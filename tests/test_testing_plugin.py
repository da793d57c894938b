"""The pytest plugin and the package's import footprint."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from botocore.awsrequest import AWSPreparedRequest
from botocore.compat import HTTPHeaders
from botocore.exceptions import ClientError

from rekoface.testing import FakeRekognition
from rekoface.testing._transport import _Hooks

pytest_plugins = ["pytester"]


def test_plugin_gives_a_fake_with_a_collection_and_a_client(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            pytest_plugins = ["rekoface.testing.pytest_plugin"]

            from rekoface.testing.pytest_plugin import TEST_COLLECTION_ID


            def test_it(fake_rekognition, fake_rekognition_client):
                job_id = fake_rekognition_client.start_face_search(
                    Video={"S3Object": {"Bucket": "videos", "Name": "v.mp4"}},
                    CollectionId=TEST_COLLECTION_ID,
                )["JobId"]
                assert list(fake_rekognition.jobs) == [job_id]
                assert len(fake_rekognition.collections["test-collection"]) == 10


            def test_fresh_per_test(fake_rekognition):
                assert fake_rekognition.jobs == {}
            """
        )
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_importing_the_package_does_not_import_pytest() -> None:
    code = (
        "import sys, rekoface.testing; "
        "print(sorted(m for m in ('pytest', 'moto', 'rekoface.client') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert json.loads(out.replace("'", '"')) == []


def test_a_body_that_is_not_a_json_object_is_refused() -> None:
    handlers = _Hooks(FakeRekognition())
    for body in (b"not json", b"[1, 2]"):
        request = AWSPreparedRequest("POST", "https://rekognition/", HTTPHeaders(), body, False)
        response = handlers.before_send(request, "before-send.rekognition.GetFaceSearch")
        assert response.status_code == 400
        assert json.loads(response.content)["__type"] == "SerializationException"
    empty = AWSPreparedRequest("POST", "https://rekognition/", HTTPHeaders(), b"", False)
    response = handlers.before_send(empty, "before-send.rekognition.GetFaceSearch")
    assert "JobId" in json.loads(response.content)["Message"]


def test_signer_is_unsigned() -> None:
    fake = FakeRekognition()
    client = fake.client(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
    seen = []
    client.meta.events.register(
        "before-send.rekognition", lambda request, **_: seen.append(request)
    )
    with pytest.raises(ClientError):
        client.get_face_search(JobId="job")
    assert "Authorization" not in seen[0].headers
