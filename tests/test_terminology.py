"""Terminology look-ups (terminology/valuesets.py) against the shipped data file."""

from __future__ import annotations

import time

import pytest

from cds_service.clinical import facts as F
from cds_service.terminology import Terminology

RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
SCT = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"


@pytest.fixture(scope="module")
def t() -> Terminology:
    return Terminology.load()


def rx(code: str) -> list[dict[str, str]]:
    return [{"system": RX, "code": code}]


def test_load_time_is_printed() -> None:
    start = time.perf_counter()
    Terminology.load()
    print(f"\nTerminology.load(): {(time.perf_counter() - start) * 1000:.1f} ms")


@pytest.mark.parametrize(("code", "classes", "path"), [
    ("617310", {F.STATIN}, "product"),  # SCD atorvastatin 20 MG Oral Tablet
    ("617318", {F.STATIN}, "product"),  # SBD atorvastatin 20 MG Oral Tablet [Lipitor]
    ("597966", {F.STATIN}, "product"),  # SCDC atorvastatin 20 MG
    ("597967", {F.STATIN}, "product"),  # amlodipine 10 / atorvastatin 20 (combination)
    ("476350", {F.STATIN}, "product"),  # ezetimibe 10 / simvastatin 40
    ("1422093", {F.STATIN}, "product"),  # atorvastatin 20 / ezetimibe 10
    ("1245437", {F.STATIN}, "product"),  # ezetimibe/simvastatin [Vytorin] SBDC
    ("83367", {F.STATIN}, "ingredient"),  # atorvastatin IN
    ("83366", {F.STATIN}, "ingredient"),  # atorvastatin calcium (salt)
    ("404773", {F.STATIN}, "ingredient"),  # amlodipine / atorvastatin MIN
    ("313988", {F.DIURETIC_LOOP}, "product"),  # furosemide 40 MG Oral Tablet
    ("313096", {F.DIURETIC_K_SPARING}, "product"),  # spironolactone 25 MG Oral Tablet
    ("9997", {F.DIURETIC_K_SPARING}, "ingredient"),  # spironolactone IN
    ("208124", {F.DIURETIC_THIAZIDE, F.DIURETIC_K_SPARING}, "product"),  # HCTZ/triamterene
    ("198314", {F.DIURETIC_THIAZIDE, F.DIURETIC_K_SPARING}, "product"),  # VSAC Diuretics
    ("562524", {F.DIURETIC_CAI}, "product"),  # acetazolamide ER capsule
    ("167", {F.DIURETIC_CAI}, "ingredient"),
    ("477560", {F.STATIN_INTERACTING, F.FIBRATE}, "product"),  # fenofibrate 145 MG: not a statin
    ("4719", {F.STATIN_INTERACTING, F.FIBRATE, F.GEMFIBROZIL}, "ingredient"),  # gemfibrozil
    ("238019", {F.HORMONAL_ESTROGEN}, "product"),  # ethinyl estradiol / levonorgestrel
    ("310197", {F.HORMONAL_ESTROGEN}, "product"),  # conjugated estrogens 0.625 MG
])
def test_medication_codes(t: Terminology, code: str, classes: set[str], path: str) -> None:
    match = t.classify_medication(rx(code))
    assert match is not None
    assert match.classes == classes
    assert match.match_path == path


@pytest.mark.parametrize("code", [
    "349556",  # ezetimibe 10 MG Oral Tablet
    "763168",  # niacin starter pack (GPCK)
    "198042",  # norethindrone 0.35 MG (progestin-only contraceptive)
    "2283230",  # bempedoic acid / ezetimibe
])
def test_non_statin_lipid_and_progestin_only_products_are_unclassified(t: Terminology, code: str) -> None:
    assert t.classify_medication(rx(code)) is None


