"""Vitamin D deficiency in a patient with muscle symptoms or on a statin.

Sources (clinical.md §1.6, §2.3, §5.3): Endocrine Society 2011 (Holick et al.): deficiency
< 20 ng/mL (< 50 nmol/L); the 2024 update no longer calls 20-29 "insufficient" in healthy
people, so only < 20 fires. Low vitamin D is a reported risk factor for statin muscle
symptoms (PMC5135450) and 2013 ACC/AHA lists it among conditions to evaluate.

Only the configured cut-off decides: laboratories often flag 20-29 ng/mL as low
(insufficiency), so a lab "L" flag is not read as deficiency here.
"""

from __future__ import annotations

from cds_service.clinical.facts import STATIN, VITAMIN_D, PatientFacts
from cds_service.clinical.findings import Finding, Indicator
from cds_service.clinical.rules.labs import certainly_below, fmt_number
from cds_service.clinical.rules.shape import FindingBuilder
from cds_service.clinical.rules.symptoms import symptom_findings
from cds_service.config import ClinicalSettings

TOPIC = "vitamin-d-deficiency"
DEFAULT_INDICATOR: Indicator = "info"


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire on a deficient latest 25-OH D within the window AND (symptoms OR a statin)."""
    vit_d = facts.latest(VITAMIN_D, cfg.vitamin_d_window_days)
    if vit_d is None or not certainly_below(vit_d, cfg.vitamin_d_deficient_ng_ml):
        return None
    symptoms = symptom_findings(facts, cfg)
    statins = facts.medications_in(STATIN)
    if not symptoms and not statins:
        return None
    value = vit_d.reported
    if vit_d.unit.lower() not in value.lower():
        value += f" = {fmt_number(vit_d.value)} {vit_d.unit}"
    card = FindingBuilder(TOPIC).labs(vit_d, what="25-OH vitamin D").symptoms(symptoms)
    return card.medications(statins, "Current statin").build(
        {
            "vitamin_d_value": value,
            "vitamin_d_date": vit_d.effective.date().isoformat(),
            "cutoff": fmt_number(cfg.vitamin_d_deficient_ng_ml),
            "cutoff_nmol": str(round(cfg.vitamin_d_deficient_ng_ml * 2.496)),
            "context": "both" if symptoms and statins else ("statin" if statins else "symptoms"),
        },
    )
