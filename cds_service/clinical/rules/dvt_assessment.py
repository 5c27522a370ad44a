"""Calf/leg symptoms with DVT risk factors: assess pretest probability (Wells).

Sources (clinical.md §4.1, §4.2, §4.4, §5.4): Wells 1997/2003 (two-level: >= 2 likely),
the D-dimer / compression-ultrasound pathway, ADJUST-PE (Righini, JAMA 2014) for the
age-adjusted cut-off, lab D-dimer catalogues (500 ng/mL FEU). ASH 2018 / NICE NG158 were
not retrieved and are cited as "to verify".

The partial Wells score is a minimum from chart data; a score of 0-1 is shown as
"complete the exam items", never as "DVT unlikely" (clinical.md §4.1).
"""

from __future__ import annotations

from cds_service.clinical.facts import PatientFacts
from cds_service.clinical.findings import Evidence, Finding, Indicator
from cds_service.clinical.rules import d_dimer
from cds_service.clinical.rules.dvt_risk import collect_risk_factors, partial_wells, surgery_context
from cds_service.clinical.rules.labs import describe, fmt_number, iso_date, lab_evidence
from cds_service.clinical.rules.chart import join, procedure_evidence
from cds_service.clinical.rules.symptoms import symptom_evidence, symptom_findings, symptom_text
from cds_service.config import ClinicalSettings

TOPIC = "dvt-assessment"
DEFAULT_INDICATOR: Indicator = "warning"

WELLS_LIKELY = 2  # Wells 2003 two-level: >= 2 "DVT likely" (clinical.md §4.1)


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire for the symptom gate AND at least one DVT risk factor."""
    symptoms = symptom_findings(facts, cfg)
    if not symptoms:
        return None
    factors = collect_risk_factors(facts, cfg)
    if not factors:
        return None
    wells = partial_wells(facts, cfg)
    score = len(wells)
    reading = d_dimer.recent(facts, cfg, cfg.d_dimer_window_days)
    older_surgery = surgery_context(facts, cfg)
    cutoff, age_adjusted = d_dimer.cutoff_for(facts.age_years, cfg)
    if reading is not None:
        cutoff, age_adjusted = reading.cutoff, reading.age_adjusted

    evidence: list[Evidence] = list(symptom_evidence(symptoms))
    evidence += [f.evidence for f in factors if f.evidence is not None]
    evidence += [procedure_evidence(p, "Surgery (context)") for p in older_surgery]
    if reading is not None:
        evidence.append(lab_evidence(reading.lab, "D-dimer"))

    factor_lines = []
    for f in factors:
        when = f" ({iso_date(f.evidence.date)})" if f.evidence and f.evidence.date else ""
        factor_lines.append(f"- {f.name[0].upper()}{f.name[1:]}: {f.detail}{when}")
    wells_lines = [f"- Item {i.number}, {i.label}: {i.detail} (+1)" for i in wells]

    if score >= WELLS_LIKELY or (reading is not None and reading.result == "positive"):
        suggestions: tuple[str, ...] = ("order-duplex",)
    elif reading is None:
        suggestions = ("order-d-dimer", "order-duplex")
    else:
        suggestions = ("order-duplex",)

    return Finding(
        topic=TOPIC,
        indicator=None,
        values={
            "risk_summary": join(f.name for f in factors).replace("; ", ", "),
            "symptoms": symptom_text(symptoms),
            "risk_factors": "\n".join(factor_lines),
            "wells_score": str(score),
            "wells_items": "\n".join(wells_lines) or "- none of the chart-derivable items",
            "wells_reading": "likely" if score >= WELLS_LIKELY else "incomplete",
            "d_dimer_status": "none" if reading is None else reading.result,
            "d_dimer": "" if reading is None else describe(reading.lab),
            "d_dimer_cutoff": fmt_number(cutoff),
            "cutoff_basis": "age-adjusted" if age_adjusted else "standard",
            "assay_note": "ddu" if reading and reading.ddu else "feu",
            "d_dimer_window": str(cfg.d_dimer_window_days),
            "surgery_context_status": "present" if older_surgery else "none",
            "surgery_context": join(
                f"{p.display} ({iso_date(p.performed)})" for p in older_surgery
            ),
            "surgery_context_days": str(cfg.surgery_context_window_days),
            "age_min": str(cfg.dvt_risk_age_min),
            "postpartum_days": str(cfg.postpartum_window_days),
        },
        evidence=tuple(evidence),
        suggestions=suggestions,
    )
