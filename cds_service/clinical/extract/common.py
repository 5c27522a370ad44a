"""Shared pieces of extraction: FHIR JSON helpers, model validation, the run's base class.
The FHIR JSON is what ``orjson`` parses (objects are ``dict``, arrays ``list``): readers
test ``isinstance(x, dict)``, several times cheaper than the ``Mapping`` ABC check."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import orjson

from cds_service.clinical.extract.shape import ResourceShape, build_shapes
from cds_service.clinical.extract.verdicts import VerdictCache
from cds_service.clinical.facts import PatientFacts
from cds_service.record import PatientRecord, Resource
from cds_service.terminology.valuesets import Terminology, system_key

MED_STATEMENT_STATUSES = frozenset({"active", "intended"})
# Medications that ended (completed/stopped, or an end date passed) are kept this long, in
# ``PatientFacts.recent_medications``: the rules apply their own, shorter windows.
ENDED_STATUSES = frozenset({"completed", "stopped"})
ENDED_LOOKBACK_DAYS = 90
# R4 MedicationRequest.intent values that are orders (or a plan) rather than proposals
ORDER_INTENTS = frozenset({"order", "original-order", "reflex-order", "filler-order", "instance-order", "plan"})
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
    from fhir.resources.R4B.devicerequest import DeviceRequest
    from fhir.resources.R4B.encounter import Encounter
    from fhir.resources.R4B.medication import Medication
    from fhir.resources.R4B.medicationrequest import MedicationRequest
    from fhir.resources.R4B.medicationstatement import MedicationStatement
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.patient import Patient
    from fhir.resources.R4B.procedure import Procedure
    from fhir.resources.R4B.servicerequest import ServiceRequest

    return {
        "Condition": Condition,
        "DeviceRequest": DeviceRequest,
        "Encounter": Encounter,
        "Medication": Medication,
        "MedicationRequest": MedicationRequest,
        "MedicationStatement": MedicationStatement,
        "Observation": Observation,
        "Patient": Patient,
        "Procedure": Procedure,
        "ServiceRequest": ServiceRequest,
    }


_MODEL_CACHE: dict[str, Any] = {}
_SHAPES: dict[str, ResourceShape] = {}


def _model(resource_type: str) -> Any:
    if not _MODEL_CACHE:
        preload_models()
    return _MODEL_CACHE[resource_type]


def shape_of(resource_type: str) -> ResourceShape | None:
    """The structure check of a resource type extraction reads (None for any other type)."""
    if not _SHAPES:
        preload_models()
    return _SHAPES.get(resource_type)


def preload_models() -> None:
    """Import the R4B model classes and build the structure checks from them now (about
    0.2 s), so the first hook call after start-up does not pay for it."""
    if not _MODEL_CACHE:
        _MODEL_CACHE.update(_models())
    if not _SHAPES:
        _SHAPES.update(build_shapes(_MODEL_CACHE))


# --- small JSON helpers --------------------------------------------------------------------

def parse_datetime(value: Any) -> datetime | None:
    """A FHIR date/dateTime/instant string as an aware datetime (UTC when no offset).

    Partial dates ("2024", "2024-03") take the first day; a date is midnight UTC. Values up
    to 40 characters (an R4 instant has at most 32) are remembered, 8,192 at most: charts
    repeat their dates on every call, and longer strings cannot fill the memo.
    """
    if not isinstance(value, str) or len(value) < 4:
        return None
    return _remembered_datetime(value) if len(value) <= 40 else _parse_datetime(value)


def _parse_datetime(value: str) -> datetime | None:
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


_remembered_datetime = functools.lru_cache(maxsize=8192)(_parse_datetime)


def _one_of(value: Any, options: frozenset[str]) -> bool:
    """Membership that tolerates broken FHIR (a list or object where a code belongs)."""
    return isinstance(value, str) and value in options


def _codings(concept: Any) -> list[Mapping[str, Any]]:
    if not isinstance(concept, dict):
        return []
    codings = concept.get("coding")
    return [c for c in codings if isinstance(c, dict)] if isinstance(codings, list) else []


def _concept_text(concept: Any) -> str | None:
    if not isinstance(concept, dict):
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



class ExtractorBase:
    """One extraction run (holds counters and look-ups for the record); the resource-kind
    modules add their readers as mixins."""

    def __init__(self, record: PatientRecord, terminology: Terminology, now: datetime,
                 verdicts: VerdictCache | None = None) -> None:
        self.record = record
        self.verdicts = verdicts
        self.t = terminology
        self.now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        self.skipped: Counter[str] = Counter()
        self.ignored_units = 0

    def valid(self, resource: Mapping[str, Any]) -> bool:
        """Check one selected resource's R4 structure (``shape``: every element the readers
        use, in full); count and skip it if invalid."""
        rtype = str(resource.get("resourceType"))
        verdict: bool | None = None
        raw: bytes | None = None
        if self.verdicts is not None:
            try:
                raw = orjson.dumps(resource)
            except TypeError:
                self.skipped[rtype] += 1
                return False
            verdict = self.verdicts.get(raw)
        if verdict is None:
            shape = shape_of(rtype)
            verdict = shape is not None and shape(resource)
            if raw is not None:
                self.verdicts.put(raw, verdict)  # type: ignore[union-attr]
        if not verdict:
            self.skipped[rtype] += 1
        return verdict

    def concept_groups(self, concept: Any) -> frozenset[str]:
        """Condition/finding groups of a CodeableConcept, memoised on the Terminology by the
        concept's exact JSON (charts repeat the same few concepts on every call)."""
        return self._memoised(b"cond:", concept, lambda: self.t.codings_groups(_codings(concept)))

    def procedure_concept_groups(self, concept: Any) -> frozenset[str]:
        """Procedure groups of a Procedure.code (codes and text), memoised like
        :meth:`concept_groups`."""
        def compute() -> frozenset[str]:
            text = concept.get("text") if isinstance(concept, dict) else None
            return self.t.procedure_groups(_codings(concept), text if isinstance(text, str) else None)

        return self._memoised(b"proc:", concept, compute)

    def _memoised(self, kind: bytes, concept: Any, compute: Callable[[], frozenset[str]]) -> frozenset[str]:
        try:
            key: bytes | None = kind + orjson.dumps(concept)
        except TypeError:  # not JSON-serialisable: classify without the memo
            return compute()
        found = self.t.memo.get(key)
        if found is None:
            found = compute()
            self.t.remember(key, found)
        return found

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
    def _effective(self, resource: Mapping[str, Any]) -> datetime | None:
        period = resource.get("effectivePeriod")
        return (parse_datetime(resource.get("effectiveDateTime"))
                or parse_datetime(period.get("start") if isinstance(period, dict) else None)
                or parse_datetime(resource.get("effectiveInstant"))
                or parse_datetime(resource.get("issued")))

    def observation_finding(self, facts: PatientFacts, resource: Resource, code: Any) -> None:
        """A coded finding Observation (implemented by the conditions reader)."""
        raise NotImplementedError

