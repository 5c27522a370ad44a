"""``rx-diuretic-electrolytes``: a draft potassium-wasting diuretic (thiazide or
thiazide-like, loop, carbonic anhydrase inhibitor) without potassium and magnesium results
within ``electrolyte_window_days`` (90), or with a low one (then ``warning``).

Sources: clinical.md §1.3 and §5.2 (thiazide, loop and CAI diuretics lower K; thiazide and
loop diuretics lower Mg); CMDT hypomagnesaemia (diuretic cause; hypokalaemia may not
correct until magnesium is repleted); low K < 3.5 mmol/L and low Mg < 0.70 mmol/L unless
the lab's interpretation or reference range says otherwise (``rules/labs.py``). Fresh
normal K and Mg stay silent. Suggests a basic metabolic panel (LOINC 24321-2) and
magnesium (LOINC 2601-3).
"""

from __future__ import annotations

from cds_service.clinical.facts import K_WASTING_DIURETICS, MAGNESIUM, POTASSIUM, PatientFacts
from cds_service.clinical.findings import Finding, Indicator
from cds_service.clinical.orders.common import draft_evidence, drafts_in
from cds_service.clinical.rules.labs import is_low, lab_line
from cds_service.clinical.rules.shape import FindingBuilder
from cds_service.config import ClinicalSettings

TOPIC = "rx-diuretic-electrolytes"
DEFAULT_INDICATOR: Indicator = "info"


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> list[Finding]:
    drafts = drafts_in(facts, *K_WASTING_DIURETICS)
    if not drafts:
        return []
    window = cfg.electrolyte_window_days
    k = facts.latest(POTASSIUM, window)
    mg = facts.latest(MAGNESIUM, window)
    low = [name for name, lab, cutoff in (("potassium", k, cfg.potassium_low_mmol_l),
                                          ("magnesium", mg, cfg.magnesium_low_mmol_l))
           if lab is not None and is_low(lab, cutoff)]
    missing = [name for name, lab in (("potassium", k), ("magnesium", mg)) if lab is None]
    if not low and not missing:
        return []
    out = []
    for draft in drafts:
        card = FindingBuilder(TOPIC).rows([draft_evidence(draft, "Draft diuretic order")]).labs(k, mg)
        out.append(card.build(
            {
                "diuretic_name": draft.display,
                "draft_order": draft.resource_ref,
                "state": "low" if low else "missing",
                "low": " and ".join(low) or "none",
                "missing": " and ".join(missing) or "none",
                "window_days": str(window),
                "potassium": lab_line(k, window),
                "magnesium": lab_line(mg, window),
            },
            suggestions=("order-bmp", "order-magnesium"),
            indicator="warning" if low else None,
            draft_order=draft.resource_ref,
        ))
    return out
