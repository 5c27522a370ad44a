"""The package type-checks (mypy): typed throughout is house style, held in CI."""

import subprocess
import sys

from support import ROOT


def test_mypy_passes_on_the_package() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "cds_service"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
