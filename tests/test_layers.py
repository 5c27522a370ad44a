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
