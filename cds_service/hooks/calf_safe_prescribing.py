"""``calf-safe-prescribing``: the order-sign service of calf-cds (issue 10).

At the moment of signing it looks at the draft orders (``context.draftOrders``) against
the chart, with the same prefetch templates as ``calf-pain-review``, and warns about the
calf-pain causes a prescriber can still avoid: statin label interactions, a new statin
without baseline checks, fluoroquinolone tendon risk, a potassium-wasting diuretic without
electrolytes, compression with peripheral artery disease.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..models.orders import OrderSignContext
from .base import ServiceDefinition
from .calf_pain_review import prefetch_templates

SERVICE_ID = "calf-safe-prescribing"


def definition(observation_codes: Iterable[str]) -> ServiceDefinition:
    return ServiceDefinition(
        id=SERVICE_ID,
        hook="order-sign",
        title="Calf-safe prescribing",
        description=(
            "At order signing, checks the draft orders against the chart for avoidable causes "
            "of calf pain: statin label interactions and dose limits, a new statin without "
            "baseline CK/TSH, fluoroquinolone tendon risk, a potassium-wasting diuretic without "
            "recent potassium and magnesium, compression with peripheral artery disease. "
            "Suggestions remove or change the draft, or order a test. Decision support, not a "
            "diagnosis."
        ),
        prefetch=prefetch_templates(observation_codes),
        context_model=OrderSignContext,
        usage_requirements=(
            "Needs read access to the patient's Patient, Encounter, MedicationRequest, "
            "MedicationStatement, Medication, Observation, Condition and Procedure resources; "
            "context.draftOrders holds the orders being signed."
        ),
        draft_orders=True,
    )