def test_combination_keeps_ingredients(t: Terminology) -> None:
    match = t.classify_medication(rx("597967"))
    assert match is not None and match.ingredients == ("amlodipine", "atorvastatin")
    # a statin combination does not flag its own companion as an interacting drug
    assert F.STATIN_INTERACTING not in match.classes and F.AMLODIPINE not in match.classes
    # amlodipine on its own is interacting (clinical.md §1.5)
    alone = t.classify_medication(rx("17767"))
    assert alone is not None and alone.classes == {F.STATIN_INTERACTING, F.AMLODIPINE}


@pytest.mark.parametrize(("code", "classes"), [
    ("C10AA05", {F.STATIN}),
    ("c10aa01", {F.STATIN}),
    ("C10BX03", {F.STATIN}),
    ("C03CA01", {F.DIURETIC_LOOP}),
    ("S01EC01", {F.DIURETIC_CAI}),
    ("C03DA01", {F.DIURETIC_K_SPARING}),
])
def test_atc(t: Terminology, code: str, classes: set[str]) -> None:
    match = t.classify_medication([{"system": ATC, "code": code}])
    assert match is not None and match.classes == classes and match.match_path == "atc"


def test_product_code_wins_over_text(t: Terminology) -> None:
    match = t.classify_medication([{"system": RX, "code": "617310", "display": "furosemide"}])
    assert match is not None and match.match_path == "product" and match.classes == {F.STATIN}


@pytest.mark.parametrize(("text", "classes", "ingredients"), [
    ("Pravastatin Sodium 40 MG Oral Tablet", {F.STATIN}, ("pravastatin",)),
    ("LIPITOR 20mg tablet", {F.STATIN}, ("atorvastatin",)),
    ("HCTZ 25 mg", {F.DIURETIC_THIAZIDE}, ("hydrochlorothiazide",)),
    ("Spironolactone 25 MG", {F.DIURETIC_K_SPARING}, ("spironolactone",)),
    ("hydrochlorothiazide / triamterene", {F.DIURETIC_THIAZIDE, F.DIURETIC_K_SPARING},
     ("hydrochlorothiazide", "triamterene")),
    ("clarithromycin 500 mg", {F.STATIN_INTERACTING, F.CYP3A4_STRONG_INHIBITOR}, ("clarithromycin",)),
    ("Estradiol 1 MG Oral Tablet", {F.HORMONAL_ESTROGEN}, ("estradiol",)),
    ("tamoxifen 20 mg", {F.HORMONAL_ESTROGEN}, ("tamoxifen",)),
])
def test_name_fallback(t: Terminology, text: str, classes: set[str], ingredients: tuple[str, ...]) -> None:
    match = t.classify_medication([{"system": "http://hl7.org/fhir/sid/ndc", "code": "0000"}], [text])
    assert match is not None
    assert match.match_path == "text"
    assert match.classes == classes
    assert match.ingredients == ingredients


@pytest.mark.parametrize("text", [
    "losartan potassium 50 MG Oral Tablet",
    "potassium chloride 20 MEQ",
    "xatorvastatinx",  # no word boundary
    "ezetimibe 10 mg",
    "norethindrone 0.35 MG Oral Tablet",
])
def test_name_fallback_negatives(t: Terminology, text: str) -> None:
    assert t.classify_medication([], [text]) is None


@pytest.mark.parametrize(("loinc", "group"), [
    ("2823-3", F.POTASSIUM), ("6298-4", F.POTASSIUM), ("77142-8", F.POTASSIUM),
    ("19123-9", F.MAGNESIUM), ("2601-3", F.MAGNESIUM),
    ("62292-8", F.VITAMIN_D), ("1989-3", F.VITAMIN_D3), ("14635-7", F.VITAMIN_D3),
    ("2157-6", F.CK), ("48065-7", F.D_DIMER), ("48066-5", F.D_DIMER), ("3016-3", F.TSH),
    ("98979-8", F.EGFR), ("33914-3", F.EGFR), ("2160-0", F.CREATININE),
    ("14682-9", F.CREATININE), ("4548-4", F.HBA1C), ("17856-6", F.HBA1C), ("4549-2", F.HBA1C),
    ("39156-5", F.BMI),
])
def test_lab_codes(t: Terminology, loinc: str, group: str) -> None:
    assert t.lab_group(LOINC, loinc) == group


