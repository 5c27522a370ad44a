"""The engine (ordering, one card per topic, suppression) and the PAD / neuropathy rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from cds_service.clinical import facts as F
from cds_service.clinical.engine import RULES, TOPICS, effective_indicator, evaluate
from cds_service.clinical.findings import INDICATOR_RANK
from cds_service.clinical.rules import diabetic_neuropathy, peripheral_artery_disease
from test_rules_symptoms import CALF_PAIN, CFG, cond, facts, lab, med


def test_no_symptoms_normal_labs_nothing() -> None:
    pf = facts(
        med("atorvastatin 20 MG", F.STATIN), med("hydrochlorothiazide 25 MG", F.DIURETIC_THIAZIDE),
        lab(F.POTASSIUM, 4.0), lab(F.MAGNESIUM, 0.85), lab(F.CK, 120), lab(F.VITAMIN_D, 32),
    )
    assert evaluate(pf, CFG) == []


def test_pad_by_condition_or_abi() -> None:
    by_condition = peripheral_artery_disease.evaluate(facts(CALF_PAIN, cond(F.PAD, age=900)), CFG)
    assert by_condition is not None and by_condition.values["basis"] == "condition"
    by_abi = peripheral_artery_disease.evaluate(facts(CALF_PAIN, lab(F.ABI, 0.9, age=400)), CFG)
    assert by_abi is not None and by_abi.values["basis"] == "abi"
    assert peripheral_artery_disease.evaluate(facts(CALF_PAIN, lab(F.ABI, 0.95)), CFG) is None
    assert peripheral_artery_disease.evaluate(facts(cond(F.PAD)), CFG) is None


def test_diabetic_neuropathy_shows_hba1c_or_suggests_it() -> None:
    neuro = cond(F.DIABETIC_NEUROPATHY, "Diabetic polyneuropathy", age=700)
    with_a1c = diabetic_neuropathy.evaluate(facts(CALF_PAIN, neuro, lab(F.HBA1C, 8.1, age=60)), CFG)
    assert with_a1c is not None and with_a1c.values["hba1c_status"] == "present"
    assert any(e.value == "8.1 %" for e in with_a1c.evidence)
    assert with_a1c.suggestions == ()
    without = diabetic_neuropathy.evaluate(facts(CALF_PAIN, neuro), CFG)
    assert without is not None and without.suggestions == ("order-hba1c",)
    assert diabetic_neuropathy.evaluate(facts(neuro), CFG) is None


def everything() -> F.PatientFacts:
    return facts(
        med("atorvastatin 40 MG", F.STATIN), med("furosemide 40 MG", F.DIURETIC_LOOP),
        CALF_PAIN, cond(F.LEG_SWELLING, age=1, laterality="right"),
        cond(F.PAD), cond(F.DIABETIC_NEUROPATHY), cond(F.ACTIVE_CANCER),
        lab(F.POTASSIUM, 2.3), lab(F.CK, 600), lab(F.VITAMIN_D, 12),
        birth=date(1950, 5, 5),
    )


def test_ordering_critical_warning_info_and_one_per_topic() -> None:
    findings = evaluate(everything(), CFG)
    ranks = [INDICATOR_RANK[effective_indicator(f)] for f in findings]
    assert ranks == sorted(ranks)
    assert len({f.topic for f in findings}) == len(findings)
    assert [f.topic for f in findings] == [
        "dvt-red-flags", "diuretic-electrolyte-depletion",  # critical (K < 2.5 escalates)
        "statin-muscle-symptoms", "dvt-assessment",  # warning
        "vitamin-d-deficiency", "peripheral-artery-disease", "diabetic-neuropathy",  # info
    ]


def test_deceased_patient_gets_nothing() -> None:
    assert evaluate(replace(everything(), deceased=True), CFG) == []


def test_registry_topics_unique() -> None:
    assert len(TOPICS) == len(set(TOPICS)) == len(RULES) == 14
