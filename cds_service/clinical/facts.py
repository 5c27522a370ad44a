"""PatientFacts: what the clinical rules know about a patient, in canonical form.

This is the contract between extraction (raw FHIR JSON → facts, ``extract/``) and the
rules (facts → findings, ``rules/``). Rules never see FHIR JSON; extraction never sees
thresholds other than the evaluation clock and the windows it is given.

Group names are the shared vocabulary (``cds_service.vocabulary``, a leaf module that
terminology also imports); they are re-exported here for the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from cds_service.vocabulary import (  # re-exported: rules and tests import them from here
    ABI,
    ACTIVE_CANCER,
    AMIODARONE,
    AMLODIPINE,
    BMI,
    CALF_PAIN,
    CICLOSPORIN,
    CK,
    CKD,
    CORTICOSTEROID_LOCAL,
    CORTICOSTEROID_SYSTEMIC,
    CREATININE,
    CRUSH_INJURY,
    CRUSH_SYNDROME,
    CYP3A4_STRONG_INHIBITOR,
    DANAZOL,
    DIABETES,
    DIABETIC_NEUROPATHY,
    DIGOXIN,
    DILTIAZEM,
    DIURETIC_CAI,
    DIURETIC_K_SPARING,
    DIURETIC_LOOP,
    DIURETIC_THIAZIDE,
    DRONEDARONE,
    DVT,
    D_DIMER,
    EGFR,
    FIBRATE,
    FLUOROQUINOLONE,
    FindingSource,
    GEMFIBROZIL,
    HBA1C,
    HEART_FAILURE,
    HORMONAL_ESTROGEN,
    HORMONE_THERAPY,
    HYPOTHYROIDISM,
    IMMOBILITY,
    K_WASTING_DIURETICS,
    LEG_CAST,
    LEG_SURGERY,
    LEG_SWELLING,
    LEG_WARMTH_REDNESS,
    LIMB_IMMOBILISATION,
    LOWER_LEG_FRACTURE,
    MAGNESIUM,
    MUSCLE_CRAMP,
    MUSCLE_WEAKNESS,
    MYALGIA,
    MatchPath,
    OBESITY,
    ORGAN_TRANSPLANT,
    PAD,
    PE_SYMPTOM,
    POSTPARTUM,
    POTASSIUM,
    PREGNANCY,
    RANOLAZINE,
    RHABDOMYOLYSIS,
    SCIATICA,
    STATIN,
    STATIN_INTERACTING,
    SURGERY,
    SYMPTOM_GROUPS,
    TENDON_PAIN,
    THROMBOPHILIA,
    TSH,
    VERAPAMIL,
    VITAMIN_D,
    VITAMIN_D2_SUPPLEMENT,
    VITAMIN_D3,
    VTE_HISTORY,
)

@dataclass(frozen=True, slots=True)
class MedicationFact:
    """One current medication (already filtered to current use)."""

    display: str  # e.g. "atorvastatin 20 MG Oral Tablet"
    classes: frozenset[str]  # any of the medication class constants
    match_path: MatchPath  # how the class was recognised; "text" = lower confidence
    ingredients: tuple[str, ...]  # lower-case ingredient names when known
    dose_text: str | None  # dosageInstruction/dosage text, when given
    started: datetime | None  # authoredOn / effective start
    resource_ref: str  # "MedicationRequest/abc"
    ended: datetime | None = None  # set on ``recent_medications`` only
    draft: bool = False  # an unsigned order of an order-sign call (``PatientFacts.drafts``)


@dataclass(frozen=True, slots=True)
class LabResult:
    """One numeric lab result, normalised to its group's canonical unit."""

    group: str
    value: float  # canonical unit
    unit: str  # canonical unit label, e.g. "mmol/L"
    comparator: str | None  # "<", "<=", ">", ">=" as reported
    reported: str  # as reported, e.g. "3.1 mEq/L"
    effective: datetime
    code: str  # the LOINC (or other) code that matched
    display: str
    ref_low: float | None  # canonical unit
    ref_high: float | None  # canonical unit
    interpretation: str | None  # v3 ObservationInterpretation code, e.g. "L", "HH"
    resource_ref: str
    assay_basis: str | None = None  # "FEU" / "DDU" for D-dimer (value is FEU-equivalent)


@dataclass(frozen=True, slots=True)
class ClinicalFinding:
    """A coded condition, encounter reason or coded observation finding."""

    groups: frozenset[str]
    display: str
    source: FindingSource
    active: bool  # clinicalStatus active/recurrence/relapse (or a reason/observation)
    onset: datetime | None  # onset / effective / period start
    recorded: datetime | None  # recordedDate / issued
    abatement: datetime | None
    resource_ref: str
    laterality: str | None = None  # "left" / "right" / "bilateral" when coded or stated
    body_site: str | None = None  # bodySite text(s) as charted, joined with "; "

    @property
    def date(self) -> datetime | None:
        """The most relevant date for recency: onset, else recorded."""
        return self.onset or self.recorded


@dataclass(frozen=True, slots=True)
class ProcedureFact:
    groups: frozenset[str]
    display: str
    performed: datetime
    resource_ref: str


@dataclass(frozen=True, slots=True)
class DraftOrderFact:
    """One unsigned ServiceRequest or DeviceRequest of an order-sign call (``draftOrders``)."""

    groups: frozenset[str]  # order groups, e.g. ``compression`` (clinical/orders/devices.py)
    display: str
    resource_ref: str  # "ServiceRequest/abc" or "DeviceRequest/abc"
    authored: datetime | None = None
    draft: bool = True


@dataclass(slots=True)
class PatientFacts:
    """Everything the rules may read about one patient at one evaluation time."""

    now: datetime
    birth_date: date | None = None
    sex: str | None = None  # administrative gender
    deceased: bool = False
    medications: list[MedicationFact] = field(default_factory=list)
    # Medications that ended within the last 90 days (newest courses included), not current
    recent_medications: list[MedicationFact] = field(default_factory=list)
    # The newest usable result of each group (rules read ``latest``); older results are
    # not modelled at all, which keeps large charts cheap.
    labs: dict[str, list[LabResult]] = field(default_factory=dict)
    findings: list[ClinicalFinding] = field(default_factory=list)
    procedures: list[ProcedureFact] = field(default_factory=list)
    # order-sign only: the draft orders being signed, marked ``draft`` (never in ``medications``)
    drafts: list[MedicationFact] = field(default_factory=list)
    draft_orders: list[DraftOrderFact] = field(default_factory=list)
    skipped_resources: int = 0  # resources that failed validation
    ignored_lab_results: int = 0  # lab results in a group but with an unknown unit

    @property
    def age_years(self) -> int | None:
        if self.birth_date is None:
            return None
        today = self.now.date()
        years = today.year - self.birth_date.year
        if (today.month, today.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years

    def latest(self, group: str, within_days: int | None = None) -> LabResult | None:
        """Newest result of a lab group, optionally only within a look-back window."""
        for result in self.labs.get(group, ()):
            if within_days is None or (self.now - result.effective).days <= within_days:
                return result
            return None
        return None

    def medications_in(self, *classes: str) -> list[MedicationFact]:
        wanted = set(classes)
        return [m for m in self.medications if m.classes & wanted]

    def recent_medications_in(self, *classes: str) -> list[MedicationFact]:
        wanted = set(classes)
        return [m for m in self.recent_medications if m.classes & wanted]

    def findings_in(self, *groups: str) -> list[ClinicalFinding]:
        wanted = set(groups)
        return [f for f in self.findings if f.groups & wanted]
