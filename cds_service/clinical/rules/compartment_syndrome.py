"""Compartment syndrome risk: lower-leg fracture, crush injury, or leg surgery or cast in
the last 7 days, AND leg pain or swelling recorded since (critical).

Sources (clinical.md §4.5): acute compartment syndrome is a surgical emergency (fasciotomy);
it follows fracture (most cases), crush injury, surgery and tight casts; pain out of
proportion to the injury and pain on passive stretch are early signs, paraesthesia,
weakness, pallor and pulselessness late ones (StatPearls "Acute Compartment Syndrome").
The window is the issue-7 brief's 7 days (``compartment_window_days``). A symptom counts
when it is dated on or after the event, or is a reason of the current encounter.
"""

from __future__ import annotations

from datetime import datetime

from cds_service.clinical.facts import (
    CALF_PAIN,
    CRUSH_INJURY,
    LEG_CAST,
    LEG_SURGERY,
    LEG_SWELLING,
    LOWER_LEG_FRACTURE,
    ClinicalFinding,
    PatientFacts,
)
from cds_service.clinical.findings import Evidence, Finding, Indicator
from cds_service.clinical.rules.chart import (
    age_days,
    finding_evidence,
    is_current,
    latest_date,
    procedure_evidence,
    within_days,
)
from cds_service.clinical.rules.labs import iso_date
from cds_service.clinical.rules.shape import FindingBuilder
from cds_service.clinical.rules.symptoms import symptom_text
from cds_service.config import ClinicalSettings

TOPIC = "compartment-syndrome-risk"
DEFAULT_INDICATOR: Indicator = "critical"


def _events(facts: PatientFacts, days: int) -> list[tuple[str, datetime, Evidence]]:
    out: list[tuple[str, datetime, Evidence]] = []
    for f in facts.findings_in(LOWER_LEG_FRACTURE, CRUSH_INJURY):
        when = f.date
        if f.source == "condition" and is_current(f, facts.now) and when is not None \
                and within_days(facts.now, when, days) and age_days(facts.now, when) >= 0:
            out.append((f.display, when, finding_evidence(f, "Injury")))
    for p in facts.procedures:
        if p.groups & {LEG_SURGERY, LEG_CAST} and within_days(facts.now, p.performed, days) \
                and age_days(facts.now, p.performed) >= 0:
            what = "Leg cast" if LEG_CAST in p.groups and LEG_SURGERY not in p.groups else "Leg surgery"
            out.append((p.display, p.performed, procedure_evidence(p, what)))
    return out


def _since(facts: PatientFacts, start: datetime) -> list[ClinicalFinding]:
    out = []
    for f in facts.findings_in(CALF_PAIN, LEG_SWELLING):
        if not is_current(f, facts.now):
            continue
        when = latest_date(f)
        if when is None:
            if f.source == "encounter-reason":
                out.append(f)
        elif age_days(start, when) <= 0 and age_days(facts.now, when) >= 0:
            out.append(f)
    return out


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire for a recent injury/procedure AND leg pain or swelling recorded since."""
    events = _events(facts, cfg.compartment_window_days)
    if not events:
        return None
    first = min(when for _, when, _ in events)
    symptoms = _since(facts, first.replace(hour=0, minute=0, second=0, microsecond=0))
    if not symptoms:
        return None
    card = FindingBuilder(TOPIC).rows(ev for _, _, ev in events).findings(symptoms, "Symptom")
    return card.build({
        "event_name": min(events, key=lambda e: e[1])[0],
        "events": "; ".join(f"{name} ({iso_date(when)})" for name, when, _ in events),
        "symptoms": symptom_text(symptoms),
    })
