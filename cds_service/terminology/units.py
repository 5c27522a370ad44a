"""Unit normalisation of lab results to each group's canonical unit.

Design choice: a table of accepted unit spellings per lab group (not ``ucumvert``/pint).
The set of units a lab sends for these analytes is small, analyte-specific molar factors
are needed anyway, and a dict look-up costs well under a microsecond per result; importing
``ucumvert`` alone took ~0.23 s on the build machine, before its pint registry is built.

UCUM ``valueQuantity.code`` is read first, then ``valueQuantity.unit`` (clinical.md §0.5).
An unknown unit gives ``None``: the result is ignored (and counted by extraction).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from cds_service.vocabulary import (
    ABI,
    BMI,
    CK,
    CREATININE,
    D_DIMER,
    EGFR,
    HBA1C,
    MAGNESIUM,
    POTASSIUM,
    TSH,
    VITAMIN_D,
    VITAMIN_D3,
)

# Analyte-specific factors, each with its source. "x canonical per 1 reported unit".
MOLAR_FACTORS: dict[str, tuple[float, str]] = {
    # Mg 24.305 g/mol: 1 mg/dL = 10 mg/L / 24.305 = 0.4114 mmol/L (clinical.md §2.2)
    "magnesium_mg_dl_to_mmol_l": (0.4114, "clinical.md §2.2 (Mg 24.305 g/mol, arithmetic)"),
    # Mg2+ is divalent: 1 mmol/L = 2 mEq/L (clinical.md §2.2)
    "magnesium_meq_l_to_mmol_l": (0.5, "clinical.md §2.2 (mEq/L = 2 x mmol/L)"),
    # K+ is monovalent: 1 mmol/L = 1 mEq/L (clinical.md §2.1)
    "potassium_meq_l_to_mmol_l": (1.0, "clinical.md §2.1 (monovalent)"),
    # K 39.098 g/mol (IUPAC standard atomic weight): 1 mg/dL = 10/39.098 mmol/L
    "potassium_mg_dl_to_mmol_l": (10 / 39.098, "IUPAC standard atomic weight of K, 39.098"),
    # 25-OH vitamin D: nmol/L = ng/mL x 2.496 (clinical.md §2.3)
    "vitamin_d_nmol_l_to_ng_ml": (1 / 2.496, "clinical.md §2.3 (nmol/L = ng/mL x 2.496)"),
    "vitamin_d_pmol_l_to_ng_ml": (1 / 2496.0, "clinical.md §2.3 (pmol/L / 1000 = nmol/L)"),
    # 1 U = 1 umol/min and 1 kat = 1 mol/s, so 1 ukat = 1 umol/s = 60 U (SI Brochure 9th
    # ed. 2019, Table 4 'katal'; IUPAC-IUBMB 1978 recommendation on the katal)
    "ck_ukat_l_to_u_l": (60.0, "SI Brochure 2019 (katal); 1 ukat = 60 U"),
    # Creatinine 113.12 g/mol: 1 mg/dL = 88.42 umol/L (clinical.md §2.6 units; arithmetic)
    "creatinine_umol_l_to_mg_dl": (1 / 88.42, "creatinine 113.12 g/mol: mg/dL = umol/L / 88.42"),
    # D-dimer DDU ~ FEU / 2 (clinical.md §2.5, lab catalogues: <=250 ng/mL DDU ~ <=0.5 ug/mL FEU).
    # An approximation: the FEU/DDU ratio is assay-dependent; shown as such on the card.
    "d_dimer_ddu_to_feu": (2.0, "clinical.md §2.5 (DDU ~ FEU/2; approximation)"),
}

# IFCC-NGSP master equation: NGSP % = 0.09148 x IFCC mmol/mol + 2.152
# (Hoelzel W et al., Clin Chem 2004; 50: 166-174).
HBA1C_IFCC_SLOPE = 0.09148
HBA1C_IFCC_INTERCEPT = 2.152

DDU_LOINC = "48066-5"
FEU_LOINC = "48065-7"

CANONICAL_UNITS: dict[str, str] = {
    POTASSIUM: "mmol/L",
    MAGNESIUM: "mmol/L",
    VITAMIN_D: "ng/mL",
    VITAMIN_D3: "ng/mL",
    CK: "U/L",
    D_DIMER: "ng/mL",
    TSH: "mIU/L",
    EGFR: "mL/min/{1.73_m2}",
    CREATININE: "mg/dL",
    HBA1C: "%",
    BMI: "kg/m2",
    ABI: "{ratio}",
}

Converter = Callable[[float], float]


def _scale(factor: float) -> Converter:
    return lambda v: v * factor


def _f(key: str) -> Converter:
    return _scale(MOLAR_FACTORS[key][0])


_ONE = _scale(1.0)

# Accepted units per group, keyed by the canonical spelling produced by ``_clean``.
_TABLE: dict[str, dict[str, Converter]] = {
    POTASSIUM: {"mmol/l": _ONE, "meq/l": _f("potassium_meq_l_to_mmol_l"),
                "mg/dl": _f("potassium_mg_dl_to_mmol_l")},
    MAGNESIUM: {"mmol/l": _ONE, "mg/dl": _f("magnesium_mg_dl_to_mmol_l"),
                "meq/l": _f("magnesium_meq_l_to_mmol_l")},
    VITAMIN_D: {"ng/ml": _ONE, "ug/l": _ONE, "nmol/l": _f("vitamin_d_nmol_l_to_ng_ml"),
                "pmol/l": _f("vitamin_d_pmol_l_to_ng_ml")},
    CK: {"u/l": _ONE, "iu/l": _ONE, "ukat/l": _f("ck_ukat_l_to_u_l")},
    # mass concentration only; FEU/DDU basis handled in ``normalise``
    D_DIMER: {"ng/ml": _ONE, "ug/l": _ONE, "ug/ml": _scale(1000.0), "mg/l": _scale(1000.0)},
    TSH: {"miu/l": _ONE, "uiu/ml": _ONE, "mu/l": _ONE, "uu/ml": _ONE},
    EGFR: {"ml/min/{1.73_m2}": _ONE, "ml/min/1.73m2": _ONE, "ml/min/1.73_m2": _ONE,
           "ml/min/{1.73m2}": _ONE, "ml/min/1.73m^2": _ONE, "ml/min/bsa": _ONE},
    CREATININE: {"mg/dl": _ONE, "umol/l": _f("creatinine_umol_l_to_mg_dl"),
                 "mmol/l": _scale(1000 * MOLAR_FACTORS["creatinine_umol_l_to_mg_dl"][0])},
    HBA1C: {"%": _ONE, "percent": _ONE,
            "mmol/mol": lambda v: HBA1C_IFCC_SLOPE * v + HBA1C_IFCC_INTERCEPT},
    BMI: {"kg/m2": _ONE, "kg/m^2": _ONE, "kg/(m2)": _ONE, "kg/m²": _ONE},
    ABI: {"": _ONE, "1": _ONE, "{ratio}": _ONE, "ratio": _ONE, "{index}": _ONE},
}
# The D3 fraction converts like the total: 2.496 nmol/L per ng/mL is the factor of
# 25-hydroxyvitamin D3 itself (molar mass 400.6 g/mol; clinical.md §2.3).
_TABLE[VITAMIN_D3] = _TABLE[VITAMIN_D]

_BASIS_RE = re.compile(r"\b(feu|ddu)\b", re.I)


def _clean(unit: str) -> str:
    """:func:`_spelled`, remembered for unit-sized strings only (a chart's units repeat;
    a client cannot fill the memo with long ones)."""
    return _remembered_spelling(unit) if len(unit) <= 64 else _spelled(unit)


def _spelled(unit: str) -> str:
    """Canonical spelling of a unit string: lower case, no spaces, micro as "u"."""
    u = unit.strip().lower()
    u = u.replace("\u00b5", "u").replace("\u03bc", "u")  # micro sign and Greek mu
    u = _BASIS_RE.sub("", u)
    u = u.replace(" ", "")
    u = u.replace("mcg", "ug")  # mcg/mL -> ug/mL
    u = re.sub(r"(?<![a-z])mc(?=[a-z\[])", "u", u)  # mcIU/mL -> uIU/mL
    u = u.replace("[iu]", "iu").replace("[u]", "u")
    u = u.replace("1.73m\u00b2", "1.73m2")
    return u


_remembered_spelling = functools.lru_cache(maxsize=1024)(_spelled)


@dataclass(frozen=True, slots=True)
class Normalised:
    value: float
    unit: str


def assay_basis(loinc: str | None, unit_code: str | None, unit_text: str | None) -> str | None:
    """D-dimer basis: "DDU" or "FEU" from the LOINC code or the unit text, else None."""
    for text in (unit_code, unit_text):
        if text:
            m = _BASIS_RE.search(text)
            if m:
                return m.group(1).upper()
    if loinc == DDU_LOINC:
        return "DDU"
    if loinc == FEU_LOINC:
        return "FEU"
    return None


def converter(group: str, unit_code: str | None, unit_text: str | None,
              loinc: str | None = None) -> Converter | None:
    """The conversion function of one (group, unit) pair, or None if the unit is unknown.

    The UCUM code wins over the human unit text (clinical.md §0.5).
    """
    table = _TABLE.get(group)
    if table is None:
        return None
    conv: Converter | None = None
    for raw in (unit_code, unit_text):
        if raw is None:
            continue
        conv = table.get(_clean(raw))
        if conv is not None:
            break
    if conv is None and unit_code is None and unit_text is None and group == ABI:
        conv = _ONE
    if conv is None:
        return None
    if group == D_DIMER and assay_basis(loinc, unit_code, unit_text) == "DDU":
        ddu = MOLAR_FACTORS["d_dimer_ddu_to_feu"][0]
        base = conv
        return lambda v: base(v) * ddu
    return conv


def normalise(group: str, value: float, unit_code: str | None, unit_text: str | None,
              loinc: str | None) -> tuple[float, str] | None:
    """``value`` in the canonical unit of ``group``, or None for an unknown unit.

    D-dimer is returned as ng/mL FEU; a DDU result (LOINC 48066-5 or "DDU" in the unit)
    is doubled, an approximation (clinical.md §2.5).
    """
    conv = converter(group, unit_code, unit_text, loinc)
    if conv is None:
        return None
    return conv(float(value)), CANONICAL_UNITS[group]
