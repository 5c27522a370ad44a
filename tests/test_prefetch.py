"""Prefetch semantics (CDS Hooks 2.0 §Prefetch) and the FHIR fallback fetch, with respx faults."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from cds_service.errors import FhirHostNotAllowed, PreconditionFailed
from cds_service.fhir_client import FhirClient, host_allowed
from cds_service.prefetch import belongs_to, gather, render_template

FHIR = "https://fhir.example.org/r4"
TEMPLATES = {
    "patient": "Patient/{{context.patientId}}",
    "encounter": "Encounter/{{context.encounterId}}",
    "conditions": "Condition?patient={{context.patientId}}&clinical-status=active",
}
CONTEXT = {"userId": "Practitioner/u1", "patientId": "p1"}
PATIENT = {"resourceType": "Patient", "id": "p1"}
COND = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}}
OTHER = {"resourceType": "Condition", "id": "c2", "subject": {"reference": "Patient/p2"}}


def searchset(*resources: dict, next_url: str | None = None) -> dict:
    bundle: dict = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def factory(http: httpx.AsyncClient, base: str | None = FHIR, token: str | None = "secret-token", **kw):
    def make() -> FhirClient | None:
        if base is None:
            return None
        return FhirClient(
            http, base, access_token=token, allowed_hosts=kw.get("hosts", ["fhir.example.org"]),
            require_https=kw.get("https", True), timeout_s=kw.get("timeout", 2.0),
            max_pages=kw.get("pages", 5), max_resources=kw.get("max_resources", 1000),
            max_response_bytes=kw.get("max_bytes", 1_000_000),
        )
    return make


def test_render_template_fills_context_and_user_tokens() -> None:
    assert render_template("Patient/{{context.patientId}}", CONTEXT) == "Patient/p1"
    assert render_template("Practitioner/{{userPractitionerId}}", CONTEXT) == "Practitioner/u1"
    assert render_template("PractitionerRole/{{userPractitionerRoleId}}", CONTEXT) is None
    assert render_template("Encounter/{{context.encounterId}}", CONTEXT) is None


def test_belongs_to_checks_subject_and_patient() -> None:
    assert belongs_to(PATIENT, "p1")
    assert not belongs_to({"resourceType": "Patient", "id": "p2"}, "p1")
    assert belongs_to(COND, "p1")
    assert belongs_to({"resourceType": "X", "patient": {"reference": "https://h/fhir/Patient/p1"}}, "p1")
    assert not belongs_to(OTHER, "p1")
    assert not belongs_to({"resourceType": "Observation"}, "p1")
    assert belongs_to({"resourceType": "Medication", "id": "m"}, "p1")


def test_host_allowlist() -> None:
    assert host_allowed("https://fhir.example.org/r4", ["fhir.example.org"], require_https=True)
    assert not host_allowed("http://fhir.example.org/r4", ["fhir.example.org"], require_https=True)
    assert host_allowed("https://a.example.org/", ["*.example.org"], require_https=True)
    assert not host_allowed("https://example.org.evil.com/", ["example.org"], require_https=True)
    assert not host_allowed("https://user:pw@fhir.example.org/", ["fhir.example.org"], require_https=True)
    assert not host_allowed("file:///etc/passwd", ["fhir.example.org"], require_https=False)
    assert not host_allowed("https://169.254.169.254/", ["fhir.example.org"], require_https=True)


@respx.mock
async def test_present_keys_used_and_null_means_no_data() -> None:
    route = respx.get(url__startswith=FHIR).mock(return_value=httpx.Response(500))
    async with httpx.AsyncClient() as http:
        record = await gather(
            TEMPLATES, CONTEXT, {"patient": PATIENT, "conditions": None}, factory(http), deadline_s=2
        )
    assert record.patient == PATIENT
    assert record.of_type("Condition") == []
    assert not route.called  # null is "no data", never a refetch; no encounterId: no read


@respx.mock
async def test_absent_key_is_fetched_with_bearer_token() -> None:
    route = respx.get(f"{FHIR}/Condition").mock(return_value=httpx.Response(200, json=searchset(COND, OTHER)))
    async with httpx.AsyncClient() as http:
        record = await gather(TEMPLATES, CONTEXT, {"patient": PATIENT}, factory(http), deadline_s=2)
    assert route.call_count == 1
    request = route.calls[0].request
    assert request.headers["Authorization"] == "Bearer secret-token"
    assert request.url.params["patient"] == "p1"
    assert [c["id"] for c in record.of_type("Condition")] == ["c1"]
    assert record.ignored_other_patient == 1


@respx.mock
async def test_no_token_sends_no_authorization_header() -> None:
    route = respx.get(f"{FHIR}/Condition").mock(return_value=httpx.Response(200, json=searchset()))
    async with httpx.AsyncClient() as http:
        await gather(TEMPLATES, CONTEXT, {"patient": PATIENT}, factory(http, token=None), deadline_s=2)
    assert "Authorization" not in route.calls[0].request.headers


@respx.mock
async def test_operation_outcome_prefetch_counts_as_missing() -> None:
    route = respx.get(f"{FHIR}/Condition").mock(return_value=httpx.Response(200, json=searchset(COND)))
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "processing"}]}
    async with httpx.AsyncClient() as http:
        record = await gather(
            TEMPLATES, CONTEXT, {"patient": PATIENT, "conditions": outcome}, factory(http), deadline_s=2
        )
    assert route.called
    assert len(record.of_type("Condition")) == 1


@respx.mock
async def test_prefetched_bundle_next_link_is_followed() -> None:
    respx.get(f"{FHIR}/Condition", params={"page": "2"}).mock(
        return_value=httpx.Response(200, json=searchset(dict(COND, id="c3")))
    )
    prefetch = {"patient": PATIENT, "conditions": searchset(COND, next_url=f"{FHIR}/Condition?page=2")}
    async with httpx.AsyncClient() as http:
        record = await gather(TEMPLATES, CONTEXT, prefetch, factory(http), deadline_s=2)
    assert sorted(c["id"] for c in record.of_type("Condition")) == ["c1", "c3"]


@respx.mock
async def test_endless_paging_is_cut_and_named_not_silent() -> None:
    """Issue 8 hole 9: a search cut at the page bound is a 412 naming the key, never a 200."""
    pages = {"n": 0}

    def page(request: httpx.Request) -> httpx.Response:
        pages["n"] += 1
        return httpx.Response(200, json=searchset(COND, next_url=f"{FHIR}/Condition?page={pages['n']}"))

    route = respx.get(f"{FHIR}/Condition").mock(side_effect=page)
    async with httpx.AsyncClient() as http:
        with pytest.raises(PreconditionFailed) as caught:
            await gather(TEMPLATES, CONTEXT, {"patient": PATIENT}, factory(http, pages=3), deadline_s=2)
    assert route.call_count == 3
    assert "'conditions'" in caught.value.message and "3 pages" in caught.value.message


@respx.mock
async def test_self_referencing_next_is_a_412_not_a_loop() -> None:
    route = respx.get(f"{FHIR}/Condition").mock(
        return_value=httpx.Response(200, json=searchset(COND, next_url=f"{FHIR}/Condition?page=again"))
    )
    async with httpx.AsyncClient() as http:
        with pytest.raises(PreconditionFailed) as caught:
            await gather(TEMPLATES, CONTEXT, {"patient": PATIENT}, factory(http, pages=50), deadline_s=2)
    assert route.call_count == 2
    assert "'conditions'" in caught.value.message and "loops back" in caught.value.message


@respx.mock
async def test_resource_bound_is_a_412_naming_the_key() -> None:
    respx.get(f"{FHIR}/Condition").mock(
        return_value=httpx.Response(200, json=searchset(*[dict(COND, id=f"c{i}") for i in range(5)]))
    )
    async with httpx.AsyncClient() as http:
        with pytest.raises(PreconditionFailed) as caught:
            await gather(TEMPLATES, CONTEXT, {"patient": PATIENT}, factory(http, max_resources=4), deadline_s=2)
    assert "'conditions'" in caught.value.message and "more than 4 resources" in caught.value.message


@respx.mock
async def test_next_link_to_another_origin_is_refused() -> None:
    evil = respx.get(url__startswith="https://evil.example.com").mock(return_value=httpx.Response(200, json=searchset()))
    prefetch = {"patient": PATIENT, "conditions": searchset(COND, next_url="https://evil.example.com/x")}
    async with httpx.AsyncClient() as http:
        with pytest.raises(PreconditionFailed):
            await gather(TEMPLATES, CONTEXT, prefetch, factory(http), deadline_s=2)
    assert not evil.called


async def test_missing_data_without_fhir_server_is_412() -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(PreconditionFailed):
            await gather(TEMPLATES, CONTEXT, {"patient": PATIENT}, factory(http, base=None), deadline_s=2)


async def test_host_not_on_allowlist_is_412_before_any_request() -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(url__startswith="https://").mock(return_value=httpx.Response(200, json=searchset()))
        async with httpx.AsyncClient() as http:
            with pytest.raises(PreconditionFailed):
                await gather(TEMPLATES, CONTEXT, {"patient": PATIENT}, factory(http, hosts=["other.org"]), deadline_s=2)
        assert not route.called
    with pytest.raises(FhirHostNotAllowed):
        factory(httpx.AsyncClient(), base="http://fhir.example.org/r4")()


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500),
        httpx.Response(401),
        httpx.Response(200, content=b"{not json"),
        httpx.Response(200, json=[1, 2]),
        httpx.Response(200, json={"resourceType": "OperationOutcome", "issue": []}),
        httpx.Response(302, headers={"Location": "https://evil.example.com/"}),
    ],
    ids=["500", "401", "malformed-json", "not-a-resource", "operation-outcome", "redirect"],
)
async def test_server_faults_are_412(response: httpx.Response) -> None:
    with respx.mock:
        respx.get(f"{FHIR}/Condition").mock(return_value=response)
        async with httpx.AsyncClient() as http:
            with pytest.raises(PreconditionFailed):
                await gather(TEMPLATES, CONTEXT, {"patient": PATIENT}, factory(http), deadline_s=2)


@respx.mock
async def test_connect_error_and_timeout_are_412() -> None:
    respx.get(f"{FHIR}/Condition").mock(side_effect=httpx.ConnectError("refused"))
    respx.get(f"{FHIR}/Patient/p1").mock(side_effect=httpx.ReadTimeout("slow"))
    async with httpx.AsyncClient() as http:
        with pytest.raises(PreconditionFailed):
            await gather(TEMPLATES, CONTEXT, {}, factory(http), deadline_s=2)


@respx.mock
async def test_overall_deadline_bounds_a_hanging_server() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json=searchset())

    respx.get(f"{FHIR}/Condition").mock(side_effect=hang)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with httpx.AsyncClient() as http:
        with pytest.raises(PreconditionFailed):
            await gather(TEMPLATES, CONTEXT, {"patient": PATIENT}, factory(http, timeout=10), deadline_s=0.2)
    assert loop.time() - started < 5  # bounded by the deadline, not the 30 s hang


@respx.mock
async def test_huge_response_is_refused() -> None:
    respx.get(f"{FHIR}/Condition").mock(return_value=httpx.Response(200, content=b" " * 2_000_000))
    async with httpx.AsyncClient() as http:
        with pytest.raises(PreconditionFailed):
            await gather(TEMPLATES, CONTEXT, {"patient": PATIENT}, factory(http), deadline_s=2)


@respx.mock
async def test_missing_keys_are_fetched_concurrently() -> None:
    in_flight = 0
    peak = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        if "Patient" in request.url.path:
            return httpx.Response(200, json=PATIENT)
        return httpx.Response(200, json=searchset())

    respx.get(url__startswith=FHIR).mock(side_effect=slow)
    async with httpx.AsyncClient() as http:
        await gather(TEMPLATES, dict(CONTEXT, encounterId="e1"), {}, factory(http), deadline_s=2)
    assert peak == 3


@respx.mock
async def test_referenced_medication_is_fetched() -> None:
    order = {
        "resourceType": "MedicationRequest", "id": "mr1", "subject": {"reference": "Patient/p1"},
        "medicationReference": {"reference": "Medication/m1"},
    }
    med = {"resourceType": "Medication", "id": "m1"}
    route = respx.get(f"{FHIR}/Medication/m1").mock(return_value=httpx.Response(200, json=med))
    templates = {"patient": TEMPLATES["patient"], "meds": "MedicationRequest?patient={{context.patientId}}"}
    async with httpx.AsyncClient() as http:
        record = await gather(
            templates, CONTEXT, {"patient": PATIENT, "meds": searchset(order)}, factory(http), deadline_s=2
        )
    assert route.called
    assert record.of_type("Medication") == [med]


async def test_prefetched_recent_encounters_next_link_is_not_followed() -> None:
    """The EHR's first page of ``recentEncounters`` is the whole answer (newest N)."""
    templates = {"patient": "Patient/{{context.patientId}}",
                 "recentEncounters": "Encounter?patient={{context.patientId}}&_sort=-date&_count=20"}
    encounter = {"resourceType": "Encounter", "id": "e1", "status": "finished",
                 "subject": {"reference": "Patient/p1"}}
    page = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": encounter}],
            "link": [{"relation": "next", "url": "https://fhir.example.org/r4/Encounter?page=2"}]}

    def no_client() -> FhirClient | None:
        raise AssertionError("nothing may be fetched")

    record = await gather(templates, {"patientId": "p1"},
                          {"patient": {"resourceType": "Patient", "id": "p1"}, "recentEncounters": page},
                          no_client, deadline_s=2)
    assert [e["id"] for e in record.of_type("Encounter")] == ["e1"]


