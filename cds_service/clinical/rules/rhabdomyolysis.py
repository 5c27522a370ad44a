"""Rhabdomyolysis risk: CK at least 10x its upper limit (critical).

Sources (clinical.md §2.4, §4.5): EAS Consensus Panel on SAMS 2015 (Eur Heart J 2015;
36:1012, Table 1: CK > 10x ULN = myopathy/myositis; > 40x with renal impairment or
myoglobinuria = rhabdomyolysis); simvastatin label (myopathy = symptoms with CK > 10x ULN).
The brief asks for "at least 10x" so the boundary value fires. ULN = the lab's
``referenceRange.high`` (it differs by sex and method), else ``ck_default_uln_u_l``.
"""

from __future__ import annotations

from cds_service.clinical.facts import CK, STATIN, LabResult, PatientFacts
from cds_service.clinical.findings import Finding, Indicator
from cds_service.clinical.rules.chart import join, medication_text
from cds_service.clinical.rules.labs import (
    certainly_at_least,
    describe,
    fmt_number,
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


def evaluate(facts: PatientFacts, cfg: ClinicalSettings) -> Finding | None:
    """Fire on a CK at least ``ck_rhabdo_multiple`` x ULN within ``rhabdo_ck_window_days``."""
    ck = very_high_ck(facts, cfg)
    if ck is None:
        return None
    uln = upper_limit(ck, cfg.ck_default_uln_u_l)
    statins = facts.medications_in(STATIN)
    card = FindingBuilder(TOPIC).labs(ck, what="Creatine kinase")
    return card.medications(statins, "Current statin").build(
        {
            "ck_multiple": ratio_text(ck, uln),
            "ck_date": ck.effective.date().isoformat(),
            "ck": describe(ck),
            "uln": fmt_number(uln),
            "uln_basis": "lab" if ck.ref_high is not None and ck.ref_high > 0 else "default",
            "rhabdo_multiple": fmt_number(cfg.ck_rhabdo_multiple),
            "window_days": str(cfg.rhabdo_ck_window_days),
            "statin": join(medication_text(m) for m in statins),
            "statin_status": "on-statin" if statins else "no-statin",
        },
        suggestions=("order-creatinine", "order-urinalysis"),
    )
