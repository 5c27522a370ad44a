"""Prefetch: templates → what the EHR sent → fetch only what is missing → PatientRecord.

Spec (CDS Hooks 2.0 §Prefetch): a key present is used as given; a key whose value is
``null`` means "no data" and is not refetched; an absent key (or one holding an
OperationOutcome, which the spec tells services to check for) is fetched from
``fhirServer`` with the bearer token when one was given. When required data can be had
neither way the service answers 412.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import FhirError, FhirTruncated, PreconditionFailed
from .fhir_client import FhirClient, bundle_resources, next_link
from .outbound import CallBudget, call_scope
from .record import PatientRecord, Resource

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")
_USER_TOKENS = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}
# Resource types whose patient link lives in these fields (R4).
_PATIENT_FIELDS = ("subject", "patient")
_UNLINKED_TYPES = frozenset({"Medication", "Patient"})
# Bytes all FHIR responses of one call may hold together (Settings.fhir_max_call_bytes).
DEFAULT_CALL_BYTES = 8 * 1024 * 1024
# Keys whose query asks for the newest N (``_sort=-date&_count=N``): the first page is the
# whole answer, so its ``next`` link is not followed and not reported as truncation.
# CDS Hooks 2.0 templates have no date functions (``{{today()}}`` is 3.0 ballot), so
# "recent" is "the newest N" in the query and the rules' own window on the dates.
FIRST_PAGE_KEYS = frozenset({"recentEncounters", "procedureObservations"})
# Keys of supplementary data: absent from the prefetch and with no ``fhirServer`` to fetch
# them from, they are skipped instead of failing the call with 412 (an EHR configured from
# an older discovery document still gets its cards; what the key adds, a name-matched
# ankle-brachial index, was never fetched before and a site can send it under its own codes).
OPTIONAL_KEYS = frozenset({"procedureObservations"})


def render_template(template: str, context: Mapping[str, Any]) -> str | None:
    """Fill ``{{context.x}}`` and the four 2.0 user tokens; ``None`` if one is unknown."""
    literals, tokens = _compiled(template)
    out = [literals[0]]
    for token, literal in zip(tokens, literals[1:]):
        value: object = None
        if token.startswith("context."):
            value = context.get(token[8:])
        elif token in _USER_TOKENS:
            user = context.get("userId")
            if isinstance(user, str) and user.startswith(_USER_TOKENS[token] + "/"):
                value = user.split("/", 1)[1]
        if not isinstance(value, str) or not value:
            return None
        out.append(value)
        out.append(literal)
    return "".join(out)


# A service's templates are fixed: each is split into its literal text and tokens once.
_COMPILED_LIMIT = 256
_compiled_templates: dict[str, tuple[list[str], list[str]]] = {}


def _compiled(template: str) -> tuple[list[str], list[str]]:
    parts = _compiled_templates.get(template)
    if parts is None:
        pieces = _TOKEN.split(template)  # literal, token, literal, ..., literal
        parts = (pieces[0::2], pieces[1::2])
        if len(_compiled_templates) < _COMPILED_LIMIT:
            _compiled_templates[template] = parts
    return parts


def belongs_to(resource: Resource, patient_id: str) -> bool:
    """True if the resource is the patient, or references ``Patient/<patient_id>``."""
    rtype = resource.get("resourceType")
    if rtype == "Patient":
        return resource.get("id") == patient_id
    if rtype == "Medication":
        return True
    wanted = f"Patient/{patient_id}"
    for field_name in _PATIENT_FIELDS:
        ref = resource.get(field_name)
        if isinstance(ref, dict):
            value = ref.get("reference")
            if isinstance(value, str) and (value == wanted or value.endswith("/" + wanted)):
                return True
    return False


def belongs_to_or_unlinked(resource: Resource, patient_id: str) -> bool:
    """A draft order of ``context.draftOrders``: the patient's, or naming no patient at all
    (the EHR sends the session's orders; one naming another patient is dropped)."""
    if not any(isinstance(resource.get(f), dict) for f in _PATIENT_FIELDS):
        return True
    return belongs_to(resource, patient_id)


@dataclass(frozen=True, slots=True)
class FetchPlan:
    key: str
    url: str
    is_read: bool
    first_page: bool = False
    optional: bool = False


def _is_operation_outcome(value: object) -> bool:
    return isinstance(value, dict) and value.get("resourceType") == "OperationOutcome"


def _collect(record: PatientRecord, value: object) -> str | None:
    """Add a prefetched value to the record; return a ``next`` link still to follow."""
    if not isinstance(value, dict):
        return None
    _collect_all(record, bundle_resources(value))
    return next_link(value) if value.get("resourceType") == "Bundle" else None


async def gather(
    templates: Mapping[str, str],
    context: Mapping[str, Any],
    prefetch: Mapping[str, Any] | None,
    client_factory: Callable[[], FhirClient | None],
    *,
    deadline_s: float,
    max_call_bytes: int = DEFAULT_CALL_BYTES,
) -> PatientRecord:
    """Build the PatientRecord for one call, fetching missing keys concurrently.

    ``client_factory`` returns a FhirClient for the request's ``fhirServer`` (or ``None``
    when there is none); it may raise ``FhirHostNotAllowed``, which becomes a 412. Every
    request of the call (searches, their pages, Medication reads) shares one deadline and
    one byte budget: the call's (``outbound.call_scope``) when one is open, else a new one.
    """
    with call_scope(deadline_s, max_call_bytes) as budget:
        return await _gather(templates, context, prefetch, client_factory, budget)


async def _gather(
    templates: Mapping[str, str],
    context: Mapping[str, Any],
    prefetch: Mapping[str, Any] | None,
    client_factory: Callable[[], FhirClient | None],
    budget: CallBudget,
) -> PatientRecord:
    patient_id = context["patientId"]
    record = PatientRecord(patient_id=patient_id, encounter_id=context.get("encounterId"))
    given = prefetch or {}
    plans: list[FetchPlan] = []
    for key, template in templates.items():
        url = render_template(template, context)
        if url is None:
            continue  # e.g. no encounterId in this context: nothing to fetch
        if key in given and not _is_operation_outcome(given[key]):
            value = given[key]
            if value is None:
                continue  # the EHR says: no data
            next_url = _collect(record, value)
            if next_url and key not in FIRST_PAGE_KEYS:
                plans.append(FetchPlan(key=key, url=next_url, is_read=False))
            continue
        plans.append(
            FetchPlan(key=key, url=url, is_read="?" not in url, first_page=key in FIRST_PAGE_KEYS,
                      optional=key in OPTIONAL_KEYS)
        )

    if plans and all(plan.optional for plan in plans) and _no_client(client_factory):
        plans = []
    if not plans:
        if missing_medication_refs(record):
            try:
                optional_client = client_factory()
            except FhirError:
                optional_client = None
            if optional_client is not None:
                await _resolve_medications(record, optional_client, budget)
        return record

    client = _client_or_412(client_factory)
    try:
        async with asyncio.timeout(budget.remaining()):
            results = await asyncio.gather(*(_run(client, plan) for plan in plans))
    except TimeoutError as exc:
        raise PreconditionFailed(
            f"FHIR server {client.host[:100]} did not answer before the "
            f"{budget.deadline_s:g} s deadline"
        ) from exc
    except FhirError as exc:
        raise PreconditionFailed(f"required data could not be fetched: {exc.message}") from exc
    for resources in results:
        _collect_all(record, resources)
    await _resolve_medications(record, client, budget)
    return record


def _no_client(client_factory: Callable[[], FhirClient | None]) -> bool:
    """True when the request names no usable ``fhirServer`` (nothing can be fetched)."""
    try:
        return client_factory() is None
    except FhirError:
        return True


def _client_or_412(client_factory: Callable[[], FhirClient | None]) -> FhirClient:
    try:
        client = client_factory()
    except FhirError as exc:
        raise PreconditionFailed(f"required data missing and {exc.message}") from exc
    if client is None:
        raise PreconditionFailed("required prefetch data missing and no fhirServer given")
    return client


async def _run(client: FhirClient, plan: FetchPlan) -> list[Resource]:
    try:
        if plan.is_read:
            resource = await client.read(plan.url)
            return [] if resource is None else [resource]
        if plan.first_page:
            return await client.first_page(plan.url)
        return await client.search(plan.url)
    except FhirTruncated as exc:
        # Partial data is never used silently: a rule could miss the one result that
        # matters, so the call fails and the EHR is told which key to prefetch.
        raise FhirTruncated(
            f"prefetch key '{plan.key}': {exc.message}; send it as prefetch"
        ) from None
    except FhirError as exc:
        raise type(exc)(f"prefetch key '{plan.key}': {exc.message}") from None


def _collect_all(record: PatientRecord, resources: list[Resource]) -> None:
    """Add the patient's resources; count (and drop) those of anyone else.

    :func:`belongs_to`, with the patient's reference built once per batch."""
    patient_id = record.patient_id
    wanted = f"Patient/{patient_id}"
    suffix = "/" + wanted
    by_type = record.by_type
    for resource in resources:
        rtype = resource.get("resourceType")
        if rtype == "Patient":
            mine = resource.get("id") == patient_id
        elif rtype == "Medication":
            mine = True
        else:
            mine = False
            for field_name in _PATIENT_FIELDS:
                ref = resource.get(field_name)
                if isinstance(ref, dict):
                    value = ref.get("reference")
                    if isinstance(value, str) and (value == wanted or value.endswith(suffix)):
                        mine = True
                        break
        if not mine:
            record.ignored_other_patient += 1
        elif isinstance(rtype, str):  # PatientRecord.add
            group = by_type.get(rtype)
            if group is None:
                by_type[rtype] = [resource]
            else:
                group.append(resource)


def missing_medication_refs(record: PatientRecord) -> list[str]:
    """``Medication/<id>`` references no contained or gathered Medication satisfies."""
    have = {m.get("id") for m in record.of_type("Medication")}
    wanted: list[str] = []
    for rtype in ("MedicationRequest", "MedicationStatement"):
        for resource in record.of_type(rtype):
            ref = resource.get("medicationReference")
            if not isinstance(ref, dict):
                continue
            value = ref.get("reference")
            if isinstance(value, str) and value.startswith("Medication/"):
                med_id = value.removeprefix("Medication/")
                if med_id not in have and value not in wanted:
                    wanted.append(value)
    return wanted


async def _resolve_medications(record: PatientRecord, client: FhirClient, budget: CallBudget) -> None:
    """Fetch referenced Medications; failures here only lower confidence, never 412.

    They run on what is left of the call's deadline, not on a fresh one.
    """
    refs = missing_medication_refs(record)[:50]
    if not refs:
        return
    try:
        async with asyncio.timeout(budget.remaining()):
            found = await asyncio.gather(*(client.read(r) for r in refs), return_exceptions=True)
    except TimeoutError:
        log.warning("Medication look-ups timed out; falling back to reference text")
        return
    for item in found:
        if isinstance(item, dict) and item.get("resourceType") == "Medication":
            record.add(item)
