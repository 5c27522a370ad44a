"""The cards ship inside the package (issue 9): a wheel installed away from the repository
finds its catalogue, schemas and terminology, with no ``CALF_CDS_CARDS_DIR``.

The wheel is built without build isolation (offline; the test extra brings setuptools) and
installed with ``--no-deps`` into a fresh virtualenv that sees this environment's
installed dependencies through a ``.pth`` line, but not the editable checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from support import FIXTURES, ROOT, load_json

ENTRY = next(e for e in load_json(FIXTURES / "manifest.json") if len(e["expectTopics"]) >= 2)


def _run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with only the built wheel installed; returns its bin directory."""
    base = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
          "-w", str(base / "dist"), str(ROOT)])
    wheels = list((base / "dist").glob("calf_cds-*.whl"))
    assert len(wheels) == 1
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
          "--no-index", str(wheels[0])])
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # Dependencies from this environment (appended after the wheel's own site-packages; a
    # plain path line does not run this environment's editable-install hook).
    (site / "zz-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALF_CDS_")}
    env.pop("PYTHONPATH", None)
    return env


def test_the_wheel_imports_from_its_own_install(installed: Path, tmp_path: Path) -> None:
    code = ("import cds_service, cds_service.cards, cds_service.pipeline as p, cds_service.data as d;"
            "print(cds_service.__file__); print(p.DEFAULT_CARDS_DIR); print(len(d.schema('service-response')))")
    out = _run([str(installed / "python"), "-c", code], cwd=tmp_path, env=_clean_env()).stdout.splitlines()
    assert not out[0].startswith(str(ROOT)), out
    assert not out[1].startswith(str(ROOT)), out
    assert out[1].endswith("cds_service/cards")
    assert int(out[2]) > 0


def test_calf_cds_evaluate_from_a_wheel_gives_cards(installed: Path, tmp_path: Path) -> None:
    fixture = tmp_path / "patient.json"
    fixture.write_bytes((FIXTURES / ENTRY["file"]).read_bytes())
    result = _run(
        [str(installed / "calf-cds"), "evaluate", fixture.name, "--patient", ENTRY["patientId"],
         "--encounter", ENTRY["encounterId"], "--at", ENTRY["evaluationTime"]],
        cwd=tmp_path, env=_clean_env(),
    )
    topics = {c["source"]["topic"]["code"] for c in json.loads(result.stdout)["cards"]}
    assert topics == set(ENTRY["expectTopics"])
    version = _run([str(installed / "calf-cds"), "--version"], cwd=tmp_path, env=_clean_env()).stdout
    assert version.startswith("calf-cds ")
