"""Fluoroquinolone (current or ended within 30 days) with Achilles, heel, calf or tendon pain.

Source: FDA boxed warning for systemic fluoroquinolones (July 2008; strengthened 2016):
tendinitis and tendon rupture, most often the Achilles tendon, also months after the
course; the risk is further increased over age 60, with corticosteroids, and in kidney,
heart and lung transplant recipients. The label advises stopping the fluoroquinolone at
the first sign of tendon pain. Windows: issue-7 brief (30 days after the course).
"""

from __future__ import annotations

from cds_service.clinical.facts import (
    CALF_PAIN,
    CORTICOSTEROID_SYSTEMIC,
    FLUOROQUINOLONE,
    ORGAN_TRANSPLANT,
    TENDON_PAIN,
    PatientFacts,
)
from cds_service.clinical.findings import Finding, Indicator
from cds_service.clinical.rules.chart import join, medication_text, within_days
from cds_service.clinical.rules.labs import iso_date
from cds_service.clinical.rules.shape import FindingBuilder, current
from cds_service.clinical.rules.symptoms import recent_in, symptom_text
from cds_service.config import ClinicalSettings

TOPIC = "fluoroquinolone-tendon-risk"
DEFAULT_INDICATOR: Indicator = "warning"


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire for a fluoroquinolone in the window AND recent tendon/Achilles/heel/calf pain."""
    window = cfg.fluoroquinolone_window_days
    now_on = facts.medications_in(FLUOROQUINOLONE)
    ended = [m for m in facts.recent_medications_in(FLUOROQUINOLONE)
             if within_days(facts.now, m.ended, window)]
    if not now_on and not ended:
        return None
    pain = recent_in(facts, {TENDON_PAIN, CALF_PAIN}, cfg.symptom_window_days)
    if not pain:
        return None
    risks: list[str] = []
    age = facts.age_years
    if age is not None and age > cfg.fluoroquinolone_age_over:
        risks.append(f"age {age} (over {cfg.fluoroquinolone_age_over})")
    steroids = facts.medications_in(CORTICOSTEROID_SYSTEMIC)
    if steroids:
        risks.append("a systemic corticosteroid")
    transplant = current(facts, ORGAN_TRANSPLANT)
    if transplant:
        risks.append("an organ transplant")
    courses = [medication_text(m) for m in now_on]
    courses += [f"{medication_text(m)} (ended {iso_date(m.ended)})" for m in ended]
    card = FindingBuilder(TOPIC).medications(now_on, "Fluoroquinolone")
    card.medications(ended, "Fluoroquinolone (ended)").findings(pain, "Symptom")
    card.medications(steroids, "Systemic corticosteroid").findings(transplant, "Transplant")
    return card.build({
        "fluoroquinolone_name": join(m.display for m in [*now_on, *ended]),
        "fluoroquinolone": "; ".join(courses),
        "status": "current" if now_on else "ended",
        "symptoms": symptom_text(pain),
        "risks": "; ".join(risks) or "none of them found in the chart",
        "age_over": str(cfg.fluoroquinolone_age_over),
    })