def test_bundle_collection_in_one_pass_matches_belongs_to() -> None:
    """``_collect`` (with ``_collect_all``, the inlined hot path for prefetched Bundles) keeps
    and drops exactly what ``bundle_resources`` followed by ``belongs_to`` would."""
    from cds_service.fhir_client import bundle_resources
    from cds_service.prefetch import _collect
    from cds_service.record import PatientRecord

    resources: list[object] = [
        {"resourceType": "Patient", "id": "p1"},
        {"resourceType": "Patient", "id": "p2"},
        {"resourceType": "Medication", "id": "m1"},
        {"resourceType": "Observation", "id": "o1", "subject": {"reference": "Patient/p1"}},
        {"resourceType": "Observation", "id": "o2",
         "subject": {"reference": "https://ehr.example/fhir/Patient/p1"}},
        {"resourceType": "Observation", "id": "o3", "subject": {"reference": "Patient/p10"}},
        {"resourceType": "Observation", "id": "o4", "subject": {"reference": "Patient/p2"}},
        {"resourceType": "Observation", "id": "o5"},
        {"resourceType": "Observation", "id": "o6", "subject": "Patient/p1"},
        {"resourceType": "AllergyIntolerance", "id": "a1", "patient": {"reference": "Patient/p1"}},
        {"resourceType": "Condition", "id": "c1", "subject": {"reference": 5}},
        {"resourceType": "OperationOutcome", "issue": []},
        {"id": "no-type"},
        {"resourceType": 7, "subject": {"reference": "Patient/p1"}},
        "not-an-object",
    ]
    entries = [{"resource": r} for r in resources] + ["not-an-entry", {"fullUrl": "x"}]
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": entries}

    fast = PatientRecord(patient_id="p1")
    _collect(fast, bundle)
    slow = PatientRecord(patient_id="p1")
    for resource in bundle_resources(bundle):
        if belongs_to(resource, "p1"):
            slow.add(resource)
        else:
            slow.ignored_other_patient += 1
    assert fast.by_type == slow.by_type
    assert fast.ignored_other_patient == slow.ignored_other_patient == 6
    assert {r["id"] for rs in fast.by_type.values() for r in rs} == {"p1", "m1", "o1", "o2", "a1"}
