"""HealthChain 0.16.1 (PyPI) in its own virtualenv, serving a trivial greeting handler.

The virtualenv lives under ``bench/.venv-healthchain`` (git-ignored) and is created once;
its uvicorn runs with the same options as ``calf-cds serve`` (one worker, asyncio loop, no
proxy headers). ``bench/healthchain_app.py`` is copied into a folder of its own first, so
that the bench package's modules cannot shadow the standard library's.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bench.procs import HOST, REPO_ROOT

VERSION = "0.16.1"
VENV = REPO_ROOT / "bench" / ".venv-healthchain"
HOOK_PATH = "/cds/cds-services/calf-pain-review"
READY_PATH = "/docs"


def python() -> Path:
    """The HealthChain virtualenv's interpreter, created and installed on first use."""
    exe = VENV / "bin" / "python"
    marker = VENV / f".installed-{VERSION}"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run([str(exe), "-m", "pip", "install", "-q", f"healthchain=={VERSION}", "uvicorn"], check=True)
        marker.touch()
    return exe


def argv(port: int, workdir: Path) -> list[str]:
    app_dir = workdir / "healthchain-app"
    app_dir.mkdir(exist_ok=True)
    shutil.copy(REPO_ROOT / "bench" / "healthchain_app.py", app_dir / "healthchain_app.py")
    return [
        str(python()), "-W", "ignore", "-m", "uvicorn", "healthchain_app:create_app", "--factory",
        "--host", HOST, "--port", str(port), "--workers", "1", "--log-level", "warning",
        "--no-proxy-headers", "--loop", "asyncio", "--app-dir", str(app_dir),
    ]
