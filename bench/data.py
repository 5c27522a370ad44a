"""Synthetic benchmark patient: a calf-pain chart on a statin, of any size.

The chart is invented (no real patient data) and shaped like Synthea / US Core output:
a Patient, encounters, a calf-pain Condition, an active atorvastatin order and a loop
diuretic, a handful of chronic conditions, other medications and procedures, recent labs
the rules read (potassium, magnesium, CK, 25-OH vitamin D, D-dimer, TSH, eGFR,
creatinine) and — making up most of a real prefetch — vital signs the rules ignore (heart
rate, blood pressure panel, respiratory rate, temperature, SpO2, weight, height).

``synthetic_bundle(n)`` returns a transaction Bundle of exactly ``n`` resources (n >= 6);
every resource validates as a ``fhir.resources.R4B`` model (checked by ``check_valid``),
so the naive path measures validation cost, not error handling.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from cds_service.evaluate import request_from_bundle

PATIENT_ID = "bench-calf-01"
ENCOUNTER_ID = "bench-calf-01-enc-current"
EVALUATION_TIME = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
HISTORY_DAYS = 5 * 365

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

Resource = dict[str, Any]

# (LOINC, display, UCUM unit, low, high) — vital signs no rule reads.
_VITALS: list[tuple[str, str, str, float, float]] = [
    ("8867-4", "Heart rate", "/min", 58, 96),
    ("9279-1", "Respiratory rate", "/min", 12, 20),
    ("8310-5", "Body temperature", "Cel", 36.1, 37.4),
    ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", 94, 99),
    ("29463-7", "Body weight", "kg", 78, 84),
    ("8302-2", "Body height", "cm", 166, 167),
]
_BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")

# (LOINC, display, UCUM unit, most recent value, typical range) — labs the rules read.
# The most recent potassium is low and CK mildly raised, so several cards fire.
_LABS: list[tuple[str, str, str, float, tuple[float, float]]] = [
    ("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 3.2, (3.6, 4.8)),
    ("2601-3", "Magnesium [Moles/volume] in Serum or Plasma", "mmol/L", 0.78, (0.75, 0.95)),
    ("2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 420, (60, 200)),
    ("62292-8", "25-Hydroxyvitamin D2+25-Hydroxyvitamin D3 [Mass/volume] in Serum or Plasma",
     "ng/mL", 17, (22, 35)),
    ("48065-7", "Fibrin D-dimer FEU [Mass/volume] in Platelet poor plasma", "ng/mL", 310, (150, 400)),
    ("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "m[IU]/L", 2.1, (1.0, 3.5)),
    ("33914-3", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or Plasma by Creatinine-based formula (MDRD)",
     "mL/min/{1.73_m2}", 72, (65, 90)),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.9, (0.7, 1.1)),
]

# (code system, code, display) — chronic conditions besides the calf pain.
_CONDITIONS: list[tuple[str, str, str]] = [
    (SNOMED, "38341003", "Hypertensive disorder, systemic arterial (disorder)"),
    (SNOMED, "55822004", "Hyperlipidemia (disorder)"),
    (SNOMED, "162864005", "Body mass index 30+ - obesity (finding)"),
    (SNOMED, "40055000", "Chronic sinusitis (disorder)"),
    (SNOMED, "195662009", "Acute viral pharyngitis (disorder)"),
    (SNOMED, "10509002", "Acute bronchitis (disorder)"),
]

# (RxNorm, display) — other medications, none of them in a rule's class.
_OTHER_MEDS: list[tuple[str, str]] = [
    ("314076", "lisinopril 10 MG Oral Tablet"),
    ("197361", "amlodipine 5 MG Oral Tablet"),
    ("310965", "ibuprofen 200 MG Oral Tablet"),
    ("313782", "acetaminophen 325 MG Oral Tablet"),
    ("198211", "simethicone 80 MG Chewable Tablet"),
]

# (SNOMED, display) — procedures no rule reads.
_PROCEDURES: list[tuple[str, str]] = [
    ("430193006", "Medication reconciliation (procedure)"),
    ("171207006", "Depression screening (procedure)"),
    ("710824005", "Assessment of health and social care needs (procedure)"),
]


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _ref(kind: str, ident: str) -> dict[str, str]:
    return {"reference": f"{kind}/{ident}"}


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _category(code: str, display: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": OBS_CATEGORY, "code": code, "display": display}], "text": display}]


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": round(value, 2), "unit": unit, "system": UCUM, "code": unit}


def _patient() -> Resource:
    return {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
        "identifier": [{"system": "https://calf-cds.example.org/bench-mrn", "value": "BENCH-0001"}],
        "name": [{"use": "official", "family": "Benchmark", "given": ["Synthetic"]}],
        "gender": "female",
        "birthDate": "1961-04-17",
        "address": [{"city": "Springfield", "state": "MA", "country": "US"}],
    }


def _encounter(ident: str, when: datetime, status: str) -> Resource:
    period: dict[str, str] = {"start": _iso(when)}
    if status == "finished":
        period["end"] = _iso(when + timedelta(minutes=30))
    return {
        "resourceType": "Encounter",
        "id": ident,
        "status": status,
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "type": [_concept(SNOMED, "185349003", "Encounter for check up (procedure)")],
        "subject": _ref("Patient", PATIENT_ID),
        "period": period,
    }


def _condition(ident: str, system: str, code: str, display: str, onset: datetime) -> Resource:
    return {
        "resourceType": "Condition",
        "id": ident,
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
        "verificationStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
            "code": "problem-list-item"}]}],
        "code": _concept(system, code, display),
        "subject": _ref("Patient", PATIENT_ID),
        "onsetDateTime": _iso(onset),
        "recordedDate": _iso(onset),
    }


def _medication_request(ident: str, rxnorm: str, display: str, authored: datetime) -> Resource:
    return {
        "resourceType": "MedicationRequest",
        "id": ident,
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": _concept(RXNORM, rxnorm, display),
        "subject": _ref("Patient", PATIENT_ID),
        "authoredOn": _iso(authored),
        "dosageInstruction": [{"text": "1 tablet by mouth once daily", "timing": {
            "repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}}],
    }


def _observation(ident: str, when: datetime, code: str, display: str, category: tuple[str, str],
                 value: float, unit: str, encounter: str) -> Resource:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "category": _category(*category),
        "code": _concept(LOINC, code, display),
        "subject": _ref("Patient", PATIENT_ID),
        "encounter": _ref("Encounter", encounter),
        "effectiveDateTime": _iso(when),
        "issued": _iso(when + timedelta(hours=2)),
        "valueQuantity": _quantity(value, unit),
    }


def _bp_panel(ident: str, when: datetime, rng: random.Random, encounter: str) -> Resource:
    code, display = _BP_PANEL
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "category": _category("vital-signs", "Vital signs"),
        "code": _concept(LOINC, code, display),
        "subject": _ref("Patient", PATIENT_ID),
        "encounter": _ref("Encounter", encounter),
        "effectiveDateTime": _iso(when),
        "component": [
            {"code": _concept(LOINC, "8480-6", "Systolic blood pressure"),
             "valueQuantity": _quantity(rng.uniform(118, 142), "mm[Hg]")},
            {"code": _concept(LOINC, "8462-4", "Diastolic blood pressure"),
             "valueQuantity": _quantity(rng.uniform(72, 90), "mm[Hg]")},
        ],
    }


def _procedure(ident: str, code: str, display: str, when: datetime) -> Resource:
    return {
        "resourceType": "Procedure",
        "id": ident,
        "status": "completed",
        "code": _concept(SNOMED, code, display),
        "subject": _ref("Patient", PATIENT_ID),
        "performedPeriod": {"start": _iso(when), "end": _iso(when + timedelta(minutes=15))},
    }


def _core(now: datetime) -> list[Resource]:
    """What every size holds: the patient, today's encounter, calf pain, statin, diuretic,
    and the most recent potassium and CK (so the statin and electrolyte cards fire)."""
    return [
        _patient(),
        _encounter(ENCOUNTER_ID, now - timedelta(hours=2), "in-progress"),
        {
            **_condition(f"{PATIENT_ID}-cond-calf-pain", SNOMED, "300954003",
                         "Pain in calf (finding)", now - timedelta(days=9)),
            "category": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                "code": "encounter-diagnosis"}]}],
            "encounter": _ref("Encounter", ENCOUNTER_ID),
        },
        _medication_request(f"{PATIENT_ID}-medreq-atorvastatin", "617310",
                            "atorvastatin 20 MG Oral Tablet", now - timedelta(days=120)),
        _medication_request(f"{PATIENT_ID}-medreq-furosemide", "310429",
                            "furosemide 20 MG Oral Tablet", now - timedelta(days=200)),
        _observation(f"{PATIENT_ID}-obs-k-latest", now - timedelta(days=3), _LABS[0][0], _LABS[0][1],
                     ("laboratory", "Laboratory"), _LABS[0][3], _LABS[0][2], ENCOUNTER_ID),
    ]


def synthetic_resources(n: int, *, seed: int = 20261121, now: datetime = EVALUATION_TIME) -> list[Resource]:
    """Exactly ``n`` resources of the mix described in the module docstring."""
    core = _core(now)
    if n < len(core):
        raise ValueError(f"a benchmark chart needs at least {len(core)} resources")
    rng = random.Random(seed)
    rest = n - len(core)
    # Proportions of a long outpatient chart: ~80 % vital signs, ~10 % labs, the remainder
    # encounters, conditions, medication orders and procedures.
    n_labs = max(1, rest // 10) if rest else 0
    n_enc = rest // 40
    n_cond = min(len(_CONDITIONS) * 4, rest // 50)
    n_meds = min(len(_OTHER_MEDS) * 4, rest // 50)
    n_proc = rest // 50
    n_vitals = rest - n_labs - n_enc - n_cond - n_meds - n_proc
    out = list(core)
    encounters = [ENCOUNTER_ID] + [f"{PATIENT_ID}-enc-{i}" for i in range(n_enc)]

    def when(i: int, count: int) -> datetime:
        # Spread evenly back over the history, newest first (index 0 = most recent).
        return now - timedelta(days=1 + (HISTORY_DAYS * i) / max(count, 1), hours=rng.uniform(0, 8))

    for i in range(n_enc):
        out.append(_encounter(encounters[i + 1], when(i, n_enc), "finished"))
    for i in range(n_labs):
        code, display, unit, latest, (low, high) = _LABS[i % len(_LABS)]
        value = latest if i < len(_LABS) else rng.uniform(low, high)
        out.append(_observation(f"{PATIENT_ID}-lab-{i}", when(i // len(_LABS), max(n_labs // len(_LABS), 1)),
                                code, display, ("laboratory", "Laboratory"), value, unit,
                                encounters[i % len(encounters)]))
    for i in range(n_cond):
        system, code, display = _CONDITIONS[i % len(_CONDITIONS)]
        out.append(_condition(f"{PATIENT_ID}-cond-{i}", system, code, display, when(i, n_cond)))
    for i in range(n_meds):
        rxnorm, display = _OTHER_MEDS[i % len(_OTHER_MEDS)]
        out.append(_medication_request(f"{PATIENT_ID}-medreq-{i}", rxnorm, display, when(i, n_meds)))
    for i in range(n_proc):
        code, display = _PROCEDURES[i % len(_PROCEDURES)]
        out.append(_procedure(f"{PATIENT_ID}-proc-{i}", code, display, when(i, n_proc)))
    kinds = len(_VITALS) + 1
    for i in range(n_vitals):
        at = when(i // kinds, max(n_vitals // kinds, 1))
        encounter = encounters[(i // kinds) % len(encounters)]
        k = i % kinds
        if k == len(_VITALS):
            out.append(_bp_panel(f"{PATIENT_ID}-vital-{i}", at, rng, encounter))
        else:
            code, display, unit, low, high = _VITALS[k]
            out.append(_observation(f"{PATIENT_ID}-vital-{i}", at, code, display,
                                    ("vital-signs", "Vital signs"), rng.uniform(low, high), unit, encounter))
    assert len(out) == n
    return out


def synthetic_bundle(n: int, *, seed: int = 20261121) -> dict[str, Any]:
    """A transaction Bundle of ``n`` synthetic resources (the fixtures' shape)."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": f"urn:uuid:bench-{i}", "resource": r,
             "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
            for i, r in enumerate(synthetic_resources(n, seed=seed))
        ],
    }


def hook_request(n: int) -> dict[str, Any]:
    """A patient-view request with full prefetch holding the ``n``-resource chart."""
    request = request_from_bundle(synthetic_bundle(n), PATIENT_ID, ENCOUNTER_ID)
    request["hookInstance"] = "4f3ad1b2-6c1e-4d8e-9a57-2f0f4f6b6c01"  # fixed: same bytes every run
    request["context"]["userId"] = "Practitioner/bench-clinician"
    return request


def check_valid(resources: list[Resource]) -> None:
    """Raise if any resource fails ``fhir.resources.R4B`` validation (generator self-check)."""
    from bench.naive import validate_all

    validate_all(resources)
