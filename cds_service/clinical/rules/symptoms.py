"""The symptom gate: does the chart show calf/leg pain, myalgia, cramp, weakness or swelling?

Most cards only make sense for a patient with leg or muscle symptoms (clinical.md §5.1,
§5.4–5.6 triggers): a statin or a diuretic alone, with normal labs, is not a finding.

A symptom counts when it is (within ``symptom_window_days`` of the evaluation time):

- an active, unabated Condition whose newest date (onset or recorded) is in the window,
  or which carries no date at all (a dateless active problem is still current);
- a reason of the current Encounter (dated in the window, or undated);
- an Observation finding dated in the window (an undated observation cannot be placed).

Two gates (issue 7, "less noise"): the *muscle* gate (any of the symptom groups) opens the
medication, electrolyte, vitamin D and neuropathy cards; the *leg* gate opens the cards
about a leg (DVT, red flags, PAD) and needs a leg-localised symptom: calf or leg pain,
leg swelling of any side (side unknown included), or a cramp located in the leg.
Generalised myalgia, a cramp without a site and weakness are not leg-localised: with
dyspnoea they are the everyday viral-illness picture, not a DVT.
"""

from __future__ import annotations

import re
from dataclasses import replace

from cds_service.clinical.facts import (
    CALF_PAIN,
    LEG_SWELLING,
    MUSCLE_CRAMP,
    MYALGIA,
    SYMPTOM_GROUPS,
    ClinicalFinding,
    PatientFacts,
)
from cds_service.clinical.findings import Evidence
from cds_service.clinical.rules.chart import (
    age_days,
    finding_evidence,
    is_current,
    latest_date,
    within_days,
)
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


# A cramp counts as leg-localised when its code text or body site names a part of the leg
# (e.g. ICD-10-CM M62.831 "Muscle spasm of calf", "nocturnal leg cramps").
_LEG_SITE = re.compile(
    r"\b(leg|legs|calf|calves|thigh|thighs|shin|lower limb|lower extremity|lower extremities"
    r"|foot|feet|ankle|hamstring|quadriceps|gastrocnemius|soleus|popliteal)\b",
    re.IGNORECASE,
)


def is_leg_localised(finding: ClinicalFinding) -> bool:
    """Calf/leg pain, leg swelling (any side), or a cramp (or muscle pain) whose text or
    body site names the leg."""
    if finding.groups & {CALF_PAIN, LEG_SWELLING}:
        return True
    if finding.groups & {MUSCLE_CRAMP, MYALGIA}:
        return any(_LEG_SITE.search(t) for t in (finding.display, finding.body_site) if t)
    return False


def leg_symptom_findings(facts: PatientFacts, cfg: ClinicalSettings) -> list[ClinicalFinding]:
    """The recent leg-localised symptoms (the gate of the DVT, red-flag and PAD cards)."""
    return [f for f in symptom_findings(facts, cfg) if is_leg_localised(f)]


def once(symptoms: list[ClinicalFinding]) -> list[ClinicalFinding]:
    """Each symptom once (same text, same or unstated side): the newest entry, keeping a
    side that one of them states, in first-seen order.

    The same complaint is often both a Condition and a reason of today's Encounter."""
    chosen: list[ClinicalFinding] = []
    for s in symptoms:
        text = s.display.strip().lower()
        for i, old in enumerate(chosen):
            if old.display.strip().lower() != text:
                continue
            if s.laterality and old.laterality and s.laterality != old.laterality:
                continue
            new_date, old_date = latest_date(s), latest_date(old)
            newer = new_date is not None and (old_date is None or age_days(new_date, old_date) > 0)
            keep = s if newer else old
            chosen[i] = replace(keep, laterality=s.laterality or old.laterality)
            break
        else:
            chosen.append(s)
    return chosen


def symptom_evidence(symptoms: list[ClinicalFinding]) -> tuple[Evidence, ...]:
    """Evidence rows for the symptoms that opened the gate (each once)."""
    return tuple(finding_evidence(s, "Symptom") for s in once(symptoms))


def symptom_text(symptoms: list[ClinicalFinding]) -> str:
    """Short running-text list of the symptoms, for card detail."""
    names: list[str] = []
    for s in once(symptoms):
        side = s.laterality and s.laterality not in s.display.lower()
        name = s.display + (f" ({s.laterality})" if side else "")
        if name not in names:
            names.append(name)
    return "; ".join(names)
