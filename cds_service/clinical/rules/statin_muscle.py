"""Statin-associated muscle symptoms (SAMS): a current statin with symptoms or a raised CK.

Sources (clinical.md §1.5, §1.6, §2.4, §5.1): 2018 AHA/ACC Guideline on the Management of
Blood Cholesterol, Section 5 (COR I: assess symptoms, look for non-statin causes and
predisposing factors; measure CK in severe symptoms or objective weakness; rechallenge);
FDA statin labels (``statin_labels``): a simvastatin/lovastatin dose above the label's limit
with amiodarone, amlodipine, diltiazem, dronedarone, verapamil, ranolazine or danazol is
named as a risk factor with that limit and the label section;
2013 ACC/AHA (evaluate hypothyroidism, renal function, vitamin D deficiency); EAS
Consensus Panel 2015 Table 1 (CK tiers); review tables PMC5135450 / PMC10055622 (risk
factors: age > 80, low BMI, CKD, untreated hypothyroidism, interacting drugs).

When the rhabdomyolysis card fires it suppresses this one (engine). The detail names the
predisposing factors without repeating their values: those are in the evidence table.
"""

from __future__ import annotations

from cds_service.clinical.facts import (
    BMI,
    CK,
    CKD,
    CREATININE,
    EGFR,
    HYPOTHYROIDISM,
    STATIN,
    STATIN_INTERACTING,
    TSH,
    LabResult,
    MedicationFact,
    PatientFacts,
)
from cds_service.clinical.findings import Evidence, Finding, Indicator
from cds_service.clinical.rules.chart import (
    current_in,
    finding_evidence,
    join,
    medication_evidence,
    medication_text,
    newest,
)
from cds_service.clinical.rules.labs import (
    certainly_at_least,
    certainly_below,
    fmt_number,
    is_high,
    lab_evidence,
    ratio_text,
    upper_limit,
)
from cds_service.clinical.rules.statin_labels import GROUP_NAMES, limits_with, statin_mg
from cds_service.clinical.rules.symptoms import symptom_evidence, symptom_findings
from cds_service.clinical.rules.vitamin_d import LABELS as VITAMIN_D_LABELS
from cds_service.clinical.rules.vitamin_d import vitamin_d_result
from cds_service.config import ClinicalSettings

TOPIC = "statin-muscle-symptoms"
DEFAULT_INDICATOR: Indicator = "warning"


def _risk_factors(
    facts: PatientFacts, cfg: ClinicalSettings
) -> tuple[list[str], list[Evidence]]:
    """Predisposing factors present in the chart (clinical.md §1.5, §1.6)."""
    lines: list[str] = []
    evidence: list[Evidence] = []
    named = set()
    for line, other in _dose_limit_lines(facts):
        lines.append(line)
        if other.resource_ref not in named:
            named.add(other.resource_ref)
            evidence.append(medication_evidence(other, "Interacting drug"))
    for med in facts.medications_in(STATIN_INTERACTING):
        if med.resource_ref in named:
            continue
        lines.append(f"possible interacting drug ({med.display})")
        evidence.append(medication_evidence(med, "Interacting drug"))
    tsh = facts.latest(TSH, cfg.context_lab_window_days)
    hypo = newest(current_in(facts.findings_in(HYPOTHYROIDISM), facts.now))
    for f in hypo:
        lines.append("hypothyroidism")
        evidence.append(finding_evidence(f, "Hypothyroidism"))
    if not hypo and tsh is not None and is_high(tsh, cfg.tsh_default_uln):
        lines.append("TSH above its upper limit")
    ckd = newest(current_in(facts.findings_in(CKD), facts.now))
    for f in ckd:
        lines.append("chronic kidney disease")
        evidence.append(finding_evidence(f, "CKD"))
    egfr = facts.latest(EGFR, cfg.context_lab_window_days)
    if not ckd and egfr is not None and certainly_below(egfr, cfg.egfr_ckd_max):
        lines.append(f"eGFR below {fmt_number(cfg.egfr_ckd_max)}")
    age = facts.age_years
    if age is not None and age > cfg.statin_risk_age_over:
        lines.append(f"age {age} (over {cfg.statin_risk_age_over})")
    bmi = facts.latest(BMI, cfg.context_lab_window_days)
    if bmi is not None and certainly_below(bmi, cfg.bmi_low_max):
        lines.append("low BMI")
        evidence.append(lab_evidence(bmi, "BMI"))
    found = vitamin_d_result(facts, cfg)
    if found is not None and certainly_below(found[0], cfg.vitamin_d_deficient_ng_ml):
        lines.append("vitamin D deficiency" if found[1] == "total"
                     else "vitamin D deficiency (25-OH vitamin D3 fraction)")
    return lines, evidence


