"""The command line: ``evaluate`` prints cards for any fixture; ``serve`` really serves."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from cds_service.cli import main
from support import EXAMPLES, FIXTURES, load_json

MANIFEST = load_json(FIXTURES / "manifest.json")


@pytest.mark.parametrize("entry", MANIFEST[:6], ids=[e["file"] for e in MANIFEST[:6]])
def test_evaluate_prints_the_cards_of_a_fixture(entry: dict, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["evaluate", str(FIXTURES / entry["file"]), "--patient", entry["patientId"],
                 "--encounter", entry["encounterId"], "--at", entry["evaluationTime"]])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert {c["source"]["topic"]["code"] for c in printed["cards"]} == set(entry["expectTopics"])


def test_evaluate_takes_a_hook_request_file(capsys: pytest.CaptureFixture[str]) -> None:
    request = EXAMPLES / "sandbox-cds-services" / "patient-greeting-no-prefetch-no-fhirServer.request.json"
    assert main(["evaluate", str(request)]) == 1  # no data and no server: the service's 412
    assert "412" in capsys.readouterr().err


def test_evaluate_reports_unreadable_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert main(["evaluate", str(broken)]) == 2
    assert "cannot read" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_starts_and_answers_discovery(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "CALF_CDS_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "CALF_CDS_PROFILE": "dev"}
    process = subprocess.Popen(
        [sys.executable, "-m", "cds_service", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        response = None
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/cds-services", timeout=2, trust_env=False)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    break
                time.sleep(0.2)
        assert response is not None, process.stdout.read().decode() if process.stdout else ""
        assert response.status_code == 200
        assert response.json()["services"][0]["id"] == "calf-pain-review"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_evaluate_sends_an_order_sign_request_to_calf_safe_prescribing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from orders_support import MANIFEST as ORDERS, with_prefetch

    entry = ORDERS[0]
    request = tmp_path / "order-sign.json"
    request.write_text(json.dumps(with_prefetch(entry)))
    assert main(["evaluate", str(request), "--at", entry["evaluationTime"]]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [c["source"]["topic"]["code"] for c in printed["cards"]] == entry["expectTopics"]
