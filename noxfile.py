"""nox sessions: the Python 3.10-3.13 matrix, lowest dependencies, aiobotocore, typing, docs, wheel.

``bash .ci/run`` runs them all; run one with ``nox -s tests-3.12`` (``nox -l`` lists them).
Interpreters come from pyenv: every ``$PYENV_ROOT/versions/3.1x.y/bin`` is put on PATH,
so ``python3.10`` and friends resolve without shims. A missing interpreter is an error,
never a skip. Virtual environments are made with uv when it is installed (the dev extra
has it), else with virtualenv; the ``lowest`` session needs uv.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

nox.needs_version = ">=2024.4.15"
nox.options.error_on_missing_interpreters = True  # a missing Python fails the run
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "no"
nox.options.sessions = ["tests", "lowest", "aiobotocore", "typing", "docs", "wheel"]

# Tests never ask the instance-metadata address, and never touch a real profile.
ENV = {"AWS_EC2_METADATA_DISABLED": "true", "PYTHONDONTWRITEBYTECODE": "1"}


def _pyenv_pythons_on_path() -> None:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = [
        str(root / name / "bin")
        for name in sorted(os.listdir(root) if root.is_dir() else [])
        if any(name.startswith(f"{v}.") for v in PYTHONS)
    ]
    path = os.environ.get("PATH", "").split(os.pathsep)
    os.environ["PATH"] = os.pathsep.join([*path, *(d for d in found if d not in path)])


_pyenv_pythons_on_path()
# uv must use the interpreters on this machine, never download one in their place.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
os.environ.setdefault("UV_PYTHON_PREFERENCE", "only-system")


def _dev_requirements(*names: str) -> list[str]:
    """The dev extra's requirements for `names`, so versions are declared in one place."""
    extra = nox.project.load_toml(ROOT / "pyproject.toml")["project"]["optional-dependencies"]
    wanted = {n.lower() for n in names}
    picked = [
        req
        for req in extra["dev"]
        if req.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower() in wanted
    ]
    missing = wanted - {
        r.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower() for r in picked
    }
    if missing:
        raise ValueError(f"not in the dev extra of pyproject.toml: {sorted(missing)}")
    return picked


TEST_TOOLS = ("pytest", "pytest-xdist", "hypothesis", "moto")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite on one Python (no coverage: .ci/run measures it once).

    The valgrind test (the benchmarks' instruction counting, half a minute of CPU) runs in
    .ci/run's own pytest only: what it checks does not depend on the Python.
    """
    session.install("-e", ".", *_dev_requirements(*TEST_TOOLS))
    session.run(
        "pytest",
        "-q",
        "-x",
        "-p",
        "no:cacheprovider",
        "-m",
        "not valgrind",
        *session.posargs,
        env=ENV,
    )


@nox.session(python=PYTHONS[0], venv_backend="uv")
def lowest(session: nox.Session) -> None:
    """The tests with the lowest versions of the runtime dependencies pyproject.toml allows.

    ``--resolution lowest-direct`` picks the lowest version of each direct dependency
    (boto3, botocore, attrs, tenacity, mypy-boto3-rekognition); the test tools are then
    installed with those versions pinned, so nothing upgrades them.
    """
    session.install("--resolution", "lowest-direct", "-e", ".")
    pins = ROOT / ".nox" / "lowest-pins.txt"
    frozen = session.run("uv", "pip", "freeze", silent=True, external=True)
    if not isinstance(frozen, str):
        session.error("uv pip freeze printed nothing")
    pinned = [line for line in frozen.splitlines() if "==" in line and line[0].isalnum()]
    pins.write_text("\n".join(pinned) + "\n")
    session.log("installed with the lowest direct dependencies: " + ", ".join(pinned))
    session.install("-c", str(pins), *_dev_requirements(*TEST_TOOLS))
    session.run("uv", "pip", "check", external=True)
    session.run("pytest", "-q", "-x", "-p", "no:cacheprovider", *session.posargs, env=ENV)


@nox.session(python=PYTHONS[2])
def aiobotocore(session: nox.Session) -> None:
    """The asyncio tests with the extra ``rekoface[aiobotocore]``, under aiobotocore's own pin.

    aiobotocore pins botocore (and so boto3) to a narrow window, so it gets its own
    environment instead of the dev one. Here a missing aiobotocore fails the native
    tests instead of skipping them.
    """
    session.install("-e", ".[aiobotocore]", *_dev_requirements(*TEST_TOOLS))
    session.run("uv", "pip", "check", external=True)
    tests = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_aio*.py"))
    env = {**ENV, "REKOFACE_REQUIRE_AIOBOTOCORE": "1"}
    session.run("pytest", "-q", "-x", "-p", "no:cacheprovider", *tests, *session.posargs, env=env)


@nox.session(python=PYTHONS[1])
def typing(session: nox.Session) -> None:
    """pyright (strict) and mypy (strict) on the package and the typing tests."""
    session.install(
        "-e",
        ".",
        *_dev_requirements("mypy", "pyright", "boto3-stubs", "botocore-stubs", "pytest", "moto"),
    )
    session.run("pyright", "--pythonpath", _python(session), env=ENV)
    session.run("mypy", "--strict", "rekoface", "tests/typing", env=ENV)


def _python(session: nox.Session) -> str:
    """The session's interpreter (pyright resolves imports in the session's venv with it)."""
    return str(Path(session.bin) / "python")


@nox.session(python=PYTHONS[1])
def docs(session: nox.Session) -> None:
    """The documentation site, with warnings as errors (the examples run in the tests)."""
    session.install("-e", ".", *_dev_requirements("mkdocs-material", "mkdocstrings"))
    site = ROOT / ".nox" / "site"
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", str(site), env={"NO_MKDOCS_2_WARNING": "1"}
    )


@nox.session(python=PYTHONS[1])
def wheel(session: nox.Session) -> None:
    """Build sdist and wheel, check them, and run the wheel installed alone in a fresh venv."""
    dist = ROOT / ".nox" / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.install(*_dev_requirements("build", "twine"))
    session.run("python", "-m", "build", "--outdir", str(dist))
    built = sorted(str(p) for p in dist.iterdir())
    session.run("twine", "check", "--strict", *built)
    (wheel_file,) = (p for p in built if p.endswith(".whl"))
    with zipfile.ZipFile(wheel_file) as archive:
        names = set(archive.namelist())
    if "rekoface/py.typed" not in names:
        session.error("the wheel has no rekoface/py.typed")

    # The wheel and its declared dependencies only, run from outside the source tree.
    venv = ROOT / ".nox" / "wheel-only"
    shutil.rmtree(venv, ignore_errors=True)
    session.run("uv", "venv", "--quiet", "--python", _python(session), str(venv), external=True)
    python = str(venv / "bin" / "python")
    session.run("uv", "pip", "install", "--python", python, wheel_file, external=True)
    alone = {**ENV, "PYTHONSAFEPATH": "1", "PYTHONPATH": ""}
    with session.chdir(venv):
        session.run(
            python, "-c", "import rekoface; print(rekoface.__file__)", env=alone, external=True
        )
        session.run(str(venv / "bin" / "rekoface"), "demo", env=alone, external=True)
