"""The sekmet test FHIR server: start-up, data loading, and every search feature the service relies on.

Each test pins one behaviour documented in docs/fhir-test-server.md, so a sekmet upgrade that
changes it fails here first. Expected ids are derived from the loaded bundles, not retyped.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from datetime import datetime
from typing import Any

import httpx
import pytest

import fhir_server as fhir_server_module
from fhir_server import (
    FIXTURES_DIR,
    FhirServerStartError,
    FhirTestServer,
    load_bundle,
    post_transaction,
    start_fhir_server,
)

STATIN_BUNDLE = "patients/statin-calf-pain.json"
STATIN_PATIENT = "calf-statin-01"
PROBE_PATIENT = "search-probe-01"
LOINC = "http://loinc.org"


def _statin_resources() -> list[dict[str, Any]]:
    bundle = json.loads((FIXTURES_DIR / STATIN_BUNDLE).read_text(encoding="utf-8"))
    return [entry["resource"] for entry in bundle["entry"]]


def _ids(resources: list[dict[str, Any]], resource_type: str) -> set[str]:
    return {r["id"] for r in resources if r["resourceType"] == resource_type}


def _subject() -> dict[str, str]:
    return {"reference": f"Patient/{PROBE_PATIENT}"}


def _statement(rid: str, status: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "id": rid,
        "status": status,
        "medicationCodeableConcept": {"text": f"probe drug ({status})"},
        "subject": _subject(),
    }


def _condition(rid: str, clinical_status: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": clinical_status}
            ]
        },
        "code": {"text": f"probe condition ({clinical_status})"},
        "subject": _subject(),
    }


def _lab(rid: str, loinc: str, when: str, value: float) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "subject": _subject(),
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"},
    }


# Resource variants the statin fixture does not contain (statuses, a second potassium code).
PROBE_RESOURCES: list[dict[str, Any]] = [
    {"resourceType": "Patient", "id": PROBE_PATIENT, "gender": "male", "birthDate": "1950-01-01"},
    *(_statement(f"probe-ms-{s}", s) for s in ("active", "intended", "completed", "stopped")),
    *(_condition(f"probe-cond-{s}", s) for s in ("active", "recurrence", "relapse", "inactive", "resolved")),
    _lab("probe-obs-k-serum", "2823-3", "2026-09-01T08:00:00Z", 3.9),
    _lab("probe-obs-k-blood", "6298-4", "2026-11-01T08:00:00Z", 3.1),
    _lab("probe-obs-na", "2951-2", "2026-11-02T08:00:00Z", 139.0),
]


def _transaction(resources: list[dict[str, Any]], method: str = "PUT") -> dict[str, Any]:
    entries = []
    for r in resources:
        url = f"{r['resourceType']}/{r['id']}" if method == "PUT" else r["resourceType"]
        entries.append({"resource": r, "request": {"method": method, "url": url}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


@pytest.fixture(scope="module")
def statin_load(fhir_server: FhirTestServer) -> dict[str, Any]:
    return load_bundle(fhir_server, STATIN_BUNDLE)


@pytest.fixture(scope="module")
def probe_load(fhir_server: FhirTestServer) -> dict[str, Any]:
    return post_transaction(fhir_server, _transaction(PROBE_RESOURCES))


@pytest.fixture
def client(fhir_server: FhirTestServer, statin_load: dict[str, Any], probe_load: dict[str, Any]) -> Iterator[httpx.Client]:
    with fhir_server.client() as c:
        yield c


def _search(client: httpx.Client, url: str, **kwargs: Any) -> dict[str, Any]:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.text
    bundle: dict[str, Any] = response.json()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "searchset"
    return bundle


def _matches(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") == "match"]


def _match_ids(bundle: dict[str, Any]) -> list[str]:
    return [r["id"] for r in _matches(bundle)]


def _next_url(bundle: dict[str, Any]) -> str | None:
    return next((link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), None)


# ---------------- start-up, shutdown and loading ----------------


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_start_retries_a_taken_port_and_stops_the_server_when_the_block_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bound but not listening: uvicorn's bind fails with EADDRINUSE, connects are refused at once.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        real_picker = fhir_server_module._free_loopback_port
        ports = iter([taken.getsockname()[1]])
        monkeypatch.setattr(fhir_server_module, "_free_loopback_port", lambda: next(ports, None) or real_picker())
        with pytest.raises(ZeroDivisionError), start_fhir_server(tmp_path) as server:
            pid = server.pid
            assert httpx.get(f"{server.base_url}/metadata").status_code == 200
            assert server.base_url != f"http://127.0.0.1:{taken.getsockname()[1]}/fhir"
            1 / 0
    assert not _process_exists(pid)
    assert "address already in use" in (tmp_path / "sekmet-1.log").read_text().lower()


def test_start_failure_reports_the_server_log(tmp_path: Path) -> None:
    with pytest.raises(FhirServerStartError) as excinfo:
        with start_fhir_server(tmp_path, settings_overrides={"server_auth": {"types": ["kerberos"]}}):
            pass  # pragma: no cover - the server must not start
    message = str(excinfo.value)
    assert "exited with code" in message
    assert "kerberos" in message  # sekmet's own validation error, from the log tail


def test_metadata_answers_with_r4_capability_statement(fhir_server: FhirTestServer) -> None:
    response = httpx.get(f"{fhir_server.base_url}/metadata", headers={"Accept": "application/fhir+json"})
    assert response.status_code == 200
    body = response.json()
    assert body["resourceType"] == "CapabilityStatement"
    assert body["fhirVersion"] == "4.0.1"


def test_server_runs_on_loopback_with_configured_base(fhir_server: FhirTestServer) -> None:
    assert fhir_server.base_url.startswith("http://127.0.0.1:")
    assert fhir_server.base_url.endswith("/fhir")


def test_put_entries_keep_their_ids(statin_load: dict[str, Any]) -> None:
    assert statin_load["type"] == "transaction-response"
    expected = [f"{r['resourceType']}/{r['id']}" for r in _statin_resources()]
    locations = [e["response"]["location"] for e in statin_load["entry"]]
    assert [loc.split("/fhir/", 1)[1].split("/_history")[0] for loc in locations] == expected
    assert all(e["response"]["status"] in ("200 OK", "201 Created") for e in statin_load["entry"])


def test_post_entries_get_server_assigned_ids(fhir_server: FhirTestServer) -> None:
    patient = {"resourceType": "Patient", "id": "posted-id-is-dropped", "gender": "other"}
    result = post_transaction(fhir_server, _transaction([patient], method="POST"))
    location = result["entry"][0]["response"]["location"]
    assert location.startswith(f"{fhir_server.base_url}/Patient/")
    assert "/Patient/posted-id-is-dropped/" not in location


def test_reloading_a_bundle_updates_in_place(fhir_server: FhirTestServer, statin_load: dict[str, Any]) -> None:
    again = load_bundle(fhir_server, STATIN_BUNDLE)
    assert {e["response"]["status"] for e in again["entry"]} == {"200 OK"}
    with fhir_server.client() as c:
        assert _search(c, f"Patient?_id={STATIN_PATIENT}")["total"] == 1


# ---------------- authentication ----------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-the-token"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["missing", "wrong-token", "other-scheme"],
)
@pytest.mark.parametrize("path", [f"Patient/{STATIN_PATIENT}", f"Observation?patient={STATIN_PATIENT}"])
def test_requests_without_the_bearer_token_get_401(
    fhir_server: FhirTestServer, statin_load: dict[str, Any], headers: dict[str, str], path: str
) -> None:
    response = httpx.get(f"{fhir_server.base_url}/{path}", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "login"


# ---------------- reads ----------------


def test_read_patient(client: httpx.Client) -> None:
    response = client.get(f"Patient/{STATIN_PATIENT}")
    assert response.status_code == 200
    patient = response.json()
    assert (patient["id"], patient["gender"], patient["birthDate"][:4]) == (STATIN_PATIENT, "female", "1961")


def test_read_encounter_keeps_reason_code(client: httpx.Client) -> None:
    encounter = next(r for r in _statin_resources() if r["resourceType"] == "Encounter" and "reasonCode" in r)
    response = client.get(f"Encounter/{encounter['id']}")
    assert response.status_code == 200
    assert response.json()["reasonCode"] == encounter["reasonCode"]


@pytest.mark.parametrize("path", ["Patient/no-such-patient", "Encounter/no-such-encounter"])
def test_read_missing_resource_is_404_with_operation_outcome(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "not-found"


# ---------------- searches ----------------


@pytest.mark.parametrize("patient_form", ["{id}", "Patient/{id}", "{base}/Patient/{id}"])
def test_medication_request_active_by_patient_reference_forms(
    client: httpx.Client, fhir_server: FhirTestServer, patient_form: str
) -> None:
    patient = patient_form.format(id=STATIN_PATIENT, base=fhir_server.base_url)
    bundle = _search(client, "MedicationRequest", params={"patient": patient, "status": "active"})
    expected = {
        r["id"] for r in _statin_resources() if r["resourceType"] == "MedicationRequest" and r["status"] == "active"
    }
    assert set(_match_ids(bundle)) == expected
    assert expected  # the fixture must contain an active order for this to mean anything


def test_medication_statement_status_or_list(client: httpx.Client) -> None:
    bundle = _search(client, "MedicationStatement", params={"patient": PROBE_PATIENT, "status": "active,intended"})
    assert {r["status"] for r in _matches(bundle)} == {"active", "intended"}
    assert bundle["total"] == 2


def test_observation_token_system_code_or_list_sorted_newest_first(client: httpx.Client) -> None:
    bundle = _search(
        client,
        "Observation",
        params={
            "patient": PROBE_PATIENT,
            "code": f"{LOINC}|2823-3,{LOINC}|6298-4",
            "_sort": "-date",
            "_count": "50",
        },
    )
    matches = _matches(bundle)
    assert {r["code"]["coding"][0]["code"] for r in matches} == {"2823-3", "6298-4"}
    dates = [r["effectiveDateTime"] for r in matches]
    assert dates == sorted(dates, reverse=True)


def test_observation_potassium_query_on_statin_patient(client: httpx.Client) -> None:
    bundle = _search(
        client,
        "Observation",
        params={"patient": STATIN_PATIENT, "code": f"{LOINC}|2823-3,{LOINC}|6298-4", "_sort": "-date", "_count": "50"},
    )
    [potassium] = _matches(bundle)
    assert potassium["valueQuantity"]["value"] == 4.2
    assert potassium["effectiveDateTime"].startswith("2026-10-30")


def test_token_code_without_system_matches_any_system(client: httpx.Client) -> None:
    bundle = _search(client, "Observation", params={"patient": PROBE_PATIENT, "code": "6298-4"})
    assert _match_ids(bundle) == ["probe-obs-k-blood"]


def test_repeated_parameter_is_and_not_or(client: httpx.Client) -> None:
    bundle = _search(
        client,
        "Observation",
        params=[("patient", PROBE_PATIENT), ("code", f"{LOINC}|2823-3"), ("code", f"{LOINC}|6298-4")],
    )
    assert bundle["total"] == 0


def test_sort_descending_by_date(client: httpx.Client) -> None:
    bundle = _search(client, "Observation", params={"patient": STATIN_PATIENT, "_sort": "-date", "_count": "50"})
    dates = [datetime.fromisoformat(r["effectiveDateTime"]) for r in _matches(bundle)]
    assert len(dates) == len(_ids(_statin_resources(), "Observation"))
    assert dates == sorted(dates, reverse=True)


def test_small_count_pages_with_next_links_until_exhausted(client: httpx.Client) -> None:
    expected = _ids(_statin_resources(), "Observation")
    page = _search(client, "Observation", params={"patient": STATIN_PATIENT, "_sort": "-date", "_count": "2"})
    assert page["total"] == len(expected)
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        ids = _match_ids(page)
        assert len(ids) <= 2
        seen.extend(ids)
        next_url = _next_url(page)
        if next_url is None:
            break
        assert next_url.startswith(str(client.base_url).rstrip("/") + "/Observation?")
        page = _search(client, next_url)
    assert pages == -(-len(expected) // 2)
    assert sorted(seen) == sorted(expected)


def test_condition_clinical_status_or_list(client: httpx.Client) -> None:
    bundle = _search(
        client, "Condition", params={"patient": PROBE_PATIENT, "clinical-status": "active,recurrence,relapse"}
    )
    assert set(_match_ids(bundle)) == {"probe-cond-active", "probe-cond-recurrence", "probe-cond-relapse"}


def test_condition_all_for_patient(client: httpx.Client) -> None:
    probe_conditions = _ids(PROBE_RESOURCES, "Condition")
    assert set(_match_ids(_search(client, "Condition", params={"patient": PROBE_PATIENT}))) == probe_conditions
    statin_conditions = _ids(_statin_resources(), "Condition")
    assert set(_match_ids(_search(client, "Condition", params={"patient": STATIN_PATIENT}))) == statin_conditions


def test_procedure_date_ge(client: httpx.Client) -> None:
    bundle = _search(client, "Procedure", params={"patient": STATIN_PATIENT, "date": "ge2026-01-01"})
    procedures = [r for r in _statin_resources() if r["resourceType"] == "Procedure"]
    expected = {r["id"] for r in procedures if r["performedPeriod"]["end"] >= "2026-01-01"}
    assert set(_match_ids(bundle)) == expected
    assert 0 < len(expected) < len(procedures)  # the fixture has procedures on both sides of the cut-off


def test_unknown_patient_gives_empty_searchset(client: httpx.Client) -> None:
    bundle = _search(client, "Condition", params={"patient": "no-such-patient"})
    assert bundle["total"] == 0
    assert "entry" not in bundle


def test_unknown_parameter_is_ignored_with_outcome_entry(client: httpx.Client) -> None:
    plain = _search(client, "Procedure", params={"patient": STATIN_PATIENT})
    bundle = _search(client, "Procedure", params={"patient": STATIN_PATIENT, "no-such-param": "x"})
    assert _match_ids(bundle) == _match_ids(plain)
    outcomes = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert [o["resource"]["resourceType"] for o in outcomes] == ["OperationOutcome"]
    assert outcomes[0]["resource"]["issue"][0]["severity"] == "warning"


def test_unknown_parameter_rejected_with_strict_handling(client: httpx.Client) -> None:
    response = client.get(
        "Procedure", params={"patient": STATIN_PATIENT, "no-such-param": "x"}, headers={"Prefer": "handling=strict"}
    )
    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "not-supported"


def test_token_not_modifier(client: httpx.Client) -> None:
    # The service can exclude refuted / entered-in-error diagnoses server-side this way.
    kept = _search(client, "Condition", params={"patient": STATIN_PATIENT, "verification-status:not": "refuted"})
    dropped = _search(client, "Condition", params={"patient": STATIN_PATIENT, "verification-status:not": "confirmed"})
    assert set(_match_ids(kept)) == _ids(_statin_resources(), "Condition")
    assert dropped["total"] == 0


def test_unsupported_modifier_drops_the_filter_with_outcome_entry(client: httpx.Client) -> None:
    # `:in` (value-set membership) is not implemented: the whole parameter is ignored, so results get
    # broader, not narrower. The service must filter by code itself.
    bundle = _search(client, "Observation", params={"patient": STATIN_PATIENT, "code:in": "http://example.org/vs"})
    assert set(_match_ids(bundle)) == _ids(_statin_resources(), "Observation")
    assert [e["search"]["mode"] for e in bundle["entry"]].count("outcome") == 1
