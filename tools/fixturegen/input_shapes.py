"""Write ``fixtures/inputs/``: project fixture patients in the shapes real tools export.

Run: ``python -m tools.fixturegen.input_shapes`` (deterministic; overwrites the folder).

Origin: every clinical resource comes from this project's own synthetic fixtures
(``fixtures/patients/01-…``, ``02-…``, ``09-…``; invented data, see fixtures/README.md),
re-shaped the way third-party test data is shaped (the shapes seen in Synthea transaction
Bundles, SMART bulk-export NDJSON and HL7/eCQM collection Bundles; no third-party file is
copied). The billing, organisation and immunisation resources added here are invented too.

* ``01-transaction-urn-uuid.json``: a Synthea-style ``transaction`` (POST entries, every
  reference an ``urn:uuid:`` full URL), plus Claim, ExplanationOfBenefit, Organization and
  Immunization entries the rules do not read, and one DELETE entry.
* ``bulk-ndjson/``: a bulk export of patients 01 and 02, one ``<Type>.ndjson`` per type,
  references absolute (``https://ehr.example.org/fhir/Patient/…``), plus ``Claim.ndjson``.
* ``folder/``: a ``collection`` Bundle of patient 09 with absolute ``fullUrl``s and
  ``_history`` references, and a ``searchset`` Bundle of patient 02.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PATIENTS = ROOT / "fixtures" / "patients"
OUT = ROOT / "fixtures" / "inputs"
BASE = "https://ehr.example.org/fhir"
NAMESPACE = uuid.UUID("6f1c2a8e-3d0b-4c55-9a57-2f6e8b7d1c01")
SOURCES = {
    "01": "01-statin-diuretic-multi-card.json",
    "02": "02-statin-diuretic-nothing.json",
    "09": "09-statin-statement-reasoncode-only.json",
}


def _load(key: str) -> list[dict[str, Any]]:
    bundle = json.loads((PATIENTS / SOURCES[key]).read_text())
    return [e["resource"] for e in bundle["entry"]]


def _uuid(ref: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, ref)}"


def _map_refs(node: Any, change: Any) -> Any:
    if isinstance(node, dict):
        return {k: (change(v) if k == "reference" and isinstance(v, str) else _map_refs(v, change))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_map_refs(v, change) for v in node]
    return node


def _extras(patient_ref: str) -> list[dict[str, Any]]:
    """Resources a real export carries and the rules never read (invented)."""
    return [
        {"resourceType": "Organization", "id": "org-1", "name": "Example Community Clinic"},
        {"resourceType": "Claim", "id": "claim-1", "status": "active", "use": "claim",
         "patient": {"reference": patient_ref}, "created": "2026-11-20"},
        {"resourceType": "ExplanationOfBenefit", "id": "eob-1", "status": "active", "use": "claim",
         "patient": {"reference": patient_ref}, "created": "2026-11-20"},
        {"resourceType": "Immunization", "id": "imm-1", "status": "completed",
         "patient": {"reference": patient_ref}, "occurrenceDateTime": "2025-10-01",
         "vaccineCode": {"text": "influenza vaccine"}},
    ]


def transaction() -> dict[str, Any]:
    resources = _load("01")
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    resources += _extras(f"Patient/{patient['id']}")
    entries = [
        {"fullUrl": _uuid(f"{r['resourceType']}/{r['id']}"),
         "resource": _map_refs(r, lambda ref: _uuid(ref) if "/" in ref and not ref.startswith("http") else ref),
         "request": {"method": "POST", "url": r["resourceType"]}}
        for r in resources
    ]
    entries.append({"request": {"method": "DELETE", "url": "Observation/obsolete-1"}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def bulk_ndjson(folder: Path) -> None:
    by_type: dict[str, list[dict[str, Any]]] = {}
    for key in ("01", "02"):
        resources = _load(key)
        patient = next(r for r in resources if r["resourceType"] == "Patient")
        resources += [r for r in _extras(f"Patient/{patient['id']}") if r["resourceType"] == "Claim"]
        for r in resources:
            r = _map_refs(r, lambda ref: f"{BASE}/{ref}" if "/" in ref and not ref.startswith("http") else ref)
            if r["resourceType"] == "Claim":
                r = dict(r, id=f"{r['id']}-{key}")
            by_type.setdefault(r["resourceType"], []).append(r)
    folder.mkdir(parents=True)
    for rtype, items in sorted(by_type.items()):
        lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in items)
        (folder / f"{rtype}.ndjson").write_text(lines)


def collection(key: str, history: bool) -> dict[str, Any]:
    def change(ref: str) -> str:
        if "/" not in ref or ref.startswith("http"):
            return ref
        return f"{BASE}/{ref}/_history/1" if history else f"{BASE}/{ref}"

    entries = [{"fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}", "resource": _map_refs(r, change)}
               for r in _load(key)]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def searchset(key: str) -> dict[str, Any]:
    resources = _load(key)
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}", "resource": r,
                       "search": {"mode": "match"}} for r in resources]}


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    (OUT / "01-transaction-urn-uuid.json").write_text(json.dumps(transaction(), indent=1) + "\n")
    bulk_ndjson(OUT / "bulk-ndjson")
    (OUT / "folder").mkdir()
    (OUT / "folder" / "09-collection-absolute.json").write_text(json.dumps(collection("09", True), indent=1) + "\n")
    (OUT / "folder" / "02-searchset.json").write_text(json.dumps(searchset("02"), indent=1) + "\n")


if __name__ == "__main__":
    main()
