"""Extraction of the draft orders of an order-sign call (``context.draftOrders``).

Draft orders are facts like the chart's, marked ``draft`` and kept apart from the chart
(``PatientFacts.drafts`` for MedicationRequests, ``PatientFacts.draft_orders`` for
ServiceRequests and DeviceRequests), so the patient-view rules never see them.

Unlike chart resources they are read whatever their status (an order being signed is
``draft`` or, on re-sign, ``active``); only the fields extraction reads are checked
(``_READ_FIELDS``), and an order without ``intent`` is checked as an ``order``: the
sandbox's Rx Sign view omits ``intent`` on some versions and sends ``category`` as an
object (cds-hooks-2.0.md §11.1), and the order the clinician is signing is an order. A
draft whose read fields fail the R4 structure check is skipped and counted, like a chart
resource.
"""

from __future__ import annotations

from typing import Any

from cds_service.clinical.extract.common import (
    ExtractorBase,
    _codings,
    _concept_text,
    _ref,
    parse_datetime,
)
from cds_service.clinical.extract.medications import _dose_text
from cds_service.clinical.facts import DraftOrderFact, MedicationFact, PatientFacts
from cds_service.clinical.orders.devices import order_groups
from cds_service.record import Resource

DRAFT_TYPES = frozenset({"MedicationRequest", "ServiceRequest", "DeviceRequest"})
# The fields of a draft order extraction reads (and validates); other fields are left alone.
_READ_FIELDS = frozenset({
    "resourceType", "id", "status", "intent", "subject", "authoredOn", "contained",
    "medicationCodeableConcept", "medicationReference", "dosageInstruction", "code",
    "codeCodeableConcept", "codeReference",
})


class DraftsReader(ExtractorBase):
    def drafts(self, facts: PatientFacts) -> None:
        for resource in self.record.drafts:
            rtype = resource.get("resourceType")
            if rtype == "MedicationRequest":
                self._draft_medication(facts, resource)
            elif rtype in ("ServiceRequest", "DeviceRequest"):
                self._draft_order(facts, resource)

    def _valid_draft(self, resource: Resource) -> bool:
        """Check the parts of a draft the rules read (type, id, status, intent, subject,
        authoredOn, the medication or code, dosage). A defect elsewhere does not hide the
        order being signed: the sandbox's Rx Sign view sends ``category`` as an object where
        R4 has a list."""
        kept = {k: v for k, v in resource.items() if k in _READ_FIELDS}
        kept.setdefault("intent", "order")
        return self.valid(kept)

    def _draft_medication(self, facts: PatientFacts, resource: Resource) -> None:
        codings, texts, display, _ = self._medication_concept(resource)  # type: ignore[attr-defined]
        match = self.t.classify_medication(codings, texts)
        if match is None or not self._valid_draft(resource):
            return
        dosage = resource.get("dosageInstruction")
        first = dosage[0] if isinstance(dosage, list) and dosage else None
        facts.drafts.append(MedicationFact(
            display=display or ", ".join(match.ingredients) or "medication",
            classes=match.classes,
            match_path=match.match_path,
            ingredients=match.ingredients,
            dose_text=_dose_text(first),
            started=parse_datetime(resource.get("authoredOn")),
            resource_ref=_ref(resource),
            draft=True,
        ))

    def _draft_order(self, facts: PatientFacts, resource: Resource) -> None:
        concept: Any = resource.get("code")
        if resource.get("resourceType") == "DeviceRequest":
            concept = resource.get("codeCodeableConcept")
        texts = [_concept_text(concept)] if isinstance(concept, dict) else []
        groups = order_groups(_codings(concept), texts)
        if not groups or not self._valid_draft(resource):
            return
        facts.draft_orders.append(DraftOrderFact(
            groups=groups,
            display=_concept_text(concept) or "order",
            resource_ref=_ref(resource),
            authored=parse_datetime(resource.get("authoredOn")),
        ))
