"""Order-sign fixtures (issue 10): synthetic charts (transaction Bundles) and draft orders.

``python tools/fixturegen/orders.py`` writes ``fixtures/orders/*.json`` (one chart per
case) and ``fixtures/orders/manifest.json`` (the drafts of each case and the cards it must
give, or not give and why). Invented data; codes as used elsewhere in the fixtures
(RxNorm SCDs from the VSAC statin and diuretic sets, LOINC from clinical.md §2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[2] / "fixtures" / "orders"
AT = "2026-11-21T12:00:00Z"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
SITE_ABI = "https://example.org/calf-cds/CodeSystem/vascular-lab"


def med(pid: str, rid: str, text: str, code: str | None = None, *, status: str = "active",
        authored: str = "2026-11-10", intent: str = "order") -> dict[str, Any]:
    concept: dict[str, Any] = {"text": text}
    if code:
        concept["coding"] = [{"system": RXNORM, "code": code, "display": text}]
    return {"resourceType": "MedicationRequest", "id": rid, "status": status, "intent": intent,
            "subject": {"reference": f"Patient/{pid}"}, "authoredOn": authored,
            "medicationCodeableConcept": concept,
            "dosageInstruction": [{"text": "1 tablet once daily"}]}


def draft_med(pid: str, rid: str, text: str, code: str | None = None) -> dict[str, Any]:
    return med(pid, rid, text, code, status="draft", authored="2026-11-21")


def lab(pid: str, rid: str, code: str, display: str, value: float, unit: str, when: str,
        interpretation: str | None = None, system: str = LOINC) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "resourceType": "Observation", "id": rid, "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "laboratory"}]}],
        "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
        "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    }
    if interpretation:
        obs["interpretation"] = [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
            "code": interpretation}]}]
    return obs


def condition(pid: str, rid: str, code: str, display: str, onset: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition", "id": rid,
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": "active"}]},
        "verificationStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
        "code": {"coding": [{"system": SCT, "code": code, "display": display}], "text": display},
        "subject": {"reference": f"Patient/{pid}"}, "onsetDateTime": onset,
    }


def compression(pid: str, rid: str, text: str, kind: str = "ServiceRequest") -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": kind, "id": rid, "status": "draft", "intent": "order",
                                "subject": {"reference": f"Patient/{pid}"}, "authoredOn": "2026-11-21"}
    resource["code" if kind == "ServiceRequest" else "codeCodeableConcept"] = {"text": text}
    return resource


def patient(pid: str, born: str, gender: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "birthDate": born, "gender": gender,
            "name": [{"family": "Orderly", "given": [pid.split("-")[-1]]}]}


def transaction(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
        for r in resources]}


SIMVA_40 = ("simvastatin 40 MG Oral Tablet", "198211")
SIMVA_80 = ("simvastatin 80 MG Oral Tablet", "200345")
PRAVA_40 = ("pravastatin sodium 40 MG Oral Tablet", "904475")
PRAVA_80 = ("pravastatin sodium 80 MG Oral Tablet", "904481")
ATORVA_20 = ("atorvastatin 20 MG Oral Tablet", "617310")
CLARI = ("clarithromycin 500 MG Oral Tablet", None)
MYALGIA = ("240101000", "Myalgia of lower leg")  # in the myalgia group (terminology.json)
PAD = ("399957001", "Peripheral arterial occlusive disease")


def cases() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def case(n: int, slug: str, pid: str, born: str, gender: str, chart: list[dict[str, Any]],
             drafts: list[dict[str, Any]], description: str, expect: list[str],
             silent: list[tuple[str, str]], **extra: Any) -> None:
        name = f"{n:02d}-{slug}.json"
        (OUT / name).write_text(json.dumps(transaction([patient(pid, born, gender), *chart]), indent=1) + "\n")
        out.append({"file": f"orders/{name}", "patientId": pid, "evaluationTime": AT,
                    "description": description, "draftOrders": drafts, "expectTopics": expect,
                    "silentTopics": [{"topic": t, "why": w} for t, w in silent], **extra})

    p = "rx-simva-clari-01"
    case(1, "draft-simvastatin-clarithromycin-on-file", p, "1959-03-02", "male",
         [med(p, f"{p}-clari", *CLARI, authored="2026-11-18")], [draft_med(p, f"{p}-draft", *SIMVA_40)],
         "Draft simvastatin 40 mg while clarithromycin is on file: contraindicated (ZOCOR §4); "
         "switch to pravastatin 40 mg offered.",
         ["rx-statin-interaction"],
         [("rx-statin-baseline", "no muscle symptoms, CK or TSH on file")],
         expectSuggestions={"rx-statin-interaction": ["delete", "update"]},
         expectDetail={"rx-statin-interaction": "pravastatin sodium 40 MG Oral Tablet"})
    p = "rx-prava40-clari-02"
    case(2, "draft-pravastatin-40-clarithromycin-silent", p, "1961-07-14", "female",
         [med(p, f"{p}-clari", *CLARI, authored="2026-11-18")], [draft_med(p, f"{p}-draft", *PRAVA_40)],
         "Draft pravastatin 40 mg with clarithromycin: within PRAVACHOL's 40 mg limit, silent.",
         [], [("rx-statin-interaction", "pravastatin 40 mg is within its label's clarithromycin limit")])
    p = "rx-prava80-clari-03"
    case(3, "draft-pravastatin-80-clarithromycin", p, "1955-01-20", "male",
         [med(p, f"{p}-clari", *CLARI, authored="2026-11-18")], [draft_med(p, f"{p}-draft", *PRAVA_80)],
         "Draft pravastatin 80 mg with clarithromycin: above PRAVACHOL's 40 mg limit.",
         ["rx-statin-interaction"], [("rx-statin-baseline", "no symptoms, CK or TSH on file")],
         expectSuggestions={"rx-statin-interaction": ["delete", "update"]},
         expectDetail={"rx-statin-interaction": "above the label's limit of 40 mg/day"})
    p = "rx-simva80-new-04"
    case(4, "draft-simvastatin-80-new-start", p, "1964-05-05", "male", [],
         [draft_med(p, f"{p}-draft", *SIMVA_80)],
         "Draft simvastatin 80 mg, no statin on file: a new start the ZOCOR label restricts; "
         "rosuvastatin 20 mg offered.",
         ["rx-statin-interaction"], [("rx-statin-baseline", "no symptoms, CK or TSH on file")],
         expectSuggestions={"rx-statin-interaction": ["delete", "update"]},
         expectDetail={"rx-statin-interaction": "rosuvastatin calcium 20 MG Oral Tablet"})
    p = "rx-simva80-long-05"
    case(5, "draft-simvastatin-80-renewal-silent", p, "1950-09-09", "male",
         [med(p, f"{p}-simva", *SIMVA_80, authored="2024-06-01")], [draft_med(p, f"{p}-draft", *SIMVA_80)],
         "Renewal of simvastatin 80 mg taken since 2024: not a new start, silent.",
         [], [("rx-statin-interaction", "simvastatin 80 mg on file for more than 12 months"),
              ("rx-statin-baseline", "a statin is already current: not a new start")])
    p = "rx-two-drafts-06"
    case(6, "draft-simvastatin-with-draft-clarithromycin", p, "1958-02-11", "female", [],
         [draft_med(p, f"{p}-draft-simva", *SIMVA_40), draft_med(p, f"{p}-draft-clari", *CLARI)],
         "Simvastatin 40 mg and clarithromycin drafted together: contraindicated in the same drafts.",
         ["rx-statin-interaction"], [("rx-statin-baseline", "no symptoms, CK or TSH on file")],
         expectDetail={"rx-statin-interaction": "in the same drafts"})
    p = "rx-statin-myalgia-07"
    case(7, "new-statin-myalgia-no-ck", p, "1957-12-01", "male",
         [condition(p, f"{p}-myalgia", *MYALGIA, onset="2026-11-11")], [draft_med(p, f"{p}-draft", *ATORVA_20)],
         "New atorvastatin with myalgia recorded 10 days ago and no CK or TSH on file: CK and TSH suggested.",
         ["rx-statin-baseline"], [("rx-statin-interaction", "no interacting drug; atorvastatin 20 mg")],
         expectSuggestions={"rx-statin-baseline": ["create", "create"]})
    p = "rx-statin-normal-08"
    case(8, "new-statin-no-symptoms-normal-labs-silent", p, "1966-04-04", "female",
         [lab(p, f"{p}-ck", "2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma", 120, "U/L", "2026-10-01"),
          lab(p, f"{p}-tsh", "3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", 2.1, "m[IU]/L", "2026-10-01")],
         [draft_med(p, f"{p}-draft", *ATORVA_20)],
         "New atorvastatin without symptoms, normal CK and TSH: silent.",
         [], [("rx-statin-baseline", "no symptoms; CK 120 U/L and TSH 2.1 within range")])
    p = "rx-statin-tsh-09"
    case(9, "new-statin-tsh-high", p, "1962-08-30", "female",
         [lab(p, f"{p}-tsh", "3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", 8.2, "m[IU]/L", "2026-09-15", "H")],
         [draft_med(p, f"{p}-draft", *ATORVA_20)],
         "New atorvastatin with TSH 8.2 (H) on file: CK suggested (TSH already on file).",
         ["rx-statin-baseline"], [("rx-statin-interaction", "no interacting drug")],
         expectSuggestions={"rx-statin-baseline": ["create"]})
    p = "rx-levo-72-10"
    case(10, "draft-levofloxacin-age-72", p, "1954-02-02", "male", [],
         [draft_med(p, f"{p}-draft", "levofloxacin 500 MG Oral Tablet")],
         "Draft levofloxacin for a 72-year-old: boxed-warning tendon risk.",
         ["rx-fluoroquinolone-tendon"], [], expectSuggestions={"rx-fluoroquinolone-tendon": ["delete"]})
    p = "rx-cipro-40-11"
    case(11, "draft-ciprofloxacin-age-40-silent", p, "1986-06-06", "female", [],
         [draft_med(p, f"{p}-draft", "ciprofloxacin 500 MG Oral Tablet")],
         "Draft ciprofloxacin for a 40-year-old without risk factors: silent.",
         [], [("rx-fluoroquinolone-tendon", "age 40, no corticosteroid, transplant or tendon pain")])
    p = "rx-cipro-pred-12"
    case(12, "draft-ciprofloxacin-prednisone-on-file", p, "1980-10-10", "male",
         [med(p, f"{p}-pred", "prednisone 20 MG Oral Tablet")],
         [draft_med(p, f"{p}-draft", "ciprofloxacin 500 MG Oral Tablet")],
         "Draft ciprofloxacin for a 46-year-old on prednisone: boxed-warning tendon risk.",
         ["rx-fluoroquinolone-tendon"], [],
         expectDetail={"rx-fluoroquinolone-tendon": "prednisone 20 MG Oral Tablet"})
    p = "rx-furo-nolabs-13"
    case(13, "draft-furosemide-no-electrolytes", p, "1952-03-03", "female", [],
         [draft_med(p, f"{p}-draft", "furosemide 40 MG Oral Tablet", "313988")],
         "Draft furosemide with no potassium or magnesium on file: info.",
         ["rx-diuretic-electrolytes"], [], expectIndicators={"rx-diuretic-electrolytes": "info"},
         expectSuggestions={"rx-diuretic-electrolytes": ["create", "create"]})
    p = "rx-hctz-lowk-14"
    case(14, "draft-hydrochlorothiazide-low-potassium", p, "1960-11-11", "male",
         [lab(p, f"{p}-k", "2823-3", "Potassium [Moles/volume] in Serum or Plasma", 3.1, "mmol/L", "2026-11-01", "L"),
          lab(p, f"{p}-mg", "2601-3", "Magnesium [Moles/volume] in Serum or Plasma", 0.82, "mmol/L", "2026-11-01")],
         [draft_med(p, f"{p}-draft", "hydrochlorothiazide 25 MG Oral Tablet", "310798")],
         "Draft hydrochlorothiazide with potassium 3.1 (L) 20 days ago: warning.",
         ["rx-diuretic-electrolytes"], [], expectIndicators={"rx-diuretic-electrolytes": "warning"})
    p = "rx-hctz-fresh-15"
    case(15, "draft-hydrochlorothiazide-fresh-normal-silent", p, "1963-01-13", "female",
         [lab(p, f"{p}-k", "2823-3", "Potassium [Moles/volume] in Serum or Plasma", 4.2, "mmol/L", "2026-11-11"),
          lab(p, f"{p}-mg", "2601-3", "Magnesium [Moles/volume] in Serum or Plasma", 0.85, "mmol/L", "2026-11-11")],
         [draft_med(p, f"{p}-draft", "hydrochlorothiazide 25 MG Oral Tablet", "310798")],
         "Draft hydrochlorothiazide with normal potassium and magnesium 10 days ago: silent.",
         [], [("rx-diuretic-electrolytes", "K 4.2 and Mg 0.85 measured 10 days ago")])
    p = "rx-stockings-pad-16"
    case(16, "draft-compression-stockings-pad", p, "1948-04-14", "male",
         [condition(p, f"{p}-pad", *PAD, onset="2025-03-01")],
         [compression(p, f"{p}-draft", "Compression stockings, below knee, class 2")],
         "Compression stockings drafted with PAD on the problem list and no ABI: remove, order ABI.",
         ["rx-compression-pad"], [], expectSuggestions={"rx-compression-pad": ["delete", "create"]})
    p = "rx-bandage-abi-17"
    case(17, "draft-compression-bandage-abi-low", p, "1946-12-24", "female",
         [lab(p, f"{p}-abi", "ABI-L", "Ankle-brachial index, left", 0.7, "{ratio}", "2026-08-01", system=SITE_ABI)],
         [compression(p, f"{p}-draft", "Multilayer compression bandaging, left leg", "DeviceRequest")],
         "Multilayer compression bandaging drafted with a left ABI of 0.7: remove (ABI on file).",
         ["rx-compression-pad"], [], expectSuggestions={"rx-compression-pad": ["delete"]})
    p = "rx-stockings-ok-18"
    case(18, "draft-compression-stockings-abi-normal-silent", p, "1970-07-07", "female",
         [lab(p, f"{p}-abi", "ABI-L", "Ankle-brachial index, left", 1.05, "{ratio}", "2026-08-01", system=SITE_ABI)],
         [compression(p, f"{p}-draft", "Graduated compression stockings, thigh length")],
         "Compression stockings with a normal ABI and no PAD: silent.",
         [], [("rx-compression-pad", "ABI 1.05 and no PAD documented")])
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    manifest = cases()
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
