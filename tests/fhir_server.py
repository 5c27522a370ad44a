"""A real FHIR R4 server (sekmet-fhir) for tests that exercise the service's FHIR fallback fetch.

`start_fhir_server` runs `sekmet serve` in a subprocess on a free loopback port with an in-memory
database, static bearer-token auth and no workflow simulator, waits until `GET [base]/metadata`
answers, and stops the process on exit. The session-scoped `fhir_server` fixture wraps it; tests
put data in with `load_bundle` (a transaction Bundle from `fixtures/`).

What the server supports and how it answers is written up in docs/fhir-test-server.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIXTURES_DIR = PROJECT_ROOT / "fixtures"
FHIR_JSON = "application/fhir+json"

STARTUP_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = 10.0
_POLL_INTERVAL_S = 0.1
_PORT_ATTEMPTS = 3
_LOG_TAIL_CHARS = 4000
# The user's environment must not redirect the test server (sekmet.config.load_settings reads these).
_SEKMET_ENV_OVERRIDES = ("SEKMET_CONFIG", "SEKMET_BASE_URL", "SEKMET_DB", "SEKMET_PUBLIC_URL", "SEKMET_PORT")


class FhirServerStartError(RuntimeError):
    """The sekmet server did not answer `GET [base]/metadata` in time, or exited early."""


@dataclass(frozen=True)
class FhirTestServer:
    """A running test FHIR server: where it listens and the bearer token it accepts."""

    base_url: str
    token: str
    log_path: Path
    pid: int

    @property
    def auth_headers(self) -> dict[str, str]:
        """Headers a client needs to be let in (sekmet answers 401 without them)."""
        return {"Authorization": f"Bearer {self.token}", "Accept": FHIR_JSON}

    def client(self, *, authenticated: bool = True, timeout: float = 10.0) -> httpx.Client:
        """A synchronous httpx client rooted at the FHIR base; the caller closes it."""
        headers = self.auth_headers if authenticated else {"Accept": FHIR_JSON}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, trust_env=False)


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _sekmet_executable() -> str:
    """The `sekmet` console script of the interpreter running pytest (the project venv)."""
    candidates = [Path(sysconfig.get_path("scripts")) / "sekmet", Path(sys.executable).with_name("sekmet")]
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    raise FhirServerStartError("sekmet-fhir is not installed in this environment (no `sekmet` script found)")


def _write_config(workdir: Path, port: int, token: str, overrides: Mapping[str, Any]) -> Path:
    base_url = f"http://127.0.0.1:{port}/fhir"
    config: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        # base_url is what sekmet writes into Location headers, fullUrls and paging links.
        "base_url": base_url,
        "db_path": ":memory:",
        # Keep every file sekmet might create inside the per-session temp dir.
        "data_dir": str(workdir / "data"),
        "own_private_key_path": str(workdir / "keys" / "sekmet_private.pem"),
        # The simulator reacts to writes (e.g. dispenses a MedicationRequest): fixtures must stay as loaded.
        "simulator": {"enabled": False},
        "server_auth": {"types": ["bearer"], "tokens": [token]},
        "log_inbound": False,
    }
    config.update(overrides)
    path = workdir / "sekmet.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _log_tail(log_path: Path) -> str:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return "<no server log>"
    return text[-_LOG_TAIL_CHARS:] or "<server log is empty>"


def _metadata_ok(base_url: str) -> bool:
    try:
        # trust_env=False: a proxy from the environment must not intercept loopback traffic.
        return httpx.get(f"{base_url}/metadata", timeout=2.0, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=SHUTDOWN_TIMEOUT_S)


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str, timeout: float) -> bool:
    """True once metadata answers; False if the process exited first; raises on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if _metadata_ok(base_url):
            return True
        time.sleep(_POLL_INTERVAL_S)
    raise TimeoutError


@contextlib.contextmanager
def start_fhir_server(
    workdir: Path,
    *,
    token: str | None = None,
    timeout: float = STARTUP_TIMEOUT_S,
    settings_overrides: Mapping[str, Any] | None = None,
) -> Iterator[FhirTestServer]:
    """Run `sekmet serve` on a free loopback port until the block exits.

    `settings_overrides` replaces top-level keys of the generated sekmet settings, e.g.
    `{"server_behaviour": {"absolute_references": True}}` to test a client against absolute
    references in responses.

    The port is picked by binding port 0 and releasing it, so another process can grab it in
    between; when the server exits early because its port is taken, a new port is tried.
    Raises FhirServerStartError (with the server log's tail) if it never becomes ready.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    token = token or secrets.token_urlsafe(24)
    env = {k: v for k, v in os.environ.items() if k not in _SEKMET_ENV_OVERRIDES}
    executable = _sekmet_executable()
    for attempt in range(1, _PORT_ATTEMPTS + 1):
        port = _free_loopback_port()
        config_path = _write_config(workdir, port, token, settings_overrides or {})
        log_path = workdir / f"sekmet-{attempt}.log"
        base_url = f"http://127.0.0.1:{port}/fhir"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [executable, "serve", "--config", str(config_path)],
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            try:
                ready = _wait_until_ready(process, base_url, timeout)
            except TimeoutError:
                raise FhirServerStartError(
                    f"sekmet did not answer GET {base_url}/metadata within {timeout:.0f} s.\n"
                    f"Server log tail ({log_path}):\n{_log_tail(log_path)}"
                ) from None
            if not ready:
                tail = _log_tail(log_path)
                if "address already in use" in tail.lower() and attempt < _PORT_ATTEMPTS:
                    continue
                raise FhirServerStartError(
                    f"sekmet exited with code {process.returncode} before answering GET {base_url}/metadata.\n"
                    f"Server log tail ({log_path}):\n{tail}"
                )
            yield FhirTestServer(base_url=base_url, token=token, log_path=log_path, pid=process.pid)
            return
        finally:
            _stop(process)
    raise FhirServerStartError("unreachable: no start attempt left")  # pragma: no cover


def post_transaction(server: FhirTestServer, bundle: dict[str, Any]) -> dict[str, Any]:
    """POST a transaction Bundle to the server root and return the transaction-response Bundle.

    Entries with `request: {method: PUT, url: Type/id}` keep their ids; sekmet assigns new ids to
    POST entries, so fixtures use PUT. Raises AssertionError with the OperationOutcome on failure
    (sekmet rolls the whole transaction back).
    """
    response = httpx.post(
        server.base_url,
        content=json.dumps(bundle).encode(),
        headers={**server.auth_headers, "Content-Type": FHIR_JSON},
        timeout=30.0,
        trust_env=False,
    )
    if response.status_code != 200:
        raise AssertionError(f"transaction rejected with HTTP {response.status_code}: {response.text[:2000]}")
    result: dict[str, Any] = response.json()
    return result


def load_bundle(server: FhirTestServer, path: str | Path) -> dict[str, Any]:
    """Load a transaction Bundle file (absolute, or relative to `fixtures/`) into the server."""
    file = Path(path)
    if not file.is_absolute():
        file = FIXTURES_DIR / file
    bundle: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    return post_transaction(server, bundle)


@pytest.fixture(scope="session")
def fhir_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirTestServer]:
    """One sekmet FHIR R4 server for the whole test session (empty; tests load what they need)."""
    with start_fhir_server(tmp_path_factory.mktemp("sekmet")) as server:
        yield server
