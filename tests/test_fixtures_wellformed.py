"""The synthetic fixture patients are well-formed FHIR R4 and the manifest is coherent.

These checks guard the fixtures themselves (not the service): every bundle can be loaded
into a FHIR server with its ids preserved (a transaction; a batch when it carries a
deliberately invalid resource, so a real server stores the rest), every resource belongs to the
manifest's patient, every resource is valid R4 (except the ones a manifest entry declares
deliberately invalid), and the manifest's card expectations cover every card topic with at
least one firing case and one near-miss.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"
MANIFEST_PATH = FIXTURES_DIR / "manifest.json"
EVALUATION_TIME = "2026-11-21T12:00:00Z"

# The card catalogue of the patient-view service (topic ids).
TOPICS = frozenset(
    {
        "statin-muscle-symptoms",
        "rhabdomyolysis-risk",
        "diuretic-electrolyte-depletion",
        "electrolytes-not-monitored",
        "vitamin-d-deficiency",
        "dvt-assessment",
        "dvt-red-flags",
        "peripheral-artery-disease",
        "diabetic-neuropathy",
        "statin-drug-interaction",
        "electrolyte-deficiency",
        "compartment-syndrome-risk",
        "fluoroquinolone-tendon-risk",
        "sciatica-referred-pain",
    }
)
INDICATORS = frozenset({"info", "warning", "critical"})
# Resource types that describe the patient's care and must point at the patient.
NON_CLINICAL = frozenset({"Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "Medication"})
# Fields holding clinically meaningful dates; none may lie after the evaluation date.
DATE_FIELDS = ("effectiveDateTime", "onsetDateTime", "recordedDate", "authoredOn", "performedDateTime", "dateAsserted")

Resource = dict[str, Any]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


MANIFEST: list[dict[str, Any]] = _load(MANIFEST_PATH)


def _entry_id(entry: dict[str, Any]) -> str:
    return str(entry["file"])


@pytest.fixture(params=MANIFEST, ids=_entry_id)
def case(request: pytest.FixtureRequest) -> dict[str, Any]:
    return request.param  # type: ignore[no-any-return]


def _bundle(case: dict[str, Any]) -> dict[str, Any]:
    return _load(FIXTURES_DIR / case["file"])  # type: ignore[no-any-return]


def _resources(bundle: dict[str, Any]) -> list[Resource]:
    return [entry["resource"] for entry in bundle["entry"]]


def _references(node: Any) -> Iterator[str]:
    """Every ``Reference.reference`` string anywhere inside a resource."""
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _declared_invalid(case: dict[str, Any]) -> set[str]:
    return set(case.get("invalidResourceIds", []))


# --- manifest ------------------------------------------------------------------------


def test_manifest_is_a_nonempty_list_with_unique_files_and_patients() -> None:
    assert isinstance(MANIFEST, list) and MANIFEST
    files = [c["file"] for c in MANIFEST]
    patients = [c["patientId"] for c in MANIFEST]
    assert len(files) == len(set(files))
    assert len(patients) == len(set(patients))


def test_every_patient_file_is_listed_in_the_manifest() -> None:
    on_disk = {f"patients/{p.name}" for p in (FIXTURES_DIR / "patients").glob("*.json")}
    assert on_disk <= {c["file"] for c in MANIFEST}


def test_manifest_entry_fields(case: dict[str, Any]) -> None:
    assert case["evaluationTime"] == EVALUATION_TIME
    assert case["description"].strip()
    expect = case["expectTopics"]
    assert len(expect) == len(set(expect)), "duplicate topic in expectTopics"
    assert set(expect) <= TOPICS, set(expect) - TOPICS
    silent = case["silentTopics"]
    silent_topics = [s["topic"] for s in silent]
    assert len(silent_topics) == len(set(silent_topics))
    assert set(silent_topics) <= TOPICS, set(silent_topics) - TOPICS
    assert all(s["why"].strip() for s in silent), "every silent topic needs a reason"
    assert not set(expect) & set(silent_topics), "expectTopics and silentTopics overlap"
    indicators = case.get("expectIndicators", {})
    assert set(indicators) <= set(expect)
    assert set(indicators.values()) <= INDICATORS


def test_invalid_resource_declarations_agree(case: dict[str, Any]) -> None:
    assert case.get("invalidResources", 0) == len(_declared_invalid(case))


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_each_topic_has_a_firing_fixture_and_a_near_miss(topic: str) -> None:
    fires = [c["file"] for c in MANIFEST if topic in c["expectTopics"]]
    near_misses = [c["file"] for c in MANIFEST if topic in {s["topic"] for s in c["silentTopics"]}]
    assert fires, f"no fixture fires {topic}"
    assert near_misses, f"no near-miss fixture for {topic}"


def test_manifest_covers_a_patient_with_no_cards_and_one_with_many() -> None:
    sizes = [len(c["expectTopics"]) for c in MANIFEST]
    assert 0 in sizes
    assert max(sizes) >= 3


# --- bundles -------------------------------------------------------------------------


def test_bundle_is_a_put_transaction_preserving_ids(case: dict[str, Any]) -> None:
    bundle = _bundle(case)
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == ("batch" if case.get("invalidResources") else "transaction")
    full_urls: set[str] = set()
    keys: set[str] = set()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        key = f"{resource['resourceType']}/{resource['id']}"
        assert entry["fullUrl"] and entry["fullUrl"] not in full_urls
        full_urls.add(entry["fullUrl"])
        assert entry["request"] == {"method": "PUT", "url": key}
        assert key not in keys, f"duplicate resource {key}"
        keys.add(key)


def test_resource_ids_are_unique_across_all_fixtures() -> None:
    """Loading every fixture into one server must not overwrite another patient's data."""
    owners: dict[str, str] = {}
    for case in MANIFEST:
        for resource in _resources(_bundle(case)):
            key = f"{resource['resourceType']}/{resource['id']}"
            if resource["resourceType"] == "Practitioner":
                continue  # shared clinicians are the same resource in every bundle
            assert key not in owners, f"{key} in {case['file']} and {owners[key]}"
            owners[key] = case["file"]


