"""Potassium-wasting diuretic, leg/muscle symptoms, and no recent potassium or magnesium.

Sources (clinical.md §0.6, §2.1, §2.2, §5.2 "or no K in the past N months"): muscle cramps
and weakness are symptoms of hypokalaemia and hypomagnesaemia; a symptomatic patient on a
K-wasting diuretic should have both measured (hypokalaemia may not correct until Mg is
repleted, CMDT). The engine drops this card when the depletion card fires: that card
already suggests both tests.
"""

from __future__ import annotations

from cds_service.clinical.facts import K_WASTING_DIURETICS, MAGNESIUM, POTASSIUM, PatientFacts
from cds_service.clinical.findings import Finding, Indicator
from cds_service.clinical.rules.chart import join, medication_text
from cds_service.clinical.rules.shape import FindingBuilder
from cds_service.clinical.rules.symptoms import symptom_findings
from cds_service.config import ClinicalSettings

TOPIC = "electrolytes-not-monitored"
DEFAULT_INDICATOR: Indicator = "info"


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire for a K-wasting diuretic AND symptoms AND no K or no Mg within the window."""
    diuretics = facts.medications_in(*K_WASTING_DIURETICS)
    if not diuretics:
        return None
    symptoms = symptom_findings(facts, cfg)
    if not symptoms:
        return None
    window = cfg.electrolyte_window_days
    k = facts.latest(POTASSIUM, window)
    mg = facts.latest(MAGNESIUM, window)
    if k is not None and mg is not None:
        return None
    missing = [name for name, lab in (("potassium", k), ("magnesium", mg)) if lab is None]
    card = FindingBuilder(TOPIC).medications(diuretics, "K-wasting diuretic").symptoms(symptoms)
    return card.labs(k, mg).build(
        {
            "diuretic": join(medication_text(m) for m in diuretics),
            "missing": " or ".join(missing),
            "window_days": str(window),
        },
        suggestions=[f"order-{name}" for name in missing],
    )
