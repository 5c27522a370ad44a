"""Connection hygiene of ``calf-cds serve`` (issue 8 holes 1 and 5), against the real
server in a subprocess on a free loopback port, with raw sockets.

Bounds are the configured timeouts plus a generous margin: these tests check that a
slow or idle client is cut off at all, not how fast the server is.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

HEADER_TIMEOUT_S = 1.0
BODY_TIMEOUT_S = 2.0
MARGIN_S = 3.0
MAX_HEADER_BYTES = 8192


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    tmp = tmp_path_factory.mktemp("served")
    port = _free_port()
    log_path = tmp / "server.log"
    env = {
        **os.environ,
        "CALF_CDS_DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "CALF_CDS_PROFILE": "dev",
        "CALF_CDS_SERVER_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
        "CALF_CDS_SERVER_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S),
        "CALF_CDS_SERVER_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
        "CALF_CDS_SERVER_MAX_CONCURRENT_REQUESTS": "2",
        "CALF_CDS_SERVER_RETRY_AFTER_S": "3",
        "CALF_CDS_SERVER_MAX_CONNECTIONS": "40",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cds_service", "serve", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/cds-services", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError(log_path.read_text()[-3000:])
        yield port, log_path
    finally:
        process.terminate()
        process.wait(timeout=10)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=HEADER_TIMEOUT_S + MARGIN_S)
    return sock


def read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started = time.monotonic()
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data, time.monotonic() - started


def test_idle_connection_is_closed_after_the_header_timeout(server: tuple[int, Path]) -> None:
    with connect(server[0]) as sock:
        data, elapsed = read_until_closed(sock)
    assert elapsed < HEADER_TIMEOUT_S + MARGIN_S
    assert data.startswith(b"HTTP/1.1 408")


def test_partial_header_line_is_cut_off(server: tuple[int, Path]) -> None:
    with connect(server[0]) as sock:
        sock.sendall(b"POST /cds-services/calf-pain-review HTTP/1.1\r\nHost: x\r\nX-Slow: a")
        data, elapsed = read_until_closed(sock)
    assert elapsed < HEADER_TIMEOUT_S + MARGIN_S
    assert data.startswith(b"HTTP/1.1 408")


def test_partial_body_is_cut_off_and_logged_without_traceback(server: tuple[int, Path]) -> None:
    port, log_path = server
    with socket.create_connection(("127.0.0.1", port), timeout=BODY_TIMEOUT_S + MARGIN_S) as sock:
        sock.sendall(
            b"POST /cds-services/calf-pain-review HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"hook\":"
        )
        _, elapsed = read_until_closed(sock)
    assert elapsed < BODY_TIMEOUT_S + MARGIN_S
    time.sleep(0.3)
    log = log_path.read_text()
    assert "request body not complete in time" in log
    assert "Traceback" not in log


def test_oversized_header_is_refused(server: tuple[int, Path]) -> None:
    with connect(server[0]) as sock:
        try:
            sock.sendall(b"GET /cds-services HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEADER_BYTES * 4))
            sock.sendall(b"\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        data, _ = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 400")


def test_bad_fhir_server_url_does_not_reset_the_connection(server: tuple[int, Path]) -> None:
    """Hole 1: the answer is a 400 and the same keep-alive connection keeps working."""
    connection = http.client.HTTPConnection("127.0.0.1", server[0], timeout=10)
    for url in ("http://localhost:abc/fhir", "http://localhost:1:2/fhir", "http://localhost:99999/fhir"):
        body = {"hook": "patient-view", "hookInstance": "h1", "fhirServer": url,
                "context": {"userId": "Practitioner/a", "patientId": "p1"}}
        connection.request("POST", "/cds-services/calf-pain-review", body=json.dumps(body),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = json.loads(response.read())
        assert response.status == 400 and payload["resourceType"] == "OperationOutcome"
        connection.request("GET", "/cds-services")
        follow_up = connection.getresponse()
        follow_up.read()
        assert follow_up.status == 200
    connection.close()


def test_requests_over_the_concurrency_limit_get_503_with_retry_after(server: tuple[int, Path]) -> None:
    port = server[0]
    holders = []
    try:
        for _ in range(2):  # two requests in progress: heads sent, bodies still coming
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(
                b"POST /cds-services/calf-pain-review HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{"
            )
            holders.append(sock)
        time.sleep(0.3)
        response = httpx.get(f"http://127.0.0.1:{port}/cds-services", timeout=5, trust_env=False)
    finally:
        for sock in holders:
            sock.close()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "3"
    assert response.json()["resourceType"] == "OperationOutcome"


def test_many_headers_over_the_limit_get_an_operation_outcome(server: tuple[int, Path]) -> None:
    """The limit counts the whole head (request line and every header), not one line."""
    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(MAX_HEADER_BYTES // 100 + 10))
    with connect(server[0]) as sock:
        try:
            sock.sendall(b"GET /cds-services HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        data, _ = read_until_closed(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    outcome = json.loads(body)
    assert outcome["resourceType"] == "OperationOutcome"
    assert str(MAX_HEADER_BYTES) in outcome["issue"][0]["diagnostics"]


def test_an_endless_header_line_is_refused_without_waiting_for_its_end(server: tuple[int, Path]) -> None:
    """A head that never ends is cut off once it passes the limit, not buffered until the
    header timeout."""
    with connect(server[0]) as sock:
        started = time.monotonic()
        try:
            sock.sendall(b"GET /cds-services HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEADER_BYTES * 4))
        except (BrokenPipeError, ConnectionResetError):
            pass
        data, _ = read_until_closed(sock)
        elapsed = time.monotonic() - started
    assert data.startswith(b"HTTP/1.1 400")
    assert elapsed < HEADER_TIMEOUT_S


def test_a_stalled_keep_alive_request_head_gets_408(server: tuple[int, Path]) -> None:
    """The header timeout also runs for the second request on a kept-alive connection."""
    with connect(server[0]) as sock:
        sock.sendall(b"GET /cds-services HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while b"\r\n\r\n" not in first:
            first += sock.recv(65536)
        head, _, rest = first.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")))
        while len(rest) < length:
            rest += sock.recv(65536)
        assert head.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /cds-services HTTP/1.1\r\nHo")
        data, elapsed = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 408")
    assert elapsed < HEADER_TIMEOUT_S + MARGIN_S
