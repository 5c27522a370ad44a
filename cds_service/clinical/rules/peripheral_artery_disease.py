"""Leg symptoms with documented PAD/claudication or an abnormal ankle-brachial index.

Sources (clinical.md §2.6, §3, §5.5): 2016 AHA/ACC Guideline on Lower-Extremity PAD: ABI
<= 0.90 abnormal, 0.91-0.99 borderline, > 1.40 noncompressible (Class I, LOE C-LD); resting
ABI to establish the diagnosis when PAD is suspected (Class I, LOE B-NR). The latest ABI
on file is used whatever its age: PAD is chronic and an ABI is rarely repeated.
"""

from __future__ import annotations

from cds_service.clinical.facts import ABI, PAD, PatientFacts
from cds_service.clinical.findings import Finding, Indicator
from cds_service.clinical.rules.labs import certainly_at_most, fmt_number
from cds_service.clinical.rules.shape import FindingBuilder, current
from cds_service.clinical.rules.symptoms import leg_symptom_findings
from cds_service.config import ClinicalSettings

TOPIC = "peripheral-artery-disease"
DEFAULT_INDICATOR: Indicator = "info"


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire for the symptom gate AND (current PAD condition OR latest ABI <= 0.90)."""
    symptoms = leg_symptom_findings(facts, cfg)
    if not symptoms:
        return None
    pad = current(facts, PAD)
    abi = facts.latest(ABI)
    abi_low = abi is not None and certainly_at_most(abi, cfg.abi_pad_max)
    if not pad and not abi_low:
        return None
    if pad and abi_low:
        basis = "both"
    else:
        basis = "condition" if pad else "abi"
    card = FindingBuilder(TOPIC).symptoms(symptoms).findings(pad, "PAD / claudication")
    return card.labs(abi, what="Ankle-brachial index").build(
        {
            "basis": basis,
            "abi_value": fmt_number(abi.value) if abi is not None else "",
            "abi_status": "present" if abi is not None else "missing",
        },
    )
