"""Rhabdomyolysis risk: CK at least 10x its upper limit, or a coded rhabdomyolysis or
crush syndrome in the last 14 days (critical).

Sources (clinical.md §2.4, §4.5): EAS Consensus Panel on SAMS 2015 (Eur Heart J 2015;
36:1012, Table 1: CK > 10x ULN = myopathy/myositis; > 40x with renal impairment or
myoglobinuria = rhabdomyolysis); simvastatin label (myopathy = symptoms with CK > 10x ULN).
The brief asks for "at least 10x" so the boundary value fires. ULN = the lab's
``referenceRange.high`` (it differs by sex and method), else ``ck_default_uln_u_l``.

A rhabdomyolysis (M62.82, T79.6 traumatic, SNOMED VSAC Rhabdomyolysis set) or crush
syndrome (T79.5, SNOMED 23697004) condition dated within ``coded_rhabdo_window_days`` fires
the card without a CK (issue 7): the diagnosis is already made, the card asks for the
same urgent checks.
"""

from __future__ import annotations

from cds_service.clinical.facts import (
    CK,
    CRUSH_SYNDROME,
    RHABDOMYOLYSIS,
    STATIN,
    ClinicalFinding,
    LabResult,
    PatientFacts,
)
from cds_service.clinical.findings import Finding, Indicator
from cds_service.clinical.rules.chart import is_current, join, latest_date, medication_text, within_days
from cds_service.clinical.rules.labs import (
    certainly_at_least,
    describe,
    fmt_number,
    lab_line,
    ratio_text,
    upper_limit,
)
from cds_service.clinical.rules.shape import FindingBuilder
from cds_service.config import ClinicalSettings

TOPIC = "rhabdomyolysis-risk"
DEFAULT_INDICATOR: Indicator = "critical"


def very_high_ck(facts: PatientFacts, cfg: ClinicalSettings) -> LabResult | None:
    """The latest CK within the rhabdomyolysis window when it is at least 10x ULN."""
    ck = facts.latest(CK, cfg.rhabdo_ck_window_days)
    if ck is None:
        return None
    limit = cfg.ck_rhabdo_multiple * upper_limit(ck, cfg.ck_default_uln_u_l)
    return ck if certainly_at_least(ck, limit) else None


def coded_rhabdomyolysis(facts: PatientFacts, cfg: ClinicalSettings) -> list[ClinicalFinding]:
    """Current rhabdomyolysis / crush syndrome conditions dated within the window."""
    return [
        f for f in facts.findings_in(RHABDOMYOLYSIS, CRUSH_SYNDROME)
        if f.source == "condition" and is_current(f, facts.now)
        and within_days(facts.now, latest_date(f), cfg.coded_rhabdo_window_days)
    ]


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire on a CK at least ``ck_rhabdo_multiple`` x ULN within ``rhabdo_ck_window_days``,
    or on a coded rhabdomyolysis / crush syndrome within ``coded_rhabdo_window_days``."""
    ck = very_high_ck(facts, cfg)
    coded = coded_rhabdomyolysis(facts, cfg)
    if ck is None and not coded:
        return None
    statins = facts.medications_in(STATIN)
    card = FindingBuilder(TOPIC).labs(ck, what="Creatine kinase").findings(coded, "Diagnosis")
    values = {
        "headline": "ck" if ck is not None else "coded",
        "basis_detail": "ck" if ck is not None else "coded",
        "ck_multiple": "",
        "ck_date": "",
        "ck": "",
        "uln_basis": "",
        "rhabdo_multiple": fmt_number(cfg.ck_rhabdo_multiple),
        "coded": "; ".join(dict.fromkeys(f.display for f in coded)),
        "coded_date": min((d for f in coded if (d := latest_date(f))), default=facts.now).date().isoformat(),
        "ck_latest": lab_line(facts.latest(CK, cfg.rhabdo_ck_window_days), cfg.rhabdo_ck_window_days),
        "statin": join(medication_text(m) for m in statins),
        "statin_status": "on-statin" if statins else "no-statin",
    }
    suggestions = ["order-creatinine", "order-urinalysis"]
    if ck is not None:
        uln = upper_limit(ck, cfg.ck_default_uln_u_l)
        values.update({
            "ck_multiple": ratio_text(ck, uln),
            "ck_date": ck.effective.date().isoformat(),
            "ck": describe(ck),
            "uln_basis": (
                f"the laboratory's upper limit ({fmt_number(uln)} U/L)"
                if ck.ref_high is not None and ck.ref_high > 0
                else f"the configured default upper limit ({fmt_number(uln)} U/L; the result "
                "carried no reference range)"
            ),
        })
    elif facts.latest(CK, cfg.rhabdo_ck_window_days) is None:
        suggestions.insert(0, "order-ck")
    return card.medications(statins, "Current statin").build(values, suggestions=suggestions)
