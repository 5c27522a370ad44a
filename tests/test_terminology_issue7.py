"""Issue 7 code groups: each group's members, its exclusions, and the source it records."""

from __future__ import annotations

import pytest

from cds_service.clinical import facts as F
from cds_service.terminology import Terminology

RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
SCT = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"


@pytest.fixture(scope="module")
def t() -> Terminology:
    return Terminology.load()


@pytest.mark.parametrize(("text", "group"), [
    ("ciprofloxacin 500 MG Oral Tablet", F.FLUOROQUINOLONE),
    ("levofloxacin 750 MG Oral Tablet", F.FLUOROQUINOLONE),
    ("moxifloxacin 400 MG Oral Tablet", F.FLUOROQUINOLONE),
    ("clarithromycin 500 MG Oral Tablet", F.CYP3A4_STRONG_INHIBITOR),
    ("itraconazole 100 MG Oral Capsule", F.CYP3A4_STRONG_INHIBITOR),
    ("nirmatrelvir 150 MG / ritonavir 100 MG Oral Tablet", F.CYP3A4_STRONG_INHIBITOR),
    ("gemfibrozil 600 MG Oral Tablet", F.GEMFIBROZIL),
    ("fenofibrate 145 MG Oral Tablet", F.FIBRATE),
    ("cyclosporine 100 MG Oral Capsule", F.CICLOSPORIN),
    ("ciclosporin 25 mg capsule", F.CICLOSPORIN),
    ("danazol 200 MG Oral Capsule", F.DANAZOL),
    ("amiodarone hydrochloride 200 MG Oral Tablet", F.AMIODARONE),
    ("verapamil hydrochloride 240 MG Extended Release Oral Tablet", F.VERAPAMIL),
    ("diltiazem hydrochloride 120 MG Extended Release Oral Capsule", F.DILTIAZEM),
    ("amlodipine 5 MG Oral Tablet", F.AMLODIPINE),
    ("ranolazine 500 MG Extended Release Oral Tablet", F.RANOLAZINE),
    ("digoxin 0.125 MG Oral Tablet", F.DIGOXIN),
    ("prednisone 20 MG Oral Tablet", F.CORTICOSTEROID_SYSTEMIC),
    ("methylprednisolone 4 MG Oral Tablet", F.CORTICOSTEROID_SYSTEMIC),
])
def test_medication_groups_by_name(t: Terminology, text: str, group: str) -> None:
    match = t.classify_medication([], [text])
    assert match is not None and group in match.classes


def test_gemfibrozil_and_fenofibrate_codes(t: Terminology) -> None:
    gem = t.classify_medication([{"system": RX, "code": "4719"}])  # gemfibrozil IN (ssmithm list)
    assert gem is not None and {F.GEMFIBROZIL, F.FIBRATE} <= gem.classes
    feno = t.classify_medication([{"system": RX, "code": "8703"}])  # fenofibrate IN
    assert feno is not None and F.FIBRATE in feno.classes and F.GEMFIBROZIL not in feno.classes


def test_systemic_corticosteroid_products_from_pddi_cds(t: Terminology) -> None:
    # 763181 "{21 (Prednisone 5 MG Oral Tablet) } Pack" is in PDDI-CDS valueset-prednisone
    match = t.classify_medication([{"system": RX, "code": "763181"}])
    assert match is not None and match.classes == {F.CORTICOSTEROID_SYSTEMIC}
    assert match.match_path == "product"
    assert any(s.startswith("pddi:prednisone") for s in t.medication_class_sources[F.CORTICOSTEROID_SYSTEMIC])


@pytest.mark.parametrize(("text", "gone", "kept"), [
    # exclusions: a local route is not systemic exposure
    ("ciprofloxacin 3 MG/ML Ophthalmic Solution", F.FLUOROQUINOLONE, None),
    ("ofloxacin 3 MG/ML Otic Solution", F.FLUOROQUINOLONE, None),
    ("hydrocortisone 10 MG/ML Topical Cream", F.CORTICOSTEROID_SYSTEMIC, F.CORTICOSTEROID_LOCAL),
    ("dexamethasone 1 MG/ML Ophthalmic Suspension", F.CORTICOSTEROID_SYSTEMIC, F.CORTICOSTEROID_LOCAL),
    ("ketoconazole 20 MG/ML Topical Cream", F.CYP3A4_STRONG_INHIBITOR, None),
    ("erythromycin 5 MG/GM Ophthalmic Ointment", F.CYP3A4_STRONG_INHIBITOR, None),
    ("cyclosporine 0.5 MG/ML Ophthalmic Suspension [Restasis]", F.CICLOSPORIN, None),
])
def test_local_routes_are_excluded(t: Terminology, text: str, gone: str, kept: str | None) -> None:
    match = t.classify_medication([], [text])
    classes = match.classes if match is not None else frozenset()
    assert gone not in classes
    if kept:
        assert kept in classes


def test_hydrocortisone_tablet_is_systemic(t: Terminology) -> None:
    match = t.classify_medication([], ["hydrocortisone 10 MG Oral Tablet"])
    assert match is not None and F.CORTICOSTEROID_SYSTEMIC in match.classes