@pytest.mark.parametrize("loinc", ["2597-3", "2824-1", "1990-1", "49054-0", "2951-2"])
def test_lab_codes_not_accepted(t: Terminology, loinc: str) -> None:
    # RBC magnesium / potassium, cholecalciferol, D2 fraction, sodium
    assert t.lab_group(LOINC, loinc) is None


def test_lab_code_needs_loinc_system(t: Terminology) -> None:
    assert t.lab_group("http://example.org/local", "2823-3") is None


@pytest.mark.parametrize(("text", "group"), [
    ("D-dimer, quantitative", F.D_DIMER), ("D dimer", F.D_DIMER),
    ("Ankle-brachial index, left", F.ABI), ("ABI right", F.ABI), ("ankle brachial index", F.ABI),
])
def test_lab_text(t: Terminology, text: str, group: str) -> None:
    assert t.lab_group_by_text(text) == group


@pytest.mark.parametrize("text", ["Fabienne's panel", "dimerisation", "Cabinet"])
def test_lab_text_negatives(t: Terminology, text: str) -> None:
    assert t.lab_group_by_text(text) is None


@pytest.mark.parametrize(("system", "code", "group"), [
    (ICD, "M79.661", F.CALF_PAIN), (ICD, "M79662", F.CALF_PAIN), (ICD, "m79.606", F.CALF_PAIN),
    (SCT, "300954003", F.CALF_PAIN), (SCT, "10601006", F.CALF_PAIN),
    (ICD, "M79.10", F.MYALGIA), (ICD, "M79.18", F.MYALGIA), (ICD, "G72.0", F.MYALGIA),
    (SCT, "16462851000119106", F.MYALGIA),
    (ICD, "R25.2", F.MUSCLE_CRAMP), (ICD, "M62.831", F.MUSCLE_CRAMP),
    (SCT, "26544005", F.MUSCLE_WEAKNESS),
    (SCT, "449614009", F.LEG_SWELLING), (SCT, "449615005", F.LEG_SWELLING), (ICD, "R60.0", F.LEG_SWELLING),
    (SCT, "102599008", F.LEG_WARMTH_REDNESS), (SCT, "301423002", F.LEG_WARMTH_REDNESS),
    (SCT, "267036007", F.PE_SYMPTOM), (SCT, "29857009", F.PE_SYMPTOM), (SCT, "3424008", F.PE_SYMPTOM),
    (SCT, "271594007", F.PE_SYMPTOM), (ICD, "R06.02", F.PE_SYMPTOM), (ICD, "R55", F.PE_SYMPTOM),
    (ICD, "I82.401", F.DVT), (ICD, "I82.4Z9", F.DVT), (ICD, "I80.209", F.DVT), (ICD, "I26.99", F.DVT),
    (SCT, "128053003", F.DVT), (SCT, "59282003", F.DVT), (ICD, "O22.30", F.DVT),
    (ICD, "Z86.718", F.VTE_HISTORY), (ICD, "Z86.711", F.VTE_HISTORY),
    (ICD, "C50.911", F.ACTIVE_CANCER), (ICD, "C7A.010", F.ACTIVE_CANCER), (SCT, "363346000", F.ACTIVE_CANCER),
    (ICD, "Z33.1", F.PREGNANCY), (SCT, "77386006", F.PREGNANCY),
    (SCT, "86569001", F.POSTPARTUM), (ICD, "O90.89", F.POSTPARTUM), (ICD, "Z39.2", F.POSTPARTUM),
    (ICD, "E66.9", F.OBESITY), (ICD, "E66.813", F.OBESITY), (ICD, "Z68.30", F.OBESITY),
    (ICD, "Z68.45", F.OBESITY), (SCT, "414916001", F.OBESITY),
    (SCT, "160685001", F.IMMOBILITY), (ICD, "Z74.01", F.IMMOBILITY), (ICD, "G82.21", F.IMMOBILITY),
    (ICD, "D68.51", F.THROMBOPHILIA), (SCT, "441697004", F.THROMBOPHILIA),
    (ICD, "Z79.890", F.HORMONE_THERAPY), (ICD, "Z79.3", F.HORMONE_THERAPY),
    (ICD, "I50.9", F.HEART_FAILURE), (SCT, "84114007", F.HEART_FAILURE),
    (ICD, "E03.9", F.HYPOTHYROIDISM), (ICD, "E89.0", F.HYPOTHYROIDISM), (SCT, "40930008", F.HYPOTHYROIDISM),
    (ICD, "N18.31", F.CKD), (SCT, "433144002", F.CKD),
    (ICD, "E11.9", F.DIABETES), (SCT, "44054006", F.DIABETES),
    (ICD, "E11.42", F.DIABETIC_NEUROPATHY), (ICD, "E10.40", F.DIABETIC_NEUROPATHY),
    (SCT, "368581000119106", F.DIABETIC_NEUROPATHY),
    (ICD, "I73.9", F.PAD), (ICD, "I70.212", F.PAD), (SCT, "63491006", F.PAD),
    (ICD, "M62.82", F.RHABDOMYOLYSIS), (SCT, "240131006", F.RHABDOMYOLYSIS),
])
def test_condition_groups(t: Terminology, system: str, code: str, group: str) -> None:
    assert group in t.condition_groups(system, code)


