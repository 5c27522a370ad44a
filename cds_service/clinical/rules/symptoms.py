"""The symptom gate: does the chart show calf/leg pain, myalgia, cramp, weakness or swelling?

Most cards only make sense for a patient with leg or muscle symptoms (clinical.md §5.1,
§5.4–5.6 triggers): a statin or a diuretic alone, with normal labs, is not a finding.

A symptom counts when it is (within ``symptom_window_days`` of the evaluation time):

- an active, unabated Condition whose newest date (onset or recorded) is in the window,
  or which carries no date at all (a dateless active problem is still current);
- a reason of the current Encounter (dated in the window, or undated);
- an Observation finding dated in the window (an undated observation cannot be placed).
"""

from __future__ import annotations

from cds_service.clinical.facts import SYMPTOM_GROUPS, ClinicalFinding, PatientFacts
from cds_service.clinical.findings import Evidence
from cds_service.clinical.rules.chart import finding_evidence, is_current, latest_date, within_days
from cds_service.config import ClinicalSettings


def _counts(finding: ClinicalFinding, facts: PatientFacts, window: int) -> bool:
    if not is_current(finding, facts.now):
        return False
    when = latest_date(finding)
    if when is None:
        return finding.source != "observation"
    return within_days(facts.now, when, window)


def recent_in(
    facts: PatientFacts, groups: frozenset[str] | set[str], window_days: int
) -> list[ClinicalFinding]:
    """Current findings in ``groups`` that count as recent under the gate's date rules."""
    return [f for f in facts.findings if f.groups & groups and _counts(f, facts, window_days)]


def symptom_findings(facts: PatientFacts, cfg: ClinicalSettings) -> list[ClinicalFinding]:
    """The chart entries that open the symptom gate (empty list: gate closed)."""
    return recent_in(facts, SYMPTOM_GROUPS, cfg.symptom_window_days)


def symptom_evidence(symptoms: list[ClinicalFinding]) -> tuple[Evidence, ...]:
    """Evidence rows for the symptoms that opened the gate."""
    return tuple(finding_evidence(s, "Symptom") for s in symptoms)


def symptom_text(symptoms: list[ClinicalFinding]) -> str:
    """Short running-text list of the symptoms, for card detail."""
    names: list[str] = []
    for s in symptoms:
        name = s.display + (f" ({s.laterality})" if s.laterality else "")
        if name not in names:
            names.append(name)
    return "; ".join(names)
