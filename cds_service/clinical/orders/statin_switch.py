"""Order-side statin label facts: dose limits of the other statins' labels, and the statin a
draft may be switched to where the labels allow it.

The contraindications and the simvastatin/lovastatin dose limits come from
``rules/statin_labels.py`` (shared with patient-view). The limits added here apply only to a
statin being *prescribed* (order-sign), so the patient-view cards are unchanged:

- PRAVACHOL (pravastatin) US prescribing information: with cyclosporine limit pravastatin to
  20 mg once daily (§2.5, §7.1); with clarithromycin limit it to 40 mg once daily (§2.6,
  §7.2); avoid with gemfibrozil (§7.4).
- LIPITOR (atorvastatin) US prescribing information, §2 Dosage and Administration and
  §7 Drug Interactions: with clarithromycin or itraconazole do not exceed 20 mg/day.
- CRESTOR (rosuvastatin) US prescribing information: with cyclosporine do not exceed 5 mg
  once daily (§2.4, §7.1); with gemfibrozil avoid, and if used do not exceed 10 mg once
  daily (§2.4, §7.2).

Switch targets (RxNorm SCDs from the VSAC Statin Grouper 2.16.840.1.113762.1.4.1110.19,
expansion 2021-05-06): pravastatin is not metabolised by CYP3A4 to a clinically important
extent (PRAVACHOL §12.3), so 40 mg (moderate intensity, 2018 AHA/ACC Table 3) is offered
for a CYP3A4, calcium-channel-blocker, amiodarone, dronedarone or ranolazine interaction,
and 20 mg with ciclosporin. Simvastatin 80 mg as a new start becomes rosuvastatin 20 mg
(high intensity): the ZOCOR label §2.2 tells prescribers to use another LDL-lowering
treatment instead of starting 80 mg. With gemfibrozil or danazol no switch is offered
(every statin label restricts gemfibrozil; danazol is not covered by the other labels).
"""

from __future__ import annotations

from collections.abc import Iterable

from cds_service.clinical.facts import (
    AMIODARONE,
    AMLODIPINE,
    CICLOSPORIN,
    CYP3A4_STRONG_INHIBITOR,
    DANAZOL,
    DILTIAZEM,
    DRONEDARONE,
    GEMFIBROZIL,
    RANOLAZINE,
    VERAPAMIL,
    MedicationFact,
)
from cds_service.clinical.findings import Replacement
from cds_service.clinical.rules.statin_labels import DOSE_LIMITS, DoseLimit, limits_with, pairs_with

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
PRAVACHOL = "PRAVACHOL (pravastatin) label"
LIPITOR = "LIPITOR (atorvastatin) label"
CRESTOR = "CRESTOR (rosuvastatin) label"

# Limits named by ingredient (clarithromycin, itraconazole) or group; ``group`` is a
# medication group, or "ingredient:<name>" for one drug of a group.
ORDER_DOSE_LIMITS: tuple[DoseLimit, ...] = (
    DoseLimit("pravastatin", "ingredient:clarithromycin", 40, PRAVACHOL, "§2.6, §7.2"),
    DoseLimit("pravastatin", CICLOSPORIN, 20, PRAVACHOL, "§2.5, §7.1"),
    DoseLimit("atorvastatin", "ingredient:clarithromycin", 20, LIPITOR, "§2, §7"),
    DoseLimit("atorvastatin", "ingredient:itraconazole", 20, LIPITOR, "§2, §7"),
    DoseLimit("rosuvastatin", CICLOSPORIN, 5, CRESTOR, "§2.4, §7.1"),
    DoseLimit("rosuvastatin", GEMFIBROZIL, 10, CRESTOR, "§2.4, §7.2"),
)

PRAVASTATIN_40 = Replacement(RXNORM, "904475", "pravastatin sodium 40 MG Oral Tablet")
PRAVASTATIN_20 = Replacement(RXNORM, "904467", "pravastatin sodium 20 MG Oral Tablet")
ROSUVASTATIN_20 = Replacement(RXNORM, "859751", "rosuvastatin calcium 20 MG Oral Tablet")

_SWITCH_BY_GROUP = {
    CYP3A4_STRONG_INHIBITOR: PRAVASTATIN_40,
    AMIODARONE: PRAVASTATIN_40,
    AMLODIPINE: PRAVASTATIN_40,
    DILTIAZEM: PRAVASTATIN_40,
    DRONEDARONE: PRAVASTATIN_40,
    RANOLAZINE: PRAVASTATIN_40,
    VERAPAMIL: PRAVASTATIN_40,
    CICLOSPORIN: PRAVASTATIN_20,
}
_NO_SWITCH = frozenset({GEMFIBROZIL, DANAZOL})
_REPLACEMENT_FACTS = {
    PRAVASTATIN_40: ("pravastatin", 40.0),
    PRAVASTATIN_20: ("pravastatin", 20.0),
    ROSUVASTATIN_20: ("rosuvastatin", 20.0),
}


def _applies(limit: DoseLimit, other: MedicationFact) -> bool:
    if limit.group.startswith("ingredient:"):
        return limit.group.removeprefix("ingredient:") in other.ingredients
    return limit.group in other.classes


def order_limits_with(statin: str, other: MedicationFact) -> list[DoseLimit]:
    """Every label dose limit for ``statin`` with ``other`` (shared and order-side)."""
    extra = [d for d in ORDER_DOSE_LIMITS if d.statin == statin and _applies(d, other)]
    return [*limits_with(statin, other), *extra]


def _allowed(statin: str, mg: float, others: Iterable[MedicationFact]) -> bool:
    """No label contraindication or exceeded dose limit between the statin and any drug."""
    for other in others:
        if pairs_with(statin, other):
            return False
        if any(mg > d.max_mg_per_day for d in order_limits_with(statin, other)):
            return False
    return True


def switch_for(groups: Iterable[str], others: list[MedicationFact], *, simva_80: bool = False) -> Replacement | None:
    """The statin to offer instead, or None where no label-allowed switch is known."""
    wanted = set(groups)
    if wanted & _NO_SWITCH:
        return None
    candidates = [_SWITCH_BY_GROUP[g] for g in wanted if g in _SWITCH_BY_GROUP]
    if simva_80 and not candidates:
        candidates = [ROSUVASTATIN_20]
    # the most restrictive target first (pravastatin 20 mg with ciclosporin)
    for target in sorted(set(candidates), key=lambda r: _REPLACEMENT_FACTS[r][1]):
        statin, mg = _REPLACEMENT_FACTS[target]
        if _allowed(statin, mg, others):
            return target
    return None


__all__ = ["DOSE_LIMITS", "ORDER_DOSE_LIMITS", "order_limits_with", "switch_for"]
