"""DVT risk factors and the partial (chart-only) Wells score.

Sources (clinical.md §3, §3.1, §4.1, §4.3, §4.4): Wells DVT score (Lancet 1997; NEJM 2003
two-level modification: >= 2 likely); Padua Prediction Score (J Thromb Haemost 2010) for
age >= 70, heart failure, obesity (BMI >= 30) and hormonal treatment; pregnancy and
postpartum (the postpartum window is conventional, not sourced: configurable).

The Wells score here uses items 1, 2, 3 and 9, which chart data can show, plus one point
for a recorded leg swelling (items 5-7 are about swelling; the bedside exam says which);
it is a *minimum* from chart data and is never read as "DVT unlikely": the bedside items,
including the -2 for an alternative diagnosis, are still needed.

Current evidence only (issue 7): obesity comes from the latest BMI when it is at most
``obesity_bmi_window_days`` old, or from an active obesity condition that the latest BMI
does not contradict; each risk factor shows its newest chart entry once. A current DVT
(active, unabated DVT/PE condition) is not "previously documented DVT": it is reported
as a documented DVT and scores no Wells point.
"""

from __future__ import annotations

from dataclasses import dataclass

from cds_service.clinical.facts import (
    ACTIVE_CANCER,
    BMI,
    DVT,
    HEART_FAILURE,
    HORMONAL_ESTROGEN,
    HORMONE_THERAPY,
    IMMOBILITY,
    LEG_SWELLING,
    LIMB_IMMOBILISATION,
    OBESITY,
    POSTPARTUM,
    PREGNANCY,
    SURGERY,
    THROMBOPHILIA,
    VTE_HISTORY,
    ClinicalFinding,
    PatientFacts,
    ProcedureFact,
)
from cds_service.clinical.findings import Evidence
from cds_service.clinical.rules.chart import (
    age_days,
    newest,
    current_in,
    finding_evidence,
    is_current,
    latest_date,
    medication_evidence,
    medication_text,
    procedure_evidence,
    within_days,
)
from cds_service.clinical.rules.labs import (
    certainly_at_least,
    certainly_below,
    fmt_number,
    lab_evidence,
)
from cds_service.clinical.rules.symptoms import recent_in
from cds_service.config import ClinicalSettings


@dataclass(frozen=True)
class RiskFactor:
    """One DVT risk factor found in the chart, with the row that shows it."""

    name: str  # short name for the summary, e.g. "active cancer"
    detail: str  # what the chart says
    evidence: Evidence | None


@dataclass(frozen=True)
class WellsItem:
    """A Wells item scored from chart data."""

    number: str  # "1", "2", "3", "9"; "5-7" for a recorded leg swelling
    label: str
    detail: str
    reference: str | None = None  # the chart entry that scores it


def _is_bedridden(finding: ClinicalFinding) -> bool:
    # The immobility group mixes Wells item 2 (paralysis) and item 3 (bedridden); the
    # display is the only way to tell them apart, and a wrong guess only moves the point.
    return "bed" in finding.display.lower()


def _recent_procedures(facts: PatientFacts, group: str, days: int) -> list[ProcedureFact]:
    """Procedures of ``group`` within ``days``, newest first."""
    found = [p for p in facts.procedures if group in p.groups and within_days(facts.now, p.performed, days)]
    return sorted(found, key=lambda p: age_days(facts.now, p.performed))


def _postpartum(facts: PatientFacts, cfg: ClinicalSettings) -> list[ClinicalFinding]:
    found = []
    for f in facts.findings_in(POSTPARTUM):
        when = latest_date(f)
        if (when is None and f.active) or within_days(facts.now, when, cfg.postpartum_window_days):
            found.append(f)
    return found


def current_dvt(facts: PatientFacts) -> list[ClinicalFinding]:
    """An active, unabated DVT/PE condition: a DVT already documented, not a prior one."""
    return newest(current_in(facts.findings_in(DVT), facts.now))


def prior_dvt(facts: PatientFacts) -> list[ClinicalFinding]:
    """History of DVT/PE (Z86.71x) or a DVT/PE condition that is no longer current."""
    return newest([
        f for f in facts.findings_in(DVT, VTE_HISTORY)
        if VTE_HISTORY in f.groups or not is_current(f, facts.now)
    ])


def obesity(facts: PatientFacts, cfg: ClinicalSettings) -> RiskFactor | None:
    """Obesity from current evidence: a recent BMI, else an uncontradicted condition."""
    bmi = facts.latest(BMI)
    recent_bmi = bmi is not None and age_days(facts.now, bmi.effective) <= cfg.obesity_bmi_window_days
    if bmi is not None and recent_bmi and certainly_at_least(bmi, cfg.bmi_obesity_min):
        return RiskFactor("obesity", f"BMI {fmt_number(bmi.value)} kg/m2", lab_evidence(bmi, "BMI"))
    found = newest(current_in(facts.findings_in(OBESITY), facts.now))
    if not found:
        return None
    when = latest_date(found[0])
    if bmi is not None and certainly_below(bmi, cfg.bmi_obesity_min):
        if when is None or age_days(facts.now, bmi.effective) <= age_days(facts.now, when):
            return None  # the latest BMI, measured since, is under the cut-off
    return RiskFactor("obesity", found[0].display, finding_evidence(found[0], "Obesity"))


