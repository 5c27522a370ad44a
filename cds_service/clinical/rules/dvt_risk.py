"""DVT risk factors and the partial (chart-only) Wells score.

Sources (clinical.md §3, §3.1, §4.1, §4.3, §4.4): Wells DVT score (Lancet 1997; NEJM 2003
two-level modification: >= 2 likely); Padua Prediction Score (J Thromb Haemost 2010) for
age >= 70, heart failure, obesity (BMI >= 30) and hormonal treatment; pregnancy and
postpartum (the postpartum window is conventional, not sourced: configurable).

The Wells score here uses only items 1, 2, 3 and 9, which chart data can show; it is a
*minimum* (exam items not assessed) and is never read as "DVT unlikely".
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
    current_in,
    finding_evidence,
    latest_date,
    medication_evidence,
    medication_text,
    procedure_evidence,
    within_days,
)
from cds_service.clinical.rules.labs import certainly_at_least, fmt_number, lab_evidence
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

    number: int
    label: str
    detail: str


def _is_bedridden(finding: ClinicalFinding) -> bool:
    # The immobility group mixes Wells item 2 (paralysis) and item 3 (bedridden); the
    # display is the only way to tell them apart, and a wrong guess only moves the point.
    return "bed" in finding.display.lower()


def _recent_procedures(facts: PatientFacts, group: str, days: int) -> list[ProcedureFact]:
    return [p for p in facts.procedures if group in p.groups and within_days(facts.now, p.performed, days)]


def _postpartum(facts: PatientFacts, cfg: ClinicalSettings) -> list[ClinicalFinding]:
    found = []
    for f in facts.findings_in(POSTPARTUM):
        when = latest_date(f)
        if (when is None and f.active) or within_days(facts.now, when, cfg.postpartum_window_days):
            found.append(f)
    return found


def collect_risk_factors(facts: PatientFacts, cfg: ClinicalSettings) -> list[RiskFactor]:
    """DVT risk factors present in the chart, in a stable clinical order (§4.4)."""
    now = facts.now
    out: list[RiskFactor] = []
    age = facts.age_years
    if age is not None and age >= cfg.dvt_risk_age_min:
        out.append(RiskFactor("age", f"{age} years (≥ {cfg.dvt_risk_age_min})", None))

    def add(name: str, findings: list[ClinicalFinding]) -> None:
        for f in findings:
            out.append(RiskFactor(name, f.display, finding_evidence(f, name[0].upper() + name[1:])))

    add("active cancer", current_in(facts.findings_in(ACTIVE_CANCER), now))
    add("prior DVT/PE", facts.findings_in(DVT, VTE_HISTORY))
    add("thrombophilia", facts.findings_in(THROMBOPHILIA))
    for p in _recent_procedures(facts, SURGERY, cfg.surgery_window_days):
        out.append(RiskFactor("recent surgery", p.display, procedure_evidence(p, "Surgery")))
    add("immobility", current_in(facts.findings_in(IMMOBILITY), now))
    for p in _recent_procedures(facts, LIMB_IMMOBILISATION, cfg.limb_immobilisation_window_days):
        out.append(RiskFactor("immobility", p.display, procedure_evidence(p, "Limb immobilisation")))
    add("pregnancy", current_in(facts.findings_in(PREGNANCY), now))
    add("postpartum", _postpartum(facts, cfg))
    bmi = facts.latest(BMI, cfg.context_lab_window_days)
    if bmi is not None and certainly_at_least(bmi, cfg.bmi_obesity_min):
        out.append(RiskFactor("obesity", f"BMI {fmt_number(bmi.value)} kg/m2", lab_evidence(bmi, "BMI")))
    else:
        add("obesity", current_in(facts.findings_in(OBESITY), now))
    for m in facts.medications_in(HORMONAL_ESTROGEN):
        out.append(RiskFactor("hormonal therapy", medication_text(m), medication_evidence(m, "Hormonal therapy")))
    add("hormonal therapy", current_in(facts.findings_in(HORMONE_THERAPY), now))
    add("heart failure", current_in(facts.findings_in(HEART_FAILURE), now))
    return out


def partial_wells(facts: PatientFacts, cfg: ClinicalSettings) -> list[WellsItem]:
    """Wells items 1, 2, 3 and 9 that chart data show (each scores +1)."""
    now = facts.now
    items: list[WellsItem] = []
    cancer = current_in(facts.findings_in(ACTIVE_CANCER), now)
    if cancer:
        items.append(WellsItem(1, "Active cancer", cancer[0].display))
    immobile = current_in(facts.findings_in(IMMOBILITY), now)
    paralysis = [f for f in immobile if not _is_bedridden(f)]
    casts = _recent_procedures(facts, LIMB_IMMOBILISATION, cfg.limb_immobilisation_window_days)
    if paralysis or casts:
        what = paralysis[0].display if paralysis else casts[0].display
        items.append(WellsItem(2, "Paralysis, paresis or recent immobilisation of the leg", what))
    bedridden = [f for f in immobile if _is_bedridden(f)]
    surgery = _recent_procedures(facts, SURGERY, cfg.surgery_window_days)
    if bedridden or surgery:
        what = bedridden[0].display if bedridden else surgery[0].display
        items.append(WellsItem(3, "Bedridden, or major surgery within 4 weeks", what))
    prior = facts.findings_in(DVT, VTE_HISTORY)
    if prior:
        items.append(WellsItem(9, "Previously documented DVT", prior[0].display))
    return items


def surgery_context(facts: PatientFacts, cfg: ClinicalSettings) -> list[ProcedureFact]:
    """Surgery older than the Wells window but within the 12-week context window (§3.1)."""
    return [
        p
        for p in _recent_procedures(facts, SURGERY, cfg.surgery_context_window_days)
        if not within_days(facts.now, p.performed, cfg.surgery_window_days)
    ]
