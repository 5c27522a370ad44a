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

When the rhabdomyolysis card fires, the CK is reported there: this card then neither
fires on CK alone nor repeats the CK value, tier or order.
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
)
from cds_service.clinical.rules.labs import (
    certainly_at_least,
    certainly_below,
    describe,
    fmt_number,
    is_high,
    lab_evidence,
    lab_line,
    ratio_text,
    upper_limit,
)
from cds_service.clinical.rules.statin_labels import GROUP_NAMES, limits_with, statin_mg
from cds_service.clinical.rules.symptoms import symptom_evidence, symptom_findings, symptom_text
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
        lines.append(f"Possible interacting drug: {medication_text(med)}")
        evidence.append(medication_evidence(med, "Interacting drug"))
    tsh = facts.latest(TSH, cfg.context_lab_window_days)
    hypo = current_in(facts.findings_in(HYPOTHYROIDISM), facts.now)
    for f in hypo:
        lines.append(f"Hypothyroidism: {f.display}")
        evidence.append(finding_evidence(f, "Hypothyroidism"))
    if not hypo and tsh is not None and is_high(tsh, cfg.tsh_default_uln):
        lines.append(f"TSH above its upper limit: {describe(tsh)}")
    ckd = current_in(facts.findings_in(CKD), facts.now)
    for f in ckd:
        lines.append(f"Chronic kidney disease: {f.display}")
        evidence.append(finding_evidence(f, "CKD"))
    egfr = facts.latest(EGFR, cfg.context_lab_window_days)
    if not ckd and egfr is not None and certainly_below(egfr, cfg.egfr_ckd_max):
        lines.append(f"eGFR below {fmt_number(cfg.egfr_ckd_max)}: {describe(egfr)}")
    age = facts.age_years
    if age is not None and age > cfg.statin_risk_age_over:
        lines.append(f"Age {age} (over {cfg.statin_risk_age_over})")
    bmi = facts.latest(BMI, cfg.context_lab_window_days)
    if bmi is not None and certainly_below(bmi, cfg.bmi_low_max):
        lines.append(f"Low BMI: {describe(bmi)}")
        evidence.append(lab_evidence(bmi, "BMI"))
    found = vitamin_d_result(facts, cfg)
    if found is not None and certainly_below(found[0], cfg.vitamin_d_deficient_ng_ml):
        what = "Vitamin D deficiency" if found[1] == "total" else \
            "Vitamin D deficiency (25-OH vitamin D3 fraction)"
        lines.append(f"{what}: {describe(found[0])}")
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


def evaluate(
    facts: PatientFacts, cfg: ClinicalSettings, *, ck_on_rhabdo_card: bool = False
) -> Finding | None:
    """Fire for a current statin AND (symptom gate OR CK above its ULN within the window)."""
    statins = facts.medications_in(STATIN)
    if not statins:
        return None
    symptoms = symptom_findings(facts, cfg)
    ck = None if ck_on_rhabdo_card else facts.latest(CK, cfg.ck_window_days)
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
    if ck is None and not ck_on_rhabdo_card:
        suggestions.append("order-ck")
    if tsh is None:
        suggestions.append("order-tsh")
    if vit_d is None:
        suggestions.append("order-vitamin-d")
    if egfr is None and creatinine is None:
        suggestions.append("order-creatinine")

    if ck_on_rhabdo_card:
        ck_text, tier = "reported on the rhabdomyolysis card", "none"
    elif ck is None:
        ck_text, tier = lab_line(None, cfg.ck_window_days), "none"
    else:
        uln = upper_limit(ck, cfg.ck_default_uln_u_l)
        ck_text = f"{describe(ck)}: {ratio_text(ck, uln)}× ULN ({fmt_number(uln)} U/L)"
        tier = _ck_tier(ck, cfg)
    renal = [describe(lab) for lab in (egfr, creatinine) if lab is not None]
    return Finding(
        topic=TOPIC,
        indicator=None,
        values={
            "statin": join(medication_text(m) for m in statins),
            "statin_name": join(m.display for m in statins),
            "reason": "both" if symptoms and ck_high else ("symptoms" if symptoms else "ck"),
            "symptoms": symptom_text(symptoms) or "none recorded",
            "ck": ck_text,
            "ck_tier": tier,
            "ck_moderate_multiple": fmt_number(cfg.ck_moderate_multiple),
            "tsh": lab_line(tsh, cfg.context_lab_window_days),
            "vitamin_d": lab_line(vit_d, cfg.vitamin_d_window_days),
            "renal": "; ".join(renal) or lab_line(None, cfg.context_lab_window_days),
            "risk_factors": "\n".join(f"- {r}" for r in risks) or "- none found in the chart",
            "bmi_low_max": fmt_number(cfg.bmi_low_max),
            "age_over": str(cfg.statin_risk_age_over),
        },
        evidence=tuple(evidence),
        suggestions=tuple(suggestions),
    )
