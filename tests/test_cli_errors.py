"""The command line never shows a traceback for bad input (issue 9); ``--version``;
``evaluate -`` reads standard input. Run as a real process: what an operator sees."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from cds_service import __version__
from cds_service.cli import main
from support import FIXTURES, load_json

MANIFEST = load_json(FIXTURES / "manifest.json")
ENTRY = next(e for e in MANIFEST if e["expectTopics"])


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """``calf-cds ARGS`` in this process: an escaping exception would fail the test."""
    for name in [k for k in os.environ if k.startswith("CALF_CDS_")]:
        monkeypatch.delenv(name)

    def invoke(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None) -> Result:
        with monkeypatch.context() as patch:
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            if stdin is not None:
                patch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
            code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return invoke


def run(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None) -> Result:
    """``calf-cds ARGS`` as a real process: exactly what an operator sees."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("CALF_CDS_")}
    done = subprocess.run(
        [sys.executable, "-m", "cds_service", *args], env={**base, **(env or {})},
        input=stdin, capture_output=True, timeout=120,
    )
    return Result(done.returncode, done.stdout.decode(), done.stderr.decode())


def one_line_error(result: Result, code: int = 2) -> str:
    assert result.returncode == code, (result.returncode, result.stdout[-500:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_real_process_shows_one_line_and_no_traceback() -> None:
    line = one_line_error(run("serve", env={"CALF_CDS_PORT": "abc"}))
    assert line.startswith("calf-cds: configuration error: CALF_CDS_PORT: "), line
    assert "'abc'" in line
    line = one_line_error(run("evaluate", "-", stdin=b"[1, 2]"))
    assert "got an array" in line


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"CALF_CDS_PORT": "abc"}, "CALF_CDS_PORT"),
        ({"CALF_CDS_PROFILE": "prod"}, "CALF_CDS_AUTH_TRUSTED_ISSUERS"),
        ({"CALF_CDS_LOG_LEVEL": "chatty"}, "CALF_CDS_LOG_LEVEL"),
        ({"CALF_CDS_PUBLIC_BASE_URL": "cds.example.org"}, "CALF_CDS_PUBLIC_BASE_URL"),
        ({"CALF_CDS_AUTH_ENABLED": "true", "CALF_CDS_AUTH_TRUSTED_ISSUERS": '["https://ehr.example.org"]',
          "CALF_CDS_AUTH_ISSUER_JWKS": '{"https://ehr.example.org": "/nonexistent/jwks.json"}'},
         "CALF_CDS_AUTH_ISSUER_JWKS"),
        ({"CALF_CDS_CARDS_DIR": "/nonexistent/cards"}, "CALF_CDS_CARDS_DIR"),
    ],
    ids=["port", "prod-no-issuer", "log-level", "aud-url", "jwks-path", "cards-dir"],
)
def test_serve_refuses_to_start_with_one_line(cli: Callable[..., Result], env: dict[str, str], setting: str) -> None:
    line = one_line_error(cli("serve", env=env))
    assert line.startswith(f"calf-cds: configuration error: {setting}: "), line


def test_serve_refuses_a_broken_card_catalogue(cli: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("topic: [unclosed\n")
    line = one_line_error(cli("serve", env={"CALF_CDS_CARDS_DIR": str(tmp_path)}))
    assert line.startswith("calf-cds: configuration error: CALF_CDS_CARDS_DIR: "), line


def test_evaluate_refuses_a_bad_environment(cli: Callable[..., Result]) -> None:
    fixture = str(FIXTURES / ENTRY["file"])
    line = one_line_error(cli("evaluate", fixture, env={"CALF_CDS_CLINICAL__CK_WINDOW_DAYS": "a month"}))
    assert "CALF_CDS_CLINICAL__CK_WINDOW_DAYS" in line


def test_evaluate_ignores_serving_settings_it_does_not_use(cli: Callable[..., Result]) -> None:
    """The prod profile needs trusted issuers to serve; offline evaluation checks no JWT."""
    result = cli("evaluate", str(FIXTURES / ENTRY["file"]), "--at", ENTRY["evaluationTime"],
                 env={"CALF_CDS_PROFILE": "prod"})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("body", "words"),
    [("[1, 2]", "got an array"), ('"text"', "got a str"), ("{broken", "cannot read"), ("", "cannot read")],
    ids=["array", "string", "broken", "empty"],
)
def test_evaluate_refuses_input_that_is_not_a_json_object(cli: Callable[..., Result], tmp_path: Path, body: str, words: str) -> None:
    path = tmp_path / "input.json"
    path.write_text(body)
    assert words in one_line_error(cli("evaluate", str(path)))
    assert words in one_line_error(cli("evaluate", "-", stdin=body.encode()))


def test_evaluate_refuses_a_missing_file(cli: Callable[..., Result], tmp_path: Path) -> None:
    assert "cannot read" in one_line_error(cli("evaluate", str(tmp_path / "absent.json")))


@pytest.mark.parametrize("at", ["yesterday", "2026-13-40", "21/11/2026"])
def test_evaluate_refuses_an_at_that_is_not_a_date_time(cli: Callable[..., Result], at: str) -> None:
    line = one_line_error(cli("evaluate", str(FIXTURES / ENTRY["file"]), "--at", at))
    assert line.startswith(f"--at {at!r} is not an ISO 8601 date-time")


def test_evaluate_a_bundle_with_odd_entries_is_a_clean_refusal(cli: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "entry": "not a list"}))
    line = one_line_error(cli("evaluate", str(path)), code=1)
    assert line.startswith("error 400:")
    path.write_text(json.dumps({"resourceType": "Bundle", "entry": [{"resource": {"id": "x"}}]}))
    assert one_line_error(cli("evaluate", str(path)), code=1).startswith("error 400:")


def test_evaluate_dash_reads_standard_input(cli: Callable[..., Result]) -> None:
    body = (FIXTURES / ENTRY["file"]).read_bytes()
    result = cli("evaluate", "-", "--patient", ENTRY["patientId"], "--encounter", ENTRY["encounterId"],
                 "--at", ENTRY["evaluationTime"], stdin=body)
    assert result.returncode == 0, result.stderr
    topics = {c["source"]["topic"]["code"] for c in json.loads(result.stdout)["cards"]}
    assert topics == set(ENTRY["expectTopics"])


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"calf-cds {__version__}"
