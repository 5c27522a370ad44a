"""``rx-fluoroquinolone-tendon``: a draft systemic fluoroquinolone for a patient over 60, on
a systemic corticosteroid (on file or in the same drafts), with a kidney, heart or lung
transplant, or with tendon, Achilles or calf pain on file.

Source: FDA boxed warning for systemic fluoroquinolones (2008, strengthened 2016):
tendinitis and tendon rupture; the risk is further increased in patients over 60, taking
corticosteroids, and with kidney, heart or lung transplants; avoid in patients with a
history of tendon disorders. Local (eye, ear) preparations are not systemic and do not
count (terminology's local-route rule). A 40-year-old without these risks stays silent.
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
from cds_service.clinical.orders.common import draft_evidence, drafts_in, other_drugs, where
from cds_service.clinical.rules.chart import join, medication_text
from cds_service.clinical.rules.shape import FindingBuilder, current
from cds_service.clinical.rules.symptoms import recent_in, symptom_text
from cds_service.config import ClinicalSettings

TOPIC = "rx-fluoroquinolone-tendon"
DEFAULT_INDICATOR: Indicator = "warning"


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> list[Finding]:
    out = []
    for draft in drafts_in(facts, FLUOROQUINOLONE):
        risks: list[str] = []
        age = facts.age_years
        if age is not None and age > cfg.fluoroquinolone_age_over:
            risks.append(f"age {age} (over {cfg.fluoroquinolone_age_over})")
        steroids = [m for m in other_drugs(facts, draft) if CORTICOSTEROID_SYSTEMIC in m.classes]
        if steroids:
            risks.append("systemic corticosteroid: " + join(
                f"{medication_text(m)} ({where(m)})" for m in steroids))
        transplant = current(facts, ORGAN_TRANSPLANT)
        if transplant:
            risks.append("organ transplant: " + join(f.display for f in transplant))
        pain = recent_in(facts, {TENDON_PAIN, CALF_PAIN}, cfg.symptom_window_days)
        if pain:
            risks.append("tendon, Achilles or calf pain on file: " + symptom_text(pain))
        if not risks:
            continue
        card = FindingBuilder(TOPIC).rows([draft_evidence(draft, "Draft fluoroquinolone order")])
        card.medications([m for m in steroids if not m.draft], "Systemic corticosteroid")
        card.rows([draft_evidence(m, "Corticosteroid draft order") for m in steroids if m.draft])
        card.findings(transplant, "Transplant").findings(pain, "Symptom")
        out.append(card.build(
            {
                "fluoroquinolone_name": draft.display,
                "draft_order": draft.resource_ref,
                "risks": "\n".join(f"- {r}" for r in risks),
                "age_over": str(cfg.fluoroquinolone_age_over),
            },
            suggestions=("remove-draft",),
            draft_order=draft.resource_ref,
        ))
    return out
