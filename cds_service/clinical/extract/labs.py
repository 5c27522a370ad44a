"""Extraction of Observations: numeric lab results (newest usable per group) and the
routing of coded finding Observations to the conditions reader."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from cds_service.clinical.extract.common import (
    LAB_STATUSES,
    ExtractorBase,
    _code_of,
    _codings,
    _concept_text,
    _ref,
    _status_code,
)
from cds_service.clinical.facts import LabResult, PatientFacts
from cds_service.record import Resource
from cds_service.terminology import units


class LabsReader(ExtractorBase):

    # --- observations: labs and coded findings -----------------------------------------
    def observations(self, facts: PatientFacts) -> None:
        """Labs and coded findings.

        Rules read only the newest usable result of each lab group (``facts.latest``), so
        candidates are ranked by date from the raw JSON and validated newest first until
        one is usable: older results are never modelled (issue #4, cost per call).
        """
        candidates: dict[str, list[tuple[datetime, Resource, str | None, Any]]] = {}
        memo_get = self.t.memo.get
        dumps = orjson.dumps
        for resource in self.record.of_type("Observation"):
            status = resource.get("status")
            if not isinstance(status, str) or status not in LAB_STATUSES:
                continue
            code = resource.get("code")
            # The memo look-up of _classify_concept, inlined: a chart holds hundreds of
            # vital signs whose few codes were classified on an earlier call.
            try:
                found = memo_get(b"obs:" + dumps(code))
            except TypeError:
                found = None
            group, loinc, finding_groups = found if found is not None else self._classify_concept(code)
            if group is not None:
                effective = self._effective(resource)
                if effective is not None and effective <= self.now:  # undated / replay: out
                    candidates.setdefault(group, []).append((effective, resource, loinc, code))
            elif finding_groups or isinstance(resource.get("valueCodeableConcept"), dict):
                self.observation_finding(facts, resource, code)
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
        text = " | ".join(t for t in [code.get("text") if isinstance(code, dict) else None,
                                      *(c.get("display") for c in codings)] if isinstance(t, str))
        group = self.t.lab_group_by_text(text)
        return group, (_code_of(code, "loinc") if group else None)

    def _lab(self, resource: Resource, group: str, loinc: str | None, code: Any,
             effective: datetime) -> LabResult | None:
        quantity = resource.get("valueQuantity")
        if not isinstance(quantity, dict):
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
            if not isinstance(rr, dict):
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
        if not isinstance(q, dict):
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


def _interpretation(resource: Mapping[str, Any]) -> str | None:
    for concept in resource.get("interpretation") or ():
        code = _status_code(concept)
        if code:
            return code
    return None


