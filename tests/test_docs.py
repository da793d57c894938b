"""Every ```python block of docs/*.md and README.md runs, against the in-process fake.

Blocks of one page run in order in one namespace, so later blocks use earlier names.
Each page gets a fresh world (see `world`): moto's `mock_aws` for SNS and SQS, a
`FakeRekognition` answering every boto3 "rekognition" client the page builds (also the
one `FaceSearchClient()` builds for itself), and virtual time (the project's `FakeTime`),
so pollers, retries and long polls never sleep for real. Names a page may use without
defining them:

- ``fake``: the `FakeRekognition`; it has the collection ``employees``.
- ``topic_arn``, ``role_arn``: an SNS topic named ``AmazonRekognitionFaceSearch`` (in
  moto) and a role ARN, for a `NotificationChannel`; the fake publishes completions there.
- ``queue_url``: an SQS queue subscribed to that topic.
- ``store(job_id, matches)``: keeps what it is given in ``stored``.
- ``event``: a Lambda SNS event carrying a Rekognition completion notification.

The examples are checked, not only run:

- ``print(...)  # prints: TEXT`` (on a line of the call, or alone on the line below it)
  says what each run of that call prints, and the test compares: ``...`` in TEXT stands
  for any text, such as a job id. A print whose comment is a bare value
  (``print(n)  # 8``) is refused: write ``# prints: 8`` so that it is checked.
- A ``try`` with ``except`` clauses and no ``else`` shows an error: its body must raise
  every time it runs (an ``except`` that is never entered proves nothing). A ``try`` that
  shows both outcomes has an ``else``.

A block that needs a real AWS account (IAM, SNS set-up) is marked by the line
``<!-- skip: needs an AWS account -->`` right before its fence. A statement that runs
until stopped (a worker loop) is named by ``<!-- docs: runs-forever: START -->`` right
before the fence, START being the start of the statement's first line: the test stops
that statement (only it) when two hours of virtual time have passed, and fails if it
ends on its own; the rest of the block runs and is checked as usual.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import io
import json
import pkgutil
import re
import sys
import time
import tokenize
import types
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import boto3.session
import botocore.session
import pytest
from faketime import FakeTime
from moto import mock_aws
from moto.sqs.models import SQSBackend

import rekoface
from rekoface._constraints import CONSTRAINTS, WIDENED
from rekoface.testing import FakeRekognition

ROOT = Path(__file__).resolve().parent.parent

#: The site's pages, in the order of mkdocs.yml's nav (written out, so that a page left
#: out of the nav, or a nav entry without its page, fails a test).
SITE_PAGES = (
    "index.md",
    "quickstart.md",
    "requests.md",
    "collections.md",
    "idempotency.md",
    "errors.md",
    "retries.md",
    "waiting.md",
    "results.md",
    "batch.md",
    "asyncio.md",
    "testing.md",
    "cli.md",
    "performance.md",
    "reliability.md",
    "fleets.md",
    "reference.md",
    "changelog.md",
)
#: The pages whose Python examples are run (a page that silently loses them fails).
PAGES_WITH_EXAMPLES = {
    "README.md",
    "index.md",
    "quickstart.md",
    "requests.md",
    "collections.md",
    "idempotency.md",
    "errors.md",
    "retries.md",
    "waiting.md",
    "results.md",
    "batch.md",
    "asyncio.md",
    "testing.md",
    "fleets.md",
}
PAGES = [ROOT / "README.md", *(ROOT / "docs" / name for name in SITE_PAGES)]

SKIP_MARK = re.compile(r"<!--\s*skip:.*-->")
FOREVER_MARK = re.compile(r"<!--\s*docs:\s*runs-forever\b(?::\s*(?P<start>.*?))?\s*-->")
FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)(.*)$")
#: Statements of pages this project does not mark by hand, known to loop until stopped.
FOREVER_BY_TEXT = {"README.md": "for done in client.completions(queue_url):"}

PRINTS = re.compile(r"#\s*prints:\s?(?P<expected>.*)$")
#: A comment that is one bare value (``# 8``, ``# ResourceNotFoundException``).
BARE_VALUE = re.compile(r"#\s*(?!noqa|type:)(?P<value>\S+)\s*$")

#: Virtual time never runs past this: a block that waits longer is stuck (or forever).
VIRTUAL_LIMIT = 2 * 3600.0
START = 1_700_000_000.0


@dataclass
class Block:
    page: str
    line: int
    code: str
    skip: bool
    #: The start of the statement that runs until stopped, if one does.
    forever: str | None = None


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
        forever = FOREVER_MARK.search(before)
        if forever is not None and not forever.group("start"):
            raise ValueError(
                f"{path.name}:{start + 1}: say which statement runs forever: "
                "<!-- docs: runs-forever: for item in loop(): -->"
            )
        by_text = FOREVER_BY_TEXT.get(path.name)
        if by_text is not None and by_text not in code:
            by_text = None
        blocks.append(
            Block(
                path.name,
                start + 1,
                code,
                bool(SKIP_MARK.search(before)),
                forever.group("start") if forever is not None else by_text,
            )
        )
    return blocks


class VirtualTimeExhausted(BaseException):
    """Virtual time passed its budget: the block is stuck, or loops by design.

    A BaseException, so no ``except Exception`` in the code under test swallows it.
    """


@dataclass
class DocsWorld:
    """One page's namespace and virtual time, and what its examples printed."""

    page: str
    namespace: dict[str, Any]
    time: FakeTime = field(default_factory=lambda: FakeTime(START))
    #: Past this virtual time a sleep raises `VirtualTimeExhausted`.
    deadline: float = START + VIRTUAL_LIMIT
    #: Page line of each checked print -> what its comment says it prints.
    expected: dict[int, str] = field(default_factory=dict)
    #: Page line of each print -> what each of its calls printed.
    printed: dict[int, list[str]] = field(default_factory=dict)
    #: Problems found before running (comments that cannot be checked).
    problems: list[str] = field(default_factory=list)
    #: Page lines of the run-forever statements that were stopped.
    stopped: list[int] = field(default_factory=list)
    #: Called after each sleep: lets the page's fake service move on.
    on_time_passing: Callable[[], None] = field(default=lambda: None)

    def __post_init__(self) -> None:
        self.time.on_sleep.append(self._slept)
        self.namespace.update(
            __docs_print__=self._print,
            __docs_nothing_raised__=self._nothing_raised,
            __docs_out_of_time__=VirtualTimeExhausted,
            __docs_forever_stopped__=self._forever_stopped,
            __docs_forever_ended__=self._forever_ended,
        )

    def _slept(self) -> None:
        if self.time.now > self.deadline:
            raise VirtualTimeExhausted
        self.on_time_passing()

    def _print(self, line: int, *args: Any, **kwargs: Any) -> None:
        out = io.StringIO()
        print(*args, **{**kwargs, "file": out})
        self.printed.setdefault(line, []).append(out.getvalue())
        sys.stdout.write(out.getvalue())

    def _nothing_raised(self, line: int) -> None:
        pytest.fail(
            f"{self.page}:{line}: nothing in this try block raised, so its except clause "
            "(the point of the example) never ran; a try that shows both outcomes has an else"
        )

    def _forever_stopped(self, line: int) -> None:
        """The statement that runs forever was stopped: what follows it gets fresh time."""
        self.stopped.append(line)
        self.deadline = self.time.now + VIRTUAL_LIMIT

    def _forever_ended(self, line: int) -> None:
        pytest.fail(f"{self.page}:{line}: marked as running until stopped, but it ended")


