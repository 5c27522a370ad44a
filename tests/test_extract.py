"""Extraction of raw FHIR R4 JSON into PatientFacts (clinical/extract/)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime
from typing import Any

import pytest

from cds_service.clinical import facts as F
from cds_service.clinical.extract import extract_facts, parse_datetime
from cds_service.record import PatientRecord
from cds_service.terminology import Terminology

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
PAT = {"reference": "Patient/p1"}


@pytest.fixture(scope="module")
def t() -> Terminology:
    return Terminology.load()


def record(*resources: dict[str, Any], encounter_id: str | None = None) -> PatientRecord:
    rec = PatientRecord(patient_id="p1", encounter_id=encounter_id)
    rec.add({"resourceType": "Patient", "id": "p1", "birthDate": "1950-07-15", "gender": "female"})
    rec.extend(resources)
    return rec


def med_request(rid: str, code: str = "617310", **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "MedicationRequest", "id": rid, "status": "active", "intent": "order",
        "subject": PAT, "authoredOn": "2025-01-10",
        "medicationCodeableConcept": {"coding": [{"system": RX, "code": code,
                                                  "display": "atorvastatin 20 MG Oral Tablet"}]},
        "dosageInstruction": [{"text": "20 mg once daily"}],
    }
    res.update(extra)
    return res


def med_statement(rid: str, status: str = "active", **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "MedicationStatement", "id": rid, "status": status, "subject": PAT,
        "medicationCodeableConcept": {"coding": [{"system": RX, "code": "313988"}],
                                      "text": "furosemide 40 MG Oral Tablet"},
        "dosage": [{"text": "40 mg each morning"}],
    }
    res.update(extra)
    return res


def obs(rid: str, loinc: str, value: Any = None, unit: str | None = "mmol/L",
        when: str = "2025-05-20T08:00:00Z", status: str = "final", **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Observation", "id": rid, "status": status, "subject": PAT,
        "code": {"coding": [{"system": LOINC, "code": loinc}]}, "effectiveDateTime": when,
    }
    if value is not None:
        q: dict[str, Any] = {"value": value}
        if unit is not None:
            q.update({"unit": unit, "system": "http://unitsofmeasure.org", "code": unit})
        res["valueQuantity"] = q
    res.update(extra)
    return res


def condition(rid: str, system: str, code: str, clinical: str | None = "active",
              verification: str | None = None, **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Condition", "id": rid, "subject": PAT,
                           "code": {"coding": [{"system": system, "code": code}]},
                           "recordedDate": "2025-05-01"}
    if clinical:
        res["clinicalStatus"] = {"coding": [{"code": clinical}]}
    if verification:
        res["verificationStatus"] = {"coding": [{"code": verification}]}
    res.update(extra)
    return res


# --- patient -------------------------------------------------------------------------------

def test_patient_demographics(t: Terminology) -> None:
    facts = extract_facts(record(), t, NOW)
    assert facts.birth_date == date(1950, 7, 15)
    assert facts.sex == "female"
    assert facts.age_years == 74
    assert facts.deceased is False


@pytest.mark.parametrize(("field", "value", "deceased"), [
    ("deceasedBoolean", True, True),
    ("deceasedDateTime", "2025-05-01", True),
    ("deceasedDateTime", "2025-12-01", False),  # after the evaluation time (replay)
])
def test_deceased_has_no_current_medications(t: Terminology, field: str, value: Any, deceased: bool) -> None:
    rec = PatientRecord(patient_id="p1")
    rec.add({"resourceType": "Patient", "id": "p1", field: value})
    rec.add(med_request("m1"))
    facts = extract_facts(rec, t, NOW)
    assert facts.deceased is deceased
    assert len(facts.medications) == (0 if deceased else 1)


# --- medications ---------------------------------------------------------------------------

def test_active_order_is_read(t: Terminology) -> None:
    facts = extract_facts(record(med_request("m1")), t, NOW)
    [m] = facts.medications
    assert m.classes == {F.STATIN}
    assert m.match_path == "product"
    assert m.ingredients == ("atorvastatin",)
    assert m.dose_text == "20 mg once daily"
    assert m.display == "atorvastatin 20 MG Oral Tablet"
    assert m.started == datetime(2025, 1, 10, tzinfo=UTC)
    assert m.resource_ref == "MedicationRequest/m1"


@pytest.mark.parametrize("extra", [
    {"status": "stopped"},
    {"status": "completed"},
    {"status": "draft"},
    {"intent": "proposal"},
    {"doNotPerform": True},
    {"dispenseRequest": {"validityPeriod": {"start": "2024-01-01", "end": "2025-03-01"}}},
    {"authoredOn": "2025-07-01"},  # ordered after now (replay)
])
def test_medication_request_not_current(t: Terminology, extra: dict[str, Any]) -> None:
    assert extract_facts(record(med_request("m1", **extra)), t, NOW).medications == []


@pytest.mark.parametrize("intent", ["order", "original-order", "reflex-order", "filler-order",
                                    "instance-order", "plan"])
def test_order_type_intents(t: Terminology, intent: str) -> None:
    assert len(extract_facts(record(med_request("m1", intent=intent)), t, NOW).medications) == 1


def test_future_validity_end_is_current(t: Terminology) -> None:
    res = med_request("m1", dispenseRequest={"validityPeriod": {"end": "2025-12-31"}})
    assert len(extract_facts(record(res), t, NOW).medications) == 1


@pytest.mark.parametrize(("status", "period", "count"), [
    ("active", None, 1),
    ("intended", None, 1),
    ("stopped", None, 0),
    ("completed", None, 0),
    ("not-taken", None, 0),
    ("entered-in-error", None, 0),
    ("active", {"start": "2024-01-01", "end": "2025-02-01"}, 0),  # ended in the past
    ("active", {"start": "2024-01-01", "end": "2025-09-01"}, 1),
])
def test_medication_statement(t: Terminology, status: str, period: dict[str, str] | None, count: int) -> None:
    extra = {"effectivePeriod": period} if period else {}
    facts = extract_facts(record(med_statement("s1", status, **extra)), t, NOW)
    assert len(facts.medications) == count
    if count:
        [m] = facts.medications
        assert m.classes == {F.DIURETIC_LOOP} and m.dose_text == "40 mg each morning"


def test_contained_medication(t: Terminology) -> None:
    res = med_request("m1")
    del res["medicationCodeableConcept"]
    res["contained"] = [{"resourceType": "Medication", "id": "med1",
                         "code": {"coding": [{"system": RX, "code": "208124"}],
                                  "text": "Dyazide 37.5/25"}}]
    res["medicationReference"] = {"reference": "#med1"}
    [m] = extract_facts(record(res), t, NOW).medications
    assert m.classes == {F.DIURETIC_THIAZIDE, F.DIURETIC_K_SPARING}
    assert m.display == "Dyazide 37.5/25"


def test_bundled_medication_reference(t: Terminology) -> None:
    res = med_request("m1")
    del res["medicationCodeableConcept"]
    res["medicationReference"] = {"reference": "Medication/med9"}
    med = {"resourceType": "Medication", "id": "med9",
           "code": {"coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "00000-0000"}],
                    "text": "Simvastatin 40mg tab"}}
    [m] = extract_facts(record(res, med), t, NOW).medications
    assert m.classes == {F.STATIN} and m.match_path == "text"


def test_unresolvable_reference_uses_display(t: Terminology) -> None:
    res = med_request("m1")
    del res["medicationCodeableConcept"]
    res["medicationReference"] = {"reference": "Medication/missing", "display": "Spironolactone 25 mg"}
    [m] = extract_facts(record(res), t, NOW).medications
    assert m.classes == {F.DIURETIC_K_SPARING} and m.match_path == "text"
    assert m.display == "Spironolactone 25 mg"


def test_unclassified_medication_is_not_a_fact(t: Terminology) -> None:
    res = med_request("m1", medicationCodeableConcept={"text": "losartan potassium 50 MG"})
    assert extract_facts(record(res), t, NOW).medications == []


def test_dose_from_dose_and_rate(t: Terminology) -> None:
    res = med_request("m1", dosageInstruction=[{"doseAndRate": [{"doseQuantity": {"value": 40, "unit": "mg"}}]}])
    [m] = extract_facts(record(res), t, NOW).medications
    assert m.dose_text == "40 mg"


# --- labs ----------------------------------------------------------------------------------

def test_potassium_codes_newest_first(t: Terminology) -> None:
    facts = extract_facts(record(
        obs("k1", "2823-3", 3.9, when="2025-04-01T08:00:00Z"),
        obs("k2", "6298-4", 3.2, unit="meq/L", when="2025-05-20T08:00:00Z"),
        obs("k3", "2823-3", 3.5, when="2025-05-01T08:00:00Z"),
    ), t, NOW)
    results = facts.labs[F.POTASSIUM]
    # Only the newest usable result of a group is kept (and validated): rules read latest().
    assert [r.resource_ref for r in results] == ["Observation/k2"]
    assert results[0].value == 3.2 and results[0].unit == "mmol/L" and results[0].code == "6298-4"
    assert results[0].reported == "3.2 meq/L"
    latest = facts.latest(F.POTASSIUM)
    assert latest is not None and latest.resource_ref == "Observation/k2"


@pytest.mark.parametrize("status", ["cancelled", "entered-in-error", "registered", "unknown"])
def test_lab_status_skipped(t: Terminology, status: str) -> None:
    facts = extract_facts(record(obs("k1", "2823-3", 3.0, status=status)), t, NOW)
    assert F.POTASSIUM not in facts.labs


@pytest.mark.parametrize("status", ["final", "amended", "corrected", "preliminary"])
def test_lab_status_accepted(t: Terminology, status: str) -> None:
    facts = extract_facts(record(obs("k1", "2823-3", 3.0, status=status)), t, NOW)
    assert len(facts.labs[F.POTASSIUM]) == 1


def test_value_string_ignored(t: Terminology) -> None:
    res = obs("k1", "2823-3", valueString="see comment")
    assert F.POTASSIUM not in extract_facts(record(res), t, NOW).labs


def test_comparator_kept(t: Terminology) -> None:
    res = obs("d1", "62292-8", 5, unit="ng/mL")
    res["valueQuantity"]["comparator"] = "<"
    [r] = extract_facts(record(res), t, NOW).labs[F.VITAMIN_D]
    assert r.comparator == "<" and r.value == 5.0 and r.reported == "<5 ng/mL"


def test_magnesium_mg_dl_and_rbc_rejected(t: Terminology) -> None:
    facts = extract_facts(record(
        obs("mg1", "19123-9", 1.5, unit="mg/dL",
            referenceRange=[{"low": {"value": 1.7, "unit": "mg/dL"}, "high": {"value": 2.2, "unit": "mg/dL"}}]),
        obs("mg2", "2597-3", 1.0, unit="mmol/L", when="2025-05-30T08:00:00Z"),
    ), t, NOW)
    [r] = facts.labs[F.MAGNESIUM]
    assert r.resource_ref == "Observation/mg1"
    assert r.value == pytest.approx(1.5 * 0.4114)
    assert r.ref_low == pytest.approx(1.7 * 0.4114) and r.ref_high == pytest.approx(2.2 * 0.4114)


def test_vitamin_d_nmol(t: Terminology) -> None:
    [r] = extract_facts(record(obs("v1", "14635-7", 37.44, unit="nmol/L")), t, NOW).labs[F.VITAMIN_D3]
    assert r.value == pytest.approx(15.0) and r.unit == "ng/mL"


def test_future_result_ignored(t: Terminology) -> None:
    facts = extract_facts(record(obs("k1", "2823-3", 3.0, when="2025-06-02T08:00:00Z")), t, NOW)
    assert F.POTASSIUM not in facts.labs


@pytest.mark.parametrize(("dates", "expected"), [
    ({"effectivePeriod": {"start": "2025-05-02T10:00:00Z"}}, datetime(2025, 5, 2, 10, tzinfo=UTC)),
    ({"effectiveInstant": "2025-05-03T10:00:00Z"}, datetime(2025, 5, 3, 10, tzinfo=UTC)),
    ({"issued": "2025-05-04T10:00:00+02:00"}, datetime(2025, 5, 4, 8, tzinfo=UTC)),
])
def test_lab_dates(t: Terminology, dates: dict[str, Any], expected: datetime) -> None:
    res = obs("k1", "2823-3", 3.0)
    del res["effectiveDateTime"]
    res.update(dates)
    [r] = extract_facts(record(res), t, NOW).labs[F.POTASSIUM]
    assert r.effective == expected


def test_unknown_unit_ignored_and_counted(t: Terminology) -> None:
    facts = extract_facts(record(obs("k1", "2823-3", 3.0, unit="g/L")), t, NOW)
    assert F.POTASSIUM not in facts.labs
    assert facts.ignored_lab_results == 1


def test_interpretation_and_reference_range(t: Terminology) -> None:
    res = obs("ck1", "2157-6", 4000, unit="U/L", interpretation=[{"coding": [{"code": "HH"}]}],
              referenceRange=[{"low": {"value": 39}, "high": {"value": 308}}])
    [r] = extract_facts(record(res), t, NOW).labs[F.CK]
    assert r.interpretation == "HH" and r.ref_low == 39 and r.ref_high == 308


def test_d_dimer_ddu_and_text(t: Terminology) -> None:
    ddu = obs("dd1", "48066-5", 300, unit="ng/mL")
    local = {"resourceType": "Observation", "id": "dd2", "status": "final", "subject": PAT,
             "code": {"coding": [{"system": "http://example.org/lab", "code": "DD"}], "text": "D-Dimer, quant"},
             "effectiveDateTime": "2025-05-21T08:00:00Z",
             "valueQuantity": {"value": 0.4, "unit": "mg/L FEU"}}
    [newest] = extract_facts(record(ddu, local), t, NOW).labs[F.D_DIMER]
    assert (newest.resource_ref, newest.value, newest.assay_basis) == ("Observation/dd2", pytest.approx(400.0), "FEU")
    [ddu_only] = extract_facts(record(ddu), t, NOW).labs[F.D_DIMER]
    assert (ddu_only.resource_ref, ddu_only.value, ddu_only.assay_basis) == ("Observation/dd1", 600.0, "DDU")


def test_abi_by_text(t: Terminology) -> None:
    res = {"resourceType": "Observation", "id": "abi", "status": "final", "subject": PAT,
           "code": {"text": "Ankle-brachial index, left"}, "effectiveDateTime": "2025-05-01",
           "valueQuantity": {"value": 0.82}}
    [r] = extract_facts(record(res), t, NOW).labs[F.ABI]
    assert r.value == 0.82


# --- conditions ----------------------------------------------------------------------------

def test_condition_statuses(t: Terminology) -> None:
    facts = extract_facts(record(
        condition("c1", ICD, "M79.661"),
        condition("c2", ICD, "I82.401", clinical="resolved", abatementDateTime="2020-03-01"),
        condition("c3", ICD, "I82.402", verification="refuted"),
        condition("c4", ICD, "I82.409", verification="entered-in-error"),
        condition("c5", ICD, "Z86.718", clinical=None),
        condition("c6", ICD, "C50.911", clinical=None, abatementDateTime="2022-01-01"),
        condition("c7", ICD, "M79.7"),  # fibromyalgia: no group -> not a finding
    ), t, NOW)
    by_ref = {f.resource_ref: f for f in facts.findings}
    assert set(by_ref) == {"Condition/c1", "Condition/c2", "Condition/c5", "Condition/c6"}
    assert by_ref["Condition/c1"].active and by_ref["Condition/c1"].laterality == "right"
    assert F.CALF_PAIN in by_ref["Condition/c1"].groups
    assert not by_ref["Condition/c2"].active and F.DVT in by_ref["Condition/c2"].groups
    assert by_ref["Condition/c2"].abatement == datetime(2020, 3, 1, tzinfo=UTC)
    assert by_ref["Condition/c5"].active  # no clinicalStatus and no abatement
    assert not by_ref["Condition/c6"].active  # no clinicalStatus but abated
    assert len(facts.findings_in(F.DVT, F.VTE_HISTORY)) == 2


def test_condition_dates_and_replay(t: Terminology) -> None:
    facts = extract_facts(record(
        condition("c1", SCT, "300954003", onsetPeriod={"start": "2025-05-25"}),
        condition("c2", SCT, "300954003", onsetDateTime="2025-06-10"),  # after now
    ), t, NOW)
    [f] = facts.findings
    assert f.onset == datetime(2025, 5, 25, tzinfo=UTC)
    assert f.recorded == datetime(2025, 5, 1, tzinfo=UTC)
    assert f.date == f.onset


def test_condition_laterality_from_body_site(t: Terminology) -> None:
    res = condition("c1", SCT, "449615005", bodySite=[{"text": "Left calf"}])
    [f] = extract_facts(record(res), t, NOW).findings
    assert f.laterality == "left"


# --- encounter and observation findings ------------------------------------------------------

def test_encounter_reason(t: Terminology) -> None:
    enc = {"resourceType": "Encounter", "id": "e1", "status": "in-progress",
           "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
           "subject": PAT, "period": {"start": "2025-06-01T09:00:00Z"},
           "reasonCode": [{"coding": [{"system": SCT, "code": "300954003", "display": "Pain in calf"}]},
                          {"text": "follow-up"}]}
    facts = extract_facts(record(enc, encounter_id="e1"), t, NOW)
    [f] = facts.findings
    assert f.source == "encounter-reason" and f.groups == {F.CALF_PAIN}
    assert f.onset == datetime(2025, 6, 1, 9, tzinfo=UTC) and f.resource_ref == "Encounter/e1"
    undated = dict(enc, period=None)
    [f] = extract_facts(record(undated, encounter_id="e1"), t, NOW).findings
    assert f.onset is None  # the visit under way counts dated or not


def test_reasons_of_other_encounters_count_without_an_encounter_id(t: Terminology) -> None:
    """Issue 7 §4: the sandbox sends no encounterId; the recent encounters' reasons are
    findings dated by the encounter (the rules' windows then apply to that date)."""
    calf = [{"coding": [{"system": SCT, "code": "300954003", "display": "Pain in calf"}]}]
    base = {"resourceType": "Encounter", "status": "finished", "subject": PAT,
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "reasonCode": calf}
    held = dict(base, id="e-held", period={"start": "2025-05-28T09:00:00Z", "end": "2025-05-28T09:30:00Z"})
    ended_only = dict(base, id="e-end", period={"end": "2025-05-20T10:00:00Z"})
    skipped = [
        dict(base, id="e-undated"),
        dict(base, id="e-future", period={"start": "2025-06-20T09:00:00Z"}),
        dict(base, id="e-cancelled", status="cancelled", period={"start": "2025-05-29T09:00:00Z"}),
        dict(base, id="e-planned", status="planned", period={"start": "2025-05-30T09:00:00Z"}),
        dict(base, id="e-error", status="entered-in-error", period={"start": "2025-05-30T09:00:00Z"}),
    ]
    facts = extract_facts(record(held, ended_only, *skipped, dict(held)), t, NOW)  # held twice: two keys
    assert sorted((f.resource_ref, f.onset) for f in facts.findings) == [
        ("Encounter/e-end", datetime(2025, 5, 20, 10, tzinfo=UTC)),
        ("Encounter/e-held", datetime(2025, 5, 28, 9, tzinfo=UTC)),
    ]
    assert all(f.source == "encounter-reason" and f.groups == {F.CALF_PAIN} for f in facts.findings)
    # The context encounter is read once, not again as a recent one.
    assert len(extract_facts(record(held, dict(held), encounter_id="e-held"), t, NOW).findings) == 1


def finding_obs(rid: str, **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Observation", "id": rid, "status": "final", "subject": PAT,
                           "category": [{"coding": [{"code": "exam"}]}],
                           "code": {"coding": [{"system": SCT, "code": "449615005",
                                                "display": "Swelling of lower leg"}]},
                           "effectiveDateTime": "2025-05-31T10:00:00Z"}
    res.update(extra)
    return res


@pytest.mark.parametrize(("extra", "present"), [
    ({}, True),
    ({"valueBoolean": True}, True),
    ({"valueBoolean": False}, False),
    ({"valueCodeableConcept": {"coding": [{"system": SCT, "code": "2667000", "display": "Absent"}]}}, False),
    ({"valueCodeableConcept": {"coding": [{"system": SCT, "code": "260385009"}]}}, False),
    ({"valueCodeableConcept": {"text": "negative"}}, False),
    ({"effectiveDateTime": "2025-06-05T10:00:00Z"}, False),  # after now
    ({"status": "cancelled"}, False),
])
def test_observation_findings(t: Terminology, extra: dict[str, Any], present: bool) -> None:
    facts = extract_facts(record(finding_obs("o1", **extra)), t, NOW)
    assert len(facts.findings) == (1 if present else 0)
    if present:
        assert facts.findings[0].source == "observation" and facts.findings[0].groups == {F.LEG_SWELLING}


def test_observation_finding_as_value(t: Terminology) -> None:
    res = finding_obs("o1", code={"coding": [{"system": LOINC, "code": "75325-1", "display": "Symptom"}]},
                      valueCodeableConcept={"coding": [{"system": SCT, "code": "267036007", "display": "Dyspnea"}]})
    [f] = extract_facts(record(res), t, NOW).findings
    assert f.groups == {F.PE_SYMPTOM} and f.display == "Dyspnea"


# --- procedures ----------------------------------------------------------------------------

def test_procedures(t: Terminology) -> None:
    facts = extract_facts(record(
        {"resourceType": "Procedure", "id": "p1", "status": "completed", "subject": PAT,
         "code": {"coding": [{"system": SCT, "code": "52734007"}], "text": "Total hip replacement"},
         "performedPeriod": {"start": "2025-05-10T08:00:00Z", "end": "2025-05-10T11:00:00Z"}},
        {"resourceType": "Procedure", "id": "p2", "status": "in-progress", "subject": PAT,
         "code": {"coding": [{"system": SCT, "code": "52734007"}]}, "performedDateTime": "2025-05-11"},
        {"resourceType": "Procedure", "id": "p3", "status": "completed", "subject": PAT,
         "code": {"text": "Below-knee cast applied"}, "performedDateTime": "2025-05-20"},
        {"resourceType": "Procedure", "id": "p4", "status": "completed", "subject": PAT,
         "code": {"text": "Below-knee cast applied"}, "performedDateTime": "2025-07-20"},
    ), t, NOW)
    by_ref = {p.resource_ref: p for p in facts.procedures}
    assert set(by_ref) == {"Procedure/p1", "Procedure/p3"}
    assert by_ref["Procedure/p1"].groups == {F.SURGERY}
    assert by_ref["Procedure/p1"].performed == datetime(2025, 5, 10, 11, tzinfo=UTC)
    assert by_ref["Procedure/p3"].groups == {F.LIMB_IMMOBILISATION, F.LEG_CAST}


# --- validation ----------------------------------------------------------------------------

def test_invalid_resource_skipped_and_counted(t: Terminology, caplog: pytest.LogCaptureFixture) -> None:
    bad_lab = obs("secret-id-1", "2823-3", 3.0, status="final", effectiveDateTime="2025-05-20T08:00:00Z",
                  code={"coding": [{"system": LOINC, "code": "2823-3"}], "text": 42},
                  interpretation="not-a-list")
    bad_med = med_request("secret-id-2", subject="Patient/p1")  # subject must be a Reference
    good = obs("k2", "2823-3", 3.6)
    with caplog.at_level(logging.WARNING, logger="cds_service.clinical.extract"):
        facts = extract_facts(record(bad_lab, bad_med, good), t, NOW)
    assert facts.skipped_resources == 2
    assert [r.resource_ref for r in facts.labs[F.POTASSIUM]] == ["Observation/k2"]
    assert facts.medications == []
    text = caplog.text
    assert "Observation" in text and "MedicationRequest" in text
    assert "secret-id" not in text and "p1" not in text


def test_parse_datetime() -> None:
    assert parse_datetime("2024") == datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_datetime("2024-03") == datetime(2024, 3, 1, tzinfo=UTC)
    assert parse_datetime("2024-03-05T10:00:00") == datetime(2024, 3, 5, 10, tzinfo=UTC)
    assert parse_datetime("garbage") is None and parse_datetime(None) is None


# --- performance (prints only) ---------------------------------------------------------------

def test_ten_thousand_resources_timing(t: Terminology) -> None:
    resources: list[dict[str, Any]] = []
    for i in range(10_000):
        kind = i % 10
        when = f"2025-0{1 + i % 5}-{1 + i % 28:02d}T08:00:00Z"
        if kind < 5:  # unrelated observations (vital signs, other labs)
            resources.append(obs(f"x{i}", "8867-4", 70 + i % 20, unit="/min", when=when))
        elif kind == 5:
            resources.append(obs(f"k{i}", "2823-3", 3.0 + (i % 20) / 10, when=when))
        elif kind == 6:
            resources.append(condition(f"c{i}", ICD, "I10" if i % 3 else "E11.9"))
        elif kind == 7:
            resources.append(med_request(f"m{i}", code="617310" if i % 4 == 0 else "197361"))
        elif kind == 8:
            resources.append({"resourceType": "Procedure", "id": f"p{i}", "status": "completed",
                              "subject": PAT, "code": {"text": "Influenza vaccination"},
                              "performedDateTime": when})
        else:
            resources.append(med_statement(f"s{i}"))
    rec = record(*resources)
    start = time.perf_counter()
    facts = extract_facts(rec, t, NOW)
    elapsed = (time.perf_counter() - start) * 1000
    print(f"\nextract_facts over {rec.count()} resources: {elapsed:.0f} ms "
          f"({len(facts.medications)} medications, {sum(map(len, facts.labs.values()))} labs, "
          f"{len(facts.findings)} findings)")
    assert facts.skipped_resources == 0


def test_only_the_newest_usable_result_is_validated(t: Terminology) -> None:
    """Older results are never modelled (issue #4): an invalid old one is not even counted,
    while an invalid or unusable newest one falls through to the next."""
    old_invalid = obs("k-old", "2823-3", 3.0, when="2025-01-01T08:00:00Z", interpretation="not-a-list")
    newest = obs("k-new", "2823-3", 4.1, when="2025-05-20T08:00:00Z")
    facts = extract_facts(record(old_invalid, newest), t, NOW)
    assert facts.skipped_resources == 0
    assert facts.latest(F.POTASSIUM).resource_ref == "Observation/k-new"
    newest_invalid = obs("k-bad", "2823-3", 2.0, when="2025-05-21T08:00:00Z", interpretation="not-a-list")
    see_comment = obs("k-text", "6298-4", 0, when="2025-05-22T08:00:00Z")
    see_comment.pop("valueQuantity")
    see_comment["valueString"] = "see comment"
    facts = extract_facts(record(old_invalid, newest, newest_invalid, see_comment), t, NOW)
    assert facts.skipped_resources == 1
    assert facts.latest(F.POTASSIUM).resource_ref == "Observation/k-new"


def test_classification_is_memoised_per_concept(t: Terminology) -> None:
    vitals = [{"resourceType": "Observation", "id": f"hr{i}", "status": "final", "subject": PAT,
               "code": {"coding": [{"system": LOINC, "code": "8867-4", "display": "Heart rate"}]},
               "effectiveDateTime": "2025-05-20T08:00:00Z", "valueQuantity": {"value": 70, "unit": "/min"}}
              for i in range(50)]
    t.memo.clear()
    extract_facts(record(*vitals), t, NOW)
    assert len(t.memo) == 1


def test_validation_verdicts_are_remembered_by_exact_content(t: Terminology, monkeypatch: pytest.MonkeyPatch) -> None:
    from cds_service.clinical import extract as ex

    from cds_service.clinical.extract import common

    validated: list[str] = []
    shape = common.shape_of("Observation")
    assert shape is not None

    def counting(resource: Any) -> bool:
        validated.append(str(resource.get("id")))
        return shape(resource)

    monkeypatch.setitem(common._SHAPES, "Observation", counting)
    cache = ex.VerdictCache(16)
    good = obs("k1", "2823-3", 3.1)
    bad = obs("k2", "2823-3", 3.0, when="2025-05-21T08:00:00Z", interpretation="not-a-list")
    first = extract_facts(record(good, bad), t, NOW, cache)
    second = extract_facts(record(good, bad), t, NOW, cache)
    assert len(validated) == 2  # each distinct resource validated once, across calls
    assert first.skipped_resources == second.skipped_resources == 1  # cached "invalid" still counts
    assert second.latest(F.POTASSIUM).resource_ref == "Observation/k1"
    changed = dict(good, valueQuantity={"value": 2.9, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"})
    extract_facts(record(changed), t, NOW, cache)
    assert len(validated) == 3  # different content: validated again
    off = ex.VerdictCache(0)
    extract_facts(record(good), t, NOW, off)
    extract_facts(record(good), t, NOW, off)
    assert len(off) == 0 and len(validated) == 5


# --- recently ended medications (issue 7: fluoroquinolone course ended within 30 days) ----

LEVO = {"text": "levofloxacin 500 MG Oral Tablet"}


def test_completed_request_is_a_recent_medication_not_a_current_one(t: Terminology) -> None:
    done = med_request("levo", status="completed", authoredOn="2025-05-10",
                       medicationCodeableConcept=LEVO,
                       dispenseRequest={"expectedSupplyDuration": {"value": 7, "unit": "days", "code": "d"}})
    old = med_request("levo-old", status="stopped", authoredOn="2024-12-01", medicationCodeableConcept=LEVO)
    facts = extract_facts(record(done, old), t, NOW)
    assert facts.medications == []
    [recent] = facts.recent_medications
    assert recent.resource_ref == "MedicationRequest/levo" and F.FLUOROQUINOLONE in recent.classes
    assert recent.ended == datetime(2025, 5, 17, tzinfo=UTC)  # authoredOn + 7-day supply


def test_statement_with_past_end_date_is_recent_and_undated_completion_is_dropped(t: Terminology) -> None:
    ended = med_statement("s1", effectivePeriod={"start": "2025-05-01", "end": "2025-05-20"})
    undated = med_statement("s2", status="completed")
    facts = extract_facts(record(ended, undated), t, NOW)
    assert facts.medications == []
    assert [m.resource_ref for m in facts.recent_medications] == ["MedicationStatement/s1"]
    assert facts.recent_medications[0].ended == datetime(2025, 5, 20, tzinfo=UTC)


def test_parsed_dates_are_remembered_within_bounds() -> None:
    """Dates repeat on every call, so parsed ones are remembered, but only date-sized
    strings: a client cannot make the memo hold large strings."""
    from cds_service.clinical.extract import common

    memo = common._remembered_datetime
    assert memo.cache_info().maxsize == 8192
    stamp = "2026-11-20T08:15:00.123456+01:00"  # an R4 instant at full length
    first = parse_datetime(stamp)
    assert first == datetime(2026, 11, 20, 7, 15, 0, 123456, tzinfo=UTC)
    hits = memo.cache_info().hits
    assert parse_datetime(stamp) is first and memo.cache_info().hits == hits + 1
    size = memo.cache_info().currsize
    for n in range(50):
        assert parse_datetime("2026-11-20" + "x" * (40 + n * 1000)) is None
    assert parse_datetime("2026-11-20T08:15:00" + "0" * 100 + "Z") is None
    assert memo.cache_info().currsize == size
