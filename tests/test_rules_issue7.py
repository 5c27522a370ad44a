"""Issue 7 safety rules over PatientFacts: statin label interactions (every pair pinned with
its label citation), electrolyte deficiency, compartment syndrome, fluoroquinolone tendon
risk, sciatica, and coded rhabdomyolysis."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from cds_service.clinical import facts as F
from cds_service.clinical.engine import evaluate
from cds_service.clinical.facts import MedicationFact
from cds_service.clinical.rules import (
    compartment_syndrome,
    electrolyte_deficiency,
    electrolyte_depletion,
    fluoroquinolone_tendon,
    rhabdomyolysis,
    sciatica,
    statin_drug_interaction,
    statin_muscle,
)
from cds_service.clinical.rules.statin_labels import CONTRAINDICATIONS, DOSE_LIMITS, statin_mg
from test_rules_symptoms import CALF_PAIN, CFG, cond, days_ago, facts, lab, proc

# One representative drug per medication group (display, ingredient)
GROUP_DRUG = {
    F.CYP3A4_STRONG_INHIBITOR: ("clarithromycin 500 MG Oral Tablet", "clarithromycin"),
    F.CICLOSPORIN: ("cyclosporine 100 MG Oral Capsule", "cyclosporine"),
    F.DANAZOL: ("danazol 200 MG Oral Capsule", "danazol"),
    F.GEMFIBROZIL: ("gemfibrozil 600 MG Oral Tablet", "gemfibrozil"),
    F.AMIODARONE: ("amiodarone hydrochloride 200 MG Oral Tablet", "amiodarone"),
    F.AMLODIPINE: ("amlodipine 5 MG Oral Tablet", "amlodipine"),
    F.DILTIAZEM: ("diltiazem hydrochloride 120 MG Oral Capsule", "diltiazem"),
    F.DRONEDARONE: ("dronedarone 400 MG Oral Tablet", "dronedarone"),
    F.RANOLAZINE: ("ranolazine 500 MG Oral Tablet", "ranolazine"),
    F.VERAPAMIL: ("verapamil hydrochloride 80 MG Oral Tablet", "verapamil"),
}


def drug(display: str, ingredient: str, *classes: str, ref: str | None = None,
         started_days: float = 400, ended_days: float | None = None) -> MedicationFact:
    return MedicationFact(display, frozenset(classes), "product", (ingredient,), None,
                          days_ago(started_days), ref or f"MedicationRequest/{ingredient}",
                          None if ended_days is None else days_ago(ended_days))


def statin(name: str, mg: int, started_days: float = 400) -> MedicationFact:
    return drug(f"{name} {mg} MG Oral Tablet", name, F.STATIN, started_days=started_days)


def other(group: str) -> MedicationFact:
    display, ingredient = GROUP_DRUG[group]
    return drug(display, ingredient, group, F.STATIN_INTERACTING)


def topics(pf: F.PatientFacts) -> list[str]:
    return [f.topic for f in evaluate(pf, CFG)]


# --- statin-drug-interaction --------------------------------------------------------------

@pytest.mark.parametrize("pair", CONTRAINDICATIONS, ids=lambda p: f"{p.statin}+{p.group}")
def test_each_label_contraindication_fires_with_its_citation(pair) -> None:
    finding = statin_drug_interaction.evaluate(facts(statin(pair.statin, 20), other(pair.group)), CFG)
    assert finding is not None
    text = finding.values["interactions"]
    assert f"{pair.label} {pair.section}" in text
    assert ("contraindicated" if pair.level == "contraindicated" else "to be avoided") in text
    refs = {e.reference for e in finding.evidence}
    assert f"MedicationRequest/{GROUP_DRUG[pair.group][1]}" in refs


def test_label_citations_name_the_sections() -> None:
    assert {(p.statin, p.group, p.section) for p in CONTRAINDICATIONS} >= {
        ("simvastatin", F.CYP3A4_STRONG_INHIBITOR, "§4 Contraindications, §7.1"),
        ("simvastatin", F.GEMFIBROZIL, "§4 Contraindications, §7.2"),
        ("lovastatin", F.CYP3A4_STRONG_INHIBITOR, "Contraindications"),
    }
    limits = {(d.statin, d.group): d.max_mg_per_day for d in DOSE_LIMITS}
    assert limits[("simvastatin", F.AMLODIPINE)] == 20 and limits[("simvastatin", F.VERAPAMIL)] == 10
    assert limits[("simvastatin", F.AMIODARONE)] == 20 and limits[("simvastatin", F.RANOLAZINE)] == 20
    assert limits[("simvastatin", F.DILTIAZEM)] == 10
    assert limits[("lovastatin", F.AMIODARONE)] == 40 and limits[("lovastatin", F.DANAZOL)] == 20


@pytest.mark.parametrize(("statin_name", "group"), [
    ("atorvastatin", F.CYP3A4_STRONG_INHIBITOR),  # atorvastatin label: dose limits, no contraindication
    ("rosuvastatin", F.GEMFIBROZIL),
    ("pravastatin", F.CICLOSPORIN),
    ("simvastatin", F.AMLODIPINE),  # a dose limit, not a contraindication
    ("lovastatin", F.DANAZOL),  # a dose limit for lovastatin
])
def test_combinations_the_labels_do_not_contraindicate_stay_silent(statin_name: str, group: str) -> None:
    assert statin_drug_interaction.evaluate(facts(statin(statin_name, 40), other(group)), CFG) is None


def test_simvastatin_80_started_recently_fires_without_symptoms() -> None:
    finding = statin_drug_interaction.evaluate(facts(statin("simvastatin", 80, started_days=90)), CFG)
    assert finding is not None and finding.values["kind"] == "dose"
    assert "§2.2 Restricted Dosing for 80 mg" in finding.values["interactions"]
    # near-misses: 80 mg for over 12 months; 40 mg started recently
    assert statin_drug_interaction.evaluate(facts(statin("simvastatin", 80, started_days=400)), CFG) is None
    assert statin_drug_interaction.evaluate(facts(statin("simvastatin", 40, started_days=30)), CFG) is None


def test_statin_strength_is_read_beside_the_statin_name() -> None:
    combo = drug("ezetimibe 10 MG / simvastatin 80 MG Oral Tablet", "simvastatin", F.STATIN)
    assert statin_mg(combo, "simvastatin") == 80
    assert statin_mg(drug("simvastatin", "simvastatin", F.STATIN), "simvastatin") is None


def test_stopped_interacting_drug_does_not_fire() -> None:
    pf = facts(statin("simvastatin", 20))
    pf.recent_medications.append(replace(other(F.CYP3A4_STRONG_INHIBITOR), ended=days_ago(3)))
    assert statin_drug_interaction.evaluate(pf, CFG) is None


# --- dose limits on statin-muscle-symptoms --------------------------------------------------

@pytest.mark.parametrize("limit", DOSE_LIMITS, ids=lambda d: f"{d.statin}+{d.group}")
def test_dose_above_the_label_limit_is_named_on_the_statin_card(limit) -> None:
    above = facts(statin(limit.statin, limit.max_mg_per_day * 2), other(limit.group), CALF_PAIN)
    finding = statin_muscle.evaluate(above, CFG)
    assert finding is not None
    text = finding.values["risk_factors"]
    assert f"above the label's limit of {limit.max_mg_per_day} mg/day" in text
    assert f"{limit.label} {limit.section}" in text
    # at the limit: not named as above it (only as a possible interacting drug)
    within = facts(statin(limit.statin, limit.max_mg_per_day), other(limit.group), CALF_PAIN)
    within_text = statin_muscle.evaluate(within, CFG).values["risk_factors"]  # type: ignore[union-attr]
    assert "above the label's limit" not in within_text


def test_dose_limit_alone_does_not_fire_any_card() -> None:
    assert topics(facts(statin("simvastatin", 40), other(F.AMLODIPINE))) == []


# --- electrolyte-deficiency ---------------------------------------------------------------

def test_low_potassium_without_diuretic_with_symptoms_fires_warning() -> None:
    finding = electrolyte_deficiency.evaluate(facts(lab(F.POTASSIUM, 3.1), CALF_PAIN), CFG)
    assert finding is not None and finding.indicator is None
    assert finding.values["low_summary"] == "potassium 3.1 mmol/L"
    assert finding.suggestions == ("order-magnesium",)


def test_low_potassium_without_symptoms_is_silent_unless_critical() -> None:
    assert electrolyte_deficiency.evaluate(facts(lab(F.POTASSIUM, 3.1)), CFG) is None
    critical = electrolyte_deficiency.evaluate(facts(lab(F.POTASSIUM, 2.4)), CFG)
    assert critical is not None and critical.indicator == "critical"
    mg = electrolyte_deficiency.evaluate(facts(lab(F.MAGNESIUM, 0.45)), CFG)
    assert mg is not None and mg.indicator == "critical"
    assert electrolyte_deficiency.evaluate(facts(lab(F.MAGNESIUM, 0.55)), CFG) is None


def test_k_wasting_diuretic_leaves_it_to_the_diuretic_card() -> None:
    loop = drug("furosemide 40 MG Oral Tablet", "furosemide", F.DIURETIC_LOOP)
    pf = facts(lab(F.POTASSIUM, 2.4), CALF_PAIN, loop)
    assert electrolyte_deficiency.evaluate(pf, CFG) is None
    assert "diuretic-electrolyte-depletion" in topics(pf)


def test_old_potassium_outside_the_window_is_ignored() -> None:
    assert electrolyte_deficiency.evaluate(facts(lab(F.POTASSIUM, 2.4, age=91)), CFG) is None


def test_digoxin_raises_both_electrolyte_cards_to_critical() -> None:
    dig = drug("digoxin 0.125 MG Oral Tablet", "digoxin", F.DIGOXIN)
    finding = electrolyte_deficiency.evaluate(facts(lab(F.POTASSIUM, 3.2), CALF_PAIN, dig), CFG)
    assert finding is not None and finding.indicator == "critical"
    assert finding.values["digoxin_status"] == "present"
    loop = drug("furosemide 40 MG Oral Tablet", "furosemide", F.DIURETIC_LOOP)
    dep = electrolyte_depletion.evaluate(facts(lab(F.POTASSIUM, 3.2), loop, dig), CFG)
    assert dep is not None and dep.indicator == "critical" and dep.values["digoxin_status"] == "present"
    no_dig = electrolyte_depletion.evaluate(facts(lab(F.POTASSIUM, 3.2), loop), CFG)
    assert no_dig is not None and no_dig.indicator is None


# --- compartment-syndrome-risk --------------------------------------------------------------

def test_fracture_with_pain_since_fires_critical() -> None:
    fracture = cond(F.LOWER_LEG_FRACTURE, "Fracture of shaft of tibia", age=3)
    pain = cond(F.CALF_PAIN, "Pain in lower leg", age=1)
    finding = compartment_syndrome.evaluate(facts(fracture, pain), CFG)
    assert finding is not None
    assert "compartment-syndrome-risk" in topics(facts(fracture, pain))
    assert finding.values["event_name"] == "Fracture of shaft of tibia"


@pytest.mark.parametrize("event", [
    proc(F.LEG_SURGERY, "Open reduction internal fixation of tibia", 2),
    proc(F.LEG_CAST, "Below-knee cast", 2),
    cond(F.CRUSH_INJURY, "Crushing injury of lower leg", age=2),
])
def test_crush_surgery_or_cast_with_swelling_fires(event) -> None:
    assert compartment_syndrome.evaluate(facts(event, cond(F.LEG_SWELLING, age=1)), CFG) is not None


def test_compartment_near_misses() -> None:
    old_fracture = cond(F.LOWER_LEG_FRACTURE, age=8)
    assert compartment_syndrome.evaluate(facts(old_fracture, cond(F.CALF_PAIN, age=1)), CFG) is None
    fracture = cond(F.LOWER_LEG_FRACTURE, age=3)
    pain_before = cond(F.CALF_PAIN, age=5)  # pain recorded before the fracture, not since
    assert compartment_syndrome.evaluate(facts(fracture, pain_before), CFG) is None
    assert compartment_syndrome.evaluate(facts(fracture), CFG) is None


# --- fluoroquinolone-tendon-risk --------------------------------------------------------------

LEVO = drug("levofloxacin 750 MG Oral Tablet", "levofloxacin", F.FLUOROQUINOLONE)
ACHILLES = cond(F.TENDON_PAIN, "Achilles tendinitis, right leg", age=2)


def test_current_fluoroquinolone_with_achilles_pain_fires_and_names_label_risks() -> None:
    steroid = drug("prednisone 20 MG Oral Tablet", "prednisone", F.CORTICOSTEROID_SYSTEMIC)
    transplant = cond(F.ORGAN_TRANSPLANT, "Kidney transplant status", age=900)
    pf = facts(LEVO, ACHILLES, steroid, transplant, birth=date(1950, 1, 1))
    finding = fluoroquinolone_tendon.evaluate(pf, CFG)
    assert finding is not None and finding.values["status"] == "current"
    risks = finding.values["risks"]
    assert "age 76 (over 60)" in risks and "systemic corticosteroid" in risks and "organ transplant" in risks
    # named here, shown once in the evidence table
    shown = [e.value or "" for e in finding.evidence]
    assert any("prednisone" in v for v in shown) and any("Kidney transplant" in v for v in shown)
    assert "prednisone" not in risks


def test_fluoroquinolone_ended_within_30_days_still_fires() -> None:
    pf = facts(CALF_PAIN, birth=date(1990, 1, 1))
    pf.recent_medications.append(replace(LEVO, ended=days_ago(20)))
    finding = fluoroquinolone_tendon.evaluate(pf, CFG)
    assert finding is not None and finding.values["status"] == "ended"
    assert finding.values["risks"] == "none of them found in the chart"


def test_fluoroquinolone_near_misses() -> None:
    pf = facts(ACHILLES)
    pf.recent_medications.append(replace(LEVO, ended=days_ago(31)))
    assert fluoroquinolone_tendon.evaluate(pf, CFG) is None
    assert fluoroquinolone_tendon.evaluate(facts(LEVO), CFG) is None  # no tendon/calf pain
    assert fluoroquinolone_tendon.evaluate(facts(LEVO, cond(F.MYALGIA)), CFG) is None


# --- sciatica-referred-pain -------------------------------------------------------------------

def test_sciatica_with_calf_pain_is_info() -> None:
    pf = facts(cond(F.SCIATICA, "Sciatica, left side", age=400), CALF_PAIN)
    finding = sciatica.evaluate(pf, CFG)
    assert finding is not None
    assert "sciatica-referred-pain" in topics(pf)


def test_sciatica_near_misses() -> None:
    assert sciatica.evaluate(facts(cond(F.SCIATICA, age=400)), CFG) is None
    assert sciatica.evaluate(facts(cond(F.SCIATICA, age=400, active=False), CALF_PAIN), CFG) is None


# --- coded rhabdomyolysis ---------------------------------------------------------------------

@pytest.mark.parametrize("group", [F.RHABDOMYOLYSIS, F.CRUSH_SYNDROME])
def test_coded_rhabdomyolysis_or_crush_syndrome_fires_without_a_ck(group: str) -> None:
    finding = rhabdomyolysis.evaluate(facts(cond(group, "Rhabdomyolysis", age=3)), CFG)
    assert finding is not None and finding.values["headline"] == "coded"
    assert finding.suggestions[0] == "order-ck"


def test_coded_rhabdomyolysis_older_than_14_days_is_silent() -> None:
    assert rhabdomyolysis.evaluate(facts(cond(F.RHABDOMYOLYSIS, age=15)), CFG) is None
    assert rhabdomyolysis.evaluate(facts(cond(F.CRUSH_INJURY, age=2)), CFG) is None  # injury alone


def issue7_charts() -> list[F.PatientFacts]:
    """Charts that, between them, fire every issue-7 topic (used by the catalogue test)."""
    simva = statin("simvastatin", 40)
    return [
        facts(simva, other(F.CYP3A4_STRONG_INHIBITOR), lab(F.MAGNESIUM, 0.4),
              drug("digoxin 0.125 MG Oral Tablet", "digoxin", F.DIGOXIN), CALF_PAIN),
        facts(cond(F.LOWER_LEG_FRACTURE, "Fracture of tibia", age=3), cond(F.CALF_PAIN, age=1),
              cond(F.SCIATICA, "Sciatica", age=300), LEVO, ACHILLES),
        facts(cond(F.RHABDOMYOLYSIS, "Rhabdomyolysis", age=2)),
    ]
