"""Vitamin D deficiency in a patient with muscle symptoms or on a statin.

Sources (clinical.md §1.6, §2.3, §5.3): Endocrine Society 2011 (Holick et al.): deficiency
< 20 ng/mL (< 50 nmol/L); the 2024 update no longer calls 20-29 "insufficient" in healthy
people, so only < 20 fires. Low vitamin D is a reported risk factor for statin muscle
symptoms (PMC5135450) and 2013 ACC/AHA lists it among conditions to evaluate.

Only the configured cut-off decides: laboratories often flag 20-29 ng/mL as low
(insufficiency), so a lab "L" flag is not read as deficiency here.

Which result (issue 7): the total 25-OH vitamin D (D2 + D3, LOINC 62292-8) first. A
25-OH vitamin D3 fraction (LOINC 1989-3, 14635-7) is read only when no total exists in the
window, is labelled as the D3 fraction on the card, and is not read at all when the
patient takes ergocalciferol (vitamin D2): the D3 fraction then misses the D2 part and a
low value would fake deficiency (the D2 and D3 fractions add up to the total: Corewell
Health catalogue, clinical.md §2.3).
"""

from __future__ import annotations

from cds_service.clinical.facts import (
    STATIN,
    VITAMIN_D,
    VITAMIN_D2_SUPPLEMENT,
    VITAMIN_D3,
    LabResult,
    PatientFacts,
)
from cds_service.clinical.findings import Finding, Indicator
from cds_service.clinical.rules.labs import certainly_below, fmt_number
from cds_service.clinical.rules.shape import FindingBuilder
from cds_service.clinical.rules.symptoms import symptom_findings
from cds_service.config import ClinicalSettings

TOPIC = "vitamin-d-deficiency"
DEFAULT_INDICATOR: Indicator = "info"


# How the card and the evidence table name the result
LABELS = {"total": "25-OH vitamin D", "d3": "25-OH vitamin D3 fraction (no total on file)"}


def vitamin_d_result(facts: PatientFacts, cfg: ClinicalSettings) -> tuple[LabResult, str] | None:
    """The 25-OH vitamin D result to read and its kind ("total" or "d3"), or None."""
    total = facts.latest(VITAMIN_D, cfg.vitamin_d_window_days)
    if total is not None:
        return total, "total"
    d3 = facts.latest(VITAMIN_D3, cfg.vitamin_d_window_days)
    if d3 is None:
        return None
    if facts.medications_in(VITAMIN_D2_SUPPLEMENT) or \
            facts.recent_medications_in(VITAMIN_D2_SUPPLEMENT):
        return None  # on ergocalciferol: the D3 fraction alone understates 25-OH D
    return d3, "d3"


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire on a deficient latest 25-OH D within the window AND (symptoms OR a statin)."""
    found = vitamin_d_result(facts, cfg)
    if found is None:
        return None
    vit_d, kind = found
    if not certainly_below(vit_d, cfg.vitamin_d_deficient_ng_ml):
        return None
    symptoms = symptom_findings(facts, cfg)
    statins = facts.medications_in(STATIN)
    if not symptoms and not statins:
        return None
    value = vit_d.reported
    if vit_d.unit.lower() not in value.lower():
        value += f" = {fmt_number(vit_d.value)} {vit_d.unit}"
    card = FindingBuilder(TOPIC).labs(vit_d, what=LABELS[kind]).symptoms(symptoms)
    return card.medications(statins, "Current statin").build(
        {
            "vitamin_d_label": kind,
            "vitamin_d_value": value,
            "vitamin_d_date": vit_d.effective.date().isoformat(),
            "cutoff": fmt_number(cfg.vitamin_d_deficient_ng_ml),
            "cutoff_nmol": str(round(cfg.vitamin_d_deficient_ng_ml * 2.496)),
            "context": "both" if symptoms and statins else ("statin" if statins else "symptoms"),
        },
    )
