"""``calf-pain-review``: the patient-view service of calf-cds.

Prefetch templates use only CDS Hooks 2.0 tokens (``{{context.*}}`` root fields); no
3.0-ballot functions such as ``{{today()}}``, so time windows are applied by the rules,
not by the queries. Observations are filtered by the LOINC/SNOMED codes the rules read
and sorted newest first.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..models.request import PatientViewContext
from .base import ServiceDefinition

SERVICE_ID = "calf-pain-review"
PATIENT = "{{context.patientId}}"
RECENT_ENCOUNTERS = 20
RECENT_PROCEDURE_OBSERVATIONS = 50
PROCEDURE_CATEGORIES = "procedure,exam"


def prefetch_templates(observation_codes: Iterable[str], *, page_size: int = 200) -> dict[str, str]:
    """Templates keyed by prefetch key; ``observation_codes`` are ``system|code`` tokens."""
    codes = ",".join(sorted(set(observation_codes)))
    return {
        "patient": f"Patient/{PATIENT}",
        "encounter": "Encounter/{{context.encounterId}}",
        # The newest encounters, whose reasons count as symptoms within the symptom window
        # even when the EHR sends no encounterId (the CDS Hooks sandbox never does). Only
        # the first page is read (prefetch.FIRST_PAGE_KEYS); the rules apply the window.
        "recentEncounters": f"Encounter?patient={PATIENT}&_sort=-date&_count={RECENT_ENCOUNTERS}",
        # completed/stopped too: a course that ended recently still counts for some cards
        # (fluoroquinolone tendon risk: ended within 30 days); extraction keeps 90 days.
        "medicationRequests": f"MedicationRequest?patient={PATIENT}&status=active,completed,stopped",
        "medicationStatements": (
            f"MedicationStatement?patient={PATIENT}&status=active,intended,completed,stopped"
        ),
        "observations": (
            f"Observation?patient={PATIENT}&code={codes}&_sort=-date&_count={page_size}"
        ),
        # Measurements with no standard code, recognised by name (the ankle-brachial index:
        # no LOINC code is verified, clinical.md §2): a vascular-lab or bedside study is a
        # procedure or exam Observation. Newest first, first page only; a site can still add
        # its local ABI codes to ``observations`` (extra_observation_codes).
        "procedureObservations": (
            f"Observation?patient={PATIENT}&category={PROCEDURE_CATEGORIES}"
            f"&_sort=-date&_count={RECENT_PROCEDURE_OBSERVATIONS}"
        ),
        "conditions": (
            f"Condition?patient={PATIENT}&clinical-status=active,recurrence,relapse"
        ),
        # Resolved DVT/PE still count as "previously documented DVT" (Wells item 9).
        "resolvedConditions": (
            f"Condition?patient={PATIENT}&clinical-status=inactive,remission,resolved"
        ),
        "procedures": f"Procedure?patient={PATIENT}&status=completed&_sort=-date&_count=100",
    }


def definition(observation_codes: Iterable[str]) -> ServiceDefinition:
    return ServiceDefinition(
        id=SERVICE_ID,
        hook="patient-view",
        title="Calf pain review",
        description=(
            "Looks for hidden, treatable and dangerous causes of calf pain or soreness "
            "(statin muscle symptoms, diuretic-related low potassium or magnesium, vitamin D "
            "deficiency, deep vein thrombosis risk and red flags, peripheral artery disease, "
            "diabetic neuropathy) and returns advisory cards. Decision support, not a diagnosis."
        ),
        prefetch=prefetch_templates(observation_codes),
        context_model=PatientViewContext,
        usage_requirements=(
            "Needs read access to the patient's Patient, Encounter, MedicationRequest, "
            "MedicationStatement, Medication, Observation, Condition and Procedure resources."
        ),
    )
