"""tools/sandbox_check.py: a run.sh report judged against the manifest (docs/sandbox-check.md)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICE = "http://127.0.0.1:9/cds-services/calf-pain-review"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sandbox_check", ROOT / "tools" / "sandbox_check.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def card(topic: str, indicator: str, detail: str = "d") -> dict[str, Any]:
    return {"summary": topic, "indicator": indicator, "detail": detail,
            "source": {"label": "s", "topic": {"code": topic}}}


def patient(pid: str, cards: list[dict[str, Any]] | None, rendered: int | None = None, **extra: Any) -> dict[str, Any]:
    requests = [{"method": "GET", "url": "http://127.0.0.1:9/cds-services"}]
    if cards is not None:
        requests.append({"method": "POST", "url": SERVICE, "response_json": {"cards": cards},
                         "request_json": {"context": {"patientId": pid}, "prefetch": {"patient": {}}}})
    n = len(cards or []) if rendered is None else rendered
    return {"patient": pid, "requests": requests, "cards_rendered": [{}] * n,
            "render_matches_response": True, **extra}


MANIFEST = [
    {"file": "patients/a.json", "patientId": "a", "expectTopics": ["x"], "expectIndicators": {"x": "critical"}},
    {"file": "patients/b.json", "patientId": "b", "expectTopics": []},
    {"file": "patients/c.json", "patientId": "c", "expectTopics": ["y"], "expectDetail": {"y": "digoxin"}},
    {"file": "patients/d.json", "patientId": "d", "expectTopics": []},
]


def write(work: Path, patients: list[dict[str, Any]]) -> Path:
    (work / "shots" / "authoff").mkdir(parents=True)
    (work / "shots" / "authoff" / "report-authoff.json").write_text(json.dumps({"patients": patients}))
    return work


def test_rows_judge_topics_indicators_details_rendering_and_reruns(tool: ModuleType, tmp_path: Path) -> None:
    first = write(tmp_path / "one", [
        patient("a", [card("x", "warning")]),          # wrong indicator
        patient("b", None, error="Timeout"),            # the hook was never called
        patient("c", [card("y", "info", "on digoxin")], rendered=0),  # answered, not shown
    ])
    rerun = write(tmp_path / "two", [patient("b", [])])  # the re-run overrides the first
    rows = {r["file"]: r for r in tool.collect([first, rerun], "authoff", MANIFEST)}
    assert not rows["a.json"]["ok"] and "x is warning, not critical" in rows["a.json"]["problems"]
    assert rows["b.json"]["ok"] and rows["b.json"]["seen"] == []
    assert rows["c.json"]["problems"] == ["0 cards rendered"]
    assert rows["d.json"]["problems"] == ["not run"]
    text = tool.markdown(list(rows.values()))
    assert "| b.json | none | none | yes |" in text
    assert "| a.json | x | x (warning) | NO: x is warning, not critical |" in text
    assert text.endswith("1 of 4 fixtures ok.\n")


def test_exit_status_is_1_unless_every_fixture_is_ok(tool: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(MANIFEST[1:2]))
    good = write(tmp_path / "good", [patient("b", [])])
    assert tool.main(["--manifest", str(manifest), str(good)]) == 0
    bad = write(tmp_path / "bad", [patient("b", [card("z", "info")])])
    assert tool.main(["--manifest", str(manifest), str(bad)]) == 1
    assert "NO: topics differ" in capsys.readouterr().out
