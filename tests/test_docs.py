"""Every ```python block of docs/*.md and README.md runs, against the in-process fake.

Blocks of one page run in order in one namespace, so later blocks use earlier names.
Each page gets a fresh world (see `DocsWorld`): moto's `mock_aws` for SNS and SQS, a
`FakeRekognition` answering every boto3 "rekognition" client the page builds (also the
one `FaceSearchClient()` builds for itself), and virtual time, so pollers, retries and
long polls never sleep for real. Names a page may use without defining them:

- ``fake``: the `FakeRekognition`; it has the collection ``employees``.
- ``topic_arn``, ``role_arn``: an SNS topic named ``AmazonRekognitionFaceSearch`` (in
  moto) and a role ARN, for a `NotificationChannel`; the fake publishes completions there.
- ``queue_url``: an SQS queue subscribed to that topic.
- ``store(job_id, matches)``: keeps what it is given in ``stored``.
- ``event``: a Lambda SNS event carrying a Rekognition completion notification.

A block that needs a real AWS account (IAM, SNS set-up) is marked by the line
``<!-- skip: needs an AWS account -->`` right before its fence. A block that runs until
stopped (a worker loop) is marked ``<!-- docs: runs-forever -->``: the test stops it
when two hours of virtual time have passed.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import boto3.session
import pytest
from moto import mock_aws
from moto.sqs.models import SQSBackend

import rekoface
from rekoface._constraints import CONSTRAINTS, WIDENED
from rekoface.testing import FakeRekognition

ROOT = Path(__file__).resolve().parent.parent
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]

SKIP_MARK = re.compile(r"<!--\s*skip:.*-->")
FOREVER_MARK = re.compile(r"<!--\s*docs:\s*runs-forever\s*-->")
FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)(.*)$")
#: Blocks of pages this project does not mark by hand, known to loop until stopped.
FOREVER_BY_TEXT = {"README.md": ("client.completions(queue_url)",)}

#: Virtual time never runs past this: a block that waits longer is stuck (or forever).
VIRTUAL_LIMIT = 2 * 3600.0
START = 1_700_000_000.0


@dataclass
class Block:
    page: str
    line: int
    code: str
    skip: bool
    forever: bool


def extract_blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file that hold Python, with their marks."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        fence, language = match.group(1), match.group(2).lower()
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines) and not lines[index].startswith(fence):
            body.append(lines[index])
            index += 1
        index += 1
        if language not in ("python", "py"):
            continue
        before = next((lines[i] for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        code = "\n".join(body) + "\n"
        forever = bool(FOREVER_MARK.search(before)) or any(
            text in code for text in FOREVER_BY_TEXT.get(path.name, ())
        )
        blocks.append(Block(path.name, start + 1, code, bool(SKIP_MARK.search(before)), forever))
    return blocks


class VirtualTimeExhausted(BaseException):
    """Virtual time passed `VIRTUAL_LIMIT`: the block is stuck, or loops by design.

    A BaseException, so no ``except Exception`` in the code under test swallows it.
    """


class VirtualClock:
    """Time that passes only when someone sleeps; jobs of the fake end as it passes."""

    def __init__(self) -> None:
        self._now = START
        self._lock = threading.Lock()
        self.on_advance: Callable[[], None] = lambda: None

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)
            exhausted = self._now > START + VIRTUAL_LIMIT
        if exhausted:
            raise VirtualTimeExhausted
        self.on_advance()


def _swap(value: object, swaps: dict[int, object]) -> object:
    return swaps.get(id(value), value)


def _patch_defaults(
    monkeypatch: pytest.MonkeyPatch, function: object, swaps: dict[int, object]
) -> None:
    defaults = getattr(function, "__defaults__", None)
    if defaults and any(id(d) in swaps for d in defaults):
        monkeypatch.setattr(function, "__defaults__", tuple(_swap(d, swaps) for d in defaults))
    kwdefaults = getattr(function, "__kwdefaults__", None)
    if kwdefaults and any(id(d) in swaps for d in kwdefaults.values()):
        patched = {k: _swap(v, swaps) for k, v in kwdefaults.items()}
        monkeypatch.setattr(function, "__kwdefaults__", patched)


def use_virtual_time(monkeypatch: pytest.MonkeyPatch, clock: VirtualClock) -> None:
    """Make every ``sleep=time.sleep, clock=time.monotonic`` default of rekoface virtual.

    Defaults are bound when a function is defined, so patching the ``time`` module alone
    would not reach them; the ``time`` module is patched too, for code that looks
    ``time.sleep`` up when it runs.
    """
    swaps: dict[int, object] = {id(time.sleep): clock.sleep, id(time.monotonic): clock.monotonic}
    names = [m.name for m in pkgutil.iter_modules(rekoface.__path__)]
    for name in names:
        if name in ("testing", "cli", "__main__") or name.startswith("_cli"):
            continue
        module = importlib.import_module(f"rekoface.{name}")
        for value in list(vars(module).values()):
            if inspect.isfunction(value) and value.__module__ == module.__name__:
                _patch_defaults(monkeypatch, value, swaps)
            elif inspect.isclass(value) and value.__module__ == module.__name__:
                for member in vars(value).values():
                    target = getattr(member, "__func__", member)
                    if inspect.isfunction(target):
                        _patch_defaults(monkeypatch, target, swaps)
    monkeypatch.setattr(time, "sleep", clock.sleep)
    monkeypatch.setattr(time, "monotonic", clock.monotonic)


def _lambda_sns_event(topic_arn: str) -> dict[str, Any]:
    message = {
        "JobId": "6de014b0a8f6e1e8e2b5d5f6a4c0b3a1a9c4f0a7d1e2b3c4d5e6f7a8b9c0d1e2",
        "Status": "SUCCEEDED",
        "API": "StartFaceSearch",
        "JobTag": "host-1",
        "Timestamp": 1_700_000_000_000,
        "Video": {"S3ObjectName": "lobby.mp4", "S3Bucket": "my-bucket"},
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "TopicArn": topic_arn,
                    "Subject": None,
                    "Message": json.dumps(message),
                    "Timestamp": "2023-11-14T22:13:20.000Z",
                    "MessageAttributes": {},
                },
            }
        ]
    }


@pytest.fixture
def world(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """A fresh namespace for one page: moto for SNS/SQS, the fake for Rekognition."""
    page = str(request.node.callspec.params["page"])
    clock = VirtualClock()
    use_virtual_time(monkeypatch, clock)
    with mock_aws():
        fake = FakeRekognition(
            clock=clock.monotonic, job_duration=90.0, seed=zlib.crc32(page.encode())
        )
        fake.add_collection("employees", faces=["alice", "bob", "carol", "dave"])
        clock.on_advance = lambda: fake.advance(0)

        original_client = boto3.session.Session.client

        def client(self: boto3.session.Session, *args: Any, **kwargs: Any) -> Any:
            made = original_client(self, *args, **kwargs)
            if made.meta.service_model.service_name == "rekognition":
                fake.attach(made)
            return made

        monkeypatch.setattr(boto3.session.Session, "client", client)
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)

        original_receive = SQSBackend.receive_message

        def receive(
            self: SQSBackend,
            queue_name: str,
            count: int,
            wait_seconds_timeout: int,
            *args: Any,
            **kwargs: Any,
        ) -> Any:
            """A long poll that finds nothing lasts its wait time, in virtual time."""
            found = original_receive(self, queue_name, count, 0, *args, **kwargs)
            if found or not wait_seconds_timeout:
                return found
            clock.sleep(wait_seconds_timeout)
            return original_receive(self, queue_name, count, 0, *args, **kwargs)

        monkeypatch.setattr(SQSBackend, "receive_message", receive)

        sns = boto3.client("sns", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        topic_arn = sns.create_topic(Name="AmazonRekognitionFaceSearch")["TopicArn"]
        slug = re.sub(r"[^A-Za-z0-9-]", "-", page)[:60]
        queue_url = sqs.create_queue(QueueName=f"face-search-done-{slug}")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        fake.connect_sns(sns)

        stored: dict[str, Any] = {}

        def store(job_id: str, matches: Any) -> None:
            stored[job_id] = matches

        yield {
            "__name__": "__docs__",
            "fake": fake,
            "topic_arn": topic_arn,
            "role_arn": "arn:aws:iam::123456789012:role/RekognitionPublishToSNS",
            "queue_url": queue_url,
            "store": store,
            "stored": stored,
            "event": _lambda_sns_event(topic_arn),
        }


def _run(block: Block, namespace: dict[str, Any]) -> None:
    code = compile(block.code, f"{block.page}:{block.line}", "exec")
    try:
        exec(code, namespace)  # noqa: S102 - running the documentation's own examples
    except VirtualTimeExhausted:
        if not block.forever:
            pytest.fail(
                f"{block.page}, block at line {block.line}: still waiting after two hours of "
                "virtual time (mark a block that loops by design with "
                "<!-- docs: runs-forever -->)"
            )


def _runnable(path: Path) -> list[Block]:
    return [b for b in extract_blocks(path) if not b.skip]


@pytest.mark.parametrize("page", [p.name for p in PAGES if _runnable(p)])
def test_examples_run(page: str, world: dict[str, Any]) -> None:
    path = ROOT / ("README.md" if page == "README.md" else f"docs/{page}")
    for block in _runnable(path):
        _run(block, world)


def test_blocks_are_found_and_marks_read(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n\n```python\nx = 1\n```\n\n<!-- skip: needs an AWS account -->\n"
        "```python\nraise SystemExit\n```\n\n```bash\necho no\n```\n\n"
        "<!-- docs: runs-forever -->\n````py\nwhile True: pass\n````\n",
        encoding="utf-8",
    )
    blocks = extract_blocks(page)
    assert [(b.line, b.code, b.skip, b.forever) for b in blocks] == [
        (3, "x = 1\n", False, False),
        (8, "raise SystemExit\n", True, False),
        (17, "while True: pass\n", False, True),
    ]


def test_every_page_in_the_docs_is_covered() -> None:
    """The pages that hold examples are the ones the site has (nothing silently skipped)."""
    assert (ROOT / "docs" / "index.md") in PAGES
    assert any(extract_blocks(ROOT / "docs" / "quickstart.md"))


def _hooks() -> Any:
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        return importlib.import_module("_hooks")
    finally:
        sys.path.remove(str(ROOT / "docs"))


def test_constraint_table_is_generated_from_the_code() -> None:
    hooks = _hooks()
    page = (ROOT / "docs" / "requests.md").read_text(encoding="utf-8")
    assert hooks.MARKER in page
    rendered = hooks.on_page_markdown(page)
    assert hooks.MARKER not in rendered
    rows = [line for line in rendered.splitlines() if line.startswith("| ")]
    for rule in CONSTRAINTS.values():
        (row,) = [r for r in rows if f"| `{rule.path}` |" in r]
        assert rule.operation in row
        if rule.pattern is not None:
            assert rule.pattern.replace("|", "\\|") in row
        if rule.path in WIDENED:
            assert "widened" in row
        for value in rule.enum or ():
            assert f"`{value}`" in row
        assert set(hooks.ARGUMENTS) >= {rule.path}, f"say where {rule.path} is set from"
