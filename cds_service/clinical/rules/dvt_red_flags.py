"""DVT / PE red flags: urgent same-day assessment (critical).

Sources (clinical.md §4.5, §5.4 red-flag variant): unilateral calf/leg swelling, warmth or
redness (Wells items; VSAC VTE Symptoms set) suggest DVT; calf pain with dyspnoea, chest
pain, tachycardia or syncope suggests PE; a positive D-dimer in a symptomatic patient
needs imaging. Each must be recorded within ``red_flag_window_days``: a red flag must be
dated to be recent, except a reason of the current Encounter, which is current by nature.
Swelling counts only when one-sided (laterality left or right).
"""

from __future__ import annotations

from cds_service.clinical.facts import (
    LEG_SWELLING,
    LEG_WARMTH_REDNESS,
    PE_SYMPTOM,
    ClinicalFinding,
    PatientFacts,
)
from cds_service.clinical.findings import Evidence, Finding, Indicator
from cds_service.clinical.rules import d_dimer
from cds_service.clinical.rules.chart import (
    finding_evidence,
    is_current,
    latest_date,
    within_days,
)
from cds_service.clinical.rules.labs import describe, fmt_number, lab_evidence
from cds_service.clinical.rules.symptoms import leg_symptom_findings, symptom_evidence
from cds_service.config import ClinicalSettings

TOPIC = "dvt-red-flags"
DEFAULT_INDICATOR: Indicator = "critical"


def _recent(facts: PatientFacts, group: str, days: int) -> list[ClinicalFinding]:
    out = []
    for f in facts.findings_in(group):
        if not is_current(f, facts.now):
            continue
        when = latest_date(f)
        if (when is None and f.source == "encounter-reason") or within_days(facts.now, when, days):
            out.append(f)
    return out


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire for the symptom gate AND a recent red flag (sign, PE symptom or positive D-dimer)."""
    symptoms = leg_symptom_findings(facts, cfg)
    if not symptoms:
        return None
    days = cfg.red_flag_window_days
    flags: list[tuple[str, str, Evidence]] = []
    for f in _recent(facts, LEG_SWELLING, days):
        if f.laterality in ("left", "right"):
            flags.append(("unilateral leg swelling", f.display, finding_evidence(f, "Red flag")))
    for f in _recent(facts, LEG_WARMTH_REDNESS, days):
        flags.append(("leg warmth/redness", f.display, finding_evidence(f, "Red flag")))
    for f in _recent(facts, PE_SYMPTOM, days):
        flags.append(("possible PE symptom", f.display, finding_evidence(f, "Red flag")))
    reading = d_dimer.recent(facts, cfg, days)
    if reading is not None and reading.result == "positive":
        detail = f"{describe(reading.lab)}, cut-off {fmt_number(reading.cutoff)} ng/mL FEU"
        flags.append(("positive D-dimer", detail, lab_evidence(reading.lab, "D-dimer")))
    if not flags:
        return None
    names: list[str] = []
    for name, _, _ in flags:
        if name not in names:
            names.append(name)
    return Finding(
        topic=TOPIC,
        indicator=None,
        values={
            "red_flag_summary": ", ".join(names),
            "window_days": str(days),
        },
        evidence=tuple(ev for _, _, ev in flags) + symptom_evidence(symptoms),
        suggestions=(),
    )