class _Instrument(ast.NodeTransformer):
    """Routes ``print`` through the world, and makes a ``try`` that raises nothing fail."""

    def __init__(self) -> None:
        #: Each line of a print call -> the line the call starts on.
        self.print_lines: dict[int, int] = {}
        #: The last line of each print call -> the line the call starts on.
        self.print_ends: dict[int, int] = {}

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "print":
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                self.print_lines.setdefault(line, node.lineno)
            self.print_ends.setdefault(node.end_lineno or node.lineno, node.lineno)
            node.func = ast.Name("__docs_print__", ast.Load())
            node.args.insert(0, ast.Constant(node.lineno))
        return node

    def visit_Try(self, node: ast.Try) -> ast.Try:
        self.generic_visit(node)
        if node.handlers and not node.orelse:
            node.orelse = [_call("__docs_nothing_raised__", node.lineno)]
        return node


def _call(name: str, line: int) -> ast.stmt:
    return ast.Expr(ast.Call(ast.Name(name, ast.Load()), [ast.Constant(line)], []))


def _stop_when_out_of_time(tree: ast.Module, block: Block) -> None:
    """Wrap the block's run-forever statement: only it may run out of virtual time."""
    lines = block.code.splitlines()
    for index, statement in enumerate(tree.body):
        line = statement.lineno
        if block.forever and lines[line - block.line - 1].strip().startswith(block.forever):
            stopped = ast.ExceptHandler(
                ast.Name("__docs_out_of_time__", ast.Load()),
                None,
                [_call("__docs_forever_stopped__", line)],
            )
            wrapper = ast.Try([statement], [stopped], [_call("__docs_forever_ended__", line)], [])
            tree.body[index] = ast.copy_location(wrapper, statement)
            return
    pytest.fail(
        f"{block.page}:{block.line}: no statement of this block starts with {block.forever!r}"
    )