def test_statin_combination_is_not_an_added_interacting_drug(t: Terminology) -> None:
    # amlodipine/atorvastatin (Caduet) is dosed as approved
    match = t.classify_medication([{"system": RX, "code": "597967"}])
    assert match is not None and F.AMLODIPINE not in match.classes and F.STATIN in match.classes


@pytest.mark.parametrize(("system", "code", "group"), [
    (ICD, "S82.201A", F.LOWER_LEG_FRACTURE),  # fracture of shaft of right tibia
    (ICD, "S82.61XA", F.LOWER_LEG_FRACTURE),  # lateral malleolus
    (SCT, "16114001", F.LOWER_LEG_FRACTURE),  # Fracture of ankle
    (ICD, "S87.81XA", F.CRUSH_INJURY),  # crushing injury of right lower leg
    (ICD, "S97.01XA", F.CRUSH_INJURY),
    (ICD, "T79.5XXA", F.CRUSH_SYNDROME),  # traumatic anuria ("Crush syndrome")
    (SCT, "23697004", F.CRUSH_SYNDROME),
    (ICD, "T79.6XXA", F.RHABDOMYOLYSIS),  # "Traumatic rhabdomyolysis" inclusion term
    (ICD, "M62.82", F.RHABDOMYOLYSIS),
    (ICD, "M54.16", F.SCIATICA),
    (ICD, "M54.31", F.SCIATICA),
    (ICD, "M51.16", F.SCIATICA),
    (SCT, "23056005", F.SCIATICA),
    (ICD, "M76.61", F.TENDON_PAIN),  # Achilles tendinitis, right leg
    (ICD, "S86.011A", F.TENDON_PAIN),  # strain of right Achilles tendon
    (ICD, "M66.361", F.TENDON_PAIN),
    (ICD, "Z94.0", F.ORGAN_TRANSPLANT),
    (ICD, "Z94.2", F.ORGAN_TRANSPLANT),
])
def test_condition_groups(t: Terminology, system: str, code: str, group: str) -> None:
    assert group in t.condition_groups(system, code)


@pytest.mark.parametrize(("code", "group"), [
    ("S82.001A", F.LOWER_LEG_FRACTURE),  # patella: not a lower-leg compartment fracture
    ("M54.5", F.SCIATICA),  # low back pain without radiculopathy
    ("M54.12", F.SCIATICA),  # cervical radiculopathy
    ("M51.369", F.SCIATICA),  # disc degeneration without leg pain
    ("Z94.4", F.ORGAN_TRANSPLANT),  # liver transplant: not named by the label
    ("S87.01XA", F.CRUSH_SYNDROME),  # a crush injury is not crush syndrome
])
def test_condition_exclusions(t: Terminology, code: str, group: str) -> None:
    assert group not in t.condition_groups(ICD, code)


@pytest.mark.parametrize(("text", "groups"), [
    ("Open reduction internal fixation of tibial shaft fracture", {F.LEG_SURGERY}),
    ("Below-knee plaster cast applied, left leg", {F.LEG_CAST, F.LIMB_IMMOBILISATION}),
    ("Short leg splint", {F.LEG_CAST, F.LIMB_IMMOBILISATION}),
])
def test_procedure_groups_by_text(t: Terminology, text: str, groups: set[str]) -> None:
    assert groups <= t.procedure_groups([], text)


def test_procedure_exclusions(t: Terminology) -> None:
    assert F.LEG_CAST not in t.procedure_groups([], "Forearm cast applied")
    assert F.LEG_SURGERY not in t.procedure_groups([], "X-ray of knee")


def test_knee_replacement_codes_are_leg_surgery(t: Terminology) -> None:
    # ICD-10-PCS 0SRC0J9 (replacement of right knee joint) is in VSAC Knee Replacement Surgery
    groups = t.procedure_groups([{"system": "http://www.cms.gov/Medicare/Coding/ICD10", "code": "0SRC0J9"}])
    assert F.LEG_SURGERY in groups


def test_every_new_group_records_its_source(t: Terminology) -> None:
    for group in (F.LOWER_LEG_FRACTURE, F.CRUSH_INJURY, F.SCIATICA, F.TENDON_PAIN, F.ORGAN_TRANSPLANT):
        assert t.condition_sources[group]
        for sid in t.condition_sources[group]:
            assert sid in t.sources or sid in ("clinical.md", "brief")
    for group in (F.LEG_SURGERY, F.LEG_CAST):
        assert t.procedure_sources[group]
    for group in (F.FLUOROQUINOLONE, F.CYP3A4_STRONG_INHIBITOR, F.FIBRATE, F.GEMFIBROZIL, F.CICLOSPORIN,
                  F.DANAZOL, F.AMIODARONE, F.VERAPAMIL, F.DILTIAZEM, F.AMLODIPINE, F.RANOLAZINE,
                  F.DIGOXIN, F.CORTICOSTEROID_SYSTEMIC):
        sources = t.medication_class_sources[group]
        assert sources, group
        assert any(t.sources.get(s, {}).get("oid") or s.startswith(("label:", "fda:", "pddi:"))
                   or s in ("calf_pain_drug_codes",) for s in sources), group
