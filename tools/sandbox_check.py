"""Compare runs of the real CDS Hooks sandbox (``shared/tools/sandbox/run.sh``) with the manifest.

    python tools/sandbox_check.py [--phase authoff] WORK [WORK ...] > table.md

Each WORK is a run.sh ``$WORK`` directory; ``shots/<phase>/report-<phase>.json`` holds, per
patient, the hook call the sandbox made (request and response) and the cards it rendered.
A fixture is ok when the service's answer has exactly the manifest's ``expectTopics`` (with
``expectIndicators``, ``expectDetail`` and ``expectNoSuggestion``), the sandbox rendered that
many cards and they match the response, and the page had no error. A later WORK overrides
an earlier one for the same patient (a re-run). Prints a Markdown table and the counts;
exit status 1 when a manifest fixture is not ok or was not run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

MANIFEST = Path(__file__).resolve().parent.parent / "fixtures" / "manifest.json"
SERVICE_PATH = "/cds-services/calf-pain-review"


def hook_response(entry: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The first patient-view hook call of one patient: (request, response) JSON."""
    for rec in entry.get("requests", []):
        if rec.get("method") == "POST" and rec.get("url", "").endswith(SERVICE_PATH):
            resp = rec.get("response_json")
            return rec.get("request_json"), resp if isinstance(resp, dict) else None
    return None, None


def judge(manifest_entry: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """One row: what the manifest expects, what the sandbox showed, and why not ok."""
    request, response = hook_response(entry)
    cards = (response or {}).get("cards", [])
    by_topic = {c["source"]["topic"]["code"]: c for c in cards}
    seen = [c["source"]["topic"]["code"] for c in cards]
    expected = list(manifest_entry["expectTopics"])
    problems: list[str] = []
    if entry.get("error"):
        problems.append("page: " + entry["error"][:80])
    if response is None:
        problems.append("no hook response")
    if sorted(seen) != sorted(expected):
        problems.append("topics differ")
    for topic, indicator in manifest_entry.get("expectIndicators", {}).items():
        if topic in by_topic and by_topic[topic]["indicator"] != indicator:
            problems.append(f"{topic} is {by_topic[topic]['indicator']}, not {indicator}")
    for topic, text in manifest_entry.get("expectDetail", {}).items():
        if topic in by_topic and text not in by_topic[topic].get("detail", ""):
            problems.append(f"{topic} detail lacks {text!r}")
    for topic, text in manifest_entry.get("expectNoSuggestion", {}).items():
        labels = [s.get("label", "") for s in by_topic.get(topic, {}).get("suggestions", [])]
        if any(text in label for label in labels):
            problems.append(f"{topic} suggests {text!r}")
    rendered = entry.get("cards_rendered", [])
    if response is not None and len(rendered) != len(cards):
        problems.append(f"{len(rendered)} cards rendered")
    if cards and entry.get("render_matches_response") is False:
        problems.append("rendered cards differ from the response")
    context = (request or {}).get("context") or {}
    return {
        "file": manifest_entry["file"].split("/")[-1],
        "expected": expected,
        "seen": seen if response is not None else None,
        "indicators": {t: c["indicator"] for t, c in by_topic.items()},
        "encounterId_sent": "encounterId" in context,
        "prefetch_keys": sorted((request or {}).get("prefetch") or {}),
        "ok": not problems,
        "problems": problems,
    }


def collect(works: list[Path], phase: str, manifest: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_patient = {m["patientId"]: m for m in manifest}
    rows: dict[str, dict[str, Any]] = {}
    for work in works:
        report = work / "shots" / phase / f"report-{phase}.json"
        if not report.exists():
            continue
        for entry in json.loads(report.read_text())["patients"]:
            m = by_patient.get(entry["patient"])
            if m is not None:
                rows[entry["patient"]] = {**judge(m, entry), "work": str(work)}
    return [rows[m["patientId"]] if m["patientId"] in rows else
            {"file": m["file"].split("/")[-1], "expected": m["expectTopics"], "seen": None,
             "indicators": {}, "ok": False, "problems": ["not run"], "work": None}
            for m in manifest]


def _topics(topics: list[str] | None, indicators: dict[str, str]) -> str:
    if topics is None:
        return "(no answer)"
    if not topics:
        return "none"
    return ", ".join(f"{t} ({indicators[t]})" if t in indicators else t for t in topics)


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| fixture | expected | seen in sandbox | ok |", "| --- | --- | --- | --- |"]
    for r in rows:
        expected = ", ".join(r["expected"]) or "none"
        ok = "yes" if r["ok"] else "NO: " + "; ".join(r["problems"])
        lines.append(f"| {r['file']} | {expected} | {_topics(r['seen'], r['indicators'])} | {ok} |")
    good = sum(r["ok"] for r in rows)
    lines.append("")
    lines.append(f"{good} of {len(rows)} fixtures ok.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("works", nargs="+", type=Path)
    ap.add_argument("--phase", default="authoff")
    ap.add_argument("--manifest", type=Path, default=MANIFEST)
    args = ap.parse_args(argv)
    manifest = json.loads(args.manifest.read_text())
    rows = collect(args.works, args.phase, manifest)
    sys.stdout.write(markdown(rows))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
