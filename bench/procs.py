"""Server subprocesses for the benchmark: start on a free loopback port, time the start-up,
read the worker's RSS, and always stop (SIGTERM, then SIGKILL) when the block exits."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
_POLL_S = 0.01
VENV_BIN = Path(sys.executable).parent
REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (``VmRSS`` in ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


@dataclass(frozen=True, slots=True)
class Server:
    name: str
    pid: int
    base_url: str
    startup_s: float  # process start → first 200 on the ready path
    log_path: Path

    def rss(self) -> int:
        return rss_bytes(self.pid)


def _log_tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "<no log>"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    # uvicorn shuts down gracefully on SIGINT/SIGTERM; its own session only (never a group
    # we did not create).
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


@contextlib.contextmanager
def serve(
    name: str,
    argv: Sequence[str],
    *,
    port: int,
    ready_path: str,
    workdir: Path,
    env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """Run ``argv`` until the block exits; yield once ``GET ready_path`` answers 200."""
    log_path = workdir / f"{name}.log"
    base_url = f"http://{HOST}:{port}"
    full_env = {**os.environ, **(env or {})}
    # A proxy from the environment must never see loopback benchmark traffic.
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        full_env.pop(key, None)
    with log_path.open("wb") as log, httpx.Client(trust_env=False, timeout=2.0) as client:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(argv), cwd=workdir, env=full_env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = started + READY_TIMEOUT_S
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n{_log_tail(log_path)}")
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"{name} not ready in {READY_TIMEOUT_S:.0f} s:\n{_log_tail(log_path)}")
                try:
                    if client.get(base_url + ready_path).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(_POLL_S)
            startup = time.perf_counter() - started
            yield Server(name, process.pid, base_url, startup, log_path)
        finally:
            _stop(process)


def uvicorn_argv(app_factory: str, port: int, log_level: str = "info") -> list[str]:
    """uvicorn with the settings ``calf-cds serve`` uses (factory, 1 worker, no proxy
    headers, the asyncio event loop)."""
    return [
        sys.executable, "-m", "uvicorn", app_factory, "--factory", "--host", HOST, "--port", str(port),
        "--workers", "1", "--log-level", log_level, "--no-proxy-headers", "--loop", "asyncio",
        "--app-dir", str(REPO_ROOT),
    ]


def calf_cds_argv(port: int) -> list[str]:
    """The service exactly as deployed: ``calf-cds serve`` (one worker)."""
    return [str(VENV_BIN / "calf-cds"), "serve", "--host", HOST, "--port", str(port), "--workers", "1"]


def calf_cds_env(workdir: Path, evaluation_time: str) -> dict[str, str]:
    return {
        "CALF_CDS_PROFILE": "dev",
        "CALF_CDS_AUTH_ENABLED": "false",
        "CALF_CDS_DATABASE_URL": f"sqlite:///{workdir / 'feedback.sqlite3'}",
        "CALF_CDS_EVALUATION_TIME": evaluation_time,
        "CALF_CDS_FHIR_ALLOWED_HOSTS": f'["{HOST}"]',
    }
