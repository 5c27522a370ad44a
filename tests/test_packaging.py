"""Packaging (issue 9): a hashed lockfile covering pyproject's dependencies, and a Dockerfile
that installs from it, pinned by digest, with a HEALTHCHECK and a tight build context.

No Docker engine runs here, so the Dockerfile's structure is what is checked.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from support import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def parse_lock(path: Path) -> dict[str, tuple[str, list[str]]]:
    """``name -> (version, hashes)`` from a ``--generate-hashes`` requirements file."""
    text = re.sub(r"\\\n", " ", path.read_text())  # join continuation lines
    pins: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"^([A-Za-z0-9._-]+)==([^\s;]+)(?:\s*;[^-]*)?\s*(.*)$", line)
        assert match, f"{path.name}: not an exact pin: {line!r}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", match.group(3))
        pins[canonicalize_name(match.group(1))] = (match.group(2), hashes)
    return pins


RUNTIME = parse_lock(ROOT / "requirements.lock")
BUILD = parse_lock(ROOT / "requirements-build.lock")


@pytest.mark.parametrize("line", PYPROJECT["project"]["dependencies"])
def test_the_lock_covers_every_runtime_dependency(line: str) -> None:
    requirement = Requirement(line)
    name = canonicalize_name(requirement.name)
    assert name in RUNTIME, f"{name} is not in requirements.lock: run `make lock`"
    version, _ = RUNTIME[name]
    assert requirement.specifier.contains(version, prereleases=True), (
        f"requirements.lock pins {name}=={version}, outside {requirement.specifier}: run `make lock`")


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-build.lock"])
def test_every_pin_carries_hashes(lock: str) -> None:
    pins = parse_lock(ROOT / lock)
    assert pins
    unhashed = [name for name, (_, hashes) in pins.items() if not hashes]
    assert not unhashed


def test_the_build_lock_satisfies_the_build_backend() -> None:
    for line in PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(line)
        version, _ = BUILD[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(version)


def test_test_tools_stay_out_of_the_runtime_lock() -> None:
    for tool in ("pytest", "mypy", "respx", "sekmet-fhir"):
        assert canonicalize_name(tool) not in RUNTIME


def instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def test_the_base_image_is_pinned_by_digest_with_its_source_cited() -> None:
    froms = [rest for keyword, rest in instructions() if keyword == "FROM"]
    assert len(froms) == 1
    match = re.fullmatch(r"python:3\.11-slim(?:-bookworm)?@sha256:([0-9a-f]{64})", froms[0])
    assert match, froms[0]
    head = DOCKERFILE.split("\nFROM ", 1)[0]
    assert match.group(1) in head and "https://" in head  # where the digest was published


def test_dependencies_are_installed_from_the_lock_with_hashes_required() -> None:
    runs = [rest for keyword, rest in instructions() if keyword == "RUN"]
    installs = [shlex.split(r) for r in runs if r.startswith("pip install")]
    locked = next(a for a in installs if "--require-hashes" in a)
    assert "requirements.lock" in " ".join(locked) and "--no-deps" in locked
    project = next(a for a in installs if a is not locked)
    assert "--no-deps" in project  # the service itself resolves nothing


def test_healthcheck_user_and_settings() -> None:
    steps = instructions()
    health = [rest for keyword, rest in steps if keyword == "HEALTHCHECK"]
    assert len(health) == 1 and "/healthz" in health[0] and "CMD" in health[0]
    users = [rest for keyword, rest in steps if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert "CALF_CDS_CARDS_DIR" not in DOCKERFILE  # the cards ship inside the package
    assert steps[-1][0] == "CMD"


def test_the_build_context_holds_exactly_what_is_copied() -> None:
    sources: set[str] = set()
    for keyword, rest in instructions():
        if keyword == "COPY":
            words = [w for w in shlex.split(rest) if not w.startswith("--")]
            sources.update(words[:-1])
    for source in sources:
        assert (ROOT / source).exists(), source
    ignore = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*"  # everything else (.venv, .git, var/, tests, logs) stays out
    assert {line[1:] for line in ignore if line.startswith("!")} == sources
