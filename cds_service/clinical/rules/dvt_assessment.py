"""Leg-localised symptoms with DVT risk factors: assess pretest probability (Wells).

Sources (clinical.md §4.1, §4.2, §4.4, §5.4): Wells 1997/2003 (two-level: >= 2 likely),
the D-dimer / compression-ultrasound pathway, ADJUST-PE (Righini, JAMA 2014) for the
age-adjusted cut-off, lab D-dimer catalogues (500 ng/mL FEU).

The partial Wells score is a minimum from chart data: the bedside items, including the -2
for an alternative diagnosis, are still needed, so a chart score is never read as "DVT
likely" or "DVT unlikely" on its own. A D-dimer is suggested while the final score can
still be <= 1 (chart score below 4) and none is recent.

Indicator (issue 7): ``info`` when the chart gives no Wells point (age, obesity and the
other non-Wells factors only), ``warning`` from one point. A current DVT (active, unabated)
turns the card into "a DVT is already documented", without a diagnostic D-dimer.
"""

from __future__ import annotations

from dataclasses import replace

from cds_service.clinical.facts import PatientFacts
from cds_service.clinical.findings import Evidence, Finding, Indicator
from cds_service.clinical.rules import d_dimer
from cds_service.clinical.rules.chart import finding_evidence, join, procedure_evidence
from cds_service.clinical.rules.dvt_risk import (
    WellsItem,
    collect_risk_factors,
    current_dvt,
    partial_wells,
    surgery_context,
)
from cds_service.clinical.rules.labs import describe, fmt_number, iso_date, lab_evidence
from cds_service.clinical.rules.symptoms import leg_symptom_findings, symptom_evidence, symptom_text
from cds_service.config import ClinicalSettings

TOPIC = "dvt-assessment"
DEFAULT_INDICATOR: Indicator = "warning"

# A chart score of at least 4 stays >= 2 ("likely") even after the -2 of the exam.
WELLS_LIKELY_WHATEVER_THE_EXAM = 4


def _wells_labelled(evidence: list[Evidence], wells: list[WellsItem]) -> list[Evidence]:
    """Mark the rows that score a Wells point; add a row for an item not shown yet."""
    by_ref = {w.reference: w for w in wells if w.reference}
    out = []
    for ev in evidence:
        item = by_ref.pop(ev.reference, None) if ev.reference else None
        out.append(ev if item is None else replace(ev, what=f"{ev.what} (Wells {item.number}, +1)"))
    for item in by_ref.values():
        out.append(Evidence(f"Wells {item.number}, +1", item.detail, None, item.reference))
    return out


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire for a leg-localised symptom AND (a current DVT, a DVT risk factor or a Wells
    point from the chart, e.g. a recorded leg swelling)."""
    symptoms = leg_symptom_findings(facts, cfg)
    if not symptoms:
        return None
    documented = current_dvt(facts)
    factors = collect_risk_factors(facts, cfg)
    wells = [] if documented else partial_wells(facts, cfg)
    if not factors and not wells and not documented:
        return None
    score = len(wells)
    reading = None if documented else d_dimer.recent(facts, cfg, cfg.d_dimer_window_days)
    older_surgery = surgery_context(facts, cfg)[:1]
    cutoff, age_adjusted = d_dimer.cutoff_for(facts.age_years, cfg)
    if reading is not None:
        cutoff, age_adjusted = reading.cutoff, reading.age_adjusted

    evidence: list[Evidence] = list(symptom_evidence(symptoms))
    evidence += [finding_evidence(f, "DVT/PE (active)") for f in documented]
    evidence += [f.evidence for f in factors if f.evidence is not None]
    evidence += [procedure_evidence(p, "Surgery (within 12 weeks)") for p in older_surgery]
    if reading is not None:
        evidence.append(lab_evidence(reading.lab, "D-dimer"))
    evidence = _wells_labelled(evidence, wells)

    if documented:
        suggestions: tuple[str, ...] = ()
        indicator: Indicator = "info"
        d_dimer_status = "documented"
    else:
        indicator = "warning" if score >= 1 else "info"
        d_dimer_status = "none" if reading is None else reading.result
        if reading is None and score < WELLS_LIKELY_WHATEVER_THE_EXAM:
            suggestions = ("order-d-dimer", "order-duplex")
        else:
            suggestions = ("order-duplex",)

    risk_summary = join(f.name for f in factors).replace("; ", ", ")
    return Finding(
        topic=TOPIC,
        indicator=indicator,
        values={
            "mode": "documented" if documented else ("assess" if score else "unscored"),
            "headline": "documented" if documented else ("assess" if factors else "swelling"),
            "risk_summary": risk_summary or "none",
            "dvt": join(f"{f.display} ({iso_date(f.date)})" for f in documented),
            "dvt_name": join(f.display for f in documented),
            "symptoms": symptom_text(symptoms),
            "wells_points": "1 point" if score == 1 else f"{score} points",
            "d_dimer_status": d_dimer_status,
            "d_dimer": "" if reading is None else describe(reading.lab),
            "d_dimer_cutoff": fmt_number(cutoff),
            "cutoff_basis": ", age-adjusted" if age_adjusted else "",
            "assay_note": "ddu" if reading and reading.ddu else "feu",
            "surgery_context_status": "present" if older_surgery else "none",
            "surgery_context": join(
                f"{p.display} ({iso_date(p.performed)})" for p in older_surgery
            ),
        },
        evidence=tuple(evidence),
        suggestions=suggestions,
    )
