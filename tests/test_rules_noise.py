"""Issue 7 "less noise, same safety": the leg-localised gate of the DVT and PAD cards,
obesity from current evidence, each fact once, the info/warning split of dvt-assessment,
a current DVT, and rhabdomyolysis replacing the statin card."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from cds_service.clinical import facts as F
from cds_service.clinical.engine import evaluate
from cds_service.clinical.rules import (
    diabetic_neuropathy,
    dvt_assessment,
    dvt_red_flags,
    electrolyte_deficiency,
    peripheral_artery_disease,
    statin_muscle,
    vitamin_d,
)
from cds_service.clinical.rules.dvt_risk import collect_risk_factors
from cds_service.clinical.rules.symptoms import is_leg_localised, leg_symptom_findings
from support import catalog
from test_rules_symptoms import CALF_PAIN, CFG, cond, facts, lab, med

OLD = date(1950, 1, 1)  # 76 at NOW: age is a DVT risk factor (no Wells point)
YOUNG = date(1990, 1, 1)
MYALGIA = cond(F.MYALGIA, "Myalgia, unspecified site")
GENERIC_CRAMP = cond(F.MUSCLE_CRAMP, "Cramp and spasm")
WEAKNESS = cond(F.MUSCLE_WEAKNESS, "Muscle weakness (generalized)")
DYSPNOEA = cond(F.PE_SYMPTOM, "Shortness of breath", age=1)
STATIN = med("atorvastatin 40 MG Oral Tablet", F.STATIN)


# --- the leg-localised gate ------------------------------------------------------------


@pytest.mark.parametrize("symptom", [MYALGIA, GENERIC_CRAMP, WEAKNESS], ids=["myalgia", "cramp", "weakness"])
def test_generalised_symptoms_do_not_open_the_dvt_or_pad_cards(symptom) -> None:
    pad = cond(F.PAD, "Peripheral arterial disease", age=400)
    pf = facts(symptom, DYSPNOEA, pad, cond(F.ACTIVE_CANCER, "Lung cancer", age=100), birth=OLD)
    assert dvt_assessment.evaluate(pf, CFG) is None
    assert dvt_red_flags.evaluate(pf, CFG) is None
    assert peripheral_artery_disease.evaluate(pf, CFG) is None
    # ... the same chart with calf pain opens all three
    with_calf = facts(CALF_PAIN, symptom, DYSPNOEA, pad, cond(F.ACTIVE_CANCER, "Lung cancer", age=100), birth=OLD)
    assert dvt_assessment.evaluate(with_calf, CFG) is not None
    assert dvt_red_flags.evaluate(with_calf, CFG) is not None
    assert peripheral_artery_disease.evaluate(with_calf, CFG) is not None


@pytest.mark.parametrize("symptom", [MYALGIA, GENERIC_CRAMP, WEAKNESS], ids=["myalgia", "cramp", "weakness"])
def test_generalised_symptoms_still_open_the_drug_lab_and_neuropathy_cards(symptom) -> None:
    assert statin_muscle.evaluate(facts(STATIN, symptom), CFG) is not None
    assert electrolyte_deficiency.evaluate(facts(symptom, lab(F.POTASSIUM, 3.1)), CFG) is not None
    assert vitamin_d.evaluate(facts(symptom, lab(F.VITAMIN_D, 12)), CFG) is not None
    neuro = cond(F.DIABETIC_NEUROPATHY, "Diabetic polyneuropathy", age=700)
    assert diabetic_neuropathy.evaluate(facts(symptom, neuro), CFG) is not None


def test_myalgia_with_dyspnoea_over_70_is_not_a_dvt_or_pe() -> None:
    # the everyday viral-illness picture: no critical "possible PE", no D-dimer order
    assert [f.topic for f in evaluate(facts(MYALGIA, DYSPNOEA, birth=OLD), CFG)] == []


def test_pe_symptom_raises_red_flags_only_with_a_leg_symptom() -> None:
    assert dvt_red_flags.evaluate(facts(WEAKNESS, DYSPNOEA), CFG) is None
    finding = dvt_red_flags.evaluate(facts(CALF_PAIN, DYSPNOEA), CFG)
    assert finding is not None and finding.values["red_flag_summary"] == "possible PE symptom"


def test_cramp_located_in_the_leg_opens_the_gate_by_text_or_body_site() -> None:
    assert is_leg_localised(cond(F.MUSCLE_CRAMP, "Muscle spasm of calf"))
    assert is_leg_localised(cond(F.MUSCLE_CRAMP, "Nocturnal leg cramps"))
    assert is_leg_localised(replace(GENERIC_CRAMP, body_site="Left lower leg"))
    assert not is_leg_localised(GENERIC_CRAMP)
    assert not is_leg_localised(replace(GENERIC_CRAMP, body_site="Structure of lumbar region"))
    assert not is_leg_localised(cond(F.MUSCLE_CRAMP, "Abdominal cramp"))
    finding = dvt_assessment.evaluate(facts(cond(F.MUSCLE_CRAMP, "Muscle spasm of calf"), birth=OLD), CFG)
    assert finding is not None and finding.indicator == "info"
    assert dvt_assessment.evaluate(facts(GENERIC_CRAMP, birth=OLD), CFG) is None


def test_leg_swelling_of_unknown_side_is_leg_localised() -> None:
    swelling = cond(F.LEG_SWELLING, "Swelling of lower limb", laterality=None)
    assert leg_symptom_findings(facts(swelling), CFG) == [swelling]
    assert dvt_assessment.evaluate(facts(swelling, birth=OLD), CFG) is not None
    # a swelling without a side is not a one-sided red flag
    assert dvt_red_flags.evaluate(facts(swelling), CFG) is None


# --- obesity from current evidence ----------------------------------------------------


def _obesity(*items: object) -> list[str]:
    return [f.detail for f in collect_risk_factors(facts(*items, birth=YOUNG), CFG) if f.name == "obesity"]


def test_obesity_from_the_latest_bmi_within_two_years() -> None:
    assert _obesity(lab(F.BMI, 31, age=700)) == ["BMI 31 kg/m2"]
    assert _obesity(lab(F.BMI, 31, age=800)) == []  # older than 730 days, no condition


def test_obesity_condition_contradicted_by_a_later_bmi_does_not_count() -> None:
    old = cond(F.OBESITY, "Obesity", age=40 * 365)  # a 1980s finding, still "active"
    assert _obesity(old, lab(F.BMI, 26, age=10)) == []
    assert _obesity(old, lab(F.BMI, 26, age=2000)) == []  # any later BMI under 30 contradicts


def test_obesity_condition_not_contradicted_counts() -> None:
    recent = cond(F.OBESITY, "Obesity, class 2", age=30)
    assert _obesity(recent) == ["Obesity, class 2"]
    assert _obesity(recent, lab(F.BMI, 27, age=400)) == ["Obesity, class 2"]  # BMI older than it
    assert _obesity(recent, lab(F.BMI, 33, age=1000)) == ["Obesity, class 2"]
    assert _obesity(cond(F.OBESITY, "Obesity", active=False)) == []


def test_each_risk_factor_shows_its_newest_entry_once() -> None:
    conditions = [cond(F.OBESITY, "Obesity", age=age, ref=f"Condition/ob-{age}") for age in (900, 30, 400)]
    factors = collect_risk_factors(facts(*conditions, birth=YOUNG), CFG)
    rows = [f.evidence.reference for f in factors if f.evidence is not None]
    assert rows == ["Condition/ob-30"]


def test_symptom_charted_twice_is_one_evidence_row() -> None:
    condition = cond(F.CALF_PAIN, "Left calf pain", age=3, ref="Condition/calf", laterality="left")
    reason = cond(F.CALF_PAIN, "Left calf pain", age=None, source="encounter-reason", ref="Encounter/today")
    finding = dvt_assessment.evaluate(facts(condition, reason, cond(F.ACTIVE_CANCER, "Lung cancer"), birth=YOUNG), CFG)
    assert finding is not None
    assert [e.what for e in finding.evidence].count("Symptom") == 1
    assert finding.values["symptoms"] == "Left calf pain"


# --- dvt-assessment indicator, wording, current DVT --------------------------------------


def test_no_wells_point_is_info_one_point_is_warning() -> None:
    info = dvt_assessment.evaluate(facts(CALF_PAIN, lab(F.BMI, 34), birth=OLD), CFG)
    assert info is not None and info.indicator == "info"
    for point in (
        cond(F.ACTIVE_CANCER, "Lung cancer"),
        cond(F.IMMOBILITY, "Paraplegia"),
        cond(F.VTE_HISTORY, "Personal history of DVT", age=900),
        cond(F.LEG_SWELLING, "Swelling of lower leg", age=3),
    ):
        finding = dvt_assessment.evaluate(facts(CALF_PAIN, point, birth=YOUNG), CFG)
        assert finding is not None and finding.indicator == "warning", point.display


def test_wells_wording_keeps_the_bedside_items_open() -> None:
    pf = facts(CALF_PAIN, cond(F.ACTIVE_CANCER, "Lung cancer"), cond(F.IMMOBILITY, "Paraplegia"),
               cond(F.VTE_HISTORY, "Personal history of DVT", age=900), birth=YOUNG)
    finding = dvt_assessment.evaluate(pf, CFG)
    assert finding is not None
    detail = catalog().render(finding)["detail"]
    assert ("at least 3 points from chart data; the bedside items (including the −2 for an "
            "alternative diagnosis) are still needed") in " ".join(detail.split())
    assert "whatever the exam" not in detail and "likely" not in detail.split("**Evidence")[0]


def test_chart_score_of_four_no_longer_needs_a_d_dimer() -> None:
    pf = facts(CALF_PAIN, cond(F.ACTIVE_CANCER, "Lung cancer"), cond(F.IMMOBILITY, "Paraplegia"),
               cond(F.IMMOBILITY, "Bed-ridden"), cond(F.VTE_HISTORY, "History of DVT", age=900), birth=YOUNG)
    finding = dvt_assessment.evaluate(pf, CFG)
    assert finding is not None and finding.values["wells_points"] == "4 points"
    assert finding.suggestions == ("order-duplex",)


def test_current_dvt_is_documented_not_prior_and_gets_no_d_dimer() -> None:
    current = cond(F.DVT, "DVT of left lower leg", age=40, ref="Condition/dvt")
    finding = dvt_assessment.evaluate(facts(CALF_PAIN, current, birth=YOUNG), CFG)
    assert finding is not None
    assert finding.values["mode"] == "documented" and finding.indicator == "info"
    assert finding.suggestions == ()
    assert not any("Wells" in e.what for e in finding.evidence)
    assert "prior" not in finding.values["risk_summary"]
    detail = catalog().render(finding)["detail"]
    assert "already documented as active" in detail and "D-dimer does not help" in " ".join(detail.split())
    # the same DVT, resolved, is a prior DVT: a Wells point and the usual pathway
    resolved = replace(current, active=False)
    prior = dvt_assessment.evaluate(facts(CALF_PAIN, resolved, birth=YOUNG), CFG)
    assert prior is not None and prior.values["mode"] == "assess"
    assert prior.values["wells_points"] == "1 point" and "order-d-dimer" in prior.suggestions


# --- engine ------------------------------------------------------------------------------


def test_red_flag_and_symptom_rows_name_each_resource_once_on_the_card() -> None:
    swelling = cond(F.LEG_SWELLING, "Swelling of lower leg", age=2, laterality="left", ref="Condition/sw")
    finding = dvt_red_flags.evaluate(facts(swelling), CFG)
    assert finding is not None
    detail = catalog().render(finding)["detail"]
    assert detail.count("Condition/sw") == 1


def test_a_fact_charted_twice_is_one_row_the_newest() -> None:
    from cds_service.clinical.findings import Evidence, Finding
    from test_rules_symptoms import NOW, days_ago

    rows = (
        Evidence("Symptom", "Right calf pain", days_ago(5), "Condition/c1"),
        Evidence("Symptom", "Right calf pain", NOW, "Encounter/e1"),
        Evidence("Injury", "Closed fracture of tibia", days_ago(6), "Condition/f1"),
    )
    finding = Finding("compartment-syndrome-risk", None,
                      {"event_name": "fracture", "events": "fracture", "symptoms": "pain"}, rows)
    detail = catalog().render(finding)["detail"]
    assert detail.count("Right calf pain") == 1 and "Encounter/e1" in detail and "Condition/c1" not in detail
    assert detail.index("Right calf pain") < detail.index("Closed fracture")  # in the place of the first
