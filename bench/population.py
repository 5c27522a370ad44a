"""A synthetic population for the alert-burden benchmark, generated at run time.

Charts come from ``carebundle`` (PyPI; extra ``bench``): US Core R4 patients of its five
profiles (healthy, hypertension, type 2 diabetes, CKD stage 3, anaemia) with their
conditions, prescriptions (statins, thiazides, loop diuretics ...), a metabolic panel and
vital signs, generated with a fixed seed (byte-identical for a seed). Nothing is
committed. Its bulk form (``to_ndjson``) gives every resource an id and plain references.

carebundle models visits, not complaints, so a seeded share of the charts also gets one
recent complaint as an encounter-diagnosis Condition (``SYMPTOMS``): leg-localised
(calf pain, leg swelling of unknown side, a calf spasm), generalised (myalgia, cramps
without a site, weakness), or a PE symptom without a leg symptom (dyspnoea). The
benchmark classifies charts by what the service's own gate reads, not by this draw.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

Resource = dict[str, Any]

SCT = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"

# (slug, codings, text): one complaint each
SYMPTOMS: tuple[tuple[str, list[tuple[str, str, str]], str], ...] = (
    ("calf-pain", [(SCT, "300954003", "Pain in calf (finding)"), (ICD, "M79.669", "Pain in unspecified lower leg")], "Calf pain"),
    ("leg-swelling", [(SCT, "449614009", "Swelling of lower limb (finding)")], "Swelling of leg"),
    ("calf-spasm", [(ICD, "M62.831", "Muscle spasm of calf")], "Muscle spasm of calf"),
    ("myalgia", [(ICD, "M79.10", "Myalgia, unspecified site")], "Myalgia"),
    ("cramps", [(ICD, "R25.2", "Cramp and spasm")], "Cramps"),
    ("weakness", [(ICD, "M62.81", "Muscle weakness (generalized)")], "Muscle weakness"),
    ("dyspnoea", [(SCT, "267036007", "Dyspnea (finding)"), (ICD, "R06.02", "Shortness of breath")], "Shortness of breath"),
)
SYMPTOM_SHARE = 0.3  # of charts that get one complaint


def _complaint(patient_id: str, n: int, rng: random.Random, now: datetime) -> Resource:
    slug, codings, text = rng.choice(SYMPTOMS)
    onset = now - timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 12))
    return {
        "resourceType": "Condition",
        "id": f"alert-burden-{n}-{slug}",
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
        "verificationStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "encounter-diagnosis"}]}],
        "code": {"coding": [{"system": s, "code": c, "display": d} for s, c, d in codings], "text": text},
        "subject": {"reference": f"Patient/{patient_id}"},
        "onsetDateTime": onset.isoformat(),
        "recordedDate": onset.isoformat(),
    }


def charts(count: int, seed: int, now: datetime) -> Iterator[tuple[str, list[Resource]]]:
    """``count`` charts as (patient id, resources), the same for the same seed."""
    from carebundle import generate_cohort, to_ndjson  # extra "bench"

    rng = random.Random(seed)
    reference = date(now.year, now.month, now.day) - timedelta(days=3)
    bundles = generate_cohort(count=count, seed=seed, age_range=(30, 85), reference_date=reference)
    for n, bundle in enumerate(bundles):
        resources = [json.loads(line) for lines in to_ndjson([bundle]).values() for line in lines.splitlines() if line]
        patient_id = next(str(r["id"]) for r in resources if r.get("resourceType") == "Patient")
        if rng.random() < SYMPTOM_SHARE:
            resources.append(_complaint(patient_id, n, rng, now))
        yield patient_id, resources
