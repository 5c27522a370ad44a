"""Reading a D-dimer against its cut-off (clinical.md §2.5, §4.2).

Cut-off 500 ng/mL FEU (Mayo/CVMC, St Joseph catalogues: "in conjunction with clinical
pretest probability"); for age > 50 the age-adjusted cut-off age x 10 ug/L FEU
(= ng/mL FEU), validated prospectively for PE (ADJUST-PE, Righini, JAMA 2014) with weaker
evidence for DVT. Values arrive FEU-equivalent (``LabResult.value``); a DDU assay is
flagged so the card can say the comparison went through a conversion (DDU ~ FEU / 2).
A result past the cut-off only one way under its comparator is "indeterminate".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cds_service.clinical.facts import D_DIMER, LabResult, PatientFacts
from cds_service.clinical.rules.labs import certainly_at_least, certainly_below
from cds_service.config import ClinicalSettings

Result = Literal["negative", "positive", "indeterminate"]


@dataclass(frozen=True)
class DDimerReading:
    """A D-dimer compared with the applicable cut-off (ng/mL FEU)."""

    lab: LabResult
    result: Result
    cutoff: float
    age_adjusted: bool
    ddu: bool


def cutoff_for(age: int | None, cfg: ClinicalSettings) -> tuple[float, bool]:
    """The applicable cut-off in ng/mL FEU and whether it is age-adjusted."""
    base = cfg.d_dimer_cutoff_ng_ml_feu
    if age is not None and age > cfg.d_dimer_age_adjust_over:
        adjusted = age * cfg.d_dimer_age_factor_ng_ml
        if adjusted > base:
            return adjusted, True
    return base, False


def read(lab: LabResult, age: int | None, cfg: ClinicalSettings) -> DDimerReading:
    """Classify one D-dimer result."""
    cutoff, adjusted = cutoff_for(age, cfg)
    if certainly_at_least(lab, cutoff):
        result: Result = "positive"
    elif certainly_below(lab, cutoff):
        result = "negative"
    else:
        result = "indeterminate"
    ddu = (lab.assay_basis or "").upper() == "DDU"
    return DDimerReading(lab, result, cutoff, adjusted, ddu)


def recent(facts: PatientFacts, cfg: ClinicalSettings, window_days: int) -> DDimerReading | None:
    """The latest D-dimer within ``window_days``, read against its cut-off."""
    lab = facts.latest(D_DIMER, window_days)
    return None if lab is None else read(lab, facts.age_years, cfg)
