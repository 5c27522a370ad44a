"""The structure check of extraction (``clinical/extract/shape.py``) against the R4B models.

The R4B models were the previous check. On every element extraction reads, the new one must
give the R4B verdict: each such element of a full resource of every read type is replaced
by each value of a list of wrong and edge-case values, and the two verdicts compared. The
known differences are pinned: a boolean must be a JSON boolean (R4B also takes "true" or
1), and elements extraction never reads are only required to be known names.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from cds_service.clinical.extract.common import _model, shape_of
from cds_service.clinical.extract.shape import READ

ROOT = Path(__file__).resolve().parents[1]
READ_TYPES = sorted(READ)

# Wrong and edge-case values for any element: types, empty and blank strings, codes with
# spaces, impossible and partial dates, dates without a zone, numeric strings.
VALUES: list[Any] = [
    None, "", "  ", " a", "a  b", "a b", "x", 0, 1, 1.5, -3, True, False, [], [None], [{}], [5],
    {}, {"foo": 1}, {"text": 5}, {"url": 5}, "2024", "2024-13", "2024-02-30", "2023-02-29",
    "2024-02-29", "2024-01-01T10:00:00", "2024-01-01T10:00:00Z", "2024-01-01T25:00:00Z",
    "2024-01-01T10:00:00+15:00", "2024-01-01T10:00:00.123+01:00", "1e3", "01", "-0.5", "true",
    "a_b", {"reference": ""}, {"reference": "Patient/p1"}, {"coding": [{"code": " a"}]},
    {"coding": {"code": "a"}}, {"value": "abc"}, {"value": True}, {"start": "2024-02-30"},
    {"id": "a", "extension": [{"url": "u"}]},
]

# The fields one resource of each read type fills, so every read element has a value to vary.
FULL: dict[str, dict[str, Any]] = {
    "Patient": {"resourceType": "Patient", "id": "p1", "birthDate": "1950-04-02",
                "gender": "female", "deceasedBoolean": False},
    "Observation": {
        "resourceType": "Observation", "id": "o1", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3",
                             "display": "Potassium", "version": "2.77", "userSelected": True}],
                 "text": "Potassium"},
        "subject": {"reference": "Patient/p1", "display": "Ann", "type": "Patient",
                    "identifier": {"system": "urn:x", "value": "1"}},
        "effectiveDateTime": "2025-05-20T08:00:00Z", "issued": "2025-05-20T09:00:00Z",
        "valueQuantity": {"value": 3.1, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                          "code": "mmol/L", "comparator": "<"},
        "referenceRange": [{"low": {"value": 3.5, "unit": "mmol/L"}, "high": {"value": 5.1},
                            "text": "3.5-5.1"}],
        "interpretation": [{"coding": [{"code": "L"}]}],
        "bodySite": {"text": "left calf"},
    },
    "Condition": {
        "resourceType": "Condition", "id": "c1",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "verificationStatus": {"coding": [{"code": "confirmed"}]},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "68962001"}]},
        "subject": {"reference": "Patient/p1"}, "onsetDateTime": "2025-05-01",
        "recordedDate": "2025-05-02T10:00:00+02:00", "abatementPeriod": {"end": "2025-05-10"},
        "bodySite": [{"text": "left calf"}],
    },
    "MedicationStatement": {
        "resourceType": "MedicationStatement", "id": "s1", "status": "active",
        "medicationReference": {"reference": "#m1"}, "subject": {"reference": "Patient/p1"},
        "contained": [{"resourceType": "Medication", "id": "m1",
                       "code": {"coding": [{"code": "617310"}]}}],
        "effectivePeriod": {"start": "2025-01-01", "end": "2025-12-31"},
        "dateAsserted": "2025-01-02", "dosage": [{"text": "1 daily", "doseAndRate": [
            {"doseQuantity": {"value": 1, "unit": "tablet"}}]}],
    },
    "MedicationRequest": {
        "resourceType": "MedicationRequest", "id": "r1", "status": "active", "intent": "order",
        "doNotPerform": False, "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                  "code": "617310"}]},
        "authoredOn": "2025-01-01", "dosageInstruction": [{"text": "1 daily"}],
        "dispenseRequest": {"validityPeriod": {"start": "2025-01-01", "end": "2025-12-31"},
                            "expectedSupplyDuration": {"value": 30, "code": "d"}},
    },
    "Medication": {"resourceType": "Medication", "id": "m1",
                   "code": {"coding": [{"code": "617310"}], "text": "atorvastatin"}},
    "Encounter": {"resourceType": "Encounter", "id": "e1", "status": "finished",
                  "class": {"code": "AMB"}, "subject": {"reference": "Patient/p1"},
                  "period": {"start": "2025-05-01T10:00:00Z"},
                  "reasonCode": [{"text": "calf pain"}]},
    "Procedure": {"resourceType": "Procedure", "id": "x1", "status": "completed",
                  "subject": {"reference": "Patient/p1"}, "code": {"text": "knee replacement"},
                  "performedPeriod": {"start": "2025-05-01", "end": "2025-05-01"}},
    "ServiceRequest": {"resourceType": "ServiceRequest", "id": "q1", "status": "draft",
                       "intent": "order", "subject": {"reference": "Patient/p1"},
                       "authoredOn": "2025-05-01", "code": {"text": "CK"}},
    "DeviceRequest": {"resourceType": "DeviceRequest", "id": "d1", "status": "draft",
                      "intent": "order", "subject": {"reference": "Patient/p1"},
                      "authoredOn": "2025-05-01", "codeCodeableConcept": {"text": "stockings"}},
}


def r4b(resource: Any) -> bool:
    try:
        _model(resource["resourceType"]).model_validate_json(orjson.dumps(resource))
    except Exception:  # noqa: BLE001 - any refusal by the model is a "no"
        return False
    return True


def ours(resource: Any, rtype: str | None = None) -> bool:
    shape = shape_of(rtype or resource["resourceType"])
    assert shape is not None
    return shape(resource)


def stricter(path: tuple[Any, ...], was: Any, value: Any, expected: bool, got: bool) -> bool:
    """The pinned differences, each where ours refuses what R4B takes (or the element is
    a contained resource other than a Medication, which extraction never reads)."""
    if path[0] == "contained" and (len(path) <= 2 or path[2] == "resourceType"):
        # A contained entry must be an object with a resourceType string; only a contained
        # Medication is checked further.
        return True
    if not expected or got:
        return False
    if isinstance(was, bool):
        return True  # a boolean must be a JSON boolean (R4B also takes "true", 0 and 1)
    # A date, dateTime or instant must be a JSON string (R4B also takes a number, as a
    # Unix time).
    return isinstance(was, str) and was[:2] in ("19", "20") and isinstance(value, (int, float))


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every element path under ``value`` (object keys and list indexes)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield (*prefix, i)
            yield from paths(item, (*prefix, i))


def replaced(resource: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(resource)
    node: Any = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = copy.deepcopy(value)
    return out


def original(resource: dict[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = resource
    for step in path:
        node = node[step]
    return node


def test_every_read_type_has_a_full_example() -> None:
    assert sorted(FULL) == READ_TYPES
    for rtype, resource in FULL.items():
        assert r4b(resource) and ours(resource), rtype
        missing = set(READ[rtype][0]) - set(resource)
        # Choice alternatives and rarely used elements need not all be present at once.
        assert len(missing) <= 5, (rtype, missing)


@pytest.mark.parametrize("rtype", READ_TYPES)
def test_same_verdict_as_r4b_on_every_read_element(rtype: str) -> None:
    base = FULL[rtype]
    disagreements: list[str] = []
    compared = 0
    read = set(READ[rtype][0]) | {"id", "contained"}
    for path in paths(base):
        if path[0] not in read:
            continue  # elements never read: test_elements_never_read_only_need_a_known_name
        was = original(base, path)
        for value in VALUES:
            mutated = replaced(base, path, value)
            expected, got = r4b(mutated), ours(mutated)
            compared += 1
            if expected == got or stricter(path, was, value, expected, got):
                continue
            disagreements.append(f"{'.'.join(map(str, path))} = {json.dumps(value)}: "
                                 f"R4B {expected}, ours {got}")
    assert compared > 100
    assert disagreements == []


@pytest.mark.parametrize("rtype", READ_TYPES)
def test_choice_and_required_elements_as_r4b(rtype: str) -> None:
    base = FULL[rtype]
    for key in [k for k in base if k not in ("resourceType", "id")]:
        dropped = {k: v for k, v in base.items() if k != key}
        assert ours(dropped) == r4b(dropped), f"{rtype} without {key}"
    doubles = {
        "Observation": {"valueString": "see comment"},
        "Condition": {"onsetString": "last week"},
        "Patient": {"deceasedDateTime": "2025-01-01"},
        "Procedure": {"performedDateTime": "2025-05-01"},
        "MedicationRequest": {"medicationReference": {"reference": "Medication/m1"}},
        "DeviceRequest": {"codeReference": {"reference": "Device/x"}},
    }
    if rtype in doubles:
        two = {**base, **doubles[rtype]}
        assert not r4b(two) and not ours(two)


@pytest.mark.parametrize("rtype", READ_TYPES)
def test_unknown_top_level_element_refused(rtype: str) -> None:
    resource = {**FULL[rtype], "lastUpdatd": "2025-01-01"}
    assert not r4b(resource) and not ours(resource)
    wrong_type = {**FULL[rtype], "resourceType": "Basic"}
    assert not ours(wrong_type, rtype)


UNREAD = {
    "Observation": {"meta": "x", "identifier": "not-a-list", "text": 5, "note": [{"text": 5}]},
    "Condition": {"note": {"text": "x"}, "stage": "x"},
    "MedicationRequest": {"category": {"text": "outpatient"}, "note": 5, "requester": "Dr"},
    "Encounter": {"class": "AMB", "participant": {"x": 1}},
    "Patient": {"name": "Ann", "address": 5},
}


@pytest.mark.parametrize("rtype", sorted(UNREAD))
def test_elements_never_read_only_need_a_known_name(rtype: str) -> None:
    """The decision: content the readers never use cannot change a card, so a defect there
    does not drop the resource (R4B refused each of these)."""
    for key, value in UNREAD[rtype].items():
        resource = {**FULL[rtype], key: value}
        assert not r4b(resource), key
        assert ours(resource), key


def _fixture_resources() -> Iterator[tuple[str, dict[str, Any]]]:
    for folder in ("fixtures/patients", "fixtures/orders"):
        for path in sorted((ROOT / folder).glob("*.json")):
            bundle = json.loads(path.read_text())
            if not isinstance(bundle, dict):
                continue  # the manifest
            entries = list(bundle.get("entry", []))
            drafts = bundle.get("context", {}).get("draftOrders", {}).get("entry", [])
            for entry in [*entries, *drafts]:
                resource = entry.get("resource")
                if isinstance(resource, dict) and resource.get("resourceType") in READ:
                    yield path.name, resource


def test_fixture_resources_same_verdict_as_r4b() -> None:
    seen = 0
    differ: list[str] = []
    for name, resource in _fixture_resources():
        seen += 1
        if ours(resource) != r4b(resource):
            differ.append(f"{name} {resource['resourceType']}/{resource.get('id')}")
    assert seen > 500
    assert differ == []
