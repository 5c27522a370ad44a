"""Leg symptoms in a patient with documented diabetic peripheral neuropathy.

Sources (clinical.md §3, §5.6): diabetic neuropathy codes (E08-E13 .4x; SNOMED
368581000119106, 1511000119107, 713705003); glycaemic review with HbA1c (LOINC 4548-4).
The card links the ADA Standards of Care (the neuropathy and foot-care section).
"""

from __future__ import annotations

from cds_service.clinical.facts import DIABETIC_NEUROPATHY, HBA1C, PatientFacts
from cds_service.clinical.findings import Finding, Indicator
from cds_service.clinical.rules.chart import join
from cds_service.clinical.rules.shape import FindingBuilder, current
from cds_service.clinical.rules.symptoms import symptom_findings
from cds_service.config import ClinicalSettings

TOPIC = "diabetic-neuropathy"
DEFAULT_INDICATOR: Indicator = "info"


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire for the symptom gate AND a current diabetic neuropathy condition."""
    symptoms = symptom_findings(facts, cfg)
    if not symptoms:
        return None
    neuropathy = current(facts, DIABETIC_NEUROPATHY)
    if not neuropathy:
        return None
    hba1c = facts.latest(HBA1C, cfg.context_lab_window_days)
    card = FindingBuilder(TOPIC).symptoms(symptoms).findings(neuropathy, "Diabetic neuropathy")
    return card.labs(hba1c, what="HbA1c").build(
        {
            "neuropathy": join(f.display for f in neuropathy),
            "hba1c_status": "present" if hba1c is not None else "missing",
        },
        suggestions=() if hba1c is not None else ("order-hba1c",),
    )
