"""``rx-statin-baseline``: a new statin while muscle symptoms, a raised CK or a TSH above
range are on file (or symptoms are recorded and no CK precedes the start).

Sources: 2018 AHA/ACC Guideline on the Management of Blood Cholesterol, Section 5 (statin
safety): a baseline CK is reasonable in patients at increased risk of muscle events
(COR IIa, e.g. personal or family history of statin intolerance or muscle disease), and
hypothyroidism should be looked for in statin-associated muscle symptoms; 2013 ACC/AHA
cholesterol guideline safety recommendations (baseline CK in individuals at increased
risk; evaluate for hypothyroidism, which predisposes to myopathy). A new statin is a
draft statin for a patient with no current statin on file. Suggests CK, and TSH when none
is on file within ``context_lab_window_days`` (12 months).
"""

from __future__ import annotations

from cds_service.clinical.facts import CK, STATIN, TSH, PatientFacts
from cds_service.clinical.findings import Finding, Indicator
from cds_service.clinical.orders.common import draft_evidence, drafts_in
from cds_service.clinical.rules.labs import describe, is_high, lab_line, upper_limit
from cds_service.clinical.rules.shape import FindingBuilder
from cds_service.clinical.rules.symptoms import symptom_findings, symptom_text
from cds_service.config import ClinicalSettings

TOPIC = "rx-statin-baseline"
DEFAULT_INDICATOR: Indicator = "info"


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> list[Finding]:
    if facts.medications_in(STATIN):
        return []  # not a new start: the statin-muscle card reviews a current statin
    drafts = drafts_in(facts, STATIN)
    if not drafts:
        return []
    symptoms = symptom_findings(facts, cfg)
    ck = facts.latest(CK, cfg.context_lab_window_days)
    tsh = facts.latest(TSH, cfg.context_lab_window_days)
    ck_high = ck is not None and is_high(ck, cfg.ck_default_uln_u_l)
    tsh_high = tsh is not None and is_high(tsh, cfg.tsh_default_uln)
    if not (symptoms or ck_high or tsh_high):
        return []
    reasons: list[str] = []
    if symptoms:
        reasons.append(f"muscle or leg symptoms on file ({symptom_text(symptoms)})")
    if ck_high and ck is not None:
        reasons.append(f"CK above its upper limit ({describe(ck)}; ULN "
                       f"{upper_limit(ck, cfg.ck_default_uln_u_l):g} U/L)")
    if tsh_high and tsh is not None:
        reasons.append(f"TSH above its upper limit ({describe(tsh)})")
    suggestions = ["order-ck"] + (["order-tsh"] if tsh is None else [])
    out = []
    for draft in drafts:
        card = FindingBuilder(TOPIC).rows([draft_evidence(draft, "Draft statin order")])
        card.symptoms(symptoms).labs(ck, tsh)
        out.append(card.build(
            {
                "statin_name": draft.display,
                "draft_order": draft.resource_ref,
                "reasons": "; ".join(reasons),
                "basis": "symptoms" if symptoms else ("ck" if ck_high else "tsh"),
                "ck": lab_line(ck, cfg.context_lab_window_days),
                "tsh": lab_line(tsh, cfg.context_lab_window_days),
            },
            suggestions=suggestions,
            draft_order=draft.resource_ref,
        ))
    return out