def _dose_limit_lines(facts: PatientFacts) -> list[tuple[str, MedicationFact]]:
    """Statin above (or of unstated dose under) its label's limit with a co-prescribed drug
    (simvastatin/lovastatin with amiodarone, amlodipine, diltiazem, verapamil, ranolazine
    ...; ``statin_labels.DOSE_LIMITS``). A dose within the limit is not named here."""
    out: list[tuple[str, MedicationFact]] = []
    others = [m for m in facts.medications if STATIN not in m.classes]
    for statin_med in facts.medications_in(STATIN):
        for statin in statin_med.ingredients:
            mg = statin_mg(statin_med, statin)
            for other in others:
                for limit in limits_with(statin, other):
                    where = f"{limit.label} {limit.section}"
                    if mg is None:
                        out.append((f"{statin.capitalize()} (dose not stated) with "
                                    f"{medication_text(other)}: the label limits {statin} to "
                                    f"{limit.max_mg_per_day} mg/day with {GROUP_NAMES[limit.group]} ({where})", other))
                    elif mg > limit.max_mg_per_day:
                        out.append((f"{statin.capitalize()} {fmt_number(mg)} mg with "
                                    f"{medication_text(other)}: above the label's limit of "
                                    f"{limit.max_mg_per_day} mg/day with {GROUP_NAMES[limit.group]} ({where})", other))
    return out


def _ck_tier(ck: LabResult, cfg: ClinicalSettings) -> str:
    uln = upper_limit(ck, cfg.ck_default_uln_u_l)
    if not is_high(ck, cfg.ck_default_uln_u_l):
        return "normal"
    if certainly_at_least(ck, cfg.ck_moderate_multiple * uln):
        return "moderate"
    return "mild"


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire for a current statin AND (symptom gate OR CK above its ULN within the window)."""
    statins = facts.medications_in(STATIN)
    if not statins:
        return None
    symptoms = symptom_findings(facts, cfg)
    ck = facts.latest(CK, cfg.ck_window_days)
    ck_high = ck is not None and is_high(ck, cfg.ck_default_uln_u_l)
    if not symptoms and not ck_high:
        return None

    tsh = facts.latest(TSH, cfg.context_lab_window_days)
    found_d = vitamin_d_result(facts, cfg)
    vit_d = found_d[0] if found_d else None
    egfr = facts.latest(EGFR, cfg.context_lab_window_days)
    creatinine = facts.latest(CREATININE, cfg.context_lab_window_days)
    risks, risk_evidence = _risk_factors(facts, cfg)

    evidence: list[Evidence] = [medication_evidence(m, "Current statin") for m in statins]
    evidence += symptom_evidence(symptoms)
    evidence += [lab_evidence(lab) for lab in (ck, tsh) if lab]
    if found_d is not None:  # a D3 fraction is labelled as such (issue 7)
        evidence.append(lab_evidence(found_d[0], None if found_d[1] == "total"
                                     else VITAMIN_D_LABELS[found_d[1]]))
    evidence += [lab_evidence(lab) for lab in (egfr, creatinine) if lab]
    evidence += risk_evidence

    suggestions: list[str] = []
    missing: list[str] = []
    if ck is None:
        suggestions.append("order-ck")
    if tsh is None:
        suggestions.append("order-tsh")
        missing.append("TSH")
    if vit_d is None:
        suggestions.append("order-vitamin-d")
        missing.append("25-OH vitamin D")
    if egfr is None and creatinine is None:
        suggestions.append("order-creatinine")
        missing.append("creatinine/eGFR")

    if ck is None:
        tier, multiple = "none", ""
    else:
        uln = upper_limit(ck, cfg.ck_default_uln_u_l)
        tier, multiple = _ck_tier(ck, cfg), ratio_text(ck, uln)
    return Finding(
        topic=TOPIC,
        indicator=None,
        values={
            "statin": join(medication_text(m) for m in statins),
            "statin_name": join(m.display for m in statins),
            "reason": "both" if symptoms and ck_high else ("symptoms" if symptoms else "ck"),
            "ck_tier": tier,
            "ck_multiple": multiple,
            "ck_window": str(cfg.ck_window_days),
            "ck_moderate_multiple": fmt_number(cfg.ck_moderate_multiple),
            "risk_status": "present" if risks else "none",
            "risk_factors": join(risks),
            "workup_status": "missing" if missing else "complete",
            "workup": ", ".join(missing),
        },
        evidence=tuple(evidence),
        suggestions=tuple(suggestions),
    )
