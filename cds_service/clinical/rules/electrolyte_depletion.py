"""Potassium-wasting diuretic with low potassium or magnesium.

Sources (clinical.md §1.3, §2.1, §2.2, §5.2): thiazide/thiazide-like, loop and carbonic
anhydrase inhibitor diuretics waste K (and, except CAIs, Mg); hypokalaemia < 3.5 mmol/L,
severe < 2.5 mmol/L (conventional definition, public clinical summaries); hypomagnesaemia
< 0.70 mmol/L (ESPEN/ASPEN summaries; CMDT uses 0.75, StatPearls 0.60: configurable);
CMDT: hypokalaemia may not correct until magnesium is repleted.

"Low" follows the precedence in ``labs``: the lab's interpretation, else its reference
range, else the configured cut-off. "Critical" (K < 2.5) always uses the configured value.
A product that also contains a K-sparing agent still counts (§1.3) and the card says so.
Digoxin on file raises the card to critical: hypokalaemia and hypomagnesaemia increase the
risk of digoxin toxicity (LANOXIN label, Warnings and Precautions; issue 7).
"""

from __future__ import annotations

from cds_service.clinical.facts import (
    DIGOXIN,
    DIURETIC_K_SPARING,
    K_WASTING_DIURETICS,
    MAGNESIUM,
    POTASSIUM,
    PatientFacts,
)
from cds_service.clinical.findings import Evidence, Finding, Indicator
from cds_service.clinical.rules.chart import join, medication_evidence, medication_text
from cds_service.clinical.rules.labs import (
    certainly_below,
    fmt_number,
    is_low,
    lab_evidence,
)
from cds_service.config import ClinicalSettings

TOPIC = "diuretic-electrolyte-depletion"
DEFAULT_INDICATOR: Indicator = "warning"


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire for a K-wasting diuretic AND a low latest K or Mg within the window."""
    diuretics = facts.medications_in(*K_WASTING_DIURETICS)
    if not diuretics:
        return None
    window = cfg.electrolyte_window_days
    k = facts.latest(POTASSIUM, window)
    mg = facts.latest(MAGNESIUM, window)
    k_critical = k is not None and certainly_below(k, cfg.potassium_critical_mmol_l)
    k_low = k is not None and (k_critical or is_low(k, cfg.potassium_low_mmol_l))
    mg_low = mg is not None and is_low(mg, cfg.magnesium_low_mmol_l)
    if not (k_low or mg_low):
        return None

    low_parts = []
    if k is not None and k_low:
        low_parts.append(f"potassium {fmt_number(k.value)} {k.unit}")
    if mg is not None and mg_low:
        low_parts.append(f"magnesium {fmt_number(mg.value)} {mg.unit}")
    k_sparing = facts.medications_in(DIURETIC_K_SPARING)
    digoxin = facts.medications_in(DIGOXIN)
    evidence: list[Evidence] = [medication_evidence(m, "K-wasting diuretic") for m in diuretics]
    evidence += [lab_evidence(lab) for lab in (k, mg) if lab is not None]
    evidence += [
        medication_evidence(m, "K-sparing agent") for m in k_sparing if m not in diuretics
    ]
    evidence += [medication_evidence(m, "Digoxin") for m in digoxin]
    return Finding(
        topic=TOPIC,
        indicator="critical" if k_critical or digoxin else None,
        values={
            "diuretic": join(medication_text(m) for m in diuretics),
            "diuretic_name": join(m.display for m in diuretics),
            "low_summary": " and ".join(low_parts),
            "k_critical": fmt_number(cfg.potassium_critical_mmol_l),
            "severity": "critical" if k_critical else "standard",
            "k_sparing_status": "present" if k_sparing else "absent",
            "digoxin_status": "present" if digoxin else "absent",
        },
        evidence=tuple(evidence),
        suggestions=("order-potassium", "order-magnesium"),
    )
