"""Leg symptoms in a patient with documented diabetic peripheral neuropathy.

Sources (clinical.md §3, §5.6): diabetic neuropathy codes (E08-E13 .4x; SNOMED
368581000119106, 1511000119107, 713705003); glycaemic review with HbA1c (LOINC 4548-4).
The ADA Standards of Care neuropathy recommendations were not retrieved: cited "to verify".
"""

from __future__ import annotations

from cds_service.clinical.facts import DIABETIC_NEUROPATHY, HBA1C, PatientFacts
from cds_service.clinical.findings import Evidence, Finding, Indicator
from cds_service.clinical.rules.chart import current_in, finding_evidence
from cds_service.clinical.rules.labs import lab_evidence, lab_line
from cds_service.clinical.rules.symptoms import symptom_evidence, symptom_findings, symptom_text
from cds_service.config import ClinicalSettings

TOPIC = "diabetic-neuropathy"
DEFAULT_INDICATOR: Indicator = "info"


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire for the symptom gate AND a current diabetic neuropathy condition."""
    symptoms = symptom_findings(facts, cfg)
    if not symptoms:
        return None
    neuropathy = current_in(facts.findings_in(DIABETIC_NEUROPATHY), facts.now)
    if not neuropathy:
        return None
    hba1c = facts.latest(HBA1C, cfg.context_lab_window_days)
    evidence: list[Evidence] = list(symptom_evidence(symptoms))
    evidence += [finding_evidence(f, "Diabetic neuropathy") for f in neuropathy]
    if hba1c is not None:
        evidence.append(lab_evidence(hba1c, "HbA1c"))
    return Finding(
        topic=TOPIC,
        indicator=None,
        values={
            "symptoms": symptom_text(symptoms),
            "neuropathy": "; ".join(f.display for f in neuropathy),
            "hba1c": lab_line(hba1c, cfg.context_lab_window_days),
        },
        evidence=tuple(evidence),
        suggestions=() if hba1c is not None else ("order-hba1c",),
    )
