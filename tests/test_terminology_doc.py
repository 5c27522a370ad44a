"""docs/terminology.md is generated from the committed data (issue 7 §1 coverage report).

The generator reads only repository files (terminology.json and the committed summary of
the codes third-party charts carry), so the check runs on a clone alone."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_terminology_doc",
                                                  ROOT / "tools" / "gen_terminology_doc.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_committed_doc_is_current(gen: ModuleType) -> None:
    assert (ROOT / "docs" / "terminology.md").read_text() == gen.render(), (
        "docs/terminology.md is stale: run `make terminology` (or tools/gen_terminology_doc.py)")


def test_generation_is_deterministic(gen: ModuleType) -> None:
    assert gen.render() == gen.render()


def test_doc_lists_sources_size_and_real_data_per_group(gen: ModuleType) -> None:
    text = gen.render()
    doc = json.loads((ROOT / "cds_service" / "data" / "terminology.json").read_text())
    for section in ("conditions", "procedures", "labs"):
        for name in doc[section]:
            block = text.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
            assert "Size:" in block and "Sources:" in block, name
            assert "Real data (`shared/patients`):" in block, name
    pad = text.split("### `pad`", 1)[1].split("\n### ", 1)[0]
    assert "I25.10" in pad and "excluded" in pad.lower()  # the exclusion is shown


def test_real_data_codes_fall_in_or_out(gen: ModuleType, tmp_path: Path) -> None:
    """A sample of real-data codes (copied here) is reported in, excluded, or near-miss."""
    sample = {"codes": [
        {"kind": "condition", "system": "sct", "code": "60389000",
         "display": "Paraplegia (disorder)", "files": 1},
        {"kind": "condition", "system": "icd10cm", "code": "I25.10",
         "display": "Atherosclerotic heart disease of native coronary artery", "files": 2},
        {"kind": "condition", "system": "sct", "code": "712883005",
         "display": "Autonomic neuropathy due to type 2 diabetes mellitus (disorder)", "files": 1},
    ]}
    path = tmp_path / "codes.json"
    path.write_text(json.dumps(sample))
    text = gen.render(patients=path)
    assert text == gen.render(patients=path)
    block = lambda name: text.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]  # noqa: E731
    assert "- in: SNOMED CT 60389000 Paraplegia (disorder) (1 file)" in block("immobility")
    assert "ICD-10-CM I25.10 Atherosclerotic heart disease of native coronary artery " \
           "(2 files): excluded by the rule" in block("pad")
    assert "SNOMED CT 712883005" in block("diabetic-neuropathy").split("- out:", 1)[1]
