"""Unit normalisation: table-driven, with the cited factors (terminology/units.py)."""

from __future__ import annotations

import pytest

from cds_service.clinical.facts import (
    ABI, BMI, CK, CREATININE, D_DIMER, EGFR, HBA1C, MAGNESIUM, POTASSIUM, TSH, VITAMIN_D,
    VITAMIN_D3,
)
from cds_service.terminology import units
from cds_service.terminology.units import MOLAR_FACTORS, assay_basis, normalise

CASES = [
    # group, value, UCUM code, unit text, loinc, expected canonical value, unit
    (POTASSIUM, 3.1, "mmol/L", None, "2823-3", 3.1, "mmol/L"),
    (POTASSIUM, 3.1, None, "mEq/L", "2823-3", 3.1, "mmol/L"),
    (POTASSIUM, 3.1, "meq/L", None, None, 3.1, "mmol/L"),
    (POTASSIUM, 3.1, None, "mmol/l", None, 3.1, "mmol/L"),
    (POTASSIUM, 13.6, "mg/dL", None, "75940-7", 13.6 * 10 / 39.098, "mmol/L"),
    (MAGNESIUM, 1.7, "mg/dL", None, "19123-9", 1.7 * 0.4114, "mmol/L"),
    (MAGNESIUM, 1.4, "meq/L", None, None, 0.7, "mmol/L"),
    (MAGNESIUM, 0.65, "mmol/L", None, "2601-3", 0.65, "mmol/L"),
    (VITAMIN_D, 18, "ng/mL", None, "62292-8", 18.0, "ng/mL"),
    (VITAMIN_D, 49.92, "nmol/L", None, "14635-7", 20.0, "ng/mL"),
    (VITAMIN_D3, 49.92, "nmol/L", None, "14635-7", 20.0, "ng/mL"),  # the D3 fraction alike
    (VITAMIN_D, 49920, "pmol/L", None, "14635-7", 20.0, "ng/mL"),
    (VITAMIN_D, 18, "ug/L", None, None, 18.0, "ng/mL"),
    (CK, 250, "U/L", None, "2157-6", 250.0, "U/L"),
    (CK, 250, "[IU]/L", None, "2157-6", 250.0, "U/L"),
    (CK, 5, "ukat/L", None, "2157-6", 300.0, "U/L"),
    (CK, 5, None, "µkat/L", "2157-6", 300.0, "U/L"),
    (D_DIMER, 480, "ng/mL", None, "48065-7", 480.0, "ng/mL"),
    (D_DIMER, 0.48, "ug/mL", None, "48065-7", 480.0, "ng/mL"),
    (D_DIMER, 0.48, None, "µg/mL FEU", None, 480.0, "ng/mL"),
    (D_DIMER, 0.48, None, "mcg/mL", None, 480.0, "ng/mL"),
    (D_DIMER, 0.48, "mg/L", None, "48065-7", 480.0, "ng/mL"),
    (D_DIMER, 480, "ug/L", None, "48065-7", 480.0, "ng/mL"),
    (D_DIMER, 240, "ng/mL", None, "48066-5", 480.0, "ng/mL"),  # DDU by code -> x2
    (D_DIMER, 240, None, "ng/mL DDU", None, 480.0, "ng/mL"),  # DDU by unit text
    (CREATININE, 1.2, "mg/dL", None, "2160-0", 1.2, "mg/dL"),
    (CREATININE, 106.1, "umol/L", None, "14682-9", 106.1 / 88.42, "mg/dL"),
    (CREATININE, 106.1, None, "µmol/L", None, 106.1 / 88.42, "mg/dL"),
    (TSH, 6.2, "m[IU]/L", None, "3016-3", 6.2, "mIU/L"),
    (TSH, 6.2, "u[IU]/mL", None, "3016-3", 6.2, "mIU/L"),
    (TSH, 6.2, None, "uIU/mL", None, 6.2, "mIU/L"),
    (EGFR, 55, "mL/min/{1.73_m2}", None, "98979-8", 55.0, "mL/min/{1.73_m2}"),
    (EGFR, 55, None, "mL/min/1.73m2", None, 55.0, "mL/min/{1.73_m2}"),
    (HBA1C, 7.1, "%", None, "4548-4", 7.1, "%"),
    (HBA1C, 48, "mmol/mol", None, "4548-4", 0.09148 * 48 + 2.152, "%"),
    (BMI, 31.2, "kg/m2", None, "39156-5", 31.2, "kg/m2"),
    (ABI, 0.85, None, None, None, 0.85, "{ratio}"),
    (ABI, 0.85, "{ratio}", None, None, 0.85, "{ratio}"),
]


@pytest.mark.parametrize(("group", "value", "code", "text", "loinc", "expected", "unit"), CASES)
def test_normalise(group: str, value: float, code: str | None, text: str | None,
                   loinc: str | None, expected: float, unit: str) -> None:
    result = normalise(group, value, code, text, loinc)
    assert result is not None
    assert result[0] == pytest.approx(expected, rel=1e-9)
    assert result[1] == unit


@pytest.mark.parametrize(("group", "code", "text"), [
    (POTASSIUM, "g/L", None),
    (MAGNESIUM, None, "mg/L"),
    (VITAMIN_D, "mg/dL", None),
    (TSH, "mIU/mL", None),  # 1000x: not the same as mIU/L
    (CK, None, None),
    ("unknown-group", "mmol/L", None),
])
def test_unknown_unit_is_none(group: str, code: str | None, text: str | None) -> None:
    assert normalise(group, 1.0, code, text, None) is None


def test_ucum_code_wins_over_unit_text() -> None:
    # code says mg/dL, text says mmol/L: the UCUM code is read first (clinical.md §0.5)
    result = normalise(MAGNESIUM, 2.0, "mg/dL", "mmol/L", None)
    assert result is not None and result[0] == pytest.approx(2.0 * 0.4114)


def test_unit_text_used_when_code_unknown() -> None:
    result = normalise(MAGNESIUM, 2.0, "local-unit", "mEq/L", None)
    assert result == (1.0, "mmol/L")


def test_cited_factors_have_sources() -> None:
    for key, (factor, source) in MOLAR_FACTORS.items():
        assert factor > 0, key
        assert source.strip(), key
    assert MOLAR_FACTORS["ck_ukat_l_to_u_l"][0] == 60.0
    assert MOLAR_FACTORS["d_dimer_ddu_to_feu"][0] == 2.0


def test_assay_basis() -> None:
    assert assay_basis("48066-5", "ng/mL", None) == "DDU"
    assert assay_basis("48065-7", "mg/L", None) == "FEU"
    assert assay_basis(None, None, "ug/mL FEU") == "FEU"
    assert assay_basis(None, "ng/mL", None) is None


def test_every_group_has_a_canonical_unit() -> None:
    assert set(units.CANONICAL_UNITS) == {POTASSIUM, MAGNESIUM, VITAMIN_D, VITAMIN_D3, CK, D_DIMER, TSH,
                                          EGFR, CREATININE, HBA1C, BMI, ABI}
