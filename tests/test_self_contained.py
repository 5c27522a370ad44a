"""The repository alone is enough to run the suite (issue 9): nothing is read from beside it.

A clone used to fail with three collection errors because tests read a sibling folder that
only lay next to the checkout on the build machine. Two guards:

* no file under ``tests/`` or ``cds_service/`` names that folder as a path;
* the files git would commit, copied alone into an empty temporary folder, collect the
  whole suite and pass the tests that read vectors and schemas.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT

# Built from pieces so this file does not match itself.
_SHARED = "sha" + "red"
FORBIDDEN = re.compile(
    "|".join(
        [
            r"/work/" + _SHARED + r"\b",  # the absolute path
            r"\.\./" + _SHARED + r"\b",  # a path relative to the checkout
            r"/\s*[\"']" + _SHARED + r"[\"']",  # a pathlib join: ROOT.parent / "…"
            _SHARED + r"/cds-hooks-examples",  # the folder the vectors came from
        ]
    )
)
SCANNED = ("tests", "cds_service")


def _text_files(folder: Path) -> list[Path]:
    skip = {"__pycache__", ".mypy_cache", ".pytest_cache"}
    return [
        p for p in sorted(folder.rglob("*"))
        if p.is_file() and not skip & set(p.parts) and p.suffix not in {".pyc", ".sqlite3"}
    ]


def test_forbidden_pattern_matches_the_old_references() -> None:
    for old in (
        'Path("/work/' + _SHARED + '/cds-hooks-examples")',
        'ROOT.parent / "' + _SHARED + '"',
        "(see ``../" + _SHARED + "/reference/clinical.md``)",
    ):
        assert FORBIDDEN.search(old), old
    assert not FORBIDDEN.search("a " + _SHARED + " connection; shared helpers")


@pytest.mark.parametrize("folder", SCANNED)
def test_no_file_names_the_folder_beside_the_repository(folder: str) -> None:
    offenders = []
    for path in _text_files(ROOT / folder):
        if path == Path(__file__).resolve():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if FORBIDDEN.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not offenders, "read test data from tests/vectors or cds_service/data instead:\n" + "\n".join(offenders)


def _repository_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the clone check needs git to list the repository's files")
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True, capture_output=True,
    ).stdout.decode().split("\0")
    return [name for name in listed if name and (ROOT / name).is_file()]


def test_the_repository_alone_collects_and_passes_the_vector_tests(tmp_path: Path) -> None:
    alone = tmp_path / "nothing-beside" / "calf-cds"
    for name in _repository_files():
        target = alone / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    assert sorted(p.name for p in alone.parent.iterdir()) == ["calf-cds"]
    # The copy's package shadows the installed (editable) one.
    env = {**os.environ, "PYTHONPATH": str(alone)}
    env.pop("CALF_CDS_TEST_REQUIRE_SERVERS", None)
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    collected = subprocess.run(
        [*base, "--collect-only"], cwd=alone, env=env, capture_output=True, text=True, timeout=300
    )
    assert collected.returncode == 0, collected.stdout[-4000:] + collected.stderr[-2000:]
    assert "error" not in collected.stdout.splitlines()[-1].lower(), collected.stdout[-4000:]
    ran = subprocess.run(
        [*base, "tests/test_spec_vectors.py", "tests/test_catalog.py", "tests/test_auth.py"],
        cwd=alone, env=env, capture_output=True, text=True, timeout=300,
    )
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    assert " passed" in ran.stdout.splitlines()[-1]


def test_ci_runs_the_readme_command_in_a_fresh_clone() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    lines = [line.strip() for line in script.splitlines()]
    clone = next(i for i, line in enumerate(lines) if line.startswith("git clone"))
    enter = next(i for i, line in enumerate(lines) if line.startswith('cd "$workdir/calf-cds"'))
    assert "mktemp -d" in script and clone < enter < len(lines) - 1
    assert "cd " not in "\n".join(lines[enter + 1:])  # the README command runs in the clone
    for package in ("postgresql", "redis-server", "haproxy"):
        assert package in script
    assert "export CALF_CDS_TEST_REQUIRE_SERVERS=1" in script


def test_the_package_ships_the_schemas() -> None:
    from jsonschema import Draft202012Validator

    from cds_service.data import SCHEMA_NAMES, schema

    on_disk = sorted(p.name.removesuffix(".schema.json") for p in (ROOT / "cds_service/data/schemas").glob("*.json"))
    assert on_disk == sorted(SCHEMA_NAMES)
    for name in SCHEMA_NAMES:
        Draft202012Validator.check_schema(schema(name))
    Draft202012Validator(schema("service-response")).validate({"cards": []})
    with pytest.raises(KeyError):
        schema("../terminology")
