"""Generate fixtures/patients/<nn>-<slug>.json and fixtures/manifest.json."""
import json, sys
from pathlib import Path
import fixtures as F
import fixtures7  # noqa: F401  (registers fixtures 46-64)
import fixtures_noise  # noqa: F401  (registers fixtures 65-70)

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/main/fixtures")
SLUGS = {
    1: "statin-diuretic-multi-card", 2: "statin-diuretic-nothing", 3: "deceased-statin-calf-pain",
    4: "loop-diuretic-potassium-critical", 5: "rhabdo-simvastatin", 6: "statin-stopped-calf-pain",
    7: "statin-proposal-donotperform", 8: "diuretic-ended-cramps", 9: "statin-statement-reasoncode-only",
    10: "statin-contained-medication-ck-high", 11: "statin-scdc-ck-9x-uln", 12: "exertional-ck-no-statin",
    13: "statin-ck-very-high-20-days-ago", 14: "thiazide-low-magnesium-mgdl", 15: "potassium-newest-blood-low",
    16: "potassium-newest-serum-normal", 17: "loop-diuretic-potassium-3-6", 18: "spironolactone-only-low-potassium",
    19: "thiazide-old-potassium-no-symptoms", 20: "losartan-hctz-no-potassium", 21: "torsemide-no-magnesium",
    22: "indapamide-cancelled-potassium", 23: "acetazolamide-low-potassium", 24: "vitamin-d-nmol-myalgia",
    25: "vitamin-d-low-statin-no-symptoms", 26: "vitamin-d-25-statin-calf-pain", 27: "vitamin-d-low-no-trigger",
    28: "cancer-undated-calf-pain", 29: "cancer-no-symptoms", 30: "cancer-history-calf-pain",
    31: "postpartum-dyspnoea", 32: "prior-dvt-estrogen-unilateral-swelling", 33: "d-dimer-positive-no-risk",
    34: "swelling-20-days-ago", 35: "elderly-d-dimer-age-adjusted", 36: "knee-replacement-calf-pain",
    37: "thrombophilia-wheelchair-icd-nodot", 38: "heart-failure-furosemide-calf-pain", 39: "claudication-condition",
    40: "abi-low-calf-pain", 41: "abi-borderline-calf-pain", 42: "diabetic-neuropathy-symptom-observation",
    43: "diabetic-neuropathy-no-symptoms", 44: "diabetes-no-neuropathy-calf-pain", 45: "statin-fibromyalgia-refuted-calf-pain",
    46: "simvastatin-clarithromycin", 47: "atorvastatin-clarithromycin-silent", 48: "simvastatin-80-new",
    49: "simvastatin-80-long-term-silent", 50: "lovastatin-gemfibrozil", 51: "simvastatin-40-amlodipine-calf-pain",
    52: "simvastatin-40-amlodipine-no-symptoms", 53: "potassium-critical-no-diuretic", 54: "low-potassium-digoxin-cramps",
    55: "low-potassium-no-symptoms-silent", 56: "tibial-fracture-calf-pain", 57: "ankle-fracture-10-days-silent",
    58: "levofloxacin-ended-achilles", 59: "ciprofloxacin-eye-drops-achilles-silent", 60: "sciatica-calf-pain",
    61: "sciatica-back-pain-only-silent", 62: "rhabdomyolysis-coded-no-ck", 63: "crush-syndrome",
    64: "rhabdomyolysis-coded-20-days-silent", 65: "myalgia-dyspnoea-no-dvt", 66: "generic-cramps-over-70-silent",
    67: "calf-spasm-over-70-info", 68: "obesity-1986-lean-now-silent", 69: "current-dvt-apixaban", 70: "cancer-calf-pain-warning",
}
EVAL = "2026-11-21T12:00:00Z"


def main():
    (OUT / "patients").mkdir(parents=True, exist_ok=True)
    manifest = []
    for fn in F.FIXTURES:
        n = int(fn.__name__[1:])
        slug = SLUGS[n]
        ch, meta = fn()
        fname = f"{n:02d}-{slug}.json"
        (OUT / "patients" / fname).write_text(json.dumps(ch.bundle(f"{n:02d}-{slug}", "batch" if meta.get("invalidResources") else "transaction"), indent=2, ensure_ascii=False) + "\n")
        entry = {"file": f"patients/{fname}", "patientId": ch.pid, "encounterId": ch.context_encounter,
                 "evaluationTime": EVAL, **meta}
        manifest.append(entry)
    # the statin-calf-pain fixture is written by another helper; only its manifest entry lives here
    other = OUT / "patients" / "statin-calf-pain.json"
    enc = "calf-statin-01-enc-20261121"
    if other.exists():
        b = json.loads(other.read_text())
        encs = [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Encounter"]
        live = [e for e in encs if e.get("status") == "in-progress"]
        enc = (live or encs)[-1]["id"]
    manifest.append({
        "file": "patients/statin-calf-pain.json", "patientId": "calf-statin-01", "encounterId": enc, "evaluationTime": EVAL,
        "description": "65-year-old woman on atorvastatin 20 mg (active MedicationRequest, SCD 617310) with a calf pain Condition from 2026-11-10; K 4.2, BMI 27.1: statin card only.",
        "expectTopics": ["statin-muscle-symptoms"],
        "silentTopics": [
            {"topic": "dvt-assessment", "why": "no DVT risk factor: age 65, BMI 27.1, no cancer/pregnancy/surgery/immobility/prior VTE/thrombophilia/estrogen/heart failure"},
            {"topic": "rhabdomyolysis-risk", "why": "no CK result"},
            {"topic": "diuretic-electrolyte-depletion", "why": "no diuretic; K 4.2"},
        ],
    })
    doc_unused = {
        "description": "Synthetic calf-cds fixture patients (invented data, FHIR R4 transaction bundles). expectTopics is the complete set of card topics the patient-view service must return at evaluationTime; silentTopics name deliberate near-misses.",
        "topics": ["statin-muscle-symptoms", "rhabdomyolysis-risk", "diuretic-electrolyte-depletion", "electrolytes-not-monitored",
                   "vitamin-d-deficiency", "dvt-assessment", "dvt-red-flags", "peripheral-artery-disease", "diabetic-neuropathy",
                   "statin-drug-interaction", "electrolyte-deficiency", "compartment-syndrome-risk",
                   "fluoroquinolone-tendon-risk", "sciatica-referred-pain"],
        "fixtures": manifest,
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    print(len(manifest), "fixtures")


main()
