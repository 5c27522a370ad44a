"""Vitamin D (issue 7): the total 25-OH vitamin D first; the D3 fraction (LOINC 1989-3)
only without a total, labelled as the D3 fraction, and never with ergocalciferol (D2)."""

from __future__ import annotations

from cds_service.catalog import Catalog
from cds_service.pipeline import DEFAULT_CARDS_DIR
from cds_service.clinical import facts as F
from cds_service.clinical.rules import statin_muscle, vitamin_d
from test_rules_symptoms import CALF_PAIN, CFG, facts, lab, med

ERGOCALCIFEROL = med("ergocalciferol 1.25 MG Oral Capsule", F.VITAMIN_D2_SUPPLEMENT,
                     ref="MedicationRequest/d2")
SIMVASTATIN = med("simvastatin 40 MG Oral Tablet", F.STATIN, ref="MedicationRequest/simva")


def test_total_is_read_first_even_when_a_d3_fraction_is_newer() -> None:
    pf = facts(CALF_PAIN, lab(F.VITAMIN_D, 25, age=30), lab(F.VITAMIN_D3, 12, age=2))
    assert vitamin_d.evaluate(pf, CFG) is None  # the total (25 ng/mL) is not deficient
    pf = facts(CALF_PAIN, lab(F.VITAMIN_D, 15, age=30), lab(F.VITAMIN_D3, 30, age=2))
    finding = vitamin_d.evaluate(pf, CFG)
    assert finding is not None and finding.values["vitamin_d_label"] == "total"
    assert finding.evidence[0].what == "25-OH vitamin D"


def test_d3_fraction_alone_is_read_and_labelled() -> None:
    finding = vitamin_d.evaluate(facts(CALF_PAIN, lab(F.VITAMIN_D3, 12)), CFG)
    assert finding is not None and finding.values["vitamin_d_label"] == "d3"
    assert finding.evidence[0].what == "25-OH vitamin D3 fraction (no total on file)"


def test_d3_fraction_is_not_read_on_ergocalciferol() -> None:
    assert vitamin_d.evaluate(facts(CALF_PAIN, ERGOCALCIFEROL, lab(F.VITAMIN_D3, 12)), CFG) is None
    recent = facts(CALF_PAIN, lab(F.VITAMIN_D3, 12))
    recent.recent_medications.append(ERGOCALCIFEROL)  # course ended recently
    assert vitamin_d.evaluate(recent, CFG) is None
    # a total still counts on ergocalciferol (it includes 25-OH D2)
    assert vitamin_d.evaluate(facts(CALF_PAIN, ERGOCALCIFEROL, lab(F.VITAMIN_D, 12)), CFG) is not None


def test_statin_card_labels_a_d3_fraction_and_skips_it_on_d2() -> None:
    finding = statin_muscle.evaluate(facts(CALF_PAIN, SIMVASTATIN, lab(F.VITAMIN_D3, 12)), CFG)
    assert finding is not None
    assert "25-OH vitamin D3 fraction (no total on file)" in [e.what for e in finding.evidence]
    on_d2 = statin_muscle.evaluate(
        facts(CALF_PAIN, SIMVASTATIN, ERGOCALCIFEROL, lab(F.VITAMIN_D3, 12)), CFG)
    assert on_d2 is not None
    assert all("vitamin D3" not in e.what for e in on_d2.evidence)


def test_card_text_names_the_d3_fraction() -> None:
    finding = vitamin_d.evaluate(facts(CALF_PAIN, lab(F.VITAMIN_D3, 12)), CFG)
    assert finding is not None
    card = Catalog.load(DEFAULT_CARDS_DIR).render(finding)  # the YAML wording, rendered
    assert card["summary"].startswith("25-OH vitamin D3 fraction 12 ng/mL")
    assert card["detail"].startswith("25-OH vitamin D3 fraction is below 20 ng/mL")


# --- from raw FHIR resources (extraction + rule) -------------------------------------------

def _chart(*resources: dict[str, object]) -> F.PatientFacts:
    from test_extract import NOW, condition, record

    from cds_service.clinical.extract import extract_facts
    from cds_service.terminology import Terminology

    pain = condition("c1", "http://snomed.info/sct", "300954003",  # pain in calf
                     recordedDate="2025-05-28")
    return extract_facts(record(pain, *resources), Terminology.load(), NOW)


def _d2_order() -> dict[str, object]:
    from test_extract import med_request

    return med_request("d2", code="0", medicationCodeableConcept={
        "text": "Ergocalciferol 1.25 MG (50000 UNT) Oral Capsule"})


def test_loinc_1989_3_read_as_d3_fraction_from_fhir() -> None:
    from test_extract import obs

    d3 = obs("v1", "1989-3", 11, unit="ng/mL")
    finding = vitamin_d.evaluate(_chart(d3), CFG)
    assert finding is not None and finding.values["vitamin_d_label"] == "d3"
    assert vitamin_d.evaluate(_chart(d3, _d2_order()), CFG) is None  # on ergocalciferol
    total = obs("v2", "62292-8", 27, unit="ng/mL", when="2025-03-01T08:00:00Z")
    assert vitamin_d.evaluate(_chart(d3, total), CFG) is None  # an older total wins