def collect_risk_factors(facts: PatientFacts, cfg: ClinicalSettings) -> list[RiskFactor]:
    """DVT risk factors present in the chart, in a stable clinical order (§4.4)."""
    now = facts.now
    out: list[RiskFactor] = []
    age = facts.age_years
    if age is not None and age >= cfg.dvt_risk_age_min:
        out.append(RiskFactor("age", f"{age} years (≥ {cfg.dvt_risk_age_min})", None))

    def add(name: str, findings: list[ClinicalFinding]) -> None:
        for f in newest(findings):
            out.append(RiskFactor(name, f.display, finding_evidence(f, name[0].upper() + name[1:])))

    add("active cancer", current_in(facts.findings_in(ACTIVE_CANCER), now))
    add("prior DVT/PE", prior_dvt(facts))
    add("thrombophilia", facts.findings_in(THROMBOPHILIA))
    for p in _recent_procedures(facts, SURGERY, cfg.surgery_window_days)[:1]:
        out.append(RiskFactor("recent surgery", p.display, procedure_evidence(p, "Surgery")))
    immobility = current_in(facts.findings_in(IMMOBILITY), now)
    add("immobility", immobility)
    if not immobility:
        for p in _recent_procedures(facts, LIMB_IMMOBILISATION, cfg.limb_immobilisation_window_days)[:1]:
            out.append(RiskFactor("immobility", p.display, procedure_evidence(p, "Limb immobilisation")))
    add("pregnancy", current_in(facts.findings_in(PREGNANCY), now))
    add("postpartum", _postpartum(facts, cfg))
    fat = obesity(facts, cfg)
    if fat is not None:
        out.append(fat)
    hormonal = facts.medications_in(HORMONAL_ESTROGEN)
    for m in hormonal[:1]:
        out.append(RiskFactor("hormonal therapy", medication_text(m), medication_evidence(m, "Hormonal therapy")))
    if not hormonal:
        add("hormonal therapy", current_in(facts.findings_in(HORMONE_THERAPY), now))
    add("heart failure", current_in(facts.findings_in(HEART_FAILURE), now))
    return out


def leg_swelling(facts: PatientFacts, cfg: ClinicalSettings) -> list[ClinicalFinding]:
    """Leg swelling recorded within the symptom window (any side)."""
    return newest(recent_in(facts, {LEG_SWELLING}, cfg.symptom_window_days))


def partial_wells(facts: PatientFacts, cfg: ClinicalSettings) -> list[WellsItem]:
    """Wells items that chart data show (each scores +1): 1, 2, 3, 9 and a recorded swelling."""
    now = facts.now
    items: list[WellsItem] = []
    cancer = current_in(facts.findings_in(ACTIVE_CANCER), now)
    if cancer:
        items.append(WellsItem("1", "Active cancer", cancer[0].display, cancer[0].resource_ref))
    immobile = current_in(facts.findings_in(IMMOBILITY), now)
    paralysis = [f for f in immobile if not _is_bedridden(f)]
    casts = _recent_procedures(facts, LIMB_IMMOBILISATION, cfg.limb_immobilisation_window_days)
    if paralysis or casts:
        what, ref = (paralysis[0].display, paralysis[0].resource_ref) if paralysis else (
            casts[0].display, casts[0].resource_ref)
        items.append(WellsItem("2", "Paralysis, paresis or recent immobilisation of the leg", what, ref))
    bedridden = [f for f in immobile if _is_bedridden(f)]
    surgery = _recent_procedures(facts, SURGERY, cfg.surgery_window_days)
    if bedridden or surgery:
        what, ref = (bedridden[0].display, bedridden[0].resource_ref) if bedridden else (
            surgery[0].display, surgery[0].resource_ref)
        items.append(WellsItem("3", "Bedridden, or major surgery within 4 weeks", what, ref))
    swelling = leg_swelling(facts, cfg)
    if swelling:
        items.append(WellsItem("5-7", "Leg swelling recorded (the exam says which swelling item)",
                               swelling[0].display, swelling[0].resource_ref))
    prior = prior_dvt(facts)
    if prior:
        items.append(WellsItem("9", "Previously documented DVT", prior[0].display, prior[0].resource_ref))
    return items


def surgery_context(facts: PatientFacts, cfg: ClinicalSettings) -> list[ProcedureFact]:
    """Surgery older than the Wells window but within the 12-week context window (§3.1)."""
    return [
        p
        for p in _recent_procedures(facts, SURGERY, cfg.surgery_context_window_days)
        if not within_days(facts.now, p.performed, cfg.surgery_window_days)
    ]
