"""Statin-associated muscle symptoms and rhabdomyolysis-risk rules."""

from __future__ import annotations

from cds_service.clinical import facts as F
from cds_service.clinical.engine import evaluate
from cds_service.clinical.rules import rhabdomyolysis, statin_muscle
from cds_service.config import ClinicalSettings
from test_rules_symptoms import CALF_PAIN, CFG, cond, facts, lab, med

STATIN = med("atorvastatin 40 MG Oral Tablet", F.STATIN, ref="MedicationRequest/statin")


def topics(pf: F.PatientFacts) -> list[str]:
    return [f.topic for f in evaluate(pf, CFG)]


def test_statin_with_symptoms_fires_and_suggests_only_missing_tests() -> None:
    pf = facts(STATIN, CALF_PAIN, lab(F.TSH, 2.0, age=40))
    finding = statin_muscle.evaluate(pf, CFG)
    assert finding is not None
    assert finding.values["reason"] == "symptoms"
    assert "atorvastatin 40 MG" in finding.values["statin"]
    assert finding.suggestions == ("order-ck", "order-vitamin-d", "order-creatinine")
    refs = {e.reference for e in finding.evidence}
    assert {"MedicationRequest/statin", "Condition/calf-pain", "Observation/tsh-40"} <= refs


def test_statin_alone_with_normal_labs_is_nothing() -> None:
    pf = facts(STATIN, lab(F.CK, 150), lab(F.POTASSIUM, 4.2), lab(F.VITAMIN_D, 35))
    assert evaluate(pf, CFG) == []


def test_stopped_statin_is_absent_so_nothing_fires() -> None:
    assert statin_muscle.evaluate(facts(CALF_PAIN), CFG) is None


def test_ck_above_uln_fires_without_symptoms_using_lab_range() -> None:
    pf = facts(STATIN, lab(F.CK, 250, ref_high=200))
    finding = statin_muscle.evaluate(pf, CFG)
    assert finding is not None and finding.values["reason"] == "ck"
    assert finding.values["ck_tier"] == "mild"
    assert finding.values["ck_multiple"] == "1.2"


def test_ck_without_range_uses_configured_default_uln() -> None:
    assert statin_muscle.evaluate(facts(STATIN, lab(F.CK, 250)), CFG) is None  # < 308
    assert statin_muscle.evaluate(facts(STATIN, lab(F.CK, 320)), CFG) is not None


def test_ck_interpretation_normal_overrides_default_uln() -> None:
    assert statin_muscle.evaluate(facts(STATIN, lab(F.CK, 320, interpretation="N")), CFG) is None


def test_old_ck_outside_window_is_ignored() -> None:
    assert statin_muscle.evaluate(facts(STATIN, lab(F.CK, 900, age=31)), CFG) is None


def test_moderate_tier_uses_configurable_multiple() -> None:
    pf = facts(STATIN, lab(F.CK, 900, ref_high=200))
    finding = statin_muscle.evaluate(pf, CFG)
    assert finding is not None and finding.values["ck_tier"] == "moderate"
    stricter = statin_muscle.evaluate(pf, ClinicalSettings(ck_moderate_multiple=5))
    assert stricter is not None and stricter.values["ck_tier"] == "mild"


def test_risk_factors_listed() -> None:
    pf = facts(
        STATIN, CALF_PAIN,
        med("clarithromycin 500 MG", F.STATIN_INTERACTING, ref="MedicationRequest/clari"),
        cond(F.HYPOTHYROIDISM, "Hypothyroidism", age=900),
        lab(F.EGFR, 45, age=20), lab(F.BMI, 17.0, age=20),
        birth=F.date(1940, 1, 1),
    )
    finding = statin_muscle.evaluate(pf, CFG)
    assert finding is not None
    text = finding.values["risk_factors"]
    for expected in ("clarithromycin", "hypothyroidism", "eGFR below 60", "age 86", "low BMI"):
        assert expected in text
    # named, not repeated: the values are in the evidence table once
    assert "45" not in text and "17" not in text


def test_rhabdo_boundary_ten_times_fires_nine_point_nine_does_not() -> None:
    at = facts(lab(F.CK, 2000, ref_high=200))
    below = facts(lab(F.CK, 1980, ref_high=200))
    finding = rhabdomyolysis.evaluate(at, CFG)
    assert finding is not None and finding.values["ck_multiple"] == "10.0"
    assert rhabdomyolysis.evaluate(below, CFG) is None


def test_rhabdo_honours_comparator_and_window() -> None:
    assert rhabdomyolysis.evaluate(facts(lab(F.CK, 3080, comparator=">")), CFG) is not None
    assert rhabdomyolysis.evaluate(facts(lab(F.CK, 5000, comparator="<")), CFG) is None
    assert rhabdomyolysis.evaluate(facts(lab(F.CK, 5000, age=15)), CFG) is None


def test_rhabdo_names_current_statin() -> None:
    finding = rhabdomyolysis.evaluate(facts(STATIN, lab(F.CK, 4000)), CFG)
    assert finding is not None
    assert finding.values["statin_status"] == "on-statin"
    assert finding.suggestions == ("order-creatinine", "order-urinalysis")


def test_rhabdo_suppresses_statin_ck_only_card() -> None:
    assert topics(facts(STATIN, lab(F.CK, 4000))) == ["rhabdomyolysis-risk"]


def test_rhabdo_suppresses_the_statin_card() -> None:
    # issue 7: the rhabdomyolysis card names the statin; a second card would repeat it
    findings = evaluate(facts(STATIN, CALF_PAIN, lab(F.CK, 4000)), CFG)
    assert [f.topic for f in findings] == ["rhabdomyolysis-risk"]
    coded = cond(F.RHABDOMYOLYSIS, "Rhabdomyolysis", age=3)
    assert [f.topic for f in evaluate(facts(STATIN, CALF_PAIN, coded), CFG)] == ["rhabdomyolysis-risk"]
    # without the rhabdomyolysis card the statin card is there
    assert [f.topic for f in evaluate(facts(STATIN, CALF_PAIN, lab(F.CK, 900)), CFG)] == [
        "statin-muscle-symptoms"]