@pytest.mark.parametrize(("system", "code", "group"), [
    (ICD, "M79.7", F.MYALGIA),  # fibromyalgia is NOT myalgia
    (ICD, "M797", F.MYALGIA),
    (ICD, "Z85.3", F.ACTIVE_CANCER),  # personal history of breast cancer
    (ICD, "Z85.9", F.ACTIVE_CANCER),
    (ICD, "D05.10", F.ACTIVE_CANCER),  # in situ, outside C00–C96
    (ICD, "E66.3", F.OBESITY),  # overweight
    (ICD, "Z68.29", F.OBESITY),
    (ICD, "M79.601", F.CALF_PAIN),  # pain in right ARM
    (ICD, "I82.811", F.DVT),  # superficial vein thrombosis
    (ICD, "N17.9", F.CKD),  # acute kidney failure
    (ICD, "E11.9", F.DIABETIC_NEUROPATHY),
    (SCT, "3006", F.ACTIVE_CANCER),  # SNOMED is never prefix-matched
    (SCT, "30095400", F.CALF_PAIN),
])
def test_condition_negatives(t: Terminology, system: str, code: str, group: str) -> None:
    assert group not in t.condition_groups(system, code)


def test_icd_other_system_uris(t: Terminology) -> None:
    assert F.DVT in t.condition_groups("urn:oid:2.16.840.1.113883.6.90", "I82.401")
    assert t.condition_groups("http://example.org/local", "I82.401") == frozenset()


@pytest.mark.parametrize(("codings", "text", "group"), [
    ([{"system": SCT, "code": "52734007"}], None, F.SURGERY),  # total hip replacement
    ([{"system": "http://www.cms.gov/Medicare/Coding/ICD10", "code": "0SR9019"}], None, F.SURGERY),
    ([], "Application of short leg cast", F.LIMB_IMMOBILISATION),
    ([{"system": SCT, "code": "0", "display": "Immobilisation of ankle"}], None, F.LIMB_IMMOBILISATION),
    ([], "Posterior splint, left leg", F.LIMB_IMMOBILISATION),
])
def test_procedure_groups(t: Terminology, codings: list[dict[str, str]], text: str | None, group: str) -> None:
    assert group in t.procedure_groups(codings, text)


def test_procedure_text_negative(t: Terminology) -> None:
    assert t.procedure_groups([], "Broadcast of results") == frozenset()


