"""Symptom gate tests; this module also holds the small PatientFacts builders the other
``test_rules_*`` modules import (facts are built directly, never from FHIR JSON)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from cds_service.clinical import facts as F
from cds_service.clinical.facts import (
    ClinicalFinding,
    LabResult,
    MedicationFact,
    PatientFacts,
    ProcedureFact,
)
from cds_service.clinical.rules.symptoms import symptom_findings
from cds_service.config import ClinicalSettings

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
CFG = ClinicalSettings()

UNITS = {
    F.POTASSIUM: "mmol/L", F.MAGNESIUM: "mmol/L", F.VITAMIN_D: "ng/mL", F.VITAMIN_D3: "ng/mL", F.CK: "U/L",
    F.D_DIMER: "ng/mL", F.TSH: "mIU/L", F.EGFR: "mL/min/1.73m2", F.CREATININE: "mg/dL",
    F.HBA1C: "%", F.BMI: "kg/m2", F.ABI: "ratio",
}


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def med(display: str, *classes: str, ref: str = "MedicationRequest/m1", dose: str | None = None) -> MedicationFact:
    return MedicationFact(display, frozenset(classes), "product", (), dose, days_ago(100), ref)


def lab(group: str, value: float, *, age: float = 1, comparator: str | None = None,
        ref_low: float | None = None, ref_high: float | None = None,
        interpretation: str | None = None, reported: str | None = None,
        assay_basis: str | None = None, ref: str | None = None) -> LabResult:
    unit = UNITS[group]
    shown = reported or f"{comparator or ''}{value:g} {unit}"
    return LabResult(group, value, unit, comparator, shown, days_ago(age), "0000-0", group,
                     ref_low, ref_high, interpretation, ref or f"Observation/{group}-{age}",
                     assay_basis)


def cond(group: str, display: str | None = None, *, age: float | None = 2, active: bool = True,
         source: F.FindingSource = "condition", laterality: str | None = None,
         ref: str | None = None) -> ClinicalFinding:
    when = None if age is None else days_ago(age)
    return ClinicalFinding(frozenset({group}), display or group, source, active, when, None, None,
                           ref or f"Condition/{group}", laterality)


def proc(group: str, display: str, age: float) -> ProcedureFact:
    return ProcedureFact(frozenset({group}), display, days_ago(age), f"Procedure/{group}")


def facts(*items: object, birth: date | None = date(1960, 1, 1), **kw: object) -> PatientFacts:
    """Sort builders' outputs into a PatientFacts (labs newest first)."""
    pf = PatientFacts(now=NOW, birth_date=birth, **kw)  # type: ignore[arg-type]
    for item in items:
        if isinstance(item, MedicationFact):
            pf.medications.append(item)
        elif isinstance(item, LabResult):
            pf.labs.setdefault(item.group, []).append(item)
        elif isinstance(item, ClinicalFinding):
            pf.findings.append(item)
        elif isinstance(item, ProcedureFact):
            pf.procedures.append(item)
    for results in pf.labs.values():
        results.sort(key=lambda r: r.effective, reverse=True)
    return pf


CALF_PAIN = cond(F.CALF_PAIN, "Pain in calf")


# --- the gate ------------------------------------------------------------------------


def test_recent_active_condition_opens_gate() -> None:
    assert symptom_findings(facts(cond(F.MYALGIA, age=10)), CFG)


def test_condition_outside_window_does_not_open_gate() -> None:
    assert not symptom_findings(facts(cond(F.MYALGIA, age=31)), CFG)


def test_dateless_active_condition_counts_but_dateless_observation_does_not() -> None:
    assert symptom_findings(facts(cond(F.MUSCLE_CRAMP, age=None)), CFG)
    assert not symptom_findings(facts(cond(F.MUSCLE_CRAMP, age=None, source="observation")), CFG)


def test_inactive_or_abated_condition_does_not_count() -> None:
    assert not symptom_findings(facts(cond(F.CALF_PAIN, active=False)), CFG)
    abated = ClinicalFinding(frozenset({F.CALF_PAIN}), "Pain in calf", "condition", True,
                             days_ago(5), None, days_ago(1), "Condition/x")
    assert not symptom_findings(facts(abated), CFG)


def test_encounter_reason_and_observation_count() -> None:
    assert symptom_findings(facts(cond(F.LEG_SWELLING, source="encounter-reason", age=None)), CFG)
    assert symptom_findings(facts(cond(F.MUSCLE_WEAKNESS, source="observation", age=3)), CFG)


def test_window_is_configurable_and_non_symptom_groups_ignored() -> None:
    narrow = ClinicalSettings(symptom_window_days=5)
    assert not symptom_findings(facts(cond(F.MYALGIA, age=10)), narrow)
    assert not symptom_findings(facts(cond(F.PAD, age=1)), CFG)