def instrument(block: Block, world: DocsWorld) -> types.CodeType:
    """The block compiled with its checks, with the page's own line numbers."""
    tree = ast.parse(block.code)
    ast.increment_lineno(tree, block.line)
    instrumenter = _Instrument()
    tree = instrumenter.visit(tree)
    if block.forever is not None:
        _stop_when_out_of_time(tree, block)
    ast.fix_missing_locations(tree)
    comments = {
        token.start[0] + block.line: token.string
        for token in tokenize.generate_tokens(io.StringIO(block.code).readline)
        if token.type == tokenize.COMMENT
    }
    for line, comment in sorted(comments.items()):
        prints = PRINTS.match(comment)
        if prints is not None:
            start = instrumenter.print_lines.get(line, instrumenter.print_ends.get(line - 1))
            if start is not None:
                world.expected[start] = prints.group("expected").rstrip()
            else:
                world.problems.append(f"{block.page}:{line}: `# prints:` on a line without print")
        elif instrumenter.print_lines.get(line) == line and (bare := BARE_VALUE.match(comment)):
            world.problems.append(
                f"{block.page}:{line}: write `# prints: {bare.group('value')}` for the test "
                "to check the printed value"
            )
    return compile(tree, block.page, "exec")


def _printed_as_said(expected: str, printed: str) -> bool:
    """Whether a print's output is what its comment says (``...`` matches anything)."""
    pattern = ".*?".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, printed, re.DOTALL) is not None


def run_blocks(blocks: list[Block], world: DocsWorld) -> None:
    """Run a page's blocks in order, then fail on every print that is not as documented."""
    for block in blocks:
        code = instrument(block, world)
        try:
            exec(code, world.namespace)  # noqa: S102 - running the documentation's own examples
        except VirtualTimeExhausted:
            pytest.fail(
                f"{block.page}, block at line {block.line}: still waiting after two hours of "
                "virtual time (name a statement that loops by design with "
                "<!-- docs: runs-forever: START -->)"
            )
    problems = list(world.problems)
    for line, expected in sorted(world.expected.items()):
        outputs = world.printed.get(line, [])
        if not outputs:
            problems.append(
                f"{world.page}:{line}: never ran, so `# prints: {expected}` is unchecked"
            )
        for output in (text.removesuffix("\n") for text in outputs):
            if not _printed_as_said(expected, output):
                problems.append(
                    f"{world.page}:{line}: printed {output!r}, the comment says {expected!r}"
                )
    if problems:
        pytest.fail("\n".join(problems))


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


