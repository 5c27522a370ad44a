"""Extraction: raw FHIR R4 JSON (a PatientRecord) → PatientFacts.

Two passes keep this fast on large prefetches: resources are first *selected* from the raw
JSON with set look-ups (resource type, status, code), and only the selected ones are
validated as ``fhir.resources.R4B`` models. A resource that fails validation is skipped and
counted (``PatientFacts.skipped_resources``); the log names only the resource type and the
count, never ids or patient identifiers.

Reading rules (clinical.md §0, and docs/terminology.md "Reading real EHR data"):

- medications: MedicationStatement active/intended; MedicationRequest active, order-type
  intent, not doNotPerform; an end date in the past excludes; none for a deceased patient;
- labs: status final/amended/corrected/preliminary, numeric ``valueQuantity`` only, results
  dated after ``now`` ignored (replay), newest first per group across all its codes;
- conditions: refuted / entered-in-error dropped; every other condition is returned with
  ``active`` telling current from historical;
- encounter reasons and coded symptom Observations become findings;
- procedures: completed only.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from cds_service.clinical.facts import (
    ClinicalFinding,
    LabResult,
    MedicationFact,
    PatientFacts,
    ProcedureFact,
)
from cds_service.record import PatientRecord, Resource
from cds_service.terminology import units
from cds_service.terminology.valuesets import Terminology, system_key

log = logging.getLogger(__name__)

MED_STATEMENT_STATUSES = frozenset({"active", "intended"})
# R4 MedicationRequest.intent values that are orders (or a plan) rather than proposals
ORDER_INTENTS = frozenset(
    {"order", "original-order", "reflex-order", "filler-order", "instance-order", "plan"}
)
LAB_STATUSES = frozenset({"final", "amended", "corrected", "preliminary"})
ACTIVE_CLINICAL = frozenset({"active", "recurrence", "relapse"})
INACTIVE_CLINICAL = frozenset({"inactive", "remission", "resolved"})
DROPPED_VERIFICATION = frozenset({"refuted", "entered-in-error"})
# SNOMED CT 260385009 |Negative|, 2667000 |Absent|
NEGATIVE_VALUE_CODES = frozenset({"260385009", "2667000"})
NEGATIVE_VALUE_WORDS = frozenset({"absent", "negative", "no", "not present", "none"})

_LATERALITY_RE = re.compile(r"\b(bilateral|left|right)\b", re.I)
# ICD-10-CM lateral pain codes (clinical.md §3: M79.661 right, M79.662 left lower leg)
_ICD_LATERALITY = {"M79661": "right", "M79662": "left", "M79604": "right", "M79605": "left"}


def _models() -> dict[str, Any]:
    """The fhir.resources R4B model class of each resource type we validate."""
    from fhir.resources.R4B.condition import Condition
    from fhir.resources.R4B.encounter import Encounter
    from fhir.resources.R4B.medication import Medication
    from fhir.resources.R4B.medicationrequest import MedicationRequest
    from fhir.resources.R4B.medicationstatement import MedicationStatement
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.patient import Patient
    from fhir.resources.R4B.procedure import Procedure

    return {
        "Condition": Condition,
        "Encounter": Encounter,
        "Medication": Medication,
        "MedicationRequest": MedicationRequest,
        "MedicationStatement": MedicationStatement,
        "Observation": Observation,
        "Patient": Patient,
        "Procedure": Procedure,
    }


_MODEL_CACHE: dict[str, Any] = {}


def _model(resource_type: str) -> Any:
    if not _MODEL_CACHE:
        preload_models()
    return _MODEL_CACHE[resource_type]


def preload_models() -> None:
    """Import the R4B model classes now (about 0.2 s), so the first hook call after
    start-up does not pay for it."""
    if not _MODEL_CACHE:
        _MODEL_CACHE.update(_models())


# --- small JSON helpers --------------------------------------------------------------------

def parse_datetime(value: Any) -> datetime | None:
    """A FHIR date/dateTime/instant string as an aware datetime (UTC when no offset).

    Partial dates ("2024", "2024-03") take the first day; a date is midnight UTC.
    """
    if not isinstance(value, str) or len(value) < 4:
        return None
    try:
        if len(value) == 4:
            return datetime(int(value), 1, 1, tzinfo=UTC)
        if len(value) == 7:
            return datetime(int(value[:4]), int(value[5:7]), 1, tzinfo=UTC)
        if len(value) == 10:
            d = date.fromisoformat(value)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _one_of(value: Any, options: frozenset[str]) -> bool:
    """Membership that tolerates broken FHIR (a list or object where a code belongs)."""
    return isinstance(value, str) and value in options


def _codings(concept: Any) -> list[Mapping[str, Any]]:
    if not isinstance(concept, Mapping):
        return []
    codings = concept.get("coding")
    return [c for c in codings if isinstance(c, Mapping)] if isinstance(codings, list) else []


def _concept_text(concept: Any) -> str | None:
    if not isinstance(concept, Mapping):
        return None
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    for coding in _codings(concept):
        display = coding.get("display")
        if isinstance(display, str) and display.strip():
            return display.strip()
    return None


def _code_of(concept: Any, key: str) -> str | None:
    for coding in _codings(concept):
        if system_key(coding.get("system")) == key and isinstance(coding.get("code"), str):
            return coding["code"]
    return None


def _status_code(concept: Any) -> str | None:
    for coding in _codings(concept):
        code = coding.get("code")
        if isinstance(code, str):
            return code
    return None


def _ref(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id', '')}"


def _laterality(texts: Iterable[str | None], codings: Iterable[Mapping[str, Any]]) -> str | None:
    for coding in codings:
        if system_key(coding.get("system")) == "icd10cm" and isinstance(coding.get("code"), str):
            side = _ICD_LATERALITY.get(coding["code"].replace(".", "").upper())
            if side:
                return side
    found: set[str] = set()
    for text in texts:
        if text:
            found |= {m.lower() for m in _LATERALITY_RE.findall(text)}
    if "bilateral" in found or {"left", "right"} <= found:
        return "bilateral"
    if len(found) == 1:
        return found.pop()
    return None


class _Extractor:
    """One extraction run (holds counters and look-ups for the record)."""

    def __init__(self, record: PatientRecord, terminology: Terminology, now: datetime,
                 verdicts: VerdictCache | None = None) -> None:
        self.record = record
        self.verdicts = verdicts
        self.t = terminology
        self.now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        self.skipped: Counter[str] = Counter()
        self.ignored_units = 0

    def valid(self, resource: Mapping[str, Any]) -> bool:
        """Validate one selected resource as an R4B model; count and skip it if invalid."""
        rtype = str(resource.get("resourceType"))
        try:
            # Validating from JSON bytes is about a third faster than from a dict in
            # pydantic-core; orjson re-serialises a parsed resource in microseconds.
            raw = orjson.dumps(resource)
        except TypeError:
            self.skipped[rtype] += 1
            return False
        verdict = self.verdicts.get(raw) if self.verdicts is not None else None
        if verdict is None:
            try:
                _model(rtype).model_validate_json(raw)
                verdict = True
            except (ValidationError, ValueError, TypeError):
                verdict = False
            if self.verdicts is not None:
                self.verdicts.put(raw, verdict)
        if not verdict:
            self.skipped[rtype] += 1
        return verdict

    # --- patient --------------------------------------------------------------------------
    def patient(self, facts: PatientFacts) -> None:
        patient = self.record.patient
        if patient is None or not self.valid(patient):
            return
        birth = patient.get("birthDate")
        born = parse_datetime(birth)
        facts.birth_date = born.date() if born else None
        gender = patient.get("gender")
        facts.sex = gender if isinstance(gender, str) else None
        if patient.get("deceasedBoolean") is True:
            facts.deceased = True
        died = parse_datetime(patient.get("deceasedDateTime"))
        if died is not None and died <= self.now:
            facts.deceased = True

    # --- medications ----------------------------------------------------------------------
    def _medication_resource(self, owner: Mapping[str, Any], reference: str) -> Mapping[str, Any] | None:
        if reference.startswith("#"):
            for contained in owner.get("contained") or ():
                if (isinstance(contained, Mapping) and contained.get("resourceType") == "Medication"
                        and contained.get("id") == reference[1:]):
                    return contained
            return None
        target_id = reference.rsplit("/", 1)[-1] if "Medication/" in reference else None
        if target_id is None:
            return None
        for med in self.record.of_type("Medication"):
            if med.get("id") == target_id:
                return med
        return None

    def _medication_concept(self, resource: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], list[str | None], str | None, Mapping[str, Any] | None]:
        """(codings, texts, display, referenced Medication resource if any)."""
        concept = resource.get("medicationCodeableConcept")
        if isinstance(concept, Mapping):
            return _codings(concept), [concept.get("text")], _concept_text(concept), None
        ref = resource.get("medicationReference")
        if isinstance(ref, Mapping):
            ref_display = ref.get("display") if isinstance(ref.get("display"), str) else None
            reference = ref.get("reference")
            med = self._medication_resource(resource, reference) if isinstance(reference, str) else None
            if med is not None:
                code = med.get("code")
                texts: list[str | None] = [code.get("text") if isinstance(code, Mapping) else None, ref_display]
                return _codings(code), texts, _concept_text(code) or ref_display, med
            return [], [ref_display], ref_display, None
        return [], [], None, None

    def _ended(self, *ends: Any) -> bool:
        for end in ends:
            when = parse_datetime(end)
            if when is not None and when < self.now:
                return True
        return False

    def medications(self, facts: PatientFacts) -> None:
        if facts.deceased:
            return  # a deceased patient has no current medications
        for resource in self.record.of_type("MedicationStatement"):
            if not _one_of(resource.get("status"), MED_STATEMENT_STATUSES):
                continue
            period = resource.get("effectivePeriod") or {}
            if self._ended(period.get("end") if isinstance(period, Mapping) else None):
                continue
            started = parse_datetime(period.get("start") if isinstance(period, Mapping) else None) \
                or parse_datetime(resource.get("effectiveDateTime")) \
                or parse_datetime(resource.get("dateAsserted"))
            dosage = resource.get("dosage")
            self._medication(facts, resource, started, dosage[0] if isinstance(dosage, list) and dosage else None)
        for resource in self.record.of_type("MedicationRequest"):
            if resource.get("status") != "active" or not _one_of(resource.get("intent"), ORDER_INTENTS):
                continue
            if resource.get("doNotPerform") is True:
                continue
            dispense = resource.get("dispenseRequest")
            validity = dispense.get("validityPeriod") if isinstance(dispense, Mapping) else None
            if self._ended(validity.get("end") if isinstance(validity, Mapping) else None):
                continue
            dosage = resource.get("dosageInstruction")
            self._medication(facts, resource, parse_datetime(resource.get("authoredOn")),
                             dosage[0] if isinstance(dosage, list) and dosage else None)

    def _medication(self, facts: PatientFacts, resource: Resource, started: datetime | None,
                    dosage: Any) -> None:
        if started is not None and started > self.now:
            return  # ordered after the evaluation time (replay)
        codings, texts, display, med = self._medication_concept(resource)
        match = self.t.classify_medication(codings, texts)
        if match is None:
            return
        if not self.valid(resource):
            return
        contained = resource.get("contained") or ()
        if med is not None and not any(med is c for c in contained) and not self.valid(med):
            return  # a bundled Medication resource is validated on its own
        facts.medications.append(MedicationFact(
            display=display or ", ".join(match.ingredients) or "medication",
            classes=match.classes,
            match_path=match.match_path,
            ingredients=match.ingredients,
            dose_text=_dose_text(dosage),
            started=started,
            resource_ref=_ref(resource),
        ))

    # --- observations: labs and coded findings -----------------------------------------
    def observations(self, facts: PatientFacts) -> None:
        """Labs and coded findings.

        Rules read only the newest usable result of each lab group (``facts.latest``), so
        candidates are ranked by date from the raw JSON and validated newest first until
        one is usable: older results are never modelled (issue #4, cost per call).
        """
        candidates: dict[str, list[tuple[datetime, Resource, str | None, Any]]] = {}
        for resource in self.record.of_type("Observation"):
            if not _one_of(resource.get("status"), LAB_STATUSES):
                continue
            code = resource.get("code")
            group, loinc, finding_groups = self._classify_concept(code)
            if group is not None:
                effective = self._effective(resource)
                if effective is not None and effective <= self.now:  # undated / replay: out
                    candidates.setdefault(group, []).append((effective, resource, loinc, code))
            elif finding_groups or isinstance(resource.get("valueCodeableConcept"), Mapping):
                self._observation_finding(facts, resource, code)
        labs: dict[str, list[LabResult]] = {}
        for group, items in candidates.items():
            items.sort(key=lambda item: item[0], reverse=True)
            for effective, resource, loinc, code in items:
                result = self._lab(resource, group, loinc, code, effective)
                if result is not None:
                    labs[group] = [result]
                    break
        facts.labs = labs

    def _classify_concept(self, code: Any) -> tuple[str | None, str | None, frozenset[str]]:
        """(lab group, matching LOINC, finding groups) of an Observation.code.

        Memoised per distinct concept on the Terminology, so the thousands of vital signs
        in a large chart cost one dict look-up each after the first.
        """
        try:
            key: bytes | None = b"obs:" + orjson.dumps(code)  # the concept's exact JSON
            found = self.t.memo.get(key)
        except TypeError:  # not JSON-serialisable: classify without the memo
            key, found = None, None
        if found is not None:
            return found
        codings = _codings(code)
        group, loinc = self._classify_lab(code, codings)
        found = (group, loinc, frozenset() if group else self.t.codings_groups(codings))
        if key is not None:
            self.t.remember(key, found)
        return found

    def _classify_lab(self, code: Any, codings: list[Mapping[str, Any]]) -> tuple[str | None, str | None]:
        for coding in codings:
            c = coding.get("code")
            group = self.t.lab_group(coding.get("system"), c)
            if group is not None:
                return group, c  # lab_group accepts only string LOINC codes
        text = " | ".join(t for t in [code.get("text") if isinstance(code, Mapping) else None,
                                      *(c.get("display") for c in codings)] if isinstance(t, str))
        group = self.t.lab_group_by_text(text)
        return group, (_code_of(code, "loinc") if group else None)

    def _effective(self, resource: Mapping[str, Any]) -> datetime | None:
        period = resource.get("effectivePeriod")
        return (parse_datetime(resource.get("effectiveDateTime"))
                or parse_datetime(period.get("start") if isinstance(period, Mapping) else None)
                or parse_datetime(resource.get("effectiveInstant"))
                or parse_datetime(resource.get("issued")))

    def _lab(self, resource: Resource, group: str, loinc: str | None, code: Any,
             effective: datetime) -> LabResult | None:
        quantity = resource.get("valueQuantity")
        if not isinstance(quantity, Mapping):
            return None  # valueString "see comment", valueCodeableConcept …: not numeric
        value = quantity.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        unit_code = quantity.get("code") if isinstance(quantity.get("code"), str) else None
        unit_text = quantity.get("unit") if isinstance(quantity.get("unit"), str) else None
        conv = units.converter(group, unit_code, unit_text, loinc)
        if conv is None:
            self.ignored_units += 1
            return None
        if not self.valid(resource):
            return None
        low = high = None
        for rr in resource.get("referenceRange") or ():
            if not isinstance(rr, Mapping):
                continue
            low = low if low is not None else self._range_value(rr.get("low"), group, loinc, unit_code, unit_text)
            high = high if high is not None else self._range_value(rr.get("high"), group, loinc, unit_code, unit_text)
            if low is not None or high is not None:
                break
        comparator = quantity.get("comparator") if isinstance(quantity.get("comparator"), str) else None
        shown_unit = unit_text or unit_code or ""
        return LabResult(
            group=group,
            value=conv(float(value)),
            unit=units.CANONICAL_UNITS[group],
            comparator=comparator,
            reported=f"{comparator or ''}{value:g} {shown_unit}".strip(),
            effective=effective,
            code=loinc or (_status_code(code) or ""),
            display=_concept_text(code) or group,
            ref_low=low,
            ref_high=high,
            interpretation=_interpretation(resource),
            resource_ref=_ref(resource),
            assay_basis=units.assay_basis(loinc, unit_code, unit_text) if group == "d-dimer" else None,
        )

    @staticmethod
    def _range_value(q: Any, group: str, loinc: str | None, unit_code: str | None,
                     unit_text: str | None) -> float | None:
        if not isinstance(q, Mapping):
            return None
        value = q.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        # A range without its own unit is in the result's unit.
        code = q.get("code") if isinstance(q.get("code"), str) else None
        text = q.get("unit") if isinstance(q.get("unit"), str) else None
        if code is None and text is None:
            code, text = unit_code, unit_text
        conv = units.converter(group, code, text, loinc)
        return conv(float(value)) if conv else None

    def _observation_finding(self, facts: PatientFacts, resource: Resource, code: Any) -> None:
        codings = _codings(code)
        groups = self.t.codings_groups(codings)
        value = resource.get("valueCodeableConcept")
        if not groups and isinstance(value, Mapping):
            codings = _codings(value)
            groups = self.t.codings_groups(codings)
            code = value
        elif _negative(resource):
            return
        if not groups:
            return
        effective = self._effective(resource)
        if effective is not None and effective > self.now:
            return
        if not self.valid(resource):
            return
        body = resource.get("bodySite")
        facts.findings.append(ClinicalFinding(
            groups=groups,
            display=_concept_text(code) or "finding",
            source="observation",
            active=True,
            onset=effective,
            recorded=parse_datetime(resource.get("issued")),
            abatement=None,
            resource_ref=_ref(resource),
            laterality=_laterality([_concept_text(body), _concept_text(code)], codings),
        ))

    # --- conditions -----------------------------------------------------------------------
    def conditions(self, facts: PatientFacts) -> None:
        for resource in self.record.of_type("Condition"):
            if _one_of(_status_code(resource.get("verificationStatus")), DROPPED_VERIFICATION):
                continue
            code = resource.get("code")
            codings = _codings(code)
            groups = self.t.codings_groups(codings)
            if not groups:
                continue
            onset_period = resource.get("onsetPeriod")
            onset = parse_datetime(resource.get("onsetDateTime")) or parse_datetime(
                onset_period.get("start") if isinstance(onset_period, Mapping) else None)
            recorded = parse_datetime(resource.get("recordedDate"))
            first = onset or recorded
            if first is not None and first > self.now:
                continue  # recorded after the evaluation time (replay)
            abatement_period = resource.get("abatementPeriod")
            abatement = parse_datetime(resource.get("abatementDateTime")) or parse_datetime(
                abatement_period.get("end") if isinstance(abatement_period, Mapping) else None)
            status = _status_code(resource.get("clinicalStatus"))
            if _one_of(status, ACTIVE_CLINICAL):
                active = True
            elif _one_of(status, INACTIVE_CLINICAL):
                active = False
            else:
                # No clinicalStatus: current unless it has abated by now (or states an
                # abatement without a parsable date, e.g. abatementString/Boolean).
                abated = (abatement is not None and abatement <= self.now) or any(
                    k in resource for k in ("abatementString", "abatementBoolean", "abatementAge",
                                             "abatementRange"))
                active = not abated
            if not self.valid(resource):
                continue
            body = resource.get("bodySite")
            body_texts = [_concept_text(b) for b in body] if isinstance(body, list) else []
            facts.findings.append(ClinicalFinding(
                groups=groups,
                display=_concept_text(code) or "condition",
                source="condition",
                active=active,
                onset=onset,
                recorded=recorded,
                abatement=abatement,
                resource_ref=_ref(resource),
                laterality=_laterality([*body_texts, _concept_text(code)], codings),
            ))

    # --- encounter reasons ----------------------------------------------------------------
    def encounter(self, facts: PatientFacts) -> None:
        encounter = self.record.encounter
        if encounter is None:
            return
        reasons = encounter.get("reasonCode")
        if not isinstance(reasons, list):
            return
        selected = [(r, self.t.codings_groups(_codings(r))) for r in reasons]
        selected = [(r, g) for r, g in selected if g]
        if not selected or not self.valid(encounter):
            return
        period = encounter.get("period")
        start = parse_datetime(period.get("start") if isinstance(period, Mapping) else None)
        for reason, groups in selected:
            facts.findings.append(ClinicalFinding(
                groups=groups,
                display=_concept_text(reason) or "encounter reason",
                source="encounter-reason",
                active=True,
                onset=start,
                recorded=None,
                abatement=None,
                resource_ref=_ref(encounter),
                laterality=_laterality([_concept_text(reason)], _codings(reason)),
            ))

    # --- procedures -----------------------------------------------------------------------
    def procedures(self, facts: PatientFacts) -> None:
        for resource in self.record.of_type("Procedure"):
            if resource.get("status") != "completed":
                continue
            code = resource.get("code")
            text = code.get("text") if isinstance(code, Mapping) else None
            groups = self.t.procedure_groups(_codings(code), text if isinstance(text, str) else None)
            if not groups:
                continue
            period = resource.get("performedPeriod")
            performed = parse_datetime(resource.get("performedDateTime"))
            if performed is None and isinstance(period, Mapping):
                performed = parse_datetime(period.get("end")) or parse_datetime(period.get("start"))
            if performed is None or performed > self.now:
                continue
            if not self.valid(resource):
                continue
            facts.procedures.append(ProcedureFact(
                groups=groups,
                display=_concept_text(code) or "procedure",
                performed=performed,
                resource_ref=_ref(resource),
            ))


def _negative(resource: Mapping[str, Any]) -> bool:
    """True when an Observation states the finding is absent (value false / absent / negative)."""
    if resource.get("valueBoolean") is False:
        return True
    value = resource.get("valueCodeableConcept")
    if isinstance(value, Mapping):
        for coding in _codings(value):
            if coding.get("code") in NEGATIVE_VALUE_CODES:
                return True
            display = coding.get("display")
            if isinstance(display, str) and display.strip().lower() in NEGATIVE_VALUE_WORDS:
                return True
        text = value.get("text")
        if isinstance(text, str) and text.strip().lower() in NEGATIVE_VALUE_WORDS:
            return True
    value_string = resource.get("valueString")
    return isinstance(value_string, str) and value_string.strip().lower() in NEGATIVE_VALUE_WORDS


def _interpretation(resource: Mapping[str, Any]) -> str | None:
    for concept in resource.get("interpretation") or ():
        code = _status_code(concept)
        if code:
            return code
    return None


def _dose_text(dosage: Any) -> str | None:
    if not isinstance(dosage, Mapping):
        return None
    text = dosage.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    for dr in dosage.get("doseAndRate") or ():
        q = dr.get("doseQuantity") if isinstance(dr, Mapping) else None
        if isinstance(q, Mapping) and isinstance(q.get("value"), (int, float)):
            unit = q.get("unit") or q.get("code") or ""
            return f"{q['value']:g} {unit}".strip()
    return None


class VerdictCache:
    """Validation verdicts by the exact JSON bytes of a resource (bounded).

    EHRs send the same resources again every time a chart is opened; validating identical
    bytes gives the identical verdict, so it is done once. Cleared when full.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._verdicts: dict[bytes, bool] = {}

    def get(self, raw: bytes) -> bool | None:
        return self._verdicts.get(raw)

    def put(self, raw: bytes, verdict: bool) -> None:
        if self.size <= 0:
            return
        if len(self._verdicts) >= self.size:
            self._verdicts.clear()
        self._verdicts[raw] = verdict

    def __len__(self) -> int:
        return len(self._verdicts)


def extract_facts(record: PatientRecord, terminology: Terminology, now: datetime,
                  verdicts: VerdictCache | None = None) -> PatientFacts:
    """Read one patient's raw FHIR record into canonical PatientFacts at time ``now``.

    ``verdicts`` (optional) remembers validation results across calls.
    """
    ex = _Extractor(record, terminology, now, verdicts)
    facts = PatientFacts(now=ex.now)
    ex.patient(facts)
    ex.medications(facts)
    ex.observations(facts)
    ex.conditions(facts)
    ex.encounter(facts)
    ex.procedures(facts)
    facts.skipped_resources = sum(ex.skipped.values())
    facts.ignored_lab_results = ex.ignored_units
    for rtype, count in sorted(ex.skipped.items()):
        log.warning("skipped %d invalid %s resource(s)", count, rtype)
    if ex.ignored_units:
        log.info("ignored %d lab result(s) with an unknown unit", ex.ignored_units)
    return facts
