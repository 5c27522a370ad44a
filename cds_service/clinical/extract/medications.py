"""Extraction of medications: MedicationStatement and MedicationRequest (with Medication)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import orjson

from cds_service.clinical.extract.common import (
    ENDED_LOOKBACK_DAYS,
    ENDED_STATUSES,
    MED_STATEMENT_STATUSES,
    ORDER_INTENTS,
    ExtractorBase,
    _codings,
    _concept_text,
    _one_of,
    _ref,
    parse_datetime,
)
from cds_service.clinical.facts import MedicationFact, PatientFacts
from cds_service.record import Resource
from cds_service.terminology.valuesets import MedicationMatch

_UNSEEN = object()
# Statuses read: current ones and those that ended (for "ended within N days").
_STATEMENT_READ = MED_STATEMENT_STATUSES | ENDED_STATUSES
_REQUEST_READ = frozenset({"active"}) | ENDED_STATUSES


class MedicationsReader(ExtractorBase):

    # --- medications ----------------------------------------------------------------------
    def _medication_resource(self, owner: Mapping[str, Any], reference: str) -> Mapping[str, Any] | None:
        if reference.startswith("#"):
            for contained in owner.get("contained") or ():
                if (isinstance(contained, dict) and contained.get("resourceType") == "Medication"
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
        if isinstance(concept, dict):
            return _codings(concept), [concept.get("text")], _concept_text(concept), None
        ref = resource.get("medicationReference")
        if isinstance(ref, dict):
            ref_display = ref.get("display") if isinstance(ref.get("display"), str) else None
            reference = ref.get("reference")
            med = self._medication_resource(resource, reference) if isinstance(reference, str) else None
            if med is not None:
                code = med.get("code")
                texts: list[str | None] = [code.get("text") if isinstance(code, dict) else None, ref_display]
                return _codings(code), texts, _concept_text(code) or ref_display, med
            return [], [ref_display], ref_display, None
        return [], [], None, None

    def _classify(self, codings: list[Mapping[str, Any]], texts: list[str | None]) -> MedicationMatch | None:
        """``Terminology.classify_medication``, memoised by the exact JSON of the codings and
        texts (a chart's medications are the same on every call)."""
        try:
            key: bytes | None = b"med:" + orjson.dumps([codings, texts])
        except TypeError:  # not JSON-serialisable: classify without the memo
            key = None
        if key is not None:
            found = self.t.memo.get(key, _UNSEEN)
            if found is not _UNSEEN:
                return found
        match = self.t.classify_medication(codings, texts)
        if key is not None:
            self.t.remember(key, match)
        return match

    def _ended(self, *ends: Any) -> bool:
        for end in ends:
            when = parse_datetime(end)
            if when is not None and when < self.now:
                return True
        return False

    def medications(self, facts: PatientFacts) -> None:
        """Current medications, and those that ended within ``ENDED_LOOKBACK_DAYS``
        (``facts.recent_medications``: a fluoroquinolone course finished last week still
        counts for the tendon warning)."""
        if facts.deceased:
            return  # a deceased patient has no current medications
        for resource in self.record.of_type("MedicationStatement"):
            status = resource.get("status")
            if not _one_of(status, _STATEMENT_READ):
                continue
            period = resource.get("effectivePeriod") or {}
            end = parse_datetime(period.get("end") if isinstance(period, dict) else None)
            started = parse_datetime(period.get("start") if isinstance(period, dict) else None) \
                or parse_datetime(resource.get("effectiveDateTime")) \
                or parse_datetime(resource.get("dateAsserted"))
            dosage = resource.get("dosage")
            first = dosage[0] if isinstance(dosage, list) and dosage else None
            if _one_of(status, ENDED_STATUSES) or (end is not None and end < self.now):
                self._medication(facts, resource, started, first, ended=end, past=True)
            else:
                self._medication(facts, resource, started, first)
        for resource in self.record.of_type("MedicationRequest"):
            status = resource.get("status")
            if not _one_of(status, _REQUEST_READ) \
                    or not _one_of(resource.get("intent"), ORDER_INTENTS):
                continue
            if resource.get("doNotPerform") is True:
                continue
            authored = parse_datetime(resource.get("authoredOn"))
            dispense = resource.get("dispenseRequest")
            validity = dispense.get("validityPeriod") if isinstance(dispense, dict) else None
            end = parse_datetime(validity.get("end") if isinstance(validity, dict) else None)
            dosage = resource.get("dosageInstruction")
            first = dosage[0] if isinstance(dosage, list) and dosage else None
            if status != "active":
                # a completed/stopped order ended no earlier than it was written (or its
                # supply ran out): the conservative end for "ended within N days"
                end = end or _supply_end(authored, dispense) or authored
                self._medication(facts, resource, authored, first, ended=end, past=True)
            elif end is not None and end < self.now:
                self._medication(facts, resource, authored, first, ended=end, past=True)
            else:
                self._medication(facts, resource, authored, first)

    def _medication(self, facts: PatientFacts, resource: Resource, started: datetime | None,
                    dosage: Any, *, ended: datetime | None = None, past: bool = False) -> None:
        if started is not None and started > self.now:
            return  # ordered after the evaluation time (replay)
        if past and (ended is None or ended > self.now
                     or (self.now - ended).days > ENDED_LOOKBACK_DAYS):
            return  # ended without a date, in the future (replay) or long ago
        codings, texts, display, med = self._medication_concept(resource)
        match = self._classify(codings, texts)
        if match is None:
            return
        if not self.valid(resource):
            return
        contained = resource.get("contained") or ()
        if med is not None and not any(med is c for c in contained) and not self.valid(med):
            return  # a bundled Medication resource is validated on its own
        fact = MedicationFact(
            display=display or ", ".join(match.ingredients) or "medication",
            classes=match.classes,
            match_path=match.match_path,
            ingredients=match.ingredients,
            dose_text=_dose_text(dosage),
            started=started,
            resource_ref=_ref(resource),
            ended=ended,
        )
        (facts.recent_medications if past else facts.medications).append(fact)


def _supply_end(authored: datetime | None, dispense: Any) -> datetime | None:
    """authoredOn + dispenseRequest.expectedSupplyDuration (days), when both are given."""
    if authored is None or not isinstance(dispense, dict):
        return None
    duration = dispense.get("expectedSupplyDuration")
    if not isinstance(duration, dict):
        return None
    value = duration.get("value")
    unit = duration.get("code") or duration.get("unit")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or unit not in ("d", "day", "days"):
        return None
    return authored + timedelta(days=float(value))


def _dose_text(dosage: Any) -> str | None:
    if not isinstance(dosage, dict):
        return None
    text = dosage.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    for dr in dosage.get("doseAndRate") or ():
        q = dr.get("doseQuantity") if isinstance(dr, dict) else None
        if isinstance(q, dict) and isinstance(q.get("value"), (int, float)):
            unit = q.get("unit") or q.get("code") or ""
            return f"{q['value']:g} {unit}".strip()
    return None


