"""``calf-cds serve --workers 2`` as deployed: metrics add up across workers, every worker
logs JSON lines with the request id, a client that hangs up mid-body costs one INFO line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from metrics_support import samples
from support import patient_view

WORKERS = 2


@dataclass(frozen=True)
class Served:
    base: str
    port: int
    log: Path
    metrics_dir: Path
    pid: int

    def log_lines(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if line.strip()]

    def wait_for_log(self, needle: str, count: int = 1, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in self.log_lines() if needle in line]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("serve")
    metrics_dir = root / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"stale samples of an earlier run")
    port = _free_port()
    env = {**{k: v for k, v in os.environ.items() if k != "MALLOC_MMAP_THRESHOLD_"},
           "CALF_CDS_DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
           "CALF_CDS_PROFILE": "dev", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
           "CALF_CDS_LOG_FORMAT": "json"}
    log = root / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cds_service", "serve", "--port", str(port), "--workers", str(WORKERS)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/readyz", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                assert process.poll() is None, log.read_text()
            time.sleep(0.2)
        else:
            pytest.fail("service did not become ready:\n" + log.read_text())
        yield Served(base, port, log, metrics_dir, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _pids_with_samples(metrics_dir: Path) -> set[str]:
    return {p.stem.rsplit("_", 1)[1] for p in metrics_dir.glob("histogram_*.db")}


def test_metrics_add_up_across_workers(served: Served) -> None:
    assert not (served.metrics_dir / "counter_999999.db").exists(), "stale samples are removed at start"
    sent = 0
    # New connection per request; keep going until both workers have answered some.
    while sent < 400 and (sent < 20 or len(_pids_with_samples(served.metrics_dir)) < WORKERS):
        response = httpx.get(served.base + "/cds-services", headers={"Connection": "close"}, trust_env=False)
        assert response.status_code == 200
        sent += 1
    assert len(_pids_with_samples(served.metrics_dir)) >= WORKERS
    text = httpx.get(served.base + "/metrics", trust_env=False).text
    assert samples(text, "calf_cds_request_duration_seconds_count", endpoint="discovery", status="200") == sent


def test_every_worker_logs_json_lines_with_the_request_id(served: Served) -> None:
    ids = [f"worker-log-{n}" for n in range(12)]
    for request_id in ids:
        response = httpx.post(served.base + "/cds-services/calf-pain-review", json=patient_view("p-HIDDEN-7"),
                              headers={"X-Request-ID": request_id, "Connection": "close"}, trust_env=False)
        assert response.status_code == 412
        assert response.headers["x-request-id"] == request_id
    served.wait_for_log('"worker-log-11"', count=2)
    lines = [json.loads(line) for line in served.log_lines()]  # every line is JSON, start-up included
    for request_id in ids:
        mine = [line for line in lines if line["request_id"] == request_id]
        assert any(line["message"].startswith("412 precondition failed") for line in mine), request_id
        assert any(line["logger"] == "cds_service.access" and line["status"] == 412 for line in mine)
    assert any(line["logger"].startswith("uvicorn") for line in lines)
    assert "p-HIDDEN-7" not in served.log.read_text()


def test_a_client_hanging_up_mid_body_is_one_info_line(served: Served) -> None:
    before = len(served.wait_for_log("client disconnected", count=0, timeout=0))
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", served.port)) as raw:
            raw.sendall(b"POST /cds-services/calf-pain-review HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
                        b'{"hook": "patient-view", "context": {')
            time.sleep(0.2)  # the handler is reading the body when the client goes
    found = served.wait_for_log("client disconnected", count=before + 3)
    assert len(found) == before + 3
    for line in found:
        assert json.loads(line)["level"] == "INFO"
    text = served.log.read_text()
    assert "Traceback" not in text
    assert not [line for line in served.log_lines() if json.loads(line)["level"] in ("ERROR", "CRITICAL")]
    # The service is still fine afterwards.
    assert httpx.get(served.base + "/healthz", trust_env=False).status_code == 200


def _worker_pids(parent: int) -> list[int]:
    """The uvicorn worker processes (multiprocessing spawn children) of ``parent``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"spawn_main" in cmdline:
            pids.append(int(entry.name))
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc allocator setting")
def test_every_worker_starts_with_the_fixed_mmap_threshold(served: Served) -> None:
    """glibc reads MALLOC_MMAP_THRESHOLD_ when a process's allocator starts: every spawned
    worker must have it in its own start-up environment (not only the supervisor's mallopt)."""
    workers = _worker_pids(served.pid)
    assert len(workers) == WORKERS
    for pid in workers:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert b"MALLOC_MMAP_THRESHOLD_=262144" in environ, pid