def use_virtual_time(monkeypatch: pytest.MonkeyPatch, fake_time: FakeTime) -> None:
    """Make every ``sleep=time.sleep, clock=time.monotonic`` default of rekoface virtual.

    Defaults are bound when a function is defined, so patching the ``time`` module alone
    would not reach them; the ``time`` module is patched too, for code that looks
    ``time.sleep`` up when it runs.
    """
    swaps: dict[int, object] = {
        id(time.sleep): fake_time.sleep,
        id(time.monotonic): fake_time.clock,
    }
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
    monkeypatch.setattr(time, "sleep", fake_time.sleep)
    monkeypatch.setattr(time, "monotonic", fake_time.clock)


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
def world(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[DocsWorld]:
    """A fresh world for one page: moto for SNS/SQS, the fake for Rekognition."""
    page = str(request.node.callspec.params["page"])
    docs = DocsWorld(page, {"__name__": "__docs__"})
    clock = docs.time
    use_virtual_time(monkeypatch, clock)
    with mock_aws():
        fake = FakeRekognition(clock=clock.clock, job_duration=90.0, seed=zlib.crc32(page.encode()))
        fake.add_collection("employees", faces=["alice", "bob", "carol", "dave"])
        docs.on_time_passing = lambda: fake.advance(0)

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

        docs.namespace.update(
            fake=fake,
            topic_arn=topic_arn,
            role_arn="arn:aws:iam::123456789012:role/RekognitionPublishToSNS",
            queue_url=queue_url,
            store=store,
            stored=stored,
            event=_lambda_sns_event(topic_arn),
        )
        yield docs


def _runnable(path: Path) -> list[Block]:
    return [b for b in extract_blocks(path) if not b.skip]


def _page_path(page: str) -> Path:
    return ROOT / ("README.md" if page == "README.md" else f"docs/{page}")


@pytest.mark.parametrize("page", sorted(PAGES_WITH_EXAMPLES - {"README.md"}))
def test_examples_run(page: str, world: DocsWorld) -> None:
    blocks = _runnable(_page_path(page))
    assert blocks, f"{page} has no Python example left to run"
    run_blocks(blocks, world)


@pytest.mark.parametrize("page", ["README.md"])
def test_the_readme_runs_and_only_its_worker_loop_is_stopped(page: str, world: DocsWorld) -> None:
    blocks = _runnable(_page_path(page))
    run_blocks(blocks, world)
    (loop_block,) = [b for b in blocks if b.forever is not None]
    loop_line = next(
        loop_block.line + number
        for number, text in enumerate(loop_block.code.splitlines(), start=1)
        if text.startswith(str(loop_block.forever))
    )
    assert world.stopped == [loop_line]
    event_message = json.loads(world.namespace["event"]["Records"][0]["Sns"]["Message"])
    assert world.namespace["note"].job_id == event_message["JobId"]  # the Lambda line ran


def test_the_other_pages_have_no_examples_to_run() -> None:
    """A page that gains an example must be added to `PAGES_WITH_EXAMPLES`."""
    assert [p.name for p in PAGES if _runnable(p) and p.name not in PAGES_WITH_EXAMPLES] == []


def _nav_files(nav: list[Any]) -> list[str]:
    files: list[str] = []
    for entry in nav:
        values = entry.values() if isinstance(entry, dict) else [entry]
        for value in values:
            files.extend(_nav_files(value) if isinstance(value, list) else [str(value)])
    return files


def test_the_site_nav_has_every_page_and_only_pages_that_exist() -> None:
    # mkdocs comes with the dev extra; the nox matrix installs only the test tools.
    load_config = pytest.importorskip("mkdocs.config").load_config
    config = load_config(str(ROOT / "mkdocs.yml"))
    assert _nav_files(config["nav"]) == list(SITE_PAGES)
    assert sorted(p.name for p in (ROOT / "docs").glob("*.md")) == sorted(SITE_PAGES)


def test_blocks_are_found_and_marks_read(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n\n```python\nx = 1\n```\n\n<!-- skip: needs an AWS account -->\n"
        "```python\nraise SystemExit\n```\n\n```bash\necho no\n```\n\n"
        "<!-- docs: runs-forever: while True: -->\n````py\nx = 2\nwhile True: pass\n````\n",
        encoding="utf-8",
    )
    blocks = extract_blocks(page)
    assert [(b.line, b.code, b.skip, b.forever) for b in blocks] == [
        (3, "x = 1\n", False, None),
        (8, "raise SystemExit\n", True, None),
        (17, "x = 2\nwhile True: pass\n", False, "while True:"),
    ]


def test_a_runs_forever_mark_must_name_its_statement(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("<!-- docs: runs-forever -->\n```python\nx = 1\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match="say which statement runs forever"):
        extract_blocks(page)


def _run_example(code: str, forever: str | None = None) -> DocsWorld:
    """Run one example in a bare world (virtual time, no services), as the docs run."""
    world = DocsWorld("page.md", {"__name__": "__docs__"})
    world.namespace["sleep"] = world.time.sleep
    run_blocks([Block("page.md", 10, code, skip=False, forever=forever)], world)
    return world


def _fails(code: str, forever: str | None = None) -> str:
    with pytest.raises(pytest.fail.Exception) as failed:
        _run_example(code, forever)
    return str(failed.value)


def test_a_print_is_compared_with_its_comment() -> None:
    world = _run_example(
        "print(6 * 7)  # prints: 42\n"
        "for n in (1, 2):\n"
        "    print('job', n, 'done')  # prints: job ... done\n"
        "print(\n    'a', 'b'\n)  # prints: a b\n"
        "print('a long line')\n"
        "# prints: a long line\n"
    )
    assert world.printed == {
        11: ["42\n"],
        13: ["job 1 done\n", "job 2 done\n"],
        14: ["a b\n"],
        17: ["a long line\n"],
    }
    assert sorted(world.expected) == [11, 13, 14, 17]
    assert _fails("print(6 * 7)  # prints: 41\n") == (
        "page.md:11: printed '42', the comment says '41'"
    )
    assert "page.md:12: printed 'job 2 fails'" in _fails(
        "for n in (1, 2):\n"
        "    print('job', n, 'done' if n == 1 else 'fails')  # prints: job ... done\n"
    )


def test_a_checked_print_must_run_and_a_bare_value_must_be_checked() -> None:
    assert "page.md:12: never ran" in _fails("if False:\n    print(1)  # prints: 1\n")
    assert "page.md:11: write `# prints: 8`" in _fails("print(8)  # 8\n")
    assert "page.md:11: `# prints:` on a line without print" in _fails("x = 1  # prints: 1\n")
    _run_example("print(8)  # the number of attempts\n")  # a description is not a value


def test_a_try_whose_except_is_never_entered_fails() -> None:
    _run_example("try:\n    int('x')\nexcept ValueError as err:\n    assert 'x' in str(err)\n")
    assert "page.md:11: nothing in this try block raised" in _fails(
        "try:\n    int('1')\nexcept ValueError as err:\n    assert False\n"
    )
    assert "page.md:12: nothing in this try block raised" in _fails(
        "for text in ('x', '1'):\n"
        "    try:\n        int(text)\n    except ValueError:\n        pass\n"
    )
    _run_example("try:\n    n = int('1')\nexcept ValueError:\n    n = 0\nelse:\n    n += 1\n")


def test_only_the_statement_named_forever_may_run_out_of_time() -> None:
    loop = "while True:\n    sleep(60)\n"
    world = _run_example("before = 1\n" + loop + "sleep(3600)\nafter = 1\n", forever="while True:")
    assert world.stopped == [12]
    assert world.namespace["after"] == 1  # what follows the loop runs, with fresh time
    assert "still waiting after two hours" in _fails("sleep(3 * 3600)\n" + loop, "while True:")
    assert "page.md:11: marked as running until stopped, but it ended" in _fails(
        "while True:\n    break\n", forever="while True:"
    )
    assert "no statement of this block starts with" in _fails("x = 1\n", forever="while True:")


def _hooks() -> Any:
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        return importlib.import_module("_hooks")
    finally:
        sys.path.remove(str(ROOT / "docs"))


def _cells(line: str) -> list[str]:
    """The cells of a Markdown table row (``\\|`` is a bar inside a cell)."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]


def _constraint_rows() -> list[dict[str, str]]:
    """The generated constraint table, one dict per row, keyed by the column headers."""
    header, separator, *rows = _hooks().constraints_table().splitlines()
    assert set("".join(_cells(separator))) == {"-"}
    names = _cells(header)
    return [dict(zip(names, _cells(row), strict=True)) for row in rows]


@functools.cache
def _rekognition_model() -> Any:
    return botocore.session.get_session().get_service_model("rekognition")


def _model_shape(operation: str, path: str) -> Any:
    shape: Any = _rekognition_model().operation_model(operation).input_shape
    for part in path.split("."):
        shape = shape.members[part]
    return shape


def test_the_constraint_table_is_filled_in_on_its_page() -> None:
    hooks = _hooks()
    page = (ROOT / "docs" / "requests.md").read_text(encoding="utf-8")
    assert hooks.MARKER in page
    rendered = hooks.on_page_markdown(page)
    assert hooks.MARKER not in rendered
    assert hooks.constraints_table() in rendered


def test_the_constraint_table_has_a_row_per_rule_of_the_code() -> None:
    rows = {row["API path"]: row for row in _constraint_rows()}
    assert sorted(rows) == sorted(f"`{path}`" for path in CONSTRAINTS)
    for rule in CONSTRAINTS.values():
        row = rows[f"`{rule.path}`"]
        assert row["operation"] == rule.operation
        assert row["set by"], f"say where {rule.path} is set from"
        assert row["type"] == _model_shape(rule.operation, rule.path).type_name
        pattern = row["pattern (full match, ASCII)"]
        if rule.pattern is None:
            assert pattern == ""
        else:
            assert pattern.startswith("`" + rule.pattern.replace("|", "\\|") + "`")
            assert ("widened" in pattern) == (rule.path in WIDENED)
        assert row["values"] == ", ".join(f"`{value}`" for value in rule.enum or ())


BOUNDS = re.compile(r"(?:(?P<low>[0-9.]+) ≤ )?(?P<subject>length|value)(?: ≤ (?P<high>[0-9.]+))?")
FINITE = ", finite, not `bool`"


def test_the_constraint_table_shows_the_bounds_of_botocores_model() -> None:
    rows = _constraint_rows()
    bounded = 0
    for row in rows:
        shape = _model_shape(row["operation"], row["API path"].strip("`"))
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        bounds = row["bounds"]
        if shape.type_name in ("float", "double"):
            assert bounds.endswith(FINITE) or bounds == FINITE[2:], row
            bounds = bounds.removesuffix(FINITE).removesuffix(FINITE[2:])
        if low is None and high is None:
            assert bounds == "", row
            continue
        bounded += 1
        shown = BOUNDS.fullmatch(bounds)
        assert shown is not None, row
        assert shown["subject"] == ("length" if shape.type_name == "string" else "value")
        assert (None if shown["low"] is None else float(shown["low"])) == low, row
        assert (None if shown["high"] is None else float(shown["high"])) == high, row
    assert bounded >= 10  # the model bounds most of the fields: the column is not empty
