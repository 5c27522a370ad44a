"""What the FDA statin labels say about co-prescribed drugs: contraindications, "avoid"
statements and dose limits, each with the label section it comes from.

Sources (read through DailyMed/openFDA label text and its reproductions; clinical.md §1.5):

- ZOCOR (simvastatin) US prescribing information: 4 Contraindications "concomitant use of
  strong CYP3A4 inhibitors", "concomitant use of cyclosporine, danazol, or gemfibrozil";
  7.1 "Strong CYP3A4 Inhibitors, Cyclosporine, or Danazol"; 7.2 gemfibrozil; 7.3 and 2.3
  (coadministration with other drugs): do not exceed 10 mg/day with verapamil, diltiazem or
  dronedarone, 20 mg/day with amiodarone, amlodipine or ranolazine; 2.2 restricted dosing:
  80 mg only for patients who have taken it chronically (12 months or more) without
  evidence of muscle toxicity. Same limits: FDA Drug Safety Communication, June 2011.
- Lovastatin tablets US prescribing information: Contraindications "concomitant
  administration of strong CYP3A4 inhibitors"; Warnings, Myopathy/Rhabdomyolysis (drug
  interaction table): avoid with gemfibrozil and with cyclosporine; Dosage and
  Administration: with danazol, diltiazem, dronedarone or verapamil start at 10 mg and do
  not exceed 20 mg/day; with amiodarone do not exceed 40 mg/day.

The other statins' labels (atorvastatin, rosuvastatin, pravastatin, fluvastatin,
pitavastatin) carry dose limits for some of these drugs but name none of them as a
contraindication of the statin; they do not fire ``statin-drug-interaction``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

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

ZOCOR = "ZOCOR (simvastatin) label"
LOVASTATIN = "lovastatin label"

GROUP_NAMES = {
    CYP3A4_STRONG_INHIBITOR: "a strong CYP3A4 inhibitor",
    CICLOSPORIN: "ciclosporin",
    DANAZOL: "danazol",
    GEMFIBROZIL: "gemfibrozil",
    AMIODARONE: "amiodarone",
    AMLODIPINE: "amlodipine",
    DILTIAZEM: "diltiazem",
    DRONEDARONE: "dronedarone",
    RANOLAZINE: "ranolazine",
    VERAPAMIL: "verapamil",
}


@dataclass(frozen=True, slots=True)
class Contraindication:
    statin: str  # ingredient name
    group: str  # medication group of the other drug
    level: Literal["contraindicated", "avoid"]
    label: str
    section: str


@dataclass(frozen=True, slots=True)
class DoseLimit:
    statin: str
    group: str
    max_mg_per_day: int
    label: str
    section: str


CONTRAINDICATIONS: tuple[Contraindication, ...] = (
    Contraindication("simvastatin", CYP3A4_STRONG_INHIBITOR, "contraindicated", ZOCOR, "§4 Contraindications, §7.1"),
    Contraindication("simvastatin", CICLOSPORIN, "contraindicated", ZOCOR, "§4 Contraindications, §7.1"),
    Contraindication("simvastatin", DANAZOL, "contraindicated", ZOCOR, "§4 Contraindications, §7.1"),
    Contraindication("simvastatin", GEMFIBROZIL, "contraindicated", ZOCOR, "§4 Contraindications, §7.2"),
    Contraindication("lovastatin", CYP3A4_STRONG_INHIBITOR, "contraindicated", LOVASTATIN, "Contraindications"),
    Contraindication("lovastatin", GEMFIBROZIL, "avoid", LOVASTATIN, "Warnings, Myopathy/Rhabdomyolysis"),
    Contraindication("lovastatin", CICLOSPORIN, "avoid", LOVASTATIN, "Warnings, Myopathy/Rhabdomyolysis"),
)

DOSE_LIMITS: tuple[DoseLimit, ...] = (
    DoseLimit("simvastatin", VERAPAMIL, 10, ZOCOR, "§2.3, §7.3"),
    DoseLimit("simvastatin", DILTIAZEM, 10, ZOCOR, "§2.3, §7.3"),
    DoseLimit("simvastatin", DRONEDARONE, 10, ZOCOR, "§2.3, §7.3"),
    DoseLimit("simvastatin", AMIODARONE, 20, ZOCOR, "§2.3, §7.3"),
    DoseLimit("simvastatin", AMLODIPINE, 20, ZOCOR, "§2.3, §7.3"),
    DoseLimit("simvastatin", RANOLAZINE, 20, ZOCOR, "§2.3, §7.3"),
    DoseLimit("lovastatin", DANAZOL, 20, LOVASTATIN, "Dosage and Administration"),
    DoseLimit("lovastatin", DILTIAZEM, 20, LOVASTATIN, "Dosage and Administration"),
    DoseLimit("lovastatin", DRONEDARONE, 20, LOVASTATIN, "Dosage and Administration"),
    DoseLimit("lovastatin", VERAPAMIL, 20, LOVASTATIN, "Dosage and Administration"),
    DoseLimit("lovastatin", AMIODARONE, 40, LOVASTATIN, "Dosage and Administration"),
)

SIMVASTATIN_80_SECTION = "§2.2 Restricted Dosing for 80 mg"

_STRENGTH = re.compile(r"(\d+(?:\.\d+)?)\s*mg\b", re.I)


def statin_mg(med: MedicationFact, statin: str) -> float | None:
    """The statin's strength in mg as charted (``simvastatin 40 MG Oral Tablet``,
    ``ezetimibe 10 MG / simvastatin 80 MG``), or None when the display gives none.

    The strength of one unit is read as the daily dose: statins are taken once daily, and
    the dose instructions are shown beside it on the card.
    """
    for text in (med.display, med.dose_text or ""):
        match = re.search(re.escape(statin) + r"\b[^/|]*?" + _STRENGTH.pattern, text, re.I)
        if match:
            return float(match.group(1))
    return None


def pairs_with(statin: str, other: MedicationFact) -> list[Contraindication]:
    """Label contraindications (and "avoid" statements) between ``statin`` and ``other``."""
    return [c for c in CONTRAINDICATIONS if c.statin == statin and c.group in other.classes]


def limits_with(statin: str, other: MedicationFact) -> list[DoseLimit]:
    return [d for d in DOSE_LIMITS if d.statin == statin and d.group in other.classes]
