"""Summarise the codes that third-party test data carries (build-time helper).

    .venv/bin/python tools/scan_patient_codes.py [--patients ../shared/patients]

Reads every FHIR JSON Bundle / NDJSON file under the folder and writes
``tools/sources/patient_codes.json``: one row per (system key, code) of the Condition,
Observation, Procedure, Encounter.reasonCode and medication codings found, with the
first display seen and how many files carry it. Only codes, displays and counts are
kept (facts, not the records); ``tools/gen_terminology_doc.py`` reads the summary so the
coverage report in ``docs/terminology.md`` can be regenerated without ``../shared``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATIENTS = REPO_ROOT.parent / "shared" / "patients"
OUTPUT = REPO_ROOT / "tools" / "sources" / "patient_codes.json"

SYSTEM_KEYS = {
    "http://snomed.info/sct": "sct",
    "http://hl7.org/fhir/sid/icd-10-cm": "icd10cm",
    "http://hl7.org/fhir/sid/icd-10": "icd10cm",
    "http://loinc.org": "loinc",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "rxnorm",
}
# resource type -> the CodeableConcept fields read (the same ones extraction reads)
FIELDS = {
    "Condition": ("code",),
    "Observation": ("code", "valueCodeableConcept"),
    "Procedure": ("code",),
    "Encounter": ("reasonCode",),
    "MedicationRequest": ("medicationCodeableConcept",),
    "MedicationStatement": ("medicationCodeableConcept",),
    "Medication": ("code",),
}
KINDS = {"Condition": "condition", "Observation": "observation", "Procedure": "procedure",
         "Encounter": "condition", "MedicationRequest": "medication",
         "MedicationStatement": "medication", "Medication": "medication"}


def resources(path: Path) -> Iterator[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    docs: list[Any]
    if path.suffix == ".ndjson":
        docs = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        docs = [json.loads(text)]
    for doc in docs:
        if doc.get("resourceType") == "Bundle":
            for entry in doc.get("entry") or []:
                res = entry.get("resource")
                if isinstance(res, dict):
                    yield res
        elif isinstance(doc, dict):
            yield doc


def scan(folder: Path) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".json", ".ndjson"))
    for path in files:
        seen: set[tuple[str, str, str]] = set()
        for res in resources(path):
            rtype = res.get("resourceType")
            for field in FIELDS.get(rtype, ()):
                value = res.get(field)
                concepts = value if isinstance(value, list) else [value]
                for concept in concepts:
                    if not isinstance(concept, dict):
                        continue
                    for coding in concept.get("coding") or []:
                        key = SYSTEM_KEYS.get(str(coding.get("system", "")).rstrip("/"))
                        code = coding.get("code")
                        if key is None or not isinstance(code, str):
                            continue
                        ident = (KINDS[rtype], key, code.strip())
                        row = rows.setdefault(ident, {"kind": ident[0], "system": key,
                                                      "code": ident[2], "display": "",
                                                      "files": 0})
                        if not row["display"] and isinstance(coding.get("display"), str):
                            row["display"] = coding["display"]
                        seen.add(ident)
        for ident in seen:
            rows[ident]["files"] += 1
    return [rows[k] for k in sorted(rows)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=Path, default=DEFAULT_PATIENTS)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if not args.patients.is_dir():
        print(f"{args.patients}: not a folder; summary left as it is", file=sys.stderr)
        return 0
    rows = scan(args.patients)
    doc = {"origin": "shared/patients (see its README for each folder's repository and "
                     "licence); codes, first display and file counts only",
           "codes": rows}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(doc, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.output}: {len(rows)} codes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
