"""DVT assessment (risk factors, partial Wells, D-dimer) and DVT red-flag rules."""

from __future__ import annotations

from datetime import date

from cds_service.clinical import facts as F
from cds_service.clinical.rules import d_dimer, dvt_assessment, dvt_red_flags
from cds_service.config import ClinicalSettings
from test_rules_symptoms import CALF_PAIN, CFG, cond, facts, lab, med, proc

YOUNG = date(1990, 1, 1)  # 36 at NOW: no age risk, standard D-dimer cut-off


def test_no_risk_factor_is_nothing() -> None:
    assert dvt_assessment.evaluate(facts(CALF_PAIN, birth=YOUNG), CFG) is None


def test_risk_factor_without_symptoms_is_nothing() -> None:
    assert dvt_assessment.evaluate(facts(cond(F.ACTIVE_CANCER), birth=YOUNG), CFG) is None


def test_age_risk_uses_padua_threshold() -> None:
    assert dvt_assessment.evaluate(facts(CALF_PAIN, birth=date(1956, 1, 1)), CFG) is not None  # 70
    assert dvt_assessment.evaluate(facts(CALF_PAIN, birth=date(1956, 6, 1)), CFG) is None  # 69


def test_partial_wells_items_from_chart_and_minimum_wording() -> None:
    pf = facts(
        CALF_PAIN,
        cond(F.ACTIVE_CANCER, "Malignant neoplasm of breast", age=200),
        cond(F.VTE_HISTORY, "Personal history of DVT", age=2000, active=False),
        proc(F.SURGERY, "Total knee replacement", age=10),
        birth=YOUNG,
    )
    finding = dvt_assessment.evaluate(pf, CFG)
    assert finding is not None
    assert finding.values["wells_points"] == "3 points"
    assert finding.indicator == "warning"
    # 3 - 2 (alternative diagnosis) can still be <= 1: the D-dimer is still offered
    assert finding.suggestions == ("order-d-dimer", "order-duplex")
    labels = [e.what for e in finding.evidence]
    assert "Active cancer (Wells 1, +1)" in labels and "Prior DVT/PE (Wells 9, +1)" in labels


def test_low_chart_score_is_incomplete_not_unlikely() -> None:
    finding = dvt_assessment.evaluate(facts(CALF_PAIN, cond(F.HEART_FAILURE), birth=YOUNG), CFG)
    assert finding is not None
    assert finding.values["wells_points"] == "0 points"
    assert finding.indicator == "info"
    assert finding.suggestions == ("order-d-dimer", "order-duplex")


def test_bedridden_scores_item_3_paralysis_item_2() -> None:
    pf = facts(CALF_PAIN, cond(F.IMMOBILITY, "Bed-ridden"), cond(F.IMMOBILITY, "Paraplegia"), birth=YOUNG)
    finding = dvt_assessment.evaluate(pf, CFG)
    assert finding is not None and finding.values["wells_points"] == "2 points"


def test_surgery_outside_four_weeks_is_context_only() -> None:
    pf = facts(CALF_PAIN, proc(F.SURGERY, "Hip replacement", age=50), cond(F.OBESITY), birth=YOUNG)
    finding = dvt_assessment.evaluate(pf, CFG)
    assert finding is not None
    assert finding.values["surgery_context_status"] == "present"
    assert "surgery" not in finding.values["risk_summary"]


def test_postpartum_window_is_configurable() -> None:
    pf = facts(CALF_PAIN, cond(F.POSTPARTUM, "Postpartum state", age=50), birth=YOUNG)
    assert dvt_assessment.evaluate(pf, CFG) is None
    assert dvt_assessment.evaluate(pf, ClinicalSettings(postpartum_window_days=60)) is not None


def test_obesity_by_bmi_and_hormonal_therapy() -> None:
    pf = facts(CALF_PAIN, lab(F.BMI, 31), med("ethinyl estradiol", F.HORMONAL_ESTROGEN), birth=YOUNG)
    finding = dvt_assessment.evaluate(pf, CFG)
    assert finding is not None
    assert finding.values["risk_summary"] == "obesity, hormonal therapy"


def test_d_dimer_age_adjusted_cut_off_over_50() -> None:
    old = lab(F.D_DIMER, 650)
    reading = d_dimer.read(old, 70, CFG)
    assert reading.cutoff == 700 and reading.age_adjusted and reading.result == "negative"
    assert d_dimer.read(old, 50, CFG).result == "positive"
    assert d_dimer.read(lab(F.D_DIMER, 1000, comparator="<"), 40, CFG).result == "indeterminate"


def test_no_d_dimer_still_states_age_adjusted_cut_off() -> None:
    finding = dvt_assessment.evaluate(facts(CALF_PAIN, birth=date(1950, 1, 1)), CFG)
    assert finding is not None
    assert finding.values["d_dimer_status"] == "none"
    assert (finding.values["d_dimer_cutoff"], finding.values["cutoff_basis"]) == ("760", ", age-adjusted")


def test_recent_d_dimer_shown_on_assessment_with_ddu_note() -> None:
    pf = facts(CALF_PAIN, cond(F.THROMBOPHILIA), lab(F.D_DIMER, 300, assay_basis="DDU"), birth=YOUNG)
    finding = dvt_assessment.evaluate(pf, CFG)
    assert finding is not None
    assert finding.values["d_dimer_status"] == "negative"
    assert finding.values["assay_note"] == "ddu"
    assert finding.suggestions == ("order-duplex",)


def test_red_flags_unilateral_swelling_fires_bilateral_does_not() -> None:
    left = cond(F.LEG_SWELLING, "Swelling of lower leg", age=2, laterality="left")
    both = cond(F.LEG_SWELLING, "Swelling of lower leg", age=2, laterality="bilateral")
    finding = dvt_red_flags.evaluate(facts(left), CFG)
    assert finding is not None and finding.values["red_flag_summary"] == "unilateral leg swelling"
    assert dvt_red_flags.evaluate(facts(both), CFG) is None


def test_red_flag_pe_symptom_and_positive_d_dimer() -> None:
    pe = cond(F.PE_SYMPTOM, "Dyspnea", age=1, source="observation")
    finding = dvt_red_flags.evaluate(facts(CALF_PAIN, pe, lab(F.D_DIMER, 900), birth=YOUNG), CFG)
    assert finding is not None
    assert finding.values["red_flag_summary"] == "possible PE symptom, positive D-dimer"


def test_red_flags_must_be_recent_and_need_symptoms() -> None:
    old = cond(F.LEG_WARMTH_REDNESS, "Warm skin", age=8)
    undated = cond(F.LEG_WARMTH_REDNESS, "Warm skin", age=None)
    assert dvt_red_flags.evaluate(facts(CALF_PAIN, old), CFG) is None
    assert dvt_red_flags.evaluate(facts(CALF_PAIN, undated), CFG) is None
    assert dvt_red_flags.evaluate(facts(cond(F.LEG_WARMTH_REDNESS, age=1)), CFG) is None
