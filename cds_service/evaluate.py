"""Offline evaluation: a hook request or a FHIR Bundle in, a CDS Hooks response out.

A Bundle (e.g. a fixture patient) is turned into a patient-view request whose prefetch
holds every resource of the Bundle; the request then takes exactly the service's path.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx

from .app import create_app
from .config import Settings
from .errors import BadRequest, CdsError


def request_from_bundle(
    bundle: dict[str, Any], patient_id: str | None = None, encounter_id: str | None = None
) -> dict[str, Any]:
    """A patient-view request whose prefetch is the Bundle's resources, by key."""
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise BadRequest("Bundle.entry must be a list")
    resources = [
        e["resource"]
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("resource"), dict)
        and isinstance(e["resource"].get("resourceType"), str)
    ]
    if patient_id is None:
        patients = [r for r in resources if r.get("resourceType") == "Patient"]
        if len(patients) != 1:
            raise BadRequest("the Bundle must hold exactly one Patient, or pass --patient")
        patient_id = str(patients[0].get("id"))
    if encounter_id is None:
        encounters = [r for r in resources if r.get("resourceType") == "Encounter"]
        if encounters:
            encounter_id = str(encounters[-1].get("id"))
    by_type: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(resource)

    def searchset(*types: str) -> dict[str, Any]:
        entries = [{"resource": r} for t in types for r in by_type.get(t, [])]
        return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}

    patient = next((r for r in by_type.get("Patient", []) if r.get("id") == patient_id), None)
    encounter = next(
        (r for r in by_type.get("Encounter", []) if r.get("id") == encounter_id), None
    )
    context: dict[str, Any] = {"userId": "Practitioner/evaluate-cli", "patientId": patient_id}
    if encounter_id:
        context["encounterId"] = encounter_id
    # Bundle input is a whole chart: put every resource under the matching key and let
    # the service's own selection (status, codes, dates) decide, as it does for prefetch.
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid4()),
        "context": context,
        "prefetch": {
            "patient": patient,
            "encounter": encounter,
            "medicationRequests": searchset("MedicationRequest", "Medication"),
            "medicationStatements": searchset("MedicationStatement"),
            "observations": searchset("Observation"),
            "conditions": searchset("Condition"),
            "resolvedConditions": None,
            "procedures": searchset("Procedure"),
        },
    }


async def evaluate_document(
    document: dict[str, Any],
    settings: Settings,
    *,
    patient_id: str | None = None,
    encounter_id: str | None = None,
    service_id: str | None = None,
) -> dict[str, Any]:
    if document.get("resourceType") == "Bundle":
        document = request_from_bundle(document, patient_id, encounter_id)
    if service_id is None:  # by the request's hook: order-sign goes to calf-safe-prescribing
        service_id = "calf-safe-prescribing" if document.get("hook") == "order-sign" else "calf-pain-review"
    settings = settings.model_copy(update={"auth_enabled": False})
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=transport, base_url="http://evaluate") as client:
            response = await client.post(f"/cds-services/{service_id}", json=document)
    payload: dict[str, Any] = response.json()
    if response.status_code != 200:
        error = CdsError(f"HTTP {response.status_code}")
        error.status_code = response.status_code
        error.issues = [i.get("diagnostics", "") for i in payload.get("issue", [])]
        raise error
    return payload
