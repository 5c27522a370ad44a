"""Low potassium or magnesium without a potassium-wasting diuretic.

Sources (clinical.md §2.1, §2.2, §5.2): hypokalaemia < 3.5 mmol/L, severe < 2.5 mmol/L;
hypomagnesaemia < 0.70 mmol/L (configurable; cut-offs vary); "critical" magnesium
< 0.5 mmol/L (issue 7 brief); CMDT: hypokalaemia may not correct until magnesium is
repleted. Same cut-offs, windows and reference-range precedence as the diuretic card
(``diuretic-electrolyte-depletion``), which covers patients on a K-wasting diuretic.

Fires with leg/muscle symptoms (the symptom gate); a critical value fires without them.
Digoxin on file raises the card to critical: hypokalaemia and hypomagnesaemia increase the
risk of digoxin toxicity (LANOXIN label, Warnings and Precautions).
"""

from __future__ import annotations

from cds_service.clinical.facts import (
    DIGOXIN,
    K_WASTING_DIURETICS,
    MAGNESIUM,
    POTASSIUM,
    LabResult,
    PatientFacts,
)
from cds_service.clinical.findings import Finding, Indicator
from cds_service.clinical.rules.labs import certainly_below, fmt_number, is_low
from cds_service.clinical.rules.shape import FindingBuilder
from cds_service.clinical.rules.symptoms import symptom_findings
from cds_service.config import ClinicalSettings

TOPIC = "electrolyte-deficiency"
DEFAULT_INDICATOR: Indicator = "warning"


def low_electrolytes(
    facts: PatientFacts, cfg: ClinicalSettings
) -> tuple[LabResult | None, LabResult | None, bool, bool, bool]:
    """(K, Mg, K low, Mg low, critical) with the diuretic card's cut-offs and window."""
    window = cfg.electrolyte_window_days
    k = facts.latest(POTASSIUM, window)
    mg = facts.latest(MAGNESIUM, window)
    k_critical = k is not None and certainly_below(k, cfg.potassium_critical_mmol_l)
    mg_critical = mg is not None and certainly_below(mg, cfg.magnesium_critical_mmol_l)
    k_low = k is not None and (k_critical or is_low(k, cfg.potassium_low_mmol_l))
    mg_low = mg is not None and (mg_critical or is_low(mg, cfg.magnesium_low_mmol_l))
    return k, mg, k_low, mg_low, k_critical or mg_critical


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire for a low K or Mg AND no current K-wasting diuretic AND (symptoms OR a
    critical value)."""
    if facts.medications_in(*K_WASTING_DIURETICS):
        return None
    k, mg, k_low, mg_low, critical = low_electrolytes(facts, cfg)
    if not (k_low or mg_low):
        return None
    symptoms = symptom_findings(facts, cfg)
    if not symptoms and not critical:
        return None
    digoxin = facts.medications_in(DIGOXIN)
    low_parts = []
    if k is not None and k_low:
        low_parts.append(f"potassium {fmt_number(k.value)} {k.unit}")
    if mg is not None and mg_low:
        low_parts.append(f"magnesium {fmt_number(mg.value)} {mg.unit}")
    card = FindingBuilder(TOPIC).labs(k if k_low else None, mg if mg_low else None)
    card.symptoms(symptoms).medications(digoxin, "Digoxin")
    return card.build(
        {
            "low_summary": " and ".join(low_parts),
            "severity": "critical" if critical else "standard",
            "k_critical": fmt_number(cfg.potassium_critical_mmol_l),
            "mg_critical": fmt_number(cfg.magnesium_critical_mmol_l),
            "digoxin_status": "present" if digoxin else "absent",
        },
        suggestions=[s for s, lab in (("order-potassium", k), ("order-magnesium", mg)) if lab is None],
        indicator="critical" if critical or digoxin else None,
    )
