"""Import direction (docs: web → orchestration → domain → leaves): the clinical domain,
terminology and card catalogue never import the web framework, HTTP clients or the API."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from support import ROOT

PACKAGE = ROOT / "cds_service"
DOMAIN = [
    *sorted((PACKAGE / "clinical").rglob("*.py")),
    *sorted((PACKAGE / "terminology").rglob("*.py")),
    PACKAGE / "catalog.py",
    PACKAGE / "record.py",
    PACKAGE / "config.py",
    PACKAGE / "errors.py",
]
FORBIDDEN = ("fastapi", "starlette", "httpx", "uvicorn", "sqlalchemy", "cds_service.api", "cds_service.app")


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: resolve against the file's package
                parts = path.relative_to(ROOT).with_suffix("").parts[: -node.level]
                module = ".".join((*parts, module)) if module else ".".join(parts)
            names.add(module)
    return names


@pytest.mark.parametrize("path", DOMAIN, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_domain_modules_stay_below_the_web_layer(path: Path) -> None:
    bad = {n for n in imports(path) if n.startswith(FORBIDDEN)}
    assert not bad, f"{path.name} imports {sorted(bad)}"


TERMINOLOGY = sorted((PACKAGE / "terminology").rglob("*.py"))


@pytest.mark.parametrize("path", [*TERMINOLOGY, PACKAGE / "vocabulary.py"], ids=lambda p: str(p.relative_to(PACKAGE)))
def test_terminology_sits_below_the_rules(path: Path) -> None:
    # The group names live in the leaf module cds_service.vocabulary: terminology imports
    # nothing of clinical/ (issue 7, "Shape of the code"); vocabulary imports nothing at all.
    bad = {n for n in imports(path) if n.startswith("cds_service.clinical")}
    assert not bad, f"{path.name} imports {sorted(bad)}"
    if path.name == "vocabulary.py":
        assert not {n for n in imports(path) if n.startswith("cds_service")}


def test_extraction_is_split_by_resource_kind() -> None:
    package = PACKAGE / "clinical" / "extract"
    assert {p.stem for p in package.glob("*.py")} >= {"medications", "labs", "conditions", "procedures"}
    for path in package.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 300, path.name
