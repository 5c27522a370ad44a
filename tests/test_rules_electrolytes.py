"""Diuretic electrolyte depletion, electrolytes-not-monitored and vitamin D rules."""

from __future__ import annotations

from cds_service.clinical import facts as F
from cds_service.clinical.engine import evaluate
from cds_service.clinical.rules import electrolyte_depletion, electrolyte_monitoring, vitamin_d
from cds_service.config import ClinicalSettings
from test_rules_symptoms import CALF_PAIN, CFG, facts, lab, med

FUROSEMIDE = med("furosemide 40 MG Oral Tablet", F.DIURETIC_LOOP, ref="MedicationRequest/furo")
SPIRO = med("spironolactone 25 MG", F.DIURETIC_K_SPARING, ref="MedicationRequest/spiro")


def test_low_potassium_on_loop_diuretic_fires_warning() -> None:
    finding = electrolyte_depletion.evaluate(facts(FUROSEMIDE, lab(F.POTASSIUM, 3.1)), CFG)
    assert finding is not None and finding.indicator is None
    assert finding.values["low_summary"] == "potassium 3.1 mmol/L"
    assert finding.suggestions == ("order-potassium", "order-magnesium")


def test_potassium_below_2_5_is_critical_even_if_flagged_normal() -> None:
    finding = electrolyte_depletion.evaluate(
        facts(FUROSEMIDE, lab(F.POTASSIUM, 2.4, interpretation="N")), CFG
    )
    assert finding is not None and finding.indicator == "critical"


def test_k_sparing_only_is_nothing() -> None:
    assert electrolyte_depletion.evaluate(facts(SPIRO, lab(F.POTASSIUM, 3.0)), CFG) is None
    assert electrolyte_monitoring.evaluate(facts(SPIRO, CALF_PAIN), CFG) is None


def test_k_sparing_co_therapy_noted() -> None:
    finding = electrolyte_depletion.evaluate(facts(FUROSEMIDE, SPIRO, lab(F.POTASSIUM, 3.2)), CFG)
    assert finding is not None and finding.values["k_sparing_status"] == "present"
    assert any(e.what == "K-sparing agent" and "spironolactone" in (e.value or "") for e in finding.evidence)


def test_old_low_potassium_outside_window_is_ignored() -> None:
    assert electrolyte_depletion.evaluate(facts(FUROSEMIDE, lab(F.POTASSIUM, 3.0, age=91)), CFG) is None


def test_reference_range_and_interpretation_take_precedence() -> None:
    # Lab range says 3.4 is normal for this lab; the flag "L" makes 3.6 low.
    assert electrolyte_depletion.evaluate(facts(FUROSEMIDE, lab(F.POTASSIUM, 3.4, ref_low=3.3)), CFG) is None
    assert electrolyte_depletion.evaluate(
        facts(FUROSEMIDE, lab(F.POTASSIUM, 3.6, interpretation="L")), CFG
    ) is not None


def test_magnesium_cut_off_is_configurable() -> None:
    pf = facts(FUROSEMIDE, lab(F.POTASSIUM, 4.0), lab(F.MAGNESIUM, 0.72))
    assert electrolyte_depletion.evaluate(pf, CFG) is None
    finding = electrolyte_depletion.evaluate(pf, ClinicalSettings(magnesium_low_mmol_l=0.75))
    assert finding is not None and finding.values["low_summary"] == "magnesium 0.72 mmol/L"


def test_not_monitored_needs_symptoms_and_suggests_only_missing() -> None:
    assert electrolyte_monitoring.evaluate(facts(FUROSEMIDE), CFG) is None
    finding = electrolyte_monitoring.evaluate(facts(FUROSEMIDE, CALF_PAIN, lab(F.POTASSIUM, 4.1)), CFG)
    assert finding is not None
    assert finding.values["missing"] == "magnesium"
    assert finding.suggestions == ("order-magnesium",)


def test_not_monitored_silent_when_both_present() -> None:
    pf = facts(FUROSEMIDE, CALF_PAIN, lab(F.POTASSIUM, 4.1), lab(F.MAGNESIUM, 0.8))
    assert electrolyte_monitoring.evaluate(pf, CFG) is None


def test_depletion_suppresses_not_monitored() -> None:
    found = [f.topic for f in evaluate(facts(FUROSEMIDE, CALF_PAIN, lab(F.POTASSIUM, 3.0)), CFG)]
    assert "diuretic-electrolyte-depletion" in found
    assert "electrolytes-not-monitored" not in found


def test_vitamin_d_comparator_value_is_deficient() -> None:
    finding = vitamin_d.evaluate(facts(CALF_PAIN, lab(F.VITAMIN_D, 10, comparator="<")), CFG)
    assert finding is not None and finding.values["vitamin_d_value"] == "<10 ng/mL"


def test_vitamin_d_needs_symptoms_or_statin() -> None:
    low = lab(F.VITAMIN_D, 15)
    assert vitamin_d.evaluate(facts(low), CFG) is None
    finding = vitamin_d.evaluate(facts(low, med("simvastatin 20 MG", F.STATIN)), CFG)
    assert finding is not None and finding.values["context"] == "statin"


def test_vitamin_d_near_misses() -> None:
    assert vitamin_d.evaluate(facts(CALF_PAIN, lab(F.VITAMIN_D, 20)), CFG) is None
    assert vitamin_d.evaluate(facts(CALF_PAIN, lab(F.VITAMIN_D, 12, age=366)), CFG) is None
    # A lab "L" flag (insufficiency at < 30) is not deficiency.
    assert vitamin_d.evaluate(facts(CALF_PAIN, lab(F.VITAMIN_D, 25, interpretation="L")), CFG) is None