def test_sources_are_recorded(t: Terminology) -> None:
    for group, sources in {**t.condition_sources, **t.lab_sources, **t.procedure_sources}.items():
        assert sources, group
        for sid in sources:
            assert sid in t.sources, (group, sid)
    for cls, sources in t.medication_class_sources.items():
        assert all(sid in t.sources for sid in sources), cls
    vsac = t.sources["vsac:2.16.840.1.113762.1.4.1110.19:2021"]
    assert vsac["oid"] == "2.16.840.1.113762.1.4.1110.19" and vsac["version"] and vsac["expansion"]
    assert "OID 2.16.840.1.113762.1.4.1110.19" in t.cite("vsac:2.16.840.1.113762.1.4.1110.19:2021")


def test_groups_match_facts_constants(t: Terminology) -> None:
    condition_groups = {F.CALF_PAIN, F.MYALGIA, F.MUSCLE_CRAMP, F.MUSCLE_WEAKNESS, F.LEG_SWELLING,
                        F.LEG_WARMTH_REDNESS, F.PE_SYMPTOM, F.DVT, F.VTE_HISTORY, F.ACTIVE_CANCER,
                        F.PREGNANCY, F.POSTPARTUM, F.OBESITY, F.IMMOBILITY, F.THROMBOPHILIA,
                        F.HORMONE_THERAPY, F.HEART_FAILURE, F.HYPOTHYROIDISM, F.CKD, F.DIABETES,
                        F.DIABETIC_NEUROPATHY, F.PAD, F.RHABDOMYOLYSIS, F.LOWER_LEG_FRACTURE,
                        F.CRUSH_INJURY, F.CRUSH_SYNDROME, F.SCIATICA, F.TENDON_PAIN,
                        F.ORGAN_TRANSPLANT}
    assert set(t.condition_sources) == condition_groups
    assert set(t.procedure_sources) == {F.SURGERY, F.LIMB_IMMOBILISATION, F.LEG_SURGERY, F.LEG_CAST}
    assert set(t.lab_units) == {F.POTASSIUM, F.MAGNESIUM, F.VITAMIN_D, F.VITAMIN_D3, F.CK, F.D_DIMER, F.TSH,
                                F.EGFR, F.CREATININE, F.HBA1C, F.BMI, F.ABI}
    classes = {c for e in t.ingredients.values() for c in e["classes"]}
    assert classes == {F.STATIN, F.DIURETIC_THIAZIDE, F.DIURETIC_LOOP, F.DIURETIC_CAI,
                       F.DIURETIC_K_SPARING, F.HORMONAL_ESTROGEN, F.STATIN_INTERACTING,
                       F.FLUOROQUINOLONE, F.CYP3A4_STRONG_INHIBITOR, F.FIBRATE, F.GEMFIBROZIL,
                       F.CICLOSPORIN, F.DANAZOL, F.AMIODARONE, F.VERAPAMIL, F.DILTIAZEM,
                       F.AMLODIPINE, F.RANOLAZINE, F.DRONEDARONE, F.DIGOXIN,
                       F.CORTICOSTEROID_SYSTEMIC, F.VITAMIN_D2_SUPPLEMENT}


def test_observation_search_codes(t: Terminology) -> None:
    codes = t.observation_search_codes()
    assert "http://loinc.org|2823-3" in codes
    assert "http://snomed.info/sct|300954003" in codes
    assert "http://loinc.org|2597-3" not in codes


def test_generalised_muscle_weakness_opens_the_symptom_gate(t: Terminology) -> None:
    # M62.81, with or without the dot (CDC ICD-10-CM April 2026)
    assert F.MUSCLE_WEAKNESS in t.condition_groups("http://hl7.org/fhir/sid/icd-10-cm", "M62.81")
    assert F.MUSCLE_WEAKNESS in t.condition_groups("http://hl7.org/fhir/sid/icd-10-cm", "M6281")
    assert not t.condition_groups("http://hl7.org/fhir/sid/icd-10-cm", "M62.82") & {F.MUSCLE_WEAKNESS}
