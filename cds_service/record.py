"""PatientRecord: the raw FHIR JSON gathered for one hook call, grouped by type.

Prefetch (and the fallback fetch) produce one; clinical extraction reads it. Resources
stay plain ``dict`` JSON here: only the ones a rule needs are ever checked against their
R4 structure (see ``clinical/extract/shape.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Resource = dict[str, Any]


@dataclass(slots=True)
class PatientRecord:
    patient_id: str
    encounter_id: str | None = None
    by_type: dict[str, list[Resource]] = field(default_factory=dict)
    ignored_other_patient: int = 0
    # order-sign: the resources of ``context.draftOrders`` (the orders being signed)
    drafts: list[Resource] = field(default_factory=list)

    def add(self, resource: Resource) -> None:
        rtype = resource.get("resourceType")
        if isinstance(rtype, str):
            self.by_type.setdefault(rtype, []).append(resource)

    def extend(self, resources: Iterable[Resource]) -> None:
        for resource in resources:
            self.add(resource)

    def of_type(self, resource_type: str) -> list[Resource]:
        return self.by_type.get(resource_type, [])

    @property
    def patient(self) -> Resource | None:
        for patient in self.of_type("Patient"):
            if patient.get("id") == self.patient_id:
                return patient
        return None

    @property
    def encounter(self) -> Resource | None:
        if self.encounter_id is None:
            return None
        for encounter in self.of_type("Encounter"):
            if encounter.get("id") == self.encounter_id:
                return encounter
        return None

    def count(self) -> int:
        return sum(len(v) for v in self.by_type.values())
