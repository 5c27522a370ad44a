"""The R4 structure of what extraction reads, checked without building models.

Each selected resource is checked here before it becomes a fact (``ExtractorBase.valid``):

- it is a JSON object of its ``resourceType``, every top-level key is an element of that
  type in R4 (or its ``_``-prefixed primitive extension), its required elements are present
  and each choice element (``value[x]``, ``effective[x]`` …) appears at most once (and once
  when required). Names, cardinalities and choices are read from the ``fhir.resources``
  R4B models once, at start-up;
- every element the readers use is checked in full against its R4 data type
  (CodeableConcept, Coding, Quantity, Reference, Period, Dosage …, down to the primitive
  regular expressions of the R4 data types page, https://hl7.org/fhir/R4/datatypes.html);
- elements the readers never use are only required to be known names: their content
  cannot change a card, and checking it cost about 90 % of the time per call.

The data types are in ``datatypes``. ``tests/test_extract_shape.py`` holds the checks
against the R4B models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cds_service.clinical.extract.datatypes import (
    CODEABLE_CONCEPT,
    DISPENSE_REQUEST,
    DOSAGE,
    PERIOD,
    QUANTITY,
    REFERENCE,
    REFERENCE_RANGE,
    Check,
    extension_entry,
    primitive_extension,
    anything,
    boolean,
    code,
    date_time,
    fhir_date,
    fhir_id,
    instant,
    passes,
    string,
)


# --- resources ---------------------------------------------------------------------------

class ResourceShape:
    """One resource type: the R4 element names, required elements and choice groups (from
    the R4B model), and the checks of the elements extraction reads."""

    __slots__ = ("resource_type", "fields", "required", "present", "choices", "choice_required")

    def __init__(self, resource_type: str, model: Any, read: Mapping[str, Check],
                 lists: Iterable[str] = ()) -> None:
        self.resource_type = resource_type
        listed = frozenset(lists)
        self.fields: dict[str, tuple[Check, bool]] = {}
        required: list[str] = []
        present: list[str] = []
        choices: dict[str, str] = {}
        choice_required: set[str] = set()
        for name, info in model.model_fields.items():
            alias = info.alias or name
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            if alias.startswith("_"):
                self.fields[alias] = (primitive_extension, False)
                continue
            self.fields[alias] = (read.get(alias, anything), alias in listed)
            if extra.get("element_required"):
                required.append(alias)  # a required primitive: present and not null
            elif info.is_required():
                present.append(alias)  # a required complex element: its key present
            group = extra.get("one_of_many")
            if isinstance(group, str):
                choices[alias] = group
                if extra.get("one_of_many_required"):
                    choice_required.add(group)
        unknown = set(read) - set(self.fields)
        if unknown:
            raise ValueError(f"{resource_type} has no element {sorted(unknown)}")
        self.fields["resourceType"] = (anything, False)
        self.required = tuple(required)
        self.present = tuple(present)
        self.choices = choices
        self.choice_required = frozenset(choice_required)

    def __call__(self, resource: Any) -> bool:
        if not isinstance(resource, dict) or resource.get("resourceType") != self.resource_type:
            return False
        fields, choices = self.fields, self.choices
        seen: set[str] | None = None
        for key, item in resource.items():
            if item is None:
                continue
            spec = fields.get(key)
            if spec is None:
                return False
            if not passes(spec, item):
                return False
            group = choices.get(key)
            if group is not None:
                if seen is None:
                    seen = {group}
                elif group in seen:
                    return False  # two values of one choice element
                else:
                    seen.add(group)
        for name in self.required:
            if resource.get(name) is None:
                return False
        for name in self.present:
            if name not in resource:
                return False
        for group in self.choice_required:
            if seen is None or group not in seen:
                return False
        return True


def _contained(shapes: Mapping[str, ResourceShape]) -> Check:
    """A contained resource: any type; a contained Medication (which extraction reads) is
    checked as one."""
    def check(value: Any) -> bool:
        if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
            return False
        shape = shapes.get(value["resourceType"])
        return shape(value) if shape is not None and value["resourceType"] == "Medication" else True
    return check


# The elements each reader uses (clinical/extract/*.py and prefetch.belongs_to).
_MEDICATION: dict[str, Check] = {"medicationCodeableConcept": CODEABLE_CONCEPT, "medicationReference": REFERENCE}
_ORDER: dict[str, Check] = {"status": code, "intent": code, "subject": REFERENCE, "authoredOn": date_time}
READ: dict[str, tuple[dict[str, Check], tuple[str, ...]]] = {
    "Patient": ({"birthDate": fhir_date, "gender": code, "deceasedBoolean": boolean,
                 "deceasedDateTime": date_time}, ()),
    "Observation": ({
        "status": code, "code": CODEABLE_CONCEPT, "subject": REFERENCE,
        "effectiveDateTime": date_time, "effectivePeriod": PERIOD, "effectiveInstant": instant,
        "issued": instant, "valueQuantity": QUANTITY, "valueCodeableConcept": CODEABLE_CONCEPT,
        "valueBoolean": boolean, "valueString": string, "referenceRange": REFERENCE_RANGE,
        "interpretation": CODEABLE_CONCEPT, "bodySite": CODEABLE_CONCEPT,
    }, ("referenceRange", "interpretation")),
    "Condition": ({
        "clinicalStatus": CODEABLE_CONCEPT, "verificationStatus": CODEABLE_CONCEPT,
        "code": CODEABLE_CONCEPT, "subject": REFERENCE, "onsetDateTime": date_time,
        "onsetPeriod": PERIOD, "recordedDate": date_time, "abatementDateTime": date_time,
        "abatementPeriod": PERIOD, "abatementString": string, "bodySite": CODEABLE_CONCEPT,
    }, ("bodySite",)),
    "MedicationStatement": ({
        **_MEDICATION, "status": code, "subject": REFERENCE, "effectiveDateTime": date_time,
        "effectivePeriod": PERIOD, "dateAsserted": date_time, "dosage": DOSAGE,
    }, ("dosage", "contained")),
    "MedicationRequest": ({
        **_MEDICATION, **_ORDER, "doNotPerform": boolean, "dosageInstruction": DOSAGE,
        "dispenseRequest": DISPENSE_REQUEST,
    }, ("dosageInstruction", "contained")),
    "Medication": ({"code": CODEABLE_CONCEPT}, ()),
    "Encounter": ({"status": code, "reasonCode": CODEABLE_CONCEPT, "period": PERIOD,
                   "subject": REFERENCE}, ("reasonCode",)),
    "Procedure": ({"status": code, "code": CODEABLE_CONCEPT, "subject": REFERENCE,
                   "performedDateTime": date_time, "performedPeriod": PERIOD}, ()),
    "ServiceRequest": ({**_ORDER, "code": CODEABLE_CONCEPT}, ()),
    "DeviceRequest": ({**_ORDER, "codeCodeableConcept": CODEABLE_CONCEPT,
                       "codeReference": REFERENCE}, ()),
}


def build_shapes(models: Mapping[str, Any]) -> dict[str, ResourceShape]:
    """The shape of each read resource type, from its R4B model class (``models``)."""
    shapes: dict[str, ResourceShape] = {}
    contained = _contained(shapes)  # closes over the finished mapping
    for rtype, (read, lists) in READ.items():
        fields = {"id": fhir_id, "extension": extension_entry, "modifierExtension": extension_entry, **read}
        lists = (*lists, "extension", "modifierExtension")
        if "contained" in lists:
            fields["contained"] = contained
        shapes[rtype] = ResourceShape(rtype, models[rtype], fields, lists)
    return shapes
