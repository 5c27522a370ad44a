"""Helpers shared by the order-sign rules: the drafts of a class, the other drugs a draft
meets (the chart's current medications and the other drafts), evidence rows for drafts."""

from __future__ import annotations

from cds_service.clinical.facts import DraftOrderFact, MedicationFact, PatientFacts
from cds_service.clinical.findings import Evidence


def drafts_in(facts: PatientFacts, *classes: str) -> list[MedicationFact]:
    wanted = set(classes)
    return [m for m in facts.drafts if m.classes & wanted]


def other_drugs(facts: PatientFacts, draft: MedicationFact) -> list[MedicationFact]:
    """What the draft would be taken with: current medications on file and the other drafts."""
    return [*facts.medications, *(d for d in facts.drafts if d is not draft)]


def draft_evidence(draft: MedicationFact | DraftOrderFact, what: str = "Draft order") -> Evidence:
    value = draft.display
    dose = getattr(draft, "dose_text", None)
    if dose and dose.lower() not in value.lower():
        value += f" ({dose})"
    when = draft.started if isinstance(draft, MedicationFact) else draft.authored
    return Evidence(what=what, value=value, date=when, reference=draft.resource_ref)


def where(med: MedicationFact) -> str:
    return "in the same drafts" if med.draft else "on file"