def test_patient_and_context_encounter(case: dict[str, Any]) -> None:
    resources = _resources(_bundle(case))
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    assert [p["id"] for p in patients] == [case["patientId"]]
    encounters = {r["id"]: r for r in resources if r["resourceType"] == "Encounter"}
    assert case["encounterId"] in encounters
    context = encounters[case["encounterId"]]
    assert context["subject"]["reference"] == f"Patient/{case['patientId']}"


def test_references_resolve_and_point_at_the_patient(case: dict[str, Any]) -> None:
    resources = _resources(_bundle(case))
    present = {f"{r['resourceType']}/{r['id']}" for r in resources}
    patient_ref = f"Patient/{case['patientId']}"
    for resource in resources:
        where = f"{resource['resourceType']}/{resource['id']}"
        contained = {c["id"] for c in resource.get("contained", [])}
        for ref in _references(resource):
            if ref.startswith("#"):
                assert ref[1:] in contained, f"{where}: dangling contained reference {ref}"
            else:
                assert ref in present, f"{where}: reference {ref} not in bundle"
                if ref.startswith("Patient/"):
                    assert ref == patient_ref, f"{where}: points at another patient"
        if resource["resourceType"] not in NON_CLINICAL:
            owner = resource.get("subject") or resource.get("patient")
            assert owner == {"reference": patient_ref} or (
                isinstance(owner, dict) and owner.get("reference") == patient_ref
            ), f"{where}: subject/patient is not {patient_ref}"


def test_no_clinical_date_after_the_evaluation_day(case: dict[str, Any]) -> None:
    evaluation_day = EVALUATION_TIME[:10]
    for resource in _resources(_bundle(case)):
        for field in DATE_FIELDS:
            value = resource.get(field)
            if isinstance(value, str):
                assert value[:10] <= evaluation_day, f"{resource['id']}.{field} = {value}"
        for period_field in ("effectivePeriod", "period", "performedPeriod"):
            start = resource.get(period_field, {}).get("start")
            if isinstance(start, str):
                assert start[:10] <= evaluation_day


def test_resources_validate_as_fhir_r4(case: dict[str, Any]) -> None:
    declared = _declared_invalid(case)
    invalid: set[str] = set()
    for resource in _resources(_bundle(case)):
        key = f"{resource['resourceType']}/{resource['id']}"
        model = get_fhir_model_class(resource["resourceType"])
        try:
            model.model_validate(resource)
        except ValidationError:
            invalid.add(key)
    # declared-invalid resources must really fail, and nothing else may
    assert invalid == declared


def test_at_most_one_fixture_carries_an_invalid_resource() -> None:
    carriers = [c["file"] for c in MANIFEST if c.get("invalidResources")]
    assert len(carriers) <= 1
