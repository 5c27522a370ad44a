"""Offline evaluation: a hook request or a chart (FHIR Bundle, NDJSON ...) in, a CDS Hooks
response out.

A chart (``chart_input``: references resolved, resources of its Patient) is turned into a
patient-view request whose prefetch holds its resources, by key; the request then takes
exactly the service's path, through one app that :class:`Evaluator` keeps for a whole run.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any
from uuid import uuid4

import httpx

from .app import create_app
from .chart_input import Chart, InputError, charts_from_resources, bundle_entries, resolve_references
from .config import Settings
from .errors import BadRequest, CdsError


def request_from_bundle(
    bundle: dict[str, Any],
    patient_id: str | None = None,
    encounter_id: str | None = None,
    *,
    context_encounter: bool = True,
) -> dict[str, Any]:
    """A patient-view request whose prefetch is the Bundle's resources, by key.

    Without ``encounter_id`` the context names the Bundle's last Encounter, unless
    ``context_encounter`` is false (as the CDS Hooks sandbox sends it: no ``encounterId``;
    every Encounter is still under ``recentEncounters``).
    """
    try:
        pairs, _ = bundle_entries(bundle)
    except InputError as exc:
        raise BadRequest(str(exc)) from None
    resources = resolve_references(pairs)
    if patient_id is None:
        patients = [r for r in resources if r.get("resourceType") == "Patient"]
        if len(patients) != 1:
            raise BadRequest("the Bundle must hold exactly one Patient, or pass --patient")
        patient_id = str(patients[0].get("id"))
    [chart] = charts_from_resources("bundle", resources, patient_id)
    return request_from_chart(chart, encounter_id, context_encounter=context_encounter)


def request_from_chart(
    chart: Chart, encounter_id: str | None = None, *, context_encounter: bool = True
) -> dict[str, Any]:
    """The patient-view request for one chart (see :func:`request_from_bundle`)."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for resource in chart.resources:
        by_type.setdefault(resource["resourceType"], []).append(resource)
    if encounter_id is None and context_encounter:
        encounters = by_type.get("Encounter", [])
        if encounters:
            encounter_id = str(encounters[-1].get("id"))

    def searchset(*types: str) -> dict[str, Any]:
        entries = [{"resource": r} for t in types for r in by_type.get(t, [])]
        return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}

    patient = next((r for r in by_type.get("Patient", []) if r.get("id") == chart.patient_id), None)
    encounter = next(
        (r for r in by_type.get("Encounter", []) if r.get("id") == encounter_id), None
    )
    context: dict[str, Any] = {"userId": "Practitioner/evaluate-cli", "patientId": chart.patient_id}
    if encounter_id:
        context["encounterId"] = encounter_id
    # A chart is the whole record: put every resource under the matching key and let
    # the service's own selection (status, codes, dates) decide, as it does for prefetch.
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid4()),
        "context": context,
        "prefetch": {
            "patient": patient,
            "encounter": encounter,
            "recentEncounters": searchset("Encounter"),
            "medicationRequests": searchset("MedicationRequest", "Medication"),
            "medicationStatements": searchset("MedicationStatement"),
            "observations": searchset("Observation"),
            "procedureObservations": None,  # every Observation is under observations
            "conditions": searchset("Condition"),
            "resolvedConditions": None,
            "procedures": searchset("Procedure"),
        },
    }


class Evaluator:
    """The service's ASGI app, auth off, kept open for any number of requests."""

    def __init__(self, settings: Settings, service_id: str | None = None) -> None:
        """``service_id`` None: by each request's hook (order-sign: calf-safe-prescribing)."""
        self._settings = settings.model_copy(update={"auth_enabled": False})
        self._service_id = service_id
        self._lifespan: Any = None
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Evaluator:
        app = create_app(self._settings)
        self._lifespan = app.router.lifespan_context(app)
        await self._lifespan.__aenter__()
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://evaluate")
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
        await self._lifespan.__aexit__(kind, exc, tb)

    async def evaluate(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._client is not None, "use Evaluator as an async context manager"
        service_id = self._service_id or (
            "calf-safe-prescribing" if request.get("hook") == "order-sign" else "calf-pain-review")
        response = await self._client.post(f"/cds-services/{service_id}", json=request)
        payload: dict[str, Any] = response.json()
        if response.status_code != 200:
            error = CdsError(f"HTTP {response.status_code}")
            error.status_code = response.status_code
            error.issues = [i.get("diagnostics", "") for i in payload.get("issue", [])]
            raise error
        return payload


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
    async with Evaluator(settings, service_id) as evaluator:
        return await evaluator.evaluate(document)
