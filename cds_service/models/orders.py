"""order-sign context (HL7 cds-hooks-library order-sign 1.x; CDS Hooks 2.0.1).

``draftOrders`` is a FHIR Bundle of the orders being signed. It is checked as far as the
service relies on it: a Bundle whose ``entry`` (when present) is a list of objects, each
with a ``resource`` naming its ``resourceType``; MedicationRequest, ServiceRequest and
DeviceRequest entries (the orders the cards act on) need a FHIR ``id``, since every card
names its draft by ``Type/id``. Other entries (NutritionOrder, DSTU2/STU3 order types) are
accepted and ignored. Anything else is a 400 naming the entry. Unknown fields are kept.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from .request import FHIR_ID, USER_ID, FhirId, is_fhir_id

ORDER_TYPES = frozenset({"MedicationRequest", "ServiceRequest", "DeviceRequest"})


class DraftOrdersBundle(BaseModel):
    model_config = ConfigDict(extra="allow", hide_input_in_errors=True)

    resourceType: Literal["Bundle"]
    entry: list[dict[str, Any]] | None = None

    @field_validator("entry")
    @classmethod
    def _entries(cls, entries: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        for i, entry in enumerate(entries or ()):
            resource = entry.get("resource")
            if not isinstance(resource, dict):
                raise ValueError(f"entry {i}: resource must be a FHIR resource object")
            rtype = resource.get("resourceType")
            if not isinstance(rtype, str) or not rtype:
                raise ValueError(f"entry {i}: resource has no resourceType")
            if rtype in ORDER_TYPES and not is_fhir_id(resource.get("id")):
                raise ValueError(f"entry {i}: a {rtype} draft order needs a FHIR id ({FHIR_ID})")
        return entries

    def resources(self) -> list[dict[str, Any]]:
        return [e["resource"] for e in self.entry or ()]


class OrderSignContext(BaseModel):
    """order-sign context: ``userId`` (Practitioner or PractitionerRole), ``patientId``,
    optional ``encounterId``, ``draftOrders``."""

    model_config = ConfigDict(extra="allow", hide_input_in_errors=True)

    userId: Annotated[StrictStr, Field(pattern=USER_ID)]
    patientId: FhirId
    encounterId: FhirId | None = None
    draftOrders: DraftOrdersBundle
