"""``rx-compression-pad``: a draft order for compression stockings or bandaging
(ServiceRequest or DeviceRequest) while peripheral artery disease is documented or the
latest ankle-brachial index is below ``abi_compression_min`` (0.8).

Sources: NICE NG89 (2018, updated 2019), recommendation 1.3: do not offer anti-embolism
stockings to people who have suspected or proven peripheral arterial disease; NICE CKS
"Leg ulcer - venous" and SIGN 120 (2010): compression is applied only when the ABPI is
0.8 or more, and needs specialist assessment below it. Suggests removing the draft and,
when no ABI is on file, a resting ABI (CPT 93922: no LOINC code for ABI is verified,
clinical.md §2.6; 2016 AHA/ACC PAD guideline, Class I).
"""

from __future__ import annotations

from cds_service.clinical.facts import ABI, PAD, PatientFacts
from cds_service.clinical.findings import Finding, Indicator
from cds_service.clinical.orders.common import draft_evidence
from cds_service.clinical.orders.devices import COMPRESSION
from cds_service.clinical.rules.labs import certainly_below, describe, fmt_number
from cds_service.clinical.rules.shape import FindingBuilder, current
from cds_service.config import ClinicalSettings

TOPIC = "rx-compression-pad"
DEFAULT_INDICATOR: Indicator = "warning"


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> list[Finding]:
    drafts = [o for o in facts.draft_orders if COMPRESSION in o.groups]
    if not drafts:
        return []
    pad = current(facts, PAD)
    abi = facts.latest(ABI)
    abi_low = abi is not None and certainly_below(abi, cfg.abi_compression_min)
    if not pad and not abi_low:
        return []
    reasons = []
    if pad:
        reasons.append("peripheral artery disease documented (" + "; ".join(
            dict.fromkeys(f.display for f in pad)) + ")")
    if abi_low and abi is not None:
        reasons.append(f"latest ankle-brachial index {describe(abi)} is below "
                       f"{fmt_number(cfg.abi_compression_min)}")
    out = []
    for draft in drafts:
        card = FindingBuilder(TOPIC).rows([draft_evidence(draft, "Draft compression order")])
        card.findings(pad, "Peripheral artery disease").labs(abi, what="Ankle-brachial index")
        out.append(card.build(
            {
                "order_name": draft.display,
                "draft_order": draft.resource_ref,
                "reasons": "; ".join(reasons),
                "abi": describe(abi) if abi is not None else "none on file",
                "abi_min": fmt_number(cfg.abi_compression_min),
            },
            suggestions=("remove-draft", "order-abi") if abi is None else ("remove-draft",),
            draft_order=draft.resource_ref,
        ))
    return out
